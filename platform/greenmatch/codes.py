"""Code formats of the contract: catalogue codes, GB/T 4754 industry codes, GB/T 2260 regions, USCC.

Pure functions; the reference data (which codes exist) lives in ``greenmatch.reference``.
"""

from __future__ import annotations

import re

from .text import Msg

_INDUSTRY = re.compile(r"^(?:[A-Ta-t])?(\d{2}|\d{3}|\d{4})$")
_REGION = re.compile(r"^\d{6}$")


def normalize_industry_code(code: str) -> str | None:
    """``"D4416"`` -> ``"4416"``; 2-4 digits, an optional leading section letter; None if malformed."""
    match = _INDUSTRY.match((code or "").strip())
    return match.group(1) if match else None


def region_prefix(code: str) -> str:
    """The non-zero prefix a region covers: 130000 -> "13", 130700 -> "1307", 130702 -> "130702"."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def region_covers(region: str, other: str) -> bool:
    """Whether ``region`` covers ``other`` (a province covers its cities and counties)."""
    return other.startswith(region_prefix(region))


def category_covers(code: str, other: str) -> bool:
    """Prefix semantics on dotted catalogue codes: "4.2" covers "4.2.2"; "1.1.1" does not cover "1.1.10"."""
    return other == code or other.startswith(code + ".")


# GB 32100-2015: 18 characters from this alphabet (no I, O, Z, S, V); weights 3^i mod 31.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(ch) * w for ch, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_problem(code: str) -> Msg | None:
    """None when ``code`` is a valid unified social credit code, else what is wrong with it."""
    code = (code or "").strip().upper()
    if len(code) != 18:
        return Msg("A unified social credit code has 18 characters.")
    if not _USCC.match(code):
        return Msg("Contains characters not allowed in a unified social credit code (no I, O, Z, S, V).")
    if uscc_check_char(code[:17]) != code[17]:
        return Msg("The check character does not match: please check the code for typos.")
    return None


def make_uscc(body17: str) -> str:
    """Complete 17 characters with their check character (used by demo data and tests)."""
    return body17 + uscc_check_char(body17)
