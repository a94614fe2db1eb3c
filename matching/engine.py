"""The matching engine: database-free, on lists of facts plus the instrument plugins.

Usage::

    engine = MatchEngine(load_plugins().plugins, MatchSettings.from_config(cfg))

    # full re-match, streamed: the caller persists each batch (in one transaction / a new run id)
    # and switches to the new results only after the loop ends. An exception raised by
    # ``progress`` or by the consumer between batches aborts the run; the engine keeps nothing.
    run = engine.start(projects, products, outcomes, progress=lambda done, total: ...)
    for batch in run:              # MatchBatch: the complete rows of a chunk of projects
        write(batch.matches)       # Match(project_id, product_id, score, ranks, reasons, paths)
    run.stats                      # RunStats: pairs_considered, matches, timings ...

    result = engine.run(projects, products, outcomes)   # the same, collected: MatchResult

    # incremental: precompute the product side once, re-match one project in milliseconds
    index = engine.product_index(products, outcomes, financed_projects=projects)
    engine.match_project(project, index)     # its top-K products
    projects_index = engine.project_index(projects)
    engine.match_product(product, projects_index)   # its top-L projects

A full run is two passes over chunks of projects (ascending id): pass 1 scores every chunk
against the product index (hard rules, then the score; see :mod:`~greenmatch.matching.scorer`)
and keeps each project's top K products and each product's running top L projects; pass 2
yields, per chunk, every kept pair of those projects (in a project's top K, in a product's top L,
or both; each pair once, with both ranks), explained. Ties break by score desc, then product id
asc (for a project's list) or project id asc (for a product's list): results are reproducible
and independent of the chunk size and of the number of worker processes.

Pass 1 (and :meth:`MatchEngine.project_index`) run in forked worker processes when there are
several chunks: see :mod:`~greenmatch.matching.workers`. The cyclic garbage collector is paused while a
chunk's plugin results pile up and while the parent collects the chunks: those objects all survive, so
collections would only re-scan them. The rows (:class:`~greenmatch.matching.results.Match`, made on
access, rendered on first read), batches and statistics are in :mod:`~greenmatch.matching.results`;
this module re-exports them as the engine's API.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from greenmatch.facts import ProductFacts, ProjectFacts
from greenmatch.instruments import InstrumentPlugin
from greenmatch.text import Name

from .blocks import HalfPathTable, ProjectBlock, ProjectEvaluation, assemble_block, evaluate_projects, gc_paused
from .explain import BatchExplainer
from .formulas import Vocabulary
from .graph import INSTRUMENT, NodeKey
from .network import MatchGraph
from .product_index import Outcome, ProductIndex
from .results import Match, MatchBatch, MatchList, MatchResult, RunStats, matches_of
from .scorer import ChunkScores, ProductTop, compressed_X, score_block, score_chunk, top_pairs
from .settings import MatchSettings
from .taxonomy import Taxonomy
from .workers import evaluate_slice, fork_pool, score_slice, worker_count

__all__ = ["Match", "MatchBatch", "MatchEngine", "MatchResult", "MatchRun", "Outcome", "ProductIndex",
           "ProjectIndex", "RunStats"]

Progress = Callable[[int, int], Any]
ProjectIndex = ProjectBlock  # all projects' precomputed side, for match_product


class MatchEngine:
    """Matches projects and products with the given plugins and settings. One engine per process
    is enough: it holds only caches (hierarchy chains, the feature vocabulary)."""

    def __init__(self, plugins: Mapping[str, InstrumentPlugin], settings: MatchSettings | None = None) -> None:
        self.plugins = dict(plugins)
        self.settings = settings or MatchSettings()
        self.tax = Taxonomy(self.settings)
        self.features = Vocabulary()
        self.half_paths = HalfPathTable(self.tax, self.features)
        self.plugin_tags = Vocabulary()
        self.names: dict[NodeKey, Any] = {
            (INSTRUMENT, k): Name("instrument", k) for k in self.plugins}
        self.render_memo: dict[Any, Any] = {}  # explanation parts that depend on codes only

    # -- indexes ---------------------------------------------------------------------------------
    def product_index(self, products: Iterable[ProductFacts], outcomes: Iterable[Outcome] = (),
                      financed_projects: Iterable[ProjectFacts] = ()) -> ProductIndex:
        """The product side, reusable across calls. ``financed_projects``: facts of the projects the
        outcomes name (outcomes naming a project not given are ignored)."""
        return ProductIndex(products, self.plugins, self.settings, self.tax, self.features, self.plugin_tags,
                            outcomes, financed_projects)

    def project_block(self, projects: Sequence[ProjectFacts]) -> ProjectBlock:
        return self.assemble(projects, evaluate_projects(projects, list(self.plugins.values())))

    def assemble(self, projects: Sequence[ProjectFacts], evaluation: ProjectEvaluation) -> ProjectBlock:
        """The block of ``projects`` from the plugins' ``evaluation`` of them (numbered in this engine's
        vocabularies: run it in the process that scores)."""
        return assemble_block(projects, evaluation, list(self.plugins.values()), self.settings, self.half_paths,
                              self.plugin_tags)

    def score_chunk(self, projects: Sequence[ProjectFacts], start: int, index: ProductIndex) -> ChunkScores:
        """Pass 1 of a full run for one chunk (runs in a worker process when there are several)."""
        return score_chunk(projects, start, list(self.plugins.values()), self.settings, self.half_paths,
                           self.plugin_tags, index)

    def project_index(self, projects: Iterable[ProjectFacts], *, chunk_size: int | None = None) -> ProjectIndex:
        """Every project's side, precomputed (plugins evaluated once, in worker processes when
        there are several chunks), for :meth:`match_product`."""
        ordered = _sorted_projects(projects)
        size = chunk_size or self.settings.chunk_size
        ranges = [(a, min(a + size, len(ordered))) for a in range(0, len(ordered), size)]
        plugins = list(self.plugins.values())
        workers = worker_count(self.settings, len(ordered), len(ranges))
        with fork_pool(self, ordered, None, workers) as (pool, key), gc_paused():
            if pool is None:
                evaluations: Iterable[Any] = (evaluate_projects(ordered[a:b], plugins) for a, b in ranges)
            else:
                evaluations = pool.imap(evaluate_slice, [(key, a, b) for a, b in ranges])
            blocks = [self.assemble(ordered[a:b], ev) for (a, b), ev in zip(ranges, evaluations, strict=True)]
        return ProjectBlock.concat(blocks) if blocks else self.project_block([])

    def graph(self, projects: Iterable[ProjectFacts], products: Iterable[ProductFacts],
              outcomes: Iterable[Outcome] = (), *, reference: bool = True) -> MatchGraph:
        return MatchGraph.build(projects, products, self.plugins, outcomes, self.settings, reference=reference)

    # -- full runs -------------------------------------------------------------------------------
    def start(self, projects: Iterable[ProjectFacts], products: Iterable[ProductFacts] | ProductIndex,
              outcomes: Iterable[Outcome] = (), *, financed_projects: Iterable[ProjectFacts] = (),
              progress: Progress | None = None, chunk_size: int | None = None) -> MatchRun:
        """A full re-match, to iterate: yields one :class:`MatchBatch` per chunk of projects."""
        return MatchRun(self, projects, products, outcomes, financed_projects, progress, chunk_size)

    def run(self, projects: Iterable[ProjectFacts], products: Iterable[ProductFacts] | ProductIndex,
            outcomes: Iterable[Outcome] = (), *, financed_projects: Iterable[ProjectFacts] = (),
            progress: Progress | None = None, chunk_size: int | None = None) -> MatchResult:
        run = self.start(projects, products, outcomes, financed_projects=financed_projects, progress=progress,
                         chunk_size=chunk_size)
        with gc_paused():  # many small objects, all kept: collections would only re-scan them
            matches = [m for batch in run for m in batch.matches]
            return MatchResult(matches, run.stats)

    # -- incremental -----------------------------------------------------------------------------
    def match_project(self, project: ProjectFacts, products: ProductIndex) -> list[Match]:
        """The project's top-K products (``project_rank`` set), as a full run would rank them."""
        block = self.project_block([project])
        Xc = compressed_X(block, products)
        pairs = score_block(block, products, self.settings, Xc)
        at, ranks = top_pairs(pairs.rows, pairs.qs, pairs.scores, self.settings.project_top_k)
        qs, scores = pairs.qs[at], pairs.scores[at]
        return matches_of(BatchExplainer(block, Xc, products, pairs.rows[at], qs, scores, ranks + 1, None,
                                       self.settings, self.tax, self.names, self.render_memo))

    def match_product(self, product: ProductFacts, projects: ProjectIndex, outcomes: Iterable[Outcome] = (),
                      financed_projects: Iterable[ProjectFacts] = ()) -> list[Match]:
        """The product's top-L projects (``product_rank`` set), as a full run would rank them.
        Pass the product's outcomes (and the financed projects' facts) when it has financed some."""
        index = self.product_index([product], outcomes, financed_projects)
        if not len(index):
            return []
        Xc = compressed_X(projects, index)
        pairs = score_block(projects, index, self.settings, Xc)
        at, ranks = top_pairs(pairs.qs, pairs.rows, pairs.scores, self.settings.product_top_l)
        rows, scores = pairs.rows[at], pairs.scores[at]
        return matches_of(BatchExplainer(projects, Xc, index, rows, pairs.qs[at], scores, None, ranks + 1,
                                       self.settings, self.tax, self.names, self.render_memo))


def _sorted_projects(projects: Iterable[ProjectFacts]) -> list[ProjectFacts]:
    ordered = list(projects)
    ids = [p.id for p in ordered]
    if any(i is None for i in ids) or len(set(ids)) != len(ids):
        raise ValueError("project ids must be unique and not None")
    ordered.sort(key=lambda p: p.id)
    return ordered


class MatchRun:
    """An iterable full run (see :meth:`MatchEngine.start`). ``stats`` fills as it goes;
    ``product_index`` is available once iteration has started."""

    def __init__(self, engine: MatchEngine, projects: Iterable[ProjectFacts],
                 products: Iterable[ProductFacts] | ProductIndex, outcomes: Iterable[Outcome],
                 financed_projects: Iterable[ProjectFacts], progress: Progress | None, chunk_size: int | None) -> None:
        self.engine = engine
        self.projects = _sorted_projects(projects)
        self._products, self._outcomes = products, list(outcomes)
        self._financed = list(financed_projects)
        self.progress = progress
        if chunk_size is not None and chunk_size < 1:
            raise ValueError("chunk_size must be >= 1")
        self.chunk_size = chunk_size or engine.settings.chunk_size
        wanted = worker_count(engine.settings, len(self.projects))
        if chunk_size is None and wanted > 1:  # enough chunks to keep every worker busy
            self.chunk_size = min(self.chunk_size, max(512, -(-len(self.projects) // (4 * wanted))))
        self.stats = RunStats(projects=len(self.projects))
        self.product_index: ProductIndex | None = None
        self._started = False

    def __iter__(self) -> Iterator[MatchBatch]:
        if self._started:
            raise RuntimeError("a MatchRun can be iterated once")
        self._started = True
        return self._generate()

    def _tick(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(done, total)

    def _generate(self) -> Iterator[MatchBatch]:
        t0 = time.perf_counter()
        if isinstance(self._products, ProductIndex):
            index = self._products
        else:
            by_id = {p.id: p for p in self._financed}
            by_id.update((p.id, p) for p in self.projects)
            index = self.engine.product_index(self._products, self._outcomes, by_id.values())
        self.product_index = index
        self.stats.products, self.stats.products_skipped = len(index), len(index.skipped)
        self.stats.seconds["index"] = time.perf_counter() - t0
        self._tick(0, 2 * len(self.projects))
        chunks, product_top = self._score(index)
        yield from self._explain(index, chunks, product_top)

    def _score(self, index: ProductIndex) -> tuple[list[Any], ProductTop]:
        """Pass 1: score every chunk, keep the top K per project and the running top L per product."""
        engine, settings, stats = self.engine, self.engine.settings, self.stats
        n = len(self.projects)
        t1 = time.perf_counter()
        chunks: list[Any] = []
        product_top = ProductTop(len(index), settings.product_top_l, settings.score_decimals)
        ranges = [(a, min(a + self.chunk_size, n)) for a in range(0, n, self.chunk_size)]
        stats.workers = worker_count(settings, n, len(ranges))
        # the chunks' results pile up until pass 2: collections would re-scan them for nothing
        with fork_pool(engine, self.projects, index, stats.workers) as (pool, key), gc_paused():
            if pool is None:
                results: Iterable[ChunkScores] = (engine.score_chunk(self.projects[a:b], a, index)
                                                  for a, b in ranges)
            else:
                results = pool.imap(score_slice, [(key, a, b) for a, b in ranges])
            for (start, stop), chunk in zip(ranges, results, strict=True):
                chunk.block.facts = self.projects[start:stop]
                chunk.block.plugins = list(engine.plugins.values())
                stats.pairs_considered += chunk.considered
                stats.pairs_eligible += chunk.eligible
                qs, rows, vals = chunk.candidates
                product_top.add(qs, rows + start, vals)
                chunk.candidates = ()
                chunks.append(chunk)
                stats.chunks += 1
                self._tick(stop, 2 * n)
        stats.seconds["score"] = time.perf_counter() - t1
        return chunks, product_top

    def _explain(self, index: ProductIndex, chunks: list[Any], product_top: ProductTop) -> Iterator[MatchBatch]:
        """Pass 2: per chunk, the union of both sides' kept pairs, explained."""
        stats, n = self.stats, len(self.projects)
        explain_s = 0.0
        p_rank = product_top.ranks()
        order = np.argsort(product_top.g, kind="stable")
        pg, pq, ps, pr = product_top.g[order], product_top.q[order], product_top.s[order], p_rank[order]
        for number, chunk in enumerate(chunks):
            t2 = time.perf_counter()
            start, block, Xc, (rows, qs, vals, ranks) = chunk.start, chunk.block, chunk.Xc, chunk.top
            stop = start + len(block)
            lo, hi = np.searchsorted(pg, start), np.searchsorted(pg, stop)
            batch = self._batch(number, block, Xc, index, rows, qs, vals, ranks,
                                pg[lo:hi] - start, pq[lo:hi], ps[lo:hi], pr[lo:hi])
            stats.matches += len(batch.matches)
            stats.project_side += len(rows)
            stats.product_side += int(hi - lo)
            chunks[number] = None  # the batch's explainer keeps what its matches need
            explain_s += time.perf_counter() - t2
            stats.seconds["explain"] = explain_s
            self._tick(n + stop, 2 * n)
            yield batch

    def _batch(self, number: int, block: ProjectBlock, Xc: Any, index: ProductIndex,
               rows: np.ndarray, qs: np.ndarray, vals: np.ndarray, ranks: np.ndarray,
               prow: np.ndarray, pq: np.ndarray, ps: np.ndarray, pr: np.ndarray) -> MatchBatch:
        m = max(len(index), 1)
        keys = np.concatenate([rows * m + qs, prow * m + pq]).astype(np.int64)
        uniq, inverse = np.unique(keys, return_inverse=True)
        score = np.empty(len(uniq))
        score[inverse] = np.concatenate([vals, ps])
        project_rank = np.zeros(len(uniq), dtype=np.int64)
        product_rank = np.zeros(len(uniq), dtype=np.int64)
        project_rank[inverse[: len(rows)]] = ranks + 1
        product_rank[inverse[len(rows):]] = pr + 1
        r_all, q_all = uniq // m, uniq % m
        order = np.lexsort((q_all, -score, r_all))
        r_all, q_all, score = r_all[order], q_all[order], score[order]
        project_rank, product_rank = project_rank[order], product_rank[order]
        explainer = BatchExplainer(block, Xc, index, r_all, q_all, score, project_rank, product_rank,
                                   self.engine.settings, self.engine.tax, self.engine.names, self.engine.render_memo)
        return MatchBatch(number, block.ids.copy(), MatchList(explainer))
