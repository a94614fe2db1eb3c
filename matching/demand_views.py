"""HTTP API of the demand side: financing requests, offers, accepting an offer (api.md §5 "Demand side")."""

from __future__ import annotations

from flask import request

from greenmatch import permissions
from greenmatch.accounts.models import Role
from greenmatch.api import Blueprint, page_of, paginate
from greenmatch.catalog.schemas import VersionSchema
from greenmatch.extensions import db

from . import demand, engagements, proceeds
from .demand_schemas import (
    FinancingRequestInSchema,
    FinancingRequestQuerySchema,
    FinancingRequestSchema,
    OfferInSchema,
    OfferSchema,
    ProceedsReportInSchema,
    ProceedsReportSchema,
    ProceedsReportsSchema,
)
from .schemas import EngagementSchema
from .views import _engagement

blp = Blueprint("demand", __name__, url_prefix="/api/v1", description="Financing requests and competing offers")


@blp.route("/financing-requests", methods=["POST"])
@blp.requires(Role.enterprise)
@blp.arguments(FinancingRequestInSchema)
@blp.response(201, FinancingRequestSchema)
@blp.errors(400, 401, 403, 404, 409, 422)
def create_request(data):
    """Ask for offers on an approved project (its enterprise). Institutions whose published products match
    the project are told; the first ``max_offers`` (default 3) may offer."""
    actor = permissions.require_user()
    return demand.create_request(actor, data)


@blp.route("/financing-requests")
@blp.arguments(FinancingRequestQuerySchema, location="query")
@blp.response(200, page_of(FinancingRequestSchema))
@blp.errors(401, 422)
def list_requests(args):
    """The caller's side: an enterprise its own requests, an institution those open to it, a bureau those
    of its jurisdiction, an admin all."""
    actor = permissions.require_user()
    return paginate(db.session, demand.listing(actor, args), args["page"], args["per_page"])


@blp.route("/financing-requests/<int:request_id>")
@blp.response(200, FinancingRequestSchema)
@blp.errors(401, 404)
def get_request(request_id: int):
    """One financing request."""
    return demand.get_request(permissions.require_user(), request_id)


@blp.route("/financing-requests/<int:request_id>/close", methods=["POST"])
@blp.requires(Role.enterprise)
@blp.body(VersionSchema, required=False)
@blp.response(200, FinancingRequestSchema)
@blp.errors(401, 403, 404, 409, 422)
def close_request(body, request_id: int):
    """Withdraw the request (its enterprise): submitted offers are declined with notice."""
    actor = permissions.require_user()
    demand.get_request(actor, request_id)  # visibility (404) before the body (422)
    data = body.load() if request.get_data() else {}
    return demand.close_request(actor, request_id, data.get("version"))


@blp.route("/financing-requests/<int:request_id>/offers", methods=["POST"])
@blp.requires(Role.institution, verified=True)
@blp.body(OfferInSchema)
@blp.response(201, OfferSchema)
@blp.errors(400, 401, 403, 404, 409, 422)
def make_offer(body, request_id: int):
    """Offer on a request (verified institution, through one of its published products). 409 once the
    request has ``max_offers`` offers, is past its closing date or settled, or this institution offered."""
    actor = permissions.require_user()
    demand.get_request(actor, request_id)  # visibility (404) before the body (422)
    return demand.make_offer(actor, request_id, body.load())


@blp.route("/financing-requests/<int:request_id>/offers")
@blp.response(200, page_of(OfferSchema))
@blp.errors(401, 404)
def list_offers(request_id: int):
    """The request's offers, cheapest first (the enterprise sees all; an institution its own)."""
    actor = permissions.require_user()
    items = list(db.session.scalars(demand.offers_of(actor, request_id)))
    return {"items": items, "total": len(items), "page": 1, "per_page": max(len(items), 1)}


@blp.route("/offers/<int:offer_id>/accept", methods=["POST"])
@blp.requires(Role.enterprise)
@blp.response(200, EngagementSchema)
@blp.errors(401, 403, 404, 409)
def accept_offer(offer_id: int):
    """Accept one offer (the request's enterprise): an ``accepted`` engagement with a ``due_at`` contact
    deadline; the other offers are declined."""
    actor = permissions.require_user()
    return _engagement(demand.accept_offer(actor, offer_id), actor)


@blp.route("/engagements/<int:engagement_id>/reports", methods=["POST"])
@blp.requires(Role.institution)
@blp.body(ProceedsReportInSchema)
@blp.response(201, ProceedsReportSchema)
@blp.errors(400, 401, 403, 404, 409, 422)
def add_report(body, engagement_id: int):
    """Report the use of proceeds of a financed engagement for one half-year (the financing institution)."""
    actor = permissions.require_user()
    engagements.get_engagement(actor, engagement_id)  # visibility (404) before the body (422)
    return proceeds.add_report(actor, engagement_id, body.load())


@blp.route("/engagements/<int:engagement_id>/reports")
@blp.requires(Role.enterprise, Role.institution, Role.bureau, Role.admin)
@blp.response(200, ProceedsReportsSchema)
@blp.errors(401, 403, 404)
def list_reports(engagement_id: int):
    """The engagement's use-of-proceeds reports and the signals they raise (both sides, its bureau, admins)."""
    items, signals = proceeds.reports(permissions.require_user(), engagement_id)
    return {"items": items, "signals": signals}
