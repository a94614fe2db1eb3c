"""The bulk scorer and the engine: hard rules equal ``plugin.check``, ranking, explanations,
determinism, chunking, incremental matching, streaming and settings."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from greenmatch.facts import CERTIFICATIONS, COLLATERAL, RISK_EXPOSURES, STAGES, ProductFacts, ProjectFacts
from greenmatch.instruments import InstrumentFit, InstrumentPlugin, ProductRequirements
from greenmatch.matching.engine import MatchEngine, Outcome
from greenmatch.matching.formulas import amount_fit, policy_score
from greenmatch.matching.hard_rules import hard_mask
from greenmatch.matching.product_index import ProductIndex
from greenmatch.matching.scorer import score_block
from greenmatch.matching.settings import MatchSettings
from greenmatch.text import Msg


class CreditPlugin(InstrumentPlugin):
    """Eligible with a category and no major penalty; products may require collateral, bound the
    revenue and the financing share."""

    key = "green_credit"
    name_zh = "绿色信贷"
    name_en = "Green credit"

    def assess(self, project: ProjectFacts) -> InstrumentFit:
        if not project.categories or project.compliance.get("major_env_penalty_3y"):
            return InstrumentFit(self.key, False, 0.0, (Msg("not a green loan case"),))
        fit = 0.5 + 0.1 * len(project.collateral) + (0.2 if project.stage == "operation" else 0.0)
        return InstrumentFit(self.key, True, fit, (Msg("catalogue project"),))

    def project_tags(self, project: ProjectFacts) -> Mapping[str, float]:
        tags = {f"green_credit:collateral:{c}": 0.5 for c in project.collateral}
        if project.stage == "planning":
            tags["green_credit:early"] = 0.0  # zero weight: no path, but still counts for requirements
        return tags

    def product_tags(self, params: Mapping[str, Any]) -> Mapping[str, float]:
        return {f"green_credit:collateral:{c}": 1.0 for c in params.get("accepted_collateral", [])}

    def product_requirements(self, params: Mapping[str, Any]) -> ProductRequirements:
        bounds: dict[str, tuple[float | None, float | None]] = {}
        if params.get("min_revenue") is not None:
            bounds["annual_revenue_cny"] = (params["min_revenue"], None)
        if params.get("max_share") is not None:
            bounds["share"] = (None, params["max_share"])
        return ProductRequirements(frozenset(params.get("required_tags", [])), bounds)

    def project_metrics(self, project: ProjectFacts) -> Mapping[str, float]:
        metrics = {"share": project.financing_need_cny / project.total_investment_cny}
        if project.annual_revenue_cny is not None:
            metrics["annual_revenue_cny"] = project.annual_revenue_cny
        return metrics


class InsurancePlugin(InstrumentPlugin):
    key = "green_insurance"
    name_zh = "绿色保险"
    name_en = "Green insurance"

    def assess(self, project: ProjectFacts) -> InstrumentFit:
        ok = bool(project.risk_exposures)
        return InstrumentFit(self.key, ok, 0.9 if ok else 0.0, (Msg("insurable risk"),))

    def project_tags(self, project: ProjectFacts) -> Mapping[str, float]:
        return {f"green_insurance:cover:{r}": 1.0 for r in project.risk_exposures}

    def product_tags(self, params: Mapping[str, Any]) -> Mapping[str, float]:
        return {f"green_insurance:cover:{c}": 1.0 for c in params.get("covers", [])}

    def product_requirements(self, params: Mapping[str, Any]) -> ProductRequirements:
        return ProductRequirements(frozenset(f"green_insurance:cover:{c}" for c in params.get("covers", [])))


PLUGINS = {"green_credit": CreditPlugin(), "green_insurance": InsurancePlugin()}


DEFAULTS = {"industry_code": "4416", "region_code": "130702", "stage": "construction",
            "total_investment_cny": 2e8, "financing_need_cny": 1e8, "categories": ("4.2.2",)}


def project(pid: int, **kw: Any) -> ProjectFacts:
    return ProjectFacts(**{**DEFAULTS, "id": pid, "name": f"项目{pid}", **kw})


def credit(qid: int, **params: Any) -> ProductFacts:
    return ProductFacts("green_credit", params, id=qid, name=f"贷款{qid}", institution_id=qid % 3)


# ---------------------------------------------------------------------------------------------
# hard rules == plugin.check, on random small inputs
# ---------------------------------------------------------------------------------------------
REGIONS = ["130000", "130700", "130702", "110000", "110101", "310000", "419001", "13", "1307", "999999", ""]
CATEGORIES = ["4.2.2", "4.2.1", "4.2", "4", "1.1.1", "1.1.10", "1.1", "9", "x.y"]
INDUSTRIES = ["4416", "D4416", "3411", "441", "99", "bad"]
STAGE_VALUES = [*STAGES, "unknown"]
AMOUNTS = st.one_of(st.none(), st.sampled_from([0.0, 1e5, 1e6, 5e6, 1e7, 1e8, 1e9]))


def often_empty(values: list[Any], max_size: int = 2) -> Any:
    """Rules a product may leave empty (most pairs would fail otherwise and the test would prove little)."""
    return st.one_of(st.just([]), st.lists(st.sampled_from(values), min_size=1, max_size=max_size))


def often_none(strategy: Any) -> Any:
    return st.one_of(st.none(), st.none(), strategy)


@st.composite
def projects_strategy(draw: Any, pid: int) -> ProjectFacts:
    investment = draw(st.sampled_from([1e6, 2e7, 3e8, 5e9]))
    return ProjectFacts(
        id=pid, name=f"p{pid}", industry_code=draw(st.sampled_from(INDUSTRIES)),
        region_code=draw(st.sampled_from(REGIONS)), stage=draw(st.sampled_from(STAGE_VALUES)),
        total_investment_cny=investment,
        financing_need_cny=draw(st.sampled_from([0.0, 1e5, 1e6, 1e7, 1e8, 1e9, investment])),
        categories=tuple(draw(st.lists(st.sampled_from(CATEGORIES), max_size=3))),
        annual_revenue_cny=draw(AMOUNTS),
        certifications=tuple(draw(st.lists(st.sampled_from(CERTIFICATIONS), max_size=2, unique=True))),
        collateral=tuple(draw(st.lists(st.sampled_from(COLLATERAL[:4]), max_size=2, unique=True))),
        risk_exposures=tuple(draw(st.lists(st.sampled_from(RISK_EXPOSURES[:3]), max_size=2, unique=True))),
        compliance={"major_env_penalty_3y": draw(st.sampled_from([False, False, False, True]))},
        preferred_instruments=tuple(draw(st.lists(st.sampled_from(list(PLUGINS)), max_size=1))),
    )


@st.composite
def products_strategy(draw: Any, qid: int) -> ProductFacts:
    instrument = draw(st.sampled_from(["green_credit", "green_credit", "green_insurance", "not_installed"]))
    params: dict[str, Any] = {
        "min_amount_cny": draw(often_none(AMOUNTS)), "max_amount_cny": draw(often_none(AMOUNTS)),
        "regions": draw(often_empty(REGIONS)),
        "categories": draw(often_empty(CATEGORIES)),
        "stages": draw(often_empty(STAGE_VALUES)),
    }
    if instrument == "green_credit":
        params["required_tags"] = draw(often_empty(
            [f"green_credit:collateral:{c}" for c in COLLATERAL[:4]] + ["green_credit:early"]))
        params["accepted_collateral"] = draw(st.lists(st.sampled_from(COLLATERAL[:4]), max_size=2))
        params["min_revenue"] = draw(often_none(AMOUNTS))
        params["max_share"] = draw(often_none(st.sampled_from([0.5, 0.8, 1.0])))
    else:
        params["covers"] = draw(often_empty(RISK_EXPOSURES[:3]))
    return ProductFacts(instrument, params, id=qid, name=f"q{qid}")


@st.composite
def scenarios(draw: Any) -> tuple[list[ProjectFacts], list[ProductFacts]]:
    n, m = draw(st.integers(1, 6)), draw(st.integers(1, 8))
    return ([draw(projects_strategy(i + 1)) for i in range(n)], [draw(products_strategy(100 + j)) for j in range(m)])


def score_project(engine: MatchEngine, project: ProjectFacts, index: ProductIndex) -> tuple[np.ndarray, np.ndarray]:
    """(product ids, scores) of every product the project passes the hard rules for, in id order."""
    pairs = score_block(engine.project_block([project]), index, engine.settings)
    return index.ids[pairs.qs], pairs.scores


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_hard_rules_decide_exactly_like_plugin_check(scenario: tuple[list[ProjectFacts], list[ProductFacts]]) -> None:
    projects, products = scenario
    engine = MatchEngine(PLUGINS, MatchSettings())
    index = engine.product_index(products)
    block = engine.project_block(projects)
    mask = hard_mask(block, index)
    for i, p in enumerate(projects):
        for j, q in enumerate(index.facts):
            assert mask[i, j] == PLUGINS[q.instrument].check(p, q).eligible, (p, q)
    assert {q.id for q in index.skipped} == {q.id for q in products if q.instrument not in PLUGINS}
    # and the scorer keeps exactly those pairs (min_score 0), with scores in [0, 1]
    pairs = score_project(engine, projects[0], index)
    expected = [q.id for j, q in enumerate(index.facts) if mask[0, j]]
    assert pairs[0].tolist() == expected
    assert all(0 <= s <= 1 for s in pairs[1])


# ---------------------------------------------------------------------------------------------
# ranking
# ---------------------------------------------------------------------------------------------
class OddTagsPlugin(InsurancePlugin):
    """Tags with every kind of weight a plugin might return: negative, zero, NaN, above 1, shared
    with another plugin's tag and with the facts' own tags."""

    key = "odd_tags"
    WEIGHTS = (-1.0, 0.0, float("nan"), 0.3, 1.0, 2.5)

    def project_tags(self, project: ProjectFacts) -> Mapping[str, float]:
        w = self.WEIGHTS
        tags = {f"green_insurance:cover:{r}": w[(project.id + i) % len(w)] for i, r in enumerate(project.risk_exposures)}
        tags.update({f"certification:{c}": w[(project.id + 2) % len(w)] for c in project.certifications})
        tags.update({f"odd:{c}": w[(project.id + len(c)) % len(w)] for c in project.categories})
        return tags


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=8, unique=True).flatmap(
    lambda ids: st.tuples(*[projects_strategy(i + 1) for i in ids])))
def test_block_arrays_equal_the_graph_definitions(projects: tuple[ProjectFacts, ...]) -> None:
    """The vectorised project side equals the per-project definitions of the graph module: the links
    (merged tags included) and every half-path weight."""
    from greenmatch.matching.graph import project_half_paths, project_links

    plugins = {**PLUGINS, "odd_tags": OddTagsPlugin()}
    engine = MatchEngine(plugins, MatchSettings())
    block = engine.project_block(list(projects))
    for row, p in enumerate(projects):
        expected = project_links(p, [pl.project_tags(p) for pl in plugins.values()], engine.settings)
        assert block.links(row) == expected
        halves = {(name, node): engine.settings.weight(name) * value
                  for name, nodes in project_half_paths(expected, engine.tax).items() for node, value in nodes.items()
                  if engine.settings.weight(name) > 0}
        start, stop = block.X.indptr[row], block.X.indptr[row + 1]
        got = {engine.features.keys[c]: v for c, v in zip(block.X.indices[start:stop], block.X.data[start:stop], strict=True)}
        assert got.keys() == halves.keys()
        assert all(math.isclose(got[k], halves[k], rel_tol=1e-12) for k in got)
        assert block.policy[row] == policy_score(p, engine.settings)
        for j, pl in enumerate(plugins.values()):
            result = pl.assess(p)
            assert block.eligible[row, j] == result.eligible
            assert block.fit[row, j] == min(1.0, max(0.0, result.fit))
            assert (block.fits[j][row] is not None) == result.eligible


def test_hebei_solar_product_outranks_an_unfocused_nationwide_product() -> None:
    pv = project(1, name="张家口光伏电站项目", region_code="130700", categories=("4.2.2",), industry_code="4416")
    hebei = credit(20, regions=["130000"], categories=["4.2"], min_amount_cny=1e7, max_amount_cny=1e9)
    nationwide = credit(10, min_amount_cny=1e7, max_amount_cny=1e9)  # lower id: wins ties, so no tie here
    matches = MatchEngine(PLUGINS).run([pv], [nationwide, hebei]).for_project(1)
    assert [m.product_id for m in matches] == [20, 10]
    assert matches[0].score > matches[1].score
    assert matches[0].paths[0].labels() == ["张家口光伏电站项目", "4.2.2 太阳能利用设施建设和运营",
                                          "4.2 清洁能源设施建设和运营", "产品: 贷款20"]
    assert any("河北省" in r.zh for r in matches[0].reasons)


def test_outcomes_raise_similar_projects() -> None:
    financed = project(1, categories=("4.2.2",), industry_code="4416")
    similar = project(2, categories=("4.2.2",), industry_code="4416", region_code="320102")
    other = project(3, categories=("1.1.1",), industry_code="3411", region_code="320102")
    a, b = credit(10), credit(11)  # identical products; only b financed project 1
    projects = [financed, similar, other]
    engine = MatchEngine(PLUGINS)
    without = engine.run(projects, [a, b])
    with_outcome = engine.run(projects, [a, b], [Outcome(11, 1, 5e7)])
    assert [m.product_id for m in without.for_project(2)] == [10, 11]  # a tie: the lower id first
    assert [m.product_id for m in with_outcome.for_project(2)] == [11, 10]
    top = with_outcome.for_project(2)[0]
    assert any(p.kind.startswith("outcome") for p in top.paths)
    assert any("同类项目" in r.zh for r in top.reasons)
    score = {m.key: m.score for m in with_outcome}
    assert score[(3, 11)] == score[(3, 10)]  # dissimilar project: no effect
    assert score[(2, 11)] > score[(2, 10)]
    assert [m.project_id for m in with_outcome.for_product(11)][:2] == [1, 2]


def test_policy_priority_and_amount_fit() -> None:
    s = MatchSettings()
    plain = project(1, region_code="320102")
    assert policy_score(plain, s) == 0
    assert policy_score(project(2, region_code="130702", certifications=("green_factory",)), s) == pytest.approx(0.7)
    assert policy_score(project(3, certifications=("zero_carbon_factory", "little_giant")), s) == 1.0  # capped
    params = {"min_amount_cny": 1e6, "max_amount_cny": 1e8}
    assert amount_fit(1e7, params, s) == pytest.approx(1.0)  # geometric centre
    assert amount_fit(1e6, params, s) == pytest.approx(s.amount_edge_fit)
    assert amount_fit(1e8, params, s) == pytest.approx(s.amount_edge_fit)
    assert amount_fit(1e7, {}, s) == s.amount_unbounded_fit
    assert amount_fit(1e7, {"min_amount_cny": 1e6}, s) == pytest.approx(1 - (1 - s.amount_edge_fit) * 0)
    assert amount_fit(0.0, params, s) == pytest.approx(s.amount_edge_fit)
    assert amount_fit(5e6, {"min_amount_cny": 5e6, "max_amount_cny": 5e6}, s) == 1.0


# ---------------------------------------------------------------------------------------------
# a random set used by the remaining tests
# ---------------------------------------------------------------------------------------------
def random_set(n: int = 120, m: int = 30, seed: int = 5) -> tuple[list[ProjectFacts], list[ProductFacts], list]:
    rng = np.random.default_rng(seed)
    regions = ["130702", "130700", "110101", "310104", "320102", "440305"]
    cats = ["4.2.2", "4.2.1", "1.1.1", "1.3.2", "2.3.5", "6.1.2"]
    projects = []
    for i in range(1, n + 1):
        projects.append(project(
            i, region_code=str(rng.choice(regions)), categories=tuple(rng.choice(cats, rng.integers(1, 3))),
            industry_code=str(rng.choice(["4416", "4415", "3411", "4620"])),
            stage=str(rng.choice(STAGES)), financing_need_cny=float(10 ** rng.uniform(5, 9)),
            total_investment_cny=2e9, collateral=tuple(rng.choice(COLLATERAL[:4], rng.integers(0, 3), replace=False)),
            risk_exposures=tuple(rng.choice(RISK_EXPOSURES[:3], rng.integers(0, 2), replace=False)),
            certifications=tuple(rng.choice(CERTIFICATIONS, rng.integers(0, 2), replace=False)),
            annual_revenue_cny=float(rng.uniform(0, 1e8))))
    products = []
    for j in range(1, m + 1):
        if j % 4 == 0:
            products.append(ProductFacts("green_insurance", {"covers": [str(rng.choice(RISK_EXPOSURES[:3]))]},
                                         id=1000 + j, name=f"保险{j}"))
            continue
        params: dict[str, Any] = {"min_amount_cny": float(10 ** rng.uniform(4, 6)) if j % 3 else None,
                                  "max_amount_cny": float(10 ** rng.uniform(8, 10)) if j % 5 else None,
                                  "regions": [str(rng.choice(["130000", "110000", "320000"]))] if j % 2 else [],
                                  "categories": [str(rng.choice(["4", "4.2", "1", "2.3.5"]))] if j % 3 else [],
                                  "accepted_collateral": [str(rng.choice(COLLATERAL[:4]))] if j % 5 == 1 else []}
        products.append(credit(1000 + j, **params))
    outcomes = [Outcome(1001, 3), Outcome(1001, 7), Outcome(1002, 9)]
    return projects, products, outcomes


def rows(result: Any) -> list[tuple]:
    return [(m.project_id, m.product_id, m.score, m.project_rank, m.product_rank) for m in result]


def test_every_kept_match_is_explained() -> None:
    projects, products, outcomes = random_set()
    result = MatchEngine(PLUGINS, MatchSettings(product_top_l=15)).run(projects, products, outcomes)
    assert len(result) > 100
    for m in result:
        assert m.paths and m.reasons, m
        assert 0 <= m.score <= 1
        for path in m.paths:
            assert path.nodes[0] == ("project", m.project_id) and path.nodes[-1] == ("product", m.product_id)
            assert len(path.parts) == len(path.nodes) == len(path.labels("en"))
            assert path.labels("zh")[-1].startswith("产品: ") and path.labels("en")[-1].startswith("product: ")
        assert [p.contribution for p in m.paths] == sorted((p.contribution for p in m.paths), reverse=True)
        assert sum(m.components.values()) == pytest.approx(m.score, abs=1e-9)
        shown = m.as_dict("en")
        assert shown["reasons"] and shown["explanation"]["paths"]
        assert m.project_rank is not None or m.product_rank is not None


def test_runs_are_deterministic_and_independent_of_chunking() -> None:
    projects, products, outcomes = random_set()
    base = MatchEngine(PLUGINS, MatchSettings(product_top_l=12, workers=1))
    reference = base.run(projects, products, outcomes)
    again = MatchEngine(PLUGINS, MatchSettings(product_top_l=12)).run(list(reversed(projects)), products[::-1],
                                                                     outcomes)
    assert rows(again) == rows(reference)
    for chunk in (1, 7, 50):
        assert rows(base.run(projects, products, outcomes, chunk_size=chunk)) == rows(reference)
    forked = MatchEngine(PLUGINS, MatchSettings(product_top_l=12, workers=2)).run(projects, products, outcomes,
                                                                                chunk_size=16)
    assert rows(forked) == rows(reference)
    assert [[p.labels("zh_CN") for p in m.paths] for m in forked] == [[p.labels("zh_CN") for p in m.paths] for m in reference]
    # ties break by score desc, then product id asc
    for pid in {p.id for p in projects}:
        ranked = reference.for_project(pid)
        assert [(-m.score, m.product_id) for m in ranked] == sorted((-m.score, m.product_id) for m in ranked)
        assert [m.project_rank for m in ranked] == list(range(1, len(ranked) + 1))


def test_top_lists_are_the_best_eligible_pairs() -> None:
    projects, products, outcomes = random_set()
    s = MatchSettings(project_top_k=5, product_top_l=7)
    engine = MatchEngine(PLUGINS, s)
    result = engine.run(projects, products, outcomes)
    index = engine.product_index(products, outcomes, projects)
    every: dict[tuple[int, int], float] = {}
    for p in projects:
        ids, scores = score_project(engine, p, index)
        every.update({(p.id, q): v for q, v in zip(ids.tolist(), scores.tolist(), strict=True)})
    for p in projects:
        expected = sorted((-v, q) for (pid, q), v in every.items() if pid == p.id)[:5]
        assert [m.product_id for m in result.for_project(p.id)] == [q for _, q in expected]
    for q in index.facts:
        expected = sorted((-v, pid) for (pid, qid), v in every.items() if qid == q.id)[:7]
        assert [m.project_id for m in result.for_product(q.id)] == [pid for _, pid in expected]
    assert result.stats.pairs_eligible == len(every)
    assert result.stats.pairs_considered == len(projects) * len(index)
    assert result.stats.matches == len(result) == len({m.key for m in result})


def test_incremental_matches_equal_the_full_run() -> None:
    projects, products, outcomes = random_set()
    engine = MatchEngine(PLUGINS, MatchSettings(product_top_l=9))
    result = engine.run(projects, products, outcomes)
    index = engine.product_index(products, outcomes, projects)
    for p in projects[:40]:
        incremental = engine.match_project(p, index)
        full = result.for_project(p.id)
        assert [(m.product_id, m.score, m.project_rank) for m in incremental] == \
            [(m.product_id, m.score, m.project_rank) for m in full]
        assert [m.paths for m in incremental] == [m.paths for m in full]
        assert [m.reasons for m in incremental] == [m.reasons for m in full]
    project_index = engine.project_index(projects)
    by_product: dict[int, list] = {}
    for o in outcomes:
        by_product.setdefault(o.product_id, []).append(o)
    for q in products:
        found = engine.match_product(q, project_index, by_product.get(q.id, ()), projects)
        assert [(m.project_id, m.score) for m in found] == \
            [(m.project_id, m.score) for m in result.for_product(q.id)], q.id
        assert all(m.product_rank == i + 1 for i, m in enumerate(found))


def test_a_failure_mid_run_stops_the_stream() -> None:
    projects, products, outcomes = random_set()
    engine = MatchEngine(PLUGINS, MatchSettings(workers=2))
    seen: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        seen.append((done, total))
        if done > total // 2 + 30:
            raise RuntimeError("injected failure")

    run = engine.start(projects, products, outcomes, progress=progress, chunk_size=20)
    batches = []
    with pytest.raises(RuntimeError, match="injected failure"):
        for batch in run:
            batches.append(batch)
    assert 0 < len(batches) < run.stats.chunks
    assert seen[0] == (0, 2 * len(projects)) and seen[-1][0] > len(projects)
    with pytest.raises(RuntimeError):
        iter(run)  # a run is iterated once

    consumed = []
    run = engine.start(projects, products, outcomes, chunk_size=20)
    for batch in run:
        consumed.append(batch.number)
        if len(consumed) == 2:
            break  # the consumer may stop (e.g. its database write failed): nothing else happens
    assert consumed == [0, 1]


def test_batches_hold_complete_rows_per_chunk() -> None:
    projects, products, outcomes = random_set()
    engine = MatchEngine(PLUGINS, MatchSettings(product_top_l=10))
    run = engine.start(projects, products, outcomes, chunk_size=25)
    numbers, ids = [], []
    for batch in run:
        numbers.append(batch.number)
        assert {m.project_id for m in batch.matches} <= set(batch.project_ids.tolist())
        ids += batch.project_ids.tolist()
        keys = [(m.project_id, -m.score, m.product_id) for m in batch.matches]
        assert keys == sorted(keys)
    assert numbers == list(range(len(numbers))) and sorted(ids) == sorted(p.id for p in projects)
    stats = run.stats.as_dict()
    assert stats["matches"] == run.stats.matches and stats["duration_ms"] >= 0 and stats["chunks"] == 5


def test_input_errors_and_skipped_products() -> None:
    engine = MatchEngine(PLUGINS)
    with pytest.raises(ValueError, match="project ids"):
        engine.run([project(1), project(1)], [credit(1)])
    with pytest.raises(ValueError, match="id"):
        engine.run([ProjectFacts("x", "4416", "130702", "planning", 1.0, 1.0)], [credit(1)])
    result = engine.run([project(1)], [credit(1), ProductFacts("not_installed", {}, id=2)])
    assert result.stats.products == 1 and result.stats.products_skipped == 1
    assert engine.run([], [credit(1)]).stats.matches == 0
    assert len(engine.run([project(1)], [])) == 0
    assert engine.match_product(ProductFacts("not_installed", {}, id=3), engine.project_index([project(1)])) == []


def test_settings_from_config() -> None:
    s = MatchSettings.from_config({"W_CATEGORY": 2.0, "project_top_k": 5})
    assert s.project_top_k == 5
    assert math.isclose(sum(s.weights.values()), 1.0)
    assert s.w_category == pytest.approx(2.0 / (2.0 + 1 - 0.22))
    with pytest.raises(ValueError, match="unknown matching setting"):
        MatchSettings.from_config({"w_categroy": 1})
    with pytest.raises(ValueError):
        MatchSettings(region_up_decay=1.5)
    with pytest.raises(ValueError):
        MatchSettings(w_amount=-1)
    assert MatchSettings.from_config(None) == MatchSettings()
    assert dict(MatchSettings(policy_certifications={"green_park": 1.0}).policy_certifications) == {"green_park": 1.0}
    assert MatchSettings().replace(workers=1).workers == 1


def test_min_score_drops_weak_pairs() -> None:
    projects, products, outcomes = random_set(n=40)
    everything = MatchEngine(PLUGINS).run(projects, products, outcomes)
    cut = sorted(m.score for m in everything)[len(everything) // 2]
    strict = MatchEngine(PLUGINS, MatchSettings(min_score=cut)).run(projects, products, outcomes)
    assert strict and all(m.score >= cut for m in strict)
    assert len(strict) < len(everything)


def test_project_index_built_in_workers_equals_the_serial_one() -> None:
    projects, products, outcomes = random_set()
    serial = MatchEngine(PLUGINS, MatchSettings(workers=1, chunk_size=30))
    forked = MatchEngine(PLUGINS, MatchSettings(workers=2, chunk_size=30))
    a, b = serial.project_index(projects), forked.project_index(projects)
    assert a.ids.tolist() == b.ids.tolist() == sorted(p.id for p in projects)
    for q in products[:8]:
        assert [(m.project_id, m.score) for m in serial.match_product(q, a)] == \
            [(m.project_id, m.score) for m in forked.match_product(q, b)]


class CountingInsurance(InsurancePlugin):
    """Counts ``assess`` calls per project."""

    def __init__(self) -> None:
        self.assessed: list[int] = []

    def assess(self, project: ProjectFacts) -> InstrumentFit:
        self.assessed.append(project.id)
        return super().assess(project)


def test_a_full_run_asks_a_plugin_only_about_projects_one_of_its_products_could_take() -> None:
    """The rules needing no plugin (region, amount, stage, category) prune before ``assess`` runs;
    the results equal those of a block assessed in full."""
    insurance = CountingInsurance()
    plugins = {"green_credit": PLUGINS["green_credit"], "green_insurance": insurance}
    hebei = [project(i, region_code="130702", risk_exposures=("pollution_liability",)) for i in range(1, 5)]
    beijing = [project(i, region_code="110101", risk_exposures=("pollution_liability",)) for i in range(5, 9)]
    small = [project(9, region_code="130702", financing_need_cny=1e3, risk_exposures=("pollution_liability",))]
    products = [ProductFacts("green_insurance", {"regions": ["130000"], "min_amount_cny": 1e6}, id=50, name="冀保"),
                credit(51)]
    engine = MatchEngine(plugins, MatchSettings(workers=1))
    result = engine.run(hebei + beijing + small, products)
    assert sorted(insurance.assessed) == [1, 2, 3, 4]  # Beijing: out of region; project 9: below the amount
    assert sorted(m.project_id for m in result.for_product(50)) == [1, 2, 3, 4]
    index = engine.product_index(products)
    full = engine.project_block(hebei + beijing + small)
    assert hard_mask(full, index).tolist() == [[p.id <= 4, True] for p in (hebei + beijing + small)]
    assert [(m.project_id, m.product_id, m.score) for m in engine.run(hebei + beijing + small, index)] == \
        [(m.project_id, m.product_id, m.score) for m in result]


def test_automatic_workers_follow_the_project_count(monkeypatch: pytest.MonkeyPatch) -> None:
    from greenmatch.matching import workers

    monkeypatch.setattr(workers.os, "cpu_count", lambda: 8)
    auto = MatchSettings()
    assert workers.worker_count(auto, 5_000, 10) == 1
    assert workers.worker_count(auto, 25_000, 30) == 2
    assert workers.worker_count(auto, 1_000_000, 3) == 3  # never more than the chunks
    assert workers.worker_count(auto, 1_000_000, 1000) == 4
    assert workers.worker_count(MatchSettings(workers=2), 10, 5) == 2
    monkeypatch.setattr(workers.os, "cpu_count", lambda: 2)
    assert workers.worker_count(auto, 1_000_000, 1000) == 2
