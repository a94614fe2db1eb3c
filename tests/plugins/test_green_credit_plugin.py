"""Green credit: eligibility, the three special variants, params, graph hooks, settings."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError

from greenmatch.facts import ProductFacts


def en(fit):
    return " | ".join(r.en for r in fit.reasons)


@pytest.fixture
def credit(builtin_plugins):
    return builtin_plugins["green_credit"]


def test_needs_a_valid_level3_category(credit, project):
    fit = credit.assess(project(categories=[]))
    assert not fit.eligible and "at least one level-3 item" in en(fit)
    assert not credit.assess(project(categories=["4.2"])).eligible  # level 2 is not a project category
    assert credit.assess(project(categories=["4.2.2"])).eligible


def test_invalid_codes_beside_valid_ones_are_noted(credit, project):
    fit = credit.assess(project(categories=["4.2.2", "9.9.9"]))
    assert fit.eligible and "9.9.9 not in the 2025 catalogue" in en(fit)


def test_carbon_reduction_facility_needs_quantified_reduction(credit, project):
    pv = project(categories=["4.2.2"], benefits={"renewable_generation_mwh": 1000})
    assert "carbon_reduction_facility" in credit.variants(pv)
    text = en(credit.assess(pv))
    assert "third party" in text and "530.6 t" in text
    bare = project(categories=["4.2.2"], benefits={})
    assert "carbon_reduction_facility" not in credit.variants(bare)
    assert "needs a quantified annual CO2e reduction" in en(credit.assess(bare))


def test_a_blocking_signal_withholds_the_facility_and_says_which(credit, project):
    """An LED retrofit claiming 50,000 t CO2 a year on ¥600,000 (issue #12): no facility advice, and the
    reason names the signal instead of asking for a figure the project already gave."""
    led = project(name="办公楼LED照明改造", industry_code="3511", categories=["1.3.1"], total_investment_cny=600_000,
                  financing_need_cny=500_000, benefits={"co2_reduction_t": 50_000})
    fit = credit.assess(led)
    assert "carbon_reduction_facility" not in credit.variants(led)
    assert "withheld while a blocking greenwashing signal is open: implausible benefit for the investment" in en(fit)
    assert "needs a quantified" not in en(fit)


def test_ccus_and_energy_saving_qualify_for_the_facility(credit, project):
    ccus = project(industry_code="2614", categories=["1.5.1"], benefits={"co2_reduction_t": 100_000})
    assert "carbon_reduction_facility" in credit.variants(ccus)
    retrofit = project(industry_code="3011", categories=["1.4.1"], benefits={"energy_saving_tce": 5000})
    assert {"carbon_reduction_facility", "energy_efficiency"} <= set(credit.variants(retrofit))


def test_facility_excludes_enabling_manufacturing_and_pollution_control(credit, project):
    maker = project(industry_code="3825", categories=["4.1.2"], benefits={"co2_reduction_t": 500})
    assert "carbon_reduction_facility" not in credit.variants(maker)  # √ enabling item
    ule = project(industry_code="3120", categories=["2.2.2"], benefits={"co2_reduction_t": 500})
    assert set(credit.variants(ule)) == {"general"}


def test_energy_efficiency_variant(credit, project):
    building = project(industry_code="7020", categories=["6.1.3"], benefits={"energy_saving_tce": 300})
    assert "energy_efficiency" in credit.variants(building)
    assert "300.0 tce" in en(credit.assess(building))
    emc = project(industry_code="4861", categories=["7.2.2"], benefits={})
    assert "quantify energy saved" in credit.variants(emc)["energy_efficiency"].en
    assert "energy_efficiency" not in credit.variants(project(categories=["4.2.2"]))


@pytest.mark.parametrize("right", ["carbon_allowance", "ccer", "pollutant_rights", "energy_use_rights",
                                   "water_rights", "green_power_certificates"])
def test_every_jr_t_0228_right_enables_the_pledge(credit, project, right):
    assert "environmental_rights_pledge" in credit.variants(project(categories=["4.2.2"], collateral=[right]))


def test_receivables_do_not_enable_the_pledge(credit, project):
    assert "environmental_rights_pledge" not in credit.variants(project(categories=["4.2.2"],
                                                                        collateral=["receivables"]))


def test_variants_raise_fit(credit, project):
    plain = credit.assess(project(categories=["6.4.7"], industry_code="4620"))
    rich = credit.assess(project("wind_farm_ccer"))
    assert rich.fit > plain.fit


def test_major_penalty_vetoes_green_credit_by_default(credit, project):
    """The 2012 Green Credit Guidelines and 银保监发〔2022〕15号: no green credit after a major environmental
    penalty; it used to be eligible "with a caution" (issue #12)."""
    penalised = credit.assess(project(categories=["4.2.2"], compliance={
        "eia_approved": True, "pollutant_permit": True, "largest_env_fine_cny": 800_000}))
    assert not penalised.eligible
    assert "major environmental penalty" in en(penalised)


def test_major_penalty_is_a_caution_where_a_deployment_softens_the_veto(fresh, project):
    from greenmatch.rules_settings import RuleSettings

    soft = fresh("green_credit")
    soft.configure({}, rules=RuleSettings.from_mapping({"major_penalty_veto_instruments": []}))
    clean = soft.assess(project(categories=["4.2.2"]))
    penalised = soft.assess(project(categories=["4.2.2"], compliance={"eia_approved": True, "pollutant_permit": True,
                                                                      "major_env_penalty_3y": True}))
    assert penalised.eligible and penalised.fit < clean.fit
    assert "ESG review" in en(penalised)


def test_params_schema(credit):
    params = credit.load_params({"variants": ["energy_efficiency"], "accepted_collateral": ["receivables"],
                                 "indicative_rate_pct": 3.2, "max_tenor_years": 10, "regions": ["320000"],
                                 "categories": ["1.3"]})
    assert params["variants"] == ["energy_efficiency"] and params["indicative_rate_pct"] == 3.2
    with pytest.raises(ValidationError) as err:
        credit.load_params({"variants": ["payday"], "accepted_collateral": ["gold"]})
    assert set(err.value.messages) == {"variants", "accepted_collateral"}
    with pytest.raises(ValidationError) as err:
        credit.load_params({"variants": ["environmental_rights_pledge"], "accepted_collateral": ["receivables"]})
    assert "accepted_collateral" in err.value.messages
    schema = credit.describe("en")["params_schema"]
    assert {"variants", "accepted_collateral", "min_amount_cny", "regions"} <= set(schema["properties"])


def test_product_requirements_by_variant_and_collateral(credit, project):
    wind = project("wind_farm_ccer")
    plain = project(categories=["6.4.7"], industry_code="4620", collateral=["fixed_assets"])

    def passes(params, facts):
        return credit.check(facts, ProductFacts("green_credit", credit.load_params(params))).eligible

    assert passes({}, wind) and passes({}, plain)  # general green loan
    assert passes({"variants": ["carbon_reduction_facility"]}, wind)
    assert not passes({"variants": ["carbon_reduction_facility"]}, plain)
    assert passes({"accepted_collateral": ["fixed_assets"]}, plain)
    assert not passes({"accepted_collateral": ["fixed_assets"]}, wind)
    assert passes({"variants": ["environmental_rights_pledge"], "accepted_collateral": ["ccer"]}, wind)
    assert not passes({"variants": ["environmental_rights_pledge"], "accepted_collateral": ["carbon_allowance"]},
                      wind)


def test_tags(credit, project):
    tags = credit.project_tags(project("wind_farm_ccer"))
    assert tags["green_credit:variant:environmental_rights_pledge"] == 1.0
    assert "green_credit:collateral:ccer" in tags and "green_credit:environmental_rights_pledge:ccer" in tags
    assert credit.product_tags({"variants": ["energy_efficiency"], "accepted_collateral": ["ccer"]}) == {
        "green_credit:variant:energy_efficiency": 1.0, "green_credit:collateral:ccer": 0.5}
    assert credit.project_metrics(project("wind_farm_ccer"))["co2_reduction_t"] == pytest.approx(53_060)


def test_settings_override(fresh, project):
    credit = fresh("green_credit")
    credit.configure({"pledge_collateral": ["ccer"], "carbon_facility_categories": ["4.2.1"]})
    assert credit.settings.pledge_collateral == ("ccer",)
    assert "environmental_rights_pledge" not in credit.variants(project(categories=["4.2.2"],
                                                                        collateral=["carbon_allowance"]))
    assert "carbon_reduction_facility" not in credit.variants(
        project(categories=["4.2.2"], benefits={"renewable_generation_mwh": 10}))
    with pytest.raises(ValueError, match="pledge_colateral"):
        credit.configure({"pledge_colateral": ["ccer"]})
