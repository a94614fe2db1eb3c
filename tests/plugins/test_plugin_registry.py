"""Plugin discovery through entry points, enabling/ordering, broken plugins, configuration."""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import sys

import pytest

import greenmatch.instruments as instruments
from greenmatch.instruments import ENTRY_POINT_GROUP, InstrumentPlugin, load_plugins
from greenmatch.rules_settings import RuleSettings, configure_plugins

BUILTINS = ["green_credit", "green_bond", "reits", "green_insurance", "green_fund"]


def test_builtins_load_first_in_order():
    result = load_plugins()
    assert list(result.plugins)[:5] == BUILTINS
    assert not result.errors


def test_enabled_respects_order_and_disables_others():
    result = load_plugins(["green_fund", "reits", "green_credit"])
    assert list(result.plugins) == ["green_fund", "reits", "green_credit"]
    assert not result.errors


def test_enabled_but_not_installed_is_reported():
    result = load_plugins(["green_credit", "carbon_futures"])
    assert list(result.plugins) == ["green_credit"]
    assert "not installed" in result.errors["carbon_futures"]


def _with_extra_entry_points(monkeypatch, *extra):
    real = instruments.entry_points

    def fake(*, group):
        return [*real(group=group), *extra]

    monkeypatch.setattr(instruments, "entry_points", fake)


def test_plugin_raising_at_import_is_reported_and_skipped(monkeypatch, tmp_path):
    (tmp_path / "gm_raising_plugin_mod.py").write_text('raise RuntimeError("broken on purpose")\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "gm_raising_plugin_mod", raising=False)
    _with_extra_entry_points(monkeypatch, importlib.metadata.EntryPoint(
        name="broken", value="gm_raising_plugin_mod:Plugin", group=ENTRY_POINT_GROUP))
    result = load_plugins()
    assert result.errors == {"broken": "RuntimeError: broken on purpose"}
    assert list(result.plugins)[:5] == BUILTINS and "broken" not in result.plugins


def test_entry_point_that_is_not_a_plugin_is_reported(monkeypatch):
    _with_extra_entry_points(monkeypatch, importlib.metadata.EntryPoint(
        name="not_a_plugin", value="collections:OrderedDict", group=ENTRY_POINT_GROUP))
    result = load_plugins(["green_credit", "not_a_plugin"])
    assert list(result.plugins) == ["green_credit"]
    assert result.errors["not_a_plugin"].startswith("TypeError")


@pytest.mark.parametrize("key", BUILTINS)
def test_every_builtin_describes_itself(key):
    plugin = load_plugins([key]).plugins[key]
    zh, en = plugin.describe("zh"), plugin.describe("en")
    assert zh["key"] == key and zh["name_zh"] and zh["name_en"]
    assert zh["description"] == plugin.description_zh and en["description"] == plugin.description_en
    schema = zh["params_schema"]
    assert {"min_amount_cny", "max_amount_cny", "regions", "categories", "stages"} <= set(schema["properties"])
    json.dumps(zh, ensure_ascii=False)


@pytest.mark.parametrize("key", BUILTINS)
def test_every_builtin_has_frozen_defaulted_settings(key):
    plugin = load_plugins([key]).plugins[key]
    settings = plugin.settings
    assert dataclasses.is_dataclass(settings)
    assert type(settings).from_mapping({}) == settings
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.base_fit = 0  # type: ignore[misc]


def test_configure_plugins_from_flask_style_config(fresh):
    plugins = {"green_bond": fresh("green_bond"), "reits": fresh("reits")}
    configure_plugins(plugins, {"PLUGIN_SETTINGS": {"green_bond": {"min_issue_size_cny": 1}},
                                "RULES": {"grid_factor_t_per_mwh": 0.5306}})
    assert plugins["green_bond"].settings.min_issue_size_cny == 1.0
    assert plugins["reits"].settings.min_operating_years == 3
    assert plugins["reits"].rules == RuleSettings(grid_factor_t_per_mwh=0.5306)


def test_configure_with_platform_rules_changes_screening(fresh, project):
    credit = fresh("green_credit")
    credit.configure({}, rules=RuleSettings.from_mapping({"eia_veto_instruments": ["green_bond"]}))
    assert credit.assess(project("pv_plant", stage="construction", compliance={})).eligible


def test_bad_plugin_settings_fail_loudly(fresh):
    with pytest.raises(ValueError, match="min_issue_size"):
        configure_plugins({"green_bond": fresh("green_bond")},
                          {"PLUGIN_SETTINGS": {"green_bond": {"min_issue_size": 1}}})
    with pytest.raises(ValueError, match="must be a number"):
        fresh("green_bond").configure({"min_issue_size_cny": "big"})


def test_plugin_without_settings_refuses_settings():
    class Bare(InstrumentPlugin):
        key = "bare"
        name_zh = name_en = "bare"

    plugin = Bare()
    assert plugin.settings is None and plugin.rules is None
    plugin.configure({})
    with pytest.raises(ValueError, match="has no settings"):
        plugin.configure({"x": 1})
