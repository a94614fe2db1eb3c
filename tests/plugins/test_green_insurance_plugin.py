"""Green insurance: which cover applies to which project (NFRA 2024 guidance)."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError

from greenmatch.facts import ProductFacts


def en(fit):
    return " | ".join(r.en for r in fit.reasons)


@pytest.fixture
def insurance(builtin_plugins):
    return builtin_plugins["green_insurance"]


@pytest.mark.parametrize("industry", ["3216", "2511", "2614", "7724", "3360", "3843", "0912", "1910", "2710",
                                      "3011", "4411"])
def test_pollution_liability_for_high_risk_units(insurance, project, industry):
    covers = insurance.covers(project(industry_code=industry, categories=[]))
    assert "pollution_liability" in covers


def test_pollution_liability_for_hazardous_waste_category_and_declared_exposure(insurance, project):
    assert "pollution_liability" in insurance.covers(project(industry_code="4840", categories=["2.5.2"]))
    assert "pollution_liability" in insurance.covers(project(industry_code="4620", categories=["6.4.7"],
                                                             risk_exposures=["pollution_liability"]))
    assert "pollution_liability" not in insurance.covers(project("pv_plant"))


def test_new_material_first_batch_for_material_makers_only(insurance, project):
    maker = project(industry_code="3024", categories=["1.1.18"], risk_exposures=["new_material_first_batch"])
    assert "new_material_first_batch" in insurance.covers(maker)
    trader = project(industry_code="5169", categories=["8.3.4"], risk_exposures=["new_material_first_batch"])
    assert "new_material_first_batch" not in insurance.covers(trader)


def test_tech_rnd_cover(insurance, project):
    assert "tech_rnd" in insurance.covers(project(industry_code="7320", categories=["7.5.1"]))
    assert "tech_rnd" in insurance.covers(project("hydrogen_equipment_maker"))  # specialized SME, green item
    assert "tech_rnd" not in insurance.covers(project("pv_plant"))


@pytest.mark.parametrize(("category", "industry", "cover"), [
    ("6.1.2", "4710", "building_performance"),
    ("4.2.1", "4415", "climate_catastrophe"),
    ("5.1.3", "0111", "climate_catastrophe"),
    ("5.1.9", "0220", "carbon_sink"),
    ("5.2.12", "7712", "carbon_sink"),
    ("1.5.1", "2614", "carbon_sink"),
    ("1.2.1", "3612", "nev"),
    ("6.2.3", "4851", "nev"),
])
def test_cover_by_category(insurance, project, category, industry, cover):
    covers = insurance.covers(project(industry_code=industry, categories=[category]))
    assert cover in covers


def test_not_eligible_without_any_cover(insurance, project):
    fit = insurance.assess(project(industry_code="6531", categories=["7.3.8"]))
    assert not fit.eligible and "no green insurance cover applies" in en(fit)


def test_declared_exposure_fits_better_than_derived(insurance, project):
    derived = insurance.assess(project("pv_plant"))
    declared = insurance.assess(project("pv_plant", risk_exposures=["climate_catastrophe"]))
    assert declared.fit > derived.fit


def test_params_tags_requirements(insurance, project):
    params = insurance.load_params({"cover_types": ["pollution_liability", "carbon_sink"]})
    assert insurance.product_tags(params) == {"green_insurance:cover:pollution_liability": 1.0,
                                              "green_insurance:cover:carbon_sink": 1.0}
    product = ProductFacts("green_insurance", params)
    assert insurance.check(project("new_coking_plant"), product).eligible
    assert not insurance.check(project("pv_plant"), product).eligible
    with pytest.raises(ValidationError) as err:
        insurance.load_params({"cover_types": ["life"]})
    assert "cover_types" in err.value.messages
    schema = insurance.describe("zh")["params_schema"]
    assert schema["properties"]["cover_types"]["items"]["enum"][0] == "pollution_liability"


def test_settings_override(fresh, project):
    insurance = fresh("green_insurance")
    insurance.configure({"equipment_maker_divisions": ["46"]})
    assert "first_of_kind_equipment" in insurance.covers(project("wastewater_plant"))
