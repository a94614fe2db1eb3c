"""Projects of the green catalogue, their categories and their append-only history."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ColumnElement,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    cast,
    event,
    exists,
    false,
    or_,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from greenmatch.accounts.models import Organization, User
from greenmatch.codes import region_prefix
from greenmatch.db import Base, TimestampMixin, UTCDateTime, utcnow
from greenmatch.facts import ProjectFacts

Money = Numeric(18, 2)


class ProjectStatus(enum.StrEnum):
    draft = "draft"
    submitted = "submitted"
    returned = "returned"
    approved = "approved"
    rejected = "rejected"


class CategorySource(enum.StrEnum):
    declared = "declared"  # claimed by the enterprise
    suggested = "suggested"  # proposed by the classifier
    confirmed = "confirmed"  # set by the reviewing bureau


class Project(TimestampMixin, Base):
    __tablename__ = "projects"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'submitted', 'returned', 'approved', 'rejected')", name="status"),
        CheckConstraint("stage IN ('planning', 'construction', 'operation')", name="stage"),
        Index("ix_projects_status_region", "status", "region_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20), default=ProjectStatus.draft)
    version: Mapped[int] = mapped_column(Integer, default=1)

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    industry_code: Mapped[str] = mapped_column(String(4), index=True)
    region_code: Mapped[str] = mapped_column(String(6))
    stage: Mapped[str] = mapped_column(String(20))
    commissioning_year: Mapped[int | None] = mapped_column(Integer)
    total_investment_cny: Mapped[Decimal] = mapped_column(Money)
    financing_need_cny: Mapped[Decimal] = mapped_column(Money)
    annual_revenue_cny: Mapped[Decimal | None] = mapped_column(Money)
    annual_net_cash_flow_cny: Mapped[Decimal | None] = mapped_column(Money)
    asset_value_cny: Mapped[Decimal | None] = mapped_column(Money)
    is_concession: Mapped[bool] = mapped_column(Boolean, default=False)
    expected_irr_pct: Mapped[float | None] = mapped_column(Float)
    benefits: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    certifications: Mapped[list[str]] = mapped_column(JSON, default=list)
    collateral: Mapped[list[str]] = mapped_column(JSON, default=list)
    risk_exposures: Mapped[list[str]] = mapped_column(JSON, default=list)
    compliance: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    preferred_instruments: Mapped[list[str]] = mapped_column(JSON, default=list)
    contact: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # api.md section 5 "Project fields that decide screening" (migration 0011)
    capacity_change: Mapped[str] = mapped_column(String(20), default="none", server_default="none")
    capacity_replacement_approved: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    concession_end_year: Mapped[int | None] = mapped_column(Integer)
    primary_fuel: Mapped[str | None] = mapped_column(String(20))

    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    review_note: Mapped[str | None] = mapped_column(Text)

    # Derived from the assessment whenever the project changes; kept for queue ordering and statistics.
    green_score: Mapped[int] = mapped_column(Integer, default=0)
    label: Mapped[str | None] = mapped_column(String(20))
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)

    enterprise: Mapped[Organization] = relationship(lazy="joined")
    category_rows: Mapped[list[ProjectCategory]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="ProjectCategory.id", lazy="selectin"
    )

    __mapper_args__ = {"version_id_col": version}

    # -- SQL filters (``select(Project).where(Project.in_region("130000"))``) ------------------------------
    @classmethod
    def in_region(cls, code: str) -> ColumnElement[bool]:
        """The project lies in GB/T 2260 region ``code`` (a province covers its cities and counties)."""
        return cls.region_code.startswith(region_prefix(code), autoescape=True)

    @classmethod
    def has_category(cls, code: str) -> ColumnElement[bool]:
        """One of the project's effective categories is catalogue code ``code`` or below it ("4.2" covers
        "4.2.2", not "4.20"). Correlated to the ``projects`` of the enclosing query."""
        return exists().where(
            ProjectCategory.project_id == cls.id, ProjectCategory.effective.is_(True),
            or_(ProjectCategory.code == code, ProjectCategory.code.startswith(code + ".", autoescape=True)),
        )

    @classmethod
    def prefers(cls, key: str) -> ColumnElement[bool]:
        """Instrument ``key`` is among the project's preferred instruments (the JSON list's text contains
        the quoted key; ``_`` and ``%`` in the key match only themselves)."""
        return cast(cls.preferred_instruments, String).contains(f'"{key}"', autoescape=True)

    def categories_by_source(self, source: str) -> list[str]:
        return [row.code for row in self.category_rows if row.source == source]

    @property
    def declared_categories(self) -> list[str]:
        return self.categories_by_source(CategorySource.declared)

    @property
    def confirmed_categories(self) -> list[str]:
        return self.categories_by_source(CategorySource.confirmed)

    @property
    def categories(self) -> list[str]:
        """The categories the rules use: the bureau's confirmed ones, else the declared ones."""
        return self.confirmed_categories or self.declared_categories

    def facts(self) -> ProjectFacts:
        def money(value: Decimal | None) -> float | None:
            return float(value) if value is not None else None

        return ProjectFacts(
            id=self.id,
            name=self.name,
            description=self.description or "",
            industry_code=self.industry_code,
            region_code=self.region_code,
            stage=self.stage,
            total_investment_cny=float(self.total_investment_cny),
            financing_need_cny=float(self.financing_need_cny),
            categories=tuple(self.categories),
            commissioning_year=self.commissioning_year,
            annual_revenue_cny=money(self.annual_revenue_cny),
            annual_net_cash_flow_cny=money(self.annual_net_cash_flow_cny),
            asset_value_cny=money(self.asset_value_cny),
            is_concession=bool(self.is_concession),
            expected_irr_pct=self.expected_irr_pct,
            benefits=dict(self.benefits or {}),
            certifications=tuple(self.certifications or ()),
            collateral=tuple(self.collateral or ()),
            risk_exposures=tuple(self.risk_exposures or ()),
            compliance=dict(self.compliance or {}),
            preferred_instruments=tuple(self.preferred_instruments or ()),
            enterprise_id=self.enterprise_id,
            capacity_change=self.capacity_change or "none",
            capacity_replacement_approved=bool(self.capacity_replacement_approved),
            concession_end_year=self.concession_end_year,
            primary_fuel=self.primary_fuel,
        )

    def __repr__(self) -> str:
        return f"<Project {self.id} {self.status} {self.name!r}>"


class ProjectCategory(Base):
    """One catalogue category of a project, by source. ``effective`` marks the ones the rules use."""

    __tablename__ = "project_categories"
    __table_args__ = (
        UniqueConstraint("project_id", "source", "code", name="uq_project_categories_project_source_code"),
        CheckConstraint("source IN ('declared', 'suggested', 'confirmed')", name="source"),
        Index("ix_project_categories_code_effective", "code", "effective"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(String(12))
    confidence: Mapped[float | None] = mapped_column(Float)
    effective: Mapped[bool] = mapped_column(Boolean, default=False)

    project: Mapped[Project] = relationship(back_populates="category_rows")


class ProjectTransition(Base):
    """Append-only history: who moved a project from which status to which, when, with what note."""

    __tablename__ = "project_transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    actor: Mapped[User | None] = relationship(lazy="joined")


@event.listens_for(ProjectTransition, "before_update")
@event.listens_for(ProjectTransition, "before_delete")
def _history_is_append_only(mapper, connection, target) -> None:
    raise RuntimeError("project history is append-only")


class ExportJob(Base):
    """A bulk Excel export done outside the request (api.md §5 "Long work"): queued → running → succeeded |
    failed, with progress; the file is kept in the instance folder and served to the requesting organisation."""

    __tablename__ = "export_jobs"
    __table_args__ = (CheckConstraint("status IN ('queued', 'running', 'succeeded', 'failed')", name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    total: Mapped[int] = mapped_column(Integer, default=0)
    rows_written: Mapped[int] = mapped_column(Integer, default=0)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    filename: Mapped[str | None] = mapped_column(String(120))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
