"""Account rules and transactions: registration, credentials, tokens, verification."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from .. import permissions, signals
from ..db import utcnow
from ..errors import Conflict, Invalid
from ..extensions import db
from .models import ROLE_FOR_KIND, ApiToken, Organization, OrgKind, Role, User
from .schemas import PASSWORD_MIN_LENGTH

# A hash to compare against when the e-mail is unknown, so response time does not reveal accounts.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def register(data: dict[str, Any]) -> User:
    """Register a user with a new enterprise or institution. Institutions start unverified."""
    org_data = data["organization"]
    if db.session.scalar(select(User.id).where(User.email == data["email"])):
        raise Conflict("An account with this e-mail already exists", fields={"email": ["already registered"]})
    if db.session.scalar(select(Organization.id).where(Organization.uscc == org_data["uscc"])):
        raise Conflict("An organisation with this USCC is already registered",
                       fields={"organization.uscc": ["already registered"]})
    kind = OrgKind(org_data["kind"])
    org = Organization(
        kind=kind.value,
        name=org_data["name"],
        uscc=org_data["uscc"],
        region_code=org_data["region_code"],
        institution_type=org_data.get("institution_type"),
        verified=kind is OrgKind.enterprise,
        verified_at=utcnow() if kind is OrgKind.enterprise else None,
    )
    user = User(email=data["email"], password_hash=hash_password(data["password"]), name=data.get("name"),
                role=ROLE_FOR_KIND[kind].value, organization=org)
    db.session.add_all([org, user])
    try:
        db.session.commit()
    except IntegrityError as exc:  # a concurrent registration won the race
        db.session.rollback()
        raise Conflict("An account with this e-mail or USCC already exists") from exc
    return user


def create_staff_user(email: str, password: str, role: str, org_name: str, region: str | None) -> User:
    """Admin and bureau accounts (CLI). A bureau's organisation carries its jurisdiction region."""
    from greenmatch.catalog.reference import is_region

    email = email.strip().lower()
    if len(password) < PASSWORD_MIN_LENGTH:
        raise Invalid.field("password", f"must be at least {PASSWORD_MIN_LENGTH} characters")
    if role not in (Role.admin, Role.bureau):
        raise Invalid.field("role", "must be admin or bureau")
    if role == Role.bureau and not region:
        raise Invalid.field("region", "bureau accounts need their jurisdiction region")
    if region and not is_region(region):
        raise Invalid.field("region", "unknown GB/T 2260 region code")
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise Conflict("An account with this e-mail already exists", fields={"email": ["already registered"]})
    kind = OrgKind.bureau if role == Role.bureau else OrgKind.platform
    org = db.session.scalar(select(Organization).where(Organization.kind == kind.value,
                                                       Organization.name == org_name))
    if org is None:
        org = Organization(kind=kind.value, name=org_name, region_code=region or "100000", verified=True,
                           verified_at=utcnow())
    elif region and org.region_code != region:
        raise Conflict(f"organisation {org_name!r} exists with region {org.region_code}",
                       fields={"region": ["differs from the existing organisation's region"]})
    user = User(email=email, password_hash=hash_password(password), role=role, organization=org)
    db.session.add_all([org, user])
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not user.active or not check_password_hash(user.password_hash, password):
        return None
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User) -> tuple[str, dt.datetime]:
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + dt.timedelta(seconds=current_app.config["TOKEN_TTL_SECONDS"])
    db.session.add(ApiToken(user_id=user.id, token_hash=_digest(token), expires_at=expires_at))
    db.session.commit()
    return token, expires_at


def user_for_token(token: str) -> User | None:
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None or not row.is_valid(utcnow()):
        return None
    return row.user


def revoke_token(token: str) -> None:
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
        db.session.commit()


def verify_organization(org_id: int, actor: User) -> Organization:
    """Verify a financial institution. The permission check lives here so the API and the admin page share
    it: organisations the actor cannot see are 404, others they may not verify 403."""
    org = permissions.get_visible(Organization, org_id, actor)
    permissions.authorize(actor, "verify", org)
    if org.kind != OrgKind.institution:
        raise Conflict("Only financial institutions need verification")
    if not org.verified:
        org.verified = True
        org.verified_at = utcnow()
        db.session.commit()
        signals.organization_verified.send(org)
    return org
