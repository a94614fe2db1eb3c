"""The third-party example package (tests/plugins/thirdparty) plugs in through its entry point only.

Needs: /work/main/.venv/bin/pip install -e tests/plugins/thirdparty
"""

from __future__ import annotations

import importlib.metadata

import pytest
from marshmallow import ValidationError

from greenmatch.catalog.assessment import assess
from greenmatch.facts import ProductFacts
from greenmatch.instruments import (
    ENTRY_POINT_GROUP,
    InstrumentPlugin,
    RuleSettings,
    compliance,
    financing_vetoes,
    instrument_name,
    load_plugins,
)

INSTALL = "pip install -e tests/plugins/thirdparty"


@pytest.fixture(scope="module")
def transition() -> InstrumentPlugin:
    result = load_plugins()
    assert "transition_finance" in result.plugins, f"the example plugin is not installed: {INSTALL}"
    return result.plugins["transition_finance"]


def test_discovered_through_the_entry_point(transition):
    eps = {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
    assert eps["transition_finance"].value == "greenmatch_transition_example:TransitionFinancePlugin"
    assert eps["transition_finance"].dist.name == "greenmatch-transition-example"
    assert type(transition).__module__ == "greenmatch_transition_example"
    assert list(load_plugins().plugins)[-1] == "transition_finance"  # after the built-ins


def test_can_be_disabled_and_ordered(transition):
    assert list(load_plugins(["transition_finance", "green_credit"]).plugins) == ["transition_finance",
                                                                                  "green_credit"]
    assert "transition_finance" not in load_plugins(["green_credit"]).plugins


def test_params_validated_by_the_plugin(transition):
    params = transition.load_params({"sectors": ["steel"], "min_co2_reduction_t": 10_000, "regions": ["130000"]})
    assert params["sectors"] == ["steel"] and params["regions"] == ["130000"]
    with pytest.raises(ValidationError) as err:
        transition.load_params({"sectors": ["tourism"], "min_co2_reduction_t": -1, "categories": ["99"]})
    assert set(err.value.messages) == {"sectors", "min_co2_reduction_t"}
    assert "sectors" in transition.describe("en")["params_schema"]["properties"]


def test_assess_steel_retrofit_eligible_coking_new_capacity_not(transition, project):
    retrofit = project("steel_ultra_low_emission", categories=["1.4.1"], benefits={"energy_saving_tce": 20_000})
    fit = transition.assess(retrofit)
    assert fit.eligible and fit.fit == pytest.approx(0.9)
    assert "iron and steel" in fit.reasons[0].en and "49,860" in fit.reasons[1].en

    coking = transition.assess(project("new_coking_plant"))
    assert not coking.eligible
    assert any("new capacity is not green" in r.en for r in coking.reasons)

    assert not transition.assess(project("pv_plant")).eligible  # not 两高: green instruments fit better


def test_sector_setting(transition, project):
    chemicals_retrofit = project(industry_code="2621", categories=["3.2.7"])
    assert not transition.assess(chemicals_retrofit).eligible
    configured = type(transition)()
    configured.configure({"eligible_sectors": ["steel", "chemicals"]})
    assert configured.assess(chemicals_retrofit).eligible


def test_product_requirements_and_assessment(transition, project, builtin_plugins):
    retrofit = project("steel_ultra_low_emission", categories=["1.4.1"], benefits={"energy_saving_tce": 20_000})
    product = ProductFacts("transition_finance", transition.load_params({"sectors": ["steel"],
                                                                         "min_co2_reduction_t": 60_000}))
    refused = transition.check(retrofit, product)
    assert not refused.eligible and "CO₂ reduction (t per year) is 49,860, outside" in refused.reasons[0].text("en")
    relaxed = ProductFacts("transition_finance", transition.load_params({"sectors": ["steel"]}))
    assert transition.check(retrofit, relaxed).eligible

    plugins = {**builtin_plugins, "transition_finance": transition}
    result = assess(retrofit, plugins, classifier=None)
    assert [f.instrument for f in result.instruments][-1] == "transition_finance"
    assert result.instrument("transition_finance").eligible


def test_screening_names_the_instrument_as_its_plugin_does(transition, project):
    """Instrument names in screening's reasons come from the registry, so a third-party one shows its own."""
    assert instrument_name("transition_finance", english=False) == "转型金融"
    (veto,) = financing_vetoes(project("new_coking_plant"), "transition_finance")
    assert veto.en.endswith(": transition finance cannot finance it") and veto.zh.endswith("：转型金融不能为其融资")

    rules = RuleSettings.from_mapping({"eia_veto_instruments": ["green_credit", "transition_finance"]})
    found = compliance(project(stage="construction", compliance={"eia_approved": False, "pollutant_permit": True}),
                       rules)
    (reason,) = found.reasons_for("transition_finance")
    assert "not eligible for green credit, transition finance" in reason.en and "绿色信贷、转型金融" in reason.zh
