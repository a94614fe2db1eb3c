"""Server-rendered pages: admin verification, HTTP error pages, product editing, the shared helpers of the
page views (form version, filters, row counts, the API's language)."""

from __future__ import annotations

import re

import pytest
from flask import abort, g

from greenmatch.accounts import service as accounts
from greenmatch.accounts.models import Organization, User
from greenmatch.api import count_rows, locale
from greenmatch.catalog.models import Project
from greenmatch.errors import ERROR_PAGES_EXTENSION, ErrorPages, Forbidden, Invalid, NotFound
from greenmatch.extensions import db
from greenmatch.matching import queries as matching_queries
from greenmatch.permissions import visible
from greenmatch.products import service as products
from greenmatch.products.models import Product
from greenmatch.web import forms
from greenmatch.web.views import category_filter, region_filter
from support.flows import approved_project, published_product, web_login

CREDIT = {"instrument": "green_credit", "name": "冀绿光伏贷", "description": "支持河北光伏电站建设", "params": {}}


def csrf_token(client, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def hidden_version(html: str) -> str:
    return re.search(r'name="version" value="([^"]*)"', html).group(1)


# -- admin verification (item: open redirect, shared permission check) --------------------------------------
@pytest.fixture
def pending(f):
    return f.institution_user(verified=False)


def test_verifying_does_not_follow_a_referrer_of_another_host(client, f, pending):
    admin = f.admin_user()
    web_login(client, admin.email)
    token = csrf_token(client, "/admin/organisations")
    response = client.post(f"/admin/organisations/{pending.organization_id}/verify", data={"csrf_token": token},
                           headers={"Referer": "https://evil.example/admin/organisations"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/organisations"
    assert db.session.get(Organization, pending.organization_id).verified is True


def test_verifying_goes_back_to_a_page_of_this_site(client, f, pending):
    admin = f.admin_user()
    web_login(client, admin.email)
    token = csrf_token(client, "/admin/organisations")
    response = client.post(f"/admin/organisations/{pending.organization_id}/verify", data={"csrf_token": token},
                           headers={"Referer": "http://localhost/admin/organisations?pending=1"})
    assert response.status_code == 302
    assert response.headers["Location"] == "http://localhost/admin/organisations?pending=1"


def test_the_verification_service_checks_who_verifies(f, pending):
    bureau, enterprise = f.bureau_user(), f.enterprise_user()
    with pytest.raises(NotFound):  # another organisation than its own: not visible
        accounts.verify_organization(pending.organization_id, bureau)
    with pytest.raises(Forbidden):  # its own organisation: visible, but only admins verify
        accounts.verify_organization(pending.organization_id, pending)
    with pytest.raises(Forbidden):
        accounts.verify_organization(enterprise.organization_id, enterprise)
    assert db.session.get(Organization, pending.organization_id).verified is False
    assert accounts.verify_organization(pending.organization_id, f.admin_user()).verified is True


# -- HTTP errors: HTML for pages, the JSON error shape for the API -----------------------------------------------
def test_a_wrong_method_on_a_page_renders_the_html_error_page(client):
    response = client.post("/catalogue?lang=en")
    assert response.status_code == 405
    assert response.mimetype == "text/html"
    assert "This action is not available here" in response.get_data(as_text=True)


def test_any_http_error_of_a_page_renders_the_html_error_page(make_app):
    app = make_app()

    @app.route("/unsupported-page")
    def unsupported_page():
        abort(415)

    response = app.test_client().get("/unsupported-page?lang=en")
    assert response.status_code == 415
    assert response.mimetype == "text/html"
    assert 'class="display-5 fw-bold text-success mb-2" aria-hidden="true">415</div>' in response.get_data(
        as_text=True)


@pytest.mark.parametrize("method,path,status,code", [
    ("POST", "/api/v1/taxonomy/categories", 405, "method_not_allowed"),
    ("GET", "/api/v1/no-such-endpoint", 404, "not_found"),
])
def test_api_http_errors_keep_the_json_error_shape(client, method, path, status, code):
    response = client.open(path, method=method)
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert set(response.get_json()["error"]) == {"code", "message", "fields"}
    assert response.get_json()["error"]["code"] == code


def test_a_json_request_to_a_page_gets_the_json_error_shape(client):
    response = client.post("/catalogue", json={})
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"


def test_the_error_pages_are_the_web_uis_the_core_only_knows_json(make_app):
    """The core renders no page: the web UI installs its error pages (errors.set_error_pages); without them
    a browser's error gets the JSON shape."""
    app = make_app()
    assert isinstance(app.extensions[ERROR_PAGES_EXTENSION], ErrorPages)

    @app.route("/broken-page")
    def broken_page():
        raise RuntimeError("boom")

    assert app.test_client().post("/catalogue?lang=en").mimetype == "text/html"
    assert app.test_client().get("/broken-page").mimetype == "text/html"
    del app.extensions[ERROR_PAGES_EXTENSION]
    response = app.test_client().post("/catalogue?lang=en")
    assert response.status_code == 405 and response.get_json()["error"]["code"] == "method_not_allowed"
    response = app.test_client().get("/broken-page")
    assert response.status_code == 500 and response.get_json()["error"]["code"] == "internal_error"


# -- product pages ----------------------------------------------------------------------------------------------
@pytest.fixture
def banks(f):
    return f.institution_user(verified=True), f.institution_user(verified=True)


def test_editing_another_institutions_product_is_not_found(client, auth, banks):
    owner, other = banks
    pid = published_product(client, auth, owner, **CREDIT)
    web_login(client, other.email)
    assert client.get(f"/products/{pid}/edit").status_code == 404
    token = csrf_token(client, "/products")
    response = client.post(f"/products/{pid}/edit", data={"csrf_token": token, "name": "别人的产品", "version": "2"})
    assert response.status_code == 404
    assert db.session.get(Product, pid).name == CREDIT["name"]


def test_leads_are_counted_on_the_product_page_of_its_owner_only(client, auth, banks, monkeypatch):
    owner, other = banks
    pid = published_product(client, auth, owner, **CREDIT)
    counted = []
    monkeypatch.setattr(matching_queries, "leads_total", lambda actor, args: counted.append(actor.id) or 7)
    web_login(client, other.email)
    html = client.get(f"/products/{pid}").get_data(as_text=True)
    assert counted == [] and f"/products/{pid}/edit" not in html
    client.post("/logout", data={"csrf_token": csrf_token(client, "/products")})
    web_login(client, owner.email)
    html = client.get(f"/products/{pid}").get_data(as_text=True)
    assert counted == [owner.id] and f"/products/{pid}/edit" in html and "7 条线索" in html


def test_a_stale_product_edit_keeps_what_the_user_typed(client, auth, banks):
    owner, _ = banks
    created = client.post("/api/v1/products", json=CREDIT, headers=auth(owner)).get_json()
    pid = created["id"]
    web_login(client, owner.email)
    form = client.get(f"/products/{pid}/edit").get_data(as_text=True)
    token, seen_version = (re.search(r'name="csrf_token" value="([^"]+)"', form).group(1), hidden_version(form))
    # someone else saves the product meanwhile
    changed = client.patch(f"/api/v1/products/{pid}", json={"version": created["version"], "name": "抢先改名"},
                           headers=auth(owner))
    assert changed.status_code == 200
    typed = {"csrf_token": token, "version": seen_version, "name": "我的新名字", "description": "我写的说明"}
    response = client.post(f"/products/{pid}/edit", data=typed)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "我的新名字" in html and "我写的说明" in html
    assert hidden_version(html) == str(changed.get_json()["version"])  # sending again applies the edits
    response = client.post(f"/products/{pid}/edit", data={**typed, "version": hidden_version(html)})
    assert response.status_code == 302
    assert client.get(f"/api/v1/products/{pid}", headers=auth(owner)).get_json()["name"] == "我的新名字"


def test_publishing_a_product_of_a_disabled_instrument_changes_nothing(client, auth, make_app, banks):
    owner, _ = banks
    pid = client.post("/api/v1/products", json=CREDIT, headers=auth(owner)).get_json()["id"]
    app = make_app(INSTRUMENTS=["green_bond"])
    with app.test_request_context():
        actor = db.session.get(User, owner.id)
        g.actor = actor
        with pytest.raises(Invalid):
            products.change_status(actor, pid, "publish")
        product = db.session.get(Product, pid)
        assert product.status == "draft" and product.published_at is None  # not even in the session


# -- helpers shared by the page views -----------------------------------------------------------------------------
@pytest.mark.parametrize("form,version", [({"version": "3"}, 3), ({}, None), ({"version": "x"}, None),
                                          ({"version": ""}, None)])
def test_the_form_version(form, version):
    assert forms.form_version(form) == version


@pytest.mark.parametrize("args,category", [
    ({"level1": "4", "level2": "4.2"}, "4.2"),
    ({"level1": " 4 ", "level2": " 4.2 "}, "4.2"),
    ({"level1": "4", "level2": "5.1"}, "4"),  # a level-2 code outside the level-1 one
    ({"level1": "4"}, "4"),
    ({"level2": "4.2"}, None),
    ({"level1": "99"}, None),
    ({}, None),
])
def test_the_category_filter(app_ctx, args, category):
    assert category_filter(args) == category


@pytest.mark.parametrize("args,region", [
    ({"region_province": "130000", "region_city": "130700"}, "130700"),
    ({"region_province": "130000"}, "130000"),
    ({"region_province": "990000"}, None),
    ({}, None),
])
def test_the_region_filter(app_ctx, args, region):
    assert region_filter(args) == region


def test_count_rows_ignores_the_order_and_counts_every_row(f):
    f.enterprise_user(), f.enterprise_user()
    admin = f.admin_user()
    stmt = visible(Organization, admin).order_by(Organization.id.desc())
    assert count_rows(db.session, stmt) == 3
    assert count_rows(db.session, stmt.where(Organization.kind == "enterprise")) == 2


def test_the_home_page_counts_the_approved_catalogue(client, auth, f):
    owner, bureau, bank = f.enterprise_user(), f.bureau_user(), f.institution_user(verified=True)
    approved_project(client, auth, owner, bureau, financing_need_cny=150_000_000)
    approved_project(client, auth, owner, bureau, name="张家口风电场", financing_need_cny=50_000_000)
    client.post("/api/v1/projects", json={"name": "未审核"}, headers=auth(owner))  # not counted
    published_product(client, auth, bank, **CREDIT)
    html = client.get("/?lang=en").get_data(as_text=True)
    stats = re.findall(r'<div class="gm-stat-value">([^<]*)</div>', html)
    assert stats[:3] == ["2", "¥200M", "1"]


@pytest.mark.parametrize("query,headers,expected", [
    ("?lang=en", {}, "en"),
    ("?lang=zh_CN", {"Accept-Language": "en"}, "zh"),
    ("", {"Accept-Language": "en-US,en;q=0.9"}, "en"),
    ("", {}, "zh"),
])
def test_the_api_language(app, query, headers, expected):
    with app.test_request_context(f"/api/v1/instruments{query}", headers=headers):
        assert locale() == expected


def test_the_admin_matching_page_queues_a_run_and_answers_at_once(client, f):
    from greenmatch.matching.models import MatchRun

    admin = f.admin_user()
    web_login(client, admin.email)
    token = csrf_token(client, "/admin/matching")
    response = client.post("/admin/matching", data={"csrf_token": token}, headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 302
    run = db.session.scalars(db.select(MatchRun).order_by(MatchRun.id.desc())).first()
    assert run is not None and run.kind == "full" and run.triggered_by == f"user:{admin.id}"
    db.session.rollback()  # end this read, or SQLite keeps the worker thread from writing the run
    page = client.get("/admin/matching").get_data(as_text=True)
    assert f"匹配运行 {run.id} 已排队" in page
    from flask import current_app

    from greenmatch.jobs import join_threads

    db.session.rollback()
    join_threads(current_app._get_current_object(), 60)  # executed by a thread of this process
    db.session.expire_all()
    assert db.session.get(MatchRun, run.id).status == "succeeded"


def test_the_project_form_takes_the_screening_inputs(client, f):
    """The financing-need form asks what the 两高 screen and the compliance vetoes need (issue #12): capacity
    change, replacement plan, fuel, EIA state, the largest fine, the concession's end."""
    owner = f.enterprise_user(region_code="130200")
    web_login(client, owner.email)
    form = client.get("/projects/new").get_data(as_text=True)
    for field in ("capacity_change", "primary_fuel", "capacity_replacement_approved", "concession_end_year",
                  "compliance.eia_status", "compliance.largest_env_fine_cny"):
        assert f'name="{field}"' in form, field
    response = client.post("/projects/new", data={
        "csrf_token": csrf_token(client, "/projects/new"), "name": "唐钢2号高炉煤气余热余压发电改造",
        "description": "利用现有2号高炉煤气余压建设TRT发电机组，不新增炼铁产能。", "industry_code": "3110",
        "stage": "construction", "region_province": "130000", "region_city": "130200", "categories": "1.4.1",
        "total_investment_cny": "86000000", "financing_need_cny": "50000000", "capacity_change": "retrofit",
        "capacity_replacement_approved": "1", "primary_fuel": "coal", "compliance.eia_status": "registration",
        "compliance.pollutant_permit": "1", "compliance.env_penalties_3y": "1",
        "compliance.largest_env_fine_cny": "120000", "concession_end_year": "2045"})
    assert response.status_code == 302, re.findall(r"(?:error|danger)[^>]*>([^<]+)<", response.get_data(as_text=True))
    project = db.session.scalar(db.select(Project).order_by(Project.id.desc()))
    assert (project.capacity_change, project.capacity_replacement_approved, project.primary_fuel,
            project.concession_end_year) == ("retrofit", True, "coal", 2045)
    assert project.compliance["eia_status"] == "registration" and project.compliance["largest_env_fine_cny"] == 120000
    edit = client.get(f"/projects/{project.id}/edit").get_data(as_text=True)
    assert re.search(r'<option value="retrofit" selected>', edit)
    assert re.search(r'<option value="registration" selected>', edit)
    assert 'value="120000"' in edit
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "环评已备案" in page and "改造" in page
