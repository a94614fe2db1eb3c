"""The scheduler: each due occurrence runs once, even with two scheduler processes."""

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

from apscheduler.triggers.cron import CronTrigger
from conftest import TEST_DATABASE_URL
from sqlalchemy import func, select

from greenmatch import scheduler
from greenmatch.matching.models import JobClaim

CLI = str(Path(sys.executable).parent / "greenmatch")


def test_occurrence_is_the_latest_fire_time():
    trigger = CronTrigger(hour="2", minute="0", timezone="Asia/Shanghai")
    now = dt.datetime(2026, 11, 21, 2, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert scheduler.occurrence(trigger, now) == dt.datetime(2026, 11, 21, 2, 0, tzinfo=now.tzinfo)


def test_an_occurrence_is_claimed_once(app, app_ctx):
    when = dt.datetime(2026, 11, 21, 18, 0, tzinfo=dt.UTC)
    assert scheduler.run_occurrence(app, "expire_engagements", when, "worker-a") is True
    assert scheduler.run_occurrence(app, "expire_engagements", when, "worker-b") is False
    from greenmatch.extensions import db

    claims = db.session.scalars(select(JobClaim)).all()
    assert [(c.job, c.claimed_by, c.status) for c in claims] == [("expire_engagements", "worker-a", "succeeded")]


def test_two_scheduler_processes_run_each_occurrence_once(app, app_ctx, tmp_path):
    env = dict(os.environ, GREENMATCH_DATABASE_URL=TEST_DATABASE_URL, GREENMATCH_INSTANCE_PATH=str(tmp_path),
               GREENMATCH_SCHEDULE='{"expire_engagements": {"second": "*"}}', GREENMATCH_LOG_LEVEL="INFO",
               GREENMATCH_INSTRUMENTS='["green_credit"]')
    procs = [subprocess.Popen([CLI, "scheduler", "run", "--run-for", "6"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=60)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    ran = [re.findall(r"run expire_engagements @ (\S+)", out) for out in outputs]
    skipped = [re.findall(r"skip expire_engagements @ (\S+)", out) for out in outputs]
    all_ran = ran[0] + ran[1]
    assert len(all_ran) >= 3, outputs
    assert len(all_ran) == len(set(all_ran)), "an occurrence ran twice"
    assert skipped[0] or skipped[1], "the second scheduler never competed for an occurrence"
    from greenmatch.extensions import db

    claims = db.session.scalar(select(func.count()).select_from(JobClaim).where(JobClaim.job == "expire_engagements"))
    assert claims == len(all_ran)
