"""greenmatch.instruments is the plugin toolkit: everything a plugin may use of GreenMatch, from one module."""

from __future__ import annotations

import pytest

import greenmatch.instruments as toolkit
from greenmatch import carbon, facts, greenwashing, reference, rules_settings, screening
from greenmatch.instruments import InstrumentFit, InstrumentPlugin, instrument_name
from greenmatch.text import render


def test_every_name_of_the_toolkit_resolves():
    missing = [name for name in toolkit.__all__ if getattr(toolkit, name, None) is None]
    assert not missing
    assert len(set(toolkit.__all__)) == len(toolkit.__all__)
    assert {"two_high", "co2_reduction_t", "blocking_signals"} <= set(dir(toolkit))


def test_the_toolkit_hands_out_the_core_modules_own_objects():
    assert toolkit.two_high is screening.two_high and toolkit.financing_vetoes is screening.financing_vetoes
    assert toolkit.co2_reduction_t is carbon.co2_reduction_t
    assert toolkit.blocking_signals is greenwashing.blocking_signals
    assert toolkit.SettingsBase is rules_settings.SettingsBase and toolkit.reference is reference
    assert toolkit.ProjectFacts is facts.ProjectFacts


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no_such_helper"):
        toolkit.no_such_helper  # noqa: B018
    with pytest.raises(ImportError):
        from greenmatch.instruments import no_such_helper  # noqa: F401


class _Custom(InstrumentPlugin):
    key = "custom_loans"
    name_zh = "定制贷款"
    name_en = "Custom loans"

    def assess(self, project):
        return InstrumentFit(self.key, True, 1.0)


def test_instrument_names_in_reasons_come_from_the_registry(app, monkeypatch):
    """Screening names instruments by their plugins (never a table of the built-ins): the app's registry."""
    with app.app_context():
        assert instrument_name("custom_loans", english=True) is None
        monkeypatch.setitem(app.extensions["greenmatch.instruments"].plugins, "custom_loans", _Custom())
        listed = screening.instrument_names(["green_credit", "custom_loans"])
        assert render(listed, "zh_CN") == "绿色信贷、定制贷款"
        assert "custom loans" in render(listed, "en").lower()
