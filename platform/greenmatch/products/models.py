"""Financial products published by institutions, one instrument plugin each."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import Organization
from ..db import Base, TimestampMixin, UTCDateTime
from ..facts import ProductFacts


class ProductStatus(enum.StrEnum):
    draft = "draft"
    published = "published"
    withdrawn = "withdrawn"


class Product(TimestampMixin, Base):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'published', 'withdrawn')", name="status"),
        Index("ix_products_status_instrument", "status", "instrument"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    instrument: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default=ProductStatus.draft)
    version: Mapped[int] = mapped_column(Integer, default=1)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    institution: Mapped[Organization] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}

    def facts(self) -> ProductFacts:
        return ProductFacts(instrument=self.instrument, params=dict(self.params or {}), id=self.id, name=self.name,
                            institution_id=self.institution_id,
                            institution_name=self.institution.name if self.institution else "")
