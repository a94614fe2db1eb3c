"""Each role's main journey through the pages, in English and in Chinese:

an enterprise registers, files and submits a project (category suggested by the classifier as it types);
the bureau approves it from its green-priority queue; an institution registers, is verified by the admin,
publishes a product, finds the project among its leads with an explanation and requests an engagement;
the enterprise accepts; the institution records the financing; the bureau's dashboard shows the amount.
Screenshots of every main page land in tests/e2e/screenshots/ (``./scripts/screenshots``: docs/screenshots/).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from sqlalchemy import func, select

from greenmatch.codes import make_uscc
from greenmatch.web.formatting import money

from .conftest import PASSWORD, login, shot, staff_user

pytestmark = pytest.mark.e2e

TEXT = {  # a few visible strings, to check the pages speak the language asked for
    "en": {"my_projects": "My projects", "leads": "Leads", "review_queue": "Review queue"},
    "zh_CN": {"my_projects": "我的项目", "leads": "项目线索", "review_queue": "审核队列"},
}


def _unique() -> str:
    return uuid.uuid4().hex[:8]


def _uscc(region: str) -> str:
    return make_uscc(f"91{region}" + f"{uuid.uuid4().int % 10**9:09d}")


def _register(page, live_server, *, kind: str, name: str, email: str, province: str, city: str | None = None,
              institution_type: str | None = None) -> None:
    page.goto(live_server(f"/register?kind={kind}"))
    page.check(f"#kind-{kind}")
    if institution_type:
        page.select_option("#f-institution_type", institution_type)
    page.fill("#f-org_name", name)
    page.fill("#f-uscc", _uscc(province))
    page.wait_for_selector("[data-uscc-hint].ok")  # the client-side checksum hint agrees
    page.select_option("#f-region-province", province)
    if city:
        page.select_option("#f-region-city", city)
    page.fill("#f-name", "张三" if kind == "enterprise" else "李四")
    page.fill("#f-email", email)
    page.fill("#f-password", PASSWORD)
    page.fill("#f-password_confirm", PASSWORD)
    with page.expect_navigation():
        page.click("[data-testid=register-submit]")
    assert "/register" not in page.url, page.locator(".invalid-feedback").all_inner_texts()


def _file_project(page, live_server, name: str) -> int:
    page.goto(live_server("/projects/new"))
    page.fill("#f-name", name)
    page.fill("#f-description", "在张家口坝上地区建设50兆瓦集中式光伏电站，配套升压站与储能，年发电约7.5万兆瓦时。")
    page.fill("#f-industry_code", "4416")
    page.check("#f-stage-construction")
    page.select_option("#f-region-province", "130000")
    page.select_option("#f-region-city", "130700")
    page.fill("#f-commissioning_year", "2026")
    # the classifier suggests catalogue items as the user types; one click adds it
    suggestion = page.locator('[data-testid=suggestions] button[data-code="4.2.2"]')
    suggestion.wait_for()
    suggestion.click()
    assert "4.2.2" in page.input_value("#f-categories")
    page.fill("#f-total_investment_cny", "220000000")
    page.fill("#f-financing_need_cny", "150,000,000")
    page.fill("#f-annual_revenue_cny", "28000000")
    page.fill("#f-benefits-renewable_generation_mwh", "75000")
    page.fill("#f-benefits-co2_reduction_t", "40000")
    for box in ("certifications-high_tech", "collateral-receivables", "collateral-green_power_certificates",
                "risk_exposures-climate_catastrophe", "compliance-pollutant_permit",
                "preferred_instruments-green_credit"):
        page.check(f"#f-{box}")
    page.select_option("#f-compliance-eia_status", "approved")
    page.select_option("#f-capacity_change", "none")
    page.fill("#f-contact-name", "王经理")
    page.fill("#f-contact-phone", "+86 313 1234567")
    page.fill("#f-contact-email", "wang@example.cn")
    assert page.locator("[data-money-hint-for=f-financing_need_cny]").inner_text() in ("≈ ¥150M", "≈ ¥1.5亿（¥150,000,000）")
    shot(page, "enterprise-project-form")
    with page.expect_navigation():
        page.click("[data-testid=save-submit]")
    found = re.search(r"/projects/(\d+)$", page.url)
    assert found, page.url
    page.locator("[data-testid=project-status] [data-status=submitted]").wait_for()
    return int(found.group(1))


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_journey_from_registration_to_funds_reached(lang, new_page, live_server):
    run = _unique()
    project_name = f"张北50MW光伏电站 {lang} {run}"
    text = TEXT[lang]

    # -- the public pages ------------------------------------------------------------------------
    visitor = new_page(lang)
    visitor.goto(live_server("/"))
    assert visitor.locator("html").get_attribute("lang") == ("en" if lang == "en" else "zh-CN")
    shot(visitor, "home")
    visitor.goto(live_server("/catalogue"))
    shot(visitor, "catalogue")
    visitor.locator("[data-testid=project-card] .card-title a").first.click()
    visitor.locator("[data-testid=project-facts]").wait_for()
    assert visitor.locator("[data-testid=contact]").count() == 0  # the public page never shows a contact
    shot(visitor, "catalogue-project")
    visitor.goto(live_server("/register"))
    shot(visitor, "register")
    with visitor.expect_navigation():  # the language switch keeps the page and flips the language
        visitor.click("[data-testid=lang-switch]")
    assert visitor.url.endswith("/register")
    assert visitor.locator("html").get_attribute("lang") == ("zh-CN" if lang == "en" else "en")

    # -- an enterprise registers, files and submits a project ------------------------------------------------
    enterprise = new_page(lang)
    _register(enterprise, live_server, kind="enterprise", name=f"张家口绿能科技有限公司{run}",
              email=f"enterprise-{run}@example.cn", province="130000", city="130700")
    assert enterprise.get_by_role("link", name=text["my_projects"]).first.is_visible()
    project_id = _file_project(enterprise, live_server, project_name)

    # -- the bureau approves it from the queue ----------------------------------------------------------------
    staff_user(live_server, f"bureau-{run}@example.cn", "bureau", "河北省工业和信息化厅", "130000")
    bureau = new_page(lang)
    login(bureau, live_server, f"bureau-{run}@example.cn")
    bureau.goto(live_server("/review"))
    assert bureau.get_by_role("heading", name=text["review_queue"]).is_visible()
    row = bureau.locator(f'tr[data-project-id="{project_id}"]')
    row.wait_for()
    shot(bureau, "bureau-queue")
    row.get_by_role("link").first.click()
    bureau.locator("[data-testid=review-form]").wait_for()
    assert bureau.is_checked('input[name=categories][value="4.2.2"]')
    bureau.check("#f-decision-approve")
    bureau.fill("#f-note", "材料齐全，同意入库。")
    shot(bureau, "bureau-review")
    with bureau.expect_navigation():
        bureau.click("[data-testid=review-submit]")
    assert bureau.url.endswith("/review")
    bureau.locator(".alert-success").wait_for()

    # -- an institution registers; the admin verifies it ----------------------------------------------------
    institution = new_page(lang)
    bank = f"京津冀绿色银行{run}"
    _register(institution, live_server, kind="institution", name=bank, email=f"bank-{run}@example.cn",
              province="110000", institution_type="bank")
    staff_user(live_server, f"admin-{run}@example.cn", "admin", "GreenMatch 平台运营中心")
    admin = new_page(lang)
    login(admin, live_server, f"admin-{run}@example.cn")
    admin.goto(live_server("/admin/organisations?pending=1"))
    shot(admin, "admin-organisations")
    with admin.expect_navigation():
        admin.locator("tr", has_text=bank).get_by_role("button").click()
    admin.locator(".alert-success").wait_for()
    admin.goto(live_server("/admin/matching"))
    shot(admin, "admin-matching")

    # -- it publishes a product, finds the project among its leads and asks to engage -------------------------
    institution.goto(live_server("/products"))
    institution.click("[data-testid=new-green_credit]")
    institution.fill("#f-name", f"冀绿贷 {run}")
    institution.fill("#f-description", "面向河北省可再生能源项目的绿色贷款。")
    institution.fill("#f-params-min_amount_cny", "10000000")
    institution.fill("#f-params-max_amount_cny", "800000000")
    institution.select_option("#f-params-regions", ["130000"])
    institution.check("#f-params-stages-construction")
    institution.check("#f-params-stages-operation")
    institution.check("#f-params-variants-carbon_reduction_facility")
    shot(institution, "institution-product-form")
    with institution.expect_navigation():
        institution.click("[data-testid=save-publish]")
    assert "/leads" in institution.url
    lead = institution.locator(f'article[data-testid=lead][data-project-id="{project_id}"]')
    lead.wait_for()
    assert institution.get_by_role("heading", name=text["leads"], exact=True).is_visible()
    lead.locator("[data-testid=explanation] summary").click()
    assert lead.locator(".gm-path").first.is_visible()  # the explanation paths of the score
    assert lead.locator(".gm-reasons li").count() > 0
    shot(institution, "institution-leads")
    lead.locator("textarea[name=message]").fill("我行可提供碳减排支持工具项下的绿色贷款，期待洽谈。")
    with institution.expect_navigation():
        lead.get_by_role("button").last.click()
    lead = institution.locator(f'article[data-testid=lead][data-project-id="{project_id}"]')
    lead.locator("[data-status=requested]").wait_for()

    # -- the enterprise accepts ---------------------------------------------------------------------------
    enterprise.goto(live_server(f"/projects/{project_id}"))
    enterprise.locator("[data-testid=matches]").wait_for()
    with enterprise.expect_navigation():
        enterprise.locator("[data-testid=engagement-requests] button[data-testid^=accept-]").first.click()
    enterprise.locator("[data-testid=engagement-requests] [data-status=accepted]").wait_for()
    shot(enterprise, "enterprise-project")
    enterprise.goto(live_server("/my/projects"))
    shot(enterprise, "enterprise-projects")
    enterprise.goto(live_server("/inbox"))
    shot(enterprise, "inbox")

    # -- the institution sees the contact and records the financing ------------------------------------------
    institution.goto(live_server("/engagements"))
    shot(institution, "institution-engagements")
    institution.locator("[data-testid=engagements] a", has_text=project_name).click()
    institution.locator("[data-testid=contact-card]").wait_for()
    institution.check("#f-status-financed")
    institution.fill("#f-financed_amount_cny", "100000000")
    institution.fill("#f-financed_on", dt.date.today().isoformat())
    with institution.expect_navigation():
        institution.click("[data-testid=progress-submit]")
    institution.locator("[data-testid=financed]").wait_for()
    shot(institution, "institution-engagement")

    # -- the bureau's dashboard shows the funds reached -------------------------------------------------------
    bureau.goto(live_server("/bureau/statistics"))
    bureau.wait_for_function("document.querySelectorAll('canvas').length === 5 && window.Chart !== undefined")
    expected = _financed_in(live_server, "13")
    assert expected >= 100_000_000
    assert bureau.locator("[data-testid=total-financed]").inner_text().strip() == money(expected, lang == "en")
    shot(bureau, "bureau-statistics")
    # -- the jurisdiction's catalogue: Excel export, and an import with its per-row report --------------------
    bureau.goto(live_server("/bureau/catalogue"))
    export = bureau.request.get(live_server(bureau.locator("[data-testid=export-link]").get_attribute("href")))
    assert export.status == 200 and "spreadsheetml" in export.headers["content-type"]
    sheet = ("name,industry_code,region_code,categories,stage,total_investment_cny,financing_need_cny,"
             "enterprise_uscc,enterprise_name\n"
             f"保定光伏车棚项目 {run},4416,130600,4.2.2,planning,30000000,20000000,{_uscc('130600')},保定光明能源有限公司{run}\n"
             f"融资超投资的项目 {run},4416,130600,4.2.2,planning,10000000,20000000,{_uscc('130600')},保定某公司{run}\n")
    bureau.set_input_files("#f-file", files=[{"name": "projects.csv", "mimeType": "text/csv",
                                              "buffer": sheet.encode("utf-8")}])
    with bureau.expect_navigation():
        bureau.locator("[data-testid=import-form] button[type=submit]").click()
    report = bureau.locator("[data-testid=import-report]")
    report.wait_for()
    assert report.locator(".text-bg-success").count() == 2  # the badge "1 accepted" and the row's badge
    assert "financing_need_cny" in report.inner_text()
    shot(bureau, "bureau-catalogue")

    # -- and a phone-sized view of the enterprise's project page -----------------------------------------------
    phone = new_page(lang, phone=True)
    login(phone, live_server, f"enterprise-{run}@example.cn")
    phone.goto(live_server(f"/projects/{project_id}"))
    shot(phone, "phone-enterprise-project", full_page=False)

    for page in (visitor, enterprise, bureau, institution, admin, phone):
        assert not page.server_errors, page.server_errors


def _financed_in(live_server, prefix: str) -> float:
    from greenmatch.catalog.models import Project
    from greenmatch.extensions import db
    from greenmatch.matching.models import Engagement

    with live_server.app.app_context():
        total = db.session.scalar(
            select(func.coalesce(func.sum(Engagement.financed_amount_cny), 0))
            .join(Project, Project.id == Engagement.project_id)
            .where(Engagement.status == "financed", Project.region_code.startswith(prefix)))
        return float(total or 0)
