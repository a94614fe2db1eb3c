"""Automated assessment of one project: categories, 两高, compliance, greenwashing signals, carbon
estimate, green score and four-colour label, and one fit per installed instrument plugin.

Pure logic over :class:`~greenmatch.facts.ProjectFacts` (no database, no Flask). Every threshold is a
field of :class:`~greenmatch.rules_settings.RuleSettings`; the score formula is published as
:data:`SCORE_FORMULA` / :func:`score_formula` and explained in ``docs/assessment.md``.

Typical use in a view::

    rules = catalog.service.rule_settings()  # the app's instance, built once at app creation
    result = assess(project.facts(), current_plugins(), settings=rules,
                    category_sources={c: "confirmed" for c in project.confirmed_categories})
    return result.as_dict(locale)
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from greenmatch import reference
from greenmatch.codes import category_covers, normalize_industry_code
from greenmatch.facts import ProjectFacts
from greenmatch.instruments import InstrumentFit, InstrumentPlugin, Reason
from greenmatch.labels import GHG_MARKS
from greenmatch.rules_settings import RuleSettings, rules_or_default
from greenmatch.screening import (
    ComplianceResult,
    TwoHighResult,
    category_label,
    compliance,
    covered,
    industry_label,
    level3_categories,
    longest_prefix,
    two_high,
)
from greenmatch.text import Amount, Clauses, Label, Listing, Msg, Name, Num, Pct, render

log = logging.getLogger(__name__)

CATEGORY_SOURCES = ("declared", "suggested", "confirmed")
LABELS = ("dark_green", "light_green", "yellow", "red")
GREEN_CERTIFICATIONS = ("green_factory", "green_park", "green_supply_chain", "green_design_product",
                        "zero_carbon_factory")

Classifier = Callable[..., Sequence[Any]]


class _Auto:
    def __repr__(self) -> str:
        return "AUTO"


AUTO: Any = _Auto()  # default of ``assess(classifier=...)``: use greenmatch.catalog.classifier if importable


# ------------------------------------------------------------------------------------------------
# Categories
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryView:
    code: str
    name_zh: str
    name_en: str
    source: str  # declared | suggested | confirmed
    confidence: float
    ghg: str | None = None  # direct_reduction | low_carbon_enabling | mixed | None
    fits_industry: bool | None = None  # None: cannot be judged

    def as_dict(self, locale: str | None = None) -> dict[str, Any]:
        return {"code": self.code, "name_zh": self.name_zh, "name_en": self.name_en, "source": self.source,
                "confidence": round(self.confidence, 4), "ghg": self.ghg, "fits_industry": self.fits_industry}


def category_fits_industry(code: str, industry_code: str, settings: RuleSettings | None = None) -> bool | None:
    """Whether a claimed level-3 item's activity fits the project's industry (GB/T 4754-2017).

    The catalogue's codes describe the *activity*, not the firm (its note 3). An item fits when
    (1) it is a retrofit/transition item (``transition_categories``: a 1.4.1 retrofit in a 3120 steel
    plant is consistent), or (2) one of its activity codes is in a division whose work is hosted by a
    plant of any industry (``hostable_activity_divisions``: construction and installation 47-50, e.g.
    4861/4862 engineering, IT and technical services, environmental treatment) *and it has no other
    (characteristic) code*, or (3) one of its characteristic codes shares the project's division
    (first two digits), or (4) it is an on-site activity (``onsite_categories``). None when it cannot be judged:
    unknown industry, unknown item, or an item whose catalogue row names no code.
    """
    settings = rules_or_default(settings)
    cat = reference.catalogue().get(code)
    industry = normalize_industry_code(industry_code or "")
    if cat is None or cat.level != 3 or industry is None:
        return None
    if covered([code], settings.transition_categories):
        return True
    activities = [a for a in cat.activity_codes if a]
    if not activities:
        return None
    # Judged on the item's *characteristic* codes: the construction/service codes most items list
    # (4840, 4875, 7484 ...) would make it fit any industry (issue #12: a plastics plant claiming wind).
    if any(a[:2] == industry[:2] for a in activities):
        return True
    characteristic = [a for a in activities if a[:2] not in settings.hostable_activity_divisions]
    if not characteristic:
        return True
    # activities any plant hosts on its own site (rooftop PV, waste heat, CCUS, co-processing)
    return bool(covered([code], settings.onsite_categories))


def _category_views(facts: ProjectFacts, settings: RuleSettings, sources: Mapping[str, str] | None,
                    classifier: Classifier | None) -> list[CategoryView]:
    sources = {code: str(source) for code, source in (sources or {}).items()}  # StrEnum values become str
    bad = {c: s for c, s in sources.items() if s not in CATEGORY_SOURCES}
    if bad:
        raise ValueError(f"unknown category sources: {bad}; use one of {', '.join(CATEGORY_SOURCES)}")
    cats = reference.catalogue()
    views: list[CategoryView] = []
    for code in dict.fromkeys(facts.categories):
        source = sources.get(code, "declared")
        cat = cats.get(code)
        fits = category_fits_industry(code, facts.industry_code, settings)
        if cat is None or cat.level != 3:
            confidence = 0.0
        elif source == "confirmed":
            confidence = settings.confirmed_confidence
        else:
            confidence = settings.declared_mismatch_confidence if fits is False else settings.declared_confidence
        views.append(CategoryView(code, cat.name_zh if cat else "", cat.name_en if cat else "", source,
                                  confidence, cat.ghg if cat else None, fits))
    taken = {v.code for v in views}
    for s in _suggestions(facts, settings, classifier):
        code = _attr(s, "code")
        cat = cats.get(code)
        if code in taken or cat is None or cat.level != 3:
            continue
        confidence = float(_attr(s, "confidence") or 0.0)
        if confidence < settings.suggestion_min_confidence:
            continue
        taken.add(code)
        views.append(CategoryView(code, cat.name_zh, cat.name_en, "suggested", confidence, cat.ghg,
                                  category_fits_industry(code, facts.industry_code, settings)))
    return views


def _attr(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)


def default_classifier() -> Classifier | None:
    """``greenmatch.catalog.classifier.classify`` when that module is importable, else None."""
    try:
        from greenmatch.catalog.classifier import classify
    except ImportError:
        return None
    return classify


def _suggestions(facts: ProjectFacts, settings: RuleSettings, classifier: Classifier | None) -> Sequence[Any]:
    if classifier is None or settings.suggestion_limit <= 0:
        return ()
    try:
        return list(classifier(facts.name, facts.description, industry_code=facts.industry_code,
                               limit=settings.suggestion_limit))[: settings.suggestion_limit]
    except Exception:  # suggestions are an aid: a classifier failure must not break the assessment
        log.exception("category classifier failed for project %s", facts.id)
        return ()


# ------------------------------------------------------------------------------------------------
# Carbon estimate
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CarbonEstimate:
    """Annual CO2 reduction. ``co2_reduction_t`` is the platform's estimate when the project gives
    physical quantities (MWh generated, tce saved), else the enterprise's declared figure, else None."""

    co2_reduction_t: float | None
    estimated_t: float | None
    declared_t: float | None
    basis: str  # estimated | declared | none
    method: Reason
    grid_factor_t_per_mwh: float
    coal_factor_t_per_tce: float
    generation_mwh: float = 0.0
    energy_saving_tce: float = 0.0

    @property
    def factors(self) -> dict[str, float]:
        return {"grid_t_co2_per_mwh": self.grid_factor_t_per_mwh, "coal_t_co2_per_tce": self.coal_factor_t_per_tce}

    def as_dict(self, locale: str | None = None) -> dict[str, Any]:
        return {
            "co2_reduction_t": self.co2_reduction_t,
            "estimated_co2_reduction_t": self.estimated_t,
            "declared_co2_reduction_t": self.declared_t,
            "basis": self.basis,
            "method": render(self.method, locale),
            "factors": self.factors,
        }


def grid_factor(facts: ProjectFacts, settings: RuleSettings | None = None) -> tuple[float, Msg]:
    """(tCO2/MWh, its source) for the project's region: a configured regional factor, else national."""
    settings = rules_or_default(settings)
    best = longest_prefix(settings.grid_factor_by_region, facts.region_code or "")
    if best is not None:
        return best[1], Msg("configured regional factor for %(region)s", region=Name("region", best[0]))
    return settings.grid_factor_t_per_mwh, Msg(settings.grid_factor_source)


def co2_reduction_t(facts: ProjectFacts, settings: RuleSettings | None = None) -> float | None:
    """``estimate_carbon(facts, settings).co2_reduction_t``, the same arithmetic without composing the
    method text (the instrument plugins need the figure for every project of a matching run)."""
    settings = rules_or_default(settings)
    mwh, tce = facts.benefit("renewable_generation_mwh"), facts.benefit("energy_saving_tce")
    saved_mwh, sink = facts.benefit("electricity_saving_mwh"), facts.benefit("carbon_sink_tco2")
    parts: list[float] = []
    if mwh > 0 or saved_mwh > 0:
        parts.append((mwh + saved_mwh) * grid_factor(facts, settings)[0])
    if tce > 0:
        parts.append(tce * settings.coal_factor_t_per_tce)
    if sink > 0:
        parts.append(sink)
    if parts:
        return sum(parts)
    return facts.benefit("co2_reduction_t") or None


def estimate_carbon(facts: ProjectFacts, settings: RuleSettings | None = None) -> CarbonEstimate:
    """renewable_generation_mwh × grid factor + energy_saving_tce × coal factor, per year; the method
    names every factor used. A declared ``co2_reduction_t`` is reported beside the estimate."""
    settings = rules_or_default(settings)
    mwh, tce = facts.benefit("renewable_generation_mwh"), facts.benefit("energy_saving_tce")
    declared = facts.benefit("co2_reduction_t") or None
    grid, grid_source = grid_factor(facts, settings)
    coal = settings.coal_factor_t_per_tce
    parts: list[float] = []
    terms: list[Msg] = []
    if mwh > 0:
        parts.append(mwh * grid)
        terms.append(Msg("renewable generation %(mwh)s MWh × %(factor)s tCO2/MWh (%(source)s) = %(t)s t",
                         mwh=Num(mwh, 2), factor=grid, source=grid_source, t=Num(mwh * grid, 2)))
    saved_mwh, sink = facts.benefit("electricity_saving_mwh"), facts.benefit("carbon_sink_tco2")
    if saved_mwh > 0:  # electricity saved displaces grid power: the grid factor, not tce x 2.493 (issue #12)
        parts.append(saved_mwh * grid)
        terms.append(Msg("electricity saved %(mwh)s MWh × %(factor)s tCO2/MWh (%(source)s) = %(t)s t",
                         mwh=Num(saved_mwh, 2), factor=grid, source=grid_source, t=Num(saved_mwh * grid, 2)))
    if tce > 0:
        parts.append(tce * coal)
        terms.append(Msg("energy saved %(tce)s tce × %(factor)s tCO2/tce (%(source)s) = %(t)s t",
                         tce=Num(tce, 2), factor=coal, source=Msg(settings.coal_factor_source), t=Num(tce * coal, 2)))
    if sink > 0:
        parts.append(sink)
        terms.append(Msg("carbon sink %(t)s tCO2 as reported (%(method)s)", t=Num(sink, 2),
                         method=Msg(settings.carbon_sink_method)))
    estimated = sum(parts) if parts else None
    if estimated is not None:
        basis, value = "estimated", estimated
        method = Msg("platform estimate per year: %(terms)s; total %(total)s tCO2", terms=Clauses(terms),
                     total=Num(estimated, 2))
        if declared is not None:
            method = Msg("%(method)s. Declared by the enterprise: %(declared)s tCO2 (not verified)", method=method,
                         declared=Num(declared, 2))
    elif declared is not None:
        basis, value = "declared", declared
        method = Msg("declared by the enterprise: %(declared)s tCO2 per year (not verified); no renewable generation "
                     "or energy saving given, so the platform cannot estimate it", declared=Num(declared, 2))
    else:
        basis, value = "none", None
        method = Msg("no quantified benefit: give renewable generation (MWh) or energy saved (tce) per year")
    return CarbonEstimate(value, estimated, declared, basis, method, grid, coal, mwh, tce)


# ------------------------------------------------------------------------------------------------
# Greenwashing signals: a registry of named rules, each silent on a clean project
# ------------------------------------------------------------------------------------------------

SignalRule = Callable[[ProjectFacts, RuleSettings], "Reason | tuple[Reason, str] | None"]
SEVERITIES = ("info", "warning", "block")
GREENWASHING_SIGNALS: dict[str, SignalRule] = {}


def greenwashing_signal(code: str) -> Callable[[SignalRule], SignalRule]:
    """Register a rule under ``code`` (the code the API reports)."""

    def register(func: SignalRule) -> SignalRule:
        GREENWASHING_SIGNALS[code] = func
        return func

    return register


@dataclass(frozen=True)
class Signal:
    """One greenwashing finding. ``severity`` (api.md section 5): ``info``, ``warning`` (dark green
    withheld, score penalty) or ``block`` (label capped at yellow, carbon-facility advice withheld)."""

    code: str
    message: Reason
    severity: str = "warning"

    def as_dict(self, locale: str | None = None) -> dict[str, str]:
        return {"code": self.code, "message": render(self.message, locale), "severity": self.severity}


@greenwashing_signal("category_industry_mismatch")
def category_industry_mismatch(facts: ProjectFacts, settings: RuleSettings) -> Reason | None:
    """Claimed items whose activity codes do not fit the project's industry (see
    :func:`category_fits_industry`), or codes that are not level-3 items of the 2025 catalogue."""
    valid, invalid = level3_categories(facts.categories)
    misfits = [c for c in valid if category_fits_industry(c, facts.industry_code, settings) is False]
    if not misfits and not invalid:
        return None
    parts: list[Msg] = []
    if misfits:
        acts = Clauses(Msg("%(code)s: %(activities)s", code=c,
                           activities=Listing(reference.catalogue()[c].activity_codes))
                       for c in misfits)
        parts.append(Msg("categories %(categories)s describe activities (%(activities)s) that do not fit the "
                         "project's industry %(industry)s", categories=Listing(category_label(c) for c in misfits),
                         activities=acts, industry=industry_label(facts.industry_code)))
    if invalid:
        parts.append(Msg("%(codes)s not level-3 items of the 2025 catalogue", codes=Listing(invalid)))
    return parts[0] if len(parts) == 1 else Msg("%(parts)s", parts=Clauses(parts))


def co2_ceiling(categories: Iterable[str], settings: RuleSettings | None = None) -> float:
    """The plausible annual tCO2 per ¥10k invested for these categories (most permissive applies)."""
    settings = rules_or_default(settings)
    ceilings = []
    for code in categories:
        best = longest_prefix(settings.max_co2_t_per_10k_cny_by_category, code, category_covers)
        ceilings.append(best[1] if best else settings.max_co2_t_per_10k_cny)
    return max(ceilings) if ceilings else settings.max_co2_t_per_10k_cny


@greenwashing_signal("implausible_benefit")
def implausible_benefit(facts: ProjectFacts, settings: RuleSettings) -> Reason | None:
    """Annual CO2 reduction (the larger of declared and estimated) per ¥10k of total investment above
    the ceiling of the claimed categories (``max_co2_t_per_10k_cny``, ``..._by_category``)."""
    investment = facts.total_investment_cny or 0
    if investment <= 0:
        return None
    carbon = estimate_carbon(facts, settings)
    co2 = max(carbon.declared_t or 0.0, carbon.estimated_t or 0.0)
    if co2 <= 0:
        return None
    ratio = co2 / (investment / 10_000)
    ceiling = co2_ceiling(level3_categories(facts.categories)[0], settings)
    if ratio <= ceiling:
        return None
    severity = "block" if ratio > ceiling * settings.implausible_block_factor else "warning"
    return Msg("annual CO2 reduction %(co2)s t on a total investment of %(investment)s is %(ratio)s t per ¥10k "
               "invested; more than %(ceiling)s t per ¥10k is implausible for these categories", co2=Num(co2),
               investment=Amount(investment), ratio=Num(ratio, 1), ceiling=Num(ceiling, None)), severity


@greenwashing_signal("renewable_without_generation_category")
def renewable_without_generation_category(facts: ProjectFacts, settings: RuleSettings) -> Reason | None:
    """Renewable generation (MWh) claimed while no claimed category generates power or heat
    (``generation_categories``: 4.2.x, 4.3.1/4.3.3/4.3.4/4.3.7, 3.2.4, 3.2.6, 6.1.5, 6.5.4)."""
    mwh = facts.benefit("renewable_generation_mwh")
    if mwh <= 0 or covered(facts.categories, settings.generation_categories):
        return None
    return Msg("renewable generation of %(mwh)s MWh/yr claimed, but no generation category (%(categories)s) is "
               "claimed", mwh=Num(mwh), categories=Listing(settings.generation_categories))


@greenwashing_signal("generation_category_without_generation")
def generation_category_without_generation(facts: ProjectFacts, settings: RuleSettings) -> Reason | None:
    """A generation category claimed (4.2.x etc.) without any generation figure (MWh a year)."""
    gen = covered(level3_categories(facts.categories)[0], settings.generation_figure_categories)
    if not gen or facts.benefit("renewable_generation_mwh") > 0:
        return None
    return Msg("generation categories %(categories)s claimed without annual generation (MWh)",
               categories=Listing(gen))


@greenwashing_signal("two_high_capacity_claims_green")
def two_high_capacity_claims_green(facts: ProjectFacts, settings: RuleSettings) -> tuple[Reason, str] | None:
    """New or expanded 两高 capacity claiming a green item — in the declared ``capacity_change`` of a
    两高 plant, or in the name/description (``two_high_capacity_terms`` with ``capacity_growth_terms``:
    "焦化厂扩建焦炉" declared as PV). Block: the claim contradicts 环环评〔2021〕45号."""
    cats = level3_categories(facts.categories)[0]
    if not cats:
        return None
    text = f"{facts.name} {facts.description}"
    # a growth term shortly before a 两高 unit in one clause ("扩建焦炉", "新建4500吨/日熟料生产线"), so
    # "利用现有熟料生产线，新建协同处置系统" does not count
    units = "|".join(re.escape(t) for t in settings.two_high_capacity_terms)
    growth = "|".join(re.escape(t) for t in settings.capacity_growth_terms)
    hit = re.search(rf"({growth})[^，。；,;]{{0,12}}?({units})|({units})[^，。；,;]{{0,4}}?({growth})", text)
    th = two_high(facts, settings)
    declared = th.flag and facts.capacity_change in ("new", "expansion")
    if not declared and not hit:
        return None
    if declared:
        return (Msg("%(change)s in a 两高 sector claims %(categories)s: new 两高 capacity is never green",
                    change=Label("capacity_change", facts.capacity_change), categories=Listing(cats)), "block")
    found = hit.group(0)
    return (Msg("the name or description names 两高 capacity growth (“%(found)s”) while the project claims "
                "%(categories)s", found=found, categories=Listing(cats)), "block")


@greenwashing_signal("whole_firm_on_small_project")
def whole_firm_on_small_project(facts: ProjectFacts, settings: RuleSettings) -> Reason | None:
    """A firm presented as green on the strength of one small sub-project.

    The catalogue's codes describe the activity, not the firm. Fires when the project is small for the
    firm — total investment below ``whole_firm_max_investment_share`` of the annual revenue (a revenue
    that large is the firm's, not the sub-project's) — and the application leans on the firm: firm-level
    certifications (green factory/park/supply chain, zero-carbon factory) or firm-wide wording in the
    name or description ("全厂", "company-wide", ...). The reviewer should assess only the sub-project.
    """
    revenue, investment = facts.annual_revenue_cny or 0, facts.total_investment_cny or 0
    if revenue <= 0 or investment <= 0:
        return None
    share = investment / revenue
    if share >= settings.whole_firm_max_investment_share:
        return None
    certs = [c for c in facts.certifications if c in settings.firm_level_certifications]
    text = f"{facts.name} {facts.description}".casefold()
    terms = [t for t in settings.firm_wide_terms if t.casefold() in text]
    if not certs and not terms:
        return None
    leaning = Listing([*(Label("certification", c) for c in certs), *(Msg("“%(term)s”", term=t) for t in terms)])
    return Msg("total investment %(investment)s is only %(share)s of annual revenue %(revenue)s, yet the application "
               "leans on the whole firm (%(leaning)s): the catalogue labels the activity, not the firm — only this "
               "sub-project can be assessed as green", investment=Amount(investment), share=Pct(share, 1),
               revenue=Amount(revenue), leaning=leaning)


@greenwashing_signal("financing_exceeds_investment")
def financing_exceeds_investment(facts: ProjectFacts, settings: RuleSettings) -> Reason | None:
    """Financing need greater than the project's total investment."""
    need, investment = facts.financing_need_cny or 0, facts.total_investment_cny or 0
    if need <= investment:
        return None
    return Msg("financing need %(need)s exceeds the total investment %(investment)s: the excess cannot go to the "
               "green project", need=Amount(need), investment=Amount(investment))


def greenwashing_signals(facts: ProjectFacts, settings: RuleSettings | None = None) -> list[Signal]:
    """Every registered rule that fires, in registry order."""
    settings = rules_or_default(settings)
    out = []
    for code, rule in GREENWASHING_SIGNALS.items():
        found = rule(facts, settings)
        if found is None:
            continue
        message, severity = found if isinstance(found, tuple) else (found, "warning")
        out.append(Signal(code, message, severity))
    return out


def blocking_signals(facts: ProjectFacts, settings: RuleSettings | None = None) -> list[Signal]:
    """The ``block`` signals: they cap the label and withhold carbon-facility advice (plugins read them)."""
    return [x for x in greenwashing_signals(facts, settings) if x.severity == "block"]


# ------------------------------------------------------------------------------------------------
# Green score and four-colour label
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreItem:
    key: str
    points: float
    max_points: float
    reason: Reason

    def as_dict(self, locale: str | None = None) -> dict[str, Any]:
        return {"key": self.key, "points": self.points, "max_points": self.max_points,
                "reason": render(self.reason, locale)}


def score_formula(settings: RuleSettings | None = None) -> dict[str, Any]:
    """The score formula with the configured numbers, for the API and pages (docs/assessment.md); each
    ``text`` is a message rendered at the edge."""
    s = rules_or_default(settings)

    def g(value: float) -> str:
        return Num(value, None)

    return {
        "components": [
            {"key": "category", "max_points": s.score_category_direct_reduction,
             "text": Msg("strongest claimed 2025 level-3 item: √√ direct reduction %(direct)s, mixed √√/√ %(mixed)s, "
                         "√ low-carbon enabling %(enabling)s, unmarked green item %(unmarked)s, none 0",
                         direct=g(s.score_category_direct_reduction), mixed=g(s.score_category_mixed),
                         enabling=g(s.score_category_enabling), unmarked=g(s.score_category_unmarked))},
            {"key": "verification", "max_points": s.score_verification_confirmed,
             "text": Msg("categories confirmed by the industry bureau: all %(all)s, some %(some)s, declared only "
                         "%(declared)s", all=g(s.score_verification_confirmed), some=g(s.score_verification_partly),
                         declared=g(s.score_verification_declared))},
            {"key": "benefits", "max_points": s.score_benefit_quantified + s.score_carbon_physical,
             "text": Msg("annual benefits quantified %(quantified)s; CO2 estimable from MWh/tce %(physical)s "
                         "(declared CO2 only %(declared)s)", quantified=g(s.score_benefit_quantified),
                         physical=g(s.score_carbon_physical), declared=g(s.score_carbon_declared_only))},
            {"key": "certifications", "max_points": s.score_certification_max,
             "text": Msg("green manufacturing certifications, %(each)s each, at most %(max)s",
                         each=g(s.score_certification_each), max=g(s.score_certification_max))},
            {"key": "compliance", "max_points": s.score_eia + s.score_permit + s.score_clean_record,
             "text": Msg("EIA approval %(eia)s (planning stage %(eia_not_due)s); pollutant permit %(permit)s (before "
                         "operation %(permit_not_due)s); no environmental penalty in 3 years %(clean)s",
                         eia=g(s.score_eia), eia_not_due=g(s.score_eia_not_due), permit=g(s.score_permit),
                         permit_not_due=g(s.score_permit_not_due), clean=g(s.score_clean_record))},
        ],
        "penalties": [{"key": "greenwashing_signal", "points": -s.score_signal_penalty,
                       "text": Msg("per greenwashing signal")}],
        "caps": [
            {"when": "two_high_new_capacity", "label": "red", "max_score": s.label_yellow_min - 1,
             "text": Msg("两高 sector without retrofit categories")},
            {"when": "major_env_penalty", "label": "red", "max_score": s.label_yellow_min - 1,
             "text": Msg("major environmental penalty in 3 years")},
            {"when": "no_catalogue_category", "label": "yellow", "max_score": s.label_light_green_min - 1,
             "text": Msg("no valid level-3 catalogue item")},
            {"when": "greenwashing_signal", "label": "light_green", "max_score": s.label_dark_green_min - 1,
             "text": Msg("any greenwashing signal open")},
        ],
        "labels": {"dark_green": s.label_dark_green_min, "light_green": s.label_light_green_min,
                   "yellow": s.label_yellow_min, "red": 0},
        "text": Msg("score = category + verification + benefits + certifications + compliance − %(penalty)s × signals, "
                    "clamped to 0..100 and capped by the rules above; label: dark green ≥ %(dark)s, light green ≥ "
                    "%(light)s, yellow ≥ %(yellow)s, else red", penalty=g(s.score_signal_penalty),
                    dark=g(s.label_dark_green_min), light=g(s.label_light_green_min), yellow=g(s.label_yellow_min)),
    }


SCORE_FORMULA: dict[str, Any] = score_formula()


def _score(facts: ProjectFacts, views: Sequence[CategoryView], signals: Sequence[Signal], carbon: CarbonEstimate,
           th: TwoHighResult, comp: ComplianceResult, s: RuleSettings) -> tuple[int, list[ScoreItem], str, Reason]:
    items: list[ScoreItem] = []
    claimed = [v for v in views if v.source != "suggested" and reference.is_category(v.code, level=3)]

    # category strength
    points_by_ghg = {"direct_reduction": s.score_category_direct_reduction, "mixed": s.score_category_mixed,
                     "low_carbon_enabling": s.score_category_enabling}
    best = max(claimed, key=lambda v: points_by_ghg.get(v.ghg or "", s.score_category_unmarked), default=None)
    if best is None:
        items.append(ScoreItem("category", 0, s.score_category_direct_reduction,
                               Msg("no valid 2025 level-3 category")))
    else:
        pts = points_by_ghg.get(best.ghg or "", s.score_category_unmarked)
        mark = GHG_MARKS.get(best.ghg or "", "—")
        items.append(ScoreItem("category", pts, s.score_category_direct_reduction,
                               Msg("%(category)s (GHG mark %(mark)s)", category=category_label(best.code), mark=mark)))

    # verification
    confirmed = [v for v in claimed if v.source == "confirmed"]
    if claimed and len(confirmed) == len(claimed):
        pts, why = s.score_verification_confirmed, Msg("all categories confirmed by the bureau")
    elif confirmed:
        pts, why = s.score_verification_partly, Msg("some categories confirmed by the bureau")
    elif claimed:
        pts, why = s.score_verification_declared, Msg("categories declared, not yet confirmed")
    else:
        pts, why = 0.0, Msg("nothing to verify")
    items.append(ScoreItem("verification", pts, s.score_verification_confirmed, why))

    # benefits
    quantified = [k for k, v in (facts.benefits or {}).items()
                  if (any((x or 0) > 0 for x in v.values()) if isinstance(v, Mapping) else (v or 0) > 0)]
    pts = s.score_benefit_quantified if quantified else 0.0
    non_carbon = [k for k in ("pollutant_reduction_t", "water_saving_t") if k in quantified]
    if carbon.basis == "estimated" or non_carbon:  # pollution reduction and resource efficiency count too
        pts += s.score_carbon_physical
    elif carbon.basis == "declared":
        pts += s.score_carbon_declared_only
    items.append(ScoreItem(
        "benefits", pts, s.score_benefit_quantified + s.score_carbon_physical,
        Msg("quantified: %(quantified)s; carbon basis: %(basis)s",
            quantified=Listing(Label("benefit", k) for k in quantified), basis=Label("carbon_basis", carbon.basis))))

    # certifications
    certs = [c for c in GREEN_CERTIFICATIONS if c in facts.certifications]
    pts = min(s.score_certification_max, s.score_certification_each * len(certs))
    items.append(ScoreItem("certifications", pts, s.score_certification_max,
                           Msg("certifications: %(certifications)s",
                               certifications=Listing(Label("certification", c) for c in certs))))

    # compliance
    record = facts.compliance or {}
    found: list[Msg] = []
    pts = 0.0
    if facts.eia_status in s.eia_satisfied_statuses:
        pts += s.score_eia
        found.append(Label("eia_status", facts.eia_status))
    elif facts.stage not in s.eia_required_stages:
        pts += s.score_eia_not_due
        found.append(Msg("EIA not yet due"))
    else:
        found.append(Msg("EIA approval missing"))
    if record.get("pollutant_permit"):
        pts += s.score_permit
        found.append(Msg("pollutant permit held"))
    elif facts.stage != "operation":
        pts += s.score_permit_not_due
        found.append(Msg("pollutant permit not yet due"))
    else:
        found.append(Msg("no pollutant permit recorded"))
    penalties = int(record.get("env_penalties_3y") or 0)
    if penalties == 0 and not comp.label_vetoed:
        pts += s.score_clean_record
        found.append(Msg("no environmental penalty in 3 years"))
    elif penalties == 0:  # only the major-penalty answer is given
        found.append(Msg("major environmental penalty in 3 years"))
    else:
        found.append(Msg("environmental penalties in 3 years: %(count)s", count=penalties))
    items.append(ScoreItem("compliance", pts, s.score_eia + s.score_permit + s.score_clean_record,
                           Msg("%(parts)s", parts=Clauses(found))))

    if signals:
        items.append(ScoreItem("greenwashing_signals", -s.score_signal_penalty * len(signals), 0,
                               Msg("greenwashing signals (%(count)s): %(signals)s", count=len(signals),
                                   signals=Listing(Label("signal", x.code) for x in signals))))

    raw = max(0.0, min(100.0, sum(i.points for i in items)))
    caps: list[tuple[float, Reason]] = []
    if th.blocks_financing and th.reason is not None:
        caps.append((s.label_yellow_min - 1, th.reason))
    if comp.label_vetoed:
        caps.append((s.label_yellow_min - 1, next(v.reason for v in comp.vetoes if v.label)))
    if not claimed:
        caps.append((s.label_light_green_min - 1, Msg("no valid catalogue category: at most yellow")))
    if signals:
        caps.append((s.label_dark_green_min - 1, Msg("open greenwashing signals: dark green withheld")))
    blocks = [x for x in signals if x.severity == "block"]
    if blocks:
        caps.append((s.label_light_green_min - 1, Msg(
            "blocking signal “%(signal)s”: at most yellow — %(message)s", signal=Label("signal", blocks[0].code),
            message=blocks[0].message)))
    score, binding = raw, None
    if caps:
        cap, why = min(caps, key=lambda c: c[0])
        if raw > cap or cap < s.label_yellow_min:  # a red rule explains the label even when the score is low
            score, binding = min(raw, cap), why
    score_int = round(score)
    if score_int >= s.label_dark_green_min:
        label = "dark_green"
    elif score_int >= s.label_light_green_min:
        label = "light_green"
    elif score_int >= s.label_yellow_min:
        label = "yellow"
    else:
        label = "red"
    if binding is not None:
        label_reason = Msg("score %(score)s → %(label)s (%(why)s)", score=score_int, label=Label("label", label),
                           why=binding)
    else:
        label_reason = Msg("score %(score)s → %(label)s", score=score_int, label=Label("label", label))
    return score_int, items, label, label_reason


# ------------------------------------------------------------------------------------------------
# The assessment
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Assessment:
    categories: tuple[CategoryView, ...]
    two_high: TwoHighResult
    compliance: ComplianceResult
    greenwashing_signals: tuple[Signal, ...]
    carbon: CarbonEstimate
    green_score: int
    label: str
    label_reason: Reason
    score_breakdown: tuple[ScoreItem, ...]
    instruments: tuple[InstrumentFit, ...] = field(default_factory=tuple)

    def instrument(self, key: str) -> InstrumentFit | None:
        return next((f for f in self.instruments if f.instrument == key), None)

    def as_dict(self, locale: str | None = None) -> dict[str, Any]:
        """The ``GET /projects/{id}/assessment`` body (api.md), plus explanatory extras."""
        return {
            "categories": [c.as_dict(locale) for c in self.categories],
            "two_high": self.two_high.as_dict(locale),
            "compliance": self.compliance.as_dict(locale),
            "greenwashing_signals": [s.as_dict(locale) for s in self.greenwashing_signals],
            "carbon": self.carbon.as_dict(locale),
            "green_score": self.green_score,
            "label": self.label,
            "label_reason": render(self.label_reason, locale),
            "score_breakdown": [i.as_dict(locale) for i in self.score_breakdown],
            "instruments": [f.as_dict(locale) for f in self.instruments],
        }


def _instrument_fit(plugin: InstrumentPlugin, facts: ProjectFacts, key: str) -> InstrumentFit:
    try:
        return plugin.assess(facts)
    except Exception as exc:  # one broken plugin must not hide the others
        log.exception("instrument plugin %s failed to assess project %s", key, facts.id)
        return InstrumentFit(key, False, 0.0, (Msg("assessment unavailable: plugin error (%(error)s)",
                                                   error=type(exc).__name__),))


def assess(facts: ProjectFacts, plugins: Mapping[str, InstrumentPlugin] | None = None,
           settings: RuleSettings | None = None, category_sources: Mapping[str, str] | None = None,
           classifier: Classifier | None = AUTO) -> Assessment:
    """Assess one project.

    ``plugins``: installed instrument plugins by key (None: no instrument fits). ``settings``: rule
    settings (None: defaults). ``category_sources``: source per code of ``facts.categories``
    (``"declared"`` or ``"confirmed"``; missing codes count as declared). ``classifier``: called as
    ``classifier(name, description, industry_code=..., limit=...)`` for suggested categories; the
    default uses ``greenmatch.catalog.classifier.classify`` when importable; None disables suggestions.
    """
    settings = rules_or_default(settings)
    if classifier is AUTO:
        classifier = default_classifier()
    views = _category_views(facts, settings, category_sources, classifier)
    th = two_high(facts, settings)
    comp = compliance(facts, settings)
    signals = greenwashing_signals(facts, settings)
    carbon = estimate_carbon(facts, settings)
    score, items, label, label_reason = _score(facts, views, signals, carbon, th, comp, settings)
    fits = tuple(_instrument_fit(p, facts, k) for k, p in (plugins or {}).items())
    return Assessment(tuple(views), th, comp, tuple(signals), carbon, score, label, label_reason, tuple(items), fits)
