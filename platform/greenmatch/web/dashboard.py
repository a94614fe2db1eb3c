"""Data of the statistics dashboard: :func:`greenmatch.catalog.stats.overview` plus the amounts financed
("funds reached") split like the overview's need (by level-1 area, prefecture, instrument, month).

The overview's ``total_financed_cny`` comes from the providers matching registers, the split by area,
prefecture, instrument and month from its ``financed_split`` section (both over the same scope, so they agree).
"""

from __future__ import annotations

from typing import Any

from ..accounts.models import User
from ..catalog import stats


def dashboard(actor: User, region: str | None) -> dict[str, Any]:
    """The overview for the actor's scope, with ``financed`` added to each category/region/instrument row
    and ``financed_cny`` to each month."""
    body = stats.overview(actor, region)
    split = body.pop("financed_split")
    by_instrument = {row["instrument"]: row["financed_cny"] for row in body.get("engagements_by_instrument") or []}
    if by_instrument:
        split["by_instrument"] = by_instrument
    for row in body["by_category"]:
        row["financed_cny"] = round(split["by_category"].get(row["code"], 0.0), 2)
    for row in body["by_region"]:
        row["financed_cny"] = round(split["by_region"].get(row["code"], 0.0), 2)
    for row in body["by_instrument"]:
        row["financed_cny"] = round(split["by_instrument"].get(row["key"], 0.0), 2)
    for row in body["monthly"]:
        row["financed_cny"] = round(split["by_month"].get(row["month"], 0.0), 2)
    return body
