"""Platform-wide screening rules: 两高 and compliance vetoes (shared/domain.md "Screening rules").

Pure functions over :class:`~greenmatch.facts.ProjectFacts`; every threshold comes from
:class:`~greenmatch.catalog.rules_settings.RuleSettings` (``settings=None``: the defaults). The
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

from . import reference
from .rules_settings import RuleSettings, rules_or_default

_V = TypeVar("_V")

SECTOR_NAMES: dict[str, tuple[str, str]] = {  # key -> (zh, en)
    "coal_power": ("煤电", "coal power"),
    "petrochemicals": ("石化", "petrochemicals"),
    "chemicals": ("化工", "chemicals"),
    "steel": ("钢铁", "iron and steel"),
    "nonferrous_smelting": ("有色金属冶炼", "non-ferrous smelting"),
    "building_materials": ("建材", "building materials"),
}

# The commonly cited 16 segments (two_high_rules.md section 3), for readable reasons only.
SEGMENT_NAMES: dict[str, tuple[str, str]] = {
    "4411": ("火电", "thermal power"), "4412": ("热电联产", "combined heat and power"),
    "2511": ("炼化", "oil refining"), "2519": ("其他原油制造", "other crude-oil products"),
    "2521": ("焦化", "coking"), "2522": ("煤制合成气", "coal-to-syngas"), "2523": ("煤制液体燃料", "coal-to-liquids"),
    "2612": ("氯碱", "chlor-alkali"), "2614": ("甲醇、醋酸、烯烃", "methanol, acetic acid, olefins"),
    "2619": ("电石等", "calcium carbide and other basic chemicals"),
    "2621": ("氮肥", "nitrogen fertiliser"), "2622": ("磷肥", "phosphate fertiliser"),
    "3110": ("炼铁", "ironmaking"), "3120": ("炼钢", "steelmaking"), "3130": ("钢压延", "steel rolling"),
    "3140": ("铁合金", "ferroalloys"), "3216": ("电解铝", "electrolytic aluminium"),
    "3011": ("水泥", "cement"), "3012": ("石灰", "lime and gypsum"), "3041": ("平板玻璃", "flat glass"),
    "3071": ("建筑陶瓷", "building ceramics"), "3031": ("粘土砖瓦", "clay bricks and tiles"),
    "3033": ("沥青防水材料", "asphalt waterproofing materials"), "3089": ("耐火材料", "refractories"),
}

STAGE_NAMES: dict[str, tuple[str, str]] = {
    "planning": ("规划", "planning"), "construction": ("建设", "construction"), "operation": ("运营", "operation"),
}

INSTRUMENT_NAMES: dict[str, tuple[str, str]] = {
    "green_credit": ("绿色信贷", "green credit"), "green_bond": ("绿色债券", "green bonds"),
    "reits": ("基础设施REITs", "infrastructure REITs"), "green_insurance": ("绿色保险", "green insurance"),
    "green_fund": ("绿色基金", "green funds"),
}


def instrument_names(keys: Iterable[str]) -> tuple[str, str]:
    """Readable (zh, en) lists of instrument keys."""
    keys = list(keys)
    return ("、".join(INSTRUMENT_NAMES.get(k, (k, k))[0] for k in keys),
            ", ".join(INSTRUMENT_NAMES.get(k, (k, k))[1] for k in keys))


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


@lru_cache(maxsize=_CACHE_SIZE)
def industry_label(code: str) -> str:
    """``"2521 炼焦"``; the bare code when unknown."""
    norm = normalize_industry_code(code) or code
    name = reference.industry_name(norm)
    return f"{norm} {name}" if name else norm


@lru_cache(maxsize=_CACHE_SIZE)
def category_label(code: str) -> str:
    cat = reference.catalogue().get(code)
    return f"{code} {cat.name_zh}" if cat else code


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


def _fmt_codes(codes: Iterable[str]) -> str:
    return ", ".join(codes)


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

    def as_dict(self, locale: str | None = "zh") -> dict[str, object]:
        return {
            "flag": self.flag,
            "sector": self.sector,
            "allowed_retrofit": self.allowed_retrofit,
            "reason": self.reason.text(locale) if self.reason else None,
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
    head = flagged.reason
    if adds_capacity:
        what_zh, what_en = ("新建", "new") if change == "new" else ("扩建", "expansion")
        return TwoHighResult(True, sector, False, Reason(
            f"{head.en.split(';')[0]}; capacity change: {what_en} — new 两高 capacity is never green, "
            "whatever category it claims",
            f"{head.zh.split('；')[0]}；产能变化：{what_zh}——新增“两高”产能无论申报何种类别均不属于绿色项目"), code)
    if change == "replacement" and not replacement_approved:
        return TwoHighResult(True, sector, False, Reason(
            f"{head.en.split(';')[0]}; capacity replacement without an approved 产能置换 plan — "
            "treated as new capacity",
            f"{head.zh.split('；')[0]}；产能置换未取得经批准的产能置换方案——按新增产能处理"), code)
    return flagged


def _two_high_flagged(industry_code: str, cats: tuple[str, ...], sector: str,
                      settings: RuleSettings) -> TwoHighResult:
    code = normalize_industry_code(industry_code) or industry_code
    sector_zh, sector_en = SECTOR_NAMES.get(sector, (sector, sector))
    segment = SEGMENT_NAMES.get(code)
    what_zh = f"{sector_zh}·{segment[0]}" if segment else sector_zh
    what_en = f"{sector_en}: {segment[1]}" if segment else sector_en
    head_en = f"industry {industry_label(code)} is a 两高 sector ({what_en})"
    head_zh = f"行业 {industry_label(code)} 属于“两高”行业（{what_zh}）"
    if sector == "coal_power":
        head_en += "; 4411/4412 also cover gas- and oil-fired plants, only the coal-fired part is 两高"
        head_zh += "；4411/4412 也含燃气、燃油电厂，仅燃煤部分属于“两高”"

    rules_zh = "、".join(settings.transition_categories)
    rules_en = ", ".join(settings.transition_categories)
    if not cats:
        return TwoHighResult(True, sector, False, Reason(
            f"{head_en}; no retrofit category claimed — new capacity is not green",
            f"{head_zh}；未申报改造类目录类别——新增产能不属于绿色项目"), code)
    others = [c for c in cats if not covered([c], settings.transition_categories)]
    if others:
        return TwoHighResult(True, sector, False, Reason(
            f"{head_en}; categories {_fmt_codes(others)} are not retrofit/transition items ({rules_en}) — "
            "treated as new capacity, which is not green",
            f"{head_zh}；类别 {'、'.join(others)} 不属于改造/转型类目录项目（{rules_zh}）"
            "——按新增产能处理，不属于绿色项目"),
            code)
    return TwoHighResult(True, sector, True, Reason(
        f"{head_en}; all claimed categories ({_fmt_codes(cats)}) are retrofit/transition items — "
        "eligible as a retrofit of an existing plant",
        f"{head_zh}；所申报类别（{'、'.join(cats)}）均为改造/转型类项目——可作为存量装置改造获得融资"), code)


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

    def as_dict(self, locale: str | None = "zh") -> dict[str, object]:
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

    def as_dict(self, locale: str | None = "zh") -> dict[str, object]:
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

EIA_STATUS_NAMES = {"approved": ("已批复", "approved"), "registration": ("已备案", "registered"),
                    "exempt": ("豁免（不纳入环评管理）", "exempt"), "pending": ("审批中", "pending"),
                    "missing": ("未取得", "missing")}


def _compliance(eia_missing_in: str | None, eia: str, major: bool, no_permit: bool,
                settings: RuleSettings) -> ComplianceResult:
    vetoes: list[ComplianceVeto] = []
    if eia_missing_in is not None:
        zh_stage, en_stage = STAGE_NAMES.get(eia_missing_in, (eia_missing_in, eia_missing_in))
        zh_list, en_list = instrument_names(settings.eia_veto_instruments)
        zh_eia, en_eia = EIA_STATUS_NAMES.get(eia, (eia, eia))
        vetoes.append(ComplianceVeto(
            "eia_missing",
            Reason(f"project in {en_stage} without EIA approval (环评批复; status: {en_eia}): "
                   f"not eligible for {en_list}",
                   f"项目处于{zh_stage}阶段但未取得环评批复（环评状态：{zh_eia}）：不符合{zh_list}条件"),
            tuple(settings.eia_veto_instruments)))
    if no_permit:
        zh_list, en_list = instrument_names(settings.pollutant_permit_veto_instruments)
        vetoes.append(ComplianceVeto(
            "pollutant_permit_missing",
            Reason(f"operating without a pollutant discharge permit (排污许可证; illegal since 2021-03-01, "
                   f"排污许可管理条例): not eligible for {en_list}",
                   f"项目已运营但未取得排污许可证（《排污许可管理条例》2021年3月1日起施行，无证排污违法）："
                   f"不符合{zh_list}条件"),
            tuple(settings.pollutant_permit_veto_instruments)))
    if major:
        threshold = f"{settings.major_penalty_fine_cny:,.0f}"
        extra_zh, extra_en = ("", "")
        if settings.major_penalty_veto_instruments:
            extra_zh, extra_en = instrument_names(settings.major_penalty_veto_instruments)
            extra_zh, extra_en = f"；不符合{extra_zh}条件", f"; not eligible for {extra_en}"
        vetoes.append(ComplianceVeto(
            "major_env_penalty",
            Reason(f"major environmental penalty in the last 3 years (a single fine of ¥{threshold} or more): "
                   f"no green label (label red){extra_en}",
                   f"近三年受到重大环境行政处罚（单笔罚款 {threshold} 元及以上）："
                   f"不能获得绿色标识（标识为红色）{extra_zh}"),
            tuple(settings.major_penalty_veto_instruments), label=True))
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
        zh, en = INSTRUMENT_NAMES.get(instrument, (instrument, instrument))
        reasons.append(Reason(f"{th.reason.en}: {en} cannot finance it", f"{th.reason.zh}：{zh}不能为其融资"))
    return reasons


def label_caution(facts: ProjectFacts, settings: RuleSettings | None = None) -> Reason | None:
    """For green-labelled financing (green loans, green bonds): a caution when the green label is vetoed."""
    if not major_env_penalty(facts, settings):
        return None
    return Reason("major environmental penalty in 3 years: the lender's ESG review will likely refuse a green label",
                  "近三年有重大环境处罚：金融机构的环境与社会风险审查很可能不予认定为绿色融资")
