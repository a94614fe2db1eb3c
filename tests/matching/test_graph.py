"""The matching graph: hierarchy edges, plugin tags, product targeting, outcomes, validation, and
agreement of the graph's meta-path walks with the bulk scorer's matrices."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from greenmatch.facts import ProductFacts, ProjectFacts
from greenmatch.instruments import InstrumentFit, InstrumentPlugin, ProductRequirements
from greenmatch.matching.engine import MatchEngine, Outcome
from greenmatch.matching.graph import (
    ACTIVITY_OF,
    BROADER,
    CATEGORY,
    CATEGORY_ROOT,
    FINANCED,
    HAS_TAG,
    INDUSTRY,
    INSTITUTION,
    INSTRUMENT,
    OFFERS_TAG,
    PRODUCT,
    PROJECT,
    REGION,
    REGION_ROOT,
    SERVES_REGION,
    SERVES_STAGE,
    STAGE,
    TAG,
    TARGETS,
    WITHIN,
)
from greenmatch.matching.network import MatchGraph
from greenmatch.matching.settings import PATH_COMPONENTS, MatchSettings
from greenmatch.text import Msg, render


class LoanPlugin(InstrumentPlugin):
    key = "green_credit"
    name_zh = "绿色信贷"
    name_en = "Green credit"

    def assess(self, project: ProjectFacts) -> InstrumentFit:
        return InstrumentFit(self.key, bool(project.categories), 0.7 if project.categories else 0.0,
                             (Msg("catalogue project"),))

    def project_tags(self, project: ProjectFacts) -> Mapping[str, float]:
        return {f"green_credit:collateral:{c}": 0.5 for c in project.collateral}

    def product_tags(self, params: Mapping[str, Any]) -> Mapping[str, float]:
        return {f"green_credit:collateral:{c}": 1.0 for c in params.get("accepted_collateral", [])}

    def product_requirements(self, params: Mapping[str, Any]) -> ProductRequirements:
        return ProductRequirements(frozenset(f"green_credit:collateral:{c}" for c in params.get("required", [])))


class CoverPlugin(InstrumentPlugin):
    key = "green_insurance"
    name_zh = "绿色保险"
    name_en = "Green insurance"

    def assess(self, project: ProjectFacts) -> InstrumentFit:
        return InstrumentFit(self.key, bool(project.risk_exposures), 0.8 if project.risk_exposures else 0.0)

    def project_tags(self, project: ProjectFacts) -> Mapping[str, float]:
        return {f"green_insurance:cover:{r}": 1.0 for r in project.risk_exposures}

    def product_tags(self, params: Mapping[str, Any]) -> Mapping[str, float]:
        return {f"green_insurance:cover:{c}": 2.0 for c in params.get("covers", [])}  # clipped to 1


PLUGINS = {"green_credit": LoanPlugin(), "green_insurance": CoverPlugin()}


DEFAULTS = {"industry_code": "4416", "region_code": "130702", "stage": "construction",
            "total_investment_cny": 2e8, "financing_need_cny": 1e8, "categories": ("4.2.2",)}


def project(pid: int, **kw: Any) -> ProjectFacts:
    return ProjectFacts(**{**DEFAULTS, "id": pid, "name": f"项目{pid}", **kw})


PV = project(1, name="光伏电站项目", collateral=("ccer",), certifications=("green_factory",),
             risk_exposures=("climate_catastrophe",), preferred_instruments=("green_credit",))
PRODUCTS = [
    ProductFacts("green_credit", {"regions": ["130000", "130700"], "categories": ["4.2", "4.2.2", "4"],
                                  "stages": ["construction"], "accepted_collateral": ["ccer", "receivables"]},
                 id=10, name="光伏贷", institution_id=3, institution_name="河北银行"),
    ProductFacts("green_credit", {}, id=11, name="绿色贷", institution_id=4),
    ProductFacts("green_insurance", {"covers": ["climate_catastrophe"]}, id=12, name="气象指数保险"),
    ProductFacts("unknown_instrument", {}, id=13, name="未安装"),
]


@pytest.fixture(scope="module")
def graph() -> MatchGraph:
    return MatchGraph.build([PV, project(2, categories=("1.1.1",), industry_code="3411")], PRODUCTS, PLUGINS,
                            [Outcome(10, 2), Outcome(10, 999), Outcome(13, 1)], reference=False)


def edge(g: MatchGraph, u: Any, v: Any) -> dict[str, Any]:
    assert g.G.has_edge(u, v), f"missing edge {u} -> {v}"
    return g.G.edges[u, v]


def test_category_hierarchy_up_to_the_root(graph: MatchGraph) -> None:
    s = graph.settings
    assert edge(graph, (CATEGORY, "4.2.2"), (CATEGORY, "4.2")) == {"rel": BROADER, "weight": s.category_up_decay}
    assert edge(graph, (CATEGORY, "4.2"), (CATEGORY, "4"))["weight"] == s.category_up_decay
    assert edge(graph, (CATEGORY, "4"), (CATEGORY, CATEGORY_ROOT))["weight"] == s.category_root_decay
    assert render(graph.G.nodes[(CATEGORY, "4.2.2")]["label"], "zh_CN") == "4.2.2 太阳能利用设施建设和运营"


def test_region_hierarchy_follows_the_code_prefixes(graph: MatchGraph) -> None:
    s = graph.settings
    assert edge(graph, (REGION, "130702"), (REGION, "130700")) == {"rel": WITHIN, "weight": s.region_up_decay}
    assert edge(graph, (REGION, "130700"), (REGION, "130000"))["weight"] == s.region_up_decay
    assert edge(graph, (REGION, "130000"), (REGION, REGION_ROOT))["weight"] == s.region_root_decay
    assert render(graph.G.nodes[(REGION, "130700")]["label"], "zh_CN") == "河北省张家口市"


def test_industry_hierarchy_and_catalogue_activity_edges(graph: MatchGraph) -> None:
    assert edge(graph, (INDUSTRY, "4416"), (INDUSTRY, "441"))["rel"] == WITHIN
    assert edge(graph, (INDUSTRY, "441"), (INDUSTRY, "44"))["rel"] == WITHIN
    activity = edge(graph, (INDUSTRY, "4416"), (CATEGORY, "4.2.2"))
    assert activity["rel"] == ACTIVITY_OF
    out = [v for v, d in graph.G.succ[(INDUSTRY, "4416")].items() if d["rel"] == ACTIVITY_OF]
    assert activity["weight"] == pytest.approx(1 / len(out))


def test_project_edges_include_fact_and_plugin_tags(graph: MatchGraph) -> None:
    p = (PROJECT, 1)
    assert edge(graph, p, (TAG, "certification:green_factory")) == {"rel": HAS_TAG, "weight": 1.0}
    assert edge(graph, p, (TAG, "collateral:ccer"))["rel"] == HAS_TAG
    assert edge(graph, p, (TAG, "green_credit:collateral:ccer"))["weight"] == 0.5
    assert edge(graph, p, (TAG, "green_insurance:cover:climate_catastrophe"))["weight"] == 1.0
    assert edge(graph, p, (CATEGORY, "4.2.2"))["weight"] == 1.0
    assert edge(graph, p, (REGION, "130702"))["weight"] == 1.0
    assert edge(graph, p, (INDUSTRY, "4416"))["weight"] == 1.0
    assert edge(graph, p, (STAGE, "construction"))["weight"] == 1.0
    assert edge(graph, p, (INSTRUMENT, "green_credit"))["weight"] == 1.0


def test_product_targeting_edges(graph: MatchGraph) -> None:
    q = (PRODUCT, 10)
    targets = {v for v, d in graph.G.succ[q].items() if d["rel"] == TARGETS}
    assert targets == {(CATEGORY, "4")}  # "4.2" and "4.2.2" are covered by "4": the broadest codes stay
    regions = {v for v, d in graph.G.succ[q].items() if d["rel"] == SERVES_REGION}
    assert regions == {(REGION, "130000")}
    assert edge(graph, q, (STAGE, "construction")) == {"rel": SERVES_STAGE, "weight": 1.0}
    tags = {v: d["weight"] for v, d in graph.G.succ[q].items() if d["rel"] == OFFERS_TAG}
    assert tags == {(TAG, "green_credit:collateral:ccer"): 0.5, (TAG, "green_credit:collateral:receivables"): 0.5}
    assert edge(graph, q, (INSTRUMENT, "green_credit"))["weight"] == 1.0
    assert edge(graph, q, (INSTITUTION, 3))["weight"] == 1.0
    assert render(graph.G.nodes[q]["label"], "zh_CN") == "产品: 光伏贷"


def test_untargeted_product_attaches_to_the_roots(graph: MatchGraph) -> None:
    q = (PRODUCT, 11)
    assert edge(graph, q, (CATEGORY, CATEGORY_ROOT))["rel"] == TARGETS
    assert edge(graph, q, (REGION, REGION_ROOT))["rel"] == SERVES_REGION
    stages = {v: d["weight"] for v, d in graph.G.succ[q].items() if d["rel"] == SERVES_STAGE}
    assert len(stages) == 3 and all(w == pytest.approx(1 / 3) for w in stages.values())
    assert edge(graph, (PRODUCT, 12), (TAG, "green_insurance:cover:climate_catastrophe"))["weight"] == 1.0
    assert (PRODUCT, 13) not in graph.G  # no plugin installed for it


def test_outcomes_become_financed_edges(graph: MatchGraph) -> None:
    assert edge(graph, (PRODUCT, 10), (PROJECT, 2)) == {"rel": FINANCED, "weight": 1.0}  # unknown project ignored
    assert not any(d["rel"] == FINANCED for _, _, d in graph.G.out_edges((PRODUCT, 11), data=True))


def test_validate_reports_a_sound_graph_and_catches_problems() -> None:
    g = MatchGraph.build([PV], PRODUCTS, PLUGINS, reference=True)
    assert g.validate() == []
    assert g.G.number_of_nodes() > 3220 + 318 + 1900  # every region, catalogue item and industry
    g.G.add_edge((CATEGORY, "4"), (CATEGORY, "4.2.2"), rel=BROADER, weight=0.5)
    g.G.add_node((PRODUCT, 99), kind=PRODUCT, label="x")
    g.G.add_edge((PRODUCT, 99), (TAG, "x"), rel=OFFERS_TAG, weight=1.5)
    problems = g.validate()
    assert any("cycle" in p for p in problems)
    assert any("weight 1.5" in p for p in problems)
    assert "('product', 99) has no targets edge" in problems


def test_meta_path_proximities(graph: MatchGraph) -> None:
    s = graph.settings
    assert graph.proximity(1, 10, "category") == pytest.approx(s.category_up_decay ** 2)  # 4.2.2 -> 4.2 -> 4
    assert graph.proximity(1, 11, "category") == pytest.approx(s.category_up_decay ** 2 * s.category_root_decay)
    assert graph.proximity(1, 10, "region") == pytest.approx(s.region_up_decay ** 2)  # 130702 -> 130700 -> 130000
    assert graph.proximity(1, 10, "tag") == pytest.approx(0.5 * 0.5)
    assert graph.proximity(1, 10, "preference") == 1.0
    assert graph.proximity(1, 10, "stage") == 1.0
    assert graph.proximity(1, 11, "stage") == pytest.approx(1 / 3)
    assert graph.proximity(1, 10, "outcome_industry") == 0.0  # project 2 is in 3411
    assert graph.proximity(2, 10, "outcome_category") == 1.0  # the financed project itself


def test_graph_walks_equal_the_scorer_components() -> None:
    """The bulk scorer's per-component points equal weight x the graph's meta-path proximity."""
    projects = [PV, project(2, categories=("4.2.2", "1.1.1"), region_code="110101", collateral=("ccer",)),
                project(3, categories=("4.2.1",), industry_code="4415", stage="operation")]
    outcomes = [Outcome(11, 3), Outcome(10, 1)]
    settings = MatchSettings(project_top_k=10)
    engine = MatchEngine(PLUGINS, settings)
    result = engine.run(projects, PRODUCTS, outcomes)
    g = engine.graph(projects, PRODUCTS, outcomes, reference=False)
    assert len(result) >= 4
    for m in result:
        components = m.components
        for name in PATH_COMPONENTS:
            expected = settings.weight(name) * g.proximity(m.project_id, m.product_id, name)
            assert components[name] == pytest.approx(expected, abs=1e-12), (m, name)
        assert sum(components.values()) == pytest.approx(m.score, abs=1e-9)


def test_graph_labels_and_reading_helpers(graph: MatchGraph) -> None:
    assert graph.label((CATEGORY, CATEGORY_ROOT), "en").startswith("Green Finance Endorsed Project Catalogue")
    assert graph.label((REGION, REGION_ROOT)) == "全国"
    assert graph.label((PROJECT, 1)) == "光伏电站项目"
    assert graph.label((INSTRUMENT, "green_credit"), "en") == "Green credit"
    assert graph.out((PROJECT, 1), "no_such_relation") == []
