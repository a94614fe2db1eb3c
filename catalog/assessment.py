"""Automated assessment of one project: categories, 两高, compliance, greenwashing signals, carbon
estimate, green score and four-colour label, and one fit per installed instrument plugin.

The rules it reports live in the core, where the instrument plugins reach them too:
:mod:`greenmatch.screening` (两高, compliance), :mod:`greenmatch.greenwashing` (signals, category vs
industry), :mod:`greenmatch.carbon` (carbon estimate). This module adds the catalogue's part: category
views with the classifier's suggestions, the green score and label.

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from greenmatch import reference
from greenmatch.carbon import CarbonEstimate, estimate_carbon
from greenmatch.facts import ProjectFacts
from greenmatch.greenwashing import Signal, category_fits_industry, greenwashing_signals
from greenmatch.instruments import InstrumentFit, InstrumentPlugin, Reason
from greenmatch.labels import GHG_MARKS
from greenmatch.rules_settings import RuleSettings, rules_or_default
from greenmatch.screening import (
    ComplianceResult,
    TwoHighResult,
    category_label,
    compliance,
    two_high,
)
from greenmatch.text import Clauses, Label, Listing, Msg, Num, render

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
    """(score, its items, label, why that label): the components of :func:`score_formula`, then its caps."""
    claimed = [v for v in views if v.source != "suggested" and reference.is_category(v.code, level=3)]
    items = [_category_item(claimed, s), _verification_item(claimed, s), _benefits_item(facts, carbon, s),
             _certifications_item(facts, s), _compliance_item(facts, comp, s)]
    if signals:
        items.append(ScoreItem("greenwashing_signals", -s.score_signal_penalty * len(signals), 0,
                               Msg("greenwashing signals (%(count)s): %(signals)s", count=len(signals),
                                   signals=Listing(Label("signal", x.code) for x in signals))))
    raw = max(0.0, min(100.0, sum(i.points for i in items)))
    score, binding = _capped(raw, _caps(claimed, signals, th, comp, s), s)
    label = _label(score, s)
    if binding is not None:
        label_reason = Msg("score %(score)s → %(label)s (%(why)s)", score=score, label=Label("label", label),
                           why=binding)
    else:
        label_reason = Msg("score %(score)s → %(label)s", score=score, label=Label("label", label))
    return score, items, label, label_reason


def _category_item(claimed: Sequence[CategoryView], s: RuleSettings) -> ScoreItem:
    """The strongest claimed level-3 item by its catalogue GHG mark."""
    points_by_ghg = {"direct_reduction": s.score_category_direct_reduction, "mixed": s.score_category_mixed,
                     "low_carbon_enabling": s.score_category_enabling}
    best = max(claimed, key=lambda v: points_by_ghg.get(v.ghg or "", s.score_category_unmarked), default=None)
    if best is None:
        return ScoreItem("category", 0, s.score_category_direct_reduction, Msg("no valid 2025 level-3 category"))
    pts = points_by_ghg.get(best.ghg or "", s.score_category_unmarked)
    mark = GHG_MARKS.get(best.ghg or "", "—")
    return ScoreItem("category", pts, s.score_category_direct_reduction,
                     Msg("%(category)s (GHG mark %(mark)s)", category=category_label(best.code), mark=mark))


def _verification_item(claimed: Sequence[CategoryView], s: RuleSettings) -> ScoreItem:
    confirmed = [v for v in claimed if v.source == "confirmed"]
    if claimed and len(confirmed) == len(claimed):
        pts, why = s.score_verification_confirmed, Msg("all categories confirmed by the bureau")
    elif confirmed:
        pts, why = s.score_verification_partly, Msg("some categories confirmed by the bureau")
    elif claimed:
        pts, why = s.score_verification_declared, Msg("categories declared, not yet confirmed")
    else:
        pts, why = 0.0, Msg("nothing to verify")
    return ScoreItem("verification", pts, s.score_verification_confirmed, why)


def _benefits_item(facts: ProjectFacts, carbon: CarbonEstimate, s: RuleSettings) -> ScoreItem:
    quantified = [k for k, v in (facts.benefits or {}).items()
                  if (any((x or 0) > 0 for x in v.values()) if isinstance(v, Mapping) else (v or 0) > 0)]
    pts = s.score_benefit_quantified if quantified else 0.0
    non_carbon = [k for k in ("pollutant_reduction_t", "water_saving_t") if k in quantified]
    if carbon.basis == "estimated" or non_carbon:  # pollution reduction and resource efficiency count too
        pts += s.score_carbon_physical
    elif carbon.basis == "declared":
        pts += s.score_carbon_declared_only
    return ScoreItem("benefits", pts, s.score_benefit_quantified + s.score_carbon_physical,
                     Msg("quantified: %(quantified)s; carbon basis: %(basis)s",
                         quantified=Listing(Label("benefit", k) for k in quantified),
                         basis=Label("carbon_basis", carbon.basis)))


def _certifications_item(facts: ProjectFacts, s: RuleSettings) -> ScoreItem:
    certs = [c for c in GREEN_CERTIFICATIONS if c in facts.certifications]
    pts = min(s.score_certification_max, s.score_certification_each * len(certs))
    return ScoreItem("certifications", pts, s.score_certification_max,
                     Msg("certifications: %(certifications)s",
                         certifications=Listing(Label("certification", c) for c in certs)))


def _compliance_item(facts: ProjectFacts, comp: ComplianceResult, s: RuleSettings) -> ScoreItem:
    """EIA (approval, registration or exemption), pollutant permit, no environmental penalty in 3 years."""
    record = facts.compliance or {}
    found: list[Msg | Label] = []
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
    return ScoreItem("compliance", pts, s.score_eia + s.score_permit + s.score_clean_record,
                     Msg("%(parts)s", parts=Clauses(found)))


def _caps(claimed: Sequence[CategoryView], signals: Sequence[Signal], th: TwoHighResult, comp: ComplianceResult,
          s: RuleSettings) -> list[tuple[float, Reason]]:
    """(highest score allowed, why) of every cap that applies (score_formula's "caps")."""
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
    return caps


def _capped(raw: float, caps: Sequence[tuple[float, Reason]], s: RuleSettings) -> tuple[int, Reason | None]:
    """The score after the tightest cap, and that cap's reason when it decides the label."""
    score, binding = raw, None
    if caps:
        cap, why = min(caps, key=lambda c: c[0])
        if raw > cap or cap < s.label_yellow_min:  # a red rule explains the label even when the score is low
            score, binding = min(raw, cap), why
    return round(score), binding


def _label(score: int, s: RuleSettings) -> str:
    if score >= s.label_dark_green_min:
        return "dark_green"
    if score >= s.label_light_green_min:
        return "light_green"
    if score >= s.label_yellow_min:
        return "yellow"
    return "red"


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
