"""Behaviour of the catalogue classifier (suggested 2025 level-3 items for a project description)."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from greenmatch import reference
from greenmatch.catalog.classifier import Suggestion, classify, level3_items

EVAL_SET = Path(__file__).resolve().parents[2] / "bench" / "data" / "classify_eval.json"

WIND_FARM = (
    "承德围场150MW风电场项目",
    "项目位于河北省承德市围场县，拟安装30台单机容量5MW的风电机组，新建220kV升压站一座，年上网电量约3.9亿千瓦时。",
)


@pytest.fixture(scope="module", autouse=True)
def warm_index():
    classify("预热")


def codes(suggestions: list[Suggestion]) -> list[str]:
    return [s.code for s in suggestions]


def assert_well_formed(suggestions: list[Suggestion], limit: int) -> None:
    assert len(suggestions) <= max(limit, 0)
    assert len(set(codes(suggestions))) == len(suggestions)
    confidences = [s.confidence for s in suggestions]
    assert all(0.0 <= c <= 1.0 for c in confidences)
    assert confidences == sorted(confidences, reverse=True)
    assert sum(confidences) <= 1.0 + 1e-6  # shares of one distribution (with a "none of these" remainder)
    for s in suggestions:
        cat = reference.catalogue()[s.code]
        assert cat.level == 3 and (s.name_zh, s.name_en) == (cat.name_zh, cat.name_en)


def test_wind_farm_is_classified_as_wind_power_facility():
    result = classify(*WIND_FARM, industry_code="4415")
    assert "4.2.1" in codes(result)[:3]
    assert result[0].code == "4.2.1" and result[0].confidence > 0.5
    assert_well_formed(result, 5)


def test_wind_farm_is_recognised_from_text_alone():
    assert classify(*WIND_FARM)[0].code == "4.2.1"


@pytest.mark.parametrize(
    ("name", "description", "industry", "expected"),
    [
        ("工业园区屋顶分布式光伏", "利用厂房屋顶建设6MWp光伏电站，自发自用、余电上网。", "4416", "4.2.2"),
        ("污水处理厂三期扩建", "新增处理规模5万吨/日，出水执行一级A标准，配套污泥脱水。", "4620", "6.4.7"),
        ("钢铁超低排放改造", "对烧结烟气实施脱硫脱硝深度治理，达到超低排放限值。", "C3120", "2.2.2"),
        ("智算中心建设项目", "建设2000个高功率机柜，采用液冷，设计PUE 1.2。", "6450", "6.6.2"),
        ("退役动力电池回收", "建设废旧锂电池拆解、破碎和湿法回收生产线，回收镍钴锂。", "4210", "3.2.5"),
    ],
)
def test_typical_projects_rank_their_item_in_the_top_three(name, description, industry, expected):
    assert expected in codes(classify(name, description, industry, limit=3))


def test_industry_code_decides_an_ambiguous_text():
    # "储能" alone could be manufacturing (4.1.8), a storage plant (4.3.2) or trade (8.5.8)
    text = ("储能项目", "")
    assert classify(*text, industry_code="3841")[0].code == "4.1.8"  # 锂离子电池制造
    assert classify(*text, industry_code="4420")[0].code == "4.3.2"  # 电力供应
    assert classify(*text, industry_code="5179")[0].code == "8.5.8"  # 机械设备批发
    # a wind project reads as a wind farm, unless the firm is a wind-turbine maker (风能原动设备制造)
    assert classify("风电项目", "采购风电机组")[0].code == "4.2.1"
    assert classify("风电项目", "采购风电机组", "3415")[0].code == "4.1.1"
    assert classify("风电项目", "采购风电机组", "4415")[0].code == "4.2.1"


def test_industry_boost_is_bounded_by_the_text():
    # a steel-plant code must not turn a clear flue-gas retrofit into a waste-gas utilisation item
    result = classify("烧结机烟气超低排放改造", "活性炭脱硫脱硝一体化，颗粒物排放不高于10mg/m3。", "3120")
    assert result[0].code == "2.2.2"


def test_section_letter_and_unknown_codes():
    assert classify(*WIND_FARM, industry_code="D4415") == classify(*WIND_FARM, industry_code="4415")
    baseline = classify(*WIND_FARM)
    for odd in ("", "abc", "Z4415", "44155", "9999", "  ", "D"):
        assert classify(*WIND_FARM, industry_code=odd) == baseline, odd
    # a well-formed class that does not exist falls back to its group / division
    assert classify("储能项目", industry_code="4429")[0].code == classify("储能项目", industry_code="442")[0].code


@pytest.mark.parametrize(
    ("name", "description", "industry"),
    [("", "", None), ("   ", "", ""), ("asdf qwer zxcv", "", "xyz"), ("！！！", "123456", None), ("的的的", "", None)],
)
def test_empty_or_garbage_input_gives_low_confidence(name, description, industry):
    result = classify(name, description, industry)
    assert_well_formed(result, 5)
    assert len(result) == 5 and result[0].confidence < 0.05


def test_empty_description_is_fine():
    result = classify("海上风电场", "")
    assert result[0].code == "4.2.1"
    assert classify("海上风电场") == result


def test_limit_is_respected():
    assert classify(*WIND_FARM, limit=0) == [] and classify(*WIND_FARM, limit=-2) == []
    assert len(classify(*WIND_FARM, limit=1)) == 1
    assert len(classify(*WIND_FARM, limit=1000)) == len(level3_items()) == 271


def test_suggestion_is_a_frozen_value():
    suggestion = classify(*WIND_FARM)[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        suggestion.code = "1.1.1"  # type: ignore[misc]


def test_every_catalogue_name_retrieves_its_own_item():
    for cat in level3_items():
        assert classify(cat.name_zh, limit=1)[0].code == cat.code, cat.code


def test_latency_after_warm_up_is_well_under_20_ms():
    description = WIND_FARM[1] * 3
    start = time.perf_counter()
    for _ in range(50):
        classify(WIND_FARM[0], description, "4415")
    assert (time.perf_counter() - start) / 50 < 0.020


def test_very_long_input_stays_fast():
    start = time.perf_counter()
    classify("光伏" * 50_000, "风电场建设" * 50_000, "4416")
    assert time.perf_counter() - start < 0.5


def test_evaluation_set_is_valid_and_top3_accuracy_holds():
    items = json.loads(EVAL_SET.read_text(encoding="utf-8"))["items"]
    assert len(items) >= 80
    assert {i["label"].split(".")[0] for i in items} == {str(n) for n in range(1, 10)}
    for item in items:
        assert reference.is_category(item["label"], level=3), item["id"]
        assert reference.industry_name(item["industry_code"]) is not None, item["id"]
        assert item["name"] and item["description"]
    hits = sum(i["label"] in codes(classify(i["name"], i["description"], i["industry_code"], 3)) for i in items)
    assert hits / len(items) >= 0.80


industry_codes = st.one_of(
    st.none(),
    st.text(max_size=8),
    st.from_regex(r"[A-Za-z]?[0-9]{1,5}", fullmatch=True),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.text(max_size=200), description=st.text(max_size=400), industry=industry_codes, limit=st.integers(-5, 40)
)
def test_arbitrary_input_never_raises(name, description, industry, limit):
    result = classify(name, description, industry, limit=limit)
    assert isinstance(result, list)
    assert_well_formed(result, limit)


# ------------------------------------------------------------------------------------------------------------
# Held-out set: descriptions in the style of public announcements, never used to tune weights or keywords.
# ------------------------------------------------------------------------------------------------------------

HELDOUT = Path(__file__).resolve().parent / "data" / "classifier_heldout.csv"
KEYWORDS_FILE = Path(__file__).resolve().parents[2] / "catalog" / "data" / "classifier_keywords.json"
# Figures measured when the set was written (bench/classify.py); a regression below them fails.
HELDOUT_FLOOR_TOP1, HELDOUT_FLOOR_TOP3 = 0.85, 0.96
# The issue's target (#12 item 6), not reached yet.
HELDOUT_TARGET_TOP1, HELDOUT_TARGET_TOP3 = 0.96, 0.98


def heldout_rows() -> list[dict[str, str]]:
    import csv

    with HELDOUT.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def heldout_ranks() -> list[int | None]:
    ranks: list[int | None] = []
    for row in heldout_rows():
        got = codes(classify(row["name"], row["description"], row["industry_code"] or None, limit=5))
        ranks.append(got.index(row["label"]) + 1 if row["label"] in got else None)
    return ranks


def share(ranks: list[int | None], k: int) -> float:
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def test_heldout_set_is_large_valid_and_covers_all_nine_areas():
    rows = heldout_rows()
    assert len(rows) >= 120
    assert len({r["id"] for r in rows}) == len(rows)
    cats = reference.catalogue()
    assert all(r["label"] in cats and cats[r["label"]].level == 3 for r in rows)
    assert {r["label"].split(".")[0] for r in rows} == {str(i) for i in range(1, 10)}
    assert all(len(r["description"]) >= 20 for r in rows)


def test_heldout_phrases_are_not_copied_into_the_keyword_lists():
    keywords = json.loads(KEYWORDS_FILE.read_text(encoding="utf-8"))["keywords"]
    keyword_text = "\n".join(keywords.values())
    # The catalogue's own item names are shared vocabulary (people quote them), not copied phrases.
    names = "\n".join(c.name_zh for c in reference.catalogue().values())
    n = 10  # longer than any trade term (一体化污水处理设备, 冷热电三联供), short enough for a copied phrase
    copied = set()
    for row in heldout_rows():
        text = row["name"] + row["description"]
        grams = {text[i : i + n] for i in range(len(text) - n + 1)}
        copied |= {g for g in grams if g in keyword_text and g not in names}
    assert not copied, sorted(copied)


def test_heldout_accuracy_does_not_regress():
    ranks = heldout_ranks()
    assert share(ranks, 1) >= HELDOUT_FLOOR_TOP1
    assert share(ranks, 3) >= HELDOUT_FLOOR_TOP3


@pytest.mark.xfail(strict=True, reason="issue #12 item 6 target not reached yet; see bench/classify.py")
def test_heldout_accuracy_meets_the_issue_target():
    ranks = heldout_ranks()
    assert share(ranks, 1) >= HELDOUT_TARGET_TOP1
    assert share(ranks, 3) >= HELDOUT_TARGET_TOP3


@pytest.mark.parametrize(
    ("row_id", "wrong"),
    [
        ("h100", "4.3.3"),  # bus charging depots, once read as pumped storage
        ("h063", "8.2.1"),  # power-battery recycling, once read as NEV trade
        ("h012", "4.1.5"),  # coal boiler to heat pump, once read as nuclear equipment
    ],
)
def test_known_confusions_from_the_issue_are_fixed(row_id, wrong):
    row = next(r for r in heldout_rows() if r["id"] == row_id)
    got = codes(classify(row["name"], row["description"], row["industry_code"]))
    assert row["label"] in got[:3]
    assert wrong not in got[: got.index(row["label"])]  # never ranked above the right item


@pytest.mark.parametrize(
    ("description", "negated_item"),
    [
        ("利用厂房屋顶建设5.6MWp光伏，本项目不涉及危险废物处置，产生的废组件由厂家回收。", "2.5.2"),
        ("利用厂房屋顶建设5.6MWp光伏，按照分类管理规定无需开展环境影响评价，已完成备案。", "7.4.6"),
    ],
)
def test_negated_clauses_are_not_evidence(description, negated_item):
    got = codes(classify("苏州某精密机械公司屋顶分布式光伏项目", description, "4416"))
    assert got[0] == "4.2.2"
    assert negated_item not in got[:3]


def test_negation_keeps_activity_words_that_start_with_wu():
    from greenmatch.catalog.classifier import strip_negated

    assert strip_negated("危险废物无害化处理，无组织排放治理") == "危险废物无害化处理，无组织排放治理"
    assert "危险废物" not in strip_negated("本项目不涉及危险废物处置，建设屋顶光伏")
