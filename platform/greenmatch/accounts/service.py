"""Account rules and transactions: registration, credentials, sign-ins, tokens, verification.

Every sign-in is a :class:`Login` row: the page session carries its id, each token its ``login_id``.
Ending a login (logout, a password change elsewhere) is what makes a saved cookie and its tokens useless.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from greenmatch.text import Msg

from .. import permissions, signals
from ..codes import region_prefix
from ..db import utcnow
from ..errors import Conflict, Invalid, NotAuthenticated, NotFound
from ..extensions import db
from ..security import passwords
from ..security.limiter import login_limiter
from .models import ROLE_FOR_KIND, ApiToken, Login, Organization, OrgKind, Role, User

# A hash to compare against when the e-mail is unknown, so response time does not reveal accounts.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def hash_password(password: str) -> str:
    return generate_password_hash(password)


# -- claims of organisations a bureau's import put on the platform (docs/claims.md) -------------------------
def new_claim_code() -> tuple[str, str]:
    """(a one-time claim code to hand to the enterprise, its sha256 to store)."""
    raw = secrets.token_hex(4).upper()
    code = f"GM-{raw[:4]}-{raw[4:]}"
    return code, _claim_hash(code)


def _claim_hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def _claim(org: Organization, data: dict[str, Any]) -> User:
    """Registration with the USCC of an unclaimed enterprise: with its claim code the organisation is the
    registrant's at once; without one it waits for a bureau over its region or an admin (``pending``)."""
    org_data = data["organization"]
    if org.kind != OrgKind.enterprise or org_data["kind"] != OrgKind.enterprise:
        raise Conflict(Msg("An organisation with this unified social credit code is already registered."),
                       fields={"organization.uscc": [Msg("Already registered.")]})
    code = org_data.get("claim_code")
    if code:
        if not org.claim_code_hash or not secrets.compare_digest(org.claim_code_hash, _claim_hash(code)):
            raise Invalid.field("organization.claim_code", Msg("does not match the code the bureau issued"))
        org.claim_state, org.claim_code_hash = "claimed", None
        org.verified, org.verified_at = True, utcnow()
    else:
        org.claim_state = "pending"
    user = User(email=data["email"], password_hash=hash_password(data["password"]), name=data.get("name"),
                role=Role.enterprise.value, organization=org)
    db.session.add(user)
    db.session.commit()
    return user


def confirm_claim(org_id: int, actor: User) -> Organization:
    """A bureau over the enterprise's region (or an admin) confirms a pending claim: its users now act for it."""
    permissions.check_role(actor, Role.bureau, Role.admin)
    org = db.session.get(Organization, org_id)
    if org is None or (actor.role == Role.bureau
                       and not org.region_code.startswith(region_prefix(actor.organization.region_code))):
        raise NotFound(Msg("Not found: %(what)s %(id)s", what="Organization", id=org_id))
    if org.claim_state != "pending":
        raise Conflict(Msg("The organisation is not waiting for a claim to be confirmed (%(state)s)",
                           state=org.claim_state))
    org.claim_state, org.claim_code_hash = "claimed", None
    org.verified, org.verified_at = True, utcnow()
    db.session.commit()
    return org


def register(data: dict[str, Any]) -> User:
    """Register a user with a new enterprise or institution (institutions start unverified), or claim an
    enterprise a bureau's import put on the platform."""
    org_data = data["organization"]
    if db.session.scalar(select(User.id).where(User.email == data["email"])):
        raise Conflict(Msg("An account with this e-mail already exists."),
                       fields={"email": [Msg("Already registered.")]})
    existing = db.session.scalar(select(Organization).where(Organization.uscc == org_data["uscc"]))
    if existing is not None and existing.claim_state in ("unclaimed", "pending"):
        return _claim(existing, data)
    if existing is not None:
        raise Conflict(Msg("An organisation with this unified social credit code is already registered."),
                       fields={"organization.uscc": [Msg("Already registered.")]})
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
        raise Conflict(Msg("An account with this e-mail or USCC already exists")) from exc
    return user


def create_staff_user(email: str, password: str, role: str, org_name: str, region: str | None) -> User:
    """Admin and bureau accounts (CLI). A bureau's organisation carries its jurisdiction region."""
    from greenmatch.reference import is_region

    email = email.strip().lower()
    problem = passwords.problem(password, email, org_name)
    if problem:
        raise Invalid.field("password", problem)
    if role not in (Role.admin, Role.bureau):
        raise Invalid.field("role", Msg("must be admin or bureau"))
    if role == Role.bureau and not region:
        raise Invalid.field("region", Msg("bureau accounts need their jurisdiction region"))
    if region and not is_region(region):
        raise Invalid.field("region", Msg("Unknown region code."))
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise Conflict(Msg("An account with this e-mail already exists."),
                       fields={"email": [Msg("Already registered.")]})
    kind = OrgKind.bureau if role == Role.bureau else OrgKind.platform
    org = db.session.scalar(select(Organization).where(Organization.kind == kind.value,
                                                       Organization.name == org_name))
    if org is None:
        org = Organization(kind=kind.value, name=org_name, region_code=region or "100000", verified=True,
                           verified_at=utcnow())
    elif region and org.region_code != region:
        raise Conflict(Msg("organisation “%(name)s” exists with region %(region)s", name=org_name,
                           region=org.region_code),
                       fields={"region": [Msg("differs from the existing organisation's region")]})
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


def log_in(email: str, password: str, address: str) -> User:
    """Check a sign-in attempt through the login limiter (page login and API token endpoint alike):
    429 while the account is locked or the address has spent its failure budget, 401 for a wrong e-mail
    or password (counted as a failure), else the user (the account's failures forgotten)."""
    limiter = login_limiter()
    limiter.check(email, address)
    user = authenticate(email, password)
    if user is None:
        limiter.failed(email, address)
        raise NotAuthenticated(Msg("Wrong e-mail or password"))
    limiter.succeeded(email, address)
    return user


def start_login(user: User, kind: str) -> Login:
    login = Login(user_id=user.id, kind=kind)
    db.session.add(login)
    db.session.commit()
    return login


def live_login(login_id: object, user_id: int) -> bool:
    """The login ``login_id`` of user ``user_id`` has not ended (what a page session needs to count)."""
    if not isinstance(login_id, int):
        return False
    return db.session.scalar(select(Login.id).where(Login.id == login_id, Login.user_id == user_id,
                                                    Login.ended_at.is_(None))) is not None


def end_logins(user_id: int, *, only: int | None = None, keep: int | None = None) -> None:
    """End the login ``only`` (or every login of the user but ``keep``) and revoke the tokens issued under
    them, in one transaction. Tokens without a login (issued before logins existed) go with "every"."""
    now = utcnow()
    logins = select(Login.id).where(Login.user_id == user_id, Login.ended_at.is_(None))
    if only is not None:
        logins = logins.where(Login.id == only)
    if keep is not None:
        logins = logins.where(Login.id != keep)
    ids = list(db.session.scalars(logins))
    if ids:
        db.session.execute(update(Login).where(Login.id.in_(ids)).values(ended_at=now))
    tokens = update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
    if only is not None:
        tokens = tokens.where(ApiToken.login_id == only)
    elif keep is not None:
        tokens = tokens.where(or_(ApiToken.login_id.is_(None), ApiToken.login_id != keep))
    db.session.execute(tokens.values(revoked_at=now))
    db.session.commit()


def change_password(user: User, current: str, new: str, address: str, keep_login: int | None) -> None:
    """Set a new password: the current one is required (a wrong one counts as a failed login), the new one
    must pass the password policy and differ; every other login of the user ends and its tokens are
    revoked, the login ``keep_login`` (the caller's) goes on."""
    limiter = login_limiter()
    limiter.check(user.email, address)
    if not check_password_hash(user.password_hash, current):
        limiter.failed(user.email, address)
        raise Invalid.field("current_password", Msg("This is not your current password."))
    problem = passwords.problem(new, user.email, user.organization.name)
    if problem:
        raise Invalid.field("new_password", problem)
    if check_password_hash(user.password_hash, new):
        raise Invalid.field("new_password", Msg("Must differ from your current password."))
    user.password_hash = hash_password(new)
    db.session.flush()
    end_logins(user.id, keep=keep_login)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User, login_id: int | None = None) -> tuple[str, dt.datetime]:
    """A bearer token under the login ``login_id`` (the caller's page session), else under a new API login."""
    if login_id is None:  # the login and its token in one transaction
        login = Login(user_id=user.id, kind="api")
        db.session.add(login)
        db.session.flush()
        login_id = login.id
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + dt.timedelta(seconds=current_app.config["TOKEN_TTL_SECONDS"])
    db.session.add(ApiToken(user_id=user.id, token_hash=_digest(token), expires_at=expires_at, login_id=login_id))
    db.session.commit()
    return token, expires_at


def token_for(token: str) -> ApiToken | None:
    """The valid token row of a bearer token (not revoked, not expired, its user active, its login live)."""
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None or not row.is_valid(utcnow()):
        return None
    if row.login_id is not None and db.session.scalar(select(Login.ended_at).where(Login.id == row.login_id)):
        return None
    return row


def user_for_token(token: str) -> User | None:
    row = token_for(token)
    return row.user if row is not None else None


def revoke_token(token: str) -> None:
    """API logout: the token is revoked; a login of its own (``kind="api"``) ends with it."""
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None or row.revoked_at is not None:
        return
    row.revoked_at = utcnow()
    if row.login_id is not None:
        login = db.session.get(Login, row.login_id)
        if login is not None and login.kind == "api" and login.ended_at is None:
            login.ended_at = row.revoked_at
    db.session.commit()


def verify_organization(org_id: int, actor: User) -> Organization:
    """Verify a financial institution. The permission check lives here so the API and the admin page share
    it: organisations the actor cannot see are 404, others they may not verify 403."""
    org = permissions.get_visible(Organization, org_id, actor)
    permissions.authorize(actor, "verify", org)
    if org.kind != OrgKind.institution:
        raise Conflict(Msg("Only financial institutions need verification."))
    if not org.verified:
        org.verified = True
        org.verified_at = utcnow()
        db.session.commit()
        signals.organization_verified.send(org)
    return org
