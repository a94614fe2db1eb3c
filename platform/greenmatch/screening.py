"""Platform-wide screening rules: 两高 and compliance vetoes (shared/domain.md "Screening rules").

Pure functions over :class:`~greenmatch.facts.ProjectFacts`; every threshold comes from
:class:`~greenmatch.rules_settings.RuleSettings` (``settings=None``: the defaults). The
instrument plugins call :func:`financing_vetoes` so that credit, bonds, REITs and funds refuse the
same projects for the same, stated reasons.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, TypeVar

from greenmatch.codes import normalize_industry_code
from greenmatch.facts import ProjectFacts
from greenmatch.instruments import MEMO_TABLE_SIZE, Reason, memo_lookup
from greenmatch.labels import label_msgid
from greenmatch.text import Label, Listing, Msg, Name, Num

from . import reference
from .rules_settings import RuleSettings, rules_or_default

_V = TypeVar("_V")

def instrument_names(keys: Iterable[str]) -> Listing:
    """The instruments' names (from the plugin registry), listed for a message."""
    return Listing(Name("instrument", k) for k in keys)


def _starts_with(prefix: str, code: str) -> bool:
    return code.startswith(prefix)


def longest_prefix(pairs: Iterable[tuple[str, _V]], code: str,
                   covers: Callable[[str, str], bool] = _starts_with) -> tuple[str, _V] | None:
    """The ``(prefix, value)`` of ``pairs`` with the longest prefix that covers ``code`` (``covers(prefix,
    code)``: a plain string prefix unless given, e.g. :func:`~greenmatch.codes.category_covers`); the first
    of equally long ones; None if none covers it."""
    best: tuple[str, _V] | None = None
    for prefix, value in pairs:
        if covers(prefix, code) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, value)
    return best


# The functions below run for every project and instrument plugin in a matching run (hundreds of
# thousands of calls): their results depend on a few codes only and are cached per distinct input
# (the reference data is immutable; results derived from a RuleSettings live in its ``memo``).
_CACHE_SIZE = MEMO_TABLE_SIZE


def _tuple(values: Iterable[str]) -> tuple[str, ...]:
    return values if type(values) is tuple else tuple(values)


def _memoized(settings: RuleSettings, table: str, key: Any, compute: Callable[[], Any]) -> Any:
    """``compute()`` cached in ``settings.memo`` (see :func:`greenmatch.instruments.memo_lookup`)."""
    return memo_lookup(settings.memo, table, key, compute)


def industry_label(code: str) -> Name:
    """``"2521 炼焦"`` when rendered; the bare code when unknown."""
    return Name("industry", normalize_industry_code(code) or code)


def category_label(code: str) -> Name:
    """``"4.2.2 太阳能利用设施建设和运营"`` when rendered."""
    return Name("category", code)


def level3_categories(codes: Iterable[str]) -> tuple[list[str], list[str]]:
    """Split codes into (valid level-3 items of the 2025 catalogue, everything else)."""
    valid, invalid = level3_split(_tuple(codes))
    return list(valid), list(invalid)


@lru_cache(maxsize=_CACHE_SIZE)
def level3_split(codes: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """:func:`level3_categories` as tuples, cached per tuple of codes."""
    valid, invalid = [], []
    for code in codes:
        (valid if reference.is_category(code, level=3) else invalid).append(code)
    return tuple(valid), tuple(invalid)


def covered(codes: Iterable[str], prefixes: Iterable[str]) -> list[str]:
    """The codes covered by any of the catalogue prefixes ("4.2" covers "4.2.2")."""
    return list(covered_codes(_tuple(codes), _tuple(prefixes)))


@lru_cache(maxsize=_CACHE_SIZE)
def covered_codes(codes: tuple[str, ...], prefixes: tuple[str, ...]) -> tuple[str, ...]:
    """:func:`covered` as a tuple, cached per (codes, prefixes)."""
    wanted = _prefix_set(prefixes)
    return tuple(c for c in codes if not wanted.isdisjoint(_covering(c)))


@lru_cache(maxsize=4096)
def _prefix_set(prefixes: tuple[str, ...]) -> frozenset[str]:
    return frozenset(prefixes)


@lru_cache(maxsize=_CACHE_SIZE)
def _covering(code: str) -> tuple[str, ...]:
    """Every prefix ``p`` with ``category_covers(p, code)``: the code itself and each part of it
    before a dot ("4.2.2" -> "4.2.2", "4", "4.2")."""
    return (code, *(code[:i] for i, ch in enumerate(code) if ch == "."))


def _fmt_codes(codes: Iterable[str]) -> Listing:
    return Listing(codes)


# ------------------------------------------------------------------------------------------------
# 两高
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TwoHighResult:
    """``flag``: the project's industry is a 两高 sector. ``allowed_retrofit``: flagged, but every claimed
    category is a retrofit/transition item, so it may still be financed. ``reason`` is None when not flagged."""

    flag: bool
    sector: str | None = None
    allowed_retrofit: bool = False
    reason: Reason | None = None
    industry_code: str | None = None
    head: Reason | None = None  # the finding without its conclusion ("industry 3011 水泥 is a 两高 sector")

    @property
    def blocks_financing(self) -> bool:
        """New 两高 capacity: no financing instrument may be offered (insurance stays)."""
        return self.flag and not self.allowed_retrofit

    @property
    def code(self) -> str:
        """The finding's message code: ``two_high_none`` | ``two_high_retrofit`` | ``two_high_new_capacity``."""
        if not self.flag:
            return "two_high_none"
        return "two_high_retrofit" if self.allowed_retrofit else "two_high_new_capacity"

    def as_dict(self, locale: str | None = None) -> dict[str, object]:
        return {
            "flag": self.flag,
            "sector": self.sector,
            "allowed_retrofit": self.allowed_retrofit,
            "reason": self.reason.text(locale) if self.reason else None,  # rendered at the edge
            "code": self.code,
        }


def two_high_sector(industry_code: str, settings: RuleSettings | None = None) -> tuple[str, str] | None:
    """(matched prefix, sector key) when the industry code is a 两高 sector, else None.

    A class or group code matches the longest mapping prefix it starts with. A coarser code (a division
    such as ``"31"`` or a group such as ``"311"``) matches only when every class below it is 两高, so
    ``"31"`` (all iron and steel) is flagged while ``"26"`` (chemicals, also paints and pharmaceuticals'
    feedstock) is not.
    """
    settings = rules_or_default(settings)
    return _memoized(settings, "two_high_sector", industry_code,
                     lambda: _two_high_sector(industry_code, settings))


def _two_high_sector(industry_code: str, settings: RuleSettings) -> tuple[str, str] | None:
    code = normalize_industry_code(industry_code or "")
    if code is None:
        return None
    best = longest_prefix(settings.two_high_codes, code)
    if best is not None or len(code) == 4:
        return best
    classes = _classes_under(code)
    if not classes:
        return None
    sectors = set()
    for cls in classes:
        hit = two_high_sector(cls, settings)
        if hit is None:
            return None
        sectors.add(hit[1])
    return code, sorted(sectors)[0]


@cache
def _classes_under(code: str) -> tuple[str, ...]:
    return tuple(c for c in reference.industries() if len(c) == 4 and c.startswith(code))


def two_high(facts: ProjectFacts, settings: RuleSettings | None = None) -> TwoHighResult:
    """The 两高 screen on the *activity* (环环评〔2021〕45号; editors' code mapping in two_high_rules.md
    section 3): the plant's sector × what the project does to its capacity × the claimed category.

    - 4411/4412 burning something other than coal (``primary_fuel``) is not coal power;
    - an activity that adds no 两高 capacity (``hosted_categories``: on-site renewables, waste-heat
      recovery, CCUS, co-processing of waste) is judged as its own activity;
    - ``capacity_change`` new/expansion is never green whatever it claims; replacement needs an
      approved 产能置换 plan; retrofit (or no change) needs retrofit/transition items only.
    """
    settings = rules_or_default(settings)
    industry_code = facts.industry_code
    # per industry code: the result when it is not a 两高 sector (it depends on the code alone), else the hit
    found = _memoized(settings, "two_high_by_industry", industry_code, lambda: two_high_sector(
        industry_code, settings) or TwoHighResult(False, industry_code=normalize_industry_code(industry_code or "")))
    if type(found) is TwoHighResult:
        return found
    hit = found
    categories = _tuple(facts.categories)
    key = (industry_code, categories, facts.capacity_change or "none", bool(facts.capacity_replacement_approved),
           facts.primary_fuel)
    return _memoized(settings, "two_high", key, lambda: _two_high_activity(industry_code, categories, hit[1],
                                                                           key[2], key[3], key[4], settings))


def _two_high_activity(industry_code: str, cats: tuple[str, ...], sector: str, change: str,
                       replacement_approved: bool, fuel: str | None, settings: RuleSettings) -> TwoHighResult:
    code = normalize_industry_code(industry_code) or industry_code
    if sector == "coal_power" and fuel and fuel not in settings.coal_power_fuels:
        return TwoHighResult(False, industry_code=code, reason=None)
    adds_capacity = change in ("new", "expansion")
    if cats and not adds_capacity and \
            all(covered([c], settings.hosted_categories) for c in cats):
        return TwoHighResult(False, industry_code=code)
    flagged = _two_high_flagged(industry_code, cats, sector, settings)
    head = flagged.head
    if adds_capacity:
        return TwoHighResult(True, sector, False, Msg(
            "%(head)s; capacity change: %(change)s — new 两高 capacity is never green, whatever category it claims",
            head=head, change=Label("capacity_change", change)), code, head)
    if change == "replacement" and not replacement_approved:
        return TwoHighResult(True, sector, False, Msg(
            "%(head)s; capacity replacement without an approved 产能置换 plan — treated as new capacity",
            head=head), code, head)
    return flagged


def _two_high_flagged(industry_code: str, cats: tuple[str, ...], sector: str,
                      settings: RuleSettings) -> TwoHighResult:
    code = normalize_industry_code(industry_code) or industry_code
    what: Msg | Label = Label("sector", sector)
    if label_msgid("segment", code):
        what = Msg("%(sector)s: %(segment)s", sector=what, segment=Label("segment", code))
    head = Msg("industry %(industry)s is a 两高 sector (%(what)s)", industry=industry_label(code), what=what)
    if sector == "coal_power":
        head = Msg("%(head)s; 4411/4412 also cover gas- and oil-fired plants, only the coal-fired part is 两高",
                   head=head)
    if not cats:
        return TwoHighResult(True, sector, False, Msg(
            "%(head)s; no retrofit category claimed — new capacity is not green", head=head), code, head)
    others = [c for c in cats if not covered([c], settings.transition_categories)]
    if others:
        return TwoHighResult(True, sector, False, Msg(
            "%(head)s; categories %(others)s are not retrofit/transition items (%(rules)s) — treated as new "
            "capacity, which is not green", head=head, others=_fmt_codes(others),
            rules=_fmt_codes(settings.transition_categories)), code, head)
    return TwoHighResult(True, sector, True, Msg(
        "%(head)s; all claimed categories (%(cats)s) are retrofit/transition items — eligible as a retrofit "
        "of an existing plant", head=head, cats=_fmt_codes(cats)), code, head)


# ------------------------------------------------------------------------------------------------
# Compliance
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComplianceVeto:
    """One compliance finding: ``instruments`` it refuses, whether it ``label``-vetoes (green label red)."""

    code: str
    reason: Reason
    instruments: tuple[str, ...] = ()
    label: bool = False

    def as_dict(self, locale: str | None = None) -> dict[str, object]:
        return {"code": self.code, "message": self.reason.text(locale), "instruments": list(self.instruments),
                "label": self.label}


@dataclass(frozen=True)
class ComplianceResult:
    vetoes: tuple[ComplianceVeto, ...] = ()

    @property
    def label_vetoed(self) -> bool:
        return any(v.label for v in self.vetoes)

    @property
    def vetoed_instruments(self) -> frozenset[str]:
        return frozenset(k for v in self.vetoes for k in v.instruments)

    def has(self, code: str) -> bool:
        """Whether a veto of this code (``eia_missing``, ``major_env_penalty``) applies."""
        return any(v.code == code for v in self.vetoes)

    def reasons_for(self, instrument: str) -> list[Reason]:
        """Why ``instrument`` is refused on compliance grounds (empty: it is not)."""
        return [v.reason for v in self.vetoes if instrument in v.instruments]

    def as_dict(self, locale: str | None = None) -> dict[str, object]:
        return {"vetoes": [v.as_dict(locale) for v in self.vetoes], "label_vetoed": self.label_vetoed,
                "vetoed_instruments": sorted(self.vetoed_instruments)}


def major_env_penalty(facts: ProjectFacts, settings: RuleSettings | None = None) -> bool:
    """A major environmental penalty in the last 3 years: the enterprise's answer, or — when the record
    gives the largest single fine (``compliance.largest_env_fine_cny``) — a fine of at least the setting
    (¥500k: the amount the practice calls major)."""
    settings = rules_or_default(settings)
    record = facts.compliance or {}
    if record.get("major_env_penalty_3y"):
        return True
    fine = record.get("largest_env_fine_cny")
    return isinstance(fine, int | float) and not isinstance(fine, bool) and fine >= settings.major_penalty_fine_cny


def compliance(facts: ProjectFacts, settings: RuleSettings | None = None) -> ComplianceResult:
    """Compliance vetoes: an EIA state that does not satisfy the EIA law in construction/operation
    (approval, registration and exempt do), operating without a pollutant permit, and a major
    environmental penalty in 3 years (label red, green credit and bonds vetoed by default)."""
    settings = rules_or_default(settings)
    record = facts.compliance or {}
    eia = facts.eia_status
    eia_missing_in = facts.stage if facts.stage in settings.eia_required_stages \
        and eia not in settings.eia_satisfied_statuses else None
    no_permit = facts.stage in settings.pollutant_permit_required_stages and not record.get("pollutant_permit")
    major = major_env_penalty(facts, settings)
    if eia_missing_in is None and not major and not no_permit:
        return _COMPLIANT
    return _memoized(settings, "compliance", (eia_missing_in, eia, major, no_permit),
                     lambda: _compliance(eia_missing_in, eia, major, no_permit, settings))


_COMPLIANT = ComplianceResult()

def _compliance(eia_missing_in: str | None, eia: str, major: bool, no_permit: bool,
                settings: RuleSettings) -> ComplianceResult:
    vetoes: list[ComplianceVeto] = []
    if eia_missing_in is not None:
        vetoes.append(ComplianceVeto(
            "eia_missing",
            Msg("project in the %(stage)s stage without EIA approval (环评批复; %(eia)s): not eligible for "
                "%(instruments)s", stage=Label("stage", eia_missing_in), eia=Label("eia_status", eia),
                instruments=instrument_names(settings.eia_veto_instruments)),
            tuple(settings.eia_veto_instruments)))
    if no_permit:
        vetoes.append(ComplianceVeto(
            "pollutant_permit_missing",
            Msg("operating without a pollutant discharge permit (排污许可证; illegal since 2021-03-01, "
                "排污许可管理条例): not eligible for %(instruments)s",
                instruments=instrument_names(settings.pollutant_permit_veto_instruments)),
            tuple(settings.pollutant_permit_veto_instruments)))
    if major:
        threshold = Num(settings.major_penalty_fine_cny)
        if settings.major_penalty_veto_instruments:
            why = Msg("major environmental penalty in the last 3 years (a single fine of ¥%(threshold)s or more): "
                      "no green label (label red); not eligible for %(instruments)s", threshold=threshold,
                      instruments=instrument_names(settings.major_penalty_veto_instruments))
        else:
            why = Msg("major environmental penalty in the last 3 years (a single fine of ¥%(threshold)s or more): "
                      "no green label (label red)", threshold=threshold)
        vetoes.append(ComplianceVeto("major_env_penalty", why, tuple(settings.major_penalty_veto_instruments),
                                     label=True))
    return ComplianceResult(tuple(vetoes))


# ------------------------------------------------------------------------------------------------
# What the financing plugins share
# ------------------------------------------------------------------------------------------------


def financing_vetoes(facts: ProjectFacts, instrument: str, settings: RuleSettings | None = None) -> list[Reason]:
    """Why a *financing* instrument (credit, bonds, REITs, funds, ...) must refuse the project:
    compliance vetoes naming the instrument, and new 两高 capacity. Empty: no platform veto."""
    settings = rules_or_default(settings)
    found = compliance(facts, settings)
    reasons = found.reasons_for(instrument) if found.vetoes else []
    th = two_high(facts, settings)
    if th.blocks_financing and th.reason is not None:
        reasons.append(Msg("%(reason)s: %(instrument)s cannot finance it", reason=th.reason,
                           instrument=Name("instrument", instrument)))
    return reasons


def label_caution(facts: ProjectFacts, settings: RuleSettings | None = None) -> Reason | None:
    """For green-labelled financing (green loans, green bonds): a caution when the green label is vetoed."""
    if not major_env_penalty(facts, settings):
        return None
    return Msg("major environmental penalty in 3 years: the lender's ESG review will likely refuse a green label")
