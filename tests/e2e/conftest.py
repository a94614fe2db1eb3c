"""End-to-end tests: the app served on localhost (its own temporary SQLite file), driven by the system
Chromium through Playwright's sync API.

* ``live_server`` (session): ``create_app`` on a temp file database, seeded with the demo data set (so
  the pages and screenshots look like real use), served by werkzeug's ``make_server`` in a thread.
  It never touches the database of the rest of the suite (``GREENMATCH_TEST_DATABASE_URL``).
* ``browser`` (session) and ``new_page(lang)``: a fresh browser context per role, 1366×900, in the
  language asked for (Accept-Language), so each role has its own session cookie.
* ``shot(page, name)``: a screenshot in ``tests/e2e/screenshots/<lang>-<name>.png`` (ignored by git;
  ``./scripts/screenshots`` writes them to ``docs/screenshots/`` instead).

Without /usr/bin/chromium the tests are skipped locally and fail when CI=true.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from greenmatch import create_app
from greenmatch.extensions import db
from support.services import IN_CI

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
ROOT = Path(__file__).resolve().parents[2]
# Test runs write screenshots to an ignored folder, so a run leaves the checkout clean; `./scripts/screenshots`
# refreshes the documented ones in docs/screenshots/ by pointing GREENMATCH_SCREENSHOTS there.
SCREENSHOTS = Path(os.environ.get("GREENMATCH_SCREENSHOTS") or ROOT / "tests" / "e2e" / "screenshots")
VIEWPORT = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
PASSWORD = "correct horse battery"
BROWSER_LOCALES = {"en": "en-US", "zh_CN": "zh-CN"}
INSTRUMENTS = ["green_credit", "green_bond", "reits", "green_insurance", "green_fund"]


def _require_chromium() -> None:
    if os.path.exists(CHROMIUM):
        return
    message = f"{CHROMIUM} is missing (apt-get install -y chromium)"
    if IN_CI:
        pytest.fail(message + " — CI needs it: failing, not skipping")
    pytest.skip(message)


class LiveServer:
    def __init__(self, app, url: str):
        self.app = app
        self.url = url

    def __call__(self, path: str = "/") -> str:
        return self.url + path


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    _require_chromium()
    folder = tempfile.mkdtemp(prefix="greenmatch-e2e-")
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/e2e.db",
        "SECRET_KEY": "e2e-secret-key",
        "INSTRUMENTS": INSTRUMENTS,
        "RATELIMIT_ENABLED": False,
        "WTF_CSRF_ENABLED": True,
        "SERVER_NAME": None,
    })
    with app.app_context():
        db.create_all()
        from greenmatch.catalog.demo import seed_demo

        seed_demo()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app, f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def browser(live_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser, live_server):
    """new_page(lang, phone=False) -> a page in a fresh context (own cookies) speaking ``lang``."""
    contexts = []

    def make(lang: str = "en", phone: bool = False):
        context = browser.new_context(viewport=PHONE if phone else VIEWPORT, locale=BROWSER_LOCALES[lang],
                                      device_scale_factor=1, is_mobile=phone, has_touch=phone)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.lang = lang
        page.server_errors = []
        page.on("response", lambda response: page.server_errors.append(f"{response.status} {response.url}")
                if response.status >= 500 else None)
        return page

    yield make
    for context in contexts:
        context.close()


ACCESSIBILITY_CHECK = """() => {
  const problems = [];
  document.querySelectorAll('input:not([type=hidden]), select, textarea').forEach((el) => {
    const named = (el.labels && el.labels.length) || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
    if (!named) problems.push('no label: ' + el.outerHTML.slice(0, 120));
  });
  document.querySelectorAll('button, a[href]').forEach((el) => {
    if (!(el.innerText || '').trim() && !el.getAttribute('aria-label') && !el.getAttribute('title'))
      problems.push('no accessible name: ' + el.outerHTML.slice(0, 120));
  });
  document.querySelectorAll('img').forEach((el) => { if (!el.hasAttribute('alt')) problems.push('img without alt'); });
  if (document.querySelectorAll('main').length !== 1) problems.push('one <main> landmark expected');
  if (!document.querySelector('header nav, nav')) problems.push('no navigation landmark');
  if (document.querySelectorAll('h1').length !== 1) problems.push('one <h1> expected');
  if (!['en', 'zh-CN'].includes(document.documentElement.lang)) problems.push('html lang');
  return problems;
}"""


def check_accessible(page) -> None:
    """Labels for every input, names for buttons and links, landmarks, one h1, the page's language."""
    problems = page.evaluate(ACCESSIBILITY_CHECK)
    assert not problems, f"{page.url}: {problems}"


def shot(page, name: str, full_page: bool = True) -> Path:
    """Save ``<SCREENSHOTS>/<lang>-<name>.png`` (the full page, or what the viewport shows), after
    checking the page's basic accessibility."""
    check_accessible(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{page.lang}-{name}.png"
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(path), full_page=full_page, animations="disabled")
    return path


def login(page, live_server, email: str, password: str = PASSWORD) -> None:
    page.goto(live_server("/login"))
    page.fill("#email", email)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("[data-testid=login-submit]")
    assert "/login" not in page.url, f"login failed for {email}"


def staff_user(live_server, email: str, role: str, org_name: str, region: str | None = None):
    """A bureau or admin account, made by the account service (as the CLI does)."""
    from greenmatch.accounts.service import create_staff_user

    with live_server.app.app_context():
        user = create_staff_user(email, PASSWORD, role, org_name, region)
        return user.id
