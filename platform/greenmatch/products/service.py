"""Products: create, edit, publish, withdraw. Params are validated by the instrument plugin."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import Select

from .. import permissions, signals, versioning
from ..accounts.models import User
from ..db import utcnow
from ..errors import Invalid, flatten_messages
from ..extensions import db
from ..instruments import InstrumentPlugin, current_plugins
from ..states import StateMachine
from ..text import Msg
from .models import Product, ProductStatus

# action -> (statuses it may start from, status it leads to)
TRANSITIONS = StateMachine("product", {
    "publish": (frozenset({ProductStatus.draft, ProductStatus.withdrawn}), ProductStatus.published),
    "withdraw": (frozenset({ProductStatus.published}), ProductStatus.withdrawn),
})


def plugin_for(key: str) -> InstrumentPlugin:
    plugin = current_plugins().get(key)
    if plugin is None:
        raise Invalid.field("instrument", Msg("Choose one of: %(choices)s.", choices=", ".join(current_plugins())))
    return plugin


def validated_params(plugin: InstrumentPlugin, raw: Mapping[str, Any]) -> dict[str, Any]:
    try:
        return plugin.load_params(raw)
    except ValidationError as exc:
        fields = {f"params.{name}": msgs for name, msgs in flatten_messages(exc.messages).items()}
        raise Invalid.of(fields) from exc


def listing(actor: User | None, args: Mapping[str, Any]) -> Select:
    stmt = permissions.visible(Product, actor)
    if args.get("instrument"):
        stmt = stmt.where(Product.instrument == args["instrument"])
    if args.get("status"):
        stmt = stmt.where(Product.status == args["status"])
    if args.get("mine"):
        stmt = stmt.where(Product.institution_id == (actor.organization_id if actor else -1))
    return stmt.where(Product.instrument.in_(list(current_plugins()))).order_by(Product.id.desc())


def get_product(actor: User | None, product_id: int) -> Product:
    return permissions.get_visible(Product, product_id, actor)


def own_product(actor: User, product_id: int, action: str = "edit") -> Product:
    """A product the actor may change: another institution's answers 404 (not 403), so it is not revealed."""
    product = permissions.get_visible(Product, product_id, actor, purpose="change")
    permissions.authorize(actor, action, product)
    return product


def create_product(actor: User, data: Mapping[str, Any]) -> Product:
    permissions.check_verified_institution(actor)
    plugin = plugin_for(data["instrument"])
    product = Product(institution_id=actor.organization_id, created_by_id=actor.id, instrument=plugin.key,
                      name=data["name"], description=data.get("description", ""),
                      params=validated_params(plugin, data.get("params", {})), status=ProductStatus.draft)
    db.session.add(product)
    db.session.commit()
    return product


def update_product(actor: User, product_id: int, data: Mapping[str, Any]) -> Product:
    permissions.check_verified_institution(actor)
    product = own_product(actor, product_id, "edit")
    versioning.check_version(product, data.get("version"))
    if "params" in data:
        product.params = validated_params(plugin_for(product.instrument), data["params"])
    for key in ("name", "description"):
        if key in data:
            setattr(product, key, data[key])
    versioning.commit(product)
    if product.status == ProductStatus.published:
        signals.product_changed.send(product)
    return product


def check_change_status(actor: User, product_id: int, action: str) -> Product:
    """Before the body: the institution's own product (404, 403) in a status ``action`` starts from (409)."""
    permissions.check_verified_institution(actor)
    product = own_product(actor, product_id, action)
    TRANSITIONS.check(product.status, action)
    return product


def change_status(actor: User, product_id: int, action: str, version: int | None = None) -> Product:
    product = check_change_status(actor, product_id, action)
    versioning.check_version(product, version)
    target = TRANSITIONS.target(product.status, action)
    if target == ProductStatus.published:
        plugin_for(product.instrument)  # before any change: a product of a disabled instrument cannot go live
        product.published_at = utcnow()
    else:
        product.withdrawn_at = utcnow()
    product.status = target
    versioning.commit(product)
    signals.product_changed.send(product)
    return product




