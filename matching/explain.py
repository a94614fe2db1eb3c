"""Explanations of kept matches: the meta-path instances that carried the score, and reasons.

Computed only for kept pairs. The heavy part is vectorised per batch: the element-wise product
of the pair's project half-path row and product half-path row gives, for every meeting node, that
node's contribution to the score (``w_c * H_p[c, n] * H_q[c, n]``); the largest contributions
name the paths. Turning a meeting node back into a readable path (project -> its category ->
broader category -> product ...) and writing the reasons happens lazily, when a match's
``paths`` or ``reasons`` is first read, with the same chain functions the graph is built from.

A path is a sequence of nodes with bilingual labels, e.g. (zh)::

    ["光伏电站项目", "4.2.2 太阳能利用设施建设和运营", "4.2 ...", "产品: 光伏贷"]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from greenmatch.codes import normalize_industry_code
from greenmatch.facts import ProjectFacts
from greenmatch.instruments import Reason

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
    ProductLinks,
    ProjectLinks,
    Taxonomy,
)
from .scorer import ProductIndex, ProjectBlock, amount_fit, policy_items
from .settings import OTHER_COMPONENTS, PATH_COMPONENTS, MatchSettings

ALL_COMPONENTS = PATH_COMPONENTS + OTHER_COMPONENTS


@dataclass(frozen=True)
class ExplanationPath:
    """One meta-path instance from the project to the product.

    ``kind``: the meta-path (``category``, ``region``, ``tag``, ``industry``, ``outcome_category``,
    ``outcome_industry``, ``preference``, ``stage``; ``instrument`` when no meta-path carried
    weight); ``contribution``: the score points its meeting node carries; ``nodes``: graph node keys
    (see :mod:`greenmatch.matching.graph`); ``labels_zh`` / ``labels_en``: one label per node."""

    kind: str
    contribution: float
    nodes: tuple[NodeKey, ...]
    labels_zh: tuple[str, ...]
    labels_en: tuple[str, ...]

    def labels(self, locale: str | None = "zh") -> list[str]:
        return list(self.labels_en if (locale or "zh").startswith("en") else self.labels_zh)

    def as_dict(self, locale: str | None = "zh") -> dict[str, Any]:
        return {"kind": self.kind, "contribution": round(self.contribution, 6), "labels": self.labels(locale)}


def _money(value: float) -> str:
    return f"{value:,.0f}"


class BatchExplainer:
    """The rows of a batch of kept pairs (``rows`` into ``block``, ``qs`` into ``index``) and their
    explanation data; :class:`~greenmatch.matching.engine.Match` objects are views on it.
    ``project_ranks`` / ``product_ranks``: 1-based, 0 or None = not ranked on that side."""

    def __init__(self, block: ProjectBlock, Xc: sp.csr_matrix, index: ProductIndex, rows: np.ndarray,
                 qs: np.ndarray, scores: np.ndarray, project_ranks: np.ndarray | None,
                 product_ranks: np.ndarray | None, settings: MatchSettings, tax: Taxonomy,
                 names: Mapping[NodeKey, tuple[str, str]]) -> None:
        self.block, self.index, self.settings, self.tax, self.names = block, index, settings, tax, names
        self.rows, self.qs = rows, qs
        n_pairs = len(rows)
        self.project_ids = block.ids[rows].tolist()
        self.product_ids = index.ids[qs].tolist()
        self.scores = np.asarray(scores, dtype=np.float64).tolist()
        none = [None] * n_pairs
        self.project_ranks = none if project_ranks is None else [r or None for r in project_ranks.tolist()]
        self.product_ranks = none if product_ranks is None else [r or None for r in product_ranks.tolist()]
        self.instruments = [index.facts[q].instrument for q in qs.tolist()]
        self._paths: dict[int, tuple[ExplanationPath, ...]] = {}
        self._reasons: dict[int, tuple[Reason, ...]] = {}
        E = Xc[rows].multiply(index.Yu[qs]).tocsr() if n_pairs else sp.csr_matrix((0, len(index.used)))
        E.eliminate_zeros()
        entry_row = np.repeat(np.arange(n_pairs), np.diff(E.indptr))
        order = np.lexsort((E.indices, -E.data, entry_row))
        self.cols = E.indices[order].astype(np.int64)
        self.vals = E.data[order]
        self.indptr = E.indptr
        comp = index.used_component[self.cols] if len(self.cols) else np.zeros(0, dtype=np.int64)
        n_path = len(PATH_COMPONENTS)
        by_comp = np.bincount(entry_row[order] * n_path + comp, weights=self.vals, minlength=n_pairs * n_path)
        self.path_components = by_comp.reshape(n_pairs, n_path)
        # the other components, per pair
        instr = index.instr[qs]
        self.plugin_fit = block.fit[rows, instr]
        self.policy = block.policy[rows]

    def __len__(self) -> int:
        return len(self.rows)

    # -- per pair ------------------------------------------------------------------------------
    def components(self, i: int) -> dict[str, float]:
        s = self.settings
        project, product = self.block.facts[self.rows[i]], self.index.facts[self.qs[i]]
        out = {name: float(v) for name, v in zip(PATH_COMPONENTS, self.path_components[i], strict=True)}
        out["amount"] = s.w_amount * amount_fit(project.financing_need_cny, product.params, s)
        out["plugin"] = s.w_plugin * float(self.plugin_fit[i])
        out["policy"] = s.w_policy * float(self.policy[i])
        return out

    def _entries(self, i: int) -> list[tuple[str, Any, float]]:
        lo, hi = self.indptr[i], self.indptr[i + 1]
        keys = self.index.features.keys
        used = self.index.used
        return [(*keys[used[c]], float(v)) for c, v in zip(self.cols[lo:hi], self.vals[lo:hi], strict=True)]

    def paths(self, i: int) -> tuple[ExplanationPath, ...]:
        found = self._paths.get(i)
        if found is None:
            found = self._paths[i] = self._make_paths(i)
        return found

    def reasons(self, i: int) -> tuple[Reason, ...]:
        found = self._reasons.get(i)
        if found is None:
            found = self._reasons[i] = self._make_reasons(i)
        return found

    def _make_paths(self, i: int) -> tuple[ExplanationPath, ...]:
        p_row, q = self.rows[i], self.qs[i]
        plinks, qlinks = self.block.links[p_row], self.index.links[q]
        out = []
        for kind, meeting, value in self._entries(i)[: self.settings.paths_per_match]:
            nodes = self._path_nodes(kind, meeting, plinks, qlinks, q)
            if nodes:
                out.append(self._path(kind, value, nodes, p_row, q))
        if not out:  # every pair passed the instrument's assessment: that link always exists
            nodes = ((PROJECT, plinks.id), (INSTRUMENT, qlinks.instrument), (PRODUCT, qlinks.id))
            out.append(self._path("instrument", self.settings.w_plugin * float(self.plugin_fit[i]), nodes, p_row, q))
        return tuple(out)

    def _make_reasons(self, i: int) -> tuple[Reason, ...]:
        p_row, q = self.rows[i], self.qs[i]
        project, product = self.block.facts[p_row], self.index.facts[q]
        plinks, qlinks = self.block.links[p_row], self.index.links[q]
        entries = self._entries(i)
        by_kind: dict[str, list[tuple[Any, float]]] = {}
        for kind, meeting, value in entries:
            by_kind.setdefault(kind, []).append((meeting, value))
        out: list[Reason] = []
        tax = self.tax
        # category
        if qlinks.categories == (CATEGORY_ROOT,):
            out.append(Reason("the product covers every green category", "产品支持全部绿色类别"))
        elif by_kind.get("category"):
            target = by_kind["category"][0][0]
            source = _best_source(tax, CATEGORY, plinks.categories, target)
            zh_s, en_s = tax.label((CATEGORY, source))
            zh_t, en_t = tax.label((CATEGORY, target))
            if source == target:
                out.append(Reason(f"category {en_s} is a focus of the product",
                                  f"项目类别 {zh_s} 属于产品重点支持类别"))
            else:
                out.append(Reason(f"category {en_s} falls under the product's focus {en_t}",
                                  f"项目类别 {zh_s} 属于产品支持范围 {zh_t}"))
        # region
        if qlinks.regions == (REGION_ROOT,):
            out.append(Reason("the product serves all regions", "产品面向全国"))
        else:
            target = next((m for m, _ in by_kind.get("region", ()) if m != REGION_ROOT), None)
            if target is not None:
                zh_r, en_r = tax.label((REGION, plinks.region))
                zh_t, en_t = tax.label((REGION, target))
                out.append(Reason(f"the project's location {en_r} is within the product's region {en_t}",
                                  f"项目所在地 {zh_r} 在产品服务区域 {zh_t} 内"))
        # amount
        low, high = product.params.get("min_amount_cny"), product.params.get("max_amount_cny")
        if low is not None or high is not None:
            need = project.financing_need_cny
            rng_en = f"¥{_money(low or 0)}–" + (f"¥{_money(high)}" if high is not None else "∞")
            rng_zh = f"{_money(low or 0)}–" + (f"{_money(high)} 元" if high is not None else "不限")
            out.append(Reason(f"financing need ¥{_money(need)} within the product's range {rng_en}",
                              f"融资需求 {_money(need)} 元在产品额度 {rng_zh} 范围内"))
        # tags
        tags = [m for m, _ in by_kind.get("tag", ())]
        if tags:
            labels = [tax.label((TAG, t)) for t in tags[:4]]
            out.append(Reason("shared features: " + ", ".join(en for _, en in labels),
                              "共同特征：" + "、".join(zh for zh, _ in labels)))
        # outcomes
        financed = self.index.financed[q]
        if financed and (by_kind.get("outcome_category") or by_kind.get("outcome_industry")):
            cats, ind = set(plinks.categories), plinks.industry
            similar = [f for f in financed if set(f.categories) & cats or (ind and _industry(f) == ind)]
            if similar:
                out.append(Reason(f"the product has financed {len(similar)} similar project(s)",
                                  f"该产品已为 {len(similar)} 个同类项目提供融资"))
        # preference
        if by_kind.get("preference"):
            zh_i, en_i = self._label((INSTRUMENT, qlinks.instrument), p_row, q)
            out.append(Reason(f"the enterprise prefers {en_i}", f"企业偏好{zh_i}"))
        # stage
        if qlinks.stages:
            zh_s, en_s = tax.label((STAGE, project.stage))
            out.append(Reason(f"the product serves projects in the {en_s} stage", f"产品支持处于{zh_s}的项目"))
        # policy
        items = policy_items(project, self.settings)
        if items:
            zh_items, en_items = [], []
            for key, _ in items:
                kind, _, value = key.partition(":")
                if kind == "certification":
                    zh, en = tax.label((TAG, f"certification:{value}"))
                else:
                    zh, en = "重点区域（京津冀）" if value in ("11", "12", "13") else f"重点区域 {value}", \
                        "priority region" + (" (Jing-Jin-Ji)" if value in ("11", "12", "13") else f" {value}")
                zh_items.append(zh)
                en_items.append(en)
            out.append(Reason("policy priority: " + ", ".join(en_items), "政策优先：" + "、".join(zh_items)))
        # the instrument plugin's own reasons
        fit = self.block.fits[p_row][int(self.index.instr[q])]
        if fit is not None:
            out.extend(fit.reasons)
        return tuple(dict.fromkeys(out))

    # -- path reconstruction ---------------------------------------------------------------------
    def _path_nodes(self, kind: str, meeting: Any, plinks: ProjectLinks, qlinks: ProductLinks,
                    q: int) -> tuple[NodeKey, ...] | None:
        tax = self.tax
        start, end = (PROJECT, plinks.id), (PRODUCT, qlinks.id)
        if kind == "category":
            source = _best_source(tax, CATEGORY, plinks.categories, meeting)
            return (start, *_climb(tax, CATEGORY, source, meeting), end) if source else None
        if kind == "region":
            return (start, *_climb(tax, REGION, plinks.region, meeting), end)
        if kind == "industry":
            anchor = tax.activity_anchor(plinks.industry) if plinks.industry else None
            if anchor is None:
                return None
            code, _, cats = anchor
            source = _best_source(tax, CATEGORY, cats, meeting)
            if source is None:
                return None
            return (start, *_climb(tax, INDUSTRY, plinks.industry, code), *_climb(tax, CATEGORY, source, meeting), end)
        if kind == "outcome_category":
            f = next((f for f in self.index.financed[q] if meeting in f.categories), None)
            return (start, (CATEGORY, meeting), (PROJECT, f.id), end) if f else None
        if kind == "outcome_industry":
            f = next((f for f in self.index.financed[q] if _industry(f) == meeting), None)
            return (start, (INDUSTRY, meeting), (PROJECT, f.id), end) if f else None
        kinds = {"tag": TAG, "preference": INSTRUMENT, "stage": STAGE}
        return (start, (kinds[kind], meeting), end)

    def _label(self, node: NodeKey, p_row: int, q: int, position: int = 0) -> tuple[str, str]:
        kind, key = node
        if kind == PROJECT:
            project = self.block.facts[p_row]
            if position == 0:
                return project.name, project.name
            if key == project.id:
                return "本项目（已获该产品融资）", "this project (financed by the product)"
            f = next((f for f in self.index.financed[q] if f.id == key), None)
            name = f.name if f else f"#{key}"
            return f"已获该产品融资的项目: {name}", f"project financed by the product: {name}"
        if kind == PRODUCT:
            name = self.index.facts[q].name
            return f"产品: {name}", f"product: {name}"
        return self.tax.label(node, self.names)

    def _path(self, kind: str, value: float, nodes: tuple[NodeKey, ...], p_row: int, q: int) -> ExplanationPath:
        labels = [self._label(n, p_row, q, i) for i, n in enumerate(nodes)]
        return ExplanationPath(kind, value, nodes, tuple(zh for zh, _ in labels), tuple(en for _, en in labels))


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
