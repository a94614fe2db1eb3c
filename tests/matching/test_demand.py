"""The demand side: an enterprise asks for offers, institutions compete, the enterprise accepts one, the chosen
institution has a contact deadline that the bureau sees when missed (api.md §5 "Demand side")."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from support.flows import approved_project, published_product

R = "/api/v1/financing-requests"


def _in(days: int) -> str:
    return (dt.date.today() + dt.timedelta(days=days)).isoformat()


def _request_body(project_id: int, **overrides):
    body = {"project_id": project_id, "amount_cny": 80_000_000, "term_months": 60,
            "purpose": "风电场一期工程建设及设备采购（48台风机、220kV升压站）", "instruments": ["green_credit"],
            "closes_at": _in(14)}
    body.update(overrides)
    return body


def _offer(product_id: int, rate: float, amount: float = 60_000_000, **overrides):
    return {"product_id": product_id, "amount_cny": amount, "annual_rate_pct": rate, "term_months": 60,
            "collateral": ["charging_rights"], "conditions": "项目电费收费权质押，宽限期12个月", **overrides}


@pytest.fixture
def market(client, auth, f):
    """A Zhangjiakou wind project and five banks with a published green-credit product each."""
    owner = f.enterprise_user(region_code="130700", name="张家口坝上风光新能源有限公司")
    bureau = f.bureau_user(region_code="130000")
    banks = [f.institution_user(region_code="130000", name=name) for name in
             ("河北银行", "张家口银行", "中国农业银行河北分行", "兴业银行石家庄分行", "交通银行河北分行")]
    products = [published_product(client, auth, bank, instrument="green_credit", name=f"{bank.organization.name}绿色贷",
                                  params={}) for bank in banks]
    project_id = approved_project(client, auth, owner, bureau)
    return {"owner": owner, "bureau": bureau, "banks": banks, "products": products, "project": project_id,
            "outsider": f.enterprise_user(region_code="320500"), "other_bureau": f.bureau_user(region_code="320000"),
            "admin": f.admin_user()}


def test_request_offers_accept_deadline_escalation(client, auth, market, app_ctx):
    owner, banks, products = market["owner"], market["banks"], market["products"]
    created = client.post(R, json=_request_body(market["project"]), headers=auth(owner))
    assert created.status_code == 201, created.get_json()
    request = created.get_json()
    assert (request["status"], request["max_offers"], request["offers_count"]) == ("open", 3, 0)
    rid = request["id"]

    # every bank with a matching published product is told, and sees the request
    for bank in banks:
        kinds = [n["kind"] for n in client.get("/api/v1/notifications", headers=auth(bank)).get_json()["items"]]
        assert "financing_request_opened" in kinds
        assert [r["id"] for r in client.get(R, headers=auth(bank)).get_json()["items"]] == [rid]

    # the first three offer; the fourth is refused with 409 and nothing is written
    rates = [3.45, 3.10, 3.60]
    for bank, product, rate in zip(banks[:3], products[:3], rates, strict=True):
        made = client.post(f"{R}/{rid}/offers", json=_offer(product, rate), headers=auth(bank))
        assert made.status_code == 201, made.get_json()
    late = client.post(f"{R}/{rid}/offers", json=_offer(products[3], 2.9), headers=auth(banks[3]))
    assert late.status_code == 409
    assert client.get(f"{R}/{rid}", headers=auth(owner)).get_json()["offers_count"] == 3

    # the enterprise compares all offers, cheapest first; a bank sees only its own
    offers = client.get(f"{R}/{rid}/offers", headers=auth(owner)).get_json()["items"]
    assert [o["annual_rate_pct"] for o in offers] == [3.10, 3.45, 3.60]
    assert [o["institution"]["name"] for o in client.get(f"{R}/{rid}/offers", headers=auth(banks[0])).get_json()[
        "items"]] == ["河北银行"]

    cheapest = offers[0]
    # only the request's enterprise accepts
    assert client.post(f"/api/v1/offers/{cheapest['id']}/accept", headers=auth(banks[1])).status_code == 403
    accepted = client.post(f"/api/v1/offers/{cheapest['id']}/accept", headers=auth(owner))
    assert accepted.status_code == 200, accepted.get_json()
    engagement = accepted.get_json()
    assert engagement["status"] == "accepted" and engagement["institution"]["name"] == "张家口银行"
    due = dt.datetime.fromisoformat(engagement["due_at"])
    assert dt.timedelta(days=6, hours=23) < due - dt.datetime.now(dt.UTC) <= dt.timedelta(days=7)
    assert engagement["contact"]["name"]  # the chosen bank sees the contact at once
    statuses = {o["institution"]["name"]: o["status"] for o in
                client.get(f"{R}/{rid}/offers", headers=auth(owner)).get_json()["items"]}
    assert statuses == {"张家口银行": "accepted", "河北银行": "declined", "中国农业银行河北分行": "declined"}
    declined_inbox = client.get("/api/v1/notifications", headers=auth(banks[0])).get_json()["items"]
    assert declined_inbox[0]["kind"] == "offer_declined"
    assert client.get(f"{R}/{rid}", headers=auth(owner)).get_json()["status"] == "accepted"
    assert client.post(f"/api/v1/offers/{offers[1]['id']}/accept", headers=auth(owner)).status_code == 409

    # a week passes without contact: the engagement is overdue and the project's bureau is told, once
    from greenmatch.db import utcnow
    from greenmatch.matching.demand import escalate_overdue

    assert escalate_overdue() == 0
    later = utcnow() + dt.timedelta(days=8)
    assert escalate_overdue(later) == 1
    assert escalate_overdue(later) == 0
    bureau_inbox = client.get("/api/v1/notifications", headers=auth(market["bureau"])).get_json()["items"]
    assert [n["kind"] for n in bureau_inbox] == ["engagement_overdue"]
    assert not client.get("/api/v1/notifications", headers=auth(market["other_bureau"])).get_json()["items"]

    # contact made: in progress, then financed
    eid = engagement["id"]
    moved = client.patch(f"/api/v1/engagements/{eid}", json={"status": "in_progress"}, headers=auth(banks[1]))
    assert moved.status_code == 200 and moved.get_json()["overdue"] is False


def test_overdue_engagements_are_listed_for_the_bureau(client, auth, market, app_ctx):
    from greenmatch.db import utcnow
    from greenmatch.extensions import db
    from greenmatch.matching.models import Engagement

    rid = client.post(R, json=_request_body(market["project"]), headers=auth(market["owner"])).get_json()["id"]
    oid = client.post(f"{R}/{rid}/offers", json=_offer(market["products"][0], 3.2),
                      headers=auth(market["banks"][0])).get_json()["id"]
    eid = client.post(f"/api/v1/offers/{oid}/accept", headers=auth(market["owner"])).get_json()["id"]
    assert client.get("/api/v1/engagements?overdue=true", headers=auth(market["bureau"])).get_json()["total"] == 0
    db.session.get(Engagement, eid).due_at = utcnow() - dt.timedelta(hours=1)
    db.session.commit()
    listed = client.get("/api/v1/engagements?overdue=true", headers=auth(market["bureau"])).get_json()
    assert [e["id"] for e in listed["items"]] == [eid] and listed["items"][0]["overdue"] is True
    assert client.get("/api/v1/engagements?overdue=true", headers=auth(market["other_bureau"])).get_json()[
        "total"] == 0


def test_bad_input_is_a_clear_4xx(client, auth, market, f):
    owner, bank, product = market["owner"], market["banks"][0], market["products"][0]
    body = _request_body(market["project"])

    def fields_of(response):
        return {name.split(".")[0] for name in response.get_json()["error"]["fields"]}  # "collateral.0" -> collateral

    assert client.post(R, json=body).status_code == 401
    assert client.post(R, json=body, headers=auth(bank)).status_code == 403
    assert client.post(R, json=body, headers=auth(market["outsider"])).status_code == 404  # not its project
    for bad, field in (({"amount_cny": 0}, "amount_cny"), ({"amount_cny": -5}, "amount_cny"),
                       ({"amount_cny": 2e9}, "amount_cny"), ({"closes_at": _in(-1)}, "closes_at"),
                       ({"instruments": ["magic_money"]}, "instruments"), ({"max_offers": 50}, "max_offers"),
                       ({"term_months": 0}, "term_months"), ({"purpose": ""}, "purpose")):
        response = client.post(R, json={**body, **bad}, headers=auth(owner))
        assert response.status_code == 422, (bad, response.get_json())
        assert fields_of(response) == {field}, (bad, response.get_json())
    assert client.get(R, headers=auth(owner)).get_json()["total"] == 0  # nothing half-written

    rid = client.post(R, json=body, headers=auth(owner)).get_json()["id"]
    assert client.post(R, json=body, headers=auth(owner)).status_code == 409  # one open request per project
    offer = _offer(product, 3.3)
    assert client.post(f"{R}/{rid}/offers", json=offer, headers=auth(owner)).status_code == 403
    unverified = f.institution_user(verified=False, region_code="130000")
    assert client.post(f"{R}/{rid}/offers", json=offer, headers=auth(unverified)).status_code == 403
    for bad, field in (({"amount_cny": 0}, "amount_cny"), ({"amount_cny": 9e7}, "amount_cny"),
                       ({"product_id": market["products"][1]}, "product_id"),
                       ({"collateral": ["gold_bars"]}, "collateral"), ({"annual_rate_pct": -1}, "annual_rate_pct")):
        response = client.post(f"{R}/{rid}/offers", json={**offer, **bad}, headers=auth(bank))
        assert response.status_code == 422, (bad, response.get_json())
        assert fields_of(response) == {field}
    assert client.get(f"{R}/{rid}", headers=auth(owner)).get_json()["offers_count"] == 0
    assert client.post(f"{R}/{rid}/offers", json=offer, headers=auth(bank)).status_code == 201
    assert client.post(f"{R}/{rid}/offers", json=offer, headers=auth(bank)).status_code == 409  # offered already

    # withdrawn: further offers are 409; the submitted one is declined with notice
    assert client.post(f"{R}/{rid}/close", headers=auth(bank)).status_code == 403
    closed = client.post(f"{R}/{rid}/close", headers=auth(owner))
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    second = client.post(f"{R}/{rid}/offers", json=_offer(market["products"][1], 3.0), headers=auth(market["banks"][1]))
    assert second.status_code == 409
    assert client.get(f"{R}/{rid}/offers", headers=auth(owner)).get_json()["items"][0]["status"] == "declined"


def test_requests_are_invisible_outside_their_circle(client, auth, market, f):
    rid = client.post(R, json=_request_body(market["project"]), headers=auth(market["owner"])).get_json()["id"]
    stranger_bank = f.institution_user(region_code="320000", name="苏州银行")  # no product matches the project
    for outsider in (market["outsider"], market["other_bureau"], stranger_bank):
        assert client.get(f"{R}/{rid}", headers=auth(outsider)).status_code == 404
        assert client.get(f"{R}/{rid}/offers", headers=auth(outsider)).status_code == 404
        assert client.get(R, headers=auth(outsider)).get_json()["total"] == 0
    product = published_product(client, auth, stranger_bank, instrument="green_credit", name="苏绿贷",
                                params={"regions": ["320000"]})
    assert client.post(f"{R}/{rid}/offers", json=_offer(product, 3.0), headers=auth(stranger_bank)).status_code == 404
    for insider in (market["owner"], market["bureau"], market["admin"], market["banks"][0]):
        assert client.get(f"{R}/{rid}", headers=auth(insider)).status_code == 200
    oid = client.post(f"{R}/{rid}/offers", json=_offer(market["products"][0], 3.2),
                      headers=auth(market["banks"][0])).get_json()["id"]
    for outsider in (market["outsider"], market["banks"][1]):
        assert client.post(f"/api/v1/offers/{oid}/accept", headers=auth(outsider)).status_code in (403, 404)
    assert client.post(f"/api/v1/offers/{oid}/accept", headers=auth(market["outsider"])).status_code == 404


def test_ten_institutions_offering_at_once_yield_exactly_max_offers(app, client, auth, f):
    owner, bureau = f.enterprise_user(region_code="130700"), f.bureau_user(region_code="130000")
    banks = [f.institution_user(region_code="130000", name=f"冀州第{i}农商银行") for i in range(10)]
    products = [published_product(client, auth, bank, instrument="green_credit", name=f"绿色贷{i}", params={})
                for i, bank in enumerate(banks)]
    project_id = approved_project(client, auth, owner, bureau)
    rid = client.post(R, json=_request_body(project_id), headers=auth(owner)).get_json()["id"]
    headers = [auth(bank) for bank in banks]
    barrier, results = threading.Barrier(len(banks)), [None] * len(banks)

    def offer(i: int) -> None:
        with app.test_client() as own_client:
            barrier.wait()
            results[i] = own_client.post(f"{R}/{rid}/offers", json=_offer(products[i], 3.0 + i / 10),
                                         headers=headers[i]).status_code

    threads = [threading.Thread(target=offer, args=(i,)) for i in range(len(banks))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(results) == [201] * 3 + [409] * 7, results
    assert client.get(f"{R}/{rid}", headers=auth(owner)).get_json()["offers_count"] == 3
    assert len(client.get(f"{R}/{rid}/offers", headers=auth(owner)).get_json()["items"]) == 3


def test_errors_speak_the_callers_language(client, auth, market):
    body = _request_body(market["project"], closes_at=_in(-3))
    from flask_babel import refresh

    zh = client.post(R, json=body, headers=auth(market["owner"])).get_json()["error"]["fields"]["closes_at"]
    refresh()  # the test client shares one app context, where Flask-Babel caches the locale of the last request
    en = client.post(R, json=body, headers={**auth(market["owner"]), "Accept-Language": "en"}).get_json()
    assert zh == ["不得早于今天"]
    assert en["error"]["fields"]["closes_at"] == ["must not be in the past"]


def test_a_lead_with_an_open_request_carries_the_badge(client, auth, market):
    bank = market["banks"][0]
    lead = client.get("/api/v1/leads", headers=auth(bank)).get_json()["items"][0]
    assert lead["financing_request"] is None
    rid = client.post(R, json=_request_body(market["project"]), headers=auth(market["owner"])).get_json()["id"]
    lead = client.get("/api/v1/leads", headers=auth(bank)).get_json()["items"][0]
    assert lead["financing_request"]["id"] == rid and lead["financing_request"]["amount_cny"] == 80_000_000


def test_a_request_is_open_only_to_institutions_of_the_instruments_it_asks_for(client, auth, market, f):
    insurer = f.institution_user(region_code="130000", name="绿盾财产保险河北分公司")
    published_product(client, auth, insurer, instrument="green_insurance", name="风电场财产一切险", params={})
    # the insurer's product is re-matched on publishing: the project is one of its leads
    leads = client.get("/api/v1/leads", headers=auth(insurer)).get_json()["items"]
    assert market["project"] in [lead["project"]["id"] for lead in leads]
    rid = client.post(R, json=_request_body(market["project"]), headers=auth(market["owner"])).get_json()["id"]
    assert client.get(f"{R}/{rid}", headers=auth(market["banks"][0])).status_code == 200
    assert client.get(f"{R}/{rid}", headers=auth(insurer)).status_code == 404  # it asks for green credit only


def test_use_of_proceeds_reports_and_their_signals(client, auth, market):
    owner, bank = market["owner"], market["banks"][0]
    rid = client.post(R, json=_request_body(market["project"]), headers=auth(owner)).get_json()["id"]
    oid = client.post(f"{R}/{rid}/offers", json=_offer(market["products"][0], 3.2), headers=auth(bank)).get_json()["id"]
    eid = client.post(f"/api/v1/offers/{oid}/accept", headers=auth(owner)).get_json()["id"]
    reports = f"/api/v1/engagements/{eid}/reports"
    body = {"period": "2026-H2", "disbursed_cny": 30_000_000, "use_of_proceeds": "风机采购及吊装（合同编号 ZJK-2026-017）",
            "co2_reduction_t": 18_000}
    assert client.post(reports, json=body, headers=auth(bank)).status_code == 409  # not financed yet
    E = f"/api/v1/engagements/{eid}"
    assert client.patch(E, json={"status": "in_progress"}, headers=auth(bank)).status_code == 200
    financed = client.patch(E, json={"status": "financed", "financed_amount_cny": 60_000_000,
                                     "financed_on": dt.date.today().isoformat()}, headers=auth(bank))
    assert financed.status_code == 200, financed.get_json()
    assert client.post(reports, json=body, headers=auth(owner)).status_code == 403
    assert client.post(reports, json=body, headers=auth(market["banks"][1])).status_code == 404
    for bad, field in (({"period": "2026-Q5"}, "period"), ({"disbursed_cny": -1}, "disbursed_cny"),
                       ({"disbursed_cny": 70_000_000}, "disbursed_cny"), ({"use_of_proceeds": ""}, "use_of_proceeds")):
        response = client.post(reports, json={**body, **bad}, headers=auth(bank))
        assert response.status_code == 422 and field in response.get_json()["error"]["fields"], (bad, response.get_json())
    assert client.post(reports, json=body, headers=auth(bank)).status_code == 201
    assert client.post(reports, json=body, headers=auth(bank)).status_code == 409  # the period is reported
    # the project claims 40,000 t a year (payloads): 2,000 t in a half-year is far below half of it: a signal
    weak = {**body, "period": "2027-H1", "disbursed_cny": 10_000_000, "co2_reduction_t": 2_000}
    assert client.post(reports, json=weak, headers=auth(bank)).status_code == 201
    seen = client.get(reports, headers=auth(market["bureau"])).get_json()
    assert [r["period"] for r in seen["items"]] == ["2026-H2", "2027-H1"]
    assert [(s["code"], s["period"]) for s in seen["signals"]] == [("co2_shortfall", "2027-H1")]
    assert client.get(reports, headers=auth(market["other_bureau"])).status_code == 404


def test_half_yearly_reminders_for_missing_use_of_proceeds_reports(client, auth, market, app_ctx):
    from greenmatch.extensions import db
    from greenmatch.matching.proceeds import last_period, remind_due_reports

    owner, bank = market["owner"], market["banks"][0]
    rid = client.post(R, json=_request_body(market["project"]), headers=auth(owner)).get_json()["id"]
    oid = client.post(f"{R}/{rid}/offers", json=_offer(market["products"][0], 3.2), headers=auth(bank)).get_json()["id"]
    eid = client.post(f"/api/v1/offers/{oid}/accept", headers=auth(owner)).get_json()["id"]
    E = f"/api/v1/engagements/{eid}"
    assert client.patch(E, json={"status": "in_progress"}, headers=auth(bank)).status_code == 200
    assert client.patch(E, json={"status": "financed", "financed_amount_cny": 60_000_000,
                                 "financed_on": "2026-03-02"}, headers=auth(bank)).status_code == 200
    assert last_period(dt.date(2026, 7, 15)) == ("2026-H1", dt.date(2026, 6, 30))
    assert last_period(dt.date(2027, 1, 15)) == ("2026-H2", dt.date(2026, 12, 31))

    def reminders(user):
        db.session.rollback()
        items = client.get("/api/v1/notifications?lang=en", headers=auth(user)).get_json()["items"]
        return [n["title"] for n in items if n["kind"] == "proceeds_report_due"]

    assert remind_due_reports(dt.date(2026, 1, 15)) == 0  # financed after 2025-H2 ended: nothing due yet
    assert remind_due_reports(dt.date(2026, 7, 15)) == 1
    title = "The use-of-proceeds report for 2026-H1 on “张家口塞北50MW集中式光伏电站” is due"
    assert reminders(bank) == [title] and reminders(owner) == [title]
    zh = client.get("/api/v1/notifications", headers=auth(bank)).get_json()["items"][0]["title"]
    assert zh == "“张家口塞北50MW集中式光伏电站”2026-H1的资金用途报告已到期，请及时报送"
    body = {"period": "2026-H1", "disbursed_cny": 30_000_000, "use_of_proceeds": "风机采购及吊装", "co2_reduction_t": 18_000}
    assert client.post(f"{E}/reports", json=body, headers=auth(bank)).status_code == 201
    assert remind_due_reports(dt.date(2026, 7, 16)) == 0  # reported: no reminder
    assert remind_due_reports(dt.date(2027, 1, 15)) == 1  # the next half-year is due again
