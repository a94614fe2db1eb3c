"""Contract §5 status-code order: authentication (401), role (403), visibility (404), body (422), state (409).

A caller with the wrong role learns nothing from the body it sends; an illegal transition is 409 whatever
the body says; amounts below one fen are 422 naming the field; a 405 names the allowed methods.
"""

from __future__ import annotations

import re

import pytest

from greenmatch.extensions import db
from greenmatch.matching.models import Engagement, EngagementEvent
from support.flows import approved_project, published_product, web_login
from support.payloads import project

API = "/api/v1"
BAD_BODY = {"无效字段": "？？", "financed_amount_cny": "很多", "decision": 42}


@pytest.fixture
def people(f):
    return {"enterprise": f.enterprise_user(region_code="130700"),
            "unverified": f.institution_user(verified=False, region_code="110000"),
            "institution": f.institution_user(region_code="130000", name="河北银行"),
            "bureau": f.bureau_user(region_code="130000"), "admin": f.admin_user()}


@pytest.fixture
def requested(client, auth, people):
    """A requested engagement between 河北银行 and the enterprise's approved PV project."""
    bank = people["institution"]
    published_product(client, auth, bank, instrument="green_credit", name="冀绿贷", params={})
    approved_project(client, auth, people["enterprise"], people["bureau"])
    match_id = client.get(f"{API}/leads", headers=auth(bank)).get_json()["items"][0]["match_id"]
    response = client.post(f"{API}/engagements", json={"match_id": match_id, "message": "我行可提供绿色贷款"},
                           headers=auth(bank))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _spec(client) -> dict:
    return client.get(f"{API}/openapi.json").get_json()


def _restricted_operations(spec):
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and "x-roles" in op:
                yield method.upper(), path, op


def _send(client, method, path, op, headers):
    """The operation with every path id 1 and an invalid body (or invalid query when it has no body)."""
    url = re.sub(r"\{[^}]+\}", "1", path)
    content = (op.get("requestBody") or {}).get("content", {})
    if "multipart/form-data" in content:
        return client.open(url, method=method, data={"无效": "x"}, content_type="multipart/form-data",
                           headers=headers)
    if content:
        return client.open(url, method=method, json=BAD_BODY, headers=headers)
    return client.open(url + "?page=0&per_page=-1", method=method, headers=headers)


def test_enterprise_posting_a_product_is_403_with_a_valid_or_an_invalid_body(client, auth, people):
    headers = auth(people["enterprise"])
    valid = {"instrument": "green_credit", "name": "企业自设的贷款产品", "params": {}}
    for body in (valid, {"instrument": 7, "params": "不是对象"}, {}):
        response = client.post(f"{API}/products", json=body, headers=headers)
        assert response.status_code == 403, (body, response.get_json())
        assert response.get_json()["error"]["code"] == "forbidden"
    unverified = client.post(f"{API}/products", json={"instrument": 7}, headers=auth(people["unverified"]))
    assert unverified.status_code == 403
    assert client.post(f"{API}/products", json={"instrument": 7}).status_code == 401


def test_every_role_restricted_operation_checks_the_role_before_the_body(client, auth, people):
    spec = _spec(client)
    operations = list(_restricted_operations(spec))
    assert len(operations) >= 20  # products, projects, review, engagements, runs, stats, imports ...
    checked = 0
    for method, path, op in operations:
        roles = set(op["x-roles"])
        assert "403" in op["responses"] and "401" in op["responses"], (method, path)
        assert client.open(re.sub(r"\{[^}]+\}", "1", path), method=method, json=BAD_BODY).status_code == 401
        for name, user in people.items():
            wrong = user.role not in roles or (name == "unverified" and op.get("x-verified"))
            if not wrong:
                continue
            response = _send(client, method, path, op, auth(user))
            assert response.status_code == 403, (method, path, name, response.get_json())
            checked += 1
    assert checked >= 60


def test_openapi_lists_the_roles_of_each_restricted_operation(client):
    paths = _spec(client)["paths"]
    assert paths["/api/v1/products"]["post"]["x-roles"] == ["institution"]
    assert paths["/api/v1/products"]["post"]["x-verified"] is True
    assert paths["/api/v1/projects/{project_id}/review"]["post"]["x-roles"] == ["bureau"]
    assert paths["/api/v1/engagements/{engagement_id}"]["patch"]["x-roles"] == ["institution"]
    assert "x-roles" not in paths["/api/v1/projects"]["get"]  # the public catalogue


def test_requested_engagement_marked_financed_is_409_whatever_the_body(client, auth, people, requested, app_ctx):
    bank = people["institution"]
    for body in ({"status": "financed", "financed_amount_cny": "很多", "financed_on": "昨天", "多余": 1},
                 {"status": "financed", "financed_amount_cny": 120_000_000, "financed_on": "2026-11-10"},
                 {"status": "closed", "note": 5},
                 {"status": "不存在的状态"}):
        response = client.patch(f"{API}/engagements/{requested}", json=body, headers=auth(bank))
        assert response.status_code == 409, (body, response.get_json())
        assert response.get_json()["error"]["code"] == "illegal_transition"
    db.session.expire_all()
    engagement = db.session.get(Engagement, requested)
    assert engagement.status == "requested" and engagement.financed_amount_cny is None
    assert db.session.query(EngagementEvent).filter_by(engagement_id=requested).count() == 1
    # once accepted the transition is legal: now the body's own mistakes are named (422)
    assert client.post(f"{API}/engagements/{requested}/accept", headers=auth(people["enterprise"])).status_code == 200
    bad = client.patch(f"{API}/engagements/{requested}", json={"status": "financed", "financed_amount_cny": "很多",
                                                               "financed_on": "2026-11-10"}, headers=auth(bank))
    assert bad.status_code == 422 and "financed_amount_cny" in bad.get_json()["error"]["fields"]
    # another institution's engagement stays invisible (404) before any state or body check
    rival = auth(people["unverified"])
    assert client.patch(f"{API}/engagements/{requested}", json={"status": "financed"}, headers=rival).status_code == 404


def test_answering_an_answered_engagement_is_409_before_the_note(client, auth, people, requested):
    owner = auth(people["enterprise"])
    assert client.post(f"{API}/engagements/{requested}/decline", json={"note": "已获得融资"}, headers=owner).status_code \
        == 200
    again = client.post(f"{API}/engagements/{requested}/accept", json={"note": ["不是文字"]}, headers=owner)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "illegal_transition"


def test_approving_a_draft_is_409_whatever_the_body(client, auth, people):
    owner, bureau = auth(people["enterprise"]), auth(people["bureau"])
    pid = client.post(f"{API}/projects", json=project(), headers=owner).get_json()["id"]
    for body in ({"decision": "approve"}, {"decision": "approve", "categories": ["9.9.9"], "多余": True},
                 {"decision": "reject"}, {}):
        response = client.post(f"{API}/projects/{pid}/review", json=body, headers=bureau)
        assert response.status_code == 409, (body, response.get_json())
        assert response.get_json()["error"]["code"] == "illegal_transition"
    assert client.get(f"{API}/projects/{pid}", headers=owner).get_json()["status"] == "draft"
    # a bureau outside the project's region does not find the draft at all
    from support import factories

    shanxi = factories.bureau_user(region_code="140000")
    assert client.post(f"{API}/projects/{pid}/review", json={"decision": "approve"},
                       headers=auth(shanxi)).status_code == 404
    # submitted, the same review's invalid body is now the problem (422 naming the field)
    assert client.post(f"{API}/projects/{pid}/submit", headers=owner).status_code == 200
    bad = client.post(f"{API}/projects/{pid}/review", json={"decision": "approve", "categories": ["9.9.9"]},
                      headers=bureau)
    assert bad.status_code == 422 and list(bad.get_json()["error"]["fields"]) == ["categories.0"]
    assert client.post(f"{API}/projects/{pid}/submit", json={"version": "x"}, headers=owner).status_code == 409


def test_publishing_a_published_product_is_409_before_the_body(client, auth, people):
    bank = auth(people["institution"])
    pid = published_product(client, auth, people["institution"], instrument="green_credit", name="冀绿贷", params={})
    again = client.post(f"{API}/products/{pid}/publish", json={"version": "不是数字"}, headers=bank)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "illegal_transition"
    assert client.post(f"{API}/products/{pid}/withdraw", json={"version": "不是数字"}, headers=bank).status_code == 422


@pytest.mark.parametrize(("field", "amount"), [
    ("total_investment_cny", 220_000_000.005), ("financing_need_cny", "150000000.001"),
    ("annual_revenue_cny", 0.001), ("annual_net_cash_flow_cny", -12.345), ("asset_value_cny", 1e-3),
])
def test_project_amounts_below_one_fen_are_422_naming_the_field(client, auth, people, field, amount):
    response = client.post(f"{API}/projects", json=project(**{field: amount}), headers=auth(people["enterprise"]))
    assert response.status_code == 422, response.get_json()
    assert "精确到分" in response.get_json()["error"]["fields"][field][0]
    assert client.get(f"{API}/projects", headers=auth(people["enterprise"])).get_json()["total"] == 0


def test_amounts_to_the_fen_are_accepted(client, auth, people):
    body = project(total_investment_cny=220_000_000.55, financing_need_cny="150000000.50",
                   annual_revenue_cny="28000000.000")
    response = client.post(f"{API}/projects", json=body, headers=auth(people["enterprise"]))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["total_investment_cny"] == 220_000_000.55


def test_product_params_and_financed_amounts_below_one_fen_are_422(client, auth, people, requested):
    bank = auth(people["institution"])
    product = client.post(f"{API}/products", json={"instrument": "green_credit", "name": "冀绿贷二期",
                                                   "params": {"min_amount_cny": 5_000_000.001}}, headers=bank)
    assert product.status_code == 422 and "params.min_amount_cny" in product.get_json()["error"]["fields"]
    bond = client.post(f"{API}/products", json={"instrument": "green_bond", "name": "绿色债券承销",
                                                "params": {"min_issue_size_cny": "50000000.009"}}, headers=bank)
    assert bond.status_code == 422 and "params.min_issue_size_cny" in bond.get_json()["error"]["fields"]
    assert client.post(f"{API}/engagements/{requested}/accept", headers=auth(people["enterprise"])).status_code == 200
    financed = client.patch(f"{API}/engagements/{requested}", json={
        "status": "financed", "financed_amount_cny": 120_000_000.125, "financed_on": "2026-11-10"}, headers=bank)
    assert financed.status_code == 422
    assert list(financed.get_json()["error"]["fields"]) == ["financed_amount_cny"]


def test_page_form_refuses_a_sub_fen_amount_in_chinese(client, auth, people, requested):
    assert client.post(f"{API}/engagements/{requested}/accept", headers=auth(people["enterprise"])).status_code == 200
    bank = people["institution"]
    web_login(client, bank.email)
    html = client.get(f"/engagements/{requested}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    response = client.post(f"/engagements/{requested}/progress", data={
        "csrf_token": token, "status": "financed", "financed_amount_cny": "120,000,000.125",
        "financed_on": "2026-11-10"})
    assert response.status_code == 422
    assert "最多保留两位小数" in response.get_data(as_text=True)
    assert client.get(f"{API}/engagements/{requested}", headers=auth(bank)).get_json()["status"] == "accepted"


def test_405_carries_allow(client):
    response = client.put(f"{API}/products")
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"
    assert {m.strip() for m in response.headers["Allow"].split(",")} >= {"GET", "POST"}
    assert "PUT" not in response.headers["Allow"]
    item = client.delete(f"{API}/engagements/1")
    assert item.status_code == 405 and "PATCH" in item.headers["Allow"]
    page = client.put("/login")
    assert page.status_code == 405 and "POST" in page.headers["Allow"]
