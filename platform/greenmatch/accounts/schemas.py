"""Validation and serialisation of accounts (the schemas own validation)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, pre_load, validate, validates_schema

from greenmatch.text import Msg
from greenmatch.validation import Email

from ..api import PageArgsSchema
from ..codes import uscc_problem
from ..security import passwords
from .models import INSTITUTION_TYPES

PASSWORD_MIN_LENGTH = passwords.MIN_LENGTH


def _check_region(code: str) -> None:
    from greenmatch.reference import is_region

    if not is_region(code):
        raise ValidationError(Msg("Unknown region code."))


def _check_uscc(code: str) -> None:
    problem = uscc_problem(code)
    if problem:
        raise ValidationError(problem)


class OrganizationInSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(["enterprise", "institution"]))
    name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    uscc = fields.String(required=True, validate=_check_uscc)
    region_code = fields.String(required=True, validate=_check_region)
    institution_type = fields.String(load_default=None, validate=validate.OneOf(INSTITUTION_TYPES))
    # the one-time code a bureau handed over for an enterprise its import put on the platform (docs/claims.md)
    claim_code = fields.String(load_default=None, validate=validate.Length(min=4, max=40))

    @pre_load
    def _normalise(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            for key in ("uscc", "name", "region_code"):
                if isinstance(data.get(key), str):
                    data[key] = data[key].strip()
            if isinstance(data.get("uscc"), str):
                data["uscc"] = data["uscc"].upper()
        return data

    @validates_schema
    def _institution_type(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("kind") == "institution" and not data.get("institution_type"):
            raise ValidationError(Msg("Choose the type of institution."), "institution_type")
        if data.get("kind") == "enterprise" and data.get("institution_type"):
            raise ValidationError(Msg("Only institutions have a type."), "institution_type")


class RegisterSchema(Schema):
    email = Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=200))
    name = fields.String(load_default=None, validate=validate.Length(max=100))
    organization = fields.Nested(OrganizationInSchema, required=True)

    @validates_schema(skip_on_field_errors=False)
    def _password(self, data: dict[str, Any], **kwargs: Any) -> None:
        """The password policy (greenmatch.security.passwords), knowing the e-mail and organisation name."""
        if "password" not in data:
            return
        org = data.get("organization") or {}
        problem = passwords.problem(data["password"], data.get("email"), org.get("name"))
        if problem:
            raise ValidationError(problem, "password")

    @post_load
    def _lower_email(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data["email"] = data["email"].strip().lower()
        return data


class TokenRequestSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=254))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=200))


class PasswordChangeSchema(Schema):
    current_password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=200))
    new_password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=200))


class TokenSchema(Schema):
    token = fields.String(required=True)
    expires_at = fields.DateTime(required=True)


class OrganizationSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    name = fields.String()
    uscc = fields.String(allow_none=True)
    region_code = fields.String()
    institution_type = fields.String(allow_none=True)
    verified = fields.Boolean()
    verified_at = fields.DateTime(allow_none=True)
    claim_state = fields.String(metadata={"description": "claimed | unclaimed | pending (docs/claims.md)"})
    created_at = fields.DateTime()


class UserSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String(allow_none=True)
    role = fields.String()
    organization_id = fields.Integer()
    created_at = fields.DateTime()


class RegisteredSchema(Schema):
    user = fields.Nested(UserSchema)
    organization = fields.Nested(OrganizationSchema)


class MeSchema(UserSchema):
    organization = fields.Nested(OrganizationSchema)
    verified = fields.Boolean(attribute="organization.verified")


class OrganizationQuerySchema(PageArgsSchema):
    kind = fields.String(validate=validate.OneOf(["enterprise", "institution", "bureau", "platform"]))
    verified = fields.Boolean()
