"""The outcomes the domain rules promise, across all five built-in instruments (shared/domain.md)."""

from __future__ import annotations

import datetime as dt

import pytest

from greenmatch.facts import ProductFacts

THIS_YEAR = dt.date.today().year

FINANCING = ("green_credit", "green_bond", "reits", "green_fund")


def texts(fit, locale="en"):
    return " | ".join(r.text(locale) for r in fit.reasons)


def test_new_two_high_capacity_gets_no_financing_only_pollution_liability(project, builtin_plugins):
    coking = project("new_coking_plant")
    fits = {k: p.assess(coking) for k, p in builtin_plugins.items()}
    for key in FINANCING:
        assert not fits[key].eligible, key
        assert fits[key].fit == 0
        reasons = texts(fits[key])
        assert "2521" in reasons and "炼焦" in reasons and "两高" in reasons
        assert "new capacity is not green" in reasons
        assert "两高" in texts(fits[key], "zh") and "新增产能" in texts(fits[key], "zh")
    insurance = fits["green_insurance"]
    assert insurance.eligible
    assert set(builtin_plugins["green_insurance"].covers(coking)) == {"pollution_liability"}
    assert "pollution liability" in texts(insurance)
    assert "only pollution liability" in texts(insurance)
    assert builtin_plugins["green_insurance"].project_tags(coking) == {"green_insurance:cover:pollution_liability": 1.0}


def test_new_two_high_capacity_with_climate_exposure_still_only_pollution_cover(project, builtin_plugins):
    coking = project("new_coking_plant", risk_exposures=["climate_catastrophe", "tech_rnd"])
    assert set(builtin_plugins["green_insurance"].covers(coking)) == {"pollution_liability"}


def test_steel_ultra_low_emission_retrofit_gets_credit_and_pollution_liability(project, builtin_plugins):
    steel = project("steel_ultra_low_emission")
    credit = builtin_plugins["green_credit"].assess(steel)
    assert credit.eligible and credit.fit > 0
    assert "2.2.2" in texts(credit)
    insurance = builtin_plugins["green_insurance"].assess(steel)
    assert insurance.eligible
    assert "pollution_liability" in builtin_plugins["green_insurance"].covers(steel)
    assert "3120" in texts(insurance)


def test_steel_plant_new_capacity_refused_like_coking(project, builtin_plugins):
    steel_new = project("steel_ultra_low_emission", categories=[], name="新建炼钢产能")
    assert not builtin_plugins["green_credit"].assess(steel_new).eligible
    mixed = project("steel_ultra_low_emission", categories=["2.2.2", "4.2.2"])
    fit = builtin_plugins["green_credit"].assess(mixed)
    assert not fit.eligible
    assert "4.2.2" in texts(fit) and "not retrofit" in texts(fit)


@pytest.mark.parametrize(("years", "eligible"), [(2, False), (4, True)])
def test_pv_plant_operating_years_for_reits(project, builtin_plugins, years, eligible):
    pv = project("pv_plant", commissioning_year=THIS_YEAR - years)
    fit = builtin_plugins["reits"].assess(pv)
    assert fit.eligible is eligible
    if eligible:
        assert f"operating {years} years" in texts(fit)
    else:
        assert texts(fit) == "operating 2 years; REITs need 3"
        assert "已运营 2 年" in texts(fit, "zh")


@pytest.mark.parametrize(("net_cash_flow", "eligible", "shown"), [(35_000_000, False, "3.5%"),
                                                                  (50_000_000, True, "5.0%")])
def test_pv_plant_distribution_yield_for_reits(project, builtin_plugins, net_cash_flow, eligible, shown):
    pv = project("pv_plant", annual_net_cash_flow_cny=net_cash_flow, asset_value_cny=1_000_000_000)
    fit = builtin_plugins["reits"].assess(pv)
    assert fit.eligible is eligible
    if eligible:
        assert f"distribution yield {shown} ≥ 3.8%" in texts(fit)
    else:
        assert texts(fit) == f"distribution yield {shown} below 3.8%"


@pytest.mark.parametrize("stage", ["construction", "operation"])
def test_project_without_eia_refused_by_credit_bonds_and_reits(project, builtin_plugins, stage):
    wind = project("wind_farm_ccer", stage=stage, compliance={"eia_approved": False},
                   commissioning_year=THIS_YEAR - 5, annual_net_cash_flow_cny=60_000_000,
                   asset_value_cny=1_200_000_000)
    for key in ("green_credit", "green_bond", "reits"):
        fit = builtin_plugins[key].assess(wind)
        assert not fit.eligible, key
        assert f"project in the {stage} stage without EIA approval" in texts(fit)
        assert "环评批复" in texts(fit, "zh")
    # insurance and funds are not EIA-vetoed (the fund notes the gap and lowers its fit)
    assert builtin_plugins["green_insurance"].assess(wind).eligible
    fund = builtin_plugins["green_fund"].assess(wind)
    assert fund.eligible and "EIA approval missing" in texts(fund)


def test_same_project_with_eia_accepted(project, builtin_plugins):
    wind = project("wind_farm_ccer", stage="construction", compliance={"eia_approved": True})
    assert builtin_plugins["green_credit"].assess(wind).eligible
    assert builtin_plugins["green_bond"].assess(wind).eligible


def test_planning_project_without_eia_is_not_vetoed(project, builtin_plugins):
    wind = project("wind_farm_ccer", stage="planning", compliance={})
    assert builtin_plugins["green_credit"].assess(wind).eligible


def test_first_of_kind_equipment_maker_offered_cover_wastewater_plant_not(project, builtin_plugins):
    insurance = builtin_plugins["green_insurance"]
    maker = project("hydrogen_equipment_maker")
    fit = insurance.assess(maker)
    assert fit.eligible
    assert "first-of-kind" in texts(fit) and "3443" in texts(fit)
    assert "green_insurance:cover:first_of_kind_equipment" in insurance.project_tags(maker)

    plant = project("wastewater_plant")
    assert "green_insurance:cover:first_of_kind_equipment" not in insurance.project_tags(plant)
    assert "not an equipment maker" in texts(insurance.assess(plant))

    product = ProductFacts("green_insurance", insurance.load_params({"cover_types": ["first_of_kind_equipment"]}))
    assert insurance.check(maker, product).eligible
    refused = insurance.check(plant, product)
    assert not refused.eligible


def test_ccer_collateral_enables_the_pledge_variant(project, builtin_plugins):
    credit = builtin_plugins["green_credit"]
    with_ccer = project("wind_farm_ccer")
    without = project("wind_farm_ccer", collateral=["fixed_assets"])
    assert "environmental_rights_pledge" in credit.variants(with_ccer)
    assert "environmental_rights_pledge" not in credit.variants(without)
    assert "JR/T 0228-2021" in texts(credit.assess(with_ccer)) and "CCER (certified emission reductions) can be pledged" in texts(credit.assess(with_ccer))
    pledge_product = ProductFacts("green_credit", credit.load_params({"variants": ["environmental_rights_pledge"]}))
    assert credit.check(with_ccer, pledge_product).eligible
    assert not credit.check(without, pledge_product).eligible
