"""Schemathesis against the live platform: every operation of the OpenAPI document, fuzzed with a bearer token
of each role (and none), must give no server error and no response that contradicts its documented schema.

The app runs in a real HTTP server (werkzeug, a thread) on its own database — a SQLite file, or a fresh
PostgreSQL database when the suite runs on PostgreSQL — seeded with the demo data set, so generated ids hit
real objects of other organisations too. Examples per operation and role are bounded (``EXAMPLES``) to keep
the run near a minute. Operations that end the caller's credentials (logout, password change) run last.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from werkzeug.serving import make_server

from greenmatch import create_app
from greenmatch.extensions import db
from support.databases import empty_database

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402

EXAMPLES = int(os.environ.get("GREENMATCH_SCHEMATHESIS_EXAMPLES", "3"))
DEMO_PASSWORD = "GreenMatch-Demo-2025"
ROLES = {"enterprise": "zjk-energy@demo.greenmatch.cn", "institution": "bank-jjj@demo.greenmatch.cn",
         "bureau": "bureau-hebei@demo.greenmatch.cn", "admin": "admin@demo.greenmatch.cn"}
LAST = ("/api/v1/auth/logout", "/api/v1/auth/password", "/api/v1/auth/token")  # they end credentials


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[str]:
    kind = "postgresql" if os.environ.get("GREENMATCH_TEST_DATABASE_URL", "").startswith("postgresql") else "sqlite"
    with empty_database(kind, tmp_path_factory.mktemp("schemathesis")) as url:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "schemathesis"})
        with app.app_context():
            db.create_all()
            from greenmatch.catalog.demo import seed_demo

            seed_demo()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}"
        finally:
            server.shutdown()
            thread.join(10)
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def _token(base: str, email: str) -> dict[str, str]:
    response = requests.post(f"{base}/api/v1/auth/token", json={"email": email, "password": DEMO_PASSWORD},
                             timeout=30)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def _fuzz(operation, base: str, headers: dict[str, str]) -> int:
    """Up to EXAMPLES generated requests of one operation with these headers; the number sent."""
    sent = 0

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def run(case):
        nonlocal sent
        sent += 1
        response = case.call(base_url=base, headers=headers, timeout=60)
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

    run()
    return sent


def test_no_server_errors_and_no_schema_violations(live):
    schema = schemathesis.openapi.from_url(f"{live}/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    operations.sort(key=lambda op: op.path in LAST and op.method.lower() != "post" or op.path == LAST[0])
    assert len(operations) >= 50
    failures: list[str] = []
    calls = 0
    callers = {"anonymous": {}, **{role: _token(live, email) for role, email in ROLES.items()}}
    for operation in operations:
        for role, headers in callers.items():
            try:
                calls += _fuzz(operation, live, headers)
            except (Exception, BaseExceptionGroup) as exc:  # all failures are reported together
                failures.append(f"{operation.method.upper()} {operation.path} as {role}: "
                                f"{type(exc).__name__}: {str(exc)[:600]}")
    print(f"schemathesis: {len(operations)} operations x {len(callers)} callers, {calls} requests, "
          f"{len(failures)} failing")
    assert not failures, "\n\n".join(failures)
