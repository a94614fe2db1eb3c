"""Statistics for bureaus and admins: the catalogue in numbers, computed with SQL aggregates.

:func:`overview` answers ``GET /stats/overview``: counts by status, by level-1 catalogue area (effective
categories), by prefecture and by preferred instrument; the financing need (approved + submitted) and
the amount financed; submissions and decisions per month.

The scope is the permission layer's: a bureau counts the (non-draft) projects of its jurisdiction, an
admin every project; ``region`` narrows it, never widens it.

Extension points for other parts of the platform (append at import time):

* :data:`financed_providers` — ``provider(scope) -> amount`` functions whose sum is ``total_financed_cny``
  (e.g. the engagements' financed amounts of the projects in ``scope.project_ids``);
* :data:`extra_sections` — ``name -> section(scope)`` functions whose results are added to the body under
  their name (e.g. ``"products"``, ``"engagements"``); register with :func:`stats_section`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, case, func, literal, or_, select

from greenmatch import permissions, reference
from greenmatch.accounts.models import Role, User
from greenmatch.codes import region_covers
from greenmatch.errors import Forbidden, Invalid
from greenmatch.extensions import db
from greenmatch.instruments import current_plugins
from greenmatch.text import Msg, Name

from .models import Project, ProjectCategory, ProjectStatus, ProjectTransition

# China time, for the months counted here and the export's dates: no daylight saving, so a fixed offset.
CHINA_TZ = dt.timezone(dt.timedelta(hours=8), "CST")
# Statuses whose financing need counts as "need": in the library or waiting for review.
NEED_STATUSES = (ProjectStatus.approved.value, ProjectStatus.submitted.value)
# Transitions counted per month.
MONTHLY_TRANSITIONS = (ProjectStatus.submitted.value, ProjectStatus.approved.value, ProjectStatus.rejected.value)
DEFAULT_MONTHS = 12
MAX_MONTHS = 60
STATUS_KEYS = ("draft", "submitted", "returned", "approved", "rejected")  # names: greenmatch.labels


@dataclass(frozen=True)
class StatsScope:
    """What one overview counts: the caller, the region asked for (None: all the caller may see) and
    ``project_ids``, a ``SELECT projects.id`` of the projects in scope (use ``Model.project_id.in_(...)``)."""

    actor: User
    region: str | None
    project_ids: Select

    def scoped(self, stmt: Select) -> Select:
        """``stmt`` (selecting from ``projects``) restricted to the projects in scope."""
        return _restrict(stmt, self.actor, self.region)


FinancedProvider = Callable[[StatsScope], float | Decimal | int | None]
Section = Callable[[StatsScope], Any]

#: Functions giving the amount financed (CNY) of the projects in scope; their sum is ``total_financed_cny``.
financed_providers: list[FinancedProvider] = []
#: Extra sections of the overview body: name -> function(scope) returning a JSON-able value.
extra_sections: dict[str, Section] = {}


def stats_section(name: str) -> Callable[[Section], Section]:
    """Decorator registering an extra section of the overview under ``name``."""

    def register(func: Section) -> Section:
        extra_sections[name] = func
        return func

    return register


def _restrict(stmt: Select, actor: User, region: str | None) -> Select:
    stmt = permissions.visible(Project, actor, stmt)
    if region:
        stmt = stmt.where(Project.in_region(region))
    return stmt


def resolve_scope(actor: User, region: str | None) -> StatsScope:
    """The scope of an overview: bureaus their jurisdiction (``region`` may narrow it: a region outside
    is a 403), admins everything or ``region``."""
    if actor.role not in (Role.bureau, Role.admin):
        raise Forbidden(Msg("Statistics are for industry bureaus and admins."))
    if region is not None and not reference.is_region(region):
        raise Invalid.field("region", Msg("Unknown region code."))
    if actor.role == Role.bureau:
        jurisdiction = actor.organization.region_code
        if region is None:
            region = jurisdiction
        elif not region_covers(jurisdiction, region):
            raise Forbidden(Msg("Region %(region)s is outside your jurisdiction %(jurisdiction)s",
                                region=Name("region", region), jurisdiction=Name("region", jurisdiction)))
    return StatsScope(actor, region, _restrict(select(Project.id), actor, region))


def _money(value: Any) -> float:
    return round(float(value or 0), 2)


def _need(amount: Any = Project.financing_need_cny) -> Any:
    return case((Project.status.in_(NEED_STATUSES), amount), else_=0)


def _by_status(scope: StatsScope) -> tuple[dict[str, int], dict[str, float]]:
    rows = db.session.execute(scope.scoped(
        select(Project.status, func.count(Project.id), func.sum(Project.financing_need_cny))
        .group_by(Project.status))).all()
    counts = dict.fromkeys(STATUS_KEYS, 0)
    need = dict.fromkeys(STATUS_KEYS, 0.0)
    for status, count, amount in rows:
        counts[status] = count
        need[status] = _money(amount)
    return counts, need


def _area_expression() -> Any:
    """The level-1 area of a catalogue code, in SQL (the catalogue's own level-1 codes, prefix semantics)."""
    areas = [c.code for c in reference.children(None)]
    return case(*((or_(ProjectCategory.code == a, ProjectCategory.code.startswith(a + ".")), literal(a))
                  for a in areas), else_=literal(""))


def _by_category(scope: StatsScope) -> tuple[list[dict[str, Any]], int]:
    pairs = (select(ProjectCategory.project_id.label("project_id"), _area_expression().label("area"))
             .where(ProjectCategory.effective.is_(True), ProjectCategory.project_id.in_(scope.project_ids))
             .distinct().subquery())
    rows = db.session.execute(
        select(pairs.c.area, func.count(Project.id),
               func.sum(case((Project.status == ProjectStatus.approved, 1), else_=0)),
               func.sum(_need()))
        .join(Project, Project.id == pairs.c.project_id)
        .group_by(pairs.c.area)).all()
    found = {area: (count, approved, amount) for area, count, approved, amount in rows}
    out = []
    for cat in reference.children(None):
        count, approved, amount = found.get(cat.code, (0, 0, 0))
        out.append({"code": cat.code, "name_zh": cat.name_zh, "name_en": cat.name_en, "projects": count,
                    "approved": int(approved or 0), "financing_need_cny": _money(amount)})
    with_category = select(ProjectCategory.project_id).where(ProjectCategory.effective.is_(True))
    uncategorised = db.session.scalar(scope.scoped(
        select(func.count(Project.id)).where(Project.id.not_in(with_category)))) or 0
    return out, uncategorised


def _by_region(scope: StatsScope) -> list[dict[str, Any]]:
    """Per prefecture (``xxyy00``; a municipality's districts count under its ``xx0100``)."""
    inner = scope.scoped(select(func.substr(Project.region_code, 1, 4).label("prefix"), Project.status,
                                Project.financing_need_cny)).subquery()
    rows = db.session.execute(
        select(inner.c.prefix, func.count(),
               func.sum(case((inner.c.status == ProjectStatus.approved, 1), else_=0)),
               func.sum(case((inner.c.status.in_(NEED_STATUSES), inner.c.financing_need_cny), else_=0)))
        .group_by(inner.c.prefix).order_by(inner.c.prefix)).all()
    out = []
    for prefix, count, approved, amount in rows:
        code = f"{prefix}00"
        out.append({"code": code, "name_zh": reference.region_name(code, full=True) or code, "projects": count,
                    "approved": int(approved or 0), "financing_need_cny": _money(amount)})
    return out


def _by_instrument(scope: StatsScope) -> list[dict[str, Any]]:
    """Projects naming each installed instrument among their preferred ones (one SQL pass, a column pair
    per instrument: :meth:`Project.prefers`, the filter of ``GET /projects?instrument=``)."""
    plugins = current_plugins()
    if not plugins:
        return []
    columns = []
    for key in plugins:
        wants = Project.prefers(key)
        columns += [func.sum(case((wants, 1), else_=0)), func.sum(case((wants, _need()), else_=0))]
    row = db.session.execute(scope.scoped(select(*columns))).one()
    out = []
    for index, (key, plugin) in enumerate(plugins.items()):
        out.append({"key": key, "name_zh": plugin.name_zh, "name_en": plugin.name_en,
                    "projects": int(row[2 * index] or 0), "financing_need_cny": _money(row[2 * index + 1])})
    return out


def _month_expression(column: Any) -> Any:
    """``YYYY-MM`` of a UTC timestamp in China time, per database."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("Asia/Shanghai", column), "YYYY-MM")
    return func.strftime("%Y-%m", column, "+8 hours")


def _month_starts(months: int, today: dt.date) -> list[dt.date]:
    first = today.replace(day=1)
    out = []
    year, month = first.year, first.month
    for _ in range(months):
        out.append(dt.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(out))


def _monthly(scope: StatsScope, months: int) -> list[dict[str, Any]]:
    now = dt.datetime.now(CHINA_TZ)
    starts = _month_starts(months, now.date())
    since = dt.datetime.combine(starts[0], dt.time(), CHINA_TZ).astimezone(dt.UTC)
    inner = (select(_month_expression(ProjectTransition.at).label("month"), ProjectTransition.to_status)
             .where(ProjectTransition.project_id.in_(scope.project_ids), ProjectTransition.at >= since,
                    ProjectTransition.to_status.in_(MONTHLY_TRANSITIONS))
             .subquery())
    rows = db.session.execute(select(inner.c.month, inner.c.to_status, func.count())
                              .group_by(inner.c.month, inner.c.to_status)).all()
    counts = {(month, status): count for month, status, count in rows}
    return [{"month": f"{start:%Y-%m}", **{status: counts.get((f"{start:%Y-%m}", status), 0)
                                           for status in MONTHLY_TRANSITIONS}} for start in starts]


def total_financed(scope: StatsScope, financed_by: FinancedProvider | None = None) -> float:
    providers = [financed_by] if financed_by is not None else list(financed_providers)
    return _money(sum(float(provider(scope) or 0) for provider in providers))


def overview(actor: User, region: str | None = None, *, months: int = DEFAULT_MONTHS,
             financed_by: FinancedProvider | None = None) -> dict[str, Any]:
    """The statistics overview (see the module docstring). ``financed_by`` replaces the registered
    :data:`financed_providers` (tests, one-off reports)."""
    if not 1 <= months <= MAX_MONTHS:
        raise Invalid.field("months", Msg("Must be %(min_op)s %(min)s and %(max_op)s %(max)s.", min_op=Msg("at least"),
                                          min=1, max_op=Msg("at most"), max=MAX_MONTHS))
    scope = resolve_scope(actor, region)
    counts, need_by_status = _by_status(scope)
    by_category, uncategorised = _by_category(scope)
    body: dict[str, Any] = {
        "scope": {"region": scope.region,
                  "name_zh": reference.region_name(scope.region, full=True) if scope.region else "全国",
                  "role": actor.role},
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "total_projects": sum(counts.values()),
        "by_status": counts,
        "total_financing_need_cny": _money(sum(need_by_status[s] for s in NEED_STATUSES)),
        "financing_need_by_status": {s: need_by_status[s] for s in NEED_STATUSES},
        "total_financed_cny": total_financed(scope, financed_by),
        "by_category": by_category,
        "uncategorised": uncategorised,
        "by_region": _by_region(scope),
        "by_instrument": _by_instrument(scope),
        "monthly": _monthly(scope, months),
    }
    for name, section in extra_sections.items():
        body[name] = section(scope)
    return body


__all__ = ["overview", "resolve_scope", "StatsScope", "financed_providers", "extra_sections", "stats_section",
           "total_financed"]
