"""The matching graph: what is connected to what, and with which weight.

This module is the single definition of the matching structure (hierarchies and labels of the
reference taxonomies: :mod:`greenmatch.matching.taxonomy`). The networkx graph
(:class:`greenmatch.matching.network.MatchGraph`) is built from it to model, validate and explain; the bulk scorer
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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from greenmatch.codes import category_covers, normalize_industry_code, region_covers
from greenmatch.facts import STAGES, ProductFacts, ProjectFacts
from greenmatch.instruments import InstrumentPlugin

from .settings import MatchSettings

if TYPE_CHECKING:
    from .taxonomy import Taxonomy

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
