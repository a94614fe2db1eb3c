"""Messages on pages: the services' message codes (greenmatch.text) rendered in the page's language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _

from ..text import render


def field_errors(fields: Mapping[str, Any] | None) -> dict[str, list[str]]:
    """``{"benefits.co2_reduction_t": [Msg("Enter a number.")]}`` rendered for the page."""
    out: dict[str, list[str]] = {}
    for name, messages in (fields or {}).items():
        if not isinstance(messages, list | tuple):
            messages = [messages]
        out[name] = [render(m) for m in messages]
    return out


def form_problem() -> str:
    return _("Please correct the fields marked below.")
