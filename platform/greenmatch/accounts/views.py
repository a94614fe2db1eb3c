"""HTTP API of accounts: registration, tokens, the caller, organisation verification."""

from __future__ import annotations

from flask import current_app, request

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
    RegisteredSchema,
    RegisterSchema,
    TokenRequestSchema,
    TokenSchema,
)

blp = Blueprint("accounts", __name__, url_prefix="/api/v1", description="Accounts, tokens and organisations")


def _login_key() -> str:
    body = request.get_json(silent=True)
    email = body.get("email", "") if isinstance(body, dict) else ""
    return f"{request.remote_addr}|{str(email).strip().lower()}"


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
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], key_func=_login_key,
               deduct_when=lambda response: response.status_code == 401)
@blp.arguments(TokenRequestSchema)
@blp.response(200, TokenSchema)
@blp.errors(400, 401, 422, 429)
def token(data):
    """Exchange e-mail and password for a bearer token that expires. Failed attempts are rate limited."""
    user = service.authenticate(data["email"], data["password"])
    if user is None:
        raise NotAuthenticated("Wrong e-mail or password")
    token, expires_at = service.issue_token(user)
    return {"token": token, "expires_at": expires_at}


@blp.route("/auth/token", methods=["DELETE"])
@blp.response(204)
@blp.errors(401)
def revoke():
    """Revoke the bearer token used for this request."""
    permissions.require_user()
    token = permissions.bearer_token()
    if token is None:
        raise NotAuthenticated("Send the token to revoke in the Authorization header")
    service.revoke_token(token)


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


@blp.route("/organizations/<int:org_id>/verify", methods=["POST"])
@blp.requires(Role.admin)
@blp.response(200, OrganizationSchema)
@blp.errors(401, 403, 404, 409)
def verify(org_id: int):
    """Verify a financial institution (admin only)."""
    return service.verify_organization(org_id, permissions.require_role(Role.admin))

