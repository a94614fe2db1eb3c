"""Reference taxonomies shipped in ``greenmatch/data`` (copied from the curated shared data set).

Core: the platform (accounts, the instrument contract, screening) and the instrument plugins (through the
toolkit, :mod:`greenmatch.instruments`) look codes up here; the catalogue's classifier builds on it.

Loaded lazily, once per process, as plain immutable structures:
the 2025 Green Finance Endorsed Project Catalogue (and the legacy 2019 edition), GB/T 4754-2017,
GB/T 2260 regions. Nothing is read at import time; every loader is cached.

- Catalogue: ``catalogue(edition)``, ``children``, ``ancestors``, ``search_categories``, ``activity_industries``,
  ``is_category`` (suggested 2025 items for a 2019 item: ``greenmatch.catalog.classifier.map_legacy_2019``).
- Regions: ``regions``, ``region_name``, ``region_ancestors``, ``subregions``, ``region_groupings``,
  ``in_grouping``, ``is_region``.
- Industries: ``industries``, ``industry_name``, ``industry_ancestors``, ``industry_section``, ``is_industry``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, NamedTuple, TypeVar

from greenmatch.codes import normalize_industry_code, region_covers, region_prefix
from greenmatch.text import register_names

CURRENT_EDITION = "2025"


@cache
def _load(name: str) -> Any:
    """A data file, parsed once per process and shared by its loaders: read it, never change it."""
    return json.loads(resources.files(__package__).joinpath("data", name).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Category:
    code: str
    level: int
    name_zh: str
    name_en: str
    parent: str | None
    edition: str = CURRENT_EDITION
    # level 3 only: GB/T 4754 activity codes and the GHG contribution of the item
    activity_codes: tuple[str, ...] = ()
    ghg: str | None = None


@dataclass(frozen=True)
class Region:
    code: str
    name_zh: str
    name_en: str | None
    level: str
    parent: str | None


@dataclass(frozen=True)
class Industry:
    code: str
    name_zh: str
    name_en: str | None
    parent: str | None


@cache
def catalogue(edition: str = CURRENT_EDITION) -> dict[str, Category]:
    data = _load("green_catalogue.json")["editions"][edition]
    out: dict[str, Category] = {}
    for e in data.get("entries", []):
        out[e["code"]] = Category(
            code=e["code"],
            level=e["level"],
            name_zh=e["name_zh"],
            name_en=e.get("name_en") or e["name_zh"],
            parent=e.get("parent"),
            edition=edition,
            activity_codes=tuple(e.get("gbt4754_codes") or ()),
            ghg=e.get("ghg_summary"),
        )
    return out


@cache
def regions() -> dict[str, Region]:
    data = _load("regions_gbt2260_full.json")["regions"]
    return {r["code"]: Region(r["code"], r["name_zh"], r.get("name_en"), r["level"], r.get("parent")) for r in data}


@cache
def industries() -> dict[str, Industry]:
    """Every GB/T 4754-2017 node below section level: divisions (2), groups (3), classes (4 digits)."""
    out: dict[str, Industry] = {}
    for section in _load("gbt4754_2017.json")["sections"]:
        for div in section["divisions"]:
            out[div["code"]] = Industry(div["code"], div["name_zh"], div.get("name_en"), None)
            for group in div["groups"]:
                out[group["code"]] = Industry(group["code"], group["name_zh"], group.get("name_en"), div["code"])
                for cls in group["classes"]:
                    out[cls["code"]] = Industry(cls["code"], cls["name_zh"], cls.get("name_en"), group["code"])
    return out


_Node = TypeVar("_Node", Category, Region, Industry)


def _ancestors(nodes: Mapping[str, _Node], code: str | None) -> list[_Node]:
    """The nodes above ``code`` following ``parent``, nearest first; empty for a top node or an unknown code."""
    out: list[_Node] = []
    node = nodes.get(code) if code else None
    while node is not None and node.parent is not None:
        node = nodes.get(node.parent)
        if node is not None:
            out.append(node)
    return out


def is_category(code: str, level: int | None = None) -> bool:
    cat = catalogue().get(code)
    return cat is not None and (level is None or cat.level == level)


def is_region(code: str) -> bool:
    return code in regions()


def is_industry(code: str) -> bool:
    return code in industries()


# --------------------------------------------------------------------------------------------------
# Catalogue navigation
# --------------------------------------------------------------------------------------------------


class ActivityIndustry(NamedTuple):
    """One activity row of a 2025 level-3 item: the GB/T 4754-2017 code (None where the catalogue names an
    industry without a code, e.g. "各品种畜禽养殖"), the industry name as printed, and the GHG mark
    ("√√" direct reduction, "√" low-carbon enabling, None when the catalogue leaves the column empty)."""

    gbt4754_code: str | None
    industry_name_zh: str
    ghg_mark: str | None


@dataclass(frozen=True)
class RegionGrouping:
    key: str
    name_zh: str
    members: tuple[str, ...]
    note: str | None = None


@cache
def _entries(edition: str) -> dict[str, dict[str, Any]]:
    return {e["code"]: e for e in _load("green_catalogue.json")["editions"][edition].get("entries", [])}


@cache
def _children_index(edition: str) -> dict[str | None, tuple[Category, ...]]:
    index: dict[str | None, list[Category]] = {}
    for cat in catalogue(edition).values():
        index.setdefault(cat.parent, []).append(cat)
    return {parent: tuple(cats) for parent, cats in index.items()}


def children(code: str | None, edition: str = CURRENT_EDITION) -> list[Category]:
    """Direct children of a catalogue node in catalogue order; ``None`` or ``""`` gives the level-1 items.
    An unknown code has no children (empty list)."""
    return list(_children_index(edition).get(code or None, ()))


def ancestors(code: str, edition: str = CURRENT_EDITION) -> list[Category]:
    """The nodes above ``code``, nearest first: ``ancestors("4.2.1")`` -> [4.2, 4]. Empty for a level-1 item
    or an unknown code."""
    return _ancestors(catalogue(edition), code)


def search_categories(
    level: int | None = None,
    parent: str | None = None,
    q: str | None = None,
    edition: str = CURRENT_EDITION,
) -> list[Category]:
    """Catalogue nodes in catalogue order, filtered by every criterion given.

    - ``level``: 1, 2 or 3.
    - ``parent``: nodes strictly below ``parent``. Without ``level`` this means its direct children
      (the nodes whose ``parent`` field equals it); with ``level`` every descendant at that level, so
      ``parent="4", level=3`` lists all level-3 items of area 4. An unknown parent matches nothing.
    - ``q``: case-insensitive substring of the Chinese or English name, or a code prefix
      (``"4.2"`` finds 4.2 and 4.2.x but not 1.4.2).
    """
    cats = catalogue(edition)
    parent = (parent or "").strip() or None
    needle = (q or "").strip().casefold() or None
    if parent is not None:
        if parent not in cats:
            return []
        if level is None:
            level = cats[parent].level + 1
    out = []
    for cat in cats.values():
        if level is not None and cat.level != level:
            continue
        if parent is not None and not cat.code.startswith(parent + "."):
            continue
        if needle is not None and not (
            needle in cat.name_zh.casefold() or needle in cat.name_en.casefold() or cat.code.startswith(needle)
        ):
            continue
        out.append(cat)
    return out


@cache
def activity_industries(l3_code: str, edition: str = CURRENT_EDITION) -> tuple[ActivityIndustry, ...]:
    """The activity rows of a level-3 item, in catalogue order; empty for other levels and unknown codes.
    Per the catalogue's note 3 these codes describe the activity, they do not classify the firm."""
    entry = _entries(edition).get(l3_code)
    if entry is None:
        return ()
    return tuple(
        ActivityIndustry(a.get("gbt4754_code"), a.get("industry_name_zh") or "", a.get("ghg_mark"))
        for a in entry.get("activities", ())
    )


# --------------------------------------------------------------------------------------------------
# Regions
# --------------------------------------------------------------------------------------------------


def region_name(code: str, full: bool = False) -> str | None:
    """Chinese name of a GB/T 2260 region (None if unknown). ``full=True`` prefixes the province and
    prefecture, skipping placeholders: ``"130102"`` -> ``"河北省石家庄市长安区"``."""
    reg = regions().get(code)
    if reg is None:
        return None
    if not full:
        return reg.name_zh
    chain = [*reversed(region_ancestors(code)), reg]
    return "".join(r.name_zh for r in chain if r.code not in _placeholder_regions())


def region_ancestors(code: str) -> list[Region]:
    """The regions above ``code``, nearest first (prefecture, then province)."""
    return _ancestors(regions(), code)


def subregions(code: str) -> list[Region]:
    """Every region strictly covered by ``code`` (GB/T 2260 prefix semantics), in code order."""
    if code not in regions():
        return []
    prefix = region_prefix(code)
    return [r for c, r in sorted(regions().items()) if c != code and c.startswith(prefix)]


@cache
def _placeholder_regions() -> frozenset[str]:
    return frozenset(r["code"] for r in _load("regions_gbt2260_full.json")["regions"] if r.get("placeholder"))


@cache
def region_groupings() -> dict[str, RegionGrouping]:
    """Regional groupings shipped in ``regions_gbt2260.json`` (Jing-Jin-Ji, Yangtze River Delta core, green
    finance pilot cities), keyed by the data's own keys. Members are region codes; a member covers its
    sub-regions. Empty when the file has no groupings."""
    try:
        raw = _load("regions_gbt2260.json").get("groupings") or {}
    except FileNotFoundError:
        return {}
    out: dict[str, RegionGrouping] = {}
    for key, value in raw.items():
        if not isinstance(value, dict):
            continue  # free-text notes such as "chengdu_chongqing_note"
        if isinstance(value.get("members"), list):
            members = tuple(str(m) for m in value["members"])
            name = value.get("name_zh") or key
        else:  # {"330500": "湖州市 Huzhou", ..., "note": ...}
            members = tuple(k for k in value if k.isdigit() and len(k) == 6)
            name = value.get("name_zh") or _GROUPING_NAMES.get(key, key)
        if members:
            out[key] = RegionGrouping(key, name, members, value.get("note"))
    return out


# Names for groupings whose data entry carries none.
_GROUPING_NAMES = {"green_finance_pilot_cities_requested": "绿色金融改革创新试验区（湖州、衢州）"}


def in_grouping(region_code: str, key: str) -> bool:
    """Whether a region lies in a grouping (a member or covered by one)."""
    grouping = region_groupings().get(key)
    return grouping is not None and any(region_covers(m, region_code) for m in grouping.members)


# --------------------------------------------------------------------------------------------------
# Industries
# --------------------------------------------------------------------------------------------------


def industry_name(code: str) -> str | None:
    """Chinese name of a GB/T 4754-2017 division, group or class; a section letter prefix is accepted."""
    norm = normalize_industry_code(code)
    ind = industries().get(norm) if norm else None
    return ind.name_zh if ind else None


def industry_ancestors(code: str) -> list[Industry]:
    """The nodes above a GB/T 4754 code, nearest first: ``"4416"`` -> [group 441, division 44]. A section
    letter prefix is accepted (``"D4416"``). Empty for divisions and unknown codes."""
    return _ancestors(industries(), normalize_industry_code(code))


@cache
def industry_section(code: str) -> str | None:
    """The GB/T 4754 section letter (A-T) of a division, group or class code; None if unknown."""
    norm = normalize_industry_code(code)
    if norm is None:
        return None
    return _division_sections().get(norm[:2])


@cache
def _division_sections() -> dict[str, str]:
    return {div["code"]: s["code"] for s in _load("gbt4754_2017.json")["sections"] for div in s["divisions"]}


# -- names for messages (greenmatch.text.Name) -------------------------------------------------------------------
def _category_text(code: str, english: bool) -> str | None:
    """``"4.2.2 太阳能利用设施建设和运营"`` / ``"4.2.2 Solar energy ..."``."""
    cat = catalogue().get(code)
    if cat is None:
        return None
    return f"{code} {(cat.name_en or cat.name_zh) if english else cat.name_zh}"


def _industry_text(code: str, english: bool) -> str | None:
    """``"2521 炼焦"`` / ``"2521 Coking"``."""
    ind = industries().get(code)
    if ind is None:
        return None
    return f"{code} {(ind.name_en or ind.name_zh) if english else ind.name_zh}"


def _region_text(code: str, english: bool) -> str | None:
    """The full name: ``"河北省唐山市"`` / ``"Hebei · Tangshan"``."""
    reg = regions().get(code)
    if reg is None:
        return None
    if not english:
        return region_name(code, full=True) or reg.name_zh
    chain = [*reversed(region_ancestors(code)), reg]
    return " · ".join(r.name_en or r.name_zh for r in chain if r.name_zh != "市辖区") or code


register_names("category", _category_text)
register_names("industry", _industry_text)
register_names("region", _region_text)
