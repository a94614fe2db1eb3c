"""HTTP API of matching: runs, a project's matches, institutions' leads, engagements, notifications."""

from __future__ import annotations

from typing import Any

from greenmatch import permissions
from greenmatch.accounts.models import Role
from greenmatch.api import Blueprint, PageArgsSchema, locale, page_of, paginate
from greenmatch.catalog.service import contact_for, present
from greenmatch.extensions import db

from . import demand, engagements, notifications, queries, runs
from .models import Engagement, Match
from .schemas import (
    EngagementInSchema,
    EngagementPatchSchema,
    EngagementQuerySchema,
    EngagementSchema,
    EventListSchema,
    LeadItemSchema,
    LeadQuerySchema,
    MatchItemSchema,
    NotificationQuerySchema,
    NotificationSchema,
    ReadCountSchema,
    RespondSchema,
    RunListSchema,
    RunSchema,
)

blp = Blueprint("matching", __name__, url_prefix="/api/v1", description="Matching, leads, engagements, inbox")


def _match_item(match: Match) -> dict[str, Any]:
    return {"match_id": match.id, "score": match.score, "product": match.product, **queries.localized(match, locale())}


@blp.route("/matching/runs", methods=["POST"])
@blp.requires(Role.admin)
@blp.response(202, RunSchema)
@blp.errors(401, 403, 409)
def start_run():
    """Queue a full re-match (admin): 202 with the run to poll at ``GET /matching/runs/{id}``; it is
    executed outside the request (a ``greenmatch worker``, or a thread on the embedded default).
    409 while another full run is queued or running; a run whose worker died is marked
    ``abandoned`` once its lease expires and blocks nothing."""
    actor = permissions.require_role(Role.admin)
    return runs.start_run(triggered_by=f"user:{actor.id}")


@blp.route("/matching/runs/<int:run_id>")
@blp.requires(Role.admin)
@blp.response(200, RunSchema)
@blp.errors(401, 403, 404)
def get_run(run_id: int):
    """One run (admin): ``status`` queued | running | succeeded | failed | abandoned, ``progress`` 0-1."""
    permissions.require_role(Role.admin)
    return runs.get_run(run_id)


@blp.route("/matching/runs")
@blp.requires(Role.admin)
@blp.response(200, RunListSchema)
@blp.errors(401, 403)
def list_runs():
    """The latest matching runs (admin)."""
    permissions.require_role(Role.admin)
    return {"items": runs.recent_runs()}


@blp.route("/projects/<int:project_id>/matches")
@blp.requires(Role.enterprise, Role.bureau, Role.admin)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_of(MatchItemSchema))
@blp.errors(401, 403, 404, 422)
def project_matches(args, project_id: int):
    """Products matched to the project, best first, with reasons and explanation paths
    (owner, its bureau, admins)."""
    actor = permissions.require_user()  # the catalogue is public, its matches are not: anonymous is 401
    page = paginate(db.session, queries.project_matches(actor, project_id), args["page"], args["per_page"])
    page["items"] = [_match_item(m) for m in page["items"]]
    return page


@blp.route("/leads")
@blp.requires(Role.institution, verified=True)
@blp.arguments(LeadQuerySchema, location="query")
@blp.response(200, page_of(LeadItemSchema))
@blp.errors(401, 403, 422)
def leads(args):
    """The verified institution's leads: approved projects matched to its published products, best first."""
    actor = permissions.require_user()
    page = paginate(db.session, queries.leads(actor, args), args["page"], args["per_page"],
                    total=queries.leads_total(actor, args))
    requests = demand.open_requests_by_project([m.project_id for m in page["items"]])
    page["items"] = [{**_match_item(m), "project": present(m.project, actor),
                      "financing_request": requests.get(m.project_id)} for m in page["items"]]
    return page


ENGAGEMENT_FIELDS = tuple(EngagementSchema().fields)


def _engagement(engagement: Engagement, actor) -> dict[str, Any]:
    data = {k: getattr(engagement, k) for k in ENGAGEMENT_FIELDS if hasattr(engagement, k)}
    contact = contact_for(actor, engagement.project)
    if contact is not None:  # absent, not null, for those who may not see it
        data["contact"] = contact
    return data


@blp.route("/engagements", methods=["POST"])
@blp.requires(Role.institution, verified=True)
@blp.arguments(EngagementInSchema)
@blp.response(201, EngagementSchema)
@blp.errors(400, 401, 403, 404, 409, 422)
def request_engagement(data):
    """Ask to engage with a matched project (verified institution, through one of its products)."""
    actor = permissions.require_user()
    return _engagement(engagements.request_engagement(actor, data["match_id"], data["message"]), actor)


@blp.route("/engagements")
@blp.arguments(EngagementQuerySchema, location="query")
@blp.response(200, page_of(EngagementSchema))
@blp.errors(401, 422)
def list_engagements(args):
    """The caller's side of each engagement."""
    actor = permissions.require_user()
    page = paginate(db.session, engagements.listing(actor, args), args["page"], args["per_page"])
    page["items"] = [_engagement(e, actor) for e in page["items"]]
    return page


@blp.route("/engagements/<int:engagement_id>")
@blp.response(200, EngagementSchema)
@blp.errors(401, 404)
def get_engagement(engagement_id: int):
    """One engagement of the caller's side; the contact only after the enterprise accepted."""
    actor = permissions.require_user()
    return _engagement(engagements.get_engagement(actor, engagement_id), actor)


@blp.route("/engagements/<int:engagement_id>/accept", methods=["POST"])
@blp.requires(Role.enterprise)
@blp.body(RespondSchema, required=False)
@blp.response(200, EngagementSchema)
@blp.errors(401, 403, 404, 409, 422)
def accept(body, engagement_id: int):
    """Accept an institution's request (project owner): the institution sees the contact."""
    return _respond(body, engagement_id, "accept")


@blp.route("/engagements/<int:engagement_id>/decline", methods=["POST"])
@blp.requires(Role.enterprise)
@blp.body(RespondSchema, required=False)
@blp.response(200, EngagementSchema)
@blp.errors(401, 403, 404, 409, 422)
def decline(body, engagement_id: int):
    """Decline an institution's request (project owner)."""
    return _respond(body, engagement_id, "decline")


def _respond(body, engagement_id: int, action: str) -> dict[str, Any]:
    actor = permissions.require_user()
    engagements.check_move(actor, engagement_id, frozenset({action}))  # 404, 403, 409 before the body's 422
    note = (body.load() or {}).get("note")
    return _engagement(engagements.respond(actor, engagement_id, action, note), actor)


@blp.route("/engagements/<int:engagement_id>", methods=["PATCH"])
@blp.requires(Role.institution)
@blp.body(EngagementPatchSchema)
@blp.response(200, EngagementSchema)
@blp.errors(400, 401, 403, 404, 409, 422)
def update_engagement(body, engagement_id: int):
    """Record progress (institution): in progress, financed with amount and date, or closed. A move the
    engagement's status does not allow (a `requested` one marked `financed`) is 409 whatever the body says."""
    actor = permissions.require_user()
    engagements.check_move(actor, engagement_id, engagements.INSTITUTION_ACTIONS, body.peek("status"))
    return _engagement(engagements.update_progress(actor, engagement_id, body.load()), actor)


@blp.route("/engagements/<int:engagement_id>/history")
@blp.response(200, EventListSchema)
@blp.errors(401, 404)
def engagement_history(engagement_id: int):
    """Every status change of the engagement."""
    return {"items": engagements.history(permissions.require_user(), engagement_id)}


@blp.route("/notifications")
@blp.arguments(NotificationQuerySchema, location="query")
@blp.response(200, page_of(NotificationSchema))
@blp.errors(401, 422)
def inbox(args):
    """The caller's organisation's inbox, newest first."""
    actor = permissions.require_user()
    page = paginate(db.session, notifications.inbox(actor, args["unread"]), args["page"], args["per_page"])
    page["items"] = [{**{k: getattr(n, k) for k in ("id", "kind", "link", "data", "created_at", "read_at")},
                      "title": notifications.title(n)} for n in page["items"]]
    return page


@blp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@blp.response(200, ReadCountSchema)
@blp.errors(401, 404)
def read_one(notification_id: int):
    """Mark one notification read."""
    return {"marked": notifications.mark_read(permissions.require_user(), notification_id)}


@blp.route("/notifications/read-all", methods=["POST"])
@blp.response(200, ReadCountSchema)
@blp.errors(401)
def read_all():
    """Mark every notification of the caller's organisation read."""
    return {"marked": notifications.mark_read(permissions.require_user())}
