"""The project SQL filters shared by the catalogue (Project.in_region / has_category / prefers), the
instrument filter's validation, the review-queue tiers and the number of stored category suggestions."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from greenmatch.catalog import service
from greenmatch.catalog.models import CategorySource, Project, ProjectCategory
from greenmatch.codes import category_covers
from greenmatch.extensions import db
from greenmatch.screening import longest_prefix
from support.payloads import project

API = "/api/v1/projects"


def create(client, auth, user, **overrides):
    response = client.post(API, json=project(**overrides), headers=auth(user))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def approve(client, auth, owner, bureau, pid):
    assert client.post(f"{API}/{pid}/submit", headers=auth(owner)).status_code == 200
    assert client.post(f"{API}/{pid}/review", json={"decision": "approve"}, headers=auth(bureau)).status_code == 200


def matching(condition) -> set[int]:
    return set(db.session.scalars(select(Project.id).where(condition)))


def test_sql_filters_of_the_model(client, auth, f):
    owner = f.enterprise_user(region_code="130700")
    pv = create(client, auth, owner, region_code="130702", categories=["4.2.2"],
                preferred_instruments=["green_credit", "green_bond"])
    water = create(client, auth, owner, name="污水处理厂提标项目", region_code="130100", categories=["2.1.1"],
                   preferred_instruments=["reits"])
    assert matching(Project.in_region("130000")) == {pv, water}
    assert matching(Project.in_region("130700")) == {pv}
    assert matching(Project.in_region("130702")) == {pv}
    assert matching(Project.in_region("320000")) == set()
    assert matching(Project.has_category("4")) == matching(Project.has_category("4.2.2")) == {pv}
    assert matching(Project.has_category("4.2.20")) == matching(Project.has_category("4.20")) == set()
    assert matching(Project.prefers("green_credit")) == matching(Project.prefers("green_bond")) == {pv}
    assert matching(Project.prefers("reits")) == {water}
    assert matching(Project.prefers("green_fund")) == set()


def test_only_effective_categories_count(client, auth, f):
    owner, bureau = f.enterprise_user(region_code="130700"), f.bureau_user(region_code="130000")
    pid = create(client, auth, owner, categories=["4.2.2"])
    assert client.post(f"{API}/{pid}/submit", headers=auth(owner)).status_code == 200
    response = client.post(f"{API}/{pid}/review", json={"decision": "approve", "categories": ["4.2.1"]},
                           headers=auth(bureau))
    assert response.status_code == 200, response.get_json()
    assert matching(Project.has_category("4.2.1")) == {pid}
    assert matching(Project.has_category("4.2.2")) == set()  # declared, replaced by the bureau's confirmation


def test_prefers_matches_the_key_literally(client, auth, f):
    """``_`` in an instrument key is not a LIKE wildcard."""
    pid = create(client, auth, f.enterprise_user(), preferred_instruments=["green_credit"])
    db.session.execute(update(Project).where(Project.id == pid).values(preferred_instruments=["greenXcredit"]))
    db.session.commit()
    assert matching(Project.prefers("green_credit")) == set()


def test_instrument_filter(client, auth, f):
    owner, bureau = f.enterprise_user(region_code="130700"), f.bureau_user(region_code="130000")
    credit = create(client, auth, owner, preferred_instruments=["green_credit"])
    bond = create(client, auth, owner, name="绿色债券项目", preferred_instruments=["green_bond"])
    for pid in (credit, bond):
        approve(client, auth, owner, bureau, pid)

    def ids(query):
        response = client.get(f"{API}?{query}")
        assert response.status_code == 200, response.get_json()
        return [p["id"] for p in response.get_json()["items"]]

    assert ids("instrument=green_credit") == [credit]
    assert ids("instrument=green_bond") == [bond]
    assert ids("instrument=reits") == []


@pytest.mark.parametrize("value", ["crypto", "green%", "green_"])
def test_unknown_instrument_filter_is_422_naming_the_field(client, value):
    response = client.get(API, query_string={"instrument": value})
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed" and "instrument" in error["fields"], error


def test_review_queue_tiers_match_queue_tier(client, auth, f):
    owner, bureau = f.enterprise_user(region_code="130700"), f.bureau_user(region_code="130000")
    derived = {"other": (False, "yellow"), "dark_green": (False, "dark_green"),
               "flagged_dark_green": (True, "dark_green"), "flagged": (True, "red")}
    ids = {}
    for name in derived:  # submitted in this order: oldest first within a tier
        ids[name] = create(client, auth, owner, name=f"项目 {name}")
        assert client.post(f"{API}/{ids[name]}/submit", headers=auth(owner)).status_code == 200
    for name, (flagged, label) in derived.items():
        db.session.execute(update(Project).where(Project.id == ids[name]).values(flagged=flagged, label=label))
    db.session.commit()
    db.session.expire_all()
    tiers = {name: service.queue_tier(db.session.get(Project, pid)) for name, pid in ids.items()}
    # green priority first (seed 002 优先受理绿色项目), then flagged; it used to put flagged first (issue #12)
    assert tiers == {"other": 2, "dark_green": 0, "flagged_dark_green": 1, "flagged": 1}
    response = client.get("/api/v1/review-queue", headers=auth(bureau))
    assert response.status_code == 200, response.get_json()
    queue = [p["id"] for p in response.get_json()["items"]]
    assert queue == [ids[n] for n in ("dark_green", "flagged_dark_green", "flagged", "other")]


def _suggested(pid: int) -> list[str]:
    return list(db.session.scalars(select(ProjectCategory.code).where(
        ProjectCategory.project_id == pid, ProjectCategory.source == CategorySource.suggested)))


def test_stored_suggestions_follow_the_suggestion_limit_setting(client, auth, f, make_app):
    owner = f.enterprise_user()
    assert len(_suggested(create(client, auth, owner))) == 3  # the default suggestion_limit
    custom = make_app(RULES={"suggestion_limit": 5, "suggestion_min_confidence": 0}).test_client()
    pid = create(custom, auth, owner, categories=[])
    assert len(_suggested(pid)) == 5
    body = custom.get(f"{API}/{pid}/assessment", headers=auth(owner)).get_json()
    assert [c["source"] for c in body["categories"]] == ["suggested"] * 5


def test_longest_prefix():
    pairs = (("13", "a"), ("1307", "b"), ("1307", "c"), ("32", "d"))
    assert longest_prefix(pairs, "130702") == ("1307", "b")  # the first of equally long prefixes
    assert longest_prefix(pairs, "130100") == ("13", "a")
    assert longest_prefix(pairs, "110000") is None
    assert longest_prefix((), "130702") is None
    categories = (("1.1", 1.0), ("1.1.1", 2.0))
    assert longest_prefix(categories, "1.1.10", category_covers) == ("1.1", 1.0)
    assert longest_prefix(categories, "1.1.1", category_covers) == ("1.1.1", 2.0)
    assert longest_prefix(categories, "1.10", category_covers) is None
