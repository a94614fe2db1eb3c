"""Matching through the HTTP API: scenarios, immediacy of results, atomic full runs."""

import pytest

from support.flows import approved_project, published_product
from support.runs import run_via_api

P = "/api/v1/projects"




@pytest.fixture
def world(f):
    return {
        "owner": f.enterprise_user(region_code="130700"),
        "bureau": f.bureau_user(region_code="130000"),
        "hebei_bank": f.institution_user(region_code="130000", name="河北银行"),
        "national_bank": f.institution_user(region_code="110000", name="全国性银行"),
        "insurer": f.institution_user(region_code="110000", name="绿色保险公司", institution_type="insurer"),
        "admin": f.admin_user(),
    }


def test_pv_plant_in_zhangjiakou_prefers_the_focused_hebei_product(client, auth, world):
    hebei = published_product(client, auth, world["hebei_bank"], instrument="green_credit", name="冀光伏绿色贷",
                              params={"regions": ["130000"], "categories": ["4.2"]})
    national = published_product(client, auth, world["national_bank"], instrument="green_credit", name="通用绿色贷",
                                 params={})
    pid = approved_project(client, auth, world["owner"], world["bureau"])
    matches = client.get(f"{P}/{pid}/matches", headers=auth(world["owner"])).get_json()["items"]
    order = [m["product"]["id"] for m in matches]
    assert hebei in order and national in order
    assert order.index(hebei) < order.index(national)
    top = matches[0]
    assert 0 < top["score"] <= 1
    assert top["product"]["institution"]["name"] == "河北银行"
    for match in matches:
        assert match["reasons"], match
        assert match["explanation"]["paths"] and all(len(path) >= 2 for path in match["explanation"]["paths"])
    # the path reads from the project through the catalogue to the product
    flat = [label for path in top["explanation"]["paths"] for label in path]
    assert any("4.2.2" in label for label in flat)
    english = client.get(f"{P}/{pid}/matches?lang=en", headers=auth(world["owner"])).get_json()["items"][0]
    assert english["score"] == top["score"] and english["explanation"]["paths"] != top["explanation"]["paths"]


def test_first_of_kind_cover_matches_the_hydrogen_maker_not_the_wastewater_plant(client, auth, world):
    cover = published_product(client, auth, world["insurer"], instrument="green_insurance", name="首台套重大技术装备保险",
                              params={"cover_types": ["first_of_kind_equipment"]})
    hydrogen = approved_project(
        client, auth, world["owner"], world["bureau"], name="张家口氢能装备首台套电解槽项目", industry_code="3463",
        categories=["4.1.9"], description="研制并量产首台套兆瓦级碱性电解槽装备。", risk_exposures=["first_of_kind_equipment"],
        benefits={}, collateral=[])
    wastewater = approved_project(
        client, auth, world["owner"], world["bureau"], name="宣化区污水处理厂提标改造", industry_code="4620",
        categories=["6.4.7"], description="污水处理厂提标改造至一级A标准。", risk_exposures=[], benefits={}, collateral=[])
    leads = client.get(f"/api/v1/leads?product_id={cover}", headers=auth(world["insurer"])).get_json()["items"]
    lead_projects = [lead["project"]["id"] for lead in leads]
    assert hydrogen in lead_projects and wastewater not in lead_projects
    assert "contact" not in leads[0]["project"]
    hydrogen_matches = client.get(f"{P}/{hydrogen}/matches", headers=auth(world["owner"])).get_json()["items"]
    assert cover in [m["product"]["id"] for m in hydrogen_matches]
    wastewater_matches = client.get(f"{P}/{wastewater}/matches", headers=auth(world["owner"])).get_json()["items"]
    assert cover not in [m["product"]["id"] for m in wastewater_matches]


def test_results_appear_in_the_next_request_and_withdrawal_removes_leads(client, auth, world):
    bank = world["hebei_bank"]
    product = published_product(client, auth, bank, instrument="green_credit", name="冀绿贷", params={})
    assert client.get("/api/v1/leads", headers=auth(bank)).get_json()["total"] == 0
    pid = approved_project(client, auth, world["owner"], world["bureau"])
    leads = client.get("/api/v1/leads", headers=auth(bank)).get_json()
    assert [lead["project"]["id"] for lead in leads["items"]] == [pid]
    # the same score and reasons on both sides
    match = client.get(f"{P}/{pid}/matches", headers=auth(world["owner"])).get_json()["items"][0]
    assert match["match_id"] == leads["items"][0]["match_id"] and match["score"] == leads["items"][0]["score"]
    assert match["reasons"] == leads["items"][0]["reasons"]
    # a product published after the project is matched at once as well
    second = published_product(client, auth, bank, instrument="green_bond", name="冀绿债",
                               params={"min_amount_cny": 1e7})
    assert {lead["product"]["id"] for lead in client.get("/api/v1/leads", headers=auth(bank)).get_json()["items"]} \
        == {product, second}
    assert client.post(f"/api/v1/products/{product}/withdraw", headers=auth(bank)).status_code == 200
    remaining = client.get("/api/v1/leads", headers=auth(bank)).get_json()["items"]
    assert {lead["product"]["id"] for lead in remaining} == {second}
    matches = client.get(f"{P}/{pid}/matches", headers=auth(world["owner"])).get_json()["items"]
    assert product not in [m["product"]["id"] for m in matches]
    inbox = client.get("/api/v1/notifications", headers=auth(bank)).get_json()
    assert any(n["kind"] == "new_leads" for n in inbox["items"])


def test_leads_need_a_verified_institution_and_filters_work(client, auth, world, f):
    pending = f.institution_user(verified=False)
    assert client.get("/api/v1/leads", headers=auth(pending)).status_code == 403
    assert client.get("/api/v1/leads", headers=auth(world["owner"])).status_code == 403
    bank = world["hebei_bank"]
    published_product(client, auth, bank, instrument="green_credit", name="冀绿贷", params={})
    pid = approved_project(client, auth, world["owner"], world["bureau"])
    def total(query):
        return client.get(f"/api/v1/leads?{query}", headers=auth(bank)).get_json()["total"]
    assert total("category=4.2") == 1 and total("category=6") == 0
    assert total("region=130000") == 1 and total("region=320000") == 0
    assert total("instrument=green_credit") == 1 and total("instrument=reits") == 0
    assert total("min_score=0.99") == 0
    assert client.get("/api/v1/leads?min_score=2", headers=auth(bank)).status_code == 422
    # another institution never sees these leads
    assert client.get("/api/v1/leads", headers=auth(world["national_bank"])).get_json()["total"] == 0
    assert client.get(f"{P}/{pid}/matches", headers=auth(world["national_bank"])).status_code == 403


def test_leads_refuse_unknown_region_and_category_codes_like_the_catalogue(client, auth, world):
    bank = world["hebei_bank"]
    published_product(client, auth, bank, instrument="green_credit", name="冀绿贷", params={})
    pid = approved_project(client, auth, world["owner"], world["bureau"])
    for query, field in [("region=abcdef", "region"), ("region=999999", "region"), ("region=13", "region"),
                         ("category=zz", "category"), ("category=9.9", "category"),
                         ("region=abcdef&category=zz", "region")]:
        for path in ("/api/v1/leads", P):
            response = client.get(f"{path}?{query}", headers=auth(bank))
            assert response.status_code == 422, (path, query, response.get_json())
            assert response.get_json()["error"]["code"] == "validation_failed"
            assert field in response.get_json()["error"]["fields"], (path, query, response.get_json())
    for query in ("region=130000", "region=130700", "category=4", "category=4.2.2", "region=130000&category=4.2"):
        response = client.get(f"/api/v1/leads?{query}", headers=auth(bank))
        assert response.status_code == 200, (query, response.get_json())
        assert [lead["project"]["id"] for lead in response.get_json()["items"]] == [pid], query


def test_full_run_killed_midway_keeps_the_previous_results(make_app, f):
    from greenmatch.matching.models import MatchRun
    from greenmatch.matching.runs import full_rematch

    app = make_app(MATCHING={"chunk_size": 2})
    client = app.test_client()
    with app.app_context():
        people = {"owner": f.enterprise_user(region_code="130700"), "bureau": f.bureau_user(region_code="130000"),
                  "bank": f.institution_user(region_code="130000"), "admin": f.admin_user()}
        def auth(user):
            return f.auth_headers(user)
        published_product(client, auth, people["bank"], instrument="green_credit", name="冀绿贷", params={})
        pids = [approved_project(client, auth, people["owner"], people["bureau"], name=f"光伏电站第{i}期项目")
                for i in range(6)]
        first = run_via_api(client, auth(people["admin"]))
        assert first["status"] == "succeeded" and first["matches_written"] == 6 and first["progress"] == 1.0
        before = {pid: client.get(f"{P}/{pid}/matches", headers=auth(people["owner"])).get_json() for pid in pids}
        assert all(page["total"] == 1 for page in before.values())

        def crash(batch_number):
            if batch_number >= 1:  # 3 chunks of 2 projects: die after the first half
                raise RuntimeError("injected crash")

        with pytest.raises(RuntimeError, match="injected crash"):
            full_rematch(after_batch=crash)
        after = {pid: client.get(f"{P}/{pid}/matches", headers=auth(people["owner"])).get_json() for pid in pids}
        assert after == before
        runs = client.get("/api/v1/matching/runs", headers=auth(people["admin"])).get_json()["items"]
        assert runs[0]["status"] == "failed" and "injected crash" in runs[0]["error"]
        again = run_via_api(client, auth(people["admin"]))
        assert again["status"] == "succeeded" and again["matches_written"] == 6
        assert client.get("/api/v1/leads", headers=auth(people["bank"])).get_json()["total"] == 6
        from greenmatch.extensions import db
        assert db.session.query(MatchRun).count() == 3


def test_only_admins_start_runs(client, auth, world):
    for role in ("owner", "bureau", "hebei_bank"):
        assert client.post("/api/v1/matching/runs", headers=auth(world[role])).status_code == 403


def test_anonymous_callers_are_asked_to_sign_in_for_a_projects_matches(client, auth, world):
    pid = approved_project(client, auth, world["owner"], world["bureau"])
    assert client.get(f"{P}/{pid}").status_code == 200  # the catalogue entry is public
    response = client.get(f"{P}/{pid}/matches")
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"
