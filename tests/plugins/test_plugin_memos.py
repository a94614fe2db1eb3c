"""What the plugins memoize per distinct input (catalogue codes, industry codes) never changes their
answers: the same answers on a cold and a warm call, the cheap CO2 figure equals the full estimate,
and configuring a plugin again drops what it derived from the previous configuration."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from greenmatch import reference
from greenmatch.carbon import co2_reduction_t, estimate_carbon
from greenmatch.codes import category_covers
from greenmatch.rules_settings import RuleSettings
from greenmatch.screening import covered, level3_categories, two_high

sys.path.append(str(Path(__file__).resolve().parents[2]))  # the repository root, for bench.synthetic
from bench.synthetic import generate

KEYS = ["green_credit", "green_bond", "reits", "green_insurance", "green_fund"]


@pytest.fixture(scope="module")
def projects():
    return generate(1500, 1, seed=3).projects


def _answers(plugin, project):
    fit = plugin.assess(project)
    return (fit.eligible, fit.fit, fit.reasons, dict(plugin.project_tags(project)), dict(plugin.project_metrics(project)))


def test_cold_and_warm_answers_are_equal(fresh, projects):
    for key in KEYS:
        cold, warm = fresh(key), fresh(key)
        for project in projects:  # warm up the second instance first
            _answers(warm, project)
        for project in projects:
            assert _answers(cold, project) == _answers(warm, project), (key, project.id)


def test_cheap_co2_figure_equals_the_estimate(projects):
    rules = RuleSettings.from_mapping({"grid_factor_by_region": {"13": 0.7252, "32": 0.6}})
    for settings in (None, rules):
        for project in projects:
            assert co2_reduction_t(project, settings) == estimate_carbon(project, settings).co2_reduction_t


def test_cached_screening_helpers_agree_with_their_definitions(projects):
    prefixes = ("1.3", "4", "6.1.2", "2.5")
    for project in projects:
        codes = list(project.categories) + ["4.2", "9.9.9", "1.1.10"]
        assert covered(codes, prefixes) == [c for c in codes if any(category_covers(p, c) for p in prefixes)]
        valid, invalid = level3_categories(codes)
        assert valid == [c for c in codes if reference.is_category(c, level=3)]
        assert invalid == [c for c in codes if not reference.is_category(c, level=3)]
        valid.append("mutating the answer must not change the next one")
        assert "mutating the answer must not change the next one" not in level3_categories(codes)[0]


def test_configure_drops_what_was_derived_from_the_previous_settings(fresh, project):
    reits = fresh("reits")
    pv = project("pv_plant")
    assert reits.asset_classes(pv) == ["clean_energy"]
    assert "reits:asset_class:clean_energy" in reits.project_tags(pv)
    reits.configure({"asset_classes": [["solar_parks", ["4.2.2"]]]})
    assert reits.asset_classes(pv) == ["solar_parks"]
    assert set(reits.project_tags(pv)) == {"reits:asset_class:solar_parks"}

    fund = fresh("green_fund")
    assert "clean_energy" in fund.focus(pv)
    fund.configure({"focus_areas": [["solar", ["4.2.2"]]]})
    assert "clean_energy" not in fund.focus(pv) and "solar" in fund.focus(pv)


def test_rule_settings_keep_their_own_screening_results(project):
    steel = project("steel_ultra_low_emission", categories=["2.5.6"])
    default = two_high(steel)
    widened = two_high(steel, RuleSettings.from_mapping({"transition_categories": ["2.5.6"]}))
    assert default.flag and widened.flag
    assert not default.allowed_retrofit and widened.allowed_retrofit
    assert two_high(steel) is default  # memoized per settings object
