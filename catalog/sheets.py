"""What every spreadsheet the platform writes or reads shares: safe cell values, header style, bytes.

Cell safety (every sheet, every text cell, through :func:`safe_text`):

* Characters XML 1.0 forbids (C0 controls other than tab, LF and CR, as openpyxl's
  ``ILLEGAL_CHARACTERS_RE`` lists them) are removed: one of them in a project name used to make every later
  export fail with ``IllegalCharacterError``.
* Text that a spreadsheet program would read as a formula — beginning with ``=``, ``+``, ``-``, ``@``, a tab or
  a carriage return — is prefixed with a single quote, as OWASP's *CSV Injection* guidance recommends
  (https://owasp.org/www-community/attacks/CSV_Injection), and written as a string cell, never a formula.
  :func:`unescape_text` takes the quote off again when such a cell is imported, so an exported workbook
  re-imports to the original text.
"""

from __future__ import annotations

import io
from typing import Any

from flask import current_app
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")  # OWASP CSV Injection: characters that start a formula
ESCAPE = "'"
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="E2EFDA")
HEADER_ALIGNMENT = Alignment(vertical="center", wrap_text=True)


def safe_text(text: str) -> str:
    """``text`` as it may stand in a cell: no XML-illegal characters, formula-like text quoted."""
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    return ESCAPE + text if text.startswith(FORMULA_TRIGGERS) else text


def safe_value(value: Any) -> Any:
    """A cell value: text through :func:`safe_text`; numbers, dates and None unchanged."""
    return safe_text(value) if isinstance(value, str) else value


def unescape_text(text: str) -> str:
    """The inverse of the formula quoting of :func:`safe_text` for an imported text cell."""
    if text.startswith(ESCAPE) and text[1:].startswith(FORMULA_TRIGGERS):
        return text[1:]
    return text


def workbook_bytes(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def setting(name: str, default: int) -> int:
    return int(current_app.config.get(name, default))
