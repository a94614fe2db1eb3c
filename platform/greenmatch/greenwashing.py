"""Greenwashing signals: a registry of named rules over one project, each silent on a clean project.

Pure logic over :class:`~greenmatch.facts.ProjectFacts`; every threshold is a field of
:class:`~greenmatch.rules_settings.RuleSettings`. Core: the project assessment
(``greenmatch.catalog.assessment``) reports and scores the signals, and instrument plugins read the
blocking ones through the toolkit (:mod:`greenmatch.instruments`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from greenmatch.codes import category_covers, normalize_industry_code
from greenmatch.facts import ProjectFacts
from greenmatch.instruments import Reason
from greenmatch.text import Amount, Clauses, Label, Listing, Msg, Num, Pct, render

from . import reference
from .carbon import estimate_carbon
from .rules_settings import RuleSettings, rules_or_default
from .screening import category_label, covered, industry_label, level3_categories, longest_prefix, two_high


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
