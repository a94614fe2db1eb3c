"""The matching graph: what is connected to what, and with which weight.

This module is the single definition of the matching structure. The networkx graph
(:class:`MatchGraph`) is built from it to model, validate and explain; the bulk scorer
(:mod:`greenmatch.matching.scorer`) builds its sparse matrices from the very same link and
half-path functions, and the per-pair baseline (:mod:`greenmatch.matching.baseline`) walks the
networkx graph; the equivalence test proves the two agree.

Nodes are ``(kind, key)`` tuples:

========================  ======================================================================
``("project", id)``       a project (also a *financed* project when a product financed it)
``("product", id)``       a financial product
``("institution", id)``   the institution offering a product
``("instrument", key)``   an instrument plugin (``green_credit`` ...)
``("category", code)``    a catalogue item, any level; ``("category", "*")`` is the catalogue root
``("region", code)``      a GB/T 2260 region; ``("region", "CN")`` is the national root
``("industry", code)``    a GB/T 4754-2017 class, group or division
``("tag", name)``         certifications, collateral and risk exposures of the facts
                          (``certification:green_factory``, ``collateral:ccer``, ``risk:carbon_sink``)
                          and whatever plugins attach (``green_insurance:cover:pollution``)
``("stage", name)``       planning, construction, operation
========================  ======================================================================

Edges are directed and carry ``rel`` and ``weight``:

* hierarchy: category ``broader`` (level 3 -> 2 -> 1 -> root, weight ``category_up_decay``, the last
  hop ``category_root_decay``), region ``within`` (county -> prefecture -> province -> root, by code
  prefix, consistent with :func:`greenmatch.codes.region_covers`), industry ``within`` (class ->
  group -> division, ``industry_up_decay``), industry ``activity_of`` -> level-3 category (the
  catalogue's GB/T 4754 activity codes; weight ``1 / number of categories listing the code``);
* project: ``in_category`` (``1/|categories|``), ``located_in`` (1), ``in_industry`` (1),
  ``has_tag`` (tag weight), ``at_stage`` (1), ``prefers`` (``1/|preferred instruments|``);
* product: ``targets`` category (1; its categories reduced to the broadest codes, none = the root),
  ``serves_region`` (1; same reduction, none = the national root), ``offers_tag``
  (tag weight / sum of the product's tag weights), ``serves_stage`` (``1/|stages|``, none = all
  three), ``of_instrument`` (1), ``offered_by`` (1), ``financed`` -> project
  (``1/|projects the product financed|``).

A *meta-path* joins a project and a product at a meeting node: its project half follows edges out
of the project, its product half follows edges out of the product (see :data:`META_PATHS`). The
proximity of a pair along one meta-path is the sum, over meeting nodes, of (project-half weight x
product-half weight), where a half's weight is the product of its edge weights summed over its
walks. Every proximity lies in [0, 1].
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import networkx as nx

from greenmatch.codes import category_covers, normalize_industry_code, region_covers
from greenmatch.facts import STAGES, ProductFacts, ProjectFacts
from greenmatch.instruments import InstrumentPlugin

from .settings import MatchSettings

NodeKey = tuple[str, Any]

PROJECT, PRODUCT, INSTITUTION, INSTRUMENT = "project", "product", "institution", "instrument"
CATEGORY, REGION, INDUSTRY, TAG, STAGE = "category", "region", "industry", "tag", "stage"
CATEGORY_ROOT = "*"
REGION_ROOT = "CN"

# relations
IN_CATEGORY, BROADER, LOCATED_IN, WITHIN, IN_INDUSTRY, ACTIVITY_OF = (
    "in_category", "broader", "located_in", "within", "in_industry", "activity_of")
HAS_TAG, AT_STAGE, PREFERS = "has_tag", "at_stage", "prefers"
TARGETS, SERVES_REGION, OFFERS_TAG, SERVES_STAGE, OF_INSTRUMENT, OFFERED_BY, FINANCED = (
    "targets", "serves_region", "offers_tag", "serves_stage", "of_instrument", "offered_by", "financed")

#: Tag name prefixes of the tags taken from the facts themselves.
FACT_TAG_PREFIXES = {"certifications": "certification:", "collateral": "collateral:", "risk_exposures": "risk:"}

# A walk step: (relation, mode). "one": follow the relation once; "star": stay or follow it any
# number of times, every node visited is a meeting candidate; "climb": follow it upwards from the
# current node to the first node that has an out-edge of the relation named in the next step.
Step = tuple[str, str]

#: meta-path name -> (project-half steps, product-half steps); names match settings.PATH_COMPONENTS
META_PATHS: dict[str, tuple[tuple[Step, ...], tuple[Step, ...]]] = {
    "category": (((IN_CATEGORY, "one"), (BROADER, "star")), ((TARGETS, "one"),)),
    "region": (((LOCATED_IN, "one"), (WITHIN, "star")), ((SERVES_REGION, "one"),)),
    "tag": (((HAS_TAG, "one"),), ((OFFERS_TAG, "one"),)),
    "industry": (
        ((IN_INDUSTRY, "one"), (WITHIN, "climb"), (ACTIVITY_OF, "one"), (BROADER, "star")),
        ((TARGETS, "one"),),
    ),
    "outcome_category": (((IN_CATEGORY, "one"),), ((FINANCED, "one"), (IN_CATEGORY, "one"))),
    "outcome_industry": (((IN_INDUSTRY, "one"),), ((FINANCED, "one"), (IN_INDUSTRY, "one"))),
    "preference": (((PREFERS, "one"),), ((OF_INSTRUMENT, "one"),)),
    "stage": (((AT_STAGE, "one"),), ((SERVES_STAGE, "one"),)),
}

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


# ---------------------------------------------------------------------------------------------
# Links: what a project or a product connects to (the edges leaving it)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProjectLinks:
    id: int
    categories: tuple[str, ...]
    region: str
    industry: str | None
    tags: Mapping[str, float]
    stage: str
    preferred: tuple[str, ...]

    def __reduce__(self) -> tuple[Any, ...]:  # sent back by worker processes: a constructor call loads fast
        return ProjectLinks, (self.id, self.categories, self.region, self.industry, self.tags, self.stage,
                              self.preferred)


@dataclass(frozen=True)
class ProductLinks:
    id: int
    instrument: str
    institution_id: int | None
    categories: tuple[str, ...]  # reduced to the broadest codes; (CATEGORY_ROOT,) when none
    regions: tuple[str, ...]  # reduced to the broadest codes; (REGION_ROOT,) when none
    stages: tuple[str, ...]  # () when the product sets none: it serves all of STAGES
    tags: Mapping[str, float]  # normalised to sum 1


def dedupe(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def broadest(codes: Iterable[str], covers: Any) -> tuple[str, ...]:
    """Drop the codes another code of the set covers; keep the given order."""
    codes = dedupe(codes)
    return tuple(c for c in codes if not any(o != c and covers(o, c) for o in codes))


def fact_tags(project: ProjectFacts, weight: float) -> dict[str, float]:
    tags: dict[str, float] = {}
    if weight <= 0:
        return tags
    for attr, prefix in FACT_TAG_PREFIXES.items():
        for value in getattr(project, attr):
            tags[prefix + value] = weight
    return tags


def merge_tags(into: dict[str, float], tags: Mapping[str, float]) -> None:
    """Add plugin tags: weights clipped to (0, 1] (others, NaN included, are dropped), the larger
    weight wins for a shared name."""
    for name, raw in tags.items():
        w = float(raw)
        if w > 0:
            w = min(1.0, w)
            if w > into.get(name, 0.0):
                into[name] = w


#: link attribute -> (the ProjectFacts field it reads, how the link value derives from it; None: as is)
LINK_FIELDS: dict[str, tuple[str, Any]] = {
    "categories": ("categories", dedupe),
    "region": ("region_code", None),
    "industry": ("industry_code", normalize_industry_code),
    "preferred": ("preferred_instruments", dedupe),
    "stage": ("stage", None),
}


def project_links(project: ProjectFacts, plugin_tags: Iterable[Mapping[str, float]],
                  settings: MatchSettings) -> ProjectLinks:
    """The edges leaving a project. ``plugin_tags``: each plugin's ``project_tags(project)``."""
    tags = fact_tags(project, settings.fact_tag_weight)
    for extra in plugin_tags:
        if extra:
            merge_tags(tags, extra)
    return links_with_tags(project, tags)


def links_with_tags(project: ProjectFacts, tags: Mapping[str, float]) -> ProjectLinks:
    """The edges leaving a project whose merged tags (see :func:`project_links`) are known."""
    if project.id is None:
        raise ValueError("projects need an id to be matched")
    values = {attr: derive(getattr(project, name)) if derive else getattr(project, name)
              for attr, (name, derive) in LINK_FIELDS.items()}
    return ProjectLinks(id=project.id, tags=tags, **values)


def product_links(product: ProductFacts, plugin: InstrumentPlugin) -> ProductLinks:
    if product.id is None:
        raise ValueError("products need an id to be matched")
    params = product.params
    tags: dict[str, float] = {}
    merge_tags(tags, plugin.product_tags(params))
    total = sum(tags.values())
    return ProductLinks(
        id=product.id,
        instrument=product.instrument,
        institution_id=product.institution_id,
        categories=broadest(params.get("categories") or (), category_covers) or (CATEGORY_ROOT,),
        regions=broadest(params.get("regions") or (), region_covers) or (REGION_ROOT,),
        stages=dedupe(params.get("stages") or ()),
        tags={k: v / total for k, v in tags.items()} if total > 0 else {},
    )


def product_stage_weights(links: ProductLinks) -> dict[str, float]:
    stages = links.stages or STAGES
    return {s: 1.0 / len(stages) for s in stages}


# ---------------------------------------------------------------------------------------------
# Half paths computed directly from links (the scorer's side; the baseline walks the graph)
# ---------------------------------------------------------------------------------------------
def _half_categories(categories: tuple[str, ...], tax: Taxonomy) -> dict[str, dict[str, float]]:
    cat: dict[str, float] = {}
    oc: dict[str, float] = {}
    if categories:
        share = 1.0 / len(categories)
        for code in categories:
            oc[code] = oc.get(code, 0.0) + share
            for node, w in tax.chain(CATEGORY, code):
                cat[node] = cat.get(node, 0.0) + share * w
    return {"category": cat, "outcome_category": oc}


def _half_region(region: str, tax: Taxonomy) -> dict[str, dict[str, float]]:
    return {"region": dict(tax.chain(REGION, region))}


def _half_industry(industry: str | None, tax: Taxonomy) -> dict[str, dict[str, float]]:
    ind: dict[str, float] = {}
    anchor = tax.activity_anchor(industry) if industry else None
    if anchor is not None:
        _, climb, cats = anchor
        share = climb / len(cats)
        for code in cats:
            for node, w in tax.chain(CATEGORY, code):
                ind[node] = ind.get(node, 0.0) + share * w
    return {"industry": ind, "outcome_industry": {industry: 1.0} if industry else {}}


def _half_preferred(preferred: tuple[str, ...], tax: Taxonomy) -> dict[str, dict[str, float]]:
    return {"preference": {k: 1.0 / len(preferred) for k in preferred}}


def _half_stage(stage: str, tax: Taxonomy) -> dict[str, dict[str, float]]:
    return {"stage": {stage: 1.0}}


#: The project half paths, one part per link attribute (a part depends on that attribute alone,
#: so the scorer caches parts per value); tags are the remaining part.
HALF_PARTS = (("categories", _half_categories), ("region", _half_region), ("industry", _half_industry),
              ("preferred", _half_preferred), ("stage", _half_stage))
assert set(LINK_FIELDS) == {attr for attr, _ in HALF_PARTS}


def project_half_paths(links: ProjectLinks, tax: Taxonomy) -> dict[str, dict[str, float]]:
    """Per meta-path: meeting node key -> summed weight of the project half."""
    out: dict[str, dict[str, float]] = {name: {} for name in META_PATHS}
    for attr, part in HALF_PARTS:
        out.update(part(getattr(links, attr), tax))
    out["tag"] = dict(links.tags)
    return out


def product_half_paths(links: ProductLinks, financed: Sequence[ProjectLinks] = ()) -> dict[str, dict[str, float]]:
    """Per meta-path: meeting node key -> weight of the product half. ``financed``: the projects
    this product financed (their links)."""
    out: dict[str, dict[str, float]] = {name: {} for name in META_PATHS}
    out["category"] = dict.fromkeys(links.categories, 1.0)
    out["industry"] = dict(out["category"])
    out["region"] = dict.fromkeys(links.regions, 1.0)
    out["tag"] = dict(links.tags)
    out["preference"] = {links.instrument: 1.0}
    out["stage"] = product_stage_weights(links)
    if financed:
        share = 1.0 / len(financed)
        oc, oi = out["outcome_category"], out["outcome_industry"]
        for f in financed:
            if f.categories:
                w = share / len(f.categories)
                for c in f.categories:
                    oc[c] = oc.get(c, 0.0) + w
            if f.industry:
                oi[f.industry] = oi.get(f.industry, 0.0) + share
    return out


#: The node kind of each meta-path's meeting nodes.
MEETING_KIND = {
    "category": CATEGORY, "region": REGION, "tag": TAG, "industry": CATEGORY, "outcome_category": CATEGORY,
    "outcome_industry": INDUSTRY, "preference": INSTRUMENT, "stage": STAGE,
}


# ---------------------------------------------------------------------------------------------
# The networkx graph
# ---------------------------------------------------------------------------------------------
class MatchGraph:
    """The matching graph as a networkx ``DiGraph`` (attributes: nodes ``kind``, ``label_zh``,
    ``label_en``; edges ``rel``, ``weight``). Build with :meth:`build`; use for validation,
    explanation and the per-pair baseline, not for bulk scoring."""

    def __init__(self, settings: MatchSettings | None = None, taxonomy: Taxonomy | None = None) -> None:
        self.settings = settings or MatchSettings()
        self.tax = taxonomy or Taxonomy(self.settings)
        self.G = nx.DiGraph()
        self.names: dict[NodeKey, tuple[str, str]] = {}

    # -- building ------------------------------------------------------------------------------
    @classmethod
    def build(cls, projects: Iterable[ProjectFacts], products: Iterable[ProductFacts],
              plugins: Mapping[str, InstrumentPlugin], outcomes: Iterable[Any] = (),
              settings: MatchSettings | None = None, *, reference: bool = True) -> MatchGraph:
        """The whole graph. ``outcomes``: objects with ``product_id`` and ``project_id`` (financed
        engagements); an outcome whose project or product is not given is ignored.
        ``reference``: include every catalogue item, region and industry, not only those used."""
        graph = cls(settings)
        if reference:
            graph.add_reference()
        for key, plugin in plugins.items():
            graph._node((INSTRUMENT, key), (plugin.name_zh, plugin.name_en))
        projects = list(projects)
        for project in projects:
            graph.add_project(project, plugins)
        products = [p for p in products if p.instrument in plugins]
        for product in products:
            graph.add_product(product, plugins[product.instrument])
        graph.add_outcomes(outcomes)
        return graph

    def _node(self, node: NodeKey, label: tuple[str, str] | None = None) -> None:
        if node not in self.G:
            zh, en = label or self.tax.label(node)
            self.G.add_node(node, kind=node[0], label_zh=zh, label_en=en)
            if node[0] in (CATEGORY, REGION, INDUSTRY):
                self._hierarchy(node)
        elif label is not None:
            self.G.nodes[node].update(label_zh=label[0], label_en=label[1])

    def _hierarchy(self, node: NodeKey) -> None:
        kind, code = node
        up = self.tax.parent(kind, code)
        if up is not None:
            parent = (kind, up[0])
            self._node(parent)
            self.G.add_edge(node, parent, rel=BROADER if kind == CATEGORY else WITHIN, weight=up[1])
        if kind == INDUSTRY:
            cats = self.tax.activities.get(code, ())
            for cat in cats:
                self._node((CATEGORY, cat))
                self.G.add_edge(node, (CATEGORY, cat), rel=ACTIVITY_OF, weight=1.0 / len(cats))

    def add_reference(self) -> None:
        for code in self.tax._catalogue:
            self._node((CATEGORY, code))
        for code in self.tax._regions:
            self._node((REGION, code))
        for code in self.tax._industries:
            self._node((INDUSTRY, code))
        for stage in STAGES:
            self._node((STAGE, stage))

    def _edge(self, u: NodeKey, v: NodeKey, rel: str, weight: float) -> None:
        self._node(v)
        self.G.add_edge(u, v, rel=rel, weight=weight)

    def add_project(self, project: ProjectFacts, plugins: Mapping[str, InstrumentPlugin]) -> ProjectLinks:
        links = project_links(project, [p.project_tags(project) for p in plugins.values()], self.settings)
        node = (PROJECT, links.id)
        self._node(node, (project.name, project.name))
        self.names[node] = (project.name, project.name)
        self.G.remove_edges_from(list(self.G.out_edges(node)))  # re-adding a project replaces its links
        for code in links.categories:
            self._edge(node, (CATEGORY, code), IN_CATEGORY, 1.0 / len(links.categories))
        self._edge(node, (REGION, links.region), LOCATED_IN, 1.0)
        if links.industry:
            self._edge(node, (INDUSTRY, links.industry), IN_INDUSTRY, 1.0)
        for tag, w in links.tags.items():
            self._edge(node, (TAG, tag), HAS_TAG, w)
        self._edge(node, (STAGE, links.stage), AT_STAGE, 1.0)
        for key in links.preferred:
            self._edge(node, (INSTRUMENT, key), PREFERS, 1.0 / len(links.preferred))
        return links

    def add_product(self, product: ProductFacts, plugin: InstrumentPlugin) -> ProductLinks:
        links = product_links(product, plugin)
        node = (PRODUCT, links.id)
        label = (f"产品: {product.name}", f"product: {product.name}")
        self._node(node, label)
        self.names[node] = label
        for code in links.categories:
            self._edge(node, (CATEGORY, code), TARGETS, 1.0)
        for code in links.regions:
            self._edge(node, (REGION, code), SERVES_REGION, 1.0)
        for tag, w in links.tags.items():
            self._edge(node, (TAG, tag), OFFERS_TAG, w)
        for stage, w in product_stage_weights(links).items():
            self._edge(node, (STAGE, stage), SERVES_STAGE, w)
        self._node((INSTRUMENT, links.instrument), (plugin.name_zh, plugin.name_en))
        self._edge(node, (INSTRUMENT, links.instrument), OF_INSTRUMENT, 1.0)
        if links.institution_id is not None:
            name = product.institution_name or f"#{links.institution_id}"
            inst = (INSTITUTION, links.institution_id)
            self._node(inst, (f"机构: {name}", f"institution: {name}"))
            self._edge(node, inst, OFFERED_BY, 1.0)
        return links

    def add_outcomes(self, outcomes: Iterable[Any]) -> None:
        """Financed engagements as ``product -financed-> project`` edges, each weighted
        1 / (projects the product financed). Outcomes naming an unknown node are ignored."""
        financed: dict[NodeKey, list[NodeKey]] = {}
        for outcome in outcomes:
            q, p = (PRODUCT, outcome.product_id), (PROJECT, outcome.project_id)
            if q in self.G and p in self.G and p not in financed.setdefault(q, []):
                financed[q].append(p)
        for q, targets in financed.items():
            for p in targets:
                self.G.add_edge(q, p, rel=FINANCED, weight=1.0 / len(targets))

    # -- reading -------------------------------------------------------------------------------
    def out(self, node: NodeKey, rel: str) -> list[tuple[NodeKey, float]]:
        succ = self.G.succ.get(node)
        if not succ:
            return []
        return [(v, d["weight"]) for v, d in succ.items() if d["rel"] == rel]

    def half_walk(self, start: NodeKey, steps: Sequence[Step]) -> dict[NodeKey, float]:
        """Meeting nodes reached from ``start`` along ``steps`` -> summed product of edge weights."""
        frontier: dict[NodeKey, float] = {start: 1.0}
        for i, (rel, mode) in enumerate(steps):
            nxt: dict[NodeKey, float] = {}
            if mode == "one":
                for node, w in frontier.items():
                    for v, ew in self.out(node, rel):
                        nxt[v] = nxt.get(v, 0.0) + w * ew
            elif mode == "star":
                stack = [(node, w, (node,)) for node, w in frontier.items()]
                while stack:
                    node, w, seen = stack.pop()
                    nxt[node] = nxt.get(node, 0.0) + w
                    stack.extend((v, w * ew, (*seen, v)) for v, ew in self.out(node, rel) if v not in seen)
            elif mode == "climb":
                until = steps[i + 1][0]
                for node, w in frontier.items():
                    current, weight, seen = node, w, {node}
                    while current is not None and not self.out(current, until):
                        ups = self.out(current, rel)
                        current, weight = (ups[0][0], weight * ups[0][1]) if ups else (None, 0.0)
                        if current in seen:  # a cycle (validate() reports it): stop climbing
                            current = None
                        seen.add(current)
                    if current is not None:
                        nxt[current] = nxt.get(current, 0.0) + weight
            else:  # pragma: no cover - programming error
                raise ValueError(mode)
            frontier = nxt
        return frontier

    def proximity(self, project_id: int, product_id: int, meta_path: str) -> float:
        """Proximity of a pair along one meta-path, by walking the graph."""
        p_steps, q_steps = META_PATHS[meta_path]
        left = self.half_walk((PROJECT, project_id), p_steps)
        if not left:
            return 0.0
        right = self.half_walk((PRODUCT, product_id), q_steps)
        return sum(w * right[n] for n, w in left.items() if n in right)

    def label(self, node: NodeKey, locale: str | None = "zh") -> str:
        data = self.G.nodes.get(node)
        zh, en = (data["label_zh"], data["label_en"]) if data else self.tax.label(node, self.names)
        return en if (locale or "zh").startswith("en") else zh

    # -- validation ----------------------------------------------------------------------------
    def validate(self) -> list[str]:
        """Structural problems, empty when the graph is sound: hierarchies acyclic and rooted,
        every project reaching the region root, every product with targets, an instrument and
        weights in (0, 1]."""
        problems: list[str] = []
        for rel in (BROADER, WITHIN):
            sub = self.G.edge_subgraph([(u, v) for u, v, r in self.G.edges(data="rel") if r == rel])
            if not nx.is_directed_acyclic_graph(sub):
                problems.append(f"the {rel} hierarchy has a cycle: {nx.find_cycle(sub)}")
        for u, v, data in self.G.edges(data=True):
            if not 0 < data["weight"] <= 1 + 1e-12:
                problems.append(f"edge {u}->{v} ({data['rel']}) has weight {data['weight']}")
        for node, kind in self.G.nodes(data="kind"):
            if kind == PROJECT and (REGION, REGION_ROOT) not in self.half_walk(node, META_PATHS["region"][0]):
                problems.append(f"{node} does not reach the national root")
            if kind == CATEGORY and node[1] != CATEGORY_ROOT and \
                    (CATEGORY, CATEGORY_ROOT) not in self.half_walk(node, ((BROADER, "star"),)):
                problems.append(f"{node} does not reach the catalogue root")
            if kind == PRODUCT:
                for rel in (TARGETS, SERVES_REGION, SERVES_STAGE, OF_INSTRUMENT):
                    if not self.out(node, rel):
                        problems.append(f"{node} has no {rel} edge")
        return problems
