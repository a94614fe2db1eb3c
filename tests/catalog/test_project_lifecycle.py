"""The project lifecycle through the HTTP API: create, edit, submit, review, history, visibility."""

import pytest

from greenmatch.catalog import service
from greenmatch.instruments import current_plugins
from support.payloads import project

API = "/api/v1/projects"


@pytest.fixture
def people(f):
    return {
        "owner": f.enterprise_user(region_code="130700"),
        "other_enterprise": f.enterprise_user(region_code="130700"),
        "hebei_bureau": f.bureau_user(region_code="130000"),
        "zjk_bureau": f.bureau_user(region_code="130700"),
        "jiangsu_bureau": f.bureau_user(region_code="320000"),
        "institution": f.institution_user(),
        "admin": f.admin_user(),
    }


def create(client, auth, user, **overrides):
    response = client.post(API, json=project(**overrides), headers=auth(user))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_full_lifecycle(client, auth, people):
    owner, bureau, wrong_bureau = people["owner"], people["hebei_bureau"], people["jiangsu_bureau"]
    created = create(client, auth, owner)
    assert created["status"] == "draft" and created["version"] == 1
    assert created["contact"]["phone"] == "+86 313 1234567"
    pid = created["id"]

    edited = client.patch(f"{API}/{pid}", json={"version": 1, "financing_need_cny": 160_000_000},
                          headers=auth(owner))
    assert edited.status_code == 200, edited.get_json()
    assert edited.get_json()["financing_need_cny"] == 160_000_000 and edited.get_json()["version"] == 2

    submitted = client.post(f"{API}/{pid}/submit", json={"version": 2}, headers=auth(owner))
    assert submitted.status_code == 200 and submitted.get_json()["status"] == "submitted"

    wrong = client.post(f"{API}/{pid}/review", json={"decision": "approve"}, headers=auth(wrong_bureau))
    assert wrong.status_code in (403, 404)
    assert client.get(f"{API}/{pid}", headers=auth(wrong_bureau)).status_code == 404

    returned = client.post(f"{API}/{pid}/review", json={"decision": "return", "note": "请补充环评批复文号"},
                           headers=auth(bureau))
    assert returned.status_code == 200 and returned.get_json()["status"] == "returned"
    assert returned.get_json()["review_note"] == "请补充环评批复文号"

    version = returned.get_json()["version"]
    fixed = client.patch(f"{API}/{pid}", json={"version": version, "description": "已补充环评批复：冀环评〔2025〕12号。"},
                         headers=auth(owner))
    assert fixed.status_code == 200
    assert client.post(f"{API}/{pid}/submit", headers=auth(owner)).get_json()["status"] == "submitted"

    approved = client.post(f"{API}/{pid}/review", json={"decision": "approve", "note": "同意入库",
                                                          "categories": ["4.2.2", "4.3.1"]}, headers=auth(bureau))
    assert approved.status_code == 200, approved.get_json()
    body = approved.get_json()
    assert body["status"] == "approved"
    assert body["confirmed_categories"] == ["4.2.2", "4.3.1"]
    assert body["categories"] == ["4.2.2", "4.3.1"] and body["declared_categories"] == ["4.2.2"]

    history = client.get(f"{API}/{pid}/history", headers=auth(owner)).get_json()["items"]
    assert [(h["from"], h["to"]) for h in history] == [
        (None, "draft"), ("draft", "submitted"), ("submitted", "returned"), ("returned", "submitted"),
        ("submitted", "approved"),
    ]
    assert history[2]["note"] == "请补充环评批复文号"
    assert history[2]["actor_id"] == bureau.id and history[0]["actor_id"] == owner.id

    assessment = client.get(f"{API}/{pid}/assessment", headers=auth(owner)).get_json()
    sources = {c["code"]: c["source"] for c in assessment["categories"]}
    assert sources["4.2.2"] == "confirmed" and sources["4.3.1"] == "confirmed"


def test_illegal_transitions_are_409(client, auth, people):
    owner, bureau = people["owner"], people["hebei_bureau"]
    pid = create(client, auth, owner)["id"]
    # contract §5: approving a draft is an illegal transition (409), though the bureau cannot read the draft
    draft = client.post(f"{API}/{pid}/review", json={"decision": "approve"}, headers=auth(bureau))
    assert draft.status_code == 409 and draft.get_json()["error"]["code"] == "illegal_transition"
    assert client.get(f"{API}/{pid}", headers=auth(bureau)).status_code == 404
    assert client.post(f"{API}/{pid}/submit", headers=auth(owner)).status_code == 200
    twice = client.post(f"{API}/{pid}/submit", headers=auth(owner))
    assert twice.status_code == 409 and twice.get_json()["error"]["code"] == "illegal_transition"
    edit_submitted = client.patch(f"{API}/{pid}", json={"version": 2, "name": "新名称项目"}, headers=auth(owner))
    assert edit_submitted.status_code == 409
    assert client.post(f"{API}/{pid}/review", json={"decision": "approve"}, headers=auth(bureau)).status_code == 200
    edit_approved = client.patch(f"{API}/{pid}", json={"version": 3, "name": "新名称项目"}, headers=auth(owner))
    assert edit_approved.status_code == 409
    again = client.post(f"{API}/{pid}/review", json={"decision": "reject", "note": "x"}, headers=auth(bureau))
    assert again.status_code == 409


def test_approving_a_draft_is_409_for_admin_visibility(client, auth, people, f):
    """A returned project is not submitted either: approving it is the same illegal transition (409)."""
    owner = people["owner"]
    pid = create(client, auth, owner)["id"]
    client.post(f"{API}/{pid}/submit", headers=auth(owner))
    bureau = people["zjk_bureau"]
    client.post(f"{API}/{pid}/review", json={"decision": "return", "note": "补充材料"}, headers=auth(bureau))
    # returned is not submitted: approving it now is an illegal transition
    response = client.post(f"{API}/{pid}/review", json={"decision": "approve"}, headers=auth(bureau))
    assert response.status_code == 409


def test_stale_version_is_409(client, auth, people):
    owner = people["owner"]
    pid = create(client, auth, owner)["id"]
    assert client.patch(f"{API}/{pid}", json={"version": 1, "name": "第一次修改的名称"}, headers=auth(owner)).status_code == 200
    stale = client.patch(f"{API}/{pid}", json={"version": 1, "name": "基于旧版本的修改"}, headers=auth(owner))
    assert stale.status_code == 409
    assert stale.get_json()["error"]["fields"] == {"version": ["内容已被他人修改，请刷新后重试。"]}
    assert client.get(f"{API}/{pid}", headers=auth(owner)).get_json()["name"] == "第一次修改的名称"
    assert client.patch(f"{API}/{pid}", json={"name": "缺少版本号"}, headers=auth(owner)).status_code == 422


def test_other_enterprise_gets_404(client, auth, people):
    pid = create(client, auth, people["owner"])["id"]
    intruder = people["other_enterprise"]
    assert client.get(f"{API}/{pid}", headers=auth(intruder)).status_code == 404
    assert client.patch(f"{API}/{pid}", json={"version": 1, "name": "篡改的名称"}, headers=auth(intruder)).status_code == 404
    assert client.post(f"{API}/{pid}/submit", headers=auth(intruder)).status_code == 404
    assert client.get(f"{API}/{pid}/history", headers=auth(intruder)).status_code == 404
    assert client.get(f"{API}/{pid}/assessment", headers=auth(intruder)).status_code == 404
    assert client.get(API, headers=auth(intruder)).get_json()["total"] == 0


def test_institutions_and_public_never_see_drafts_or_contacts(client, auth, people):
    owner, bureau, institution = people["owner"], people["hebei_bureau"], people["institution"]
    draft = create(client, auth, owner, name="草稿阶段的风电项目")["id"]
    approved = create(client, auth, owner)["id"]
    client.post(f"{API}/{approved}/submit", headers=auth(owner))
    client.post(f"{API}/{approved}/review", json={"decision": "approve"}, headers=auth(bureau))

    for headers in (auth(institution), {}):
        assert client.get(f"{API}/{draft}", headers=headers).status_code == 404
        listing = client.get(API, headers=headers).get_json()
        assert [p["id"] for p in listing["items"]] == [approved]
        assert "contact" not in listing["items"][0]
        detail = client.get(f"{API}/{approved}", headers=headers).get_json()
        assert "contact" not in detail and detail["status"] == "approved"
    # the owner, its bureau and admins see the contact
    for user in (owner, bureau, people["admin"]):
        assert client.get(f"{API}/{approved}", headers=auth(user)).get_json()["contact"]["name"] == "王经理"
    assert client.post(f"{API}/{approved}/review", json={"decision": "reject", "note": "x"},
                       headers=auth(institution)).status_code == 403


def test_bureau_jurisdiction_is_by_region_prefix(client, auth, people):
    owner = people["owner"]
    pid = create(client, auth, owner)["id"]
    client.post(f"{API}/{pid}/submit", headers=auth(owner))
    for bureau in (people["hebei_bureau"], people["zjk_bureau"]):
        assert client.get(f"{API}/{pid}", headers=auth(bureau)).status_code == 200
        queue = client.get("/api/v1/review-queue", headers=auth(bureau)).get_json()
        assert [p["id"] for p in queue["items"]] == [pid]
    assert client.get("/api/v1/review-queue", headers=auth(people["jiangsu_bureau"])).get_json()["total"] == 0
    assert client.get("/api/v1/review-queue", headers=auth(owner)).status_code == 403


def test_bureau_never_sees_drafts(client, auth, people):
    create(client, auth, people["owner"])
    assert client.get(API, headers=auth(people["hebei_bureau"])).get_json()["total"] == 0


def test_only_enterprises_create_projects(client, auth, people):
    for role in ("institution", "hebei_bureau", "admin"):
        assert client.post(API, json=project(), headers=auth(people[role])).status_code == 403
    assert client.post(API, json=project()).status_code == 401


def test_return_and_reject_need_a_note(client, auth, people):
    owner = people["owner"]
    pid = create(client, auth, owner)["id"]
    client.post(f"{API}/{pid}/submit", headers=auth(owner))
    for decision in ("return", "reject"):
        response = client.post(f"{API}/{pid}/review", json={"decision": decision}, headers=auth(people["hebei_bureau"]))
        assert response.status_code == 422 and "note" in response.get_json()["error"]["fields"]


def test_list_filters(client, auth, people):
    owner, bureau = people["owner"], people["hebei_bureau"]
    ids = {}
    for name, cats, region in (("光伏电站甲项目", ["4.2.2"], "130700"), ("污水处理厂提标项目", ["2.1.1"], "130100")):
        pid = create(client, auth, owner, name=name, categories=cats, region_code=region)["id"]
        client.post(f"{API}/{pid}/submit", headers=auth(owner))
        client.post(f"{API}/{pid}/review", json={"decision": "approve"}, headers=auth(bureau))
        ids[name] = pid
    def names(query):
        return [p["name"] for p in client.get(f"{API}?{query}").get_json()["items"]]
    assert names("category=4.2") == ["光伏电站甲项目"]
    assert names("category=4") == ["光伏电站甲项目"]
    assert names("region=130100") == ["污水处理厂提标项目"]
    assert set(names("region=130000")) == set(ids)
    assert names("q=污水") == ["污水处理厂提标项目"]
    assert client.get(f"{API}?category=9.9.9").status_code == 422
    assert client.get(f"{API}?status=bogus").status_code == 422


def test_rule_settings_are_built_once_per_app(client, auth, people, make_app):
    """One RuleSettings per app (its screening memo is reused across requests); each app keeps its own RULES."""
    rules = service.rule_settings()
    assert service.rule_settings() is rules
    assert current_plugins()["reits"].rules is rules  # the plugins got the same instance at start-up
    pid = create(client, auth, people["owner"])["id"]
    assert client.get(f"{API}/{pid}/assessment", headers=auth(people["owner"])).status_code == 200
    assert rules.memo and service.rule_settings() is rules  # the screening filled the app's memo
    custom = make_app(RULES={"label_yellow_min": 30})
    with custom.app_context():
        assert service.rule_settings() is not rules
        assert service.rule_settings().label_yellow_min == 30.0
        assert service.rule_settings() is service.rule_settings()
    assert service.rule_settings() is rules
