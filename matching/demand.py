"""The demand side: an enterprise posts a financing request for an approved project, the institutions whose
published products match the project may offer, the enterprise accepts one offer and the chosen
institution has a deadline to make contact.

Modelled on Huzhou's 绿贷通 (the firm posts its need, the first three of the city's banks may answer, the
firm chooses by rate and service, the chosen bank completes contact within a week) and on the MIIT
guidance's 资金直达 (工信部联财〔2021〕159号). ``FINANCING_MAX_OFFERS`` and ``OFFER_CONTACT_DUE_DAYS`` are
deployment settings (defaults 3 and 7, from that practice).

Who sees a request: its enterprise; the institutions it is open to (a published product of theirs matches
the project in the current matching generation, or they offered already); bureaus over the project's
region; admins. Anyone else gets 404.

Concurrency: an offer takes its place with one conditional ``UPDATE ... SET offers_count = offers_count + 1
WHERE offers_count < max_offers AND status = 'open'`` in the offer's own transaction, so ten institutions
offering at once on a request taking three yield exactly three offers; one offer per institution and
request is a unique constraint.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import Select, String, cast, exists, false, literal, or_, select, update
from sqlalchemy.exc import IntegrityError

from greenmatch import permissions, signals, versioning
from greenmatch.accounts.models import Organization, OrgKind, Role, User
from greenmatch.catalog.models import Project, ProjectStatus
from greenmatch.codes import region_covers
from greenmatch.db import utcnow
from greenmatch.errors import Conflict, Invalid
from greenmatch.extensions import db
from greenmatch.instruments import current_plugins
from greenmatch.permissions import Policy, policy
from greenmatch.products.models import Product, ProductStatus
from greenmatch.text import Amount, Label, Msg

from . import notifications
from .engagements import S as EngagementState
from .engagements import _already_open, _event, open_engagement
from .models import Engagement, FinancingRequest, Match, Offer, OfferStatus
from .models import FinancingRequestStatus as RS
from .service import current_generation


def _today() -> dt.date:
    return utcnow().astimezone(dt.timezone(dt.timedelta(hours=8))).date()  # dates are China Standard Time


def _matched_institutions(project_id: int) -> Select:
    """Institutions with a published product matched to the project in the current generation."""
    return (select(Match.institution_id)
            .join(Product, Product.id == Match.product_id)
            .where(Match.project_id == project_id, Match.generation == current_generation(),
                   Product.status == ProductStatus.published))


@policy(FinancingRequest)
class FinancingRequestPolicy(Policy):
    def scope(self, stmt: Select, actor: User | None, purpose: str = "view") -> Select:
        if actor is None:
            return stmt.where(false())
        if actor.role == Role.admin:
            return stmt
        if actor.role == Role.enterprise:
            return stmt.where(FinancingRequest.enterprise_id == permissions.acting_org_id(actor))
        if actor.role == Role.institution and purpose == "view":
            # open to the institutions with a published product matched to the project, of an instrument the
            # request asks for (any, when it names none)
            asked = cast(FinancingRequest.instruments, String)
            matched = exists().where(
                Match.project_id == FinancingRequest.project_id, Match.generation == current_generation(),
                Match.institution_id == actor.organization_id,
                Match.product.has(Product.status == ProductStatus.published),
                or_(asked == "[]", asked.contains(literal('"') + Match.instrument + literal('"'))))
            offered = exists().where(Offer.request_id == FinancingRequest.id,
                                     Offer.institution_id == actor.organization_id)
            return stmt.where(or_(matched, offered))
        if actor.role == Role.bureau and purpose == "view":
            return stmt.where(FinancingRequest.project.has(Project.in_region(actor.organization.region_code)))
        return stmt.where(false())

    def can(self, actor: User | None, action: str, obj: FinancingRequest) -> bool:
        if actor is None:
            return False
        if action in ("close", "accept_offer"):
            return actor.role == Role.enterprise and obj.enterprise_id == permissions.acting_org_id(actor)
        if action == "offer":
            return actor.role == Role.institution
        return False


@policy(Offer)
class OfferPolicy(Policy):
    """An offer is seen by its institution, the request's enterprise, bureaus over the project, admins."""

    def scope(self, stmt: Select, actor: User | None, purpose: str = "view") -> Select:
        if actor is None:
            return stmt.where(false())
        if actor.role == Role.admin:
            return stmt
        if actor.role == Role.institution:
            return stmt.where(Offer.institution_id == actor.organization_id)
        if actor.role == Role.enterprise:
            return stmt.where(Offer.request.has(FinancingRequest.enterprise_id == permissions.acting_org_id(actor)))
        if actor.role == Role.bureau and purpose == "view":
            return stmt.where(Offer.request.has(FinancingRequest.project.has(
                Project.in_region(actor.organization.region_code))))
        return stmt.where(false())

    def can(self, actor: User | None, action: str, obj: Offer) -> bool:
        if actor is None:
            return False
        if action == "accept":
            return actor.role == Role.enterprise and obj.request.enterprise_id == permissions.acting_org_id(actor)
        return False


def is_open(request: FinancingRequest, today: dt.date | None = None) -> bool:
    """Taking offers: open, before its closing date, and not yet full."""
    return (request.status == RS.open and request.closes_on >= (today or _today())
            and request.offers_count < request.max_offers)


def effective_status(request: FinancingRequest) -> str:
    """``open`` requests past their closing date read as ``closed``; full ones as ``full``."""
    if request.status == RS.open and request.closes_on < _today():
        return RS.closed
    if request.status == RS.open and request.offers_count >= request.max_offers:
        return "full"
    return request.status


# -- requests -------------------------------------------------------------------------------------------
def create_request(actor: User, data: Mapping[str, Any]) -> FinancingRequest:
    permissions.check_role(actor, Role.enterprise)
    project = permissions.get_visible(Project, data["project_id"], actor, purpose="change")
    errors: dict[str, list[str]] = {}
    amount = Decimal(str(data["amount_cny"]))
    if amount > project.financing_need_cny:
        errors["amount_cny"] = [Msg("must not exceed the project's financing need (%(need)s yuan)",
                                      need=f"{project.financing_need_cny:,.0f}")]
    if data["closes_on"] < _today():
        errors["closes_at"] = [Msg("must not be in the past")]
    plugins = current_plugins()
    unknown = [key for key in data.get("instruments", []) if key not in plugins]
    if unknown:
        errors["instruments"] = [Msg("unknown instruments: %(keys)s", keys=", ".join(unknown))]
    limit = current_app.config["FINANCING_MAX_OFFERS_LIMIT"]
    max_offers = data.get("max_offers") or current_app.config["FINANCING_MAX_OFFERS"]
    if not 1 <= max_offers <= limit:
        errors["max_offers"] = [Msg("must be between 1 and %(limit)s", limit=limit)]
    if errors:
        raise Invalid.of(errors)
    if project.status != ProjectStatus.approved:
        raise Conflict(Msg("Only an approved project can ask for offers"), fields={"project_id": [Msg("not approved")]})
    if db.session.scalar(select(FinancingRequest.id).where(FinancingRequest.project_id == project.id,
                                                           FinancingRequest.status == RS.open,
                                                           FinancingRequest.closes_on >= _today())):
        raise Conflict(Msg("This project already has an open financing request"),
                       fields={"project_id": [Msg("already has an open request")]})
    request = FinancingRequest(project_id=project.id, enterprise_id=project.enterprise_id, created_by_id=actor.id,
                               amount_cny=amount, term_months=data["term_months"], purpose=data["purpose"].strip(),
                               instruments=list(dict.fromkeys(data.get("instruments", []))),
                               closes_on=data["closes_on"], max_offers=max_offers, status=RS.open)
    db.session.add(request)
    db.session.flush()
    for institution_id in _institutions_to_tell(request):
        notifications.notify(
            institution_id, "financing_request_opened",
            Msg("“%(project)s” asks for offers: %(amount)s, closing %(closes)s", project=project.name,
                amount=Amount(float(amount), compact=True), closes=f"{request.closes_on:%Y-%m-%d}"),
            link=f"/financing-requests/{request.id}", financing_request_id=request.id)
    db.session.commit()
    return request


def _institutions_to_tell(request: FinancingRequest) -> list[int]:
    stmt = _matched_institutions(request.project_id)
    if request.instruments:
        stmt = stmt.where(Match.instrument.in_(request.instruments))
    return sorted(set(db.session.scalars(stmt)))


def get_request(actor: User | None, request_id: int) -> FinancingRequest:
    return permissions.get_visible(FinancingRequest, request_id, actor)


def listing(actor: User, args: Mapping[str, Any]) -> Select:
    stmt = permissions.visible(FinancingRequest, actor)
    if args.get("project_id"):
        stmt = stmt.where(FinancingRequest.project_id == args["project_id"])
    if args.get("status") == "open":
        stmt = stmt.where(FinancingRequest.status == RS.open, FinancingRequest.closes_on >= _today())
    elif args.get("status"):
        stmt = stmt.where(FinancingRequest.status == args["status"])
    return stmt.order_by(FinancingRequest.created_at.desc(), FinancingRequest.id.desc())


def open_requests_by_project(project_ids: list[int]) -> dict[int, FinancingRequest]:
    """The open request of each of these projects (for the leads badge)."""
    if not project_ids:
        return {}
    rows = db.session.scalars(select(FinancingRequest).where(
        FinancingRequest.project_id.in_(project_ids), FinancingRequest.status == RS.open,
        FinancingRequest.closes_on >= _today()))
    return {r.project_id: r for r in rows}


def close_request(actor: User, request_id: int, version: int | None = None) -> FinancingRequest:
    request = get_request(actor, request_id)
    permissions.authorize(actor, "close", request)
    versioning.check_version(request, version)
    if request.status != RS.open:
        raise Conflict(Msg("The request is already %(status)s", status=Label("request_status", request.status)))
    request.status = RS.closed
    for offer in _offers_of(request.id, OfferStatus.submitted):
        offer.status = OfferStatus.declined
        _tell_institution(offer, "offer_declined",
                          Msg("The financing request for “%(project)s” was closed; your offer was not taken",
                              project=request.project.name))
    versioning.commit(request)
    return request


# -- offers ---------------------------------------------------------------------------------------------
def make_offer(actor: User, request_id: int, data: Mapping[str, Any]) -> Offer:
    permissions.check_verified_institution(actor)
    request = get_request(actor, request_id)
    product = db.session.get(Product, data["product_id"])
    errors: dict[str, list[str]] = {}
    if (product is None or product.institution_id != actor.organization_id
            or product.status != ProductStatus.published):
        errors["product_id"] = [Msg("must be one of your published products")]
    elif request.instruments and product.instrument not in request.instruments:
        errors["product_id"] = [Msg("the request asks for other instruments: %(keys)s",
                                       keys=", ".join(request.instruments))]
    amount = Decimal(str(data["amount_cny"]))
    if amount > request.amount_cny:
        errors["amount_cny"] = [Msg("must not exceed the requested amount (%(amount)s yuan)",
                                       amount=f"{request.amount_cny:,.0f}")]
    if errors:
        raise Invalid.of(errors)
    if not is_open(request):
        raise Conflict(Msg("The request no longer takes offers (%(status)s)",
                           status=Label("request_status", effective_status(request))))
    taken = db.session.execute(
        update(FinancingRequest)
        .where(FinancingRequest.id == request.id, FinancingRequest.status == RS.open,
               FinancingRequest.closes_on >= _today(), FinancingRequest.offers_count < FinancingRequest.max_offers)
        .values(offers_count=FinancingRequest.offers_count + 1)
        .execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        db.session.rollback()
        raise Conflict(Msg("The request no longer takes offers (%(status)s)", status=Label("request_status", "full")))
    offer = Offer(request_id=request.id, product_id=product.id, institution_id=actor.organization_id,
                  created_by_id=actor.id, amount_cny=amount,
                  annual_rate_pct=(None if data.get("annual_rate_pct") is None
                                   else Decimal(str(data["annual_rate_pct"]))),
                  term_months=data["term_months"], collateral=list(data.get("collateral") or []),
                  conditions=(data.get("conditions") or "").strip(), status=OfferStatus.submitted)
    db.session.add(offer)
    try:
        db.session.flush()
    except IntegrityError as exc:  # uq_offers_request_institution: this institution offered already
        db.session.rollback()
        raise Conflict(Msg("Your institution has already made an offer on this request"),
                       fields={"product_id": [Msg("already offered")]}) from exc
    notifications.notify(
        request.enterprise_id, "offer_received",
        Msg("%(institution)s offered %(amount)s for “%(project)s”", institution=actor.organization.name,
            amount=Amount(float(amount), compact=True), project=request.project.name),
        link=f"/financing-requests/{request.id}", financing_request_id=request.id, offer_id=offer.id)
    db.session.commit()
    db.session.refresh(request)
    return offer


def offers_of(actor: User, request_id: int) -> Select:
    """The request's offers the caller may see (the enterprise: all, an institution: its own)."""
    request = get_request(actor, request_id)
    return (permissions.visible(Offer, actor).where(Offer.request_id == request.id)
            .order_by(Offer.annual_rate_pct.asc().nulls_last(), Offer.amount_cny.desc(), Offer.id))


def _offers_of(request_id: int, status: str) -> list[Offer]:
    return list(db.session.scalars(select(Offer).where(Offer.request_id == request_id, Offer.status == status)))


def accept_offer(actor: User, offer_id: int) -> Engagement:
    """The enterprise accepts one offer: an ``accepted`` engagement due for contact in
    ``OFFER_CONTACT_DUE_DAYS`` days; the other offers are declined with notice; the request is settled."""
    offer = permissions.get_visible(Offer, offer_id, actor)
    permissions.authorize(actor, "accept", offer)
    request = offer.request
    if request.status != RS.open or offer.status != OfferStatus.submitted:
        raise Conflict(Msg("This offer can no longer be accepted (request %(request)s, offer %(offer)s)",
                              request=request.status, offer=offer.status))
    if request.project.status != ProjectStatus.approved:
        raise Conflict(Msg("The project is no longer in the approved catalogue"))
    open_one = open_engagement(request.project_id, offer.product_id)
    if open_one is not None:
        raise _already_open(open_one)
    now = utcnow()
    engagement = Engagement(
        project_id=request.project_id, product_id=offer.product_id, institution_id=offer.institution_id,
        enterprise_id=request.enterprise_id, requested_by_id=offer.created_by_id, status=EngagementState.accepted,
        message=offer.conditions, responded_at=now,
        due_at=now + dt.timedelta(days=current_app.config["OFFER_CONTACT_DUE_DAYS"]))
    db.session.add(engagement)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise _already_open(open_engagement(request.project_id, offer.product_id)) from exc
    _event(engagement, actor, None, EngagementState.accepted, None)  # the status says it; notes are people's
    offer.status, offer.engagement_id = OfferStatus.accepted, engagement.id
    request.status = RS.accepted
    due = engagement.due_at.astimezone(dt.timezone(dt.timedelta(hours=8)))  # China time
    _tell_institution(offer, "offer_accepted",
                      Msg("%(enterprise)s accepted your offer for “%(project)s”: make contact by %(due)s",
                          enterprise=request.enterprise.name, project=request.project.name, due=f"{due:%Y-%m-%d}"),
                      link=f"/engagements/{engagement.id}")
    for other in _offers_of(request.id, OfferStatus.submitted):
        other.status = OfferStatus.declined
        _tell_institution(other, "offer_declined",
                          Msg("The enterprise chose another offer for “%(project)s”", project=request.project.name))
    versioning.commit(request)
    signals.engagement_changed.send(engagement, previous=None)
    return engagement


def _tell_institution(offer: Offer, kind: str, message: Msg, link: str | None = None) -> None:
    notifications.notify(offer.institution_id, kind, message,
                         link=link or f"/financing-requests/{offer.request_id}", offer_id=offer.id,
                         financing_request_id=offer.request_id)


# -- deadlines ------------------------------------------------------------------------------------------
def overdue(now: dt.datetime | None = None) -> Select:
    """Engagements from accepted offers still waiting for contact past their ``due_at``."""
    return select(Engagement).where(Engagement.status == EngagementState.accepted, Engagement.due_at.is_not(None),
                                    Engagement.due_at < (now or utcnow()))


def escalate_overdue(now: dt.datetime | None = None) -> int:
    """Tell the bureaus over each overdue engagement's project, once (scheduled; idempotent)."""
    now = now or utcnow()
    stale = list(db.session.scalars(overdue(now).where(Engagement.escalated_at.is_(None))))
    bureaus = list(db.session.execute(select(Organization.id, Organization.region_code).where(
        Organization.kind == OrgKind.bureau)))
    for engagement in stale:
        region = engagement.project.region_code
        for bureau_id, bureau_region in bureaus:
            if bureau_region and region_covers(bureau_region, region):
                notifications.notify(
                    bureau_id, "engagement_overdue",
                    Msg("%(institution)s has not made contact on “%(project)s” in time",
                        institution=engagement.institution.name, project=engagement.project.name),
                    link=f"/engagements/{engagement.id}", engagement_id=engagement.id)
        engagement.escalated_at = now
    db.session.commit()
    return len(stale)


__all__ = ["create_request", "get_request", "listing", "close_request", "make_offer", "offers_of", "accept_offer",
           "overdue", "escalate_overdue", "effective_status", "is_open", "open_requests_by_project"]
