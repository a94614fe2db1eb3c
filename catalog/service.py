"""Rules and transactions of the project catalogue: the draft → submitted → approved lifecycle,
bureau review with category confirmation, optimistic locking, history, assessment, visibility.

Views call these functions with the authenticated actor; every function checks permissions
through :mod:`greenmatch.permissions` and commits (or raises, leaving nothing half-written).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask import current_app
from sqlalchemy import Select, case, or_, select

from greenmatch import permissions, signals, versioning
from greenmatch.accounts.models import Role, User
from greenmatch.db import utcnow
from greenmatch.errors import Conflict, Invalid
from greenmatch.extensions import db
from greenmatch.instruments import current_plugins
from greenmatch.rules_settings import EXTENSION_KEY as RULES_EXTENSION
from greenmatch.rules_settings import RuleSettings
from greenmatch.states import StateMachine
from greenmatch.text import Msg

from . import classifier
from .assessment import Assessment, assess
from .models import CategorySource, Project, ProjectCategory, ProjectStatus, ProjectTransition

EDITABLE = frozenset({ProjectStatus.draft, ProjectStatus.returned})
# decision -> (statuses it may start from, status it leads to)
TRANSITIONS = StateMachine("project", {
    "submit": (EDITABLE, ProjectStatus.submitted),
    "approve": (frozenset({ProjectStatus.submitted}), ProjectStatus.approved),
    "return": (frozenset({ProjectStatus.submitted}), ProjectStatus.returned),
    "reject": (frozenset({ProjectStatus.submitted}), ProjectStatus.rejected),
})
DECISIONS = frozenset({"approve", "return", "reject"})
# Review-queue tiers (see review_queue): (project attribute, value, tier), the first match wins; else OTHER_TIER.
# Green priority first (seed 002 "优先受理绿色项目"): unflagged green labels, then flagged projects (两高,
# vetoes, signals — each shown with its reason), then the rest. A flagged dark-green project is flagged.
QUEUE_TIERS: tuple[tuple[str, Any, int], ...] = (("flagged", True, 1), ("label", "dark_green", 0),
                                                 ("label", "light_green", 0))
OTHER_TIER = 2


# -- reading -------------------------------------------------------------------------------------
def get_project(actor: User | None, project_id: int) -> Project:
    return permissions.get_visible(Project, project_id, actor)


def filtered(actor: User | None, args: Mapping[str, Any]) -> Select:
    """Visible projects filtered as ``GET /projects`` describes (category and region by prefix)."""
    stmt = permissions.visible(Project, actor)
    if args.get("status"):
        stmt = stmt.where(Project.status == args["status"])
    if args.get("region"):
        stmt = stmt.where(Project.in_region(args["region"]))
    if args.get("category"):
        stmt = stmt.where(Project.has_category(args["category"]))
    if args.get("instrument"):
        stmt = stmt.where(Project.prefers(args["instrument"]))
    if args.get("q"):
        like = f"%{args['q']}%"
        stmt = stmt.where(or_(Project.name.ilike(like), Project.description.ilike(like)))
    return stmt.order_by(*_ordering(args.get("sort", "-updated_at")), Project.id.desc())


def _ordering(sort: str) -> list[Any]:
    column = {"updated_at": Project.updated_at, "green_score": Project.green_score, "name": Project.name,
              "financing_need_cny": Project.financing_need_cny}[sort.lstrip("-")]
    return [column.desc() if sort.startswith("-") else column.asc()]


def review_queue(actor: User) -> Select:
    """Submitted projects in the bureau's jurisdiction, in green-priority order (the "green approval
    channel", seed 002 优先受理绿色项目): tier 0 unflagged green labels, tier 1 flagged projects (两高,
    compliance vetoes, greenwashing signals), tier 2 the rest; oldest first in a tier."""
    permissions.check_role(actor, Role.bureau, Role.admin)
    tier = case(*((getattr(Project, attr) == value, rank) for attr, value, rank in QUEUE_TIERS), else_=OTHER_TIER)
    return (permissions.visible(Project, actor)
            .where(Project.status == ProjectStatus.submitted)
            .order_by(tier, Project.submitted_at.asc(), Project.id.asc()))


def queue_tier(project: Project) -> int:
    """The review-queue tier of a project (the one :func:`review_queue` orders by, in Python)."""
    return next((tier for attr, value, tier in QUEUE_TIERS if getattr(project, attr) == value), OTHER_TIER)


def history(actor: User | None, project_id: int) -> list[ProjectTransition]:
    project = get_project(actor, project_id)
    return list(db.session.scalars(select(ProjectTransition).where(ProjectTransition.project_id == project.id)
                                   .order_by(ProjectTransition.at, ProjectTransition.id)))


def may_see_contact(actor: User | None, project: Project) -> bool:
    return permissions.can(actor, "view_contact", project)


def contact_for(actor: User | None, project: Project) -> dict[str, Any] | None:
    """The project's contact if ``actor`` may see it (its enterprise, an institution it accepted ...)."""
    return project.contact if may_see_contact(actor, project) else None


class ProjectView:
    """A project as one caller may see it: ``contact`` is absent (not null) unless they may see it.
    ``show_contact`` may be a callable, asked on the first read of ``contact`` (a schema that excludes
    the contact, such as a list of leads, then costs no permission query per project)."""

    def __init__(self, project: Project, show_contact: bool | Callable[[], bool]):
        self._project = project
        self._show_contact = show_contact

    def __getattr__(self, name: str) -> Any:
        return getattr(self._project, name)

    @property
    def contact(self) -> Any:
        from marshmallow import missing

        if callable(self._show_contact):
            self._show_contact = bool(self._show_contact())
        return self._project.contact if self._show_contact else missing


def present(project: Project, actor: User | None) -> ProjectView:
    """The project as this caller may see it: ``contact`` only for those the contract names."""
    return ProjectView(project, lambda: may_see_contact(actor, project))


# -- assessment ----------------------------------------------------------------------------------
def rule_settings() -> RuleSettings:
    """The app's rules, built once at app creation (a new instance per call would never reuse its memo)."""
    return current_app.extensions[RULES_EXTENSION]


def assessment_of(project: Project, *, with_instruments: bool = True) -> Assessment:
    sources = {row.code: row.source for row in project.category_rows if row.effective}
    suggestions = [row for row in project.category_rows if row.source == CategorySource.suggested]
    return assess(project.facts(), current_plugins() if with_instruments else {}, rule_settings(),
                  category_sources=sources, classifier=_stored_suggestions(suggestions))


def _stored_suggestions(rows: Iterable[ProjectCategory]):
    """A classifier that answers with the suggestions stored on the project (no recomputation per view)."""
    from greenmatch.reference import catalogue

    stored = [classifier.Suggestion(r.code, catalogue()[r.code].name_zh, catalogue()[r.code].name_en,
                                    r.confidence or 0.0) for r in rows]

    def answer(name: str, description: str = "", industry_code: str | None = None, limit: int = 5):
        return stored[:limit]

    return answer


def get_assessment(actor: User | None, project_id: int) -> Assessment:
    return assessment_of(get_project(actor, project_id))


def _refresh_derived(project: Project) -> None:
    """Re-suggest categories and re-derive score, label and flags after the project changed."""
    _set_suggestions(project)
    _mark_effective(project)
    result = assessment_of(project, with_instruments=False)
    project.green_score = result.green_score
    project.label = result.label
    project.flagged = bool(result.two_high.flag or result.greenwashing_signals or result.compliance.vetoes)


def _set_suggestions(project: Project) -> None:
    found = classifier.classify(project.name, project.description or "", project.industry_code,
                                limit=rule_settings().suggestion_limit)
    _sync_categories(project, CategorySource.suggested, {s.code: round(s.confidence, 4) for s in found})


def _mark_effective(project: Project) -> None:
    confirmed = any(r.source == CategorySource.confirmed for r in project.category_rows)
    for row in project.category_rows:
        row.effective = row.source == (CategorySource.confirmed if confirmed else CategorySource.declared)


def _sync_categories(project: Project, source: str, wanted: Mapping[str, float | None]) -> None:
    """Make the project's rows of one source exactly ``wanted`` (code -> confidence), keeping
    unchanged rows, so the unique (project, source, code) never sees an old and a new row at once."""
    for row in [r for r in project.category_rows if r.source == source]:
        if row.code in wanted:
            row.confidence = wanted[row.code]
        else:
            project.category_rows.remove(row)
    have = {r.code for r in project.category_rows if r.source == source}
    for code, confidence in wanted.items():
        if code not in have:
            project.category_rows.append(ProjectCategory(code=code, source=source, confidence=confidence))


def _replace_categories(project: Project, source: str, codes: Iterable[str]) -> None:
    _sync_categories(project, source, dict.fromkeys(codes))


# -- writing -------------------------------------------------------------------------------------
PROJECT_FIELDS = (
    "name", "description", "industry_code", "region_code", "stage", "commissioning_year",
    "total_investment_cny", "financing_need_cny", "annual_revenue_cny", "annual_net_cash_flow_cny",
    "asset_value_cny", "is_concession", "expected_irr_pct", "benefits", "certifications", "collateral",
    "risk_exposures", "compliance", "preferred_instruments", "contact",
    "capacity_change", "capacity_replacement_approved", "concession_end_year", "primary_fuel",
)


def create_project(actor: User, data: Mapping[str, Any], *, enterprise_id: int | None = None,
                   commit: bool = True) -> Project:
    """A new draft of the caller's enterprise (or, for imports by a bureau, of ``enterprise_id``).
    ``commit=False`` only flushes: the caller commits it with its next step (a bureau's import submits the
    draft in the same transaction) or rolls it back."""
    if enterprise_id is None:
        permissions.check_role(actor, Role.enterprise)
        enterprise_id = actor.organization_id
    project = Project(enterprise_id=enterprise_id, created_by_id=actor.id, status=ProjectStatus.draft)
    _apply(project, data)
    _replace_categories(project, CategorySource.declared, data.get("categories", []))
    _refresh_derived(project)
    db.session.add(project)
    db.session.flush()
    _record(project, actor, None, ProjectStatus.draft, None)
    if commit:
        db.session.commit()
    return project


def check_edit(actor: User, project_id: int) -> Project:
    """Before the body: a project the actor sees (404) and may edit (403)."""
    project = get_project(actor, project_id)
    permissions.authorize(actor, "edit", project)
    return project


def update_project(actor: User, project_id: int, data: Mapping[str, Any]) -> Project:
    project = check_edit(actor, project_id)
    versioning.check_version(project, data.get("version"))
    if project.status not in EDITABLE:
        raise Conflict(Msg("A project can only be edited while it is a draft or returned for changes."))
    merged_need = data.get("financing_need_cny", float(project.financing_need_cny))
    merged_total = data.get("total_investment_cny", float(project.total_investment_cny))
    if merged_need > merged_total:
        raise Invalid.field("financing_need_cny", Msg("Must not exceed the total investment."))
    _apply(project, data)
    if "categories" in data:
        _replace_categories(project, CategorySource.declared, data["categories"])
    _refresh_derived(project)
    versioning.commit(project)
    return project


def check_submit(actor: User, project_id: int) -> Project:
    """Before the body: the owner's project (404, 403) in a status it may be submitted from (409)."""
    project = get_project(actor, project_id)
    permissions.authorize(actor, "submit", project)
    TRANSITIONS.check(project.status, "submit")
    return project


def check_review(actor: User, project_id: int, decision: object = None) -> Project:
    """Before the body: a project of the bureau's jurisdiction (404; drafts included, so approving one is
    the illegal transition it is, not a missing project), reviewable by it (403), in a status the decision
    — every decision, when the body names none — may start from (409)."""
    permissions.check_role(actor, Role.bureau)
    project = permissions.get_visible(Project, project_id, actor, purpose="review")
    permissions.authorize(actor, "review", project)
    TRANSITIONS.check(project.status, TRANSITIONS.requested(decision, sorted(DECISIONS)))
    return project


def submit_project(actor: User, project_id: int, version: int | None = None) -> Project:
    project = get_project(actor, project_id)
    permissions.authorize(actor, "submit", project)
    versioning.check_version(project, version)
    _transition(project, actor, "submit", None)
    project.submitted_at = utcnow()
    versioning.commit(project)
    return project


def submit_on_behalf(actor: User, project: Project, note: str) -> Project:
    """A bureau enters a project it imported into the review queue (recorded with the bureau as actor)."""
    permissions.check_role(actor, Role.bureau)
    permissions.authorize(actor, "review", project)
    _transition(project, actor, "submit", note)
    project.submitted_at = utcnow()
    versioning.commit(project)
    return project


def review_project(actor: User, project_id: int, decision: str, note: str | None,
                   categories: list[str] | None = None, version: int | None = None) -> Project:
    project = check_review(actor, project_id, decision)
    versioning.check_version(project, version)
    if categories is not None and decision != "approve":
        raise Invalid.field("categories", Msg("Categories are confirmed when approving."))
    _transition(project, actor, decision, note)
    project.review_note = note
    project.decided_at = utcnow() if decision in ("approve", "reject") else None
    if decision == "approve":
        # Only categories the bureau names are confirmed: a plain approval confirms nothing (issue #12).
        if categories:
            _replace_categories(project, CategorySource.confirmed, categories)
        _refresh_derived(project)
    versioning.commit(project)
    if decision == "approve":
        signals.project_approved.send(project)
    signals.project_reviewed.send(project, decision=decision, note=note)
    return project


def _transition(project: Project, actor: User, action: str, note: str | None) -> None:
    target = TRANSITIONS.target(project.status, action)
    _record(project, actor, project.status, target, note)
    project.status = target


def _record(project: Project, actor: User, from_status: str | None, to_status: str, note: str | None) -> None:
    db.session.add(ProjectTransition(project_id=project.id, actor_id=actor.id,
                                     actor_organization_id=actor.organization_id,
                                     from_status=from_status, to_status=to_status, note=note))


def _apply(project: Project, data: Mapping[str, Any]) -> None:
    for key in PROJECT_FIELDS:
        if key in data:
            setattr(project, key, data[key])


__all__ = [
    "create_project", "update_project", "submit_project", "review_project", "get_project", "filtered",
    "review_queue", "history", "present", "get_assessment", "assessment_of", "queue_tier",
]
