"""Full runs exclude each other: a second run while one is running is refused (409), since it would
delete the first run's rows; a run left 'running' by a process that died does not block forever."""

import datetime as dt

import pytest

from support.flows import approved_project, published_product


def test_a_full_run_is_refused_while_another_is_running(make_app, f):
    from greenmatch.db import utcnow
    from greenmatch.errors import Conflict
    from greenmatch.extensions import db
    from greenmatch.matching import service
    from greenmatch.matching.models import MatchRun

    app = make_app(MATCHING={"chunk_size": 2})
    client = app.test_client()
    with app.app_context():
        owner, bureau = f.enterprise_user(region_code="130700"), f.bureau_user(region_code="130000")
        bank, admin = f.institution_user(region_code="130000"), f.admin_user()
        published_product(client, f.auth_headers, bank, instrument="green_credit", name="冀绿贷", params={})
        for i in range(4):
            approved_project(client, f.auth_headers, owner, bureau, name=f"光伏电站第{i}期项目")
        refused = []

        def second_run(batch_number):
            if batch_number == 0:
                with pytest.raises(Conflict, match="still running") as caught:
                    service.full_rematch(triggered_by="second")
                refused.append(caught.value)
                api = client.post("/api/v1/matching/runs", headers=f.auth_headers(admin))
                assert api.status_code == 409, api.get_json()

        run = service.full_rematch(triggered_by="first", after_batch=second_run)
        assert refused and run.status == "succeeded" and run.matches_written == 4
        assert client.get("/api/v1/leads", headers=f.auth_headers(bank)).get_json()["total"] == 4
        assert [r.triggered_by for r in db.session.query(MatchRun).order_by(MatchRun.id)] == ["first"]

        # a run its process left 'running' long ago: abandoned, marked failed, the next run goes ahead
        db.session.add(MatchRun(kind="full", status="running", triggered_by="died", generation=999,
                                started_at=utcnow() - dt.timedelta(days=1)))
        db.session.commit()
        assert service.full_rematch(triggered_by="after").status == "succeeded"
        died = db.session.query(MatchRun).filter_by(triggered_by="died").one()
        assert died.status == "failed" and "abandoned" in died.error
        assert client.get("/api/v1/leads", headers=f.auth_headers(bank)).get_json()["total"] == 4
