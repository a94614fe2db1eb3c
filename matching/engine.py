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
several chunks (``MatchSettings.workers``; 0 = one per 10,000 projects and core, at most 4):
the plugins, called at most once per project and plugin, dominate a run's time. Workers inherit the facts
and the product index at fork time (and freeze them out of their garbage collector) and send back
only compact arrays. Set ``workers=1`` where forking is unwelcome (e.g. a multi-threaded web
worker). The cyclic garbage collector is paused while a chunk's plugin results pile up and while
the parent collects the chunks: those objects all survive, so collections would only re-scan them.

A batch's ``matches`` is a :class:`MatchList`: rows are made on access, and their reasons and
paths are rendered on first read (about 10-30 µs a row; parts shared between rows are cached).
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from greenmatch.facts import ProductFacts, ProjectFacts
from greenmatch.instruments import InstrumentPlugin, Reason

from .blocks import HalfPathTable, ProjectBlock, ProjectEvaluation, assemble_block, evaluate_projects, gc_paused
from .explain import BatchExplainer, ExplanationPath
from .formulas import Vocabulary
from .graph import INSTRUMENT, NodeKey
from .network import MatchGraph
from .product_index import Outcome, ProductIndex
from .scorer import ChunkScores, ProductTop, compressed_X, score_block, score_chunk, top_pairs
from .settings import MatchSettings
from .taxonomy import Taxonomy

__all__ = ["Match", "MatchBatch", "MatchEngine", "MatchResult", "MatchRun", "Outcome", "ProductIndex",
           "ProjectIndex", "RunStats"]

Progress = Callable[[int, int], Any]
ProjectIndex = ProjectBlock  # all projects' precomputed side, for match_product


class Match:
    """One kept (project, product) pair: a light view on its batch's arrays.

    ``score`` in [0, 1]; ``project_rank``: 1-based rank of the product in the project's top K
    (None when the pair is kept only for the product's list); ``product_rank``: rank of the project
    in the product's top L (None when kept only for the project's list). ``reasons`` (bilingual
    :class:`~greenmatch.instruments.Reason`), ``paths`` (:class:`ExplanationPath`) and
    ``components`` (score points per component) are computed on first access."""

    __slots__ = ("_ex", "_i")

    def __init__(self, explainer: BatchExplainer, i: int) -> None:
        self._ex, self._i = explainer, i

    project_id = property(lambda self: self._ex.project_ids[self._i])
    product_id = property(lambda self: self._ex.product_ids[self._i])
    score = property(lambda self: self._ex.scores[self._i])
    project_rank = property(lambda self: self._ex.project_ranks[self._i])
    product_rank = property(lambda self: self._ex.product_ranks[self._i])
    instrument = property(lambda self: self._ex.instruments[self._i])

    @property
    def key(self) -> tuple[int, int]:
        return self.project_id, self.product_id

    @property
    def paths(self) -> tuple[ExplanationPath, ...]:
        return self._ex.paths(self._i)

    @property
    def reasons(self) -> tuple[Reason, ...]:
        return self._ex.reasons(self._i)

    @property
    def components(self) -> dict[str, float]:
        """Score points per component (they sum to ``score`` up to rounding)."""
        return self._ex.components(self._i)

    def explanation(self, locale: str | None = None) -> dict[str, Any]:
        return {"paths": [p.labels(locale) for p in self.paths]}

    def as_dict(self, locale: str | None = None) -> dict[str, Any]:
        return {
            "project_id": self.project_id, "product_id": self.product_id, "score": self.score,
            "project_rank": self.project_rank, "product_rank": self.product_rank, "instrument": self.instrument,
            "reasons": [r.text(locale) for r in self.reasons], "explanation": self.explanation(locale),
        }

    def __repr__(self) -> str:
        return (f"Match(project_id={self.project_id}, product_id={self.product_id}, score={self.score:.6f}, "
                f"project_rank={self.project_rank}, product_rank={self.product_rank})")


class MatchList(Sequence[Match]):
    """The matches of a batch, made on access (a batch may hold tens of thousands of rows: keeping
    no object per row until it is read spares memory and garbage-collector time)."""

    def __init__(self, explainer: BatchExplainer) -> None:
        self._ex = explainer

    def __len__(self) -> int:
        return len(self._ex)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [Match(self._ex, j) for j in range(*i.indices(len(self._ex)))]
        if i < 0:
            i += len(self._ex)
        if not 0 <= i < len(self._ex):
            raise IndexError(i)
        return Match(self._ex, i)

    def __iter__(self) -> Iterator[Match]:
        ex = self._ex
        return (Match(ex, i) for i in range(len(ex)))


def _matches(explainer: BatchExplainer) -> list[Match]:
    return list(MatchList(explainer))


@dataclass
class MatchBatch:
    """The complete kept rows of a chunk of projects (``project_ids``), ordered by project id,
    then score desc, then product id."""

    number: int
    project_ids: np.ndarray
    matches: Sequence[Match]  # a MatchList: rows made on access


@dataclass
class RunStats:
    projects: int = 0
    products: int = 0
    products_skipped: int = 0  # products whose instrument plugin is not installed
    chunks: int = 0
    workers: int = 1
    pairs_considered: int = 0  # projects x products evaluated by the hard rules
    pairs_eligible: int = 0  # pairs passing every hard rule (and min_score)
    matches: int = 0  # kept rows yielded (distinct pairs)
    project_side: int = 0  # kept because in a project's top K
    product_side: int = 0  # kept because in a product's top L
    seconds: dict[str, float] = field(default_factory=dict)  # index / score / explain

    @property
    def duration_s(self) -> float:
        return sum(self.seconds.values())

    def as_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in ("projects", "products", "products_skipped", "chunks", "workers",
                                             "pairs_considered", "pairs_eligible", "matches",
                                             "project_side", "product_side")}
        out["duration_ms"] = round(self.duration_s * 1000)
        return out


class MatchResult:
    """All batches of a run, collected. The per-project and per-product lists are indexed on first use."""

    def __init__(self, matches: list[Match], stats: RunStats) -> None:
        self.matches, self.stats = matches, stats
        self._indexed: tuple[dict[int, list[Match]], dict[int, list[Match]]] | None = None

    def _index(self) -> tuple[dict[int, list[Match]], dict[int, list[Match]]]:
        if self._indexed is None:
            by_project: dict[int, list[Match]] = {}
            by_product: dict[int, list[Match]] = {}
            for m in self.matches:
                if m.project_rank is not None:
                    by_project.setdefault(m.project_id, []).append(m)
                if m.product_rank is not None:
                    by_product.setdefault(m.product_id, []).append(m)
            for rows in by_project.values():
                rows.sort(key=lambda m: m.project_rank)
            for rows in by_product.values():
                rows.sort(key=lambda m: m.product_rank)
            self._indexed = (by_project, by_product)
        return self._indexed

    def __iter__(self) -> Iterator[Match]:
        return iter(self.matches)

    def __len__(self) -> int:
        return len(self.matches)

    def for_project(self, project_id: int) -> list[Match]:
        """The project's top-K products, best first."""
        return self._index()[0].get(project_id, [])

    def for_product(self, product_id: int) -> list[Match]:
        """The product's top-L projects (its leads), best first."""
        return self._index()[1].get(product_id, [])

    def top_products(self) -> dict[int, list[int]]:
        return {pid: [m.product_id for m in rows] for pid, rows in self._index()[0].items()}


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
        self.names: dict[NodeKey, tuple[str, str]] = {
            (INSTRUMENT, k): (p.name_zh, p.name_en) for k, p in self.plugins.items()}
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
        workers = _workers(self.settings, len(ordered), len(ranges))
        with _pool(self, ordered, None, workers) as (pool, key), gc_paused():
            if pool is None:
                evaluations: Iterable[Any] = (evaluate_projects(ordered[a:b], plugins) for a, b in ranges)
            else:
                evaluations = pool.imap(_evaluate_slice, [(key, a, b) for a, b in ranges])
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
        return _matches(BatchExplainer(block, Xc, products, pairs.rows[at], qs, scores, ranks + 1, None,
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
        return _matches(BatchExplainer(projects, Xc, index, rows, pairs.qs[at], scores, None, ranks + 1,
                                       self.settings, self.tax, self.names, self.render_memo))


# Full runs score chunks in forked worker processes; a worker finds its run's inputs here
# (inherited at fork time, never pickled) under the run's key.
_FORK_JOBS: dict[int, tuple[Sequence[ProjectFacts], MatchEngine, ProductIndex | None]] = {}
_FORK_KEYS = itertools.count(1)


def _worker_init() -> None:
    # A worker lives for one run: the objects it inherits (the facts, the index) stay to the end, and
    # those it makes for a chunk are freed by reference counting once their results are sent (they
    # form no cycles). Its cyclic collector would only re-scan them: frozen and off (which also spares
    # copying the inherited pages on write).
    gc.freeze()
    gc.disable()
    # a lock held by another thread at fork time would stay held in the child
    for _, engine, index in _FORK_JOBS.values():
        engine.tax._lock = threading.Lock()
        engine.features._lock = threading.Lock()
        engine.plugin_tags._lock = threading.Lock()
        if index is not None:
            index._lock = threading.Lock()


def _evaluate_slice(task: tuple[int, int, int]) -> Any:
    key, start, stop = task
    projects, engine, _ = _FORK_JOBS[key]
    return evaluate_projects(projects[start:stop], list(engine.plugins.values()))


#: Automatic worker processes: one per this many projects (per core, at most 4). Measured on the
#: 2-core development machine: a second worker saves 26% of a run at 100,000 projects and 12% at
#: 20,000, and costs 14% at 5,000 x 200 products (forking, sending results back, and two processes
#: sharing the caches).
PROJECTS_PER_WORKER = 10_000


def _workers(settings: MatchSettings, projects: int, chunks: int | None = None) -> int:
    """Processes to use for ``projects`` in ``chunks`` chunks (see ``MatchSettings.workers``): never
    more than the chunks; automatic: a worker per core (at most 4) and ``PROJECTS_PER_WORKER`` projects."""
    wanted = settings.workers if settings.workers > 0 else min(4, os.cpu_count() or 1,
                                                               projects // PROJECTS_PER_WORKER)
    return max(1, min(wanted, projects if chunks is None else chunks))


@contextlib.contextmanager
def _pool(engine: MatchEngine, projects: Sequence[ProjectFacts], index: ProductIndex | None,
          workers: int) -> Iterator[tuple[Any, int]]:
    """A pool of forked workers sharing ``projects``, the engine and the index (none when ``workers``
    is 1); terminated on exit, also when the caller stops early or fails."""
    key = next(_FORK_KEYS)
    if workers <= 1:
        yield None, key
        return
    _FORK_JOBS[key] = (projects, engine, index)
    pool = multiprocessing.get_context("fork").Pool(workers, initializer=_worker_init)
    try:
        yield pool, key
    finally:
        _FORK_JOBS.pop(key, None)
        pool.terminate()
        pool.join()


def _score_slice(task: tuple[int, int, int]) -> ChunkScores:
    key, start, stop = task
    projects, engine, index = _FORK_JOBS[key]
    chunk = engine.score_chunk(projects[start:stop], start, index)
    chunk.block.facts = []  # the parent has these; do not send them back
    chunk.block.plugins = []
    return chunk


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
        wanted = _workers(engine.settings, len(self.projects))
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
        engine, settings, stats = self.engine, self.engine.settings, self.stats
        t0 = time.perf_counter()
        if isinstance(self._products, ProductIndex):
            index = self._products
        else:
            by_id = {p.id: p for p in self._financed}
            by_id.update((p.id, p) for p in self.projects)
            index = engine.product_index(self._products, self._outcomes, by_id.values())
        self.product_index = index
        m, n = len(index), len(self.projects)
        stats.products, stats.products_skipped = m, len(index.skipped)
        stats.seconds["index"] = time.perf_counter() - t0
        total = 2 * n
        self._tick(0, total)

        # pass 1: score every chunk, keep the top K per project and the running top L per product
        t1 = time.perf_counter()
        chunks: list[Any] = []
        product_top = ProductTop(m, settings.product_top_l, settings.score_decimals)
        ranges = [(a, min(a + self.chunk_size, n)) for a in range(0, n, self.chunk_size)]
        stats.workers = _workers(settings, n, len(ranges))
        # the chunks' results pile up until pass 2: collections would re-scan them for nothing
        with _pool(engine, self.projects, index, stats.workers) as (pool, key), gc_paused():
            if pool is None:
                results: Iterable[ChunkScores] = (engine.score_chunk(self.projects[a:b], a, index)
                                                  for a, b in ranges)
            else:
                results = pool.imap(_score_slice, [(key, a, b) for a, b in ranges])
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
                self._tick(stop, total)
        stats.seconds["score"] = time.perf_counter() - t1

        # pass 2: per chunk, the union of both sides' kept pairs, explained
        t2 = time.perf_counter()
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
            self._tick(n + stop, total)
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
