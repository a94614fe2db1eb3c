"""Bulk scoring on ``scipy.sparse``: hard rules first, then meta-path proximity and fit.

Score of a project *p* and a product *q* that passes the hard rules::

    score(p, q) = round( sum_c  w_c * prox_c(p, q)                      (c in settings.PATH_COMPONENTS)
                       + w_amount * amount_fit(need_p, min_q, max_q)
                       + w_plugin * plugin_q.assess(p).fit
                       + w_policy * policy(p),  settings.score_decimals )

* ``prox_c`` is the meta-path proximity of :mod:`greenmatch.matching.graph`: the sum over
  meeting nodes *n* of ``H_p[c, n] * H_q[c, n]``, where the half-path weights *H* are products of
  edge weights (a random walk out of the project over row-normalised edges, hierarchy hops
  decayed; the product side normalised the same way). The scorer holds ``w_c * H_p`` of all
  projects as rows of a CSR matrix ``X`` (columns: (meta-path, meeting node)) and ``H_q`` of all
  products as a dense ``Y`` restricted to the columns some product reaches, so one chunk of
  projects is scored by one sparse x dense product ``X_chunk @ Y.T``, read at the eligible pairs.
  Each ``prox_c`` lies in [0, 1].
* ``amount_fit``: where the financing need lies in the product's amount range on a log scale,
  ``x = (ln need - ln min) / (ln max - ln min)`` clipped to [0, 1]; the fit is 1 at the geometric
  centre and ``amount_edge_fit`` at either edge: ``1 - (1 - amount_edge_fit) * |2x - 1|``. A range
  open on one side is closed ``amount_open_decades`` decades beyond its bound; no bound at all
  gives ``amount_unbounded_fit``.
* ``plugin fit``: the instrument plugin's ``assess(project).fit`` (computed once per project and
  plugin), clipped to [0, 1].
* ``policy(p) = min(1, sum of policy_certifications weights the project holds +
  policy_region_bonus if its region code starts with one of policy_region_prefixes)``.

Weights are normalised to sum 1, so the score lies in [0, 1]. Rounding makes ties exact, so the
ranking (score desc, then product id asc / project id asc) is reproducible and equal to the
per-pair baseline's.

Hard rules prune first, on index arrays of (project row, product) pairs, with exactly the
semantics of :meth:`greenmatch.instruments.InstrumentPlugin.check`: the region rule (the most
selective) builds the candidate pairs from the admitting products of each distinct region code
(``region_covers``: the project's code starts with a listed region's prefix); then, vectorised
over the pairs, the amount bounds, the stages, the categories (``category_covers`` at any level,
decided once per distinct code); then the instrument's ``assess(project).eligible``, called once
per project and plugin and, in a full run, only for the projects some product of that plugin is
still a candidate for; and the product's ``product_requirements``: ``required_tags_any`` against
that plugin's ``project_tags`` (sparse product), numeric ``bounds`` against its
``project_metrics`` (a missing metric fails). No Python loop runs over pairs.
"""

from __future__ import annotations

import contextlib
import gc
import math
import operator
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from greenmatch.codes import region_prefix
from greenmatch.facts import ProductFacts, ProjectFacts
from greenmatch.instruments import InstrumentFit, InstrumentPlugin

from .graph import (
    FACT_TAG_PREFIXES,
    LINK_FIELDS,
    META_PATHS,
    ProductLinks,
    ProjectLinks,
    Taxonomy,
    dedupe,
    links_with_tags,
    product_half_paths,
    product_links,
    project_links,
)
from .settings import PATH_COMPONENTS, MatchSettings

EXCLUDED = -1.0  # score of a pair the hard rules exclude (real scores are >= 0)
COMPONENT_INDEX = {name: i for i, name in enumerate(PATH_COMPONENTS)}
assert tuple(META_PATHS) == PATH_COMPONENTS


class Vocabulary:
    """Append-only key -> column id map shared by the project and product sides (thread-safe)."""

    def __init__(self) -> None:
        self._ids: dict[Any, int] = {}
        self.keys: list[Any] = []
        self._lock = threading.Lock()

    def add(self, key: Any) -> int:
        found = self._ids.get(key)
        if found is not None:
            return found
        with self._lock:
            found = self._ids.get(key)
            if found is None:
                found = len(self.keys)
                self.keys.append(key)
                self._ids[key] = found
        return found

    def get(self, key: Any) -> int | None:
        return self._ids.get(key)

    def ids(self, keys: Sequence[Any]) -> np.ndarray:
        """Column ids of ``keys``, adding the new ones."""
        get = self._ids.get
        found = [get(k, -1) for k in keys]
        if -1 in found:
            found = [i if i >= 0 else self.add(k) for i, k in zip(found, keys, strict=True)]
        return np.array(found, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.keys)


# ---------------------------------------------------------------------------------------------
# Scalar reference formulas (the baseline uses these; the bulk code vectorises the same)
# ---------------------------------------------------------------------------------------------
def amount_bounds(params: Mapping[str, Any], settings: MatchSettings) -> tuple[float, float] | None:
    """(ln lower, ln upper) of the range the amount fit measures against; None: no bound at all."""
    lo, hi = params.get("min_amount_cny"), params.get("max_amount_cny")
    lo = float(lo) if lo is not None and lo > 0 else None
    hi = float(hi) if hi is not None and hi > 0 else None
    if lo is None and hi is None:
        return None
    open_span = settings.amount_open_decades * math.log(10.0)
    if lo is None:
        return math.log(hi) - open_span, math.log(hi)
    if hi is None:
        return math.log(lo), math.log(lo) + open_span
    return math.log(lo), math.log(hi)


def amount_fit(need: float, params: Mapping[str, Any], settings: MatchSettings) -> float:
    bounds = amount_bounds(params, settings)
    if bounds is None:
        return settings.amount_unbounded_fit
    ln_lo, ln_hi = bounds
    span = ln_hi - ln_lo
    if span <= 0:
        return 1.0
    ln_need = math.log(need) if need > 0 else -math.inf
    x = min(1.0, max(0.0, (ln_need - ln_lo) / span))
    return 1.0 - (1.0 - settings.amount_edge_fit) * abs(2.0 * x - 1.0)


def policy_items(project: ProjectFacts, settings: MatchSettings) -> list[tuple[str, float]]:
    """The policy priorities a project earns: ("certification:<name>" | "region:<prefix>", weight)."""
    return certification_items(project.certifications, settings) + region_items(project.region_code, settings)


def certification_items(certifications: Iterable[str], settings: MatchSettings) -> list[tuple[str, float]]:
    return [(f"certification:{c}", settings.policy_certifications[c])
            for c in dict.fromkeys(certifications) if settings.policy_certifications.get(c, 0) > 0]


def region_items(region_code: str, settings: MatchSettings) -> list[tuple[str, float]]:
    if settings.policy_region_bonus > 0:
        for prefix in settings.policy_region_prefixes:
            if region_code.startswith(prefix):
                return [(f"region:{prefix}", settings.policy_region_bonus)]
    return []


def policy_score(project: ProjectFacts, settings: MatchSettings) -> float:
    return min(1.0, sum(w for _, w in policy_items(project, settings)))


def round_score(value: Any, settings: MatchSettings) -> Any:
    return np.round(value, settings.score_decimals)


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
    n, features = len(projects), half_paths.features
    ids = [p.id for p in projects]
    if None in ids:
        raise ValueError("projects need an id to be matched")
    rows_of = np.arange(n, dtype=np.int64)

    # -- tags: the facts' own (weight fact_tag_weight) and every plugin's, the larger weight per name
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

    # -- half paths: per link attribute, one row per distinct value, gathered by the projects' values
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


def build_block(projects: Sequence[ProjectFacts], plugins: Sequence[InstrumentPlugin], settings: MatchSettings,
                half_paths: HalfPathTable, plugin_tags: Vocabulary, *, assess: bool = True) -> ProjectBlock:
    return assemble_block(projects, evaluate_projects(projects, plugins, assess=assess), plugins, settings,
                          half_paths, plugin_tags)


# ---------------------------------------------------------------------------------------------
# The product side
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    """A financed engagement: ``product_id`` financed ``project_id`` (the graph's outcome edge)."""

    product_id: int
    project_id: int
    financed_amount_cny: float | None = None


class ProductIndex:
    """The product side, precomputed once and reused: per-product hard-rule arrays, the dense
    half-path matrix, coverage caches per distinct project code. Built by
    :meth:`greenmatch.matching.engine.MatchEngine.product_index`; read-only afterwards (the caches
    fill under a lock), so one index can serve many ``match_project`` calls."""

    def __init__(self, products: Iterable[ProductFacts], plugins: Mapping[str, InstrumentPlugin],
                 settings: MatchSettings, tax: Taxonomy, features: Vocabulary, plugin_tags: Vocabulary,
                 outcomes: Iterable[Outcome] = (), financed_projects: Iterable[ProjectFacts] = ()) -> None:
        self.settings, self.tax, self.features, self.plugin_tag_space = settings, tax, features, plugin_tags
        self.plugin_keys = tuple(plugins)
        plugin_list = list(plugins.values())
        products = list(products)
        self.skipped = [p for p in products if p.instrument not in plugins]
        kept = sorted((p for p in products if p.instrument in plugins), key=lambda p: p.id)
        ids = [p.id for p in kept]
        if len(set(ids)) != len(ids) or any(i is None for i in ids):
            raise ValueError("product ids must be unique and not None")
        self.facts: list[ProductFacts] = kept
        self.ids = np.array(ids, dtype=np.int64)
        self.position = {pid: i for i, pid in enumerate(ids)}
        m = len(kept)
        self.instr = np.array([self.plugin_keys.index(p.instrument) for p in kept], dtype=np.int64)
        self.instr_list = self.instr.tolist()
        self.links: list[ProductLinks] = [product_links(p, plugins[p.instrument]) for p in kept]
        # financed projects per product (graph semantics: outcomes naming unknown nodes are ignored)
        facts_by_id = {f.id: f for f in financed_projects}
        self.financed: list[list[ProjectFacts]] = [[] for _ in range(m)]
        for outcome in outcomes:
            q = self.position.get(outcome.product_id)
            f = facts_by_id.get(outcome.project_id)
            if q is not None and f is not None and all(x.id != f.id for x in self.financed[q]):
                self.financed[q].append(f)
        financed_links: dict[int, ProjectLinks] = {}
        for flist in self.financed:
            for f in flist:
                if f.id not in financed_links:
                    financed_links[f.id] = project_links(f, [pl.project_tags(f) for pl in plugin_list], settings)
        self.financed_links = financed_links

        # -- common params -----------------------------------------------------------------
        params = [p.params for p in kept]
        self.lo = np.array([_num(pp.get("min_amount_cny"), -np.inf) for pp in params], dtype=np.float64)
        self.hi = np.array([_num(pp.get("max_amount_cny"), np.inf) for pp in params], dtype=np.float64)
        bounds = [amount_bounds(pp, settings) for pp in params]
        self.amount_open = np.array([b is None for b in bounds], dtype=bool)
        self.ln_lo = np.array([b[0] if b else 0.0 for b in bounds], dtype=np.float64)
        self.span = np.array([b[1] - b[0] if b else 1.0 for b in bounds], dtype=np.float64)
        self._lock = threading.Lock()
        self.has_region_rule = np.array([bool(pp.get("regions")) for pp in params], dtype=bool)
        self._cat_codes, self._cat_B, self.has_cat_rule = _code_table([pp.get("categories") for pp in params])
        # region_covers(r, x) is x.startswith(region_prefix(r)): a (prefixes x products) indicator
        prefix_rows: dict[str, int] = {}
        pr_rows, pr_cols = [], []
        for q, pp in enumerate(params):
            for code in pp.get("regions") or ():
                pr_rows.append(prefix_rows.setdefault(region_prefix(code), len(prefix_rows)))
                pr_cols.append(q)
        self._prefix_rows = prefix_rows
        self._prefix_products = sp.csr_matrix((np.ones(len(pr_rows)), (pr_rows, pr_cols)),
                                              shape=(len(prefix_rows), m))
        self._no_region_rule = np.flatnonzero(~self.has_region_rule).astype(np.int64)
        self._cat_position = {code: i for i, code in enumerate(self._cat_codes)}
        self._cat_BT = sp.csr_matrix(self._cat_B.T)
        self._stage_lists = [tuple(pp.get("stages") or ()) for pp in params]
        self._cat_cache: dict[str, np.ndarray] = {}
        self._stage_cache: dict[str, np.ndarray] = {}

        # -- product requirements ------------------------------------------------------------
        req_cols: list[int] = []
        req_rows: list[int] = []
        self.has_req = np.zeros(m, dtype=bool)
        groups: dict[tuple[int, str], list[tuple[int, float, float]]] = {}
        for q, product in enumerate(kept):
            j = int(self.instr[q])
            req = plugin_list[j].product_requirements(product.params)
            if req.required_tags_any:
                self.has_req[q] = True
                for tag in sorted(req.required_tags_any):
                    req_cols.append(plugin_tags.add((j, tag)))
                    req_rows.append(q)
            for name, (low, high) in req.bounds.items():
                groups.setdefault((j, name), []).append(
                    (q, -np.inf if low is None else float(low), np.inf if high is None else float(high)))
        self.req_ids = np.array(sorted(set(req_cols)), dtype=np.int64)
        col_of = {c: i for i, c in enumerate(self.req_ids.tolist())}
        self.RQ = np.zeros((len(self.req_ids), m), dtype=np.float32)
        for c, q in zip(req_cols, req_rows, strict=True):
            self.RQ[col_of[c], q] = 1.0
        self.bound_groups = [
            (j, name, np.array([g[0] for g in rows], dtype=np.int64), np.array([g[1] for g in rows]),
             np.array([g[2] for g in rows]))
            for (j, name), rows in sorted(groups.items())
        ]
        self.bound_position = []  # per group: product index -> position in the group, -1 outside
        for _, _, qs, _, _ in self.bound_groups:
            position = np.full(m, -1, dtype=np.int64)
            position[qs] = np.arange(len(qs))
            self.bound_position.append(position)

        # -- half paths ----------------------------------------------------------------------
        y_ptr, y_idx, y_val = [0], [], []
        for q, ql in enumerate(self.links):
            flinks = [financed_links[f.id] for f in self.financed[q]]
            for name, nodes in product_half_paths(ql, flinks).items():
                for node, value in nodes.items():
                    y_idx.append(features.add((name, node)))
                    y_val.append(value)
            y_ptr.append(len(y_idx))
        Y = sp.csr_matrix((np.array(y_val, dtype=np.float64), np.array(y_idx, dtype=np.int64),
                           np.array(y_ptr, dtype=np.int64)), shape=(m, len(features)))
        Y.sum_duplicates()
        self.used = np.unique(Y.indices).astype(np.int64)  # global feature columns some product reaches
        self.col_map = np.full(len(features), -1, dtype=np.int64)
        self.col_map[self.used] = np.arange(len(self.used))
        self.Yu = sp.csr_matrix(Y[:, self.used])  # (m, U) for explanations
        self.Yu.sum_duplicates()
        self.Yd = np.ascontiguousarray(self.Yu.T.toarray())  # (U, m) dense for bulk scoring
        self.used_component = np.array([COMPONENT_INDEX[features.keys[c][0]] for c in self.used], dtype=np.int64)
        self.used_keys = [features.keys[c] for c in self.used.tolist()]  # (meta-path, meeting node)
        self.render_memo: dict[Any, Any] = {}  # explanation parts that depend on a product

    def __len__(self) -> int:
        return len(self.facts)

    # -- coverage rows, cached per distinct project code -------------------------------------------
    def region_admission(self, codes: Sequence[str]) -> sp.csr_matrix:
        """(codes x products) indicator, sorted indices: the products whose region rule admits a
        project located in each code: no rule, or a listed region covering it (``region_covers``:
        the code starts with the listed region's prefix)."""
        rows_of = self._prefix_rows
        ptr, hits = [0], []
        for code in codes:
            hits += [at for at in (rows_of.get(code[:k]) for k in range(len(code) + 1)) if at is not None]
            ptr.append(len(hits))
        C = sp.csr_matrix((np.ones(len(hits)), np.array(hits, dtype=np.int64), np.array(ptr, dtype=np.int64)),
                          shape=(len(codes), len(rows_of)))
        free = self._no_region_rule
        everywhere = sp.csr_matrix((np.ones(len(codes) * len(free)), np.tile(free, len(codes)),
                                    np.arange(len(codes) + 1, dtype=np.int64) * len(free)),
                                   shape=(len(codes), len(self)))
        admitted = (C @ self._prefix_products + everywhere).tocsr()
        admitted.sum_duplicates()
        return admitted

    def category_row(self, code: str) -> np.ndarray:
        """Products listing a category that covers ``code`` (``category_covers``: the code itself or
        a dotted prefix of it)."""
        row = self._cat_cache.get(code)
        if row is None:
            hit = np.zeros(len(self._cat_codes))
            covering = [code] + [code[:i] for i, ch in enumerate(code) if ch == "."]
            hit[[self._cat_position[c] for c in covering if c in self._cat_position]] = 1.0
            row = self._cat_BT @ hit > 0
            with self._lock:
                self._cat_cache[code] = row
        return row

    def stage_row(self, stage: str) -> np.ndarray:
        row = self._stage_cache.get(stage)
        if row is None:
            row = np.fromiter((not s or stage in s for s in self._stage_lists), bool, len(self._stage_lists))
            with self._lock:
                self._stage_cache[stage] = row
        return row


def _num(value: Any, default: float) -> float:
    return default if value is None else float(value)


def _code_table(lists: Sequence[Any]) -> tuple[list[str], sp.csr_matrix, np.ndarray]:
    """Distinct codes of the products' code lists and a (codes x products) indicator."""
    codes: dict[str, int] = {}
    rows, cols = [], []
    has_rule = np.zeros(len(lists), dtype=bool)
    for q, values in enumerate(lists):
        if values:
            has_rule[q] = True
            for code in values:
                rows.append(codes.setdefault(code, len(codes)))
                cols.append(q)
    B = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(codes), len(lists)))
    return list(codes), B, has_rule


# ---------------------------------------------------------------------------------------------
# Scoring a block of projects against the product index
# ---------------------------------------------------------------------------------------------
def _region_pairs(block: ProjectBlock, index: ProductIndex) -> tuple[np.ndarray, np.ndarray]:
    """Every (row, product) pair the region rule admits, sorted by row then product: the most
    selective rule builds the candidate list, the others filter it."""
    distinct, inverse = block.distinct("region_code")
    admitted = index.region_admission(distinct)[inverse]
    rows = np.repeat(np.arange(len(block), dtype=np.int64), np.diff(admitted.indptr))
    return rows, admitted.indices.astype(np.int64)


def eligible_pairs(block: ProjectBlock, index: ProductIndex) -> tuple[np.ndarray, np.ndarray]:
    """(rows, products) of the pairs passing every hard rule, i.e. exactly those for which
    ``plugin.check(project, product).eligible`` holds; sorted by row, then product."""
    if len(block) == 0 or len(index) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    rows, qs = _region_pairs(block, index)
    need = block.need[rows]
    keep = ~(need < index.lo[qs]) & ~(need > index.hi[qs])
    rows, qs = rows[keep], qs[keep]
    distinct, inverse = block.distinct("stage")
    keep = np.stack([index.stage_row(stage) for stage in distinct])[inverse[rows], qs]
    if index.has_cat_rule.any():
        codes, ind = block.category_indicator()
        category_ok = ~index.has_cat_rule[qs]
        if codes:
            covered = (ind @ np.stack([index.category_row(c) for c in codes]).astype(np.float32)) > 0
            category_ok |= covered[rows, qs]
        keep &= category_ok
    rows, qs = rows[keep], qs[keep]
    instr = index.instr[qs]
    block.assess(rows, instr)  # the plugins judge only the pairs the rules above left
    keep = block.eligible[rows, instr]  # the instrument's assess(project).eligible
    rows, qs = rows[keep], qs[keep]
    if index.has_req.any() and len(rows):
        keep = ~index.has_req[qs]
        width = block.PT.shape[1]
        present = index.req_ids < width
        if present.any():
            hits = np.asarray(block.PT[:, index.req_ids[present]] @ index.RQ[present]) > 0
            keep |= hits[rows, qs]
        rows, qs = rows[keep], qs[keep]
    if index.bound_groups and len(rows):
        keep = np.ones(len(rows), dtype=bool)
        for (j, name, _, low, high), position in zip(index.bound_groups, index.bound_position, strict=True):
            at = np.flatnonzero(position[qs] >= 0)
            if len(at):
                v, present = block.metric(j, name, rows[at])
                b = position[qs[at]]
                keep[at] &= present & ~(v < low[b]) & ~(v > high[b])
        rows, qs = rows[keep], qs[keep]
    return rows, qs


def hard_mask(block: ProjectBlock, index: ProductIndex) -> np.ndarray:
    """(n, m) bool: the pairs that pass every hard rule (for tests and small inputs)."""
    mask = np.zeros((len(block), len(index)), dtype=bool)
    rows, qs = eligible_pairs(block, index)
    mask[rows, qs] = True
    return mask


def compressed_X(block: ProjectBlock, index: ProductIndex) -> sp.csr_matrix:
    """The block's half-path rows restricted to (and renumbered into) the columns products reach."""
    X = block.X
    cols = X.indices
    mapped = np.full(len(cols), -1, dtype=np.int64)
    inside = cols < len(index.col_map)
    mapped[inside] = index.col_map[cols[inside]]
    keep = mapped >= 0
    kept_before = np.concatenate([[0], np.cumsum(keep, dtype=np.int64)])
    indptr = kept_before[X.indptr]
    return sp.csr_matrix((X.data[keep], mapped[keep], indptr), shape=(X.shape[0], len(index.used)))


@dataclass
class PairScores:
    """The scored pairs of a block: row in the block, product index, score (sorted by row, product)."""

    rows: np.ndarray
    qs: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return len(self.rows)


def score_block(block: ProjectBlock, index: ProductIndex, settings: MatchSettings,
                Xc: sp.csr_matrix | None = None) -> PairScores:
    """Score every pair passing the hard rules (and ``min_score``)."""
    rows, qs = eligible_pairs(block, index)
    if len(rows) == 0:
        return PairScores(rows, qs, np.zeros(0))
    if Xc is None:
        Xc = compressed_X(block, index)
    touched = np.unique(rows)
    if len(touched) * 4 < len(block):  # few rows (e.g. one product against every project): only those
        sub = np.full(len(block), -1, dtype=np.int64)
        sub[touched] = np.arange(len(touched))
        prox = np.asarray(Xc[touched] @ index.Yd)[sub[rows], qs]
    else:
        prox = np.asarray(Xc @ index.Yd)[rows, qs]  # sum_c w_c * prox_c
    span = index.span[qs]
    x = (block.log_need[rows] - index.ln_lo[qs]) / np.where(span > 0, span, 1.0)
    np.clip(x, 0.0, 1.0, out=x)
    amount = 1.0 - (1.0 - settings.amount_edge_fit) * np.abs(2.0 * x - 1.0)
    amount[span <= 0] = 1.0
    amount[index.amount_open[qs]] = settings.amount_unbounded_fit
    scores = (prox + settings.w_amount * amount + settings.w_plugin * block.fit[rows, index.instr[qs]]
              + settings.w_policy * block.policy[rows])
    scores = round_score(scores, settings)
    keep = scores >= settings.min_score
    return PairScores(rows[keep], qs[keep], scores[keep])


def group_ranks(groups: np.ndarray) -> np.ndarray:
    """0-based position of each element within its run of equal values (``groups`` sorted)."""
    n = len(groups)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate([[True], groups[1:] != groups[:-1]]))
    return np.arange(n) - np.repeat(starts, np.diff(np.append(starts, n)))


def top_pairs(group: np.ndarray, other: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the best ``k`` pairs of each group by (score desc, other asc), and their 0-based
    ranks; sorted by group, then rank."""
    order = np.lexsort((other, -scores, group))
    ranks = group_ranks(group[order])
    keep = ranks < k
    return order[keep], ranks[keep]


@dataclass
class ChunkScores:
    """Pass 1 of a full run for one chunk of projects (see :func:`score_chunk`)."""

    start: int
    block: ProjectBlock  # X and PT dropped; facts dropped when computed in a worker
    Xc: sp.csr_matrix
    top: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # project side: rows, products, scores, ranks
    candidates: tuple[np.ndarray, ...]  # product side: products, rows, scores
    eligible: int
    considered: int


def score_chunk(projects: Sequence[ProjectFacts], start: int, plugins: Sequence[InstrumentPlugin],
                settings: MatchSettings, half_paths: HalfPathTable, plugin_tags: Vocabulary,
                index: ProductIndex) -> ChunkScores:
    """Evaluate, score and select one chunk: everything pass 1 does that needs no other chunk."""
    block = build_block(projects, plugins, settings, half_paths, plugin_tags, assess=False)
    Xc = compressed_X(block, index)
    pairs = score_block(block, index, settings, Xc)
    at, ranks = top_pairs(pairs.rows, pairs.qs, pairs.scores, settings.project_top_k)
    top = (pairs.rows[at], pairs.qs[at], pairs.scores[at], ranks)
    at, _ = top_pairs(pairs.qs, pairs.rows, pairs.scores, settings.product_top_l)
    candidates = (pairs.qs[at], pairs.rows[at], pairs.scores[at])
    block.X = block.PT = None  # not needed any more: Xc holds what scoring and explaining use
    block._metric_dicts.clear()
    block._codes.clear()
    return ChunkScores(start, block, Xc, top, candidates, len(pairs), len(projects) * len(index))


class ProductTop:
    """Running top-L projects per product across chunks; projects arrive in ascending order, so
    a later project never wins a tie (project id asc)."""

    def __init__(self, m: int, L: int, decimals: int = 12) -> None:
        self.m, self.L = m, L
        self.q = np.zeros(0, dtype=np.int64)
        self.g = np.zeros(0, dtype=np.int64)
        self.s = np.zeros(0, dtype=np.float64)
        self.threshold = np.full(m, EXCLUDED)  # the L-th score once a product has L projects
        # (product, score desc) packed in one int64 when rounded scores allow it: merging the kept
        # list with a chunk's candidates is then a stable sort of two sorted runs (linear time)
        self._scale = 10.0 ** decimals
        self._shift = int(self._scale).bit_length()
        self._packable = self._shift + max(1, m).bit_length() < 63

    def add(self, qs: np.ndarray, gs: np.ndarray, vs: np.ndarray) -> None:
        """Merge candidates (product, global project position, score) of projects that come after
        every project seen so far; each list sorted by (product, score desc, project)."""
        if len(qs) == 0:
            return
        better = vs > self.threshold[qs]
        q = np.concatenate([self.q, qs[better].astype(np.int64)])
        g = np.concatenate([self.g, gs[better].astype(np.int64)])
        s = np.concatenate([self.s, vs[better]])
        if self._packable:
            # kept entries first, candidates after: a stable sort on (product, score desc) keeps the
            # earlier (smaller) project first on ties
            inv = (self._scale - np.rint(s * self._scale)).astype(np.int64)
            order = np.argsort((q << self._shift) | inv, kind="stable")
            at = order[group_ranks(q[order]) < self.L]
        else:
            at, _ = top_pairs(q, g, s, self.L)
        self.q, self.g, self.s = q[at], g[at], s[at]
        full = np.bincount(self.q, minlength=self.m) >= self.L
        last = np.searchsorted(self.q, np.arange(self.m), side="right") - 1
        self.threshold = np.where(full, self.s[np.clip(last, 0, None)] if len(self.s) else EXCLUDED, EXCLUDED)

    def ranks(self) -> np.ndarray:
        return group_ranks(self.q)
