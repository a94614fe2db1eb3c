"""The one scheduler process (``greenmatch scheduler run``): runs the jobs the packages register with
:func:`job` (matching registers the nightly full re-match, expiry of unanswered engagement requests, the
weekly new-leads digest ... in ``greenmatch.matching.scheduled``).

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
from flask import Flask
from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from .db import Base, UTCDateTime, utcnow
from .extensions import db

log = logging.getLogger(__name__)
MISFIRE_GRACE_SECONDS = 3600

#: name -> the job: called inside an app context, returns a line for the log and the claim row
JOBS: dict[str, Callable[[], str]] = {}
#: name -> its default cron fields (the ``SCHEDULE`` setting overrides them per job)
DEFAULT_SCHEDULE: dict[str, dict[str, Any]] = {}


def job(name: str, **cron: str) -> Callable[[Callable[[], str]], Callable[[], str]]:
    """Register a scheduled job under ``name`` with its default cron fields, e.g.
    ``@scheduler.job("weekly_digest", day_of_week="mon", hour="8", minute="0")``.

    The scheduler knows no job of its own: the packages that own the work register theirs when they are
    imported (``greenmatch.matching.scheduled``; the app factory imports it), which keeps the core free of
    upward imports."""

    def register(fn: Callable[[], str]) -> Callable[[], str]:
        JOBS[name] = fn
        DEFAULT_SCHEDULE[name] = dict(cron)
        return fn

    return register


class JobClaim(Base):
    """A scheduled job occurrence, claimed before it runs: the unique (job, scheduled_for) makes each
    occurrence run once even if two scheduler processes are started by mistake."""

    __tablename__ = "job_claims"
    __table_args__ = (UniqueConstraint("job", "scheduled_for", name="uq_job_claims_job_scheduled_for"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(60))
    scheduled_for: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str] = mapped_column(String(120))
    claimed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20), default="running")
    detail: Mapped[str | None] = mapped_column(Text)


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
