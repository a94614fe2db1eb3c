"""HTTP API of accounts: registration, tokens, the caller, organisation verification."""

from __future__ import annotations

import functools

from flask import current_app, request

from greenmatch.text import Msg

from .. import permissions
from ..api import Blueprint, page_of, paginate
from ..errors import NotAuthenticated
from ..extensions import db, limiter
from . import service
from .models import Organization, Role
from .schemas import (
    MeSchema,
    OrganizationQuerySchema,
    OrganizationSchema,
    PasswordChangeSchema,
    RegisteredSchema,
    RegisterSchema,
    TokenRequestSchema,
    TokenSchema,
)

blp = Blueprint("accounts", __name__, url_prefix="/api/v1", description="Accounts, tokens and organisations")


@blp.route("/auth/register", methods=["POST"])
@limiter.limit(lambda: current_app.config["REGISTER_RATE_LIMIT"])
@blp.arguments(RegisterSchema)
@blp.response(201, RegisteredSchema)
@blp.errors(400, 409, 422, 429)
def register(data):
    """Register an enterprise or a financial institution with its first user.

    Institutions start unverified: they cannot publish products or see leads until an admin verifies them."""
    user = service.register(data)
    return {"user": user, "organization": user.organization}


@blp.route("/auth/token", methods=["POST"])
@blp.arguments(TokenRequestSchema)
@blp.response(200, TokenSchema)
@blp.errors(400, 401, 422, 429)
def token(data):
    """Exchange e-mail and password for a bearer token that expires.

    Failed attempts are limited per account (a lock with exponential back-off) and per address (a failure
    budget), shared with the page login; a 429 carries `Retry-After`. Called from a signed-in page session
    of the same user, the token belongs to that session and ends with its logout."""
    user = service.log_in(data["email"], data["password"], request.remote_addr or "")
    token, expires_at = service.issue_token(user, permissions.session_login_id(user))
    return {"token": token, "expires_at": expires_at}


@blp.route("/auth/token", methods=["DELETE"])
@blp.response(204)
@blp.errors(401)
def revoke():
    """Revoke the bearer token used for this request (the API's logout)."""
    permissions.require_user()
    token = permissions.bearer_token()
    if token is None:
        raise NotAuthenticated(Msg("Send the token to revoke in the Authorization header"))
    service.revoke_token(token)


def _signed_in(view):
    """401 for anonymous callers before the body is validated (status order: 401 before 422)."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        permissions.require_user()
        return view(*args, **kwargs)

    return wrapper


@blp.route("/auth/password", methods=["POST"])
@_signed_in
@blp.arguments(PasswordChangeSchema)
@blp.response(204)
@blp.errors(401, 422, 429)
def change_password(data):
    """Change the caller's password: `current_password` is required, `new_password` must pass the password
    policy (422 says why). Every other session and token of the user is revoked; the one used for this
    request keeps working. Wrong current passwords count as failed logins (429 when the account is locked)."""
    actor = permissions.require_user()
    service.change_password(actor, data["current_password"], data["new_password"], request.remote_addr or "",
                            keep_login=permissions.current_login_id())


@blp.route("/me")
@blp.response(200, MeSchema)
@blp.errors(401)
def me():
    """The caller, with organisation and role."""
    return permissions.require_user()


@blp.route("/organizations")
@blp.arguments(OrganizationQuerySchema, location="query")
@blp.response(200, page_of(OrganizationSchema))
@blp.errors(401, 403, 422)
def organizations(args):
    """Organisations the caller may see (admins: all, filterable by kind and verification)."""
    actor = permissions.require_user()
    stmt = permissions.visible(Organization, actor).order_by(Organization.id)
    if "kind" in args:
        stmt = stmt.where(Organization.kind == args["kind"])
    if "verified" in args:
        stmt = stmt.where(Organization.verified == args["verified"])
    return paginate(db.session, stmt, args["page"], args["per_page"])


@blp.route("/organizations/<int:org_id>/confirm-claim", methods=["POST"])
@blp.requires(Role.bureau, Role.admin)
@blp.response(200, OrganizationSchema)
@blp.errors(401, 403, 404, 409)
def confirm_claim(org_id: int):
    """Confirm that the people who registered with this enterprise's USCC (without the bureau's claim code)
    speak for it (a bureau over its region, or an admin); see docs/claims.md."""
    return service.confirm_claim(org_id, permissions.require_user())


@blp.route("/organizations/<int:org_id>/verify", methods=["POST"])
@blp.requires(Role.admin)
@blp.response(200, OrganizationSchema)
@blp.errors(401, 403, 404, 409)
def verify(org_id: int):
    """Verify a financial institution (admin only)."""
    return service.verify_organization(org_id, permissions.require_role(Role.admin))

