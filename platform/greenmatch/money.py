"""The one field for amounts of money (yuan, CNY) wherever they are accepted: API bodies, page forms,
product params of every instrument plugin.

An amount is kept to the fen (0.01 yuan), the smallest unit there is: more decimal places than that —
``1.005`` or ``0.001`` — cannot be represented, so they are refused naming the field (422 on the API),
never rounded silently.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import fields, validate

from .text import Amount, Msg

# Ceiling that catches typing mistakes (an extra zero or two), not real amounts: the largest single
# industrial projects in China are in the hundreds of billions of yuan.
MAX_AMOUNT_CNY = 1e12
FEN_PLACES = 2
SUB_FEN = Msg("At most 2 decimal places: amounts are in yuan, to the fen.")


def decimal_places(value: Any) -> int:
    """How many decimal places ``value`` needs (trailing zeros do not count); 0 for what is not a number."""
    try:
        exact = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return 0
    if not exact.is_finite():
        return 0
    exponent = exact.normalize().as_tuple().exponent
    return max(0, -int(exponent))


class Money(fields.Float):
    """An amount in yuan to the fen (a float, as the other numbers of the API).

    ``minimum``/``positive``: at least / above it (default: not negative); ``maximum``: the plausibility
    ceiling. Pass ``minimum=None`` for amounts that may be negative (net cash flows)."""

    default_error_messages = {"sub_fen": SUB_FEN}

    def __init__(self, *, minimum: float | None = 0, positive: bool = False, maximum: float = MAX_AMOUNT_CNY,
                 **kwargs: Any) -> None:
        rules = list(kwargs.pop("validate", None) or [])
        if minimum is not None:
            rules.insert(0, validate.Range(min=minimum, min_inclusive=not positive,
                                           error=Msg("Must be more than 0.") if positive
                                           else Msg("Must not be negative.")))
        low = -maximum if minimum is None else None
        rules.append(validate.Range(min=low, max=maximum, error=Msg(
            "Implausibly large (over %(a)s): check the number of zeros.", a=Amount(maximum))))
        kwargs.setdefault("metadata", {}).setdefault("description", "CNY, at most 2 decimal places (fen)")
        super().__init__(validate=rules, allow_nan=False, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float | None:
        number = super()._deserialize(value, attr, data, **kwargs)
        if decimal_places(value) > FEN_PLACES:
            raise self.make_error("sub_fen")
        return number
