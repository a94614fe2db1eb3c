"""Green funds: green activity required, 专精特新 / little giants / high tech, focus and ticket params."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError

from greenmatch.facts import ProductFacts


def en(fit):
    return " | ".join(r.en for r in fit.reasons)


@pytest.fixture
def fund(builtin_plugins):
    return builtin_plugins["green_fund"]


def test_needs_a_green_activity(fund, project):
    fit = fund.assess(project(categories=[], certifications=["little_giant"]))
    assert not fit.eligible and "no level-3 catalogue category" in en(fit)


def test_two_high_new_capacity_refused(fund, project):
    fit = fund.assess(project("new_coking_plant", certifications=["high_tech"]))
    assert not fit.eligible and "new capacity is not green" in en(fit)


def test_certified_green_tech_firm_fits_best(fund, project):
    tech = fund.assess(project("hydrogen_equipment_maker"))
    plain = fund.assess(project("wastewater_plant"))
    assert tech.eligible and plain.eligible
    assert tech.fit > plain.fit
    assert set(fund.focus(project("hydrogen_equipment_maker"))) == {"specialized_sme", "green_technology",
                                                                    "clean_energy"}


def test_national_fund_areas(fund, project):
    assert "pollution_control" in fund.focus(project("steel_ultra_low_emission"))
    assert "ecological_restoration" in fund.focus(project(categories=["5.2.7"]))
    assert "green_transport" in fund.focus(project(categories=["6.2.8"]))
    assert "resource_efficiency" in fund.focus(project(categories=["3.2.5"]))


def test_ticket_outside_typical_range_lowers_fit(fund, project):
    big = fund.assess(project("pv_plant"))
    assert big.eligible and "outside the typical equity ticket" in en(big)


def test_params_and_requirements(fund, project):
    params = fund.load_params({"focus": ["little_giant", "specialized_sme"], "ticket_min_cny": 10_000_000,
                               "ticket_max_cny": 50_000_000, "stages": ["construction"]})
    req = fund.product_requirements(params)
    assert req.required_tags_any == {"green_fund:focus:little_giant", "green_fund:focus:specialized_sme"}
    assert req.bounds == {"financing_need_cny": (10_000_000, 50_000_000)}
    product = ProductFacts("green_fund", params)
    assert fund.check(project("hydrogen_equipment_maker"), product).eligible
    refused = fund.check(project("hydrogen_equipment_maker", financing_need_cny=80_000_000), product)
    assert not refused.eligible and "financing need (CNY) is ¥80,000,000, outside the product's range [¥10,000,000, ¥50,000,000]" in en(refused)
    assert not fund.check(project("hydrogen_equipment_maker", certifications=[]), product).eligible
    with pytest.raises(ValidationError) as err:
        fund.load_params({"ticket_min_cny": 5, "ticket_max_cny": 1})
    assert set(err.value.messages) == {"ticket_max_cny"}
    with pytest.raises(ValidationError) as err:
        fund.load_params({"focus": ["crypto"]})
    assert set(err.value.messages) == {"focus"}


def test_settings_override(fresh, project):
    fund = fresh("green_fund")
    fund.configure({"typical_ticket_max_cny": 2_000_000_000})
    assert "outside the typical" not in en(fund.assess(project("pv_plant")))
