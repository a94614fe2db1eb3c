"""The product side of the bulk scorer: :class:`ProductIndex`, precomputed once per run (per-product
hard-rule arrays, the dense half-path matrix, coverage caches), and the financed :class:`Outcome` edges."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from greenmatch.codes import region_prefix
from greenmatch.facts import ProductFacts, ProjectFacts
from greenmatch.instruments import InstrumentPlugin

from .formulas import COMPONENT_INDEX, Vocabulary, amount_bounds
from .graph import ProductLinks, ProjectLinks, product_half_paths, product_links, project_links
from .settings import MatchSettings
from .taxonomy import Taxonomy


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
        self.instr = np.array([self.plugin_keys.index(p.instrument) for p in kept], dtype=np.int64)
        self.instr_list = self.instr.tolist()
        self.links: list[ProductLinks] = [product_links(p, plugins[p.instrument]) for p in kept]
        self._index_outcomes(outcomes, financed_projects, plugin_list)
        params = [p.params for p in kept]
        self._common_params(params)
        self._requirements(kept, plugin_list)
        self._half_paths()

    def _index_outcomes(self, outcomes: Iterable[Outcome], financed_projects: Iterable[ProjectFacts],
                        plugin_list: list[InstrumentPlugin]) -> None:
        """Financed projects per product (graph semantics: outcomes naming unknown nodes are ignored)."""
        m, settings = len(self.facts), self.settings
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

    def _common_params(self, params: list[Mapping[str, Any]]) -> None:
        """Arrays of the common params every product has: amounts, regions, categories, stages."""
        m, settings = len(params), self.settings
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

    def _requirements(self, kept: list[ProductFacts], plugin_list: list[InstrumentPlugin]) -> None:
        """The plugins' hard requirements: required tags (a dense indicator) and numeric bounds per group."""
        m, plugin_tags = len(kept), self.plugin_tag_space
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

    def _half_paths(self) -> None:
        """The products' half-path rows: sparse (for explanations) and dense (for bulk scoring)."""
        m, features, financed_links = len(self.facts), self.features, self.financed_links
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
