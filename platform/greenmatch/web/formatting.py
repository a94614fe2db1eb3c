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

from ..catalog import reference

# -- labels of the contract's codes (msgids in English; zh_CN in translations/) -------------------------
PROJECT_STATUS = {
    "draft": _l("Draft"),
    "submitted": _l("Submitted"),
    "returned": _l("Returned for changes"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
}
PRODUCT_STATUS = {"draft": _l("Draft"), "published": _l("Published"), "withdrawn": _l("Withdrawn")}
ENGAGEMENT_STATUS = {
    "requested": _l("Requested"),
    "accepted": _l("Accepted"),
    "declined": _l("Declined"),
    "in_progress": _l("In progress"),
    "financed": _l("Financed"),
    "closed": _l("Closed"),
    "expired": _l("Expired"),
}
RUN_STATUS = {"running": _l("Running"), "succeeded": _l("Succeeded"), "failed": _l("Failed")}
STAGES = {"planning": _l("Planning"), "construction": _l("Construction"), "operation": _l("Operation")}
CERTIFICATIONS = {
    "green_factory": _l("Green factory"),
    "green_park": _l("Green industrial park"),
    "green_supply_chain": _l("Green supply chain"),
    "green_design_product": _l("Green design product"),
    "zero_carbon_factory": _l("Zero-carbon factory"),
    "specialized_sme": _l("Specialised and sophisticated SME"),
    "little_giant": _l("“Little giant” enterprise"),
    "high_tech": _l("High-tech enterprise"),
}
COLLATERAL = {
    "carbon_allowance": _l("Carbon emission allowances"),
    "ccer": _l("CCER (certified emission reductions)"),
    "pollutant_rights": _l("Pollutant discharge rights"),
    "energy_use_rights": _l("Energy-use rights"),
    "water_rights": _l("Water rights"),
    "green_power_certificates": _l("Green power certificates"),
    "receivables": _l("Receivables"),
    "charging_rights": _l("Charging fee rights"),
    "intellectual_property": _l("Intellectual property"),
    "fixed_assets": _l("Fixed assets"),
}
RISK_EXPOSURES = {
    "pollution_liability": _l("Environmental pollution liability"),
    "first_of_kind_equipment": _l("First-of-kind major equipment"),
    "new_material_first_batch": _l("First batch of new materials"),
    "building_performance": _l("Green building performance"),
    "climate_catastrophe": _l("Climate and catastrophe risk"),
    "carbon_sink": _l("Carbon sink"),
    "tech_rnd": _l("Green technology R&D"),
}
BENEFITS = {
    "energy_saving_tce": _l("Energy saved (tce per year)"),
    "co2_reduction_t": _l("CO₂ reduction (t per year)"),
    "renewable_generation_mwh": _l("Renewable generation (MWh per year)"),
    "water_saving_t": _l("Water saved (t per year)"),
}
LABELS = {
    "dark_green": _l("Dark green"),
    "light_green": _l("Light green"),
    "yellow": _l("Yellow"),
    "red": _l("Red"),
}
INSTITUTION_TYPES = {
    "bank": _l("Bank"),
    "insurer": _l("Insurer"),
    "securities": _l("Securities firm"),
    "fund_manager": _l("Fund manager"),
    "other": _l("Other"),
}
ORG_KINDS = {
    "enterprise": _l("Enterprise"),
    "institution": _l("Financial institution"),
    "bureau": _l("Industry bureau"),
    "platform": _l("Platform"),
}
ROLES = {
    "enterprise": _l("Enterprise"),
    "institution": _l("Financial institution"),
    "bureau": _l("Industry bureau"),
    "admin": _l("Administrator"),
}
CATEGORY_SOURCES = {"declared": _l("declared"), "suggested": _l("suggested"), "confirmed": _l("confirmed")}
SCORE_ITEMS = {
    "category": _l("Catalogue category"),
    "verification": _l("Verification"),
    "benefits": _l("Environmental benefits"),
    "certifications": _l("Certifications"),
    "compliance": _l("Compliance"),
    "greenwashing_signals": _l("Greenwashing signals"),
}
SIGNALS = {
    "category_industry_mismatch": _l("Categories do not fit the industry"),
    "implausible_benefit": _l("Implausible benefit for the investment"),
    "renewable_without_generation_category": _l("Generation claimed without a generation category"),
    "whole_firm_on_small_project": _l("Whole firm labelled green on a small project"),
    "financing_exceeds_investment": _l("Financing need above total investment"),
}
# Product params of the built-in plugins (JSON-Schema property names) and their enum values.
PARAMS = {
    "min_amount_cny": _l("Minimum financing need (CNY)"),
    "max_amount_cny": _l("Maximum financing need (CNY)"),
    "regions": _l("Regions served"),
    "categories": _l("Green categories"),
    "stages": _l("Project stages"),
    "variants": _l("Loan variants"),
    "accepted_collateral": _l("Accepted collateral"),
    "indicative_rate_pct": _l("Indicative annual rate (%)"),
    "max_tenor_years": _l("Maximum tenor (years)"),
    "bond_types": _l("Bond types"),
    "min_issue_size_cny": _l("Minimum issue size (CNY)"),
    "issuer_min_rating": _l("Minimum issuer rating"),
    "max_proceeds_share": _l("Largest share of total investment (0–1)"),
    "tenor_years": _l("Tenor (years)"),
    "asset_classes": _l("Asset classes"),
    "min_asset_value_cny": _l("Minimum asset value (CNY)"),
    "min_operating_years": _l("Minimum years in operation"),
    "min_distribution_yield_pct": _l("Minimum distribution yield (%)"),
    "allow_concession": _l("Concession assets accepted"),
    "cover_types": _l("Covers offered"),
    "focus": _l("Investment focus"),
    "ticket_min_cny": _l("Minimum ticket (CNY)"),
    "ticket_max_cny": _l("Maximum ticket (CNY)"),
    "max_equity_share_pct": _l("Largest equity stake (%)"),
    "sectors": _l("Sectors"),
    "min_co2_reduction_t": _l("Minimum annual CO₂ reduction (t)"),
}
PARAM_VALUES = {
    **STAGES,
    **COLLATERAL,
    **RISK_EXPOSURES,
    "carbon_reduction_facility": _l("PBoC carbon-reduction facility"),
    "energy_efficiency": _l("Energy-efficiency credit"),
    "environmental_rights_pledge": _l("Environmental-rights pledge loan"),
    "general": _l("General green loan"),
    "ndrc_enterprise": _l("NDRC enterprise bond"),
    "exchange_corporate": _l("Exchange corporate bond"),
    "interbank_debt_financing": _l("Interbank debt financing instrument"),
    "financial": _l("Financial bond"),
    "carbon_neutral": _l("Carbon-neutral bond"),
    "clean_energy": _l("Clean energy"),
    "energy_storage": _l("Energy storage"),
    "water": _l("Water supply and treatment"),
    "waste": _l("Waste treatment"),
    "ecological": _l("Ecological protection"),
    "park_infrastructure": _l("Industrial park infrastructure"),
    "heating": _l("Heating"),
    "data_centres": _l("Data centres"),
    "nev": _l("New-energy vehicles"),
    "specialized_sme": CERTIFICATIONS["specialized_sme"],
    "little_giant": CERTIFICATIONS["little_giant"],
    "high_tech": CERTIFICATIONS["high_tech"],
    "green_technology": _l("Green technology"),
    "pollution_control": _l("Pollution control"),
    "ecological_restoration": _l("Ecological restoration"),
    "resource_efficiency": _l("Resource efficiency"),
    "green_transport": _l("Green transport"),
    "coal_power": _l("Coal power"),
    "petrochemicals": _l("Petrochemicals"),
    "chemicals": _l("Chemicals"),
    "steel": _l("Iron and steel"),
    "nonferrous_smelting": _l("Non-ferrous smelting"),
    "building_materials": _l("Building materials"),
}
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


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def money(value: Any, english: bool | None = None) -> str:
    """Compact money for the locale.

    Chinese: ``1.5亿元`` · ``3,200万元`` · ``8,000元``; English: ``¥1.20bn`` · ``¥150.0m`` · ``¥8,000``.
    """
    amount = _number(value)
    if amount is None:
        return "—"
    english = is_english() if english is None else english
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    if english:
        if amount >= 1e9:
            return f"{sign}¥{amount / 1e9:,.2f}bn"
        if amount >= 1e6:
            return f"{sign}¥{amount / 1e6:,.1f}m"
        return f"{sign}¥{amount:,.0f}"
    if amount >= 1e8:
        return f"{sign}{_trim(f'{amount / 1e8:,.2f}')}亿元"
    if amount >= 1e4:
        return f"{sign}{_trim(f'{amount / 1e4:,.2f}')}万元"
    return f"{sign}{amount:,.0f}元"


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


def register(app: Flask) -> None:
    filters = {
        "money": money, "money_full": money_full, "number": number, "percent": percent, "day": day,
        "datetime": datetime, "region": region_label, "category": category_label, "category_name": category_name,
        "industry": industry_label, "instrument": instrument_name,
    }
    app.jinja_env.filters.update(filters)
    app.jinja_env.globals.update(
        label_of=label_of, humanize=humanize, options=options, instrument_options=instrument_options,
        is_english=is_english, name_of=name_of,
        PROJECT_STATUS=PROJECT_STATUS, PRODUCT_STATUS=PRODUCT_STATUS, ENGAGEMENT_STATUS=ENGAGEMENT_STATUS,
        RUN_STATUS=RUN_STATUS, STAGES=STAGES, CERTIFICATIONS=CERTIFICATIONS, COLLATERAL=COLLATERAL,
        RISK_EXPOSURES=RISK_EXPOSURES, BENEFITS=BENEFITS, LABELS=LABELS, INSTITUTION_TYPES=INSTITUTION_TYPES,
        ORG_KINDS=ORG_KINDS, ROLES=ROLES, CATEGORY_SOURCES=CATEGORY_SOURCES, SCORE_ITEMS=SCORE_ITEMS,
        SIGNALS=SIGNALS, PARAMS=PARAMS, PARAM_VALUES=PARAM_VALUES, LABEL_COLOURS=LABEL_COLOURS,
        STATUS_COLOURS=STATUS_COLOURS,
    )
