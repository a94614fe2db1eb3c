"""Engagements: request → accept/decline → in progress → financed/closed; contact privacy; expiry."""

import datetime as dt

import pytest

from support.flows import approved_project, published_product, web_login

E = "/api/v1/engagements"


@pytest.fixture
def deal(client, auth, f):
    people = {"owner": f.enterprise_user(region_code="130700"), "bureau": f.bureau_user(region_code="130000"),
              "bank": f.institution_user(region_code="130000", name="河北银行"),
              "rival": f.institution_user(region_code="110000"), "other_enterprise": f.enterprise_user(),
              "admin": f.admin_user()}
    product = published_product(client, auth, people["bank"], instrument="green_credit", name="冀绿贷", params={})
    published_product(client, auth, people["rival"], instrument="green_credit", name="京绿贷", params={})
    pid = approved_project(client, auth, people["owner"], people["bureau"])
    lead = client.get("/api/v1/leads", headers=auth(people["bank"])).get_json()["items"][0]
    return {**people, "project": pid, "product": product, "match_id": lead["match_id"]}


def test_full_lifecycle_with_contact_privacy_and_funds_reached(client, auth, deal):
    bank, owner = deal["bank"], deal["owner"]
    assert "contact" not in client.get(f"/api/v1/projects/{deal['project']}", headers=auth(bank)).get_json()
    created = client.post(E, json={"match_id": deal["match_id"], "message": "我行可提供5年期绿色贷款"}, headers=auth(bank))
    assert created.status_code == 201, created.get_json()
    eid = created.get_json()["id"]
    assert created.get_json()["status"] == "requested" and "contact" not in created.get_json()
    assert client.post(E, json={"match_id": deal["match_id"]}, headers=auth(bank)).status_code == 409

    inbox = client.get("/api/v1/notifications", headers=auth(owner)).get_json()["items"]
    assert inbox[0]["kind"] == "engagement_requested" and "河北银行" in inbox[0]["title"]
    mine = client.get(E, headers=auth(owner)).get_json()["items"]
    assert [e["id"] for e in mine] == [eid]

    # the institution cannot accept on the enterprise's behalf; the enterprise cannot record financing
    assert client.post(f"{E}/{eid}/accept", headers=auth(bank)).status_code == 403
    assert client.patch(f"{E}/{eid}", json={"status": "in_progress"}, headers=auth(owner)).status_code == 403
    # illegal transition: financed before acceptance
    early = client.patch(f"{E}/{eid}", json={"status": "financed", "financed_amount_cny": 1e8,
                                             "financed_on": "2026-11-01"}, headers=auth(bank))
    assert early.status_code == 409

    accepted = client.post(f"{E}/{eid}/accept", json={"note": "欢迎洽谈"}, headers=auth(owner))
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "accepted"
    assert client.get(f"/api/v1/projects/{deal['project']}", headers=auth(bank)).get_json()["contact"]["name"] == "王经理"
    assert client.get(f"{E}/{eid}", headers=auth(bank)).get_json()["contact"]["phone"] == "+86 313 1234567"
    assert client.post(f"{E}/{eid}/decline", headers=auth(owner)).status_code == 409
    # the rival institution still does not see the contact
    assert "contact" not in client.get(f"/api/v1/projects/{deal['project']}", headers=auth(deal["rival"])).get_json()

    assert client.patch(f"{E}/{eid}", json={"status": "in_progress"}, headers=auth(bank)).get_json()["status"] \
        == "in_progress"
    missing = client.patch(f"{E}/{eid}", json={"status": "financed"}, headers=auth(bank))
    assert missing.status_code == 422
    assert set(missing.get_json()["error"]["fields"]) == {"financed_amount_cny", "financed_on"}
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    assert client.patch(f"{E}/{eid}", json={"status": "financed", "financed_amount_cny": 1.2e8,
                                            "financed_on": future}, headers=auth(bank)).status_code == 422
    financed = client.patch(f"{E}/{eid}", json={"status": "financed", "financed_amount_cny": 1.2e8,
                                                "financed_on": "2026-11-10"}, headers=auth(bank))
    assert financed.status_code == 200 and financed.get_json()["financed_amount_cny"] == 1.2e8
    assert client.patch(f"{E}/{eid}", json={"status": "closed"}, headers=auth(bank)).status_code == 409

    history = client.get(f"{E}/{eid}/history", headers=auth(owner)).get_json()["items"]
    assert [(h["from"], h["to"]) for h in history] == [
        (None, "requested"), ("requested", "accepted"), ("accepted", "in_progress"), ("in_progress", "financed")]

    stats = client.get("/api/v1/stats/overview", headers=auth(deal["bureau"])).get_json()
    assert stats["total_financed_cny"] == 1.2e8
    assert client.get("/api/v1/stats/overview", headers=auth(deal["admin"])).get_json()["total_financed_cny"] == 1.2e8


def test_decline(client, auth, deal):
    eid = client.post(E, json={"match_id": deal["match_id"]}, headers=auth(deal["bank"])).get_json()["id"]
    declined = client.post(f"{E}/{eid}/decline", json={"note": "已获得融资"}, headers=auth(deal["owner"]))
    assert declined.status_code == 200 and declined.get_json()["status"] == "declined"
    assert "contact" not in client.get(f"{E}/{eid}", headers=auth(deal["bank"])).get_json()
    assert client.patch(f"{E}/{eid}", json={"status": "in_progress"}, headers=auth(deal["bank"])).status_code == 409
    # after a decline, a new request may be made; the leads page links the lead to the new one
    again = client.post(E, json={"match_id": deal["match_id"]}, headers=auth(deal["bank"]))
    assert again.status_code == 201
    web_login(client, deal["bank"].email)
    html = client.get("/leads").get_data(as_text=True)
    assert f'href="/engagements/{again.get_json()["id"]}"' in html
    assert f'href="/engagements/{eid}"' not in html


def test_engagements_are_invisible_to_others(client, auth, deal):
    eid = client.post(E, json={"match_id": deal["match_id"]}, headers=auth(deal["bank"])).get_json()["id"]
    for outsider in (deal["rival"], deal["other_enterprise"]):
        assert client.get(f"{E}/{eid}", headers=auth(outsider)).status_code == 404
        assert client.get(E, headers=auth(outsider)).get_json()["total"] == 0
    # accepting is the enterprise's: an institution gets 403 for the role whatever the id (contract §5 order),
    # another enterprise 404 for the engagement it may not see
    assert client.post(f"{E}/{eid}/accept", headers=auth(deal["rival"])).status_code == 403
    assert client.post(f"{E}/{eid}/accept", headers=auth(deal["other_enterprise"])).status_code == 404
    # an institution cannot engage through another institution's match
    assert client.post(E, json={"match_id": deal["match_id"]}, headers=auth(deal["rival"])).status_code == 404
    assert client.post(E, json={"match_id": 999999}, headers=auth(deal["bank"])).status_code == 404


def test_unanswered_requests_expire(client, auth, deal, app_ctx):
    from greenmatch.db import utcnow
    from greenmatch.matching.engagements import expire_stale

    eid = client.post(E, json={"match_id": deal["match_id"]}, headers=auth(deal["bank"])).get_json()["id"]
    assert expire_stale(14) == 0
    assert expire_stale(14, now=utcnow() + dt.timedelta(days=15)) == 1
    assert client.get(f"{E}/{eid}", headers=auth(deal["bank"])).get_json()["status"] == "expired"
    assert client.post(f"{E}/{eid}/accept", headers=auth(deal["owner"])).status_code == 409
    assert expire_stale(14, now=utcnow() + dt.timedelta(days=15)) == 0


def test_notifications_read(client, auth, deal):
    client.post(E, json={"match_id": deal["match_id"]}, headers=auth(deal["bank"]))
    owner = deal["owner"]
    unread = client.get("/api/v1/notifications?unread=true", headers=auth(owner)).get_json()
    nid = unread["items"][0]["id"]
    assert client.post(f"/api/v1/notifications/{nid}/read", headers=auth(deal["bank"])).status_code == 404
    assert client.post(f"/api/v1/notifications/{nid}/read", headers=auth(owner)).get_json() == {"marked": 1}
    assert client.get("/api/v1/notifications?unread=true", headers=auth(owner)).get_json()["total"] == unread["total"] - 1


def test_enterprise_and_institution_are_told_of_decisions(client, auth, f):
    owner, bureau, admin = f.enterprise_user(region_code="130700"), f.bureau_user(region_code="130000"), f.admin_user()
    pending = f.institution_user(verified=False)
    from support.payloads import project

    pid = client.post("/api/v1/projects", json=project(), headers=auth(owner)).get_json()["id"]
    client.post(f"/api/v1/projects/{pid}/submit", headers=auth(owner))
    client.post(f"/api/v1/projects/{pid}/review", json={"decision": "return", "note": "补充环评"}, headers=auth(bureau))
    inbox = client.get("/api/v1/notifications?lang=en", headers=auth(owner)).get_json()["items"]
    assert inbox[0]["kind"] == "project_return" and "补充环评" in inbox[0]["title"]
    assert inbox[0]["link"] == f"/projects/{pid}"
    client.post(f"/api/v1/organizations/{pending.organization_id}/verify", headers=auth(admin))
    told = client.get("/api/v1/notifications", headers=auth(pending)).get_json()["items"]
    assert [n["kind"] for n in told] == ["organization_verified"]


def test_overview_splits_funds_reached(client, auth, deal):
    eid = client.post(E, json={"match_id": deal["match_id"]}, headers=auth(deal["bank"])).get_json()["id"]
    client.post(f"{E}/{eid}/accept", headers=auth(deal["owner"]))
    client.patch(f"{E}/{eid}", json={"status": "financed", "financed_amount_cny": 5e7, "financed_on": "2026-10-15"},
                 headers=auth(deal["bank"]))
    split = client.get("/api/v1/stats/overview", headers=auth(deal["bureau"])).get_json()["financed_split"]
    assert split == {"by_category": {"4": 5e7}, "by_region": {"130700": 5e7}, "by_instrument": {"green_credit": 5e7},
                     "by_month": {"2026-10": 5e7}}


def test_a_request_racing_another_gets_409_not_a_second_open_engagement(client, auth, deal, monkeypatch):
    from greenmatch.matching import engagements

    first = client.post(E, json={"match_id": deal["match_id"]}, headers=auth(deal["bank"]))
    assert first.status_code == 201
    # the second request does not see the first one (they ran at the same time): the database refuses it
    monkeypatch.setattr(engagements, "open_engagement", lambda *ids: None)
    second = client.post(E, json={"match_id": deal["match_id"]}, headers=auth(deal["bank"]))
    assert second.status_code == 409 and "match_id" in second.get_json()["error"]["fields"]
    listed = client.get(E, headers=auth(deal["bank"])).get_json()["items"]
    assert [e["id"] for e in listed] == [first.get_json()["id"]]


def test_listing_projects_reads_the_contact_grants_once_per_request(client, auth, deal, app_ctx):
    from sqlalchemy import event

    from greenmatch.extensions import db

    for i in range(3):
        approved_project(client, auth, deal["owner"], deal["bureau"], name=f"光伏电站第{i}期项目")
    statements = []

    def record(*args):
        statements.append(args[2])

    def grant_queries(per_page):
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            response = client.get(f"/api/v1/projects?per_page={per_page}", headers=auth(deal["bank"]))
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        assert response.status_code == 200 and len(response.get_json()["items"]) == per_page
        return [s for s in statements if "FROM engagements" in s]

    assert len(grant_queries(1)) == len(grant_queries(4)) == 1
