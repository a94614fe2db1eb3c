"""The one scheduler process (``greenmatch scheduler run``): nightly full re-match, expiry of
unanswered engagement requests, the weekly new-leads digest.

Web workers never start a scheduler (APScheduler would run every job once per worker). Each job
occurrence is *claimed* in the database before it runs — a row with the unique pair
(job, scheduled_for) — so an occurrence runs exactly once even if two scheduler processes are
started by mistake; the loser logs that it skipped. Timezone Asia/Shanghai; ``coalesce=True``
and ``max_instances=1`` so a backlog runs once, never concurrently.

Schedules are cron fields, overridable per job with the ``SCHEDULE`` setting, e.g.
``GREENMATCH_SCHEDULE='{"expire_engagements": {"minute": "*/5"}}'``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import socket
import time
from collections.abc import Callable
from typing import Any

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from flask import Flask, current_app
from sqlalchemy.exc import IntegrityError

from .db import utcnow
from .extensions import db
from .text import Msg

log = logging.getLogger(__name__)
MISFIRE_GRACE_SECONDS = 3600

DEFAULT_SCHEDULE: dict[str, dict[str, Any]] = {
    "nightly_rematch": {"hour": "2", "minute": "0"},
    "expire_engagements": {"minute": "15"},
    "weekly_digest": {"day_of_week": "mon", "hour": "8", "minute": "0"},
    "abandon_stale_runs": {"minute": "*/2"},
    "escalate_overdue": {"minute": "30"},
}


def nightly_rematch() -> str:
    """Only enqueue: the run is executed by a worker (or a thread of this process on the embedded default)."""
    from greenmatch.matching.runs import mark_abandoned, start_run

    abandoned = mark_abandoned()
    run = start_run(triggered_by="scheduler")
    return f"run {run.id} queued" + (f" ({abandoned} abandoned)" if abandoned else "")


def abandon_stale_runs() -> str:
    from greenmatch.matching.runs import mark_abandoned

    return f"abandoned {mark_abandoned()}"


def expire_engagements() -> str:
    from greenmatch.matching.engagements import expire_stale

    return f"expired {expire_stale(current_app.config['ENGAGEMENT_EXPIRY_DAYS'])}"


def escalate_overdue() -> str:
    """Tell the bureaus over each engagement whose contact deadline (an accepted offer) has passed."""
    from greenmatch.matching.demand import escalate_overdue as escalate

    return f"escalated {escalate()}"


def weekly_digest() -> str:
    """Tell every verified institution how many new leads its products gained this week: leads whose
    project was approved or whose product was published in the last 7 days (a match row's own
    timestamp says nothing: every re-match writes the rows again)."""
    from sqlalchemy import func, or_, select

    from greenmatch.accounts.models import Organization
    from greenmatch.catalog.models import Project
    from greenmatch.matching import notifications
    from greenmatch.matching.models import Match
    from greenmatch.matching.service import current_generation
    from greenmatch.products.models import Product, ProductStatus

    since = utcnow() - dt.timedelta(days=7)
    counts = db.session.execute(
        select(Match.institution_id, func.count())
        .join(Project, Project.id == Match.project_id).join(Product, Product.id == Match.product_id)
        .join(Organization, Organization.id == Match.institution_id)
        .where(Match.generation == current_generation(), Match.for_product.is_(True), Organization.verified.is_(True),
               Product.status == ProductStatus.published,
               or_(Project.decided_at >= since, Product.published_at >= since))
        .group_by(Match.institution_id)).all()
    for institution_id, count in counts:
        notifications.notify(institution_id, "weekly_digest",
                             Msg("%(count)s new project leads this week", count=count), link="/leads")
    db.session.commit()
    return f"digests for {len(counts)} institutions"


JOBS: dict[str, Callable[[], str]] = {
    "nightly_rematch": nightly_rematch,
    "expire_engagements": expire_engagements,
    "weekly_digest": weekly_digest,
    "abandon_stale_runs": abandon_stale_runs,
    "escalate_overdue": escalate_overdue,
}


def triggers(app: Flask) -> dict[str, CronTrigger]:
    tz = app.config["SCHEDULER_TIMEZONE"]
    schedule = {**DEFAULT_SCHEDULE, **(app.config.get("SCHEDULE") or {})}
    return {name: CronTrigger(timezone=tz, **schedule[name]) for name in JOBS}


def occurrence(trigger: CronTrigger, now: dt.datetime) -> dt.datetime | None:
    """The scheduled time of the occurrence due at ``now`` (the latest fire time not after it)."""
    fire = trigger.get_next_fire_time(None, now - dt.timedelta(seconds=MISFIRE_GRACE_SECONDS))
    latest = None
    while fire is not None and fire <= now:
        latest = fire
        fire = trigger.get_next_fire_time(fire, fire + dt.timedelta(microseconds=1))
    return latest


def claim(job: str, scheduled_for: dt.datetime, worker: str) -> int | None:
    """Claim one occurrence; None if another process already has it."""
    from greenmatch.matching.models import JobClaim

    row = JobClaim(job=job, scheduled_for=scheduled_for.astimezone(dt.UTC), claimed_by=worker)
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    return row.id


def run_occurrence(app: Flask, job: str, scheduled_for: dt.datetime, worker: str) -> bool:
    """Run ``job`` for ``scheduled_for`` unless already claimed. Returns whether it ran here."""
    from greenmatch.matching.models import JobClaim

    with app.app_context():
        claim_id = claim(job, scheduled_for, worker)
        if claim_id is None:
            log.info("skip %s @ %s: claimed by another scheduler", job, scheduled_for.isoformat())
            return False
        log.info("run %s @ %s", job, scheduled_for.isoformat())
        status, detail = "succeeded", None
        try:
            detail = JOBS[job]()
        except Exception as exc:  # a failing job is recorded; the scheduler keeps going
            db.session.rollback()
            status, detail = "failed", f"{type(exc).__name__}: {exc}"
            log.exception("job %s @ %s failed", job, scheduled_for.isoformat())
        row = db.session.get(JobClaim, claim_id)
        row.status, row.detail, row.finished_at = status, (detail or "")[:2000], utcnow()
        db.session.commit()
        return status == "succeeded"


def build_scheduler(app: Flask, worker: str | None = None) -> BlockingScheduler:
    worker = worker or f"{socket.gethostname()}:{os.getpid()}"
    scheduler = BlockingScheduler(timezone=app.config["SCHEDULER_TIMEZONE"],
                                  job_defaults={"coalesce": True, "max_instances": 1,
                                                "misfire_grace_time": MISFIRE_GRACE_SECONDS})
    for name, trigger in triggers(app).items():
        def fire(name: str = name, trigger: CronTrigger = trigger) -> None:
            scheduled_for = occurrence(trigger, dt.datetime.now(dt.UTC)) or dt.datetime.now(dt.UTC)
            run_occurrence(app, name, scheduled_for, worker)

        scheduler.add_job(fire, trigger, id=name, name=name, replace_existing=True)
    return scheduler


def run(app: Flask, run_for: float | None = None) -> None:
    """Run the schedule until interrupted (or for ``run_for`` seconds, for smoke tests)."""
    scheduler = build_scheduler(app)
    if run_for is not None:
        scheduler.add_job(scheduler.shutdown, "date", run_date=dt.datetime.now(dt.UTC)
                          + dt.timedelta(seconds=run_for), kwargs={"wait": False}, id="_stop")
    log.info("scheduler started with jobs: %s", ", ".join(JOBS))
    started = time.monotonic()
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        try:
            scheduler.start()
        except JobLookupError:
            # the timed stop ran in an executor thread and emptied the job store while the main loop was
            # still rescheduling a job it had just fired: nothing is lost, the scheduler is stopping
            if scheduler.running:
                raise
    log.info("scheduler stopped after %.0f s", time.monotonic() - started)
