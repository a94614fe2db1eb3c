"""Shared test infrastructure: app and database fixtures, factories, bearer-token helpers.

The suite runs on SQLite by default. Set GREENMATCH_TEST_DATABASE_URL to run it on PostgreSQL
(`.ci/run` does both). Services a test needs (PostgreSQL, Redis) make it fail, not skip, when CI=true.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import close_all_sessions

sys.path.insert(0, str(Path(__file__).parent))  # tests/ helpers importable as `support`

from greenmatch import create_app
from greenmatch.extensions import db, limiter
from support import factories
from support.services import POSTGRES_ADMIN_URL, require_service

# The third-party example plugin (tests/plugins/thirdparty) is installed by ./scripts/bootstrap into a folder
# of its own, visible to the tests and their subprocesses only, never to the served demo.
_TEST_PLUGINS = Path(sys.prefix) / "test-plugins"
if _TEST_PLUGINS.is_dir():
    sys.path.insert(1, str(_TEST_PLUGINS))
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_TEST_PLUGINS), os.environ.get("PYTHONPATH")]))

BUILTIN_INSTRUMENTS = ["green_credit", "green_bond", "reits", "green_insurance", "green_fund"]
_tmp = tempfile.mkdtemp(prefix="greenmatch-tests-")
TEST_DATABASE_URL = os.environ.get("GREENMATCH_TEST_DATABASE_URL") or f"sqlite:///{_tmp}/test.db"


def pytest_report_header(config):
    return f"greenmatch test database: {TEST_DATABASE_URL.split('@')[-1]}"


def app_config(**overrides):
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": TEST_DATABASE_URL,
        "SECRET_KEY": "test-secret-key",
        "INSTRUMENTS": BUILTIN_INSTRUMENTS,
        "WTF_CSRF_ENABLED": True,
        "SERVER_NAME": None,
    }
    config.update(overrides)
    return config


@pytest.fixture(scope="session")
def app():
    if TEST_DATABASE_URL.startswith("postgresql"):
        require_service("postgresql", POSTGRES_ADMIN_URL)
    app = create_app(app_config())
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def make_app():
    """Another app on the same test database with different settings (e.g. other plugins)."""

    def build(**overrides):
        return create_app(app_config(**overrides))

    return build


@pytest.fixture(autouse=True)
def _clean_database(request):
    """Every test starts from empty tables (reference data is code, not rows, and stays)."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    from greenmatch.jobs import join_threads

    join_threads(app, 60)  # jobs a test queued on the in-process executor end before their tables are emptied
    # Sessions of every scope (pytest-flask's pushed request context, test clients) end their
    # transactions first, or PostgreSQL's TRUNCATE below waits for their locks forever.
    close_all_sessions()
    with app.app_context():
        db.session.remove()
        tables = [t for t in reversed(db.metadata.sorted_tables) if not t.name.startswith("ref_")]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables) + " RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    conn.execute(table.delete())
        limiter.reset()
        app.extensions["greenmatch.login_limiter"].reset()


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield


@pytest.fixture
def f(app_ctx):
    """Factories bound to the test database: f.enterprise_user(), f.institution_user(verified=True), ..."""
    return factories


@pytest.fixture
def auth(client, app_ctx):
    """auth(user) -> headers with a fresh bearer token for that user."""

    def headers(user):
        return factories.auth_headers(user)

    return headers
