"""The matching package's scheduled jobs, registered with the one scheduler process
(:func:`greenmatch.scheduler.job`): the nightly full re-match, abandoning stale runs, expiry of unanswered
engagement requests, escalation of overdue contacts, half-yearly use-of-proceeds reminders, the weekly
new-leads digest.

Registered when this module is imported (the app factory imports it with the model modules). Each job
runs inside an app context and returns a line for the log and its claim row.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import func, or_, select

from greenmatch import scheduler
from greenmatch.accounts.models import Organization
from greenmatch.catalog.models import Project
from greenmatch.db import utcnow
from greenmatch.extensions import db
from greenmatch.products.models import Product, ProductStatus
from greenmatch.text import Msg

from . import notifications
from .demand import escalate_overdue as escalate
from .engagements import expire_stale
from .models import Match
from .proceeds import remind_due_reports
from .runs import mark_abandoned, start_run
from .service import current_generation


@scheduler.job("nightly_rematch", hour="2", minute="0")
def nightly_rematch() -> str:
    """Only enqueue: the run is executed by a worker (or a thread of this process on the embedded default)."""
    abandoned = mark_abandoned()
    run = start_run(triggered_by="scheduler")
    return f"run {run.id} queued" + (f" ({abandoned} abandoned)" if abandoned else "")


@scheduler.job("expire_engagements", minute="15")
def expire_engagements() -> str:
    return f"expired {expire_stale(current_app.config['ENGAGEMENT_EXPIRY_DAYS'])}"


@scheduler.job("proceeds_reminders", month="1,7", day="15", hour="9", minute="0")
def proceeds_reminders() -> str:
    """Half-yearly use-of-proceeds reports (seed 002 asks for follow-up on the use of proceeds)."""
    return f"reminded {remind_due_reports()} engagements"


@scheduler.job("weekly_digest", day_of_week="mon", hour="8", minute="0")
def weekly_digest() -> str:
    """Tell every verified institution how many new leads its products gained this week: leads whose
    project was approved or whose product was published in the last 7 days (a match row's own
    timestamp says nothing: every re-match writes the rows again)."""
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


@scheduler.job("abandon_stale_runs", minute="*/2")
def abandon_stale_runs() -> str:
    return f"abandoned {mark_abandoned()}"


@scheduler.job("escalate_overdue", minute="30")
def escalate_overdue() -> str:
    """Tell the bureaus over each engagement whose contact deadline (an accepted offer) has passed."""
    return f"escalated {escalate()}"
