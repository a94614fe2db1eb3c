"""The one error shape of the API: {"error": {"code", "message", "fields"}}.

Services raise :class:`ApiError` subclasses; marshmallow/webargs validation and werkzeug HTTP errors
are translated to the same shape; anything unexpected is logged with its request id and answered
with a generic 500 (never a stack trace). Messages are message codes (greenmatch.text) rendered here,
at the edge, in the caller's language.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from .text import Msg, render

log = logging.getLogger(__name__)

STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


STATUS_MESSAGES = {
    400: Msg("Bad request"), 401: Msg("Authentication required"), 403: Msg("You are not allowed to do this."),
    404: Msg("Not found"), 405: Msg("Method not allowed"), 409: Msg("Conflict"), 413: Msg("Request too large"),
    415: Msg("Unsupported media type"), 422: Msg("Validation failed"),
    500: Msg("An unexpected error occurred; it has been logged."), 503: Msg("Service unavailable"),
}


class ApiError(Exception):
    status = 400
    code = "bad_request"
    message: Any = Msg("Bad request")

    def __init__(self, message: Any = None, *, fields: Mapping[str, list[Any]] | None = None,
                 code: str | None = None):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.fields = dict(fields or {})
        if code:
            self.code = code


class NotAuthenticated(ApiError):
    status, code, message = 401, "unauthorized", Msg("Authentication required")


class Forbidden(ApiError):
    status, code, message = 403, "forbidden", Msg("You are not allowed to do this.")


class NotFound(ApiError):
    status, code, message = 404, "not_found", Msg("Not found")


class Conflict(ApiError):
    status, code, message = 409, "conflict", Msg("Conflict")


class Invalid(ApiError):
    status, code, message = 422, "validation_failed", Msg("Validation failed")

    @classmethod
    def field(cls, name: str, message: Any) -> Invalid:
        return cls(Msg("%(field)s: %(message)s", field=name, message=message), fields={name: [message]})

    @classmethod
    def of(cls, errors: Mapping[str, list[Any]]) -> Invalid:
        """422 naming every field of ``errors``."""
        return cls(failed(errors), fields=errors)


def failed(fields: Mapping[str, Any]) -> Msg:
    return Msg("Validation failed: %(fields)s", fields=", ".join(sorted(fields)))


def error_body(status: int, message: Any, fields: Mapping[str, list[Any]] | None = None,
               code: str | None = None) -> dict[str, Any]:
    """The error shape, its messages rendered in the request's language."""
    return {"error": {"code": code or STATUS_CODES.get(status, "error"), "message": render(message),
                      "fields": {name: [render(m) for m in messages] for name, messages in (fields or {}).items()}}}


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages -> {"organization.uscc": ["..."]}. List indexes become path parts."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "_schema":
                name = prefix or "_schema"
            for k, v in flatten_messages(value, name).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(messages, list | tuple):
        if all(isinstance(m, str | Msg) for m in messages):
            out[prefix or "_schema"] = list(messages)
        else:
            for item in messages:
                for k, v in flatten_messages(item, prefix).items():
                    out.setdefault(k, []).extend(v)
    else:
        out[prefix or "_schema"] = [messages]
    return out


def validation_fields(messages: Any) -> dict[str, list[str]]:
    """webargs wraps messages by location ({"json": {...}}); drop that level."""
    if isinstance(messages, Mapping) and set(messages) <= {"json", "query", "form", "files", "headers", "view_args"}:
        merged: dict[str, list[str]] = {}
        for part in messages.values():
            merged.update(flatten_messages(part))
        return merged
    return flatten_messages(messages)


def _json_error(status: int, message: str, fields=None, code=None):
    response = jsonify(error_body(status, message, fields, code))
    response.status_code = status
    return response


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz" or request.is_json


ERROR_PAGES_EXTENSION = "greenmatch.error_pages"  # app.extensions: the ErrorPages the web UI installed


@dataclass(frozen=True)
class ErrorPages:
    """The pages a browser gets for errors. The core knows no page: the web UI (``greenmatch.web``)
    installs its own with :func:`set_error_pages`; without them every error is answered in JSON."""

    error_page: Callable[[int], Any]  # the page of an HTTP error, by status (404, 405, 413 ...)
    server_error_page: Callable[[], Any]  # the page of an unexpected error (500)


def set_error_pages(app: Flask, pages: ErrorPages) -> None:
    app.extensions[ERROR_PAGES_EXTENSION] = pages


def error_pages() -> ErrorPages | None:
    """The pages for the current request's errors: None when it wants JSON, or no UI installed pages."""
    return None if wants_json() else current_app.extensions.get(ERROR_PAGES_EXTENSION)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        response = _json_error(exc.status, exc.message, exc.fields, exc.code)
        if getattr(exc, "retry_after", None):  # 429 of the login limiter
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.errorhandler(ValidationError)
    def _validation_error(exc: ValidationError):
        fields = flatten_messages(exc.messages)
        return _json_error(422, failed(fields), fields)

    # HTTP errors (404, 405, 429 ...) are answered by Api.handle_http_exception (api.py): flask-smorest
    # registers it for HTTPException, which Flask prefers to the Exception handler below.
    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        pages = error_pages()
        if pages is not None:
            return pages.server_error_page()
        return _json_error(500, Msg("An unexpected error occurred; it has been logged."))


def http_exception_response(exc: HTTPException):
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages")
    if status in (400, 422) and messages:
        fields = validation_fields(messages)
        if status == 400 and "json" in (messages or {}):
            # webargs reports malformed JSON under "json" -> "_schema"
            return _json_error(400, Msg("Malformed JSON body"), fields)
        return _json_error(422, failed(fields), fields)
    if status == 429:
        return _json_error(429, Msg("Too many requests (%(limit)s); try again later", limit=exc.description))
    # werkzeug's descriptions are English sentences: the status's message code instead (a Msg passed as the
    # description is kept)
    message = exc.description if isinstance(exc.description, Msg) else STATUS_MESSAGES.get(status, Msg("Error"))
    return with_allow(exc, _json_error(status, message))


def with_allow(exc: HTTPException, response):
    """A 405 names the methods the resource does allow (RFC 9110 §15.5.6), on JSON and HTML answers alike."""
    methods = getattr(exc, "valid_methods", None)
    if exc.code == 405 and methods:
        response.headers["Allow"] = ", ".join(sorted(methods))
    return response
