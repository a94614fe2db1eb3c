"""Presentation helpers for the pages: money and dates for the locale, names of codes, enum labels.

Money: in Chinese 万元 / 亿元 (``1.5亿元``, ``3,200万元``); in English ``¥`` with thousands separators,
compact as ``¥150.0m`` / ``¥1.20bn``. Registered as Jinja filters and globals by :func:`register`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flask import Flask
from flask_babel import format_date, format_datetime, get_locale
from flask_babel import lazy_gettext as _l

from .. import labels, reference
from ..text import Amount, render


# -- labels of the contract's codes: greenmatch.labels (the one label module), lazily translated here ----------
def _lazy(table: Mapping[str, str]) -> dict[str, Any]:
    return {key: _l(msgid) for key, msgid in table.items()}


PROJECT_STATUS = _lazy(labels.PROJECT_STATUS)
PRODUCT_STATUS = _lazy(labels.PRODUCT_STATUS)
ENGAGEMENT_STATUS = _lazy(labels.ENGAGEMENT_STATUS)
RUN_STATUS = _lazy(labels.RUN_STATUS)
STAGES = _lazy(labels.STAGES)
CERTIFICATIONS = _lazy(labels.CERTIFICATIONS)
COLLATERAL = _lazy(labels.COLLATERAL)
RISK_EXPOSURES = _lazy(labels.RISK_EXPOSURES)
BENEFITS = _lazy(labels.BENEFITS)
CAPACITY_CHANGES = _lazy(labels.CAPACITY_CHANGES)
EIA_STATUSES = _lazy(labels.EIA_STATUSES)
PRIMARY_FUELS = _lazy(labels.PRIMARY_FUELS)
LABELS = _lazy(labels.LABELS)
INSTITUTION_TYPES = _lazy(labels.INSTITUTION_TYPES)
ORG_KINDS = _lazy(labels.ORG_KINDS)
ROLES = _lazy(labels.ROLES)
CATEGORY_SOURCES = _lazy(labels.CATEGORY_SOURCES)
SCORE_ITEMS = _lazy(labels.SCORE_ITEMS)
SIGNALS = _lazy(labels.SIGNALS)
PARAMS = _lazy(labels.PARAMS)
PARAM_VALUES = _lazy(labels.PARAM_VALUES)
LABEL_COLOURS = {"dark_green": "gm-label-dark-green", "light_green": "gm-label-light-green",
                 "yellow": "gm-label-yellow", "red": "gm-label-red"}
STATUS_COLOURS = {
    "draft": "secondary", "submitted": "info", "returned": "warning", "approved": "success", "rejected": "danger",
    "published": "success", "withdrawn": "secondary", "requested": "info", "accepted": "primary",
    "declined": "secondary", "in_progress": "primary", "financed": "success", "closed": "secondary",
    "expired": "secondary", "running": "info", "succeeded": "success", "failed": "danger",
}


def humanize(key: str) -> str:
    """A readable fallback for codes no table names (third-party plugins): ``"min_co2"`` -> ``"Min co2"``."""
    text = str(key).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def label_of(table: Mapping[str, Any], key: Any) -> str:
    if key is None:
        return ""
    value = table.get(str(key))
    return str(value) if value is not None else humanize(str(key))


# -- locale ---------------------------------------------------------------------------------------------
def is_english() -> bool:
    return str(get_locale() or "zh_CN").startswith("en")


def lang() -> str:
    """``"en"`` or ``"zh"``: the language code the services' ``as_dict(locale)`` / ``localized`` take."""
    return "en" if is_english() else "zh"


# -- money ------------------------------------------------------------------------------------------------
def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None



def money(value: Any, english: bool | None = None) -> str:
    """Compact money for the locale, through Babel (greenmatch.text.Amount).

    Chinese: ``¥1.5亿`` · ``¥3200万`` · ``¥8,000``; English: ``¥1.2B`` · ``¥150M`` · ``¥8,000``.
    """
    amount = _number(value)
    if amount is None:
        return "—"
    english = is_english() if english is None else english
    return Amount(amount, compact=True).render("en" if english else "zh_CN")


def money_full(value: Any) -> str:
    """Exact amount with separators: ``¥150,000,000``."""
    amount = _number(value)
    if amount is None:
        return "—"
    return f"¥{amount:,.0f}" if amount == int(amount) else f"¥{amount:,.2f}"


def number(value: Any, digits: int = 0) -> str:
    amount = _number(value)
    if amount is None:
        return "—"
    return f"{amount:,.{digits}f}"


def percent(value: Any, digits: int = 0) -> str:
    amount = _number(value)
    return "—" if amount is None else f"{amount * 100:.{digits}f}%"


# -- dates --------------------------------------------------------------------------------------------------
def _date_pattern() -> str:
    return "MMM d, y" if is_english() else "y年M月d日"


def day(value: Any) -> str:
    """Only the date, localised (datetimes are stored in UTC and shown in China time)."""
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        return format_datetime(value, _date_pattern())
    if isinstance(value, dt.date):
        return format_date(value, _date_pattern())
    return str(value)


def datetime(value: Any) -> str:
    """Date and time, localised, in China time."""
    if value is None:
        return "—"
    return format_datetime(value, "MMM d, y HH:mm" if is_english() else "y年M月d日 HH:mm")


# -- names of codes -------------------------------------------------------------------------------------------
def region_label(code: str | None, full: bool = True) -> str:
    if not code:
        return "—"
    regs = reference.regions()
    reg = regs.get(code)
    if reg is None:
        return code
    if not is_english():
        return reference.region_name(code, full=full) or code
    chain = [*reversed(reference.region_ancestors(code)), reg] if full else [reg]
    parts = [r.name_en or r.name_zh for r in chain if r.name_zh != "市辖区"]
    return " · ".join(parts) or code


def category_name(code: str | None) -> str:
    if not code:
        return ""
    cat = reference.catalogue().get(code)
    if cat is None:
        return code
    return cat.name_en if is_english() else cat.name_zh


def category_label(code: str | None) -> str:
    return f"{code} {category_name(code)}" if code else ""


def industry_label(code: str | None) -> str:
    if not code:
        return "—"
    ind = reference.industries().get(code)
    if ind is None:
        return code
    name = (ind.name_en or ind.name_zh) if is_english() else ind.name_zh
    return f"{code} {name}"


def instrument_name(key: str | None) -> str:
    from ..instruments import current_plugins

    if not key:
        return ""
    plugin = current_plugins().get(key)
    if plugin is None:
        return humanize(key)
    return plugin.name_en if is_english() else plugin.name_zh


def name_of(node: Any) -> str:
    """name_en / name_zh of a reference node or dict for the locale."""
    get = node.get if isinstance(node, Mapping) else lambda k: getattr(node, k, None)
    if is_english():
        return get("name_en") or get("name_zh") or ""
    return get("name_zh") or get("name_en") or ""


def options(table: Mapping[str, Any], keys: Any = None) -> list[tuple[str, str]]:
    """``[(key, label)]`` for checkbox groups and selects, in the order of ``keys`` (default: the table's)."""
    return [(key, label_of(table, key)) for key in (keys if keys is not None else table)]


def instrument_options(keys: Any) -> list[tuple[str, str]]:
    return [(key, instrument_name(key)) for key in keys]


def notification_title(note: Any) -> str:
    from ..matching.notifications import title

    return title(note)


def register(app: Flask) -> None:
    filters = {
        "money": money, "money_full": money_full, "number": number, "percent": percent, "day": day,
        "datetime": datetime, "region": region_label, "category": category_label, "category_name": category_name,
        "industry": industry_label, "instrument": instrument_name, "t": render,
        "notification_title": notification_title,
    }
    app.jinja_env.filters.update(filters)
    app.jinja_env.globals.update(
        label_of=label_of, humanize=humanize, options=options, instrument_options=instrument_options,
        is_english=is_english, name_of=name_of,
        PROJECT_STATUS=PROJECT_STATUS, PRODUCT_STATUS=PRODUCT_STATUS, ENGAGEMENT_STATUS=ENGAGEMENT_STATUS,
        RUN_STATUS=RUN_STATUS, STAGES=STAGES, CERTIFICATIONS=CERTIFICATIONS, COLLATERAL=COLLATERAL,
        RISK_EXPOSURES=RISK_EXPOSURES, BENEFITS=BENEFITS, CAPACITY_CHANGES=CAPACITY_CHANGES, EIA_STATUSES=EIA_STATUSES,
        PRIMARY_FUELS=PRIMARY_FUELS, LABELS=LABELS, INSTITUTION_TYPES=INSTITUTION_TYPES,
        ORG_KINDS=ORG_KINDS, ROLES=ROLES, CATEGORY_SOURCES=CATEGORY_SOURCES, SCORE_ITEMS=SCORE_ITEMS,
        SIGNALS=SIGNALS, PARAMS=PARAMS, PARAM_VALUES=PARAM_VALUES, LABEL_COLOURS=LABEL_COLOURS,
        STATUS_COLOURS=STATUS_COLOURS,
    )
