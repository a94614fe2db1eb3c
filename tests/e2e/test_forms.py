"""Forms: bad input shows field-level errors and keeps what was typed (never a 500); a POST without the
CSRF token is refused with 400, for pages and for session-authenticated API calls alike."""

from __future__ import annotations

import uuid

import pytest

from greenmatch.codes import make_uscc

from .conftest import PASSWORD, login, shot

pytestmark = pytest.mark.e2e


def _enterprise(live_server) -> str:
    """An enterprise account made by the account service (as POST /auth/register does)."""
    from greenmatch.accounts.service import register

    email = f"forms-{uuid.uuid4().hex[:8]}@example.cn"
    with live_server.app.app_context():
        register({"email": email, "password": PASSWORD, "organization": {
            "kind": "enterprise", "name": "表单测试企业有限公司", "uscc": make_uscc(f"91130700{uuid.uuid4().int % 10**9:09d}"),
            "region_code": "130700"}})
    return email


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_bad_project_form_shows_field_errors_and_keeps_values(lang, new_page, live_server):
    page = new_page(lang)
    login(page, live_server, _enterprise(live_server))
    page.goto(live_server("/projects/new"))
    page.fill("#f-name", "x")
    page.fill("#f-description", "保留的描述文字")
    page.fill("#f-industry_code", "99999")
    page.select_option("#f-region-province", "")
    page.fill("#f-total_investment_cny", "abc")
    page.fill("#f-financing_need_cny", "-5")
    page.fill("#f-benefits-co2_reduction_t", "lots")
    page.fill("#f-contact-email", "not-an-email")
    page.check("#f-collateral-ccer")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click("[data-testid=save-draft]")
    assert posted.value.status == 422
    page.wait_for_load_state()
    errors = {name: page.locator(f"#{name}-error").inner_text() for name in (
        "name", "industry_code", "region_code", "stage", "total_investment_cny", "financing_need_cny",
        "benefits-co2_reduction_t", "contact-email")}
    assert all(errors.values()), errors
    for name in errors:
        field = page.locator(f"[aria-describedby*='{name}-error']").first
        assert field.get_attribute("aria-invalid") == "true"
    if lang == "zh_CN":
        assert errors["total_investment_cny"] == "请输入数字。"
    else:
        assert errors["total_investment_cny"] == "Enter a number."
    # what the user typed is still there
    assert page.input_value("#f-name") == "x"
    assert page.input_value("#f-description") == "保留的描述文字"
    assert page.input_value("#f-total_investment_cny") == "abc"
    assert page.input_value("#f-benefits-co2_reduction_t") == "lots"
    assert page.is_checked("#f-collateral-ccer")
    assert page.locator(".alert-danger").count() == 1
    shot(page, "enterprise-project-form-errors")
    assert not page.server_errors


def test_bad_registration_keeps_values(new_page, live_server):
    page = new_page("en")
    page.goto(live_server("/register"))
    page.fill("#f-org_name", "Test Co")
    good = make_uscc("91130700MA0GM0E01")
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    page.fill("#f-uscc", bad)
    assert "bad" in page.get_attribute("[data-uscc-hint]", "class")  # the client-side checksum hint
    page.fill("#f-email", "someone@example.cn")
    page.fill("#f-password", "short")
    page.fill("#f-password_confirm", "other")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click("[data-testid=register-submit]")
    assert posted.value.status == 422
    page.wait_for_load_state()
    assert "check character" in page.locator("#organization-uscc-error").inner_text()
    assert page.locator("#password-error").inner_text()
    assert page.locator("#password_confirm-error").inner_text()
    assert page.locator("#organization-region_code-error").inner_text()
    assert page.input_value("#f-uscc") == bad
    assert page.input_value("#f-email") == "someone@example.cn"
    assert page.input_value("#f-password") == ""  # passwords are never sent back
    assert not page.server_errors


def test_post_without_csrf_token_is_refused(new_page, live_server):
    page = new_page("en")
    # a page form
    response = page.request.post(live_server("/login"), form={"email": "a@example.cn", "password": PASSWORD},
                                 headers={"Accept-Language": "en"})
    assert response.status == 400
    assert "security token" in response.text()
    # a signed-in user: page forms and session-authenticated API calls need the token
    login(page, live_server, _enterprise(live_server))
    response = page.request.post(live_server("/projects/new"), form={"name": "没有令牌的项目"})
    assert response.status == 400
    response = page.request.post(live_server("/api/v1/taxonomy/classify"), data={"name": "光伏电站"})
    assert response.status == 400
    assert response.json()["error"]["code"] == "bad_request"
    # ... and pass with it
    token = page.get_attribute('meta[name="csrf-token"]', "content")
    response = page.request.post(live_server("/api/v1/taxonomy/classify"), data={"name": "光伏电站"},
                                 headers={"X-CSRFToken": token})
    assert response.status == 200 and response.json()["items"]


def test_errors_are_pages_never_500(new_page, live_server):
    page = new_page("en")
    page.goto(live_server("/review"))
    assert "/login" in page.url  # not signed in: the login page, coming back afterwards
    assert "next=" in page.url
    login(page, live_server, _enterprise(live_server))
    response = page.goto(live_server("/review"))
    assert response.status == 403  # an enterprise is not a bureau
    assert page.locator("h1").inner_text()
    response = page.goto(live_server("/projects/999999"))
    assert response.status == 404
    response = page.goto(live_server("/engagements/999999"))
    assert response.status == 404
    response = page.goto(live_server("/no/such/page"))
    assert response.status == 404 and page.locator("nav.gm-nav").count() == 1
    api = page.request.get(live_server("/api/v1/projects/999999"))
    assert api.status == 404 and api.json()["error"]["code"] == "not_found"  # the API keeps its JSON shape
    assert not page.server_errors
