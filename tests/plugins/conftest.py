"""Fixtures for the instrument plugin tests: project facts built directly (no app, no database)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from greenmatch.facts import ProjectFacts
from greenmatch.instruments import InstrumentPlugin, load_plugins

THIS_YEAR = dt.date.today().year

BASE_PROJECT: dict[str, Any] = {
    "name": "示范项目",
    "industry_code": "4416",
    "region_code": "320500",
    "stage": "operation",
    "total_investment_cny": 100_000_000,
    "financing_need_cny": 60_000_000,
    "compliance": {"eia_approved": True, "pollutant_permit": True, "env_penalties_3y": 0},
}

# The scenarios the domain rules are written for; tests override single fields.
SCENARIOS: dict[str, dict[str, Any]] = {
    "new_coking_plant": {"name": "年产200万吨焦化新建项目", "industry_code": "2521", "region_code": "140100",
                         "stage": "planning", "categories": [], "total_investment_cny": 3_000_000_000,
                         "financing_need_cny": 1_500_000_000, "compliance": {}},
    "steel_ultra_low_emission": {"name": "炼钢厂超低排放改造", "industry_code": "3120", "region_code": "130200",
                                 "stage": "operation", "categories": ["2.2.2"], "total_investment_cny": 300_000_000,
                                 "financing_need_cny": 200_000_000,
                                 "compliance": {"eia_approved": True, "pollutant_permit": True}},
    "pv_plant": {"name": "50MW光伏电站", "industry_code": "4416", "region_code": "320500", "stage": "operation",
                 "categories": ["4.2.2"], "commissioning_year": THIS_YEAR - 4, "total_investment_cny": 1_200_000_000,
                 "financing_need_cny": 800_000_000, "annual_net_cash_flow_cny": 50_000_000,
                 "asset_value_cny": 1_000_000_000, "benefits": {"renewable_generation_mwh": 60_000}},
    "hydrogen_equipment_maker": {"name": "碱性电解槽首台套产业化", "industry_code": "3443", "region_code": "320500",
                                 "stage": "construction", "categories": ["4.1.9"], "total_investment_cny": 80_000_000,
                                 "financing_need_cny": 30_000_000, "risk_exposures": ["first_of_kind_equipment"],
                                 "certifications": ["specialized_sme"]},
    "wastewater_plant": {"name": "城镇污水处理厂提标改造", "industry_code": "4620", "region_code": "330500",
                         "stage": "operation", "categories": ["6.4.7"], "total_investment_cny": 150_000_000,
                         "financing_need_cny": 90_000_000, "risk_exposures": ["first_of_kind_equipment"]},
    "wind_farm_ccer": {"name": "分散式风电", "industry_code": "4415", "region_code": "150100", "stage": "operation",
                       "categories": ["4.2.1"], "total_investment_cny": 200_000_000, "financing_need_cny": 120_000_000,
                       "benefits": {"renewable_generation_mwh": 100_000}, "collateral": ["ccer"]},
}


def make_facts(scenario: str | None = None, **overrides: Any) -> ProjectFacts:
    """The base project, then the scenario's fields, then ``overrides`` (whole values replace)."""
    return ProjectFacts.from_mapping({**BASE_PROJECT, **(SCENARIOS[scenario] if scenario else {}), **overrides})


@pytest.fixture
def project() -> Callable[..., ProjectFacts]:
    """``project("pv_plant", commissioning_year=2023)``: a scenario with overrides (or the base project)."""
    return make_facts


@pytest.fixture(scope="session")
def builtin_plugins() -> dict[str, InstrumentPlugin]:
    result = load_plugins(["green_credit", "green_bond", "reits", "green_insurance", "green_fund"])
    assert not result.errors, result.errors
    return result.plugins


@pytest.fixture
def fresh() -> Callable[[str], InstrumentPlugin]:
    """A new, unconfigured instance of a built-in plugin (tests that configure must not share instances)."""

    def build(key: str) -> InstrumentPlugin:
        return type(load_plugins([key]).plugins[key])()

    return build
