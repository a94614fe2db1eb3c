"""The reference taxonomies as the matching graph sees them: hierarchy chains (category, region,
industry), the catalogue's activity codes, and the zh/en labels of nodes."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from functools import cached_property
from typing import Any

from greenmatch.codes import normalize_industry_code

from .graph import (
    CATEGORY,
    CATEGORY_ROOT,
    HALF_PARTS,
    INDUSTRY,
    INSTRUMENT,
    PRODUCT,
    REGION,
    REGION_ROOT,
    STAGE,
    TAG,
    NodeKey,
)
from .settings import MatchSettings

# ---------------------------------------------------------------------------------------------
# Taxonomy: hierarchy chains and labels
# ---------------------------------------------------------------------------------------------
STAGE_LABELS = {"planning": ("规划阶段", "planning"), "construction": ("建设阶段", "construction"),
                "operation": ("运营阶段", "operation")}
FACT_TAG_LABELS: dict[str, tuple[str, str]] = {
    "certification:green_factory": ("绿色工厂", "green factory"),
    "certification:green_park": ("绿色园区", "green industrial park"),
    "certification:green_supply_chain": ("绿色供应链管理企业", "green supply chain"),
    "certification:green_design_product": ("绿色设计产品", "green design product"),
    "certification:zero_carbon_factory": ("零碳工厂", "zero-carbon factory"),
    "certification:specialized_sme": ("专精特新中小企业", "specialised SME (专精特新)"),
    "certification:little_giant": ("专精特新“小巨人”", "little giant"),
    "certification:high_tech": ("高新技术企业", "high-tech enterprise"),
    "collateral:carbon_allowance": ("碳排放配额质押", "carbon allowance pledge"),
    "collateral:ccer": ("CCER 质押", "CCER pledge"),
    "collateral:pollutant_rights": ("排污权质押", "pollutant discharge rights pledge"),
    "collateral:energy_use_rights": ("用能权质押", "energy-use rights pledge"),
    "collateral:water_rights": ("水权质押", "water rights pledge"),
    "collateral:green_power_certificates": ("绿证质押", "green power certificate pledge"),
    "collateral:receivables": ("应收账款质押", "receivables pledge"),
    "collateral:charging_rights": ("收费权质押", "charging rights pledge"),
    "collateral:intellectual_property": ("知识产权质押", "intellectual property pledge"),
    "collateral:fixed_assets": ("固定资产抵押", "fixed asset mortgage"),
    "risk:pollution_liability": ("环境污染责任风险", "pollution liability exposure"),
    "risk:first_of_kind_equipment": ("首台（套）重大技术装备", "first-of-kind major equipment"),
    "risk:new_material_first_batch": ("首批次新材料", "first-batch new materials"),
    "risk:building_performance": ("绿色建筑性能风险", "green building performance"),
    "risk:climate_catastrophe": ("气候与巨灾风险", "climate and catastrophe exposure"),
    "risk:carbon_sink": ("碳汇", "carbon sink"),
    "risk:tech_rnd": ("绿色技术研发风险", "green technology R&D"),
}


# ---------------------------------------------------------------------------------------------
# Taxonomy: hierarchy chains and labels
# ---------------------------------------------------------------------------------------------
class Taxonomy:
    """Hierarchy chains of categories, regions and industries with their decayed weights, and
    bilingual labels of every node. Caches per code; thread-safe for readers."""

    def __init__(self, settings: MatchSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._chains: dict[tuple[str, str], tuple[tuple[str, float], ...]] = {}
        self._parts: dict[tuple[str, str, Any], tuple[list[tuple[str, Any]], list[float]]] = {}
        self._labels: dict[NodeKey, tuple[str, str]] = {}

    # -- reference data (loaded lazily, cached per process by the reference module) -----------
    @cached_property
    def _catalogue(self) -> Mapping[str, Any]:
        from greenmatch.catalog import reference

        return reference.catalogue()

    @cached_property
    def _regions(self) -> Mapping[str, Any]:
        from greenmatch.catalog import reference

        return reference.regions()

    @cached_property
    def _industries(self) -> Mapping[str, Any]:
        from greenmatch.catalog import reference

        return reference.industries()

    @cached_property
    def activities(self) -> dict[str, tuple[str, ...]]:
        """GB/T 4754 activity code -> the level-3 catalogue items listing it (catalogue order)."""
        out: dict[str, list[str]] = {}
        for code, cat in self._catalogue.items():
            for act in cat.activity_codes:
                norm = normalize_industry_code(act)
                if norm and code not in out.setdefault(norm, []):
                    out[norm].append(code)
        return {k: tuple(v) for k, v in out.items()}

    # -- chains: ((code, weight from the start), ...), the start itself first with weight 1 ----
    def category_parent(self, code: str) -> str | None:
        if code == CATEGORY_ROOT:
            return None
        return code.rsplit(".", 1)[0] if "." in code else CATEGORY_ROOT

    def region_parent(self, code: str) -> str | None:
        if code == REGION_ROOT:
            return None
        if len(code) == 6 and code.isdigit():
            if not code.endswith("00"):
                return code[:4] + "00"
            if not code.endswith("0000"):
                return code[:2] + "0000"
        return REGION_ROOT

    def industry_parent(self, code: str) -> str | None:
        return code[:-1] if len(code) > 2 else None

    def parent(self, kind: str, code: str) -> tuple[str, float] | None:
        """The hierarchy parent of a node and the weight of the edge up to it."""
        s = self.settings
        if kind == CATEGORY:
            up = self.category_parent(code)
            return None if up is None else (up, s.category_root_decay if up == CATEGORY_ROOT else s.category_up_decay)
        if kind == REGION:
            up = self.region_parent(code)
            return None if up is None else (up, s.region_root_decay if up == REGION_ROOT else s.region_up_decay)
        if kind == INDUSTRY:
            up = self.industry_parent(code)
            return None if up is None else (up, s.industry_up_decay)
        return None

    def chain(self, kind: str, code: str) -> tuple[tuple[str, float], ...]:
        key = (kind, code)
        found = self._chains.get(key)
        if found is not None:
            return found
        out = [(code, 1.0)]
        weight, current = 1.0, code
        while (step := self.parent(kind, current)) is not None:
            current, hop = step
            weight *= hop
            out.append((current, weight))
        result = tuple(out)
        with self._lock:
            self._chains[key] = result
        return result

    def half_part(self, attr: str, value: Any) -> tuple[list[tuple[str, Any]], list[float]]:
        """A project half-path part (see ``HALF_PARTS``) as flat ((meta-path, node), w_c * weight)
        lists, cached per (attribute, value)."""
        key = ("half", attr, value)
        found = self._parts.get(key)
        if found is None:
            keys: list[tuple[str, Any]] = []
            vals: list[float] = []
            for name, nodes in dict(HALF_PARTS)[attr](value, self).items():
                w = self.settings.weight(name)
                if w > 0:
                    for node, value_ in nodes.items():
                        keys.append((name, node))
                        vals.append(w * value_)
            found = (keys, vals)
            with self._lock:
                self._parts[key] = found
        return found

    def activity_anchor(self, industry: str) -> tuple[str, float, tuple[str, ...]] | None:
        """Climbing from ``industry``: the first node that is a catalogue activity code, the weight
        of the climb, and the level-3 items listing it; None when no ancestor is one."""
        for code, weight in self.chain(INDUSTRY, industry):
            cats = self.activities.get(code)
            if cats:
                return code, weight, cats
        return None

    # -- labels ----------------------------------------------------------------------------------
    def label(self, node: NodeKey, names: Mapping[NodeKey, tuple[str, str]] | None = None) -> tuple[str, str]:
        """(zh, en) label of a node; ``names`` supplies project/product/institution/instrument names."""
        if names and node in names:
            return names[node]
        found = self._labels.get(node)
        if found is None:
            if node[0] == TAG and node[1] not in FACT_TAG_LABELS:
                return _plugin_tag_label(node[1], names)
            found = self._labels[node] = self._label(node)
        return found

    def _label(self, node: NodeKey) -> tuple[str, str]:
        kind, key = node
        if kind == CATEGORY:
            if key == CATEGORY_ROOT:
                return "绿色金融支持项目目录（全部类别）", "Green Finance Endorsed Project Catalogue (all categories)"
            cat = self._catalogue.get(key)
            return (f"{key} {cat.name_zh}", f"{key} {cat.name_en}") if cat else (str(key), str(key))
        if kind == REGION:
            if key == REGION_ROOT:
                return "全国", "nationwide"
            reg = self._regions.get(key)
            if reg is None:
                return str(key), str(key)
            zh, en = reg.name_zh, reg.name_en or f"{reg.name_zh} ({key})"
            if reg.name_zh in ("市辖区", "县") and reg.parent in self._regions:
                parent = self._regions[reg.parent]
                zh = parent.name_zh + reg.name_zh
                en = f"{parent.name_en or parent.name_zh} ({key})"
            return zh, en
        if kind == INDUSTRY:
            ind = self._industries.get(key)
            if ind is None:
                return f"GB/T 4754 {key}", f"GB/T 4754 {key}"
            return f"{key} {ind.name_zh}", f"{key} {ind.name_en or ind.name_zh}"
        if kind == TAG:
            if key in FACT_TAG_LABELS:
                return FACT_TAG_LABELS[key]
            return f"标签: {key}", f"tag: {key}"
        if kind == STAGE:
            return STAGE_LABELS.get(key, (str(key), str(key)))
        if kind == PRODUCT:
            return f"产品: {key}", f"product: {key}"
        return f"{kind}: {key}", f"{kind}: {key}"


_FACT_VALUE_LABELS = {name.split(":", 1)[1]: label for name, label in FACT_TAG_LABELS.items()}


def _plugin_tag_label(tag: str, names: Mapping[NodeKey, tuple[str, str]] | None) -> tuple[str, str]:
    """``green_credit:collateral:ccer`` -> ("绿色信贷：CCER 质押", "Green credit: CCER pledge"): the
    plugin's name, then the last part read as a fact value when it is one, else made readable."""
    key, _, rest = tag.partition(":")
    plugin = (names or {}).get((INSTRUMENT, key))
    if plugin is None or not rest:
        return f"标签: {tag}", f"tag: {tag}"
    last = rest.rsplit(":", 1)[-1]
    zh, en = _FACT_VALUE_LABELS.get(last, (last.replace("_", " "), last.replace("_", " ")))
    return f"{plugin[0]}：{zh}", f"{plugin[1]}: {en}"
