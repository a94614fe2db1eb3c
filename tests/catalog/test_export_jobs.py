"""Bulk exports as long work (api.md §5): 202 + a job with progress, the file for the asking organisation only."""

from __future__ import annotations

import io

from flask import current_app
from openpyxl import load_workbook

from greenmatch.jobs import join_threads
from support.flows import approved_project


def _finish():
    from greenmatch.extensions import db

    db.session.rollback()  # no read of this test may hold SQLite's lock while the job thread writes
    join_threads(current_app._get_current_object(), 60)


def test_an_export_job_runs_outside_the_request_and_serves_its_file(client, auth, f):
    hebei, jiangsu = f.bureau_user(region_code="130000"), f.bureau_user(region_code="320000")
    owner = f.enterprise_user(region_code="130700")
    for name in ("张家口风电场一期", "张家口风电场二期", "=cmd|' /C calc'!A0 光伏"):
        approved_project(client, auth, owner, hebei, name=name)
    started = client.post("/api/v1/projects/exports", json={"status": "approved", "sort": "name"},
                          headers=auth(hebei))
    assert started.status_code == 202, started.get_json()
    job = started.get_json()
    assert job["status"] in ("queued", "running", "succeeded") and job["total"] == 3
    _finish()
    done = client.get(f"/api/v1/exports/{job['id']}", headers=auth(hebei)).get_json()
    assert (done["status"], done["rows_written"], done["progress"]) == ("succeeded", 3, 1.0)
    assert done["file_url"] == f"/api/v1/exports/{job['id']}/file"
    response = client.get(done["file_url"], headers=auth(hebei))
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.data)).worksheets[0].iter_rows(min_row=3, values_only=True))
    assert sorted(row[1] for row in rows) == sorted(["张家口风电场一期", "张家口风电场二期", "'=cmd|' /C calc'!A0 光伏"])
    # another bureau: the job and its file do not exist for it; an enterprise may not export
    assert client.get(f"/api/v1/exports/{job['id']}", headers=auth(jiangsu)).status_code == 404
    assert client.get(done["file_url"], headers=auth(jiangsu)).status_code == 404
    assert client.post("/api/v1/projects/exports", json={}, headers=auth(owner)).status_code == 403
    assert client.post("/api/v1/projects/exports", json={"status": "bogus"}, headers=auth(hebei)).status_code == 422


def test_the_file_of_an_unfinished_export_is_a_409(client, auth, f, app_ctx):
    from greenmatch.catalog.models import ExportJob
    from greenmatch.extensions import db

    bureau = f.bureau_user(region_code="130000")
    job = ExportJob(organization_id=bureau.organization_id, requested_by_id=bureau.id, status="running", total=10)
    db.session.add(job)
    db.session.commit()
    assert client.get(f"/api/v1/exports/{job.id}/file", headers=auth(bureau)).status_code == 409
    assert client.get(f"/api/v1/exports/{job.id}", headers=auth(bureau)).get_json()["status"] == "running"
