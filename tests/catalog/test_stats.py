"""GET /stats/overview: counts by status, category, region and instrument; need and financed; months."""

from __future__ import annotations

import datetime as dt

import pytest

from greenmatch.catalog import io_views, stats
from support.payloads import project

API = "/api/v1/projects"
STATS = "/api/v1/stats/overview"


@pytest.fixture
def io_client(make_app):
    app = make_app()
    io_views.init_app(app)
    return app.test_client()


def _project(client, auth, owner, bureau, status, **overrides):
    response = client.post(API, json=project(**overrides), headers=auth(owner))
    assert response.status_code == 201, response.get_json()
    pid = response.get_json()["id"]
    if status != "draft":
        assert client.post(f"{API}/{pid}/submit", headers=auth(owner)).status_code == 200
    if status in ("approved", "returned", "rejected"):
        decision = {"approved": "approve", "returned": "return", "rejected": "reject"}[status]
        response = client.post(f"{API}/{pid}/review", json={"decision": decision, "note": "审核意见"},
                               headers=auth(bureau))
        assert response.status_code == 200, response.get_json()
    return pid


@pytest.fixture
def world(io_client, auth, f):
    """Hebei: 2 approved, 1 submitted, 1 returned, 1 rejected, 1 draft; Jiangsu: 1 approved, 1 submitted."""
    hebei_owner = f.enterprise_user(region_code="130700")
    jiangsu_owner = f.enterprise_user(region_code="320500")
    people = {
        "hebei": f.bureau_user(region_code="130000"),
        "zjk": f.bureau_user(region_code="130700"),
        "jiangsu": f.bureau_user(region_code="320000"),
        "admin": f.admin_user(),
        "enterprise": hebei_owner,
        "institution": f.institution_user(),
    }
    hb, js = people["hebei"], people["jiangsu"]
    _project(io_client, auth, hebei_owner, hb, "approved", name="张家口光伏电站", financing_need_cny=150_000_000,
             preferred_instruments=["green_credit", "green_insurance"])
    _project(io_client, auth, hebei_owner, hb, "approved", name="石家庄污水处理厂提标", region_code="130100",
             industry_code="4620", categories=["6.4.7"], financing_need_cny=50_000_000,
             benefits={}, preferred_instruments=["green_bond"])
    _project(io_client, auth, hebei_owner, hb, "submitted", name="唐山钢厂余热发电", region_code="130200",
             industry_code="3120", categories=["1.3.4"], financing_need_cny=30_000_000, benefits={},
             preferred_instruments=["green_credit"])
    _project(io_client, auth, hebei_owner, hb, "returned", name="张家口风电场", industry_code="4415",
             categories=["4.2.1"], financing_need_cny=70_000_000)
    _project(io_client, auth, hebei_owner, hb, "rejected", name="邯郸焦化新建", region_code="130400",
             industry_code="2521", categories=[], financing_need_cny=90_000_000, benefits={})
    _project(io_client, auth, hebei_owner, hb, "draft", name="河北草稿项目", financing_need_cny=10_000_000)
    _project(io_client, auth, jiangsu_owner, js, "approved", name="苏州屋顶光伏", region_code="320500",
             financing_need_cny=80_000_000)
    _project(io_client, auth, jiangsu_owner, js, "submitted", name="南京化工VOCs治理", region_code="320100",
             industry_code="2614", categories=["2.2.3"], financing_need_cny=20_000_000, benefits={})
    return people


def _get(client, auth, user, query=""):
    response = client.get(STATS + query, headers=auth(user))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _areas(body):
    return {c["code"]: c for c in body["by_category"]}


def test_bureau_sees_its_jurisdiction_with_correct_counts(io_client, auth, world):
    body = _get(io_client, auth, world["hebei"])
    assert body["scope"]["region"] == "130000" and body["scope"]["name_zh"] == "河北省"
    assert body["by_status"] == {"draft": 0, "submitted": 1, "returned": 1, "approved": 2, "rejected": 1}
    assert body["total_projects"] == 5  # bureaus never see drafts
    assert body["total_financing_need_cny"] == 150e6 + 50e6 + 30e6
    assert body["financing_need_by_status"] == {"approved": 200e6, "submitted": 30e6}
    assert body["total_financed_cny"] == 0

    areas = _areas(body)
    assert len(areas) == 9 and areas["4"]["name_zh"] == "能源绿色低碳转型"
    assert areas["4"]["projects"] == 2 and areas["4"]["approved"] == 1 and areas["4"]["financing_need_cny"] == 150e6
    assert areas["6"]["projects"] == 1 and areas["1"]["projects"] == 1 and areas["1"]["financing_need_cny"] == 30e6
    assert areas["2"]["projects"] == 0
    assert body["uncategorised"] == 1  # the coking plant

    regions = {r["code"]: r for r in body["by_region"]}
    assert set(regions) == {"130100", "130200", "130400", "130700"}
    assert regions["130700"]["projects"] == 2 and regions["130700"]["name_zh"] == "河北省张家口市"
    assert regions["130700"]["financing_need_cny"] == 150e6

    instruments = {i["key"]: i for i in body["by_instrument"]}
    assert instruments["green_credit"]["projects"] == 4  # the payload's default + the steel retrofit
    assert instruments["green_credit"]["financing_need_cny"] == 150e6 + 30e6
    assert instruments["green_bond"]["projects"] == 1 and instruments["reits"]["projects"] == 0
    assert instruments["green_credit"]["name_zh"]

    this_month = f"{dt.datetime.now(stats.CHINA_TZ):%Y-%m}"
    assert len(body["monthly"]) == stats.DEFAULT_MONTHS and body["monthly"][-1]["month"] == this_month
    assert body["monthly"][-1] == {"month": this_month, "submitted": 5, "approved": 2, "rejected": 1}
    assert all(m["submitted"] == 0 for m in body["monthly"][:-1])


def test_jurisdictions_are_isolated(io_client, auth, world):
    jiangsu = _get(io_client, auth, world["jiangsu"])
    assert jiangsu["total_projects"] == 2
    assert {r["code"] for r in jiangsu["by_region"]} == {"320100", "320500"}
    assert jiangsu["by_status"]["approved"] == 1 and jiangsu["total_financing_need_cny"] == 100e6
    assert _areas(jiangsu)["2"]["projects"] == 1 and _areas(jiangsu)["6"]["projects"] == 0
    hebei = _get(io_client, auth, world["hebei"])
    assert not any(r["code"].startswith("32") for r in hebei["by_region"])

    zjk = _get(io_client, auth, world["zjk"])
    assert zjk["total_projects"] == 2 and {r["code"] for r in zjk["by_region"]} == {"130700"}


def test_region_narrows_but_never_widens(io_client, auth, world):
    narrowed = _get(io_client, auth, world["hebei"], "?region=130100")
    assert narrowed["total_projects"] == 1 and narrowed["scope"]["region"] == "130100"
    for region in ("320000", "130000"):
        response = io_client.get(f"{STATS}?region={region}", headers=auth(world["zjk"]))
        assert response.status_code == 403
        assert "不在您的辖区" in response.get_json()["error"]["message"]
    assert io_client.get(f"{STATS}?region=999999", headers=auth(world["hebei"])).status_code == 422


def test_admin_sees_everything_or_a_region(io_client, auth, world):
    everything = _get(io_client, auth, world["admin"])
    assert everything["total_projects"] == 8 and everything["by_status"]["draft"] == 1
    assert everything["scope"]["region"] is None
    assert everything["total_financing_need_cny"] == (150 + 50 + 30 + 80 + 20) * 1e6
    jiangsu = _get(io_client, auth, world["admin"], "?region=320000")
    assert jiangsu["total_projects"] == 2


def test_who_may_see_statistics(io_client, auth, world):
    assert io_client.get(STATS).status_code == 401
    for role in ("enterprise", "institution"):
        assert io_client.get(STATS, headers=auth(world[role])).status_code == 403


def test_financed_providers_and_extra_sections(io_client, auth, world, monkeypatch):
    seen = []

    def financed(scope):
        seen.append(scope.region)
        return 12_345_678.9

    monkeypatch.setattr(stats, "financed_providers", [financed])
    monkeypatch.setitem(stats.extra_sections, "products", lambda scope: {"published": 3, "region": scope.region})
    body = _get(io_client, auth, world["hebei"], "?region=130700")
    assert body["total_financed_cny"] == 12_345_678.9 and seen == ["130700"]
    assert body["products"] == {"published": 3, "region": "130700"}

    # an explicit provider replaces the registered ones
    assert stats.overview(world["admin"], financed_by=lambda scope: 5)["total_financed_cny"] == 5


def test_providers_receive_the_projects_in_scope(auth, world, monkeypatch):
    from sqlalchemy import func, select

    from greenmatch.catalog.models import Project
    from greenmatch.extensions import db

    def need_of_scope(scope):
        return db.session.scalar(select(func.sum(Project.financing_need_cny))
                                 .where(Project.id.in_(scope.project_ids), Project.status == "approved"))

    body = stats.overview(world["jiangsu"], financed_by=need_of_scope)
    assert body["total_financed_cny"] == 80e6
