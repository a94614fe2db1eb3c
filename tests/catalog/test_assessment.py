"""The project assessment: categories, carbon estimate, greenwashing signals, score, label, API shape."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from greenmatch import reference
from greenmatch.carbon import estimate_carbon
from greenmatch.catalog.assessment import SCORE_FORMULA, assess, score_formula
from greenmatch.facts import ProjectFacts
from greenmatch.greenwashing import GREENWASHING_SIGNALS, category_fits_industry, greenwashing_signals
from greenmatch.instruments import InstrumentFit, InstrumentPlugin, load_plugins
from greenmatch.rules_settings import DEFAULT_RULES, RuleSettings
from greenmatch.text import Msg, render, to_json

CLEAN_PV: dict[str, Any] = {
    "name": "分布式光伏电站", "description": "屋顶光伏发电", "industry_code": "4416", "region_code": "320500",
    "stage": "operation", "categories": ["4.2.2"], "total_investment_cny": 400_000, "financing_need_cny": 300_000,
    "annual_revenue_cny": 60_000, "benefits": {"renewable_generation_mwh": 100},
    "compliance": {"eia_approved": True, "pollutant_permit": True, "env_penalties_3y": 0},
}


def facts(**overrides: Any) -> ProjectFacts:
    return ProjectFacts.from_mapping({**CLEAN_PV, **overrides})


def run(project: ProjectFacts, **kwargs: Any):
    kwargs.setdefault("classifier", None)
    return assess(project, **kwargs)


# -- carbon ---------------------------------------------------------------------------------------------


def test_pv_100_mwh_is_exactly_100_times_the_grid_factor():
    carbon = estimate_carbon(facts())
    assert carbon.co2_reduction_t == 100 * DEFAULT_RULES.grid_factor_t_per_mwh
    assert carbon.basis == "estimated" and carbon.declared_t is None
    assert "0.5306 tCO2/MWh" in carbon.method.en and "MEE/NBS" in carbon.method.en and "100.00 MWh" in carbon.method.en
    assert run(facts()).as_dict()["carbon"]["co2_reduction_t"] == 100 * 0.5306


def test_configured_grid_factor_is_used_exactly():
    rules = RuleSettings.from_config({"RULES": {"grid_factor_t_per_mwh": 0.5306}})
    assert estimate_carbon(facts(), rules).co2_reduction_t == 100 * 0.5306
    assert "0.5306" in estimate_carbon(facts(), rules).method.en


def test_regional_factor_overrides_the_national_one():
    rules = RuleSettings.from_mapping({"grid_factor_by_region": [["13", 0.7252]]})
    assert estimate_carbon(facts(region_code="130100"), rules).co2_reduction_t == 100 * 0.7252
    assert estimate_carbon(facts(region_code="320500"), rules).co2_reduction_t == 100 * 0.5306


def test_energy_saving_and_generation_add_up_with_both_factors_stated():
    carbon = estimate_carbon(facts(benefits={"renewable_generation_mwh": 100, "energy_saving_tce": 10}))
    assert carbon.co2_reduction_t == pytest.approx(53.06 + 24.93)
    assert carbon.factors == {"grid_t_co2_per_mwh": 0.5306, "coal_t_co2_per_tce": 2.493}
    assert "2.493 tCO2/tce" in carbon.method.en and "吨标准煤" in carbon.method.zh


def test_declared_and_estimated_are_both_reported():
    carbon = estimate_carbon(facts(benefits={"renewable_generation_mwh": 100, "co2_reduction_t": 80}))
    assert carbon.co2_reduction_t == pytest.approx(53.06) and carbon.estimated_t == pytest.approx(53.06) and carbon.declared_t == 80
    assert "Declared by the enterprise: 80.00 tCO2 (not verified)" in carbon.method.en
    data = carbon.as_dict("en")
    assert data["declared_co2_reduction_t"] == 80 and data["estimated_co2_reduction_t"] == pytest.approx(53.06)


def test_declared_only_and_nothing():
    declared = estimate_carbon(facts(benefits={"co2_reduction_t": 80}))
    assert declared.basis == "declared" and declared.co2_reduction_t == 80 and declared.estimated_t is None
    nothing = estimate_carbon(facts(benefits={}))
    assert nothing.basis == "none" and nothing.co2_reduction_t is None
    assert "no quantified benefit" in nothing.method.en


# -- greenwashing signals ---------------------------------------------------------------------------------


def test_registry_has_the_five_documented_rules():
    assert list(GREENWASHING_SIGNALS) == ["category_industry_mismatch", "implausible_benefit",
                                          "renewable_without_generation_category",
                                          "generation_category_without_generation", "two_high_capacity_claims_green",
                                          "whole_firm_on_small_project", "financing_exceeds_investment"]
    for rule in GREENWASHING_SIGNALS.values():
        assert rule.__doc__ and rule.__name__ in GREENWASHING_SIGNALS


def test_clean_project_raises_no_signal():
    assert greenwashing_signals(facts()) == []


@pytest.mark.parametrize(("industry", "category"), [
    ("4416", "4.2.2"),  # PV plant
    ("3120", "2.2.2"),  # ultra-low-emission retrofit (4862 engineering) in a steel plant
    ("3120", "1.4.1"),  # energy-saving retrofit (4861) in a steel plant
    ("3110", "3.2.7"),  # waste-gas recovery in an ironworks
    ("2614", "1.5.1"),  # CCUS at a chemical plant
    ("3443", "4.1.9"),  # hydrogen equipment maker
    ("3891", "4.2.2"),  # rooftop PV on a factory (4875 solar works are hosted)
    ("0220", "5.1.9"),  # afforestation
    ("3021", "1.1.18"),  # green building materials, same division
    ("2511", "1.4.3"),  # digital upgrade (6531 / 4840) at a refinery
])
def test_consistent_categories(industry, category):
    assert category_fits_industry(category, industry) is True
    gen = {"renewable_generation_mwh": 100} if category == "4.2.2" else {}
    assert greenwashing_signals(facts(industry_code=industry, categories=[category], benefits=gen)) == []


@pytest.mark.parametrize(("industry", "category"), [
    ("1711", "4.1.2"),  # a cotton mill claiming solar-equipment manufacturing
    ("3120", "4.1.2"),  # a steel plant claiming it too
    ("2614", "5.1.9"),  # a chemical plant claiming forestry
    ("3411", "8.5.2"),  # a boiler maker claiming equipment trade
])
def test_category_industry_mismatch(industry, category):
    (signal,) = greenwashing_signals(facts(industry_code=industry, categories=[category], benefits={}))
    assert signal.code == "category_industry_mismatch"
    assert category in signal.message.en and industry in signal.message.en
    assert "do not fit the project's industry" in signal.message.en


def test_unknown_category_is_reported_and_unjudgeable_items_are_not():
    (signal,) = greenwashing_signals(facts(categories=["4.2.2", "9.9.9"]))
    assert "9.9.9 not level-3 items" in signal.message.en
    assert category_fits_industry("9.1.1", "1711") is None  # the catalogue names no activity code
    assert category_fits_industry("4.2.2", "") is None


def test_implausible_benefit():
    claim = facts(benefits={"co2_reduction_t": 100_000, "renewable_generation_mwh": 100},
                  total_investment_cny=1_000_000, financing_need_cny=500_000)
    codes = [(s.code, s.severity) for s in greenwashing_signals(claim)]
    assert codes == [("implausible_benefit", "block")]  # 1,000 t/¥10k is 100x the PV ceiling
    message = greenwashing_signals(claim)[0].message.en
    assert "1,000.0 t per ¥10k invested" in message and "more than 10 t per ¥10k" in message


def test_implausible_benefit_ceiling_depends_on_the_category():
    # 20 tCO2 per ¥10k: implausible for PV (ceiling 10), plausible for a waste-heat retrofit (ceiling 50)
    pv = facts(benefits={"co2_reduction_t": 2_000, "renewable_generation_mwh": 100}, total_investment_cny=1_000_000,
               financing_need_cny=500_000)
    heat = facts(industry_code="3011", categories=["1.3.4"], benefits={"co2_reduction_t": 2_000},
                 total_investment_cny=1_000_000, financing_need_cny=500_000)
    assert [(s.code, s.severity) for s in greenwashing_signals(pv)] == [("implausible_benefit", "warning")]
    assert greenwashing_signals(heat) == []
    rules = RuleSettings.from_mapping({"max_co2_t_per_10k_cny": 15})
    assert [s.code for s in greenwashing_signals(heat, rules)] == ["implausible_benefit"]


def test_implausible_benefit_uses_the_estimate_too():
    cheap = facts(benefits={"energy_saving_tce": 1_000}, industry_code="3011", categories=["1.3.4"],
                  total_investment_cny=200_000, financing_need_cny=100_000)
    assert [s.code for s in greenwashing_signals(cheap)] == ["implausible_benefit"]


def test_renewable_without_generation_category():
    (signal,) = greenwashing_signals(facts(industry_code="3120", categories=["2.2.2"]))
    assert signal.code == "renewable_without_generation_category"
    assert "100 MWh/yr" in signal.message.en
    assert greenwashing_signals(facts(industry_code="7020", categories=["6.1.5"])) == []


def test_generation_categories_cover_every_generation_item_of_the_catalogue():
    generation_classes = {"4413", "4414", "4415", "4416", "4417", "4419"}
    from greenmatch.screening import covered

    for cat in reference.catalogue().values():
        if cat.level == 3 and generation_classes & set(cat.activity_codes) and cat.code != "4.3.2":
            assert covered([cat.code], DEFAULT_RULES.generation_categories), cat.code


@pytest.mark.parametrize(("certs", "description", "fires"), [
    (["green_factory"], "屋顶光伏", True),
    ([], "全厂绿色化改造的一部分", True),
    ([], "屋顶光伏", False),
    (["high_tech"], "屋顶光伏", False),  # not a firm-level green credential
])
def test_whole_firm_on_small_project(certs, description, fires):
    small = facts(annual_revenue_cny=2_000_000_000, certifications=certs, description=description)
    codes = [s.code for s in greenwashing_signals(small)]
    assert ("whole_firm_on_small_project" in codes) is fires
    if fires:
        message = next(s for s in greenwashing_signals(small)).message.en
        assert "0.0% of annual revenue" in message and "not the firm" in message


def test_whole_firm_silent_when_the_project_is_a_real_share():
    big = facts(annual_revenue_cny=5_000_000, certifications=["green_factory"])  # investment = 8% of revenue
    assert greenwashing_signals(big) == []


def test_financing_exceeds_investment():
    (signal,) = greenwashing_signals(facts(financing_need_cny=500_000))
    assert signal.code == "financing_exceeds_investment"
    assert "¥500,000 exceeds the total investment ¥400,000" in signal.message.en
    assert greenwashing_signals(facts(financing_need_cny=400_000)) == []


# -- categories -------------------------------------------------------------------------------------------


@dataclass
class Suggestion:
    code: str
    name_zh: str
    name_en: str
    confidence: float


def test_category_sources_and_confidence():
    result = run(facts(categories=["4.2.2", "1.1.1"]), category_sources={"4.2.2": "confirmed"})
    by_code = {c.code: c for c in result.categories}
    assert by_code["4.2.2"].source == "confirmed" and by_code["4.2.2"].confidence == 1.0
    assert by_code["1.1.1"].source == "declared" and by_code["1.1.1"].confidence == 0.4  # mismatch
    assert run(facts()).categories[0].confidence == 0.8
    with pytest.raises(ValueError, match="unknown category sources"):
        run(facts(), category_sources={"4.2.2": "guessed"})


def test_suggestions_from_an_injected_classifier():
    calls = []

    def classifier(name, description, industry_code=None, limit=5):
        calls.append((name, description, industry_code, limit))
        return [Suggestion("4.2.2", "", "", 0.9), Suggestion("4.3.7", "", "", 0.6),
                Suggestion("4.3.2", "", "", 0.05), Suggestion("nonsense", "", "", 0.9)]

    result = run(facts(), classifier=classifier)
    assert calls == [("分布式光伏电站", "屋顶光伏发电", "4416", 3)]
    assert [(c.code, c.source) for c in result.categories] == [("4.2.2", "declared"), ("4.3.7", "suggested")]
    suggested = result.categories[1]
    assert suggested.name_zh == reference.catalogue()["4.3.7"].name_zh and suggested.confidence == 0.6
    # suggestions never count toward the score
    assert result.green_score == run(facts()).green_score


def test_failing_classifier_does_not_break_the_assessment():
    def broken(*args, **kwargs):
        raise RuntimeError("model missing")

    assert [c.source for c in run(facts(), classifier=broken).categories] == ["declared"]


# -- score and label ---------------------------------------------------------------------------------------


def test_clean_declared_pv_is_dark_green_and_confirmation_adds_points():
    declared = run(facts())
    assert declared.green_score == 80 and declared.label == "dark_green"
    confirmed = run(facts(), category_sources={"4.2.2": "confirmed"})
    assert confirmed.green_score == 90 and confirmed.label == "dark_green"
    assert sum(i.points for i in declared.score_breakdown) == 80


def test_breakdown_explains_each_component():
    items = {i.key: i for i in run(facts()).score_breakdown}
    assert items["category"].points == 35 and "√√" in items["category"].reason.en
    assert items["verification"].points == 5
    assert items["benefits"].points == 20 and items["certifications"].points == 0
    assert items["compliance"].points == 20


def test_signal_penalty_and_dark_green_cap():
    flagged = run(facts(financing_need_cny=500_000, certifications=["green_design_product", "zero_carbon_factory"]))
    assert [s.code for s in flagged.greenwashing_signals] == ["financing_exceeds_investment"]
    # 80 + 10 certifications - 10 penalty = 80, capped below dark green
    assert flagged.green_score == 79 and flagged.label == "light_green"
    assert "dark green withheld" in flagged.label_reason.en


def test_two_high_new_capacity_is_red():
    coking = run(facts(industry_code="2521", categories=[], benefits={}))
    assert coking.label == "red" and coking.green_score < 40
    assert "new capacity is not green" in coking.label_reason.en


def test_two_high_retrofit_is_not_forced_red():
    retrofit = run(facts(industry_code="3120", categories=["1.4.1"], benefits={"energy_saving_tce": 10}))
    assert retrofit.two_high.flag and retrofit.two_high.allowed_retrofit
    assert retrofit.label != "red"


def test_major_penalty_is_red_even_for_a_strong_project():
    project = facts(compliance={"eia_approved": True, "pollutant_permit": True, "major_env_penalty_3y": True})
    result = run(project, category_sources={"4.2.2": "confirmed"})
    assert result.label == "red" and result.green_score == 39
    assert "major environmental penalty" in result.label_reason.en
    compliance_item = next(i for i in result.score_breakdown if i.key == "compliance")
    assert compliance_item.points == 15 and "major environmental penalty" in compliance_item.reason.en


def test_no_category_is_at_most_yellow():
    result = run(facts(categories=[], certifications=["green_factory", "zero_carbon_factory"],
                       benefits={"renewable_generation_mwh": 0, "water_saving_t": 1000}))
    assert result.label in ("yellow", "red") and result.green_score <= 59


def test_label_thresholds_are_settings():
    rules = RuleSettings.from_mapping({"label_dark_green_min": 85})
    assert run(facts(), settings=rules).label == "light_green"


def test_formula_is_published_and_consistent():
    assert sum(c["max_points"] for c in SCORE_FORMULA["components"]) == 100
    assert SCORE_FORMULA["labels"] == {"dark_green": 80, "light_green": 60, "yellow": 40, "red": 0}
    assert "√√" in render(SCORE_FORMULA["components"][0]["text"], "en")
    assert render(SCORE_FORMULA["text"], "zh_CN").startswith("得分 = 目录类别")
    custom = score_formula(RuleSettings.from_mapping({"label_yellow_min": 30}))
    assert custom["labels"]["yellow"] == 30 and custom["caps"][0]["max_score"] == 29
    json.dumps(to_json(SCORE_FORMULA), ensure_ascii=False)


# -- instruments and the API shape ------------------------------------------------------------------------


class Exploding(InstrumentPlugin):
    key = "exploding"
    name_zh = name_en = "exploding"

    def assess(self, project: ProjectFacts) -> InstrumentFit:
        raise ZeroDivisionError


class Always(InstrumentPlugin):
    key = "always"
    name_zh = name_en = "always"

    def assess(self, project: ProjectFacts) -> InstrumentFit:
        return InstrumentFit(self.key, True, 0.5, (Msg("fine"),))


def test_one_entry_per_plugin_in_order_and_a_broken_plugin_is_contained(caplog):
    result = run(facts(), plugins={"always": Always(), "exploding": Exploding()})
    assert [f.instrument for f in result.instruments] == ["always", "exploding"]
    broken = result.instrument("exploding")
    assert not broken.eligible and "plugin error (ZeroDivisionError)" in broken.reasons[0].en
    assert "exploding" in caplog.text


def test_as_dict_follows_the_api_contract():
    plugins = load_plugins(["green_credit", "green_bond", "reits", "green_insurance", "green_fund"]).plugins
    data = run(facts(), plugins=plugins).as_dict("zh")
    assert {"categories", "two_high", "greenwashing_signals", "carbon", "green_score", "label",
            "instruments"} <= set(data)
    assert set(data["categories"][0]) >= {"code", "name_zh", "source", "confidence"}
    assert set(data["two_high"]) >= {"flag", "reason"}
    assert set(data["carbon"]) >= {"co2_reduction_t", "method"}
    assert isinstance(data["green_score"], int) and 0 <= data["green_score"] <= 100
    assert data["label"] in ("dark_green", "light_green", "yellow", "red")
    assert [i["instrument"] for i in data["instruments"]] == list(plugins)
    for item in data["instruments"]:
        assert set(item) == {"instrument", "eligible", "fit", "reasons", "missing"} and 0 <= item["fit"] <= 1
        assert (item["missing"] == []) is item["eligible"]
        assert all(isinstance(r, str) for r in item["reasons"])
    json.dumps(data, ensure_ascii=False)


def test_as_dict_speaks_the_callers_language():
    coking = run(facts(industry_code="2521", categories=[], benefits={}))
    assert "new capacity is not green" in coking.as_dict("en")["two_high"]["reason"]
    assert "新增产能" in coking.as_dict("zh")["two_high"]["reason"]
    signals = run(facts(financing_need_cny=500_000)).as_dict("en")["greenwashing_signals"]
    assert signals == [{"code": "financing_exceeds_investment",
                        "message": "financing need ¥500,000 exceeds the total investment ¥400,000: the excess "
                                   "cannot go to the green project", "severity": "warning"}]


def test_default_classifier_is_optional():
    # AUTO uses greenmatch.catalog.classifier when importable; either way the assessment works
    assert assess(facts()).categories[0].code == "4.2.2"
