"""The one permission layer: who is calling, what they may see, what they may change.

* :func:`current_actor` — the authenticated user (bearer token for the API, session for pages) or None.
* :func:`require_user` / :func:`require_role` / :func:`require_verified_institution` — 401/403 checks.
* Policies — one :class:`Policy` per model, registered with :func:`policy`, say which rows a user may
  see (:meth:`Policy.scope`, a SQL filter) and what they may do with one (:meth:`Policy.can`).
  :func:`get_visible` answers 404 for rows outside the scope, so other organisations' objects are
  never revealed; :func:`authorize` answers 403 for visible rows the user may not change.

Views and services call these; no view checks roles or organisations by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import g, request, session
from flask_login import current_user
from sqlalchemy import Select, select

from greenmatch.text import Label, Listing, Msg

from .accounts.models import Role, User
from .errors import Forbidden, NotAuthenticated, NotFound
from .extensions import db

M = TypeVar("M")
# The page session's key holding its Login id (set at sign-in; a session without a live login is anonymous).
SESSION_LOGIN_KEY = "login_id"


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def current_actor() -> User | None:
    """The caller: a bearer token wins over the session; an invalid token is a 401, never anonymous."""
    if "actor" in g:
        return g.actor
    from .accounts.service import token_for

    actor: User | None = None
    g.login_id = None
    if "Authorization" in request.headers:
        token = bearer_token()
        row = token_for(token) if token else None
        if row is None:
            raise NotAuthenticated(Msg("Invalid, expired or revoked token"))
        actor, g.login_id = row.user, row.login_id
        g.auth_via = "token"
    elif current_user.is_authenticated:
        actor = current_user._get_current_object()
        g.login_id = session.get(SESSION_LOGIN_KEY)
        g.auth_via = "session"
    g.actor = actor
    g.actor_id = actor.id if actor is not None else None
    return actor


def current_login_id() -> int | None:
    """The sign-in (greenmatch.accounts.models.Login) the caller's token or page session belongs to."""
    current_actor()
    return g.login_id


def session_login_id(user: User) -> int | None:
    """The live page-session login of ``user`` on this request, if the request carries one."""
    if current_user.is_authenticated and current_user.id == user.id:
        return session.get(SESSION_LOGIN_KEY)
    return None


def require_user() -> User:
    actor = current_actor()
    if actor is None:
        raise NotAuthenticated()
    return actor


def require_role(*roles: str) -> User:
    """The request's caller, holding one of ``roles`` (views; services check the actor they are given)."""
    return check_role(require_user(), *roles)


def acting_org_id(actor: User) -> int | None:
    """The organisation ``actor`` acts for: ``None`` while an enterprise's claim is unconfirmed
    (docs/claims.md), so ``X.enterprise_id == acting_org_id(actor)`` matches nothing."""
    org = actor.organization
    return actor.organization_id if org is None or org.claim_state == "claimed" else None


def check_role(actor: User | None, *roles: str) -> User:
    """``actor`` holds one of ``roles``: 401 without an actor, 403 with another role, or while the enterprise
    it registered for waits for its claim to be confirmed."""
    if actor is None:
        raise NotAuthenticated()
    if actor.role == Role.enterprise and actor.role in roles and acting_org_id(actor) is None:
        raise Forbidden(Msg("Your claim of this enterprise waits for its bureau's confirmation"))
    if actor.role not in roles:
        raise Forbidden(Msg("This needs the role %(roles)s", roles=Listing(Label("role", r) for r in roles)))
    return actor


def require_verified_institution() -> User:
    return check_verified_institution(require_user())


def check_verified_institution(actor: User | None) -> User:
    """``actor`` belongs to a financial institution the platform has verified."""
    actor = check_role(actor, Role.institution)
    if not actor.organization.verified:
        raise Forbidden(Msg("Your institution has not been verified by the platform yet."))
    return actor


class Policy:
    """Who may see and do what with one model. Default: admins everything, others nothing."""

    def scope(self, stmt: Select, actor: User | None, purpose: str = "view") -> Select:
        """Rows the actor may see (``purpose="view"``) or may change (``purpose="change"``: rows outside
        it answer 404 to change requests, e.g. another institution's published product)."""
        if actor is not None and actor.role == Role.admin:
            return stmt
        return stmt.where(False)

    def can(self, actor: User | None, action: str, obj: Any) -> bool:
        return actor is not None and actor.role == Role.admin


_policies: dict[type, Policy] = {}


def policy(model: type) -> Callable[[type[Policy]], type[Policy]]:
    def register(cls: type[Policy]) -> type[Policy]:
        _policies[model] = cls()
        return cls

    return register


def policy_of(model: type) -> Policy:
    return _policies[model]


def visible(model: type[M], actor: User | None, stmt: Select | None = None, purpose: str = "view") -> Select:
    return policy_of(model).scope(stmt if stmt is not None else select(model), actor, purpose)


def get_visible(model: type[M], obj_id: int, actor: User | None, *, purpose: str = "view",
                for_update: bool = False) -> M:
    stmt = visible(model, actor, purpose=purpose).where(model.id == obj_id)  # type: ignore[attr-defined]
    if for_update:
        stmt = stmt.with_for_update()
    obj = db.session.scalar(stmt)
    if obj is None:
        raise NotFound(Msg("Not found: %(what)s %(id)s", what=model.__name__, id=obj_id))
    return obj


def can(actor: User | None, action: str, obj: Any) -> bool:
    return policy_of(type(obj)).can(actor, action, obj)


def authorize(actor: User | None, action: str, obj: Any) -> None:
    if not can(actor, action, obj):
        raise Forbidden(Msg("You are not allowed to do this."))


# -- accounts ------------------------------------------------------------------------------------
from .accounts.models import Organization  # noqa: E402


@policy(Organization)
class OrganizationPolicy(Policy):
    """Admins see every organisation; a user sees their own. Only admins act on one (``Policy.can``)."""

    def scope(self, stmt: Select, actor: User | None, purpose: str = "view") -> Select:
        if actor is None:
            return stmt.where(False)
        if actor.role == Role.admin:
            return stmt
        return stmt.where(Organization.id == actor.organization_id)


@policy(User)
class UserPolicy(Policy):
    """Admins see every user; others only themselves."""

    def scope(self, stmt: Select, actor: User | None, purpose: str = "view") -> Select:
        if actor is None:
            return stmt.where(False)
        if actor.role == Role.admin:
            return stmt
        return stmt.where(User.id == actor.id)


__all__ = [
    "Policy", "policy", "visible", "get_visible", "authorize", "can", "current_actor", "require_user",
    "require_role", "require_verified_institution",
]
