"""Engagements: an institution approaches a matched project → the enterprise accepts or declines →
in progress → financed (amount, date: "funds reached") or closed. Unanswered requests expire.

The project's contact is revealed to the institution only once the enterprise has accepted.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flask import has_request_context, request
from sqlalchemy import Select, false, func, select
from sqlalchemy.exc import IntegrityError

from greenmatch import permissions, signals, versioning
from greenmatch.accounts.models import Role, User
from greenmatch.catalog import stats
from greenmatch.catalog.models import Project, ProjectCategory, ProjectStatus
from greenmatch.catalog.policy import contact_grants
from greenmatch.db import utcnow
from greenmatch.errors import Conflict, Invalid
from greenmatch.extensions import db
from greenmatch.permissions import Policy, policy
from greenmatch.states import StateMachine
from greenmatch.text import N_, Amount, Msg

from . import notifications
from .models import OPEN_STATUSES, Engagement, EngagementEvent, EngagementStatus

S = EngagementStatus
OPEN = frozenset(OPEN_STATUSES)
# Statuses after the enterprise said yes: the institution may see the contact.
ACCEPTED_OR_LATER = frozenset({S.accepted, S.in_progress, S.financed, S.closed})
# action -> (from statuses, to status)
TRANSITIONS = StateMachine("engagement", {
    "accept": (frozenset({S.requested}), S.accepted),
    "decline": (frozenset({S.requested}), S.declined),
    "in_progress": (frozenset({S.accepted}), S.in_progress),
    "financed": (frozenset({S.accepted, S.in_progress}), S.financed),
    "closed": (frozenset({S.accepted, S.in_progress}), S.closed),
    "expire": (frozenset({S.requested}), S.expired),
})
ENTERPRISE_ACTIONS = frozenset({"accept", "decline"})
INSTITUTION_ACTIONS = frozenset({"in_progress", "financed", "closed"})


@policy(Engagement)
class EngagementPolicy(Policy):
    """Each side sees its own engagements; a bureau those of projects in its jurisdiction; admins all."""

    def scope(self, stmt: Select, actor: User | None, purpose: str = "view") -> Select:
        if actor is None:
            return stmt.where(false())
        if actor.role == Role.admin:
            return stmt
        if actor.role == Role.institution:
            return stmt.where(Engagement.institution_id == actor.organization_id)
        if actor.role == Role.enterprise:
            return stmt.where(Engagement.enterprise_id == permissions.acting_org_id(actor))
        if actor.role == Role.bureau and purpose == "view":
            return stmt.where(Engagement.project.has(Project.in_region(actor.organization.region_code)))
        return stmt.where(false())

    def can(self, actor: User | None, action: str, obj: Engagement) -> bool:
        if actor is None:
            return False
        if action in ENTERPRISE_ACTIONS:
            return actor.role == Role.enterprise and obj.enterprise_id == permissions.acting_org_id(actor)
        if action in INSTITUTION_ACTIONS:
            return actor.role == Role.institution and obj.institution_id == actor.organization_id
        return False


def _accepted_engagement_grants_contact(actor: User, project: Project) -> bool:
    if actor.role != Role.institution:
        return False
    granted = select(Engagement.project_id).where(Engagement.institution_id == actor.organization_id,
                                                  Engagement.status.in_(list(ACCEPTED_OR_LATER)))
    if not has_request_context():
        return db.session.scalar(granted.where(Engagement.project_id == project.id).limit(1)) is not None
    # a page lists many projects: the institution's granted projects are read once per request (kept in
    # the request itself: flask.g may outlive it when an application context was pushed around requests)
    cache = request.environ.setdefault("greenmatch.contact_granted_projects", {})
    if actor.organization_id not in cache:
        cache[actor.organization_id] = frozenset(db.session.scalars(granted))
    return project.id in cache[actor.organization_id]


contact_grants.append(_accepted_engagement_grants_contact)


# -- statistics: funds reached, and the instrument view of the pipeline ------------------------------
def _financed_in_scope(scope: stats.StatsScope) -> float:
    return float(db.session.scalar(select(func.coalesce(func.sum(Engagement.financed_amount_cny), 0)).where(
        Engagement.status == S.financed, Engagement.project_id.in_(scope.project_ids))) or 0)


stats.financed_providers.append(_financed_in_scope)


@stats.stats_section("engagements_by_instrument")
def _by_instrument(scope: stats.StatsScope) -> list[dict[str, Any]]:
    """Per instrument: engagements by status and the amount financed (for projects in scope)."""
    from greenmatch.products.models import Product

    rows = db.session.execute(
        select(Product.instrument, Engagement.status, func.count(),
               func.coalesce(func.sum(Engagement.financed_amount_cny), 0))
        .join(Product, Product.id == Engagement.product_id)
        .where(Engagement.project_id.in_(scope.project_ids))
        .group_by(Product.instrument, Engagement.status)).all()
    out: dict[str, dict[str, Any]] = {}
    for instrument, status, count, amount in rows:
        entry = out.setdefault(instrument, {"instrument": instrument, "engagements": {}, "financed_cny": 0.0})
        entry["engagements"][status] = count
        if status == S.financed:
            entry["financed_cny"] += float(amount)
    return sorted(out.values(), key=lambda e: e["instrument"])


@stats.stats_section("financed_split")
def financed_split(scope: stats.StatsScope) -> dict[str, dict[str, float]]:
    """Funds reached in scope, split like the need: by level-1 area, prefecture, instrument and month."""
    from greenmatch.products.models import Product

    rows = db.session.execute(
        select(Engagement.project_id, Engagement.financed_amount_cny, Engagement.financed_on, Project.region_code,
               Product.instrument)
        .join(Project, Project.id == Engagement.project_id).join(Product, Product.id == Engagement.product_id)
        .where(Engagement.status == S.financed, Engagement.project_id.in_(scope.project_ids))).all()
    areas: dict[int, set[str]] = defaultdict(set)
    ids = {row.project_id for row in rows}
    if ids:
        for project_id, code in db.session.execute(
                select(ProjectCategory.project_id, ProjectCategory.code)
                .where(ProjectCategory.project_id.in_(ids), ProjectCategory.effective.is_(True))):
            areas[project_id].add(code.split(".")[0])
    out: dict[str, dict[str, float]] = {"by_category": defaultdict(float), "by_region": defaultdict(float),
                                        "by_instrument": defaultdict(float), "by_month": defaultdict(float)}
    for row in rows:
        amount = float(row.financed_amount_cny or 0)
        for area in areas.get(row.project_id, ()):
            out["by_category"][area] += amount
        out["by_region"][f"{row.region_code[:4]}00"] += amount
        out["by_instrument"][row.instrument] += amount
        if row.financed_on is not None:
            out["by_month"][f"{row.financed_on:%Y-%m}"] += amount
    return {name: dict(values) for name, values in out.items()}



def open_engagement(project_id: int, product_id: int) -> int | None:
    """The id of the open engagement about this project and product, if any."""
    return db.session.scalar(select(Engagement.id).where(
        Engagement.project_id == project_id, Engagement.product_id == product_id, Engagement.status.in_(list(OPEN))))


def _already_open(engagement_id: int | None) -> Conflict:
    return Conflict(f"An engagement for this project and product is already open (#{engagement_id})",
                    fields={"match_id": [Msg("You already have an open engagement for this project and product.")]})


def request_engagement(actor: User, match_id: int, message: str) -> Engagement:
    from .queries import get_match

    permissions.check_verified_institution(actor)
    match = get_match(actor, match_id)
    if match.project.status != ProjectStatus.approved:
        raise Conflict(Msg("The project is no longer in the approved catalogue."))
    open_one = open_engagement(match.project_id, match.product_id)
    if open_one is not None:
        raise _already_open(open_one)
    engagement = Engagement(project_id=match.project_id, product_id=match.product_id,
                            institution_id=actor.organization_id, enterprise_id=match.project.enterprise_id,
                            requested_by_id=actor.id, match_score=match.score, message=message,
                            status=S.requested)
    db.session.add(engagement)
    try:
        db.session.flush()
    except IntegrityError as exc:  # a concurrent request opened one first (uq_engagements_open_pair)
        db.session.rollback()
        raise _already_open(open_engagement(match.project_id, match.product_id)) from exc
    _event(engagement, actor, None, S.requested, message)
    _notify(engagement, engagement.enterprise_id, "engagement_requested",
            Msg("%(institution)s would like to discuss “%(project)s” (%(product)s)",
                institution=actor.organization.name, project=match.project.name, product=match.product.name))
    db.session.commit()
    return engagement


def get_engagement(actor: User | None, engagement_id: int) -> Engagement:
    return permissions.get_visible(Engagement, engagement_id, actor)


def listing(actor: User, args: Mapping[str, Any]) -> Select:
    stmt = permissions.visible(Engagement, actor)
    if args.get("status"):
        stmt = stmt.where(Engagement.status == args["status"])
    if args.get("project_id"):
        stmt = stmt.where(Engagement.project_id == args["project_id"])
    if args.get("overdue"):
        stmt = stmt.where(Engagement.status == S.accepted, Engagement.due_at < utcnow())
    return stmt.order_by(Engagement.updated_at.desc(), Engagement.id.desc())


def check_move(actor: User, engagement_id: int, offered: frozenset[str], wanted: object = None) -> Engagement:
    """Before the request body is validated: the engagement is visible (404), the caller may take the
    operation's actions on it (403) and one of them — ``wanted`` when the body names one — may start from
    its status (409, e.g. a ``requested`` engagement marked ``financed``)."""
    engagement = get_engagement(actor, engagement_id)
    actions = TRANSITIONS.requested(wanted, offered)
    permissions.authorize(actor, actions[0], engagement)
    TRANSITIONS.check(engagement.status, actions)
    return engagement


def respond(actor: User, engagement_id: int, action: str, note: str | None = None) -> Engagement:
    """The project owner accepts or declines a request."""
    engagement = get_engagement(actor, engagement_id)
    permissions.authorize(actor, action, engagement)
    previous = _move(engagement, actor, action, note)
    engagement.response_note = note
    engagement.responded_at = utcnow()
    text = N_("%(enterprise)s accepted your request about “%(project)s”") if action == "accept" \
        else N_("%(enterprise)s declined your request about “%(project)s”")
    _notify(engagement, engagement.institution_id, f"engagement_{engagement.status}",
            Msg(text, enterprise=engagement.enterprise.name, project=engagement.project.name))
    return _commit(engagement, previous)


def update_progress(actor: User, engagement_id: int, data: Mapping[str, Any]) -> Engagement:
    """The institution records progress: in progress, financed (amount and date) or closed."""
    engagement = get_engagement(actor, engagement_id)
    action = data["status"]
    permissions.authorize(actor, action, engagement)
    versioning.check_version(engagement, data.get("version"))
    if action == "financed":
        amount, on = data.get("financed_amount_cny"), data.get("financed_on")
        errors = {}
        if amount is None:
            errors["financed_amount_cny"] = [Msg("Required when recording financing.")]
        elif amount > float(engagement.project.total_investment_cny):
            errors["financed_amount_cny"] = [Msg("Exceeds the project's total investment.")]
        if on is None:
            errors["financed_on"] = [Msg("Required when recording financing.")]
        elif on > dt.date.today():
            errors["financed_on"] = [Msg("Must not be in the future.")]
        if errors:
            raise Invalid.of(errors)
        engagement.financed_amount_cny = Decimal(str(amount))
        engagement.financed_on = on
    previous = _move(engagement, actor, action, data.get("note"))
    if action == "financed":
        _notify(engagement, engagement.enterprise_id, "engagement_financed",
                Msg("“%(project)s” financed by %(institution)s: %(amount)s", project=engagement.project.name,
                    institution=engagement.institution.name,
                    amount=Amount(float(engagement.financed_amount_cny), compact=True)))
    return _commit(engagement, previous)


def expire_stale(days: int, now: dt.datetime | None = None) -> int:
    """Expire requests unanswered for ``days`` days (scheduled job; idempotent)."""
    cutoff = (now or utcnow()) - dt.timedelta(days=days)
    stale = list(db.session.scalars(select(Engagement).where(Engagement.status == S.requested,
                                                             Engagement.created_at < cutoff)))
    for engagement in stale:
        previous = _move(engagement, None, "expire", None)  # the status and the inbox message say why
        _notify(engagement, engagement.institution_id, "engagement_expired",
                Msg("Your request about “%(project)s” expired after %(days)s days without an answer",
                    project=engagement.project.name, days=days))
        _commit(engagement, previous)
    return len(stale)


def history(actor: User, engagement_id: int) -> list[EngagementEvent]:
    engagement = get_engagement(actor, engagement_id)
    return list(db.session.scalars(select(EngagementEvent).where(EngagementEvent.engagement_id == engagement.id)
                                   .order_by(EngagementEvent.at, EngagementEvent.id)))


def financed_total() -> float:
    """Funds reached: the sum financed, platform-wide (a scope's share: the stats section)."""
    return float(db.session.scalar(select(func.coalesce(func.sum(Engagement.financed_amount_cny), 0)).where(
        Engagement.status == S.financed)) or 0)


def _notify(engagement: Engagement, organization_id: int, kind: str, message: Msg) -> None:
    """An inbox entry about the engagement, linking to its page."""
    notifications.notify(organization_id, kind, message, link=f"/engagements/{engagement.id}",
                         engagement_id=engagement.id)


def _move(engagement: Engagement, actor: User | None, action: str, note: str | None) -> str:
    target = TRANSITIONS.target(engagement.status, action)
    previous = engagement.status
    _event(engagement, actor, previous, target, note)
    engagement.status = target
    return previous


def _event(engagement: Engagement, actor: User | None, from_status: str | None, to_status: str,
           note: str | None) -> None:
    db.session.add(EngagementEvent(engagement_id=engagement.id, actor_id=actor.id if actor else None,
                                   from_status=from_status, to_status=to_status, note=note))


def _commit(engagement: Engagement, previous: str) -> Engagement:
    versioning.commit(engagement)
    signals.engagement_changed.send(engagement, previous=previous)
    return engagement


__all__ = ["request_engagement", "check_move", "respond", "update_progress", "expire_stale", "listing",
           "get_engagement",
           "history", "financed_total"]
