"""The project side of the bulk scorer: a :class:`ProjectBlock` holds everything scoring needs about a set
of projects (half-path rows, hard-rule arrays, the plugins' judgements), computed once per block."""

from __future__ import annotations

import contextlib
import gc
import operator
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from greenmatch.facts import ProjectFacts
from greenmatch.instruments import InstrumentFit, InstrumentPlugin

from .formulas import Vocabulary, certification_items, region_items
from .graph import FACT_TAG_PREFIXES, LINK_FIELDS, ProjectLinks, dedupe, links_with_tags
from .settings import MatchSettings
from .taxonomy import Taxonomy


# ---------------------------------------------------------------------------------------------
# The project side
# ---------------------------------------------------------------------------------------------
@dataclass
class ProjectBlock:
    """Everything the scorer needs about a set of projects, computed once (plugins included)."""

    facts: list[ProjectFacts]
    ids: np.ndarray  # int64 (n,)
    X: sp.csr_matrix | None  # (n, features) w_c * project half-path weights, global feature columns
    PT: sp.csr_matrix | None  # (n, plugin tags) 1 where plugin k's project_tags has the tag
    eligible: np.ndarray  # (n, K) bool, plugin k's assess(project).eligible (where assessed)
    fit: np.ndarray  # (n, K) float64, assess().fit clipped to [0, 1] (where assessed)
    fits: list[list[InstrumentFit | None]]  # [plugin][project], None where not eligible or not assessed
    assessed: np.ndarray  # (n, K) bool: assess has run (see :meth:`assess`)
    need: np.ndarray  # (n,) float64
    log_need: np.ndarray  # (n,) float64, -inf when need <= 0
    policy: np.ndarray  # (n,) float64
    plugins: list[InstrumentPlugin]
    tag_names: list[str]  # the columns of ``tags``
    tags: sp.csr_matrix  # (n, tag names) the merged tag weights of :func:`graph.project_links`
    _links: dict[int, ProjectLinks] = field(default_factory=dict, repr=False)
    _metric_dicts: dict[int, dict[int, Mapping[str, float]]] = field(default_factory=dict, repr=False)
    _codes: dict[str, Any] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.facts)

    def links(self, row: int) -> ProjectLinks:
        """The graph edges of the project in ``row``, made on first use (explanations need those of
        the kept rows only); equal to :func:`graph.project_links`."""
        found = self._links.get(row)
        if found is None:
            t = self.tags
            lo, hi = t.indptr[row], t.indptr[row + 1]
            names = self.tag_names
            tags = {names[c]: w for c, w in zip(t.indices[lo:hi].tolist(), t.data[lo:hi].tolist(), strict=True)}
            found = self._links[row] = links_with_tags(self.facts[row], tags)
        return found

    def assess(self, rows: np.ndarray, plugin_idx: np.ndarray) -> None:
        """Run ``assess`` for the (row, plugin) pairs given that have not been assessed: a full run
        defers it until the rules needing no plugin have pruned the pairs (with few products, many
        projects meet no product of some instrument)."""
        k = len(self.plugins)
        todo = ~self.assessed[rows, plugin_idx]
        if not todo.any():
            return
        combos = np.unique(rows[todo] * k + plugin_idx[todo])
        for j in range(k):
            at = combos[combos % k == j] // k
            if len(at):
                kept, self.eligible[at, j], self.fit[at, j] = _assess(self.plugins[j], [self.facts[r] for r in at])
                fits = self.fits[j]
                for r, result in zip(at.tolist(), kept, strict=True):
                    fits[r] = result
                self.assessed[at, j] = True

    def distinct(self, attr: str) -> tuple[list[str], np.ndarray]:
        """(distinct values, inverse index) of a per-project code (``region_code``, ``stage``)."""
        found = self._codes.get(attr)
        if found is None:
            values, inverse = _distinct([getattr(f, attr) for f in self.facts])
            found = self._codes[attr] = (values, inverse)
        return found

    def category_indicator(self) -> tuple[list[str], sp.csr_matrix]:
        """(distinct category codes, (projects x codes) indicator of the projects' categories)."""
        found = self._codes.get("categories")
        if found is None:
            counts = [len(f.categories) for f in self.facts]
            codes, idx = _distinct([c for f in self.facts for c in f.categories])
            ind = sp.csr_matrix((np.ones(len(idx), dtype=np.float32), idx, _offsets(counts)),
                                shape=(len(self.facts), len(codes)))
            found = self._codes["categories"] = (codes, ind)
        return found

    def metric(self, plugin_idx: int, name: str, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(values, present) of one plugin metric for the projects in ``rows``: ``project_metrics``
        is called once per project and plugin, and only for the rows a bound is checked on."""
        known = self._metric_dicts.setdefault(plugin_idx, {})
        distinct, inverse = np.unique(rows, return_inverse=True)
        metrics = self.plugins[plugin_idx].project_metrics
        found = []
        for row in distinct.tolist():
            d = known.get(row)
            if d is None:
                d = known[row] = metrics(self.facts[row])
            found.append(d.get(name))
        present = np.array([v is not None for v in found], dtype=bool)
        values = np.array([float(v) if v is not None else 0.0 for v in found], dtype=np.float64)
        return values[inverse], present[inverse]

    @classmethod
    def concat(cls, blocks: Sequence[ProjectBlock]) -> ProjectBlock:
        if len(blocks) == 1:
            return blocks[0]
        width = max(b.X.shape[1] for b in blocks)
        tag_width = max(b.PT.shape[1] for b in blocks)
        names, positions = _distinct([name for b in blocks for name in b.tag_names])
        tags, at = [], 0
        for b in blocks:  # renumber each block's tag columns into the union
            mapping = positions[at: at + len(b.tag_names)]
            at += len(b.tag_names)
            tags.append(sp.csr_matrix((b.tags.data, mapping[b.tags.indices], b.tags.indptr),
                                      shape=(len(b), len(names))))
        return cls(
            facts=[f for b in blocks for f in b.facts], ids=np.concatenate([b.ids for b in blocks]),
            X=sp.vstack([_widen(b.X, width) for b in blocks], format="csr"),
            PT=sp.vstack([_widen(b.PT, tag_width) for b in blocks], format="csr"),
            eligible=np.concatenate([b.eligible for b in blocks]), fit=np.concatenate([b.fit for b in blocks]),
            assessed=np.concatenate([b.assessed for b in blocks]),
            fits=[[f for b in blocks for f in b.fits[j]] for j in range(len(blocks[0].plugins))],
            need=np.concatenate([b.need for b in blocks]), log_need=np.concatenate([b.log_need for b in blocks]),
            policy=np.concatenate([b.policy for b in blocks]), plugins=blocks[0].plugins,
            tag_names=names, tags=sp.vstack(tags, format="csr"),
        )


def _widen(m: sp.csr_matrix, width: int) -> sp.csr_matrix:
    if m.shape[1] == width:
        return m
    return sp.csr_matrix((m.data, m.indices, m.indptr), shape=(m.shape[0], width))


def _distinct(values: Sequence[Any]) -> tuple[list[Any], np.ndarray]:
    """(distinct values in order of first appearance, the position of each value among them)."""
    distinct = list(dict.fromkeys(values))
    position = {v: i for i, v in enumerate(distinct)}
    return distinct, np.fromiter(map(position.__getitem__, values), np.int64, len(values))


def _offsets(counts: Sequence[int] | np.ndarray) -> np.ndarray:
    """CSR row pointers for rows of ``counts`` entries."""
    out = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=out[1:])
    return out


class HalfPathTable:
    """The half-path row of each link value (a region, a category set, an industry...): feature
    columns and weights (``Taxonomy.half_part``, numbered in ``features``), made once per engine:
    every chunk of a run meets the same values again. Also the policy bonus of each region code."""

    def __init__(self, tax: Taxonomy, features: Vocabulary) -> None:
        self.tax, self.features, self.settings = tax, features, tax.settings
        self._rows: dict[tuple[str, Any], tuple[np.ndarray, np.ndarray]] = {}
        self._region_bonus: dict[str, float] = {}

    def matrix(self, attr: str, values: Sequence[Any], derive: Any = None) -> sp.csr_matrix:
        """(values x features): the half-path rows of the link values ``derive(value)`` of ``attr``
        (``values``: the facts' values, as they are when ``derive`` is None)."""
        rows = self._rows
        found = [rows.get((attr, v)) for v in values]
        if None in found:
            for i, v in enumerate(values):
                if found[i] is None:
                    keys, weights = self.tax.half_part(attr, derive(v) if derive else v)
                    found[i] = rows[(attr, v)] = (self.features.ids(keys), np.array(weights, dtype=np.float64))
        lengths = [len(c) for c, _ in found]
        return sp.csr_matrix((np.concatenate([w for _, w in found]) if found else np.zeros(0),
                              np.concatenate([c for c, _ in found]) if found else np.zeros(0, dtype=np.int64),
                              _offsets(lengths)), shape=(len(values), len(self.features)))

    def region_bonus(self, codes: Sequence[str]) -> np.ndarray:
        """The policy points of each region code (:func:`region_items`)."""
        memo = self._region_bonus
        out = []
        for code in codes:
            bonus = memo.get(code)
            if bonus is None:
                bonus = memo[code] = sum(w for _, w in region_items(code, self.settings))
            out.append(bonus)
        return np.array(out, dtype=np.float64)


@dataclass
class ProjectEvaluation:
    """What the plugins say about a set of projects: the only per-project Python of a run, kept to
    one call of ``assess`` and of ``project_tags`` per project and plugin (picklable: it may be
    computed in a worker process). ``fits[k][i]`` is kept only where project i is eligible for
    plugin k (explanations need no other)."""

    eligible: np.ndarray  # (n, K) bool
    fit: np.ndarray  # (n, K) float64 in [0, 1]
    fits: list[list[InstrumentFit | None]]  # [plugin][project]
    assessed: np.ndarray  # (n, K) bool: False where assess was deferred
    tag_counts: np.ndarray  # (K, n) how many tags plugin k's project_tags gave project i
    tag_names: list[list[str]]  # per plugin: the tag names, project after project
    tag_weights: list[np.ndarray]  # per plugin: the raw weights, aligned with tag_names


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector (when enabled) over a loop that allocates many objects which
    all survive, such as a chunk's plugin results: every few hundred allocations a collection would
    traverse them (and, as they pile up, the older generations) to free nothing. Reference counting
    frees memory as usual meanwhile; the collector resumes afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_fit_of = operator.attrgetter("fit")


def _is_not_none(value: Any) -> bool:
    return value is not None


def _assess(plugin: InstrumentPlugin, projects: Sequence[ProjectFacts]) -> tuple[
        list[InstrumentFit | None], np.ndarray, np.ndarray]:
    """``plugin.assess`` of each project: (the results, None where not eligible; eligible; the fit
    clipped to [0, 1], NaN as 0)."""
    results = list(map(plugin.assess, projects))
    kept = [r if r.eligible else None for r in results]
    eligible = np.fromiter(map(_is_not_none, kept), bool, len(kept))
    fit = np.fromiter(map(_fit_of, results), np.float64, len(results))
    return kept, eligible, np.clip(np.nan_to_num(fit, nan=0.0), 0.0, 1.0)


def evaluate_projects(projects: Sequence[ProjectFacts], plugins: Sequence[InstrumentPlugin], *,
                      assess: bool = True) -> ProjectEvaluation:
    """Call the plugins once per project: ``project_tags``, and ``assess`` unless deferred
    (``assess=False``: :meth:`ProjectBlock.assess` runs it for the pairs that need it)."""
    n, k = len(projects), len(plugins)
    eligible = np.zeros((n, k), dtype=bool)
    fit = np.zeros((n, k), dtype=np.float64)
    fits: list[list[InstrumentFit | None]] = []
    tag_counts = np.zeros((k, n), dtype=np.int64)
    tag_names: list[list[str]] = []
    tag_weights: list[np.ndarray] = []
    with gc_paused():
        for j, plugin in enumerate(plugins):
            if assess:
                kept, eligible[:, j], fit[:, j] = _assess(plugin, projects)
                fits.append(kept)
            else:
                fits.append([None] * n)
            tags = list(map(plugin.project_tags, projects))
            tag_counts[j] = [len(t) for t in tags]
            tag_names.append([name for t in tags for name in t])
            tag_weights.append(np.array([w for t in tags for w in t.values()], dtype=np.float64))
    return ProjectEvaluation(eligible, fit, fits, np.full((n, k), assess), tag_counts, tag_names, tag_weights)


def assemble_block(projects: Sequence[ProjectFacts], ev: ProjectEvaluation, plugins: Sequence[InstrumentPlugin],
                   settings: MatchSettings, half_paths: HalfPathTable, plugin_tags: Vocabulary) -> ProjectBlock:
    """Lay out the half paths and tags of an evaluation in the shared vocabularies' columns, as
    arrays: per distinct attribute value once, never per project in Python."""
    ids = [p.id for p in projects]
    if None in ids:
        raise ValueError("projects need an id to be matched")
    tag_names, tags, PT = _tag_matrices(projects, ev, plugins, settings, plugin_tags)
    X, distinct = _half_path_matrix(projects, settings, half_paths, tag_names, tags)
    need = np.array([float(p.financing_need_cny) for p in projects], dtype=np.float64)
    with np.errstate(divide="ignore"):
        log_need = np.where(need > 0, np.log(np.where(need > 0, need, 1.0)), -np.inf)
    # policy_score, per distinct certification set and region
    certs, cert_at = _distinct([tuple(p.certifications) for p in projects])
    regions, region_at = distinct["region_code"]
    cert_sum = np.array([sum(w for _, w in certification_items(c, settings)) for c in certs], dtype=np.float64)
    policy = np.minimum(1.0, cert_sum[cert_at] + half_paths.region_bonus(regions)[region_at])
    return ProjectBlock(
        facts=list(projects), ids=np.array(ids, dtype=np.int64), X=X, PT=PT, eligible=ev.eligible, fit=ev.fit,
        assessed=ev.assessed,
        fits=ev.fits, need=need, log_need=log_need, policy=policy, plugins=list(plugins), tag_names=tag_names,
        tags=tags, _codes={"region_code": distinct["region_code"], "stage": distinct["stage"]},
    )


def _tag_matrices(projects: Sequence[ProjectFacts], ev: ProjectEvaluation, plugins: Sequence[InstrumentPlugin],
                  settings: MatchSettings, plugin_tags: Vocabulary) -> tuple[list[str], sp.csr_matrix, sp.csr_matrix]:
    """(tag names, project x tag weights, project x plugin-tag indicator): the facts' own tags (weight
    ``fact_tag_weight``) and every plugin's, the larger weight per name."""
    n = len(projects)
    rows_of = np.arange(n, dtype=np.int64)
    names: list[str] = []
    rows: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    if settings.fact_tag_weight > 0:
        for attr, prefix in FACT_TAG_PREFIXES.items():
            values = [getattr(p, attr) for p in projects]
            found = [prefix + v for vs in values for v in vs]
            names += found
            rows.append(np.repeat(rows_of, [len(vs) for vs in values]))
            weights.append(np.full(len(found), float(settings.fact_tag_weight)))
    pt_rows, pt_cols = [], []
    for j in range(len(plugins)):
        plugin_rows = np.repeat(rows_of, ev.tag_counts[j])
        pt_rows.append(plugin_rows)
        distinct_names, at = _distinct(ev.tag_names[j])
        pt_cols.append(plugin_tags.ids([(j, name) for name in distinct_names])[at])
        raw = ev.tag_weights[j]
        keep = raw > 0  # NaN and non-positive weights are dropped
        names += [name for name, kept in zip(ev.tag_names[j], keep.tolist(), strict=True) if kept]
        rows.append(plugin_rows[keep])
        weights.append(np.minimum(1.0, raw[keep]))
    tag_names, tag_cols = _distinct(names)
    tag_rows = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    tag_w = np.concatenate(weights) if weights else np.zeros(0)
    order = np.lexsort((-tag_w, tag_cols, tag_rows))  # per (row, name): the largest weight first
    tag_rows, tag_cols, tag_w = tag_rows[order], tag_cols[order], tag_w[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (tag_rows[1:] != tag_rows[:-1]) | (tag_cols[1:] != tag_cols[:-1])
    tags = sp.csr_matrix((tag_w[first], tag_cols[first], _offsets(np.bincount(tag_rows[first], minlength=n))),
                         shape=(n, len(tag_names)))
    PT = sp.csr_matrix((np.ones(sum(len(c) for c in pt_cols), dtype=np.float32),
                        (np.concatenate(pt_rows) if pt_rows else np.zeros(0, dtype=np.int64),
                         np.concatenate(pt_cols) if pt_cols else np.zeros(0, dtype=np.int64))),
                       shape=(n, len(plugin_tags)))
    PT.sum_duplicates()
    PT.data[:] = 1.0
    return tag_names, tags, PT


def _half_path_matrix(projects: Sequence[ProjectFacts], settings: MatchSettings, half_paths: HalfPathTable,
                      tag_names: list[str], tags: sp.csr_matrix) -> tuple[sp.csr_matrix, dict[str, Any]]:
    """The projects' half-path rows (per link attribute, one row per distinct value, gathered by the
    projects' values) and the distinct values per fact field."""
    n, features = len(projects), half_paths.features
    distinct: dict[str, tuple[list[Any], np.ndarray]] = {}
    parts = []
    for attr, (fact_field, derive) in LINK_FIELDS.items():
        raw = [getattr(p, fact_field) for p in projects]
        if derive is dedupe:  # tuples as the facts should hold; a list would not be hashable
            raw = [v if type(v) is tuple else tuple(v) for v in raw]
        values, inverse = distinct[fact_field] = _distinct(raw)
        parts.append(half_paths.matrix(attr, values, derive)[inverse])
    w_tag = settings.weight("tag")
    if w_tag > 0:
        tag_features = features.ids([("tag", name) for name in tag_names])
        parts.append(sp.csr_matrix((w_tag * tags.data, tag_features[tags.indices], tags.indptr),
                                   shape=(n, len(features))))
    X = sum((_widen(part, len(features)) for part in parts[1:]), _widen(parts[0], len(features))).tocsr()
    X.sum_duplicates()  # canonical: sorted column indices per row
    return X, distinct


def build_block(projects: Sequence[ProjectFacts], plugins: Sequence[InstrumentPlugin], settings: MatchSettings,
                half_paths: HalfPathTable, plugin_tags: Vocabulary, *, assess: bool = True) -> ProjectBlock:
    return assemble_block(projects, evaluate_projects(projects, plugins, assess=assess), plugins, settings,
                          half_paths, plugin_tags)
