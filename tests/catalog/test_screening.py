"""两高 and compliance screening, and the rule settings they read."""

from __future__ import annotations

from typing import Any

import pytest

from greenmatch import reference
from greenmatch.facts import ProjectFacts
from greenmatch.rules_settings import DEFAULT_RULES, RuleSettings
from greenmatch.screening import compliance, financing_vetoes, two_high, two_high_sector


def facts(**overrides: Any) -> ProjectFacts:
    base = {"name": "项目", "industry_code": "4416", "region_code": "320500", "stage": "operation",
            "total_investment_cny": 1e8, "financing_need_cny": 5e7,
            "compliance": {"eia_approved": True, "pollutant_permit": True}}
    return ProjectFacts.from_mapping({**base, **overrides})


# -- 两高 ---------------------------------------------------------------------------------------------


def test_new_coking_plant_is_flagged_with_a_specific_reason():
    result = two_high(facts(industry_code="2521", categories=[]))
    assert result.flag and result.sector == "chemicals" and not result.allowed_retrofit
    assert result.blocks_financing
    assert result.reason.en == ("industry 2521 炼焦 is a 两高 sector (chemicals: coking); no retrofit category "
                                "claimed — new capacity is not green")
    assert result.reason.zh == ("行业 2521 炼焦 属于“两高”行业（化工·焦化）；"
                                "未申报改造类目录类别——新增产能不属于绿色项目")


def test_steel_retrofit_is_flagged_but_allowed():
    result = two_high(facts(industry_code="3120", categories=["2.2.2"]))
    assert result.flag and result.sector == "steel" and result.allowed_retrofit and not result.blocks_financing
    assert "all claimed categories (2.2.2) are retrofit/transition items" in result.reason.en


def test_one_non_retrofit_category_makes_it_new_capacity():
    result = two_high(facts(industry_code="3120", categories=["2.2.2", "4.2.2"]))
    assert result.flag and not result.allowed_retrofit
    assert "categories 4.2.2 are not retrofit/transition items" in result.reason.en


@pytest.mark.parametrize(("code", "sector"), [
    ("4411", "coal_power"), ("4412", "coal_power"), ("D4411", "coal_power"),
    ("2511", "petrochemicals"), ("2519", "petrochemicals"),
    ("2611", "chemicals"), ("2614", "chemicals"), ("2619", "chemicals"), ("2621", "chemicals"),
    ("2622", "chemicals"), ("2651", "chemicals"), ("2521", "chemicals"), ("2522", "chemicals"), ("2523", "chemicals"),
    ("3110", "steel"), ("3120", "steel"), ("3130", "steel"), ("3140", "steel"),
    ("3211", "nonferrous_smelting"), ("3216", "nonferrous_smelting"), ("3221", "nonferrous_smelting"),
    ("3232", "nonferrous_smelting"),
    ("3011", "building_materials"), ("3012", "building_materials"), ("3041", "building_materials"),
    ("3071", "building_materials"), ("3031", "building_materials"), ("3033", "building_materials"),
    ("3089", "building_materials"),
    # coarse codes whose every class is 两高
    ("31", "steel"), ("311", "steel"), ("321", "nonferrous_smelting"), ("252", None),
])
def test_two_high_codes(code, sector):
    result = two_high(facts(industry_code=code))
    if sector is None:  # 252 also holds 2524 煤制品 and 2529, which are not 两高
        assert not result.flag
    else:
        assert result.flag and result.sector == sector


@pytest.mark.parametrize("code", ["4416", "4415", "2631", "2641", "3021", "3251", "3612", "26", "44", "441", "30",
                                  "bad", ""])
def test_not_two_high(code):
    result = two_high(facts(industry_code=code))
    assert not result.flag and result.reason is None and result.sector is None


def test_every_mapped_code_exists_in_gbt4754():
    for prefix, _ in DEFAULT_RULES.two_high_codes:
        assert reference.is_industry(prefix), prefix


def test_coal_power_reason_names_the_gas_caveat():
    assert "only the coal-fired part" in two_high(facts(industry_code="4411")).reason.en


@pytest.mark.parametrize("category", ["1.3.1", "1.4.1", "1.4.2", "1.4.3", "2.2.1", "2.2.2", "3.2.7"])
def test_transition_categories_allowed(category):
    assert two_high(facts(industry_code="3011", categories=[category])).allowed_retrofit


@pytest.mark.parametrize("category", ["1.3.4", "1.5.1", "4.2.2", "3.2.6"])
def test_hosted_activities_are_judged_as_their_own_activity(category):
    """Waste-heat recovery, CCUS, rooftop PV, co-processing at a cement plant add no 两高 capacity (the
    old behaviour flagged PV and co-processing as new capacity: that was the bug of issue #12)."""
    result = two_high(facts(industry_code="3011", categories=[category]))
    assert not result.flag and not result.blocks_financing and result.code == "two_high_none"


@pytest.mark.parametrize("category", ["1.5.2", "2.5.6", "1.1.18", "1.4"])
def test_other_categories_not_allowed(category):
    assert not two_high(facts(industry_code="3011", categories=[category])).allowed_retrofit


def test_transition_categories_are_a_setting():
    rules = RuleSettings.from_mapping({"transition_categories": ["2.5.6"]})
    assert two_high(facts(industry_code="3011", categories=["2.5.6"]), rules).allowed_retrofit
    assert not two_high(facts(industry_code="3011", categories=["2.2.2"]), rules).allowed_retrofit


def test_two_high_mapping_is_a_setting():
    rules = RuleSettings.from_mapping({"two_high_codes": {"2631": "chemicals"}})
    assert two_high_sector("2631", rules) == ("2631", "chemicals")
    assert two_high_sector("2521", rules) is None


# -- compliance -------------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", ["construction", "operation"])
def test_missing_eia_vetoes_credit_bonds_reits(stage):
    result = compliance(facts(stage=stage, compliance={"eia_approved": False, "pollutant_permit": True}))
    assert result.vetoed_instruments == {"green_credit", "green_bond", "reits"}
    assert not result.label_vetoed
    (veto,) = result.vetoes
    assert veto.code == "eia_missing"
    assert f"project in the {stage} stage without EIA approval" in veto.reason.en
    assert "green credit, green bonds, infrastructure REITs" in veto.reason.en
    assert "环评批复" in veto.reason.zh
    assert result.reasons_for("green_insurance") == [] and result.reasons_for("green_fund") == []


def test_unknown_eia_counts_as_missing_and_planning_is_not_vetoed():
    assert compliance(facts(stage="construction", compliance={})).vetoed_instruments
    assert not compliance(facts(stage="planning", compliance={})).vetoes
    assert not compliance(facts(stage="operation", compliance={"eia_approved": True, "pollutant_permit": True})).vetoes


def test_major_penalty_vetoes_the_label_and_green_credit_and_bonds():
    """Default veto (银监发〔2012〕4号, 银保监发〔2022〕15号); it used to veto the label only (the bug)."""
    result = compliance(facts(compliance={"eia_approved": True, "pollutant_permit": True,
                                          "major_env_penalty_3y": True}))
    assert result.label_vetoed and result.vetoed_instruments == {"green_credit", "green_bond"}
    assert "single fine of ¥500,000 or more" in result.vetoes[0].reason.en


def test_major_penalty_veto_can_be_softened_by_a_setting():
    rules = RuleSettings.from_mapping({"major_penalty_veto_instruments": []})
    result = compliance(facts(compliance={"eia_approved": True, "pollutant_permit": True,
                                          "major_env_penalty_3y": True}), rules)
    assert result.label_vetoed and not result.vetoed_instruments


@pytest.mark.parametrize(("fine", "major"), [(600_000, True), (500_000, True), (499_999, False)])
def test_major_penalty_threshold_from_the_largest_fine(fine, major):
    result = compliance(facts(compliance={"eia_approved": True, "pollutant_permit": True,
                                          "largest_env_fine_cny": fine}))
    assert result.label_vetoed is major


def test_major_penalty_threshold_and_instruments_are_settings():
    rules = RuleSettings.from_mapping({"major_penalty_fine_cny": 300_000,
                                       "major_penalty_veto_instruments": ["green_credit"]})
    result = compliance(facts(compliance={"eia_approved": True, "pollutant_permit": True,
                                          "largest_env_fine_cny": 400_000}), rules)
    assert result.label_vetoed and result.vetoed_instruments == {"green_credit"}
    assert "not eligible for green credit" in result.vetoes[0].reason.en


def test_financing_vetoes_combine_compliance_and_two_high():
    reasons = financing_vetoes(facts(industry_code="2521", stage="construction", compliance={}), "reits")
    assert len(reasons) == 2
    assert "EIA" in reasons[0].en and "infrastructure REITs cannot finance it" in reasons[1].en
    assert financing_vetoes(facts(industry_code="3120", categories=["2.2.2"]), "green_credit") == []


# -- settings -----------------------------------------------------------------------------------------


def test_defaults_carry_the_documented_factors():
    assert DEFAULT_RULES.grid_factor_t_per_mwh == 0.5306
    assert DEFAULT_RULES.coal_factor_t_per_tce == 2.493
    assert DEFAULT_RULES.major_penalty_fine_cny == 500_000
    assert DEFAULT_RULES.transition_categories == ("1.3", "1.4.1", "1.4.2", "1.4.3", "1.5.1", "2.2", "3.2.7")


def test_from_config_reads_the_rules_key():
    assert RuleSettings.from_config({"RULES": {"grid_factor_t_per_mwh": 0.5306}}).grid_factor_t_per_mwh == 0.5306
    assert RuleSettings.from_config({"GREENMATCH_RULES": {"label_yellow_min": 30}}).label_yellow_min == 30.0
    assert RuleSettings.from_config({}) == DEFAULT_RULES
    assert RuleSettings.from_config(None) == DEFAULT_RULES


@pytest.mark.parametrize(("overrides", "message"), [
    ({"grid_factor": 0.5}, "unknown RuleSettings setting"),
    ({"grid_factor_t_per_mwh": "0.5"}, "must be a number"),
    ({"grid_factor_t_per_mwh": True}, "must be a number"),
    ({"transition_categories": "1.3"}, "must be a list"),
    ({"grid_factor_source": 3}, "must be a string"),
])
def test_bad_overrides_are_refused(overrides, message):
    with pytest.raises(ValueError, match=message):
        RuleSettings.from_mapping(overrides)


def test_overrides_are_frozen_and_hashable():
    rules = RuleSettings.from_mapping({"transition_categories": ["1.3"], "grid_factor_by_region": [["13", 0.7252]]})
    assert rules.transition_categories == ("1.3",)
    assert rules.grid_factor_by_region == (("13", 0.7252),)
    hash(rules)
