"""Bytes no handler should ever see, refused at the door with the contract's error shape.

One ``before_request`` check, before authentication and before any view or schema:

* **Query strings and form fields**: a NUL or another C0 control character (CR and LF included) in a name or
  value is a 400 naming the parameter. PostgreSQL text cannot hold NUL (psycopg raised ``DataError``, a 500),
  and CR/LF in a value that ends up in a header (``next=`` after login) broke the redirect. Tab stays legal in
  form fields (pasted text), never in the query string.
* **JSON bodies**: nesting deeper than ``JSON_MAX_DEPTH`` (64; no request of the API nests more than 4) is a 400
  before the parser runs (1,000 levels made Python's parser raise ``RecursionError``); malformed JSON is a 400;
  a NUL or a lone UTF-16 surrogate (``"\\ud800"``, which no UTF-8 database text can store) in any string or
  key is a 400 whose ``fields`` name the JSON path (``organization.name``, ``categories.0``).

All are 400 (malformed request), answered before authentication: such bytes are refused whoever sends them,
and the status order of the contract (401, 403, 404, 422, 409) applies to well-formed requests.

Pages get the same statuses as HTML error pages (see :mod:`greenmatch.web.errors`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from flask import Flask, request
from flask_babel import lazy_gettext as _l

from .errors import ApiError

JSON_MAX_DEPTH = 64
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_FORM_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tab, LF and CR allowed in textareas
_BAD_STRING = re.compile(r"[\x00\ud800-\udfff]")
# JSON tokens that matter for nesting: strings (skipped whole, escapes included) and brackets.
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)


class BadRequest(ApiError):
    status, code, message = 400, "bad_request", "Bad request"


def _problem(name: str, message: Any) -> ApiError:
    return BadRequest(f"{name}: {message}", fields={name: [str(message)]})


def check_query_and_form() -> None:
    for name, value in request.args.items(multi=True):
        if _CONTROL.search(name) or _CONTROL.search(value):
            raise _problem(_CONTROL.sub("?", name), _l("contains a control character (NUL, CR, LF …)"))
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, value in request.form.items(multi=True):
            if _FORM_CONTROL.search(name) or _FORM_CONTROL.search(value):
                raise _problem(_CONTROL.sub("?", name), _l("contains a control character (NUL, CR, LF …)"))
        for name, upload in request.files.items(multi=True):
            if upload.filename and _CONTROL.search(upload.filename):
                raise _problem(name, _l("the file name contains a control character"))


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in a JSON text (strings skipped), without parsing it."""
    depth = deepest = 0
    for match in _JSON_TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif token in "]}":
            depth -= 1
    return deepest


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every (path, string) of a parsed JSON document, keys included; iterative (any depth)."""
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            for key, child in item.items():
                child_path = f"{where}.{key}" if where else str(key)
                yield child_path, key
                stack.append((child_path, child))
        elif isinstance(item, list):
            stack.extend((f"{where}.{i}" if where else str(i), child) for i, child in enumerate(item))


def check_json_body() -> None:
    if not request.is_json:
        return
    raw = request.get_data(cache=True)
    if not raw.strip():
        return
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _problem("_body", _l("the JSON body is not valid UTF-8")) from None
    if text.count("[") + text.count("{") > JSON_MAX_DEPTH and json_depth(text) > JSON_MAX_DEPTH:
        raise _problem("_body", _l("the JSON body nests deeper than %(n)s levels", n=JSON_MAX_DEPTH))
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        raise _problem("_body", _l("malformed JSON")) from None
    bad = sorted({_CONTROL.sub("?", _BAD_STRING.sub("?", where)) or "_body"
                  for where, value in _strings(document) if _BAD_STRING.search(value)})
    if bad:
        message = _l("contains a NUL character or an unpaired UTF-16 surrogate")
        raise BadRequest(f"{', '.join(bad)}: {message}", fields={name: [str(message)] for name in bad})


def install(app: Flask) -> None:
    @app.before_request
    def _refuse_bad_bytes() -> None:
        check_query_and_form()
        check_json_body()
