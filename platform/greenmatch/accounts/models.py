"""Organisations, users and API tokens."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, TimestampMixin, UTCDateTime, utcnow


class OrgKind(enum.StrEnum):
    enterprise = "enterprise"
    institution = "institution"
    bureau = "bureau"
    platform = "platform"


class Role(enum.StrEnum):
    enterprise = "enterprise"
    institution = "institution"
    bureau = "bureau"
    admin = "admin"


# Which role a user of each kind of organisation has.
ROLE_FOR_KIND = {
    OrgKind.enterprise: Role.enterprise,
    OrgKind.institution: Role.institution,
    OrgKind.bureau: Role.bureau,
    OrgKind.platform: Role.admin,
}

INSTITUTION_TYPES = ("bank", "insurer", "securities", "fund_manager", "other")


class Organization(TimestampMixin, Base):
    __tablename__ = "organizations"
    __table_args__ = (
        CheckConstraint("kind IN ('enterprise', 'institution', 'bureau', 'platform')", name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # Unified social credit code; required for enterprises and institutions.
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    # Where the organisation is; for a bureau, its jurisdiction.
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    institution_type: Mapped[str | None] = mapped_column(String(20))
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Who stands behind the organisation (docs/claims.md): "claimed" (registered by its own people),
    # "unclaimed" (named by a bureau's import, nobody has signed up for it yet) or "pending" (someone
    # registered with its USCC but without the bureau's claim code; a bureau over its region or an admin
    # confirms). Only a claimed enterprise's users see and act on its projects.
    claim_state: Mapped[str] = mapped_column(String(12), default="claimed", server_default="claimed")
    claim_code_hash: Mapped[str | None] = mapped_column(String(64))  # sha256 of the one-time claim code
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))

    users: Mapped[list[User]] = relationship(back_populates="organization")

    @property
    def claimed(self) -> bool:
        return self.claim_state == "claimed"

    def __repr__(self) -> str:
        return f"<Organization {self.id} {self.kind} {self.name!r}>"


class User(TimestampMixin, Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('enterprise', 'institution', 'bureau', 'admin')", name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(10))

    organization: Mapped[Organization] = relationship(back_populates="users", lazy="joined")

    # Flask-Login protocol
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role} {self.email}>"


class Login(Base):
    """One sign-in: a page session (``kind="web"``) or a token request (``kind="api"``).

    The session cookie names its login; a login that has ended (logout, password change elsewhere) makes the
    cookie worthless even when it was saved, and the tokens issued under it are revoked with it."""

    __tablename__ = "logins"
    __table_args__ = (CheckConstraint("kind IN ('web', 'api')", name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored. ``login_id`` is the sign-in it was issued under."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    login_id: Mapped[int | None] = mapped_column(ForeignKey("logins.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(lazy="joined")

    def is_valid(self, now: dt.datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now and self.user.active
