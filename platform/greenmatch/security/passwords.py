"""The password policy for new passwords (registration, staff accounts, password changes).

A password is refused, with the reason, when it

* is shorter than ``MIN_LENGTH`` (10) characters,
* contains the e-mail's local part or the organisation's name (or its words of 3+ letters),
* is one character repeated, a sequence (``1234567890``, ``abcdefghij``), a keyboard row, a common password
  (``password12``) or otherwise easy to guess: zxcvbn (https://pypi.org/project/zxcvbn/, Dropbox's estimator
  with its lists of the most common passwords, names and words) scores it below ``MIN_SCORE`` (3 of 4).

:func:`problem` returns the reason as a message code (greenmatch.text), rendered in the caller's language.
"""

from __future__ import annotations

import re

from zxcvbn import zxcvbn

from ..text import Msg

MIN_LENGTH = 10
MIN_SCORE = 3
# zxcvbn looks at the first 100 characters only, and its run time grows with the length
MAX_CHECKED = 100

# zxcvbn's warnings (its English wording, stable across 4.x) -> our message
_WARNINGS = [
    ("Repeats like", Msg("Too easy to guess: it repeats the same characters.")),
    ("Sequences like", Msg("Too easy to guess: it is a sequence like abcd or 1234.")),
    ("keyboard", Msg("Too easy to guess: it is a row of neighbouring keys.")),
    ("top-10 common password", Msg("Too easy to guess: it is one of the most common passwords.")),
    ("top-100 common password", Msg("Too easy to guess: it is one of the most common passwords.")),
    ("very common password", Msg("Too easy to guess: it is one of the most common passwords.")),
    ("similar to a commonly used password", Msg("Too easy to guess: it is close to a common password.")),
    ("Recent years", Msg("Too easy to guess: it is built on a year or a date.")),
    ("Dates are often", Msg("Too easy to guess: it is built on a year or a date.")),
    ("Names and surnames", Msg("Too easy to guess: it is built on a name.")),
    ("Common names", Msg("Too easy to guess: it is built on a name.")),
    ("A word by itself", Msg("Too easy to guess: it is a single common word.")),
]


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[\s\W_]+", text.lower()) if len(w) >= 3]


def problem(password: str, email: str | None = None, org_name: str | None = None) -> Msg | None:
    """Why ``password`` may not be used, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return Msg("Use at least %(n)s characters.", n=MIN_LENGTH)
    lowered = password.lower()
    local = (email or "").split("@")[0].strip().lower()
    if len(local) >= 3 and local in lowered:
        return Msg("Must not contain your e-mail address.")
    names = ([org_name.strip().lower()] if org_name and len(org_name.strip()) >= 2 else []) + _words(org_name or "")
    if any(name in lowered for name in names):
        return Msg("Must not contain your organisation's name.")
    if len(set(password)) == 1:
        return Msg("Too easy to guess: it repeats the same characters.")
    inputs = [v for v in (local, *(_words(local)), *names) if v]
    result = zxcvbn(password[:MAX_CHECKED], user_inputs=inputs)
    if result["score"] >= MIN_SCORE:
        return None
    warning = result["feedback"]["warning"] or ""
    for needle, message in _WARNINGS:
        if needle.lower() in warning.lower():
            return message
    return Msg("Too easy to guess: use a longer mix of words, digits and signs.")
