"""Use-of-proceeds reports of financed engagements, and the signals a bureau reads from them.

The institution that financed a project reports per half-year (``YYYY-H1`` / ``YYYY-H2``): the amount disbursed
in the period, what it was spent on, and the CO2 reduction realised. Rules (each a named setting):

* the disbursed total may not exceed the amount financed (422 naming ``disbursed_cny``);
* ``co2_shortfall`` (warning): the realised reduction of a period is below ``PROCEEDS_CO2_SHORTFALL_RATIO`` (default
  0.5, an editors' threshold ⚠) of half the project's claimed annual reduction — seed 002 asks for follow-up of
  claimed environmental benefits after financing;
* ``report_missing`` (warning): a financed engagement older than ``PROCEEDS_REPORT_DUE_DAYS`` (default 200, a
  half-year plus a month) without any report.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from greenmatch.accounts.models import Role, User
from greenmatch.db import utcnow
from greenmatch.errors import Conflict, Forbidden, Invalid
from greenmatch.extensions import db
from greenmatch.text import Msg

from . import notifications
from .engagements import S, get_engagement
from .models import Engagement, EngagementEvent, ProceedsReport


def add_report(actor: User, engagement_id: int, data: Mapping[str, Any]) -> ProceedsReport:
    engagement = get_engagement(actor, engagement_id)  # 404 for those who may not see it
    if actor.role != Role.institution or engagement.institution_id != actor.organization_id:
        raise Forbidden(Msg("Only the institution that financed the project reports on its proceeds"))
    if engagement.status != S.financed:
        raise Conflict(Msg("Only a financed engagement has proceeds to report on"))
    amount = Decimal(str(data["disbursed_cny"]))
    reported = db.session.scalar(select(func.coalesce(func.sum(ProceedsReport.disbursed_cny), 0)).where(
        ProceedsReport.engagement_id == engagement.id)) or Decimal(0)
    if reported + amount > (engagement.financed_amount_cny or Decimal(0)):
        message = Msg("the disbursed total would exceed the amount financed (%(amount)s yuan)",
                         amount=f"{engagement.financed_amount_cny:,.0f}")
        raise Invalid(message, fields={"disbursed_cny": [message]})
    report = ProceedsReport(engagement_id=engagement.id, created_by_id=actor.id, period=data["period"],
                            disbursed_cny=amount, use_of_proceeds=data["use_of_proceeds"].strip(),
                            co2_reduction_t=data.get("co2_reduction_t"))
    db.session.add(report)
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict(Msg("This period has been reported already"),
                       fields={"period": [Msg("already reported")]}) from exc
    return report


def reports(actor: User, engagement_id: int) -> tuple[list[ProceedsReport], list[dict[str, Any]]]:
    """The engagement's reports, oldest first, and the signals they raise."""
    engagement = get_engagement(actor, engagement_id)
    items = list(db.session.scalars(select(ProceedsReport).where(ProceedsReport.engagement_id == engagement.id)
                                    .order_by(ProceedsReport.period, ProceedsReport.id)))
    return items, signals(engagement, items)


def signals(engagement: Engagement, items: list[ProceedsReport],
            now: dt.datetime | None = None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    claimed = float((engagement.project.benefits or {}).get("co2_reduction_t") or 0)
    ratio = float(current_app.config.get("PROCEEDS_CO2_SHORTFALL_RATIO", 0.5))
    for report in items:
        if claimed and report.co2_reduction_t is not None and report.co2_reduction_t < ratio * claimed / 2:
            out.append({"code": "co2_shortfall", "severity": "warning", "period": report.period,
                        "message": Msg("%(period)s: %(real)s t CO2 realised against %(claimed)s t a year claimed",
                                          period=report.period, real=f"{report.co2_reduction_t:,.0f}",
                                          claimed=f"{claimed:,.0f}")})
    if not items and engagement.status == S.financed:
        financed_at = db.session.scalar(select(func.max(EngagementEvent.at)).where(
            EngagementEvent.engagement_id == engagement.id, EngagementEvent.to_status == S.financed))
        due = dt.timedelta(days=int(current_app.config.get("PROCEEDS_REPORT_DUE_DAYS", 200)))
        if financed_at and (now or utcnow()) - financed_at > due:
            out.append({"code": "report_missing", "severity": "warning", "period": None,
                        "message": Msg("no use-of-proceeds report since financing")})
    return out


def last_period(today: dt.date) -> tuple[str, dt.date]:
    """The half-year that ended last (``"2026-H1"``) and its last day."""
    if today.month <= 6:
        return f"{today.year - 1}-H2", dt.date(today.year - 1, 12, 31)
    return f"{today.year}-H1", dt.date(today.year, 6, 30)


def remind_due_reports(today: dt.date | None = None) -> int:
    """Twice a year (Shanghai's 产业绿贷 asks funded projects to report each half-year): every financed
    engagement financed by the end of the half-year just ended and without a report for it gets a reminder
    in its institution's inbox, and its enterprise is told too. Returns the number of engagements reminded."""
    period, period_end = last_period(today or dt.date.today())
    reported = select(ProceedsReport.engagement_id).where(ProceedsReport.period == period)
    due = list(db.session.scalars(select(Engagement).where(
        Engagement.status == S.financed, Engagement.financed_on.is_not(None), Engagement.financed_on <= period_end,
        Engagement.id.not_in(reported))))
    for engagement in due:
        message = Msg("The use-of-proceeds report for %(period)s on “%(project)s” is due",
                      period=period, project=engagement.project.name)
        for organization_id in (engagement.institution_id, engagement.enterprise_id):
            notifications.notify(organization_id, "proceeds_report_due", message,
                                 link=f"/engagements/{engagement.id}", engagement_id=engagement.id, period=period)
    db.session.commit()
    return len(due)


__all__ = ["add_report", "last_period", "remind_due_reports", "reports", "signals"]
