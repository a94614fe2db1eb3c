"""API conventions: the smorest Api with our error shape, pagination, row counts, the response language,
common schemas."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flask_smorest
from flask import request
from marshmallow import Schema, fields, validate
from sqlalchemy import Select, func, select
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter, ValidationError

from .errors import http_exception_response, wants_json

API_PREFIX = "/api/v1"
MAX_PER_PAGE = 100
# Ids are INTEGER columns, 32-bit on PostgreSQL: a larger number names no row, and one past 64 bits
# cannot even be bound (SQLite raises OverflowError). No listing has more rows than ids, so no page past
# MAX_PAGE holds anything, even at one item a page.
MAX_ID = 2**31 - 1
MAX_PAGE = MAX_ID


class IdConverter(IntegerConverter):
    """The ``int`` of URL rules, bounded to the ids there can be (1 to MAX_ID): a path with another number
    is a 404 (werkzeug's own rejection would answer 405 when another method has a rule for the path)."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = 1, max: int | None = MAX_ID,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits, min, max, signed)

    def to_python(self, value: str) -> int:
        try:
            return super().to_python(value)
        except ValidationError:
            raise NotFound() from None


def locale() -> str:
    """Language of reasons and messages: ?lang=en|zh_CN, else Accept-Language, default Chinese."""
    wanted = request.args.get("lang") or request.accept_languages.best_match(["zh_CN", "zh", "en"]) or "zh"
    return "en" if wanted.startswith("en") else "zh"


def id_field(**kwargs: Any) -> fields.Integer:
    """An id in a request (query or body): a number the id columns can hold, else 422 naming the field."""
    return fields.Integer(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class ErrorDetailSchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    fields = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class ApiErrorSchema(Schema):
    error = fields.Nested(ErrorDetailSchema, required=True)


def schema_name(schema: Any) -> str | None:
    """Component names for the OpenAPI document; schemas narrowed with only/exclude are inlined."""
    from apispec.ext.marshmallow.common import resolve_schema_cls

    if isinstance(schema, Schema) and (schema.only or schema.exclude):
        return None
    return resolve_schema_cls(schema).__name__.removesuffix("Schema")


class Api(flask_smorest.Api):
    """flask-smorest's Api, answering HTTP errors in the contract's error shape."""

    ERROR_SCHEMA = ApiErrorSchema

    def __init__(self, app=None, **kwargs):
        from apispec.ext.marshmallow import MarshmallowPlugin

        kwargs.setdefault("spec_kwargs", {})["marshmallow_plugin"] = MarshmallowPlugin(schema_name_resolver=schema_name)
        super().__init__(app, **kwargs)

    def handle_http_exception(self, error):
        # Api(app) registers this for every HTTPException, replacing any app handler registered before it:
        # so pages get their HTML error page here, and the API its JSON error shape.
        if not wants_json():
            from .web.errors import error_page

            return error_page(error.code or 500)
        return http_exception_response(error)


class Blueprint(flask_smorest.Blueprint):
    """A smorest blueprint whose operations document the error responses they can give."""

    def errors(self, *statuses: int) -> Callable:
        def decorator(func: Callable) -> Callable:
            for status in statuses:
                text = _ERROR_TEXT.get(status, "Error")
                func = self.alt_response(status, schema=ApiErrorSchema, description=text)(func)
            return func

        return decorator


_ERROR_TEXT = {
    400: "Malformed JSON",
    401: "Not authenticated",
    403: "Authenticated but not allowed",
    404: "Missing or not visible to the caller",
    409: "Conflict: stale version, illegal transition or duplicate",
    422: "Validation failed; `fields` names the fields",
    429: "Rate limited",
    500: "Unexpected error (logged; generic message)",
}


class PageArgsSchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PER_PAGE))


class HistoryEntrySchema(Schema):
    """One entry of an append-only status history (projects, engagements)."""

    id = fields.Integer()
    from_status = fields.String(allow_none=True, data_key="from")
    to_status = fields.String(data_key="to")
    note = fields.String(allow_none=True)
    at = fields.DateTime()
    actor_id = fields.Integer(allow_none=True)


_page_schemas: dict[str, type[Schema]] = {}


def page_of(item_schema: type[Schema]) -> type[Schema]:
    """The list envelope {"items", "total", "page", "per_page"} for an item schema (cached per schema)."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    if name not in _page_schemas:
        _page_schemas[name] = type(name, (Schema,), {
            "items": fields.List(fields.Nested(item_schema), required=True),
            "total": fields.Integer(required=True),
            "page": fields.Integer(required=True),
            "per_page": fields.Integer(required=True),
        })
    return _page_schemas[name]


def count_rows(session, stmt: Select) -> int:
    """The number of rows ``stmt`` selects (counted as a subquery, without its ORDER BY)."""
    return session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


def paginate(session, stmt: Select, page: int, per_page: int, scalars: bool = True,
             total: int | None = None) -> dict[str, Any]:
    """One page of ``stmt``; ``total``: the row count when the caller has a cheaper way to it than
    counting ``stmt`` as a subquery."""
    if total is None:
        total = count_rows(session, stmt)
    result = session.execute(stmt.limit(per_page).offset((page - 1) * per_page))
    items = result.scalars().all() if scalars else result.all()
    return {"items": items, "total": total, "page": page, "per_page": per_page}


def page_dict(items: list[Any], total: int, page: int, per_page: int) -> dict[str, Any]:
    return {"items": items, "total": total, "page": page, "per_page": per_page}
