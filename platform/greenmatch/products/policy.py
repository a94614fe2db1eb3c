"""Who may see and change products."""

from __future__ import annotations

from sqlalchemy import Select, false, or_

from ..accounts.models import Role, User
from ..permissions import Policy, policy
from .models import Product, ProductStatus


@policy(Product)
class ProductPolicy(Policy):
    """Everyone sees published products; an institution also its own drafts and withdrawn ones.
    Only the owning institution changes a product (others get 404 on change requests)."""

    def scope(self, stmt: Select, actor: User | None, purpose: str = "view") -> Select:
        if actor is not None and actor.role == Role.admin:
            return stmt
        own = actor is not None and actor.role == Role.institution
        if purpose == "change":
            return stmt.where(Product.institution_id == actor.organization_id) if own else stmt.where(false())
        if own:
            return stmt.where(or_(Product.status == ProductStatus.published,
                                  Product.institution_id == actor.organization_id))
        return stmt.where(Product.status == ProductStatus.published)

    def can(self, actor: User | None, action: str, obj: Product) -> bool:
        if actor is None:
            return False
        if action in ("edit", "publish", "withdraw"):
            return actor.role == Role.institution and obj.institution_id == actor.organization_id
        return actor.role == Role.admin
