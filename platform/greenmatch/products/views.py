"""HTTP API of instruments and products."""

from __future__ import annotations

from .. import permissions
from ..accounts.models import Role
from ..api import Blueprint, locale, page_of, paginate
from ..extensions import db
from ..instruments import current_plugins
from . import service
from .schemas import (
    InstrumentListSchema,
    ProductActionSchema,
    ProductInSchema,
    ProductPatchSchema,
    ProductQuerySchema,
    ProductSchema,
)

blp = Blueprint("products", __name__, url_prefix="/api/v1", description="Instrument plugins and financial products")


@blp.route("/instruments")
@blp.response(200, InstrumentListSchema)
@blp.errors(500)
def instruments():
    """Installed and enabled instrument plugins, with each one's product `params_schema` (JSON Schema)."""
    return {"items": [plugin.describe(locale()) for plugin in current_plugins().values()]}


@blp.route("/products", methods=["POST"])
@blp.requires(Role.institution, verified=True)
@blp.arguments(ProductInSchema)
@blp.response(201, ProductSchema)
@blp.errors(400, 401, 403, 422)
def create_product(data):
    """Create a draft product (verified institutions); `params` are validated by the instrument plugin."""
    return service.create_product(permissions.require_user(), data)


@blp.route("/products")
@blp.arguments(ProductQuerySchema, location="query")
@blp.response(200, page_of(ProductSchema))
@blp.errors(401, 422)
def list_products(args):
    """Published products (and the caller's own drafts and withdrawn ones)."""
    actor = permissions.current_actor()
    return paginate(db.session, service.listing(actor, args), args["page"], args["per_page"])


@blp.route("/products/<int:product_id>")
@blp.response(200, ProductSchema)
@blp.errors(401, 404)
def get_product(product_id: int):
    """One product, if the caller may see it."""
    return service.get_product(permissions.current_actor(), product_id)


@blp.route("/products/<int:product_id>", methods=["PATCH"])
@blp.requires(Role.institution, verified=True)
@blp.body(ProductPatchSchema)
@blp.response(200, ProductSchema)
@blp.errors(400, 401, 403, 404, 409, 422)
def update_product(body, product_id: int):
    """Edit a product (owner), sending the current `version`; a published product is re-matched."""
    actor = permissions.require_user()
    service.own_product(actor, product_id, "edit")  # another institution's product is 404 before the body's 422
    return service.update_product(actor, product_id, body.load())


@blp.route("/products/<int:product_id>/publish", methods=["POST"])
@blp.requires(Role.institution, verified=True)
@blp.body(ProductActionSchema, required=False)
@blp.response(200, ProductSchema)
@blp.errors(401, 403, 404, 409)
def publish(body, product_id: int):
    """Publish a draft or withdrawn product (owner, verified institution); it is matched at once."""
    return _change_status(body, product_id, "publish")


@blp.route("/products/<int:product_id>/withdraw", methods=["POST"])
@blp.requires(Role.institution, verified=True)
@blp.body(ProductActionSchema, required=False)
@blp.response(200, ProductSchema)
@blp.errors(401, 403, 404, 409)
def withdraw(body, product_id: int):
    """Withdraw a published product (owner); its leads disappear."""
    return _change_status(body, product_id, "withdraw")


def _change_status(body, product_id: int, action: str):
    actor = permissions.require_user()
    service.check_change_status(actor, product_id, action)  # 404, 403, 409 before the body's 422
    return service.change_status(actor, product_id, action, (body.load() or {}).get("version"))
