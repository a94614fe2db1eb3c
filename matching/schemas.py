"""Matching, leads, engagements and notifications: request and response shapes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates, validates_schema

from greenmatch import reference
from greenmatch.accounts.schemas import OrganizationSchema
from greenmatch.api import HistoryEntrySchema, PageArgsSchema, id_field
from greenmatch.catalog.schemas import Money, ProjectSchema, check_region
from greenmatch.products.schemas import InstitutionRefSchema
from greenmatch.text import Msg

from .engagements import INSTITUTION_ACTIONS
from .models import EngagementStatus


class RunSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    status = fields.String()
    triggered_by = fields.String(allow_none=True)
    started_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    pairs_considered = fields.Integer()
    matches_written = fields.Integer()
    duration_ms = fields.Integer()
    error = fields.String(allow_none=True)
    progress = fields.Float(metadata={"description": "share of the projects scored, 0-1"})
    heartbeat_at = fields.DateTime(allow_none=True)
    lease_expires_at = fields.DateTime(allow_none=True)


class RunListSchema(Schema):
    items = fields.List(fields.Nested(RunSchema))


class ProductRefSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    instrument = fields.String()
    institution = fields.Nested(InstitutionRefSchema)


class ExplanationSchema(Schema):
    paths = fields.List(fields.List(fields.String()))


class MatchItemSchema(Schema):
    match_id = fields.Integer()
    score = fields.Float()
    product = fields.Nested(ProductRefSchema)
    reasons = fields.List(fields.String())
    explanation = fields.Nested(ExplanationSchema)


class OpenRequestRefSchema(Schema):
    """The project's open financing request, if any: the badge on a lead (api.md §5 "Demand side")."""

    id = fields.Integer()
    amount_cny = fields.Float()
    term_months = fields.Integer()
    instruments = fields.List(fields.String())
    closes_at = fields.Date(attribute="closes_on")
    offers_count = fields.Integer()
    max_offers = fields.Integer()


class LeadItemSchema(MatchItemSchema):
    project = fields.Nested(ProjectSchema(exclude=("contact",)))
    financing_request = fields.Nested(OpenRequestRefSchema, allow_none=True)


class LeadQuerySchema(PageArgsSchema):
    product_id = id_field()
    instrument = fields.String(validate=validate.Length(max=40))
    min_score = fields.Float(validate=validate.Range(min=0, max=1))
    region = fields.String(validate=check_region)
    category = fields.String()

    @validates("category")
    def _category(self, value: str, **kwargs: Any) -> None:
        if not reference.is_category(value):  # any level, as in the catalogue's filter
            raise ValidationError(Msg("Unknown catalogue code %(c)s.", c=value))


class EngagementInSchema(Schema):
    class Meta:
        unknown = RAISE

    match_id = id_field(required=True)
    message = fields.String(load_default="", validate=validate.Length(max=2000))


class RespondSchema(Schema):
    class Meta:
        unknown = RAISE

    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class EngagementPatchSchema(Schema):
    class Meta:
        unknown = RAISE

    status = fields.String(required=True,
                           validate=validate.OneOf([s.value for s in EngagementStatus if s in INSTITUTION_ACTIONS]))
    financed_amount_cny = Money(positive=True, load_default=None, allow_none=True)
    financed_on = fields.Date(load_default=None, allow_none=True)
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    version = fields.Integer(load_default=None, allow_none=True)

    @validates_schema
    def _only_when_financed(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["status"] != "financed":
            for name in ("financed_amount_cny", "financed_on"):
                if data.get(name) is not None:
                    raise ValidationError(Msg("Only when recording financing."), name)
        on = data.get("financed_on")
        if on is not None and on < dt.date(2000, 1, 1):
            raise ValidationError(Msg("Implausibly early date."), "financed_on")


class EngagementSchema(Schema):
    id = fields.Integer()
    status = fields.String()
    version = fields.Integer()
    message = fields.String()
    response_note = fields.String(allow_none=True)
    match_score = fields.Float(allow_none=True)
    project = fields.Nested(ProjectSchema(only=("id", "name", "region_code", "categories", "financing_need_cny",
                                                "status")))
    product = fields.Nested(ProductRefSchema)
    institution = fields.Nested(OrganizationSchema(only=("id", "name", "institution_type")))
    enterprise = fields.Nested(OrganizationSchema(only=("id", "name", "region_code")))
    contact = fields.Dict(required=False)
    financed_amount_cny = fields.Float(allow_none=True)
    financed_on = fields.Date(allow_none=True)
    due_at = fields.DateTime(allow_none=True)  # contact deadline of an engagement made from an accepted offer
    overdue = fields.Boolean()
    responded_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class EngagementQuerySchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf([s.value for s in EngagementStatus]))
    overdue = fields.Boolean()  # only engagements past their contact deadline
    project_id = id_field()


class EventSchema(HistoryEntrySchema):
    """One status change of an engagement."""


class EventListSchema(Schema):
    items = fields.List(fields.Nested(EventSchema))


class NotificationSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    title = fields.String(metadata={"description": "what happened, in the caller's language (?lang=, Accept-Language)"})
    link = fields.String(allow_none=True)
    data = fields.Dict()
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


class NotificationQuerySchema(PageArgsSchema):
    unread = fields.Boolean(load_default=False)


class ReadCountSchema(Schema):
    marked = fields.Integer()
