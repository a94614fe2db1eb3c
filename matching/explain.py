"""Explanations of kept matches: the meta-path instances that carried the score, and reasons.

Computed only for kept pairs. The heavy part is vectorised per batch: the element-wise product
of the pair's project half-path row and product half-path row gives, for every meeting node, that
node's contribution to the score (``w_c * H_p[c, n] * H_q[c, n]``); the largest contributions
name the paths. Turning a meeting node back into a readable path (project -> its category ->
broader category -> product ...) and writing the reasons happens lazily, when a match's
``paths`` or ``reasons`` is first read, with the same chain functions the graph is built from.

A path is a sequence of nodes with labels (message parts, rendered at the edge), e.g. in zh_CN::

    ["光伏电站项目", "4.2.2 太阳能利用设施建设和运营", "4.2 ...", "产品: 光伏贷"]
"""

from __future__ import annotations

import gc
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp

from greenmatch.codes import normalize_industry_code
from greenmatch.facts import ProjectFacts
from greenmatch.instruments import Reason
from greenmatch.text import Amount, Label, Listing, Msg, Name, render_all

from .blocks import ProjectBlock
from .formulas import amount_fit, policy_items
from .graph import (
    CATEGORY,
    CATEGORY_ROOT,
    INDUSTRY,
    INSTRUMENT,
    PRODUCT,
    PROJECT,
    REGION,
    REGION_ROOT,
    STAGE,
    TAG,
    NodeKey,
    ProjectLinks,
)
from .product_index import ProductIndex
from .settings import PATH_COMPONENTS, MatchSettings
from .taxonomy import Taxonomy


class ExplanationPath(NamedTuple):
    """One meta-path instance from the project to the product.

    ``kind``: the meta-path (``category``, ``region``, ``tag``, ``industry``, ``outcome_category``,
    ``outcome_industry``, ``preference``, ``stage``; ``instrument`` when no meta-path carried
    weight); ``contribution``: the score points its meeting node carries; ``nodes``: graph node keys
    (see :mod:`greenmatch.matching.graph`); ``parts``: one label per node (a message part or a name)."""

    kind: str
    contribution: float
    nodes: tuple[NodeKey, ...]
    parts: tuple[Any, ...]

    def labels(self, locale: str | None = None) -> list[str]:
        return render_all(self.parts, locale)

    def as_dict(self, locale: str | None = None) -> dict[str, Any]:
        return {"kind": self.kind, "contribution": round(self.contribution, 6), "labels": self.labels(locale)}


PRODUCT_DEPENDENT = frozenset({"outcome_category", "outcome_industry"})
ALL_PRODUCTS_CATEGORIES = Msg("the product covers every green category")
ALL_REGIONS = Msg("the product serves all regions")


class BatchExplainer:
    """The rows of a batch of kept pairs (``rows`` into ``block``, ``qs`` into ``index``) and their
    explanation data; :class:`~greenmatch.matching.engine.Match` objects are views on it.
    ``project_ranks`` / ``product_ranks``: 1-based, 0 or None = not ranked on that side.

    ``memo``: a cache shared across batches (the engine's) for the parts of paths and reasons that
    depend on codes only; product-dependent parts are cached on the product index."""

    def __init__(self, block: ProjectBlock, Xc: sp.csr_matrix, index: ProductIndex, rows: np.ndarray,
                 qs: np.ndarray, scores: np.ndarray, project_ranks: np.ndarray | None,
                 product_ranks: np.ndarray | None, settings: MatchSettings, tax: Taxonomy,
                 names: Mapping[NodeKey, Any], memo: dict[Any, Any] | None = None) -> None:
        self.block, self.index, self.settings, self.tax, self.names = block, index, settings, tax, names
        self.memo = {} if memo is None else memo
        self.rows, self.qs = rows.tolist(), qs.tolist()
        n_pairs = len(rows)
        self.project_ids = block.ids[rows].tolist()
        self.product_ids = index.ids[qs].tolist()
        self.scores = np.asarray(scores, dtype=np.float64).tolist()
        none = [None] * n_pairs
        self.project_ranks = none if project_ranks is None else [r or None for r in project_ranks.tolist()]
        self.product_ranks = none if product_ranks is None else [r or None for r in product_ranks.tolist()]
        facts = index.facts
        self.instruments = [facts[q].instrument for q in self.qs]
        self._paths: list[tuple[ExplanationPath, ...]] = []
        self._reasons: list[tuple[Reason, ...]] = []
        self._rendered = False
        self._mids: dict[int, Any] = {}  # (project row, column) -> path middle
        self._by_row: dict[Any, Any] = {}  # per project row (and column) reason parts
        self._Xc, self._row_array, self._q_array = Xc, rows, qs
        instr = index.instr[qs]
        self.plugin_fit = block.fit[rows, instr].tolist()
        self.policy = block.policy[rows].tolist()

    @cached_property
    def _contributions(self) -> tuple[np.ndarray, list[int], list[float], list[int]]:
        """(score points per path component and pair; per pair, its meeting-node columns and their
        points, largest first, as flat lists with row pointers): the element-wise product of the
        two half-path rows. Made on first use: callers reading only scores never need it."""
        n_pairs, index = len(self.rows), self.index
        rows, qs = self._row_array, self._q_array
        E = self._Xc[rows].multiply(index.Yu[qs]).tocsr() if n_pairs else sp.csr_matrix((0, len(index.used)))
        E.eliminate_zeros()
        entry_row = np.repeat(np.arange(n_pairs), np.diff(E.indptr))
        order = np.lexsort((E.indices, -E.data, entry_row))
        cols, vals = E.indices[order].astype(np.int64), E.data[order]
        comp = index.used_component[cols] if len(cols) else np.zeros(0, dtype=np.int64)
        n_path = len(PATH_COMPONENTS)
        by_comp = np.bincount(entry_row[order] * n_path + comp, weights=vals, minlength=n_pairs * n_path)
        return by_comp.reshape(n_pairs, n_path), cols.tolist(), vals.tolist(), E.indptr.tolist()

    def __len__(self) -> int:
        return len(self.rows)

    # -- per pair ------------------------------------------------------------------------------
    def components(self, i: int) -> dict[str, float]:
        """Score points per component (path components from the contributions, the others recomputed)."""
        s = self.settings
        project, product = self.block.facts[self.rows[i]], self.index.facts[self.qs[i]]
        out = {name: float(v) for name, v in zip(PATH_COMPONENTS, self._contributions[0][i], strict=True)}
        out["amount"] = s.w_amount * amount_fit(project.financing_need_cny, product.params, s)
        out["plugin"] = s.w_plugin * self.plugin_fit[i]
        out["policy"] = s.w_policy * self.policy[i]
        return out

    def entries(self, i: int) -> list[tuple[str, Any, float]]:
        """(meta-path, meeting node, score points) of the pair, largest first."""
        _, cols, vals, indptr = self._contributions
        lo, hi = indptr[i], indptr[i + 1]
        keys = self.index.used_keys
        return [(*keys[c], v) for c, v in zip(cols[lo:hi], vals[lo:hi], strict=True)]

    def paths(self, i: int) -> tuple[ExplanationPath, ...]:
        if not self._rendered:
            self.render()
        return self._paths[i]

    def reasons(self, i: int) -> tuple[Reason, ...]:
        if not self._rendered:
            self.render()
        return self._reasons[i]

    def render(self) -> None:
        """Write every row's paths and reasons at once (the first read of any row does it: a batch
        is read whole). The cyclic garbage collector is paused meanwhile: the rows create many
        small, acyclic objects, and collections triggered by them would re-scan the whole heap."""
        paused = gc.isenabled()
        gc.disable()
        try:
            self._paths = [self._make_paths(i) for i in range(len(self.rows))]
            self._reasons = [self._make_reasons(i) for i in range(len(self.rows))]
            self._rendered = True
        finally:
            if paused:
                gc.enable()

    # -- paths -----------------------------------------------------------------------------------
    def _make_paths(self, i: int) -> tuple[ExplanationPath, ...]:
        p_row, q = self.rows[i], self.qs[i]
        plinks = self.block.links(p_row)
        start = ((PROJECT, plinks.id), self.block.facts[p_row].name)
        end = self._product_end(q)
        out = []
        _, cols, vals, indptr = self._contributions
        lo = indptr[i]
        hi = min(indptr[i + 1], lo + self.settings.paths_per_match)
        keys, mids, width = self.index.used_keys, self._mids, len(self.index.used_keys)
        for c, value in zip(cols[lo:hi], vals[lo:hi], strict=True):
            kind, meeting = keys[c]
            if kind in PRODUCT_DEPENDENT:
                middle = self._middle(kind, meeting, plinks, q, p_row)
            else:  # depends on the project and the node only: cached per batch
                cached = p_row * width + c
                middle = mids.get(cached, mids)
                if middle is mids:
                    middle = mids[cached] = self._middle(kind, meeting, plinks, q, p_row)
            if middle is not None:
                out.append(_join(kind, value, start, middle, end))
        if not out:  # every pair passed the instrument's assessment: that link always exists
            middle = self._plain_middle(INSTRUMENT, self.instruments[i])
            out.append(_join("instrument", self.settings.w_plugin * self.plugin_fit[i], start, middle, end))
        return tuple(out)

    def _product_end(self, q: int) -> tuple[NodeKey, Msg]:
        memo = self.index.render_memo
        key = ("end", q)
        found = memo.get(key)
        if found is None:
            name = self.index.facts[q].name
            found = memo[key] = ((PRODUCT, self.index.ids[q].item()), Msg("product: %(name)s", name=name))
        return found

    def _labels(self, nodes: Sequence[NodeKey]) -> Middle:
        return tuple(nodes), tuple(self.tax.label(n, self.names) for n in nodes)

    def _plain_middle(self, kind: str, key: Any) -> Middle:
        memo_key = ("mid", kind, key)
        found = self.memo.get(memo_key)
        if found is None:
            found = self.memo[memo_key] = self._labels([(kind, key)])
        return found

    def _middle(self, kind: str, meeting: Any, plinks: ProjectLinks, q: int, p_row: int) -> Middle | None:
        """The nodes between the project and the product (with labels), cached by what they depend on."""
        tax = self.tax
        if kind == "category":
            key: Any = ("mid", kind, plinks.categories, meeting)
        elif kind == "region":
            key = ("mid", kind, plinks.region, meeting)
        elif kind == "industry":
            key = ("mid", kind, plinks.industry, meeting)
        elif kind in ("outcome_category", "outcome_industry"):
            return self._outcome_middle(kind, meeting, q, plinks.id)
        else:
            return self._plain_middle({"tag": TAG, "preference": INSTRUMENT, "stage": STAGE}[kind], meeting)
        if key in self.memo:
            return self.memo[key]
        nodes: list[NodeKey] | None = None
        if kind == "category":
            source = _best_source(tax, CATEGORY, plinks.categories, meeting)
            nodes = _climb(tax, CATEGORY, source, meeting) if source else None
        elif kind == "region":
            nodes = _climb(tax, REGION, plinks.region, meeting)
        else:
            anchor = tax.activity_anchor(plinks.industry) if plinks.industry else None
            if anchor is not None:
                code, _, cats = anchor
                source = _best_source(tax, CATEGORY, cats, meeting)
                if source is not None:
                    nodes = _climb(tax, INDUSTRY, plinks.industry, code) + _climb(tax, CATEGORY, source, meeting)
        found = self.memo[key] = self._labels(nodes) if nodes else None
        return found

    def _outcome_middle(self, kind: str, meeting: Any, q: int, project_id: int) -> Middle | None:
        memo = self.index.render_memo
        key = ("mid", kind, q, meeting)
        if key not in memo:
            if kind == "outcome_category":
                f = next((f for f in self.index.financed[q] if meeting in f.categories), None)
                node: NodeKey = (CATEGORY, meeting)
            else:
                f = next((f for f in self.index.financed[q] if _industry(f) == meeting), None)
                node = (INDUSTRY, meeting)
            if f is None:
                memo[key] = None
            else:
                memo[key] = (f.id, node, self.tax.label(node, self.names), f.name)
        found = memo[key]
        if found is None:
            return None
        fid, node, label, name = found
        if fid == project_id:
            financed = Msg("this project (financed by the product)")
        else:
            financed = Msg("project financed by the product: %(name)s", name=name)
        return (node, (PROJECT, fid)), (label, financed)

    # -- reasons ---------------------------------------------------------------------------------
    def _make_reasons(self, i: int) -> tuple[Reason, ...]:
        p_row, q = self.rows[i], self.qs[i]
        project = self.block.facts[p_row]
        plinks, qlinks = self.block.links(p_row), self.index.links[q]
        keys = self.index.used_keys
        first: dict[str, int] = {}  # meta-path -> column of its largest contribution
        tags: list[str] = []
        _, cols, _, indptr = self._contributions
        for c in cols[indptr[i]:indptr[i + 1]]:
            kind, meeting = keys[c]
            if kind == "tag":
                tags.append(meeting)
            elif kind not in first and meeting != REGION_ROOT:
                first[kind] = c
        out: list[Reason] = []
        # category
        if qlinks.categories == (CATEGORY_ROOT,):
            out.append(ALL_PRODUCTS_CATEGORIES)
        elif "category" in first:
            out.append(self._scope_reason(p_row, first["category"], plinks.categories, self._category_reason))
        # region
        if qlinks.regions == (REGION_ROOT,):
            out.append(ALL_REGIONS)
        elif "region" in first:
            out.append(self._scope_reason(p_row, first["region"], plinks.region, self._region_reason))
        # amount
        rng = self._amount_range(q)
        if rng is not None:
            out.append(Msg("financing need %(need)s within the product's range %(range)s",
                           need=Amount(project.financing_need_cny), range=rng))
        # tags
        if tags:
            shown = tuple(tags[:4])
            out.append(self._cached(("r-tag", shown), self._tags_reason, shown))
        # outcomes
        if "outcome_category" in first or "outcome_industry" in first:
            key = ("r-out", q, plinks.categories, plinks.industry)
            reason = self.index.render_memo.get(key, False)
            if reason is False:
                reason = self.index.render_memo[key] = self._outcome_reason(q, plinks)
            if reason is not None:
                out.append(reason)
        # preference
        if "preference" in first:  # the product's instrument is one the enterprise prefers
            out.append(self._cached(("r-pref", qlinks.instrument), self._preference_reason, qlinks.instrument))
        # stage
        if qlinks.stages:
            out.append(self._cached(("r-stage", project.stage), self._stage_reason, project.stage))
        policy = self._row_policy_reason(p_row, project)
        if policy is not None:
            out.append(policy)
        # the instrument plugin's own reasons
        fit = self.block.fits[self.index.instr_list[q]][p_row]
        if fit is not None:
            out.extend(fit.reasons)
        return tuple(out)

    def _row_policy_reason(self, p_row: int, project: ProjectFacts) -> Reason | None:
        """The policy-priority reason of a project row: per row in this batch, per (certifications,
        region) across batches."""
        policy = self._by_row.get(("pol", p_row), False)
        if policy is False:
            key = ("r-pol", project.certifications, project.region_code)
            policy = self.memo.get(key, False)
            if policy is False:
                policy = self.memo[key] = self._policy_reason(project)
            self._by_row[("pol", p_row)] = policy
        return policy

    def _scope_reason(self, p_row: int, column: int, source: Any, make: Any) -> Reason:
        """Why the project's ``source`` (categories or region) meets the product's scope at the
        meeting node of ``column``: per row and column in this batch, per (source, node) across batches."""
        cached = p_row * len(self.index.used_keys) + column
        reason = self._by_row.get(cached)
        if reason is None:
            target = self.index.used_keys[column][1]
            reason = self._by_row[cached] = self._cached((make.__name__, source, target), make, source, target)
        return reason

    def _cached(self, key: Any, make: Any, *args: Any) -> Reason:
        found = self.memo.get(key)
        if found is None:
            found = self.memo[key] = make(*args)
        return found

    def _category_reason(self, categories: tuple[str, ...], target: str) -> Reason:
        source = _best_source(self.tax, CATEGORY, categories, target) or target
        if source == target:
            return Msg("category %(category)s is a focus of the product", category=self.tax.label((CATEGORY, source)))
        return Msg("category %(category)s falls under the product's focus %(focus)s",
                   category=self.tax.label((CATEGORY, source)), focus=self.tax.label((CATEGORY, target)))

    def _region_reason(self, region: str, target: str) -> Reason:
        if region == target:
            return Msg("the project's location %(region)s is a region the product serves",
                       region=self.tax.label((REGION, region)))
        return Msg("the project's location %(region)s is within the product's region %(target)s",
                   region=self.tax.label((REGION, region)), target=self.tax.label((REGION, target)))

    def _amount_range(self, q: int) -> Msg | None:
        memo = self.index.render_memo
        key = ("range", q)
        if key not in memo:
            params = self.index.facts[q].params
            low, high = params.get("min_amount_cny"), params.get("max_amount_cny")
            if low is None and high is None:
                memo[key] = None
            else:
                memo[key] = Msg("%(low)s–%(high)s", low=Amount(low or 0),
                                high=Amount(high) if high is not None else Msg("no upper limit"))
        return memo[key]

    def _tags_reason(self, tags: tuple[str, ...]) -> Reason:
        return Msg("shared features: %(features)s",
                   features=Listing(self.tax.label((TAG, t), self.names) for t in tags))

    def _outcome_reason(self, q: int, plinks: ProjectLinks) -> Reason | None:
        cats, ind = set(plinks.categories), plinks.industry
        similar = [f for f in self.index.financed[q] if set(f.categories) & cats or (ind and _industry(f) == ind)]
        if not similar:
            return None
        return Msg("the product has financed %(count)s similar project(s)", count=len(similar))

    def _preference_reason(self, instrument: str) -> Reason:
        return Msg("the enterprise prefers %(instrument)s",
                   instrument=self.tax.label((INSTRUMENT, instrument), self.names))

    def _stage_reason(self, stage: str) -> Reason:
        return Msg("the product serves projects in the %(stage)s stage", stage=Label("stage", stage))

    def _policy_reason(self, project: ProjectFacts) -> Reason | None:
        items = policy_items(project, self.settings)
        if not items:
            return None
        parts: list[Any] = []
        for key, _ in items:
            kind, _, value = key.partition(":")
            if kind == "certification":
                parts.append(Label("certification", value))
            else:
                parts.append(Msg("priority region %(region)s", region=Name("region", value.ljust(6, "0"))))
        return Msg("policy priority: %(items)s", items=Listing(parts))


Middle = tuple[tuple[NodeKey, ...], tuple[Any, ...]]


def _join(kind: str, value: float, start: tuple[NodeKey, str], middle: Middle,
          end: tuple[NodeKey, Msg]) -> ExplanationPath:
    (p_node, p_name), (nodes, labels) = start, middle
    return ExplanationPath(kind, value, (p_node, *nodes, end[0]), (p_name, *labels, end[1]))


def _industry(project: ProjectFacts) -> str | None:
    return normalize_industry_code(project.industry_code)


def _best_source(tax: Taxonomy, kind: str, sources: Sequence[str], meeting: str) -> str | None:
    """Of ``sources``, the one whose chain reaches ``meeting`` with the largest weight (first on ties)."""
    best, best_w = None, -1.0
    for code in sources:
        for node, w in tax.chain(kind, code):
            if node == meeting and w > best_w:
                best, best_w = code, w
    return best


def _climb(tax: Taxonomy, kind: str, start: str, stop: str) -> list[NodeKey]:
    out = []
    for node, _ in tax.chain(kind, start):
        out.append((kind, node))
        if node == stop:
            break
    return out
