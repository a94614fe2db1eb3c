"""Data of the statistics dashboard: :func:`greenmatch.catalog.stats.overview` plus the amounts financed
("funds reached") split like the overview's need (by level-1 area, prefecture, instrument, month).

The overview's ``total_financed_cny`` comes from the providers matching registers; the amount per instrument
from its ``engagements_by_instrument`` section. The overview has no financed amount per area, prefecture or
month yet: :func:`financed_split` reads the financed engagements of the projects in the overview's own scope
(``StatsScope.project_ids``), so the split always agrees with the total. (It belongs in ``catalog/stats.py``
as a section; move it there when that module grows one.)
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select

from ..accounts.models import User
from ..catalog import stats
from ..catalog.models import Project, ProjectCategory
from ..extensions import db
from ..matching.models import Engagement, EngagementStatus
from ..products.models import Product


def financed_split(scope: stats.StatsScope) -> dict[str, dict[str, float]]:
    rows = db.session.execute(
        select(Engagement.project_id, Engagement.financed_amount_cny, Engagement.financed_on, Project.region_code,
               Product.instrument)
        .join(Project, Project.id == Engagement.project_id).join(Product, Product.id == Engagement.product_id)
        .where(Engagement.status == EngagementStatus.financed, Engagement.project_id.in_(scope.project_ids))).all()
    areas: dict[int, set[str]] = defaultdict(set)
    ids = {row.project_id for row in rows}
    if ids:
        for project_id, code in db.session.execute(
                select(ProjectCategory.project_id, ProjectCategory.code)
                .where(ProjectCategory.project_id.in_(ids), ProjectCategory.effective.is_(True))):
            areas[project_id].add(code.split(".")[0])
    out: dict[str, dict[str, float]] = {"by_category": defaultdict(float), "by_region": defaultdict(float),
                                        "by_instrument": defaultdict(float), "by_month": defaultdict(float)}
    for row in rows:
        amount = float(row.financed_amount_cny or 0)
        for area in areas.get(row.project_id, ()):
            out["by_category"][area] += amount
        out["by_region"][f"{row.region_code[:4]}00"] += amount
        out["by_instrument"][row.instrument] += amount
        if row.financed_on is not None:
            out["by_month"][f"{row.financed_on:%Y-%m}"] += amount
    return {name: dict(values) for name, values in out.items()}


def dashboard(actor: User, region: str | None) -> dict[str, Any]:
    """The overview for the actor's scope, with ``financed`` added to each category/region/instrument row
    and ``financed_cny`` to each month."""
    body = stats.overview(actor, region)
    split = financed_split(stats.resolve_scope(actor, region))
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
