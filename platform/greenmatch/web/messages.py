"""Validation and error messages of the services and schemas, shown on pages in the user's language.

The schemas (marshmallow) and services answer in English, as the API does. Pages show the same message,
translated when it is one of the known forms below (patterns keep the variable parts); an unknown
message is shown as it is, so nothing is ever hidden.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

# (pattern, message with %(name)s for the named groups); first match wins.
PATTERNS: list[tuple[re.Pattern[str], Any]] = [(re.compile(p), m) for p, m in [
    (r"^Missing data for required field\.$", _l("This field is required.")),
    (r"^Field may not be null\.$", _l("This field is required.")),
    (r"^Not a valid number\.$", _l("Enter a number.")),
    (r"^Not a valid integer\.$", _l("Enter a whole number.")),
    (r"^Not a valid boolean\.$", _l("Choose yes or no.")),
    (r"^Not a valid email address\.$", _l("Enter a valid e-mail address.")),
    (r"^Not a valid date\.$", _l("Enter a valid date.")),
    (r"^Not a valid string\.$", _l("Enter text.")),
    (r"^Not a valid list\.$", _l("Choose from the list.")),
    (r"^Unknown field\.$", _l("Unknown field.")),
    (r"^Shorter than minimum length (?P<n>\d+)\.$", _l("Enter at least %(n)s characters.")),
    (r"^Longer than maximum length (?P<n>\d+)\.$", _l("Enter at most %(n)s characters.")),
    (r"^Length must be between (?P<a>\d+) and (?P<b>\d+)\.$", _l("Enter between %(a)s and %(b)s characters.")),
    (r"^Must be one of: .*\.$", _l("Choose one of the options.")),
    (r"^Must be greater than or equal to (?P<a>[-\d.,e+]+)\.$", _l("Must be at least %(a)s.")),
    (r"^Must be greater than (?P<a>[-\d.,e+]+)\.$", _l("Must be more than %(a)s.")),
    (r"^Must be less than or equal to (?P<a>[-\d.,e+]+)\.$", _l("Must be at most %(a)s.")),
    (r"^Must be less than (?P<a>[-\d.,e+]+)\.$", _l("Must be less than %(a)s.")),
    (r"^Must be greater than(?: or equal to)? (?P<a>[-\d.,e+]+) and less than(?: or equal to)? (?P<b>[-\d.,e+]+)\.$",
     _l("Must be between %(a)s and %(b)s.")),
    (r"^must be above 0$", _l("Must be more than 0.")),
    (r"^must be at least 0$", _l("Must not be negative.")),
    (r"^is implausibly large \(over (?P<a>.+)\)$", _l("Implausibly large (over %(a)s): check the number of zeros.")),
    (r"^(?P<c>\S+) is not a level-3 item of the 2025 catalogue$",
     _l("%(c)s is not a level-3 item of the 2025 catalogue.")),
    (r"^unknown catalogue code (?P<c>\S+)$", _l("Unknown catalogue code %(c)s.")),
    (r"^unknown catalogue codes: (?P<c>.+)$", _l("Unknown catalogue codes: %(c)s.")),
    (r"^unknown GB/T 2260 region code$", _l("Unknown region code.")),
    (r"^unknown region codes: (?P<c>.+)$", _l("Unknown region codes: %(c)s.")),
    (r"^must be a GB/T 4754-2017 code of 2-4 digits, e\.g\. 4416 or D4416$",
     _l("Enter a GB/T 4754-2017 industry code of 2–4 digits, e.g. 4416.")),
    (r"^unknown GB/T 4754-2017 code (?P<c>\S+)$", _l("Unknown GB/T 4754-2017 industry code %(c)s.")),
    (r"^must be between 1949 and (?P<y>\d+)$", _l("Must be a year between 1949 and %(y)s.")),
    (r"^unknown instruments: (?P<c>.+)$", _l("Unknown instruments: %(c)s.")),
    (r"^must not exceed total_investment_cny$", _l("Must not exceed the total investment.")),
    (r"^not a phone number$", _l("Enter a phone number, e.g. 0313-5261188.")),
    (r"^contains duplicates$", _l("Contains duplicates.")),
    (r"^invalid unified social credit code: must be 18 characters$",
     _l("A unified social credit code has 18 characters.")),
    (r"^invalid unified social credit code: contains characters not allowed by GB 32100-2015$",
     _l("Contains characters not allowed in a unified social credit code (no I, O, Z, S, V).")),
    (r"^invalid unified social credit code: check character does not match \(GB 32100-2015\)$",
     _l("The check character does not match: please check the code for typos.")),
    (r"^must be at least (?P<n>\d+) characters$", _l("Use at least %(n)s characters.")),
    (r"^must not contain your e-mail address$", _l("Must not contain your e-mail address.")),
    (r"^must not contain your organisation's name$", _l("Must not contain your organisation's name.")),
    (r"^too easy to guess: it repeats the same characters$",
     _l("Too easy to guess: it repeats the same characters.")),
    (r"^too easy to guess: it is a sequence like abcd or 1234$",
     _l("Too easy to guess: it is a sequence like abcd or 1234.")),
    (r"^too easy to guess: it is a row of neighbouring keys$",
     _l("Too easy to guess: it is a row of neighbouring keys.")),
    (r"^too easy to guess: it is one of the most common passwords$",
     _l("Too easy to guess: it is one of the most common passwords.")),
    (r"^too easy to guess: it is close to a common password$",
     _l("Too easy to guess: it is close to a common password.")),
    (r"^too easy to guess: it is built on a year or a date$",
     _l("Too easy to guess: it is built on a year or a date.")),
    (r"^too easy to guess: it is built on a name$", _l("Too easy to guess: it is built on a name.")),
    (r"^too easy to guess: it is a single common word$", _l("Too easy to guess: it is a single common word.")),
    (r"^too easy to guess: use a longer mix of words, digits and signs$",
     _l("Too easy to guess: use a longer mix of words, digits and signs.")),
    (r"^is not your current password$", _l("This is not your current password.")),
    (r"^must differ from the current password$", _l("Must differ from your current password.")),
    (r"^required for institutions$", _l("Choose the type of institution.")),
    (r"^only institutions have a type$", _l("Only institutions have a type.")),
    (r"^already registered$", _l("Already registered.")),
    (r"^a note is required to return or reject a project$",
     _l("Write a note to the enterprise when returning or rejecting.")),
    (r"^categories are confirmed when approving$", _l("Categories are confirmed when approving.")),
    (r"^must not be below min_amount_cny$", _l("Must not be below the minimum.")),
    (r"^has more than 2 decimal places: amounts are in yuan to the fen$",
     _l("At most 2 decimal places: amounts are in yuan, to the fen.")),
    (r"^required when the status is financed$", _l("Required when recording financing.")),
    (r"^exceeds the project's total investment$", _l("Exceeds the project's total investment.")),
    (r"^must not be in the future$", _l("Must not be in the future.")),
    (r"^implausibly early date$", _l("Implausibly early date.")),
    (r"^only with status financed$", _l("Only when recording financing.")),
    (r"^already engaged$", _l("You already have an open engagement for this project and product.")),
    (r"^stale$", _l("Someone changed this in the meantime; reload and try again.")),
    (r"^must be one of: (?P<c>.+)$", _l("Must be one of: %(c)s.")),
]]

# Service messages shown in flashes (Conflict / Forbidden ...), translated when known.
SERVICE_PATTERNS: list[tuple[re.Pattern[str], Any]] = [(re.compile(p), m) for p, m in [
    (r"^An account with this e-mail already exists$", _l("An account with this e-mail already exists.")),
    (r"^An organisation with this USCC is already registered$",
     _l("An organisation with this unified social credit code is already registered.")),
    (r"^A project can only be edited in draft or returned status, not (?P<s>\w+)$",
     _l("A project can only be edited while it is a draft or returned for changes.")),
    (r"^Cannot (?P<a>[\w ]+) a project in status (?P<s>\w+)$",
     _l("This action is not possible in the project's current status.")),
    (r"^Cannot (?P<a>[\w ]+) a product in status (?P<s>\w+)$",
     _l("This action is not possible in the product's current status.")),
    (r"^Cannot (?P<a>[\w ]+) an engagement in status (?P<s>\w+)$",
     _l("This action is not possible in the engagement's current status.")),
    (r"^The (project|product|engagement) was changed by someone else.*$",
     _l("Someone changed this in the meantime; reload the page and apply your change again.")),
    (r"^An engagement for this project and product is already open.*$",
     _l("You already have an open engagement for this project and product.")),
    (r"^The project is no longer in the approved catalogue$",
     _l("The project is no longer in the approved catalogue.")),
    (r"^Your institution has not been verified by the platform yet$",
     _l("Your institution has not been verified by the platform yet.")),
    (r"^Only financial institutions need verification$", _l("Only financial institutions need verification.")),
    (r"^Statistics are for industry bureaus and admins$", _l("Statistics are for industry bureaus and admins.")),
    (r"^This needs the role .*$", _l("Your account's role does not allow this.")),
    (r"^You may not .*$", _l("You are not allowed to do this.")),
    (r"^Full re-match run #(?P<n>\d+) is still running.*$",
     _l("Matching run #%(n)s is still running; try again when it has finished.")),
    (r"^(?P<n>\d+) projects match; narrow the filters to at most (?P<m>\d+) per export$",
     _l("%(n)s projects match; narrow the filters to at most %(m)s per export.")),
]]


def _apply(patterns: list[tuple[re.Pattern[str], Any]], message: str) -> str | None:
    for pattern, template in patterns:
        found = pattern.match(message.strip())
        if found:
            return str(template) % found.groupdict() if found.groupdict() else str(template)
    return None


def translate(message: Any) -> str:
    """One field message in the page's language (unknown ones unchanged)."""
    text = str(message)
    return _apply(PATTERNS, text) or text


def translate_service(message: Any) -> str:
    text = str(message)
    return _apply(SERVICE_PATTERNS, text) or _apply(PATTERNS, text) or text


def field_errors(fields: Mapping[str, list[str]] | None) -> dict[str, list[str]]:
    """``{"benefits.co2_reduction_t": ["Not a valid number."]}`` translated for the page."""
    out: dict[str, list[str]] = {}
    for name, messages in (fields or {}).items():
        if isinstance(messages, str):
            messages = [messages]
        out[name] = [translate(m) for m in messages]
    return out


def form_problem() -> str:
    return _("Please correct the fields marked below.")
