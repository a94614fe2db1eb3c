"""Product input/output. ``params`` are validated by the instrument's plugin (service layer)."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from ..api import PageArgsSchema


class ProductInSchema(Schema):
    class Meta:
        unknown = RAISE

    instrument = fields.String(required=True, validate=validate.Length(min=1, max=40))
    name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    description = fields.String(load_default="", validate=validate.Length(max=5000))
    params = fields.Dict(load_default=dict)


class ProductPatchSchema(Schema):
    class Meta:
        unknown = RAISE

    version = fields.Integer(required=True)
    name = fields.String(validate=validate.Length(min=2, max=200))
    description = fields.String(validate=validate.Length(max=5000))
    params = fields.Dict()


class ProductActionSchema(Schema):
    class Meta:
        unknown = RAISE

    version = fields.Integer(load_default=None, allow_none=True)


class InstitutionRefSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    institution_type = fields.String(allow_none=True)
    region_code = fields.String()


class ProductSchema(Schema):
    id = fields.Integer()
    instrument = fields.String()
    name = fields.String()
    description = fields.String()
    params = fields.Dict()
    status = fields.String()
    version = fields.Integer()
    institution = fields.Nested(InstitutionRefSchema)
    published_at = fields.DateTime(allow_none=True)
    withdrawn_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class ProductQuerySchema(PageArgsSchema):
    instrument = fields.String(validate=validate.Length(max=40))
    mine = fields.Boolean(load_default=False)
    status = fields.String(validate=validate.OneOf(["draft", "published", "withdrawn"]))


class InstrumentSchema(Schema):
    key = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
    description = fields.String()
    description_zh = fields.String()
    description_en = fields.String()
    params_schema = fields.Dict()


class InstrumentListSchema(Schema):
    items = fields.List(fields.Nested(InstrumentSchema))
