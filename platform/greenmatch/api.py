"""API conventions: the smorest Api with our error shape, pagination, row counts, the response language,
common schemas."""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from functools import wraps
from typing import Any

import flask_smorest
from flask import make_response, request
from marshmallow import Schema, fields, validate
from sqlalchemy import Select, func, select
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter, ValidationError

from .errors import error_pages, http_exception_response, with_allow

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

    def init_app(self, app, **kwargs):
        super().init_app(app, **kwargs)
        app.before_request(check_access)

    def handle_http_exception(self, error):
        # Api(app) registers this for every HTTPException, replacing any app handler registered before it:
        # so pages get their HTML error page here, and the API its JSON error shape.
        pages = error_pages()
        if pages is not None:
            return with_allow(error, make_response(pages.error_page(error.code or 500)))
        return http_exception_response(error)


ACCESS_ATTRIBUTE = "_greenmatch_access"


class Blueprint(flask_smorest.Blueprint):
    """A smorest blueprint whose operations document the error responses they can give and declare the
    roles they need (:meth:`requires`)."""

    def requires(self, *roles: str, verified: bool = False) -> Callable:
        """The operation needs an authenticated caller holding one of ``roles`` (``verified``: an
        institution the platform verified). Checked by :func:`check_access` before the request is
        parsed, so a caller with another role gets 401/403 whatever the body says (contract §5 order:
        authentication, role, visibility, body, state); documented as ``x-roles`` with the 401/403
        responses."""
        names = [str(role) for role in roles]

        def decorator(func: Callable) -> Callable:
            setattr(func, ACCESS_ATTRIBUTE, (tuple(names), verified))
            shown = ", ".join("verified institution" if verified and n == "institution" else n for n in names)
            func = self.doc(**{"x-roles": names, **({"x-verified": True} if verified else {})})(func)
            func = self.errors(401)(func)
            func = self.alt_response(403, schema=ApiErrorSchema, description=f"The caller is not: {shown}")(func)
            return func

        return decorator

    def errors(self, *statuses: int) -> Callable:
        def decorator(func: Callable) -> Callable:
            for status in statuses:
                text = _ERROR_TEXT.get(status, "Error")
                func = self.alt_response(status, schema=ApiErrorSchema, description=text)(func)
            return func

        return decorator

    def body(self, schema: type[Schema] | Schema, *, required: bool = True) -> Callable:
        """Like ``arguments`` for a JSON body, documented the same way, but the view is handed a
        :class:`Body` and validates it (:meth:`Body.load`) once it has found the object and checked its
        state: visibility (404) and illegal transitions (409) come before body validation (422)."""
        instance = schema() if isinstance(schema, type) else schema

        def decorator(func: Callable) -> Callable:
            @wraps(func)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                return func(Body(instance), *args, **kwargs)

            wrapper._apidoc = deepcopy(getattr(func, "_apidoc", {}))  # type: ignore[attr-defined]
            docs = wrapper._apidoc.setdefault("arguments", {})  # type: ignore[attr-defined]
            docs.setdefault("parameters", []).append({"in": "json", "required": required, "schema": instance})
            docs.setdefault("responses", {})[422] = "UNPROCESSABLE_ENTITY"
            return wrapper

        return decorator


class Body:
    """A request's JSON body, validated on demand (:meth:`Blueprint.body`)."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema

    def peek(self, name: str) -> Any:
        """One top-level value as sent, unvalidated (None when absent or the body is no JSON object)."""
        raw = request.get_json(silent=True)
        return raw.get(name) if isinstance(raw, dict) else None

    def load(self) -> dict[str, Any]:
        """The validated body: 400 for malformed JSON, 422 naming the fields, as ``arguments`` answers."""
        return Blueprint.ARGUMENTS_PARSER.parse(self.schema, location="json")


def check_access() -> None:
    """Before any view: the role the operation declared with :meth:`Blueprint.requires` (401, 403)."""
    from flask import current_app

    from . import permissions

    view = current_app.view_functions.get(request.endpoint or "")
    access = getattr(view, ACCESS_ATTRIBUTE, None)
    if access is None or request.method == "OPTIONS":  # Flask answers OPTIONS itself: nothing is done
        return
    roles, verified = access
    actor = permissions.require_role(*roles)
    if verified and actor.role == "institution":
        permissions.check_verified_institution(actor)


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
