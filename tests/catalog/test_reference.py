"""The shipped reference taxonomies and the navigation helpers over them."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pytest

from greenmatch import reference as ref
from greenmatch.catalog.classifier import map_legacy_2019
from greenmatch.codes import category_covers, region_covers, region_prefix

# Level-3 items whose activity rows name industries without a GB/T 4754 code in the catalogue itself
# (e.g. 9.1.1 "购置新能源汽车", 2.2.7 "各品种畜禽养殖"): the data keeps them codeless on purpose.
CODELESS_LEVEL3 = {"2.1.12", "2.2.7", "7.2.6", "7.6.6", "8.6.1", "8.6.2", "8.7.1", "8.7.2", "9.1.1", "9.1.2", "9.1.3"}


def level(n: int, edition: str = "2025") -> list[ref.Category]:
    return [c for c in ref.catalogue(edition).values() if c.level == n]


# --- the 2025 catalogue -------------------------------------------------------------------------------------


def test_2025_catalogue_has_the_official_counts():
    assert (len(level(1)), len(level(2)), len(level(3))) == (9, 38, 271)
    assert sum(len(ref.activity_industries(c.code)) for c in level(3)) == 1036


def test_every_level3_item_is_named_in_both_languages_and_has_activity_codes():
    codeless = set()
    for cat in level(3):
        assert cat.name_zh.strip() and cat.name_en.strip() and cat.name_en != cat.name_zh
        assert ref.activity_industries(cat.code), cat.code
        if not cat.activity_codes:
            codeless.add(cat.code)
    assert codeless == CODELESS_LEVEL3


def test_activity_codes_are_gbt4754_classes():
    industries = ref.industries()
    for cat in level(3):
        for code in cat.activity_codes:
            assert len(code) == 4 and code in industries, (cat.code, code)


def test_every_parent_exists_one_level_up_and_prefixes_its_children():
    cats = ref.catalogue()
    for cat in cats.values():
        if cat.level == 1:
            assert cat.parent is None
            continue
        parent = cats[cat.parent]
        assert parent.level == cat.level - 1
        assert category_covers(parent.code, cat.code)


def test_children_and_ancestors_walk_the_tree():
    assert [c.code for c in ref.children(None)] == [str(i) for i in range(1, 10)]
    assert [c.code for c in ref.children("4.2")] == [f"4.2.{i}" for i in range(1, 10)]
    assert ref.children("4.2.1") == [] and ref.children("no-such-code") == []
    assert [c.code for c in ref.ancestors("4.2.1")] == ["4.2", "4"]
    assert ref.ancestors("4") == [] and ref.ancestors("9.9.9") == []
    # children() partitions each level: every node is the child of exactly one parent
    assert sum(len(ref.children(c.code)) for c in level(2)) == 271


def test_activity_industries_gives_code_name_and_ghg_mark():
    rows = ref.activity_industries("4.2.1")
    assert rows == (("4415", "风力发电", "√√"), ("4874", "风能发电工程施工", "√√"))
    assert rows[0].gbt4754_code == "4415" and rows[0].ghg_mark == "√√"
    assert any(r.gbt4754_code is None for r in ref.activity_industries("9.1.1"))
    assert ref.activity_industries("4.2") == () and ref.activity_industries("nope") == ()


# --- search ---------------------------------------------------------------------------------------------------


def test_search_by_level_keeps_catalogue_order():
    found = ref.search_categories(level=2)
    assert len(found) == 38
    assert [c.code for c in found] == [c.code for c in level(2)]


def test_search_by_parent_means_direct_children_or_descendants_at_a_level():
    assert [c.code for c in ref.search_categories(parent="4")] == ["4.1", "4.2", "4.3"]
    under_4 = ref.search_categories(parent="4", level=3)
    assert len(under_4) == 26 and all(c.code.startswith("4.") and c.level == 3 for c in under_4)
    assert ref.search_categories(parent="42") == []  # unknown parent matches nothing
    assert ref.search_categories(parent="4.2", level=1) == []


def test_search_by_text_matches_chinese_english_and_code_prefix():
    assert "4.2.1" in [c.code for c in ref.search_categories(q="风力发电")]
    wind = [c.code for c in ref.search_categories(q="WIND POWER")]
    assert {"4.1.1", "4.2.1", "8.5.1"} <= set(wind)
    assert [c.code for c in ref.search_categories(q="4.2.1")] == ["4.2.1"]
    assert "1.4.2" not in [c.code for c in ref.search_categories(q="4.2")]
    assert [c.code for c in ref.search_categories(q="光伏", level=3)] == []  # the catalogue says 太阳能
    solar = ref.search_categories(q="太阳能", level=3, parent="4")
    assert [c.code for c in solar] == ["4.1.2", "4.2.2"]
    assert len(ref.search_categories(q="  ")) == 318  # blank q filters nothing


# --- legacy editions --------------------------------------------------------------------------------------------


def test_2019_edition_is_available_for_mapping_old_records():
    assert (len(level(1, "2019")), len(level(3, "2019"))) == (6, 211)
    assert ref.catalogue("2019")["3.2.1"].name_zh == "风力发电设施建设和运营"
    assert all(c.activity_codes == () for c in level(3, "2019"))


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("3.2.1", "4.2.1"),  # 风力发电设施建设和运营
        ("5.3.1", "6.4.7"),  # 污水处理、再生利用及污泥处理处置设施建设运营
        ("1.5.1", "1.3.1"),  # 锅炉（窑炉）节能改造和能效提升
        ("2.3.4", "2.2.2"),  # 钢铁企业超低排放改造 -> 重点行业超低排放改造
        ("5.2.5", "6.2.3"),  # 充电、换电、加氢和加气设施
    ],
)
def test_map_legacy_2019_suggests_the_obvious_2025_item_first(old, new):
    suggestions = map_legacy_2019(old)
    assert suggestions[0][0] == new
    assert all(ref.is_category(code, 3) and 0.0 <= score <= 1.0 for code, score in suggestions)
    assert [s for _, s in suggestions] == sorted((s for _, s in suggestions), reverse=True)


def test_map_legacy_2019_ignores_codes_that_are_not_2019_level3_items():
    assert map_legacy_2019("3.2") == [] and map_legacy_2019("9.9.9") == []


# --- regions ------------------------------------------------------------------------------------------------------


def test_region_table_is_complete():
    regions = ref.regions()
    assert len(regions) == 3220
    assert Counter(r.level for r in regions.values()) == {"province": 34, "prefecture": 342, "county": 2844}
    for region in regions.values():
        if region.parent is not None:
            assert region.parent in regions
            assert region_covers(region.parent, region.code)


def test_region_names_and_prefix_helpers():
    assert ref.region_name("330500") == "湖州市"
    assert ref.region_name("130102", full=True) == "河北省石家庄市长安区"
    assert ref.region_name("110101", full=True) == "北京市东城区"  # placeholder 市辖区 skipped
    assert ref.region_name("999999") is None
    assert [r.code for r in ref.region_ancestors("130102")] == ["130100", "130000"]
    hebei = ref.subregions("130000")
    assert hebei and all(r.code.startswith(region_prefix("130000")) and r.code != "130000" for r in hebei)
    assert {r.code for r in ref.subregions("130100")} == {
        c for c in ref.regions() if c.startswith("1301") and c != "130100"
    }
    assert ref.subregions("130102") == [] and ref.subregions("000000") == []


def test_region_groupings_from_the_grouping_file():
    groupings = ref.region_groupings()
    jjj = groupings["jing_jin_ji"]
    assert jjj.name_zh == "京津冀" and len(jjj.members) == 13
    assert all(ref.is_region(m) for g in groupings.values() for m in g.members)
    assert ref.in_grouping("130102", "jing_jin_ji")  # a Shijiazhuang district
    assert not ref.in_grouping("140100", "jing_jin_ji")  # Taiyuan
    assert ref.in_grouping("330502", "green_finance_pilot_cities_requested")  # Huzhou's Wuxing district
    assert not ref.in_grouping("130102", "no_such_grouping")


# --- industries ----------------------------------------------------------------------------------------------------


def test_industry_tree_has_the_standard_totals():
    industries = ref.industries()
    assert Counter(len(code) for code in industries) == {2: 97, 3: 473, 4: 1381}
    for code, industry in industries.items():
        if len(code) > 2:
            assert industry.parent == code[:-1] and industry.parent in industries


def test_industry_ancestors_and_names_accept_section_letters():
    assert [i.code for i in ref.industry_ancestors("4416")] == ["441", "44"]
    assert ref.industry_ancestors("D4416") == ref.industry_ancestors("4416")
    assert [i.code for i in ref.industry_ancestors("441")] == ["44"]
    assert ref.industry_ancestors("44") == [] and ref.industry_ancestors("zz") == []
    assert ref.industry_name("D4416") == "太阳能发电" and ref.industry_name("9999") is None
    assert ref.industry_section("3120") == "C" and ref.industry_section("D44") == "D"
    assert ref.industry_section("0000") is None


def test_existing_predicates_still_work():
    assert ref.is_category("4.2.2") and ref.is_category("4.2.2", level=3) and not ref.is_category("4.2", level=3)
    assert ref.is_region("330500") and not ref.is_region("330599")
    assert ref.is_industry("4416") and not ref.is_industry("D4416")


def test_importing_the_module_loads_no_data():
    code = (
        "import greenmatch.reference as r, greenmatch.catalog.classifier as c\n"
        "assert r.catalogue.cache_info().currsize == 0 and r.regions.cache_info().currsize == 0\n"
        "assert r.industries.cache_info().currsize == 0 and c._index.cache_info().currsize == 0\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_api_serves_the_whole_2025_catalogue(client):
    """9 / 38 / 271 items through GET /taxonomy/categories, each with names and (level 3) activity codes."""
    counts = {}
    for level in (1, 2, 3):
        items, page = [], 1
        while True:
            body = client.get(f"/api/v1/taxonomy/categories?level={level}&page={page}&per_page=100").get_json()
            items += body["items"]
            if len(items) >= body["total"]:
                break
            page += 1
        counts[level] = len(items)
        assert all(i["name_zh"] and i["name_en"] and i["level"] == level for i in items)
        if level == 3:
            with_codes = [i for i in items if i["activity_codes"]]
            assert len(with_codes) >= 260  # the shipped data lists 11 items without codes
            assert all(len(c) == 4 for i in with_codes for c in i["activity_codes"] if c and c != "-")
    shipped = ref.catalogue()
    assert counts == {n: sum(1 for c in shipped.values() if c.level == n) for n in (1, 2, 3)} == {1: 9, 2: 38, 3: 271}
