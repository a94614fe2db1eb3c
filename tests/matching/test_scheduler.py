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
from greenmatch.matching import scheduled
from greenmatch.scheduler import JobClaim
from support.flows import approved_project, published_product

CLI = str(Path(sys.executable).parent / "greenmatch")


def test_occurrence_is_the_latest_fire_time():
    trigger = CronTrigger(hour="2", minute="0", timezone="Asia/Shanghai")
    now = dt.datetime(2026, 11, 21, 2, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert scheduler.occurrence(trigger, now) == dt.datetime(2026, 11, 21, 2, 0, tzinfo=now.tzinfo)


def test_the_packages_register_their_jobs_with_the_core_scheduler(app):
    """The scheduler knows no job of its own; matching registers its six (greenmatch.matching.scheduled)."""
    assert list(scheduler.JOBS) == ["nightly_rematch", "expire_engagements", "proceeds_reminders", "weekly_digest",
                                    "abandon_stale_runs", "escalate_overdue"]
    assert scheduler.JOBS["weekly_digest"] is scheduled.weekly_digest
    assert scheduler.DEFAULT_SCHEDULE["weekly_digest"] == {"day_of_week": "mon", "hour": "8", "minute": "0"}
    assert set(scheduler.triggers(app)) == set(scheduler.JOBS)


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


def test_the_weekly_digest_counts_the_leads_that_are_new_this_week(client, auth, f, app_ctx):
    from greenmatch.catalog.models import Project
    from greenmatch.db import utcnow
    from greenmatch.extensions import db
    from greenmatch.products.models import Product

    owner, bureau = f.enterprise_user(region_code="130700"), f.bureau_user(region_code="130000")
    bank = f.institution_user(region_code="130000", name="河北银行")
    product = published_product(client, auth, bank, instrument="green_credit", name="绿色贷", params={})
    old = approved_project(client, auth, owner, bureau)
    approved_project(client, auth, owner, bureau, name="承德风电场", region_code="130800", categories=["4.2.1"],
                     industry_code="4415")
    assert client.get("/api/v1/leads", headers=auth(bank)).get_json()["total"] == 2
    weeks_ago = utcnow() - dt.timedelta(days=10)
    db.session.get(Project, old).decided_at = weeks_ago  # approved, and the product published, before this week
    db.session.get(Product, product).published_at = weeks_ago
    db.session.commit()
    scheduled.weekly_digest()
    inbox = client.get("/api/v1/notifications?lang=en", headers=auth(bank)).get_json()["items"]
    assert [n["title"] for n in inbox if n["kind"] == "weekly_digest"] == ["1 new project leads this week"]
