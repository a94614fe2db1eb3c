"""Financing requests and offers: request and response shapes (contract: api.md §5 "Demand side")."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from greenmatch.accounts.schemas import OrganizationSchema
from greenmatch.api import PageArgsSchema, id_field
from greenmatch.catalog.schemas import ProjectSchema
from greenmatch.facts import COLLATERAL
from greenmatch.money import Money
from greenmatch.text import Msg

from .schemas import OpenRequestRefSchema, ProductRefSchema

_positive = validate.Range(min=0, min_inclusive=False)
_term = validate.Range(min=1, max=600)  # months: up to 50 years (concessions, REITs)


class FinancingRequestInSchema(Schema):
    class Meta:
        unknown = RAISE

    project_id = id_field(required=True)
    amount_cny = fields.Float(required=True, validate=_positive)
    term_months = fields.Integer(required=True, validate=_term)
    purpose = fields.String(required=True, validate=validate.Length(min=2, max=2000))
    instruments = fields.List(fields.String(validate=validate.Length(max=40)), load_default=list,
                              validate=validate.Length(max=20))
    closes_at = fields.Date(required=True, data_key="closes_at", attribute="closes_on")
    max_offers = fields.Integer(load_default=None, allow_none=True)


class FinancingRequestQuerySchema(PageArgsSchema):
    project_id = id_field()
    status = fields.String(validate=validate.OneOf(["open", "accepted", "closed"]))


class FinancingRequestSchema(OpenRequestRefSchema):
    """A whole financing request: the lead badge's fields (:class:`OpenRequestRefSchema`) and the rest."""

    status = fields.Method("_status")
    version = fields.Integer()
    project = fields.Nested(ProjectSchema(only=("id", "name", "region_code", "categories", "financing_need_cny",
                                                "status")))
    enterprise = fields.Nested(OrganizationSchema(only=("id", "name", "region_code")))
    purpose = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()

    def _status(self, obj) -> str:
        from .demand import effective_status

        return effective_status(obj)


class OfferInSchema(Schema):
    class Meta:
        unknown = RAISE

    product_id = id_field(required=True)
    amount_cny = fields.Float(required=True, validate=_positive)
    # a sanity bound, not a rule of the market: 36 % was the old judicial ceiling on private lending rates
    # (最高人民法院《关于审理民间借贷案件适用法律若干问题的规定》2015, art. 26); bank and insurance prices lie far below
    annual_rate_pct = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0, max=36))
    term_months = fields.Integer(required=True, validate=_term)
    collateral = fields.List(fields.String(validate=validate.OneOf(COLLATERAL)), load_default=list)
    conditions = fields.String(load_default="", validate=validate.Length(max=2000))


class OfferSchema(Schema):
    id = fields.Integer()
    request_id = fields.Integer()
    status = fields.String()
    product = fields.Nested(ProductRefSchema)
    institution = fields.Nested(OrganizationSchema(only=("id", "name", "institution_type")))
    amount_cny = fields.Float()
    annual_rate_pct = fields.Float(allow_none=True)
    term_months = fields.Integer()
    collateral = fields.List(fields.String())
    conditions = fields.String()
    engagement_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class ProceedsReportInSchema(Schema):
    class Meta:
        unknown = RAISE

    period = fields.String(required=True, validate=validate.Regexp(
        r"^20\d\d-H[12]$", error=Msg("Enter the half-year as YYYY-H1 or YYYY-H2.")))
    disbursed_cny = Money(required=True)
    use_of_proceeds = fields.String(required=True, validate=validate.Length(min=4, max=4000))
    co2_reduction_t = fields.Float(load_default=None, allow_none=True, allow_nan=False,
                                   validate=validate.Range(min=0, max=1e9))


class ProceedsReportSchema(Schema):
    id = fields.Integer()
    period = fields.String()
    disbursed_cny = fields.Float()
    use_of_proceeds = fields.String()
    co2_reduction_t = fields.Float(allow_none=True)
    created_at = fields.DateTime()


class ProceedsSignalSchema(Schema):
    code = fields.String()
    severity = fields.String()
    period = fields.String(allow_none=True)
    message = fields.String()


class ProceedsReportsSchema(Schema):
    items = fields.List(fields.Nested(ProceedsReportSchema))
    signals = fields.List(fields.Nested(ProceedsSignalSchema))
