"""Green bonds: 100% green proceeds, size, the NDRC 80% rule, carbon-neutral bonds, params."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError

from greenmatch.facts import ProductFacts


def en(fit):
    return " | ".join(r.en for r in fit.reasons)


@pytest.fixture
def bond(builtin_plugins):
    return builtin_plugins["green_bond"]


def test_all_proceeds_must_be_green(bond, project):
    assert bond.assess(project("pv_plant")).eligible
    fit = bond.assess(project("pv_plant", categories=["4.2.2", "9.9.9"]))
    assert not fit.eligible and "100% of proceeds" in en(fit) and "9.9.9" in en(fit)
    fit = bond.assess(project("pv_plant", categories=[]))
    assert not fit.eligible and "no level-3 category" in en(fit)


def test_minimum_issue_size(bond, project):
    small = bond.assess(project("pv_plant", financing_need_cny=20_000_000))
    assert not small.eligible
    assert "¥20,000,000 is below ¥50,000,000" in en(small) and "green credit" in en(small)
    assert bond.assess(project("pv_plant", financing_need_cny=50_000_000)).eligible


def test_larger_needs_fit_better(bond, project):
    medium = bond.assess(project("pv_plant", financing_need_cny=120_000_000, total_investment_cny=200_000_000))
    large = bond.assess(project("pv_plant", financing_need_cny=600_000_000, total_investment_cny=900_000_000))
    assert large.fit > medium.fit


def test_ndrc_eighty_percent_reduces_fit_with_reason(bond, project):
    within = bond.assess(project("pv_plant", financing_need_cny=800_000_000, total_investment_cny=1_000_000_000))
    above = bond.assess(project("pv_plant", financing_need_cny=950_000_000, total_investment_cny=1_000_000_000))
    assert within.eligible and above.eligible
    assert above.fit < within.fit
    assert "95% of the investment" in en(above) and "at most 80%" in en(above) and "¥800,000,000" in en(above)
    assert "80%" not in en(within)


def test_platform_vetoes(bond, project):
    assert not bond.assess(project("new_coking_plant")).eligible
    no_eia = bond.assess(project("pv_plant", stage="construction", compliance={}))
    assert not no_eia.eligible and "EIA" in en(no_eia)


def test_carbon_neutral_bond(bond, project):
    pv = project("pv_plant")
    assert "green_bond:carbon_neutral" in bond.project_tags(pv)
    assert "carbon-neutral bond" in en(bond.assess(pv))
    no_number = project("pv_plant", benefits={})
    assert "green_bond:carbon_neutral" not in bond.project_tags(no_number)
    ule = project("steel_ultra_low_emission", benefits={"co2_reduction_t": 1000})  # unmarked item
    assert "green_bond:carbon_neutral" not in bond.project_tags(ule)
    assert bond.project_tags(ule) == {"green_bond:all_proceeds_green": 1.0}


def test_params_and_requirements(bond, project):
    params = bond.load_params({"bond_types": ["ndrc_enterprise"], "min_issue_size_cny": 100_000_000,
                               "issuer_min_rating": "AA+", "tenor_years": 7})
    req = bond.product_requirements(params)
    assert req.bounds == {"financing_need_cny": (100_000_000, None), "financing_share_of_investment": (None, 0.8)}
    with pytest.raises(ValidationError) as err:
        bond.load_params({"issuer_min_rating": "Z", "max_proceeds_share": 1.5, "bond_types": ["junk"]})
    assert set(err.value.messages) == {"issuer_min_rating", "max_proceeds_share", "bond_types"}

    ndrc = ProductFacts("green_bond", params)
    assert bond.check(project("pv_plant", financing_need_cny=700_000_000, total_investment_cny=1_000_000_000),
                      ndrc).eligible
    refused = bond.check(project("pv_plant", financing_need_cny=900_000_000, total_investment_cny=1_000_000_000),
                         ndrc)
    assert not refused.eligible and "financing share of the investment is 90%, outside the product's range [-∞, 80%]" in en(refused)

    exchange = ProductFacts("green_bond", bond.load_params({"bond_types": ["exchange_corporate"]}))
    assert bond.product_requirements(exchange.params).bounds == {}
    neutral = bond.load_params({"bond_types": ["carbon_neutral"]})
    assert bond.product_requirements(neutral).required_tags_any == {"green_bond:carbon_neutral"}
    assert not bond.check(project("pv_plant", benefits={}), ProductFacts("green_bond", neutral)).eligible


def test_settings_override(fresh, project):
    bond = fresh("green_bond")
    bond.configure({"min_issue_size_cny": 10_000_000})
    assert bond.assess(project("pv_plant", financing_need_cny=20_000_000)).eligible
