"""A real Celery worker: ``greenmatch worker`` started as a subprocess with Redis as broker executes the
run that ``POST /matching/runs`` only enqueued."""

from __future__ import annotations

import socket
import subprocess

import redis
from test_runs import GREENMATCH, _env, _library

from support.runs import wait_for_run
from support.services import REDIS_URL, require_service


def test_a_greenmatch_worker_executes_the_queued_run(make_app, f, tmp_path):
    from greenmatch.extensions import db
    from greenmatch.matching.models import MatchRun

    require_service("redis", REDIS_URL)
    broker = redis.Redis.from_url(REDIS_URL)
    broker.flushdb()  # this suite's own Redis database: no messages of earlier runs
    app = make_app(MATCHING={"chunk_size": 2}, REDIS_URL=REDIS_URL, RUN_LEASE_SECONDS=30)
    client = app.test_client()
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen([GREENMATCH, "worker", "--pool=solo"], stdout=log, stderr=subprocess.STDOUT,
                              cwd=tmp_path, env=_env(GREENMATCH_REDIS_URL=REDIS_URL))
    try:
        with app.app_context():
            bank, admin, pids = _library(client, f, n_projects=3)
            response = client.post("/api/v1/matching/runs", headers=f.auth_headers(admin))
            assert response.status_code == 202, response.get_json()
            assert response.get_json()["status"] == "queued"
            run = wait_for_run(client, f.auth_headers(admin), response.get_json()["id"], timeout=60)
            assert run["status"] == "succeeded", (run, (tmp_path / "worker.log").read_text())
            assert run["matches_written"] == 3 and run["progress"] == 1.0
            db.session.rollback()
            # executed by the worker process, not by a thread of this one
            assert db.session.get(MatchRun, run["id"]).worker == f"{socket.gethostname()}:{worker.pid}"
            assert client.get("/api/v1/leads", headers=f.auth_headers(bank)).get_json()["total"] == 3
    finally:
        worker.terminate()
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        log.close()
        broker.flushdb()
