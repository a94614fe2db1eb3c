"""Persisted matching results, runs, engagements and notifications.

Atomic replacement of results: every match row belongs to a *generation*; readers only see the
generation named in ``matching_state.current_generation``. A full run writes a new generation
beside the old one and flips the pointer in one short transaction, so readers see the old results
or the new, never a mix; a run that crashes leaves its half-written generation invisible (and it is
deleted by the next run).
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from greenmatch.accounts.models import Organization, User
from greenmatch.catalog.models import Project
from greenmatch.db import Base, TimestampMixin, UTCDateTime, utcnow
from greenmatch.products.models import Product


class MatchingState(Base):
    """One row: which generation of matches is current."""

    __tablename__ = "matching_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    current_generation: Mapped[int] = mapped_column(Integer, default=0)
    next_generation: Mapped[int] = mapped_column(Integer, default=1)


class MatchRun(Base):
    __tablename__ = "match_runs"
    __table_args__ = (CheckConstraint("status IN ('queued', 'running', 'succeeded', 'failed', 'abandoned')",
                                      name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="full")  # full | project | product
    status: Mapped[str] = mapped_column(String(20), default="running")
    generation: Mapped[int | None] = mapped_column(Integer)
    triggered_by: Mapped[str | None] = mapped_column(String(100))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    pairs_considered: Mapped[int] = mapped_column(Integer, default=0)
    matches_written: Mapped[int] = mapped_column(Integer, default=0)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    #: long work (api.md §5): the share done (0-1), and the lease the executing worker renews; a queued or
    #: running run whose lease has expired belongs to a worker that died and is marked ``abandoned``
    progress: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    worker: Mapped[str | None] = mapped_column(String(200))


class Match(Base):
    __tablename__ = "matches"
    __table_args__ = (
        UniqueConstraint("generation", "project_id", "product_id", name="uq_matches_generation_project_product"),
        Index("ix_matches_generation_project_score", "generation", "project_id", "score"),
        Index("ix_matches_generation_product_score", "generation", "product_id", "score"),
        # an institution's leads (queries.leads): the first page in score order, and counts with min_score
        Index("ix_matches_leads", "generation", "institution_id", "for_product", "score"),
        # their count (queries.leads_total), also by instrument: on PostgreSQL the many equal keys of an
        # institution are deduplicated into posting lists, which an index-only scan reads several times faster
        Index("ix_matches_lead_counts", "generation", "institution_id", "instrument",
              postgresql_where=text("for_product"), sqlite_where=text("for_product")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation: Mapped[int] = mapped_column(Integer)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    instrument: Mapped[str] = mapped_column(String(40))
    score: Mapped[float] = mapped_column(Float)
    # whether the pair is among the project's top-K and/or the product's top-L
    for_project: Mapped[bool] = mapped_column(default=True)
    for_product: Mapped[bool] = mapped_column(default=True)
    # message codes with parameters (greenmatch.text.to_json), rendered when read: [{"c", "p"}]
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    paths: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{"kind", "contribution", "labels"}]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    project: Mapped[Project] = relationship(lazy="joined")
    product: Mapped[Product] = relationship(lazy="joined")


class EngagementStatus(enum.StrEnum):
    requested = "requested"
    accepted = "accepted"
    declined = "declined"
    in_progress = "in_progress"
    financed = "financed"
    closed = "closed"
    expired = "expired"


#: an engagement in these statuses is open: one per lead at most
OPEN_STATUSES = (EngagementStatus.requested, EngagementStatus.accepted, EngagementStatus.in_progress)
OPEN_CONDITION = f"status IN ({', '.join(repr(str(s.value)) for s in OPEN_STATUSES)})"


class Engagement(TimestampMixin, Base):
    """An institution's approach to a project through one of its products, to "funds reached"."""

    __tablename__ = "engagements"
    __table_args__ = (
        CheckConstraint("status IN ('requested', 'accepted', 'declined', 'in_progress', 'financed', 'closed', "
                        "'expired')", name="status"),
        Index("ix_engagements_project_product", "project_id", "product_id"),
        # at most one open engagement per lead, also when two requests race past the service's check
        Index("uq_engagements_open_pair", "project_id", "product_id", unique=True,
              postgresql_where=text(OPEN_CONDITION), sqlite_where=text(OPEN_CONDITION)),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    match_score: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20), default=EngagementStatus.requested)
    version: Mapped[int] = mapped_column(Integer, default=1)
    message: Mapped[str] = mapped_column(Text, default="")
    response_note: Mapped[str | None] = mapped_column(Text)
    responded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    financed_amount_cny: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    financed_on: Mapped[dt.date | None] = mapped_column(Date)
    # Set when the engagement came from an accepted offer: the institution must make contact (move it to
    # in_progress) by then; past it, the project's bureau is told (matching.demand.escalate_overdue).
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    escalated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    @property
    def overdue(self) -> bool:
        """Accepted from an offer and still not contacted past its deadline."""
        return bool(self.due_at and self.status == EngagementStatus.accepted and self.due_at < utcnow())

    project: Mapped[Project] = relationship(lazy="joined")
    product: Mapped[Product] = relationship(lazy="joined")
    institution: Mapped[Organization] = relationship(foreign_keys=[institution_id], lazy="joined")
    enterprise: Mapped[Organization] = relationship(foreign_keys=[enterprise_id], lazy="joined")

    __mapper_args__ = {"version_id_col": version}


class EngagementEvent(Base):
    """Append-only history of an engagement."""

    __tablename__ = "engagement_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    actor: Mapped[User | None] = relationship(lazy="joined")


class Notification(Base):
    """An in-app inbox entry for an organisation (every user of it sees it)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_org_created", "organization_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    kind: Mapped[str] = mapped_column(String(40))
    # what happened, as a message code with parameters (greenmatch.text.to_json), rendered for the reader
    message: Mapped[dict[str, Any]] = mapped_column(JSON)
    link: Mapped[str | None] = mapped_column(String(300))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class FinancingRequestStatus(enum.StrEnum):
    open = "open"  # taking offers (until closes_on, or max_offers offers are in)
    accepted = "accepted"  # the enterprise accepted one offer
    closed = "closed"  # withdrawn by the enterprise, or closed without an accepted offer


class FinancingRequest(TimestampMixin, Base):
    """An enterprise's call for offers on an approved project (the 绿贷通 pattern: the firm posts a need,
    the first ``max_offers`` institutions may answer, the firm picks one)."""

    __tablename__ = "financing_requests"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'accepted', 'closed')", name="status"),
        CheckConstraint("offers_count <= max_offers", name="offers_within_max"),
        CheckConstraint("amount_cny > 0", name="amount_positive"),
        Index("ix_financing_requests_status_closes", "status", "closes_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    amount_cny: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    term_months: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(Text)
    instruments: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: any instrument
    closes_on: Mapped[dt.date] = mapped_column(Date)
    max_offers: Mapped[int] = mapped_column(Integer)
    # Offers taken so far: raised by one conditional UPDATE per offer, so concurrent offers never pass max_offers.
    offers_count: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default=FinancingRequestStatus.open)
    version: Mapped[int] = mapped_column(Integer, default=1)

    project: Mapped[Project] = relationship(lazy="joined")
    enterprise: Mapped[Organization] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}


class OfferStatus(enum.StrEnum):
    submitted = "submitted"
    accepted = "accepted"
    declined = "declined"  # another offer was accepted, or the request was closed


class Offer(TimestampMixin, Base):
    """An institution's answer to a financing request, through one of its published products."""

    __tablename__ = "offers"
    __table_args__ = (
        CheckConstraint("status IN ('submitted', 'accepted', 'declined')", name="status"),
        CheckConstraint("amount_cny > 0", name="amount_positive"),
        UniqueConstraint("request_id", "institution_id", name="uq_offers_request_institution"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("financing_requests.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    amount_cny: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    # the price: annual interest rate (credit, funds), premium rate (insurance) or coupon guidance (bonds), in %
    annual_rate_pct: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))
    term_months: Mapped[int] = mapped_column(Integer)
    collateral: Mapped[list[str]] = mapped_column(JSON, default=list)
    conditions: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=OfferStatus.submitted)
    engagement_id: Mapped[int | None] = mapped_column(ForeignKey("engagements.id"))

    request: Mapped[FinancingRequest] = relationship(lazy="joined")
    product: Mapped[Product] = relationship(lazy="joined")
    institution: Mapped[Organization] = relationship(lazy="joined")


class ProceedsReport(Base):
    """What happened to the money of a financed engagement in one period (seed 002's anti-greenwashing follow-up
    on the use of proceeds; Shanghai's 产业绿贷 asks financed projects to report twice a year)."""

    __tablename__ = "proceeds_reports"
    __table_args__ = (UniqueConstraint("engagement_id", "period", name="uq_proceeds_reports_engagement_period"),
                      CheckConstraint("disbursed_cny >= 0", name="disbursed_not_negative"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    period: Mapped[str] = mapped_column(String(7))  # "2026-H1" | "2026-H2"
    disbursed_cny: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    use_of_proceeds: Mapped[str] = mapped_column(Text)
    co2_reduction_t: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
