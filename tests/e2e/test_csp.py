"""The Content-Security-Policy (no inline script or style) breaks no page: Chromium reports no violation
on the main pages of each role, the charts draw, the score bars keep their widths and Swagger UI starts."""

from __future__ import annotations

import pytest

from greenmatch.catalog.demo import DEMO_EMAIL_DOMAIN, DEMO_PASSWORD
from greenmatch.security.headers import CSP

from .conftest import login

pytestmark = pytest.mark.e2e

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sourceFile || '')));
"""


def watched(new_page):
    page = new_page("zh_CN")
    page.add_init_script(RECORD_VIOLATIONS)
    console = []
    page.on("console", lambda msg: console.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.console_csp = console
    return page


def visit(page, url: str) -> None:
    response = page.goto(url)
    assert response.headers["content-security-policy"] == CSP
    page.wait_for_load_state("networkidle")
    violations = page.evaluate("window.__csp") + page.console_csp
    assert not violations, f"{url}: {violations}"


def test_public_pages_and_swagger_ui_run_under_the_csp(new_page, live_server):
    page = watched(new_page)
    for path in ("/", "/catalogue", "/login", "/register"):
        visit(page, live_server(path))
    page.goto(live_server("/catalogue"))
    page.locator("a[href^='/catalogue/']").first.click()
    page.wait_for_load_state("networkidle")
    visit(page, page.url)
    ring = page.locator(".gm-score-ring").first
    value = ring.evaluate("el => getComputedStyle(el).getPropertyValue('--v').trim()")
    assert value == ring.inner_text().strip()  # the green score drives the ring through its class
    visit(page, live_server("/api/docs"))
    page.locator(".swagger-ui .info").wait_for()  # Swagger UI started from static/swagger-init.js


def test_staff_pages_and_charts_run_under_the_csp(new_page, live_server):
    page = watched(new_page)
    login(page, live_server, f"bureau-hebei@{DEMO_EMAIL_DOMAIN}", DEMO_PASSWORD)
    for path in ("/bureau/queue", "/bureau/catalogue", "/inbox", "/account/password"):
        visit(page, live_server(path))
    visit(page, live_server("/bureau/statistics"))
    page.wait_for_function("document.querySelectorAll('canvas').length === 5 && window.Chart !== undefined")
    assert not page.evaluate("window.__csp")


def test_scorebars_keep_their_width_under_the_csp(new_page, live_server):
    page = watched(new_page)
    login(page, live_server, f"bank-jjj@{DEMO_EMAIL_DOMAIN}", DEMO_PASSWORD)
    visit(page, live_server("/leads"))
    bars = page.locator(".gm-scorebar > span")
    assert bars.count() > 0
    for bar in bars.all()[:5]:
        share = int(bar.get_attribute("class").removeprefix("gm-w-"))
        width, outer = bar.evaluate("el => [el.getBoundingClientRect().width, "
                                    "el.parentElement.getBoundingClientRect().width]")
        assert share > 0 and abs(width - outer * share / 100) <= 1.5
