"""Names for messages (:class:`greenmatch.text.Name`) that the instrument plugins define: instruments by
their plugin's name, the tags they attach (``green_credit:variant:carbon_reduction_facility``) and the
metrics their product bounds refer to. Registered when :mod:`greenmatch.instruments` loads."""

from __future__ import annotations

from collections.abc import Mapping

from .instruments import InstrumentPlugin, current_plugins, load_plugins
from .labels import label_msgid
from .text import register_names, translate

_INSTALLED: dict[str, InstrumentPlugin] = {}


def _plugins() -> Mapping[str, InstrumentPlugin]:
    from flask import current_app, has_app_context

    if has_app_context() and "greenmatch.instruments" in current_app.extensions:
        return current_plugins()
    if not _INSTALLED:
        _INSTALLED.update(load_plugins().plugins)
    return _INSTALLED


def instrument_name(key: str, english: bool) -> str | None:
    plugin = _plugins().get(key)
    if plugin is None:
        return None
    return plugin.name_en if english else plugin.name_zh


# tag prefixes of project facts (matching graph): certification:green_factory, collateral:ccer, risk:carbon_sink
FACT_TAG_TABLES = {"certification": "certification", "collateral": "collateral", "risk": "risk_exposure"}


def tag_name(tag: str, english: bool) -> str | None:
    """``certification:green_factory`` -> "绿色工厂"; ``green_credit:variant:carbon_reduction_facility`` ->
    "绿色信贷：碳减排支持工具" (the plugin's name, then the last part as a known value)."""
    head, _, rest = tag.partition(":")
    locale = "en" if english else "zh_CN"
    if head in FACT_TAG_TABLES and rest:
        msgid = label_msgid(FACT_TAG_TABLES[head], rest)
        return translate(msgid, locale) if msgid else None
    plugin = instrument_name(head, english)
    if plugin is None or not rest:
        return None
    last = rest.rsplit(":", 1)[-1]
    msgid = next((m for t in ("param_value", "collateral", "certification", "risk_exposure")
                  if (m := label_msgid(t, last))), None)
    if msgid is None:
        return None
    return f"{plugin}: {translate(msgid, locale)}" if english else f"{plugin}：{translate(msgid, locale)}"


def metric_name(metric: str, english: bool) -> str | None:
    """Metrics of product bounds (``financing_need_cny``, ``asset_value_cny``...) by their param labels."""
    msgid = label_msgid("metric", metric)
    return translate(msgid, "en" if english else "zh_CN") if msgid else None


register_names("instrument", instrument_name)
register_names("tag", tag_name)
register_names("metric", metric_name)
