"""Full re-match runs are long work (api.md §5): POST answers 202 with a queued run executed outside
the request, GET polls it; a second run while one is queued or running is refused (409), since it
would delete the first run's rows; a run whose worker died is marked abandoned once the lease its
worker renews has expired, never blocking the next, and its partial rows are never visible."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import TEST_DATABASE_URL

from support.flows import approved_project, published_product
from support.runs import run_via_api, wait_for_run

GREENMATCH = str(Path(sys.executable).parent / "greenmatch")


def _library(client, f, n_projects=4):
    owner, bureau = f.enterprise_user(region_code="130700"), f.bureau_user(region_code="130000")
    bank, admin = f.institution_user(region_code="130000"), f.admin_user()
    published_product(client, f.auth_headers, bank, instrument="green_credit", name="冀绿贷", params={})
    pids = [approved_project(client, f.auth_headers, owner, bureau, name=f"光伏电站第{i}期项目")
            for i in range(n_projects)]
    return bank, admin, pids


def copy_projects(pid: int, n: int) -> None:
    """``n`` more approved projects like ``pid`` (same facts and categories), inserted in bulk."""
    from sqlalchemy import insert, select

    from greenmatch.catalog.models import Project, ProjectCategory
    from greenmatch.extensions import db

    source = db.session.get(Project, pid)
    columns = {c.key: getattr(source, c.key) for c in Project.__table__.columns if c.key != "id"}
    categories = [{c.key: getattr(row, c.key) for c in ProjectCategory.__table__.columns if c.key not in ("id", "project_id")}
                  for row in db.session.scalars(select(ProjectCategory).where(ProjectCategory.project_id == pid))]
    ids = db.session.scalars(insert(Project).returning(Project.id),
                             [{**columns, "name": f"{source.name}（{i}号子项目）"} for i in range(n)]).all()
    if categories:
        db.session.execute(insert(ProjectCategory), [{**c, "project_id": i} for i in ids for c in categories])
    db.session.commit()


def test_post_answers_202_and_the_run_is_polled_to_succeeded(make_app, f):
    from greenmatch.extensions import db
    from greenmatch.matching.models import Match, MatchRun

    app = make_app(MATCHING={"chunk_size": 2})
    client = app.test_client()
    with app.app_context():
        bank, admin, pids = _library(client, f)
        started = time.monotonic()
        response = client.post("/api/v1/matching/runs", headers=f.auth_headers(admin))
        assert response.status_code == 202, response.get_json()
        body = response.get_json()
        assert body["status"] == "queued" and body["progress"] == 0 and body["lease_expires_at"]
        run = wait_for_run(client, f.auth_headers(admin), body["id"])
        assert time.monotonic() - started < 30
        assert run["status"] == "succeeded" and run["progress"] == 1.0, run
        assert run["matches_written"] == 4 and run["pairs_considered"] >= 4 and run["duration_ms"] >= 0
        db.session.rollback()
        assert db.session.get(MatchRun, body["id"]).worker.endswith(f":{os.getpid()}")  # a thread of this process
        assert db.session.query(Match).count() == 4
        assert client.get("/api/v1/leads", headers=f.auth_headers(bank)).get_json()["total"] == 4
        # only admins; an unknown run is 404 in the error shape
        assert client.get(f"/api/v1/matching/runs/{body['id']}", headers=f.auth_headers(bank)).status_code == 403
        missing = client.get("/api/v1/matching/runs/999999", headers=f.auth_headers(admin))
        assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
        assert client.get("/api/v1/matching/runs/1").status_code == 401


def test_a_second_run_while_one_is_queued_or_running_is_409(make_app, f):
    from flask_babel import refresh

    from greenmatch.errors import Conflict
    from greenmatch.extensions import db
    from greenmatch.matching import runs
    from greenmatch.matching.models import MatchRun

    app = make_app(MATCHING={"chunk_size": 2})
    client = app.test_client()
    with app.app_context():
        bank, admin, pids = _library(client, f)
        queued = runs.create_run("queued-first")  # no executor picks it up: it stays queued
        refused = client.post("/api/v1/matching/runs", headers={**f.auth_headers(admin), "Accept-Language": "en"})
        assert refused.status_code == 409, refused.get_json()
        assert refused.get_json()["error"]["code"] == "conflict"
        assert f"#{queued.id} is still running" in refused.get_json()["error"]["message"]
        refresh()  # the test's outer app context keeps the first request's locale
        zh = client.post("/api/v1/matching/runs", headers={**f.auth_headers(admin), "Accept-Language": "zh-CN"})
        assert zh.status_code == 409 and "仍在运行" in zh.get_json()["error"]["message"]
        db.session.query(MatchRun).filter_by(id=queued.id).delete()
        db.session.commit()

        # and while running: a second run is refused in the middle of the first one
        refused_mid = []

        def second_run(batch_number):
            if batch_number == 0:
                with pytest.raises(Conflict) as caught:
                    runs.full_rematch(triggered_by="second")
                refused_mid.append(caught.value)
                api = client.post("/api/v1/matching/runs", headers=f.auth_headers(admin))
                assert api.status_code == 409, api.get_json()

        run = runs.full_rematch(triggered_by="first", after_batch=second_run)
        assert refused_mid and run.status == "succeeded" and run.matches_written == 4
        assert client.get("/api/v1/leads", headers=f.auth_headers(bank)).get_json()["total"] == 4
        assert [r.triggered_by for r in db.session.query(MatchRun).order_by(MatchRun.id)] == ["first"]


def test_an_expired_lease_marks_the_run_abandoned_and_the_next_run_goes_ahead(make_app, f):
    from greenmatch.db import utcnow
    from greenmatch.extensions import db
    from greenmatch.matching import runs
    from greenmatch.matching.models import MatchRun

    app = make_app(MATCHING={"chunk_size": 2}, RUN_LEASE_SECONDS=1)
    client = app.test_client()
    with app.app_context():
        bank, admin, pids = _library(client, f)
        stuck = runs.create_run("nobody-picks-it-up")
        # a run of before leases, left 'running' long ago by a process that died
        db.session.add(MatchRun(kind="full", status="running", triggered_by="died", generation=999,
                                started_at=utcnow() - dt.timedelta(days=1)))
        db.session.commit()
        assert client.post("/api/v1/matching/runs", headers=f.auth_headers(admin)).status_code == 409
        time.sleep(1.2)
        seen = client.get(f"/api/v1/matching/runs/{stuck.id}", headers=f.auth_headers(admin)).get_json()
        assert seen["status"] == "abandoned" and "lease" in seen["error"]
        run = run_via_api(client, f.auth_headers(admin))
        assert run["status"] == "succeeded" and run["matches_written"] == 4
        db.session.rollback()
        assert db.session.query(MatchRun).filter_by(triggered_by="died").one().status == "abandoned"
        # a worker that picks up the abandoned run later leaves it alone (jobs are idempotent by the row)
        assert runs.execute_run(stuck.id) is None
        assert db.session.get(MatchRun, stuck.id).status == "abandoned"


def _env(**extra):
    env = {**os.environ, "GREENMATCH_DATABASE_URL": TEST_DATABASE_URL, "GREENMATCH_SECRET_KEY": "test-secret-key",
           "GREENMATCH_INSTRUMENTS": json.dumps(["green_credit", "green_bond", "reits", "green_insurance",
                                                 "green_fund"]),
           "PYTHONUNBUFFERED": "1"}
    env.pop("GREENMATCH_REDIS_URL", None)
    env.update(extra)
    return env


def test_kill_9_during_a_full_rematch_leaves_no_partial_rows_and_blocks_nothing(make_app, f, tmp_path):
    from sqlalchemy import func, select

    from greenmatch.extensions import db
    from greenmatch.matching.models import Match, MatchRun

    lease = 2
    app = make_app(MATCHING={"chunk_size": 50}, RUN_LEASE_SECONDS=lease)
    client = app.test_client()
    with app.app_context():
        bank, admin, pids = _library(client, f, n_projects=2)
        copy_projects(pids[0], 3000)
        before = run_via_api(client, f.auth_headers(admin), timeout=120)
        assert before["status"] == "succeeded", before
        leads_before = client.get("/api/v1/leads", headers=f.auth_headers(bank)).get_json()["total"]
        matches_before = db.session.scalar(select(func.count()).select_from(Match))
        assert leads_before > 0

        out = (tmp_path / "match-run.log").open("w")
        proc = subprocess.Popen([GREENMATCH, "match", "run"], stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path,
                                env=_env(GREENMATCH_RUN_LEASE_SECONDS=str(lease), GREENMATCH_MATCH_CLI_PARALLEL="false",
                                         GREENMATCH_MATCHING=json.dumps({"chunk_size": 1, "workers": 1})))
        try:
            deadline, dead = time.monotonic() + 60, None
            while time.monotonic() < deadline and proc.poll() is None:
                db.session.rollback()
                dead = db.session.scalar(select(MatchRun).where(MatchRun.triggered_by == "cli"))
                if dead is not None and dead.status == "running" and dead.progress > 0 and db.session.scalar(
                        select(func.count()).where(Match.generation == dead.generation)):
                    break
                time.sleep(0.05)
            assert dead is not None and dead.status == "running" and 0 < dead.progress < 1, \
                (tmp_path / "match-run.log").read_text()
            os.kill(proc.pid, signal.SIGKILL)
            killed_at = time.monotonic()  # the lease is measured from the kill, not from the checks below
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            out.close()
        db.session.rollback()
        partial = db.session.scalar(select(func.count()).where(Match.generation == dead.generation))
        assert partial > 0  # the dead run had written rows of its own generation ...
        # ... that nobody sees: the previous results are served unchanged
        assert client.get("/api/v1/leads", headers=f.auth_headers(bank)).get_json()["total"] == leads_before
        while True:  # refused while the lease runs; accepted once it has expired (well within minutes)
            response = client.post("/api/v1/matching/runs", headers=f.auth_headers(admin))
            if response.status_code == 202:
                break
            assert response.status_code == 409, response.get_json()
            assert time.monotonic() - killed_at < lease + 5
            time.sleep(0.2)
        assert time.monotonic() - killed_at >= lease * 0.5  # the lease (renewed until the kill) held it
        new = wait_for_run(client, f.auth_headers(admin), response.get_json()["id"], timeout=120)
        assert new["status"] == "succeeded", new
        db.session.rollback()
        dead = db.session.get(MatchRun, dead.id)
        assert dead.status == "abandoned" and "lease" in dead.error and dead.finished_at is not None
        assert db.session.scalar(select(func.count()).where(Match.generation == dead.generation)) == 0
        assert db.session.scalar(select(func.count()).select_from(Match)) == matches_before
        assert client.get("/api/v1/leads", headers=f.auth_headers(bank)).get_json()["total"] == leads_before


def test_openapi_documents_202_and_409_of_runs(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    post = spec["paths"]["/api/v1/matching/runs"]["post"]["responses"]
    assert {"202", "409", "401", "403"} <= set(post) and "201" not in post
    assert "progress" in spec["components"]["schemas"]["Run"]["properties"]
    assert {"200", "404"} <= set(spec["paths"]["/api/v1/matching/runs/{run_id}"]["get"]["responses"])
