"""The reads behind matches and leads: a project's matched products, an institution's leads and their
count, one match of an institution's own products, and who may act on a match.

Rows are read from the current generation (:func:`greenmatch.matching.service.current_generation`);
they are written by the full runs (:mod:`greenmatch.matching.runs`) and the incremental re-matching
(:mod:`greenmatch.matching.service`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, false, func, select, true
from sqlalchemy.orm import contains_eager

from greenmatch import permissions
from greenmatch.accounts.models import Role, User
from greenmatch.catalog.models import Project, ProjectStatus
from greenmatch.errors import NotFound
from greenmatch.extensions import db
from greenmatch.products.models import Product, ProductStatus
from greenmatch.text import Msg, current_locale, from_json, is_english, render

from .models import Match
from .service import current_generation


def project_matches(actor: User | None, project_id: int) -> Select:
    """The project's matched products, best first (owner, its bureau, admins)."""
    project = permissions.get_visible(Project, project_id, actor)
    permissions.authorize(actor, "view_matches", project)
    return (select(Match).join(Product, Product.id == Match.product_id)
            .where(Match.generation == current_generation(), Match.project_id == project.id,
                   Match.for_project.is_(True), Product.status == ProductStatus.published)
            .order_by(Match.score.desc(), Match.product_id))


def leads(actor: User, args: Mapping[str, Any]) -> Select:
    """The institution's leads: approved projects matched to its published products, best first.
    Count them with :func:`leads_total` (a count of this statement as a subquery is much slower)."""
    permissions.check_verified_institution(actor)
    stmt = (select(Match).join(Project, Project.id == Match.project_id).join(Product, Product.id == Match.product_id)
            .options(contains_eager(Match.project), contains_eager(Match.product))  # loaded from these joins
            .where(Match.generation == current_generation(), Match.institution_id == actor.organization_id,
                   Match.for_product.is_(True), Project.status == ProjectStatus.approved,
                   Product.status == ProductStatus.published, *_match_filters(args)))
    if args.get("region"):
        stmt = stmt.where(Project.in_region(args["region"]))
    if args.get("category"):
        stmt = stmt.where(Project.has_category(args["category"]))
    return stmt.order_by(Match.score.desc(), Match.project_id, Match.product_id)


def _match_filters(args: Mapping[str, Any]) -> list[Any]:
    """The leads filters on match columns alone: product, instrument, minimum score."""
    conditions = []
    if args.get("product_id"):
        conditions.append(Match.product_id == args["product_id"])
    if args.get("instrument"):
        conditions.append(Match.instrument == args["instrument"])
    if args.get("min_score") is not None:
        conditions.append(Match.score >= args["min_score"])
    return conditions


def leads_total(actor: User, args: Mapping[str, Any]) -> int:
    """The number of rows :func:`leads` selects, counted on the matches indexes alone when the filters
    are on match columns (product, instrument, score): an institution may have a hundred thousand
    leads, and joining each to its project and product costs tens of milliseconds more.

    The product condition stays exact: the rows of the institution's products that are not published
    now (normally none: withdrawing a product deletes its rows) are counted apart, on the product
    index, and subtracted. The project condition (approved) holds for every row of the current
    generation by construction: rows are written for approved projects only (full runs read the
    approved ones, :func:`~.service.rematch_project` writes none for another status, :func:`~.service.rematch_product`
    matches against approved projects), approval is final, and a project leaving the library is
    re-matched (``project_withdrawn``; full runs re-match the projects that changed while they ran),
    which deletes its rows. Region and category filters need the projects: those counts join them."""
    permissions.check_verified_institution(actor)
    if args.get("region") or args.get("category"):
        stmt = leads(actor, args).order_by(None)
        return db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    products = select(Product.id, Product.status).where(Product.institution_id == actor.organization_id)
    if args.get("product_id"):
        products = products.where(Product.id == args["product_id"])
    status = {row[0]: row[1] for row in db.session.execute(products)}
    if ProductStatus.published not in status.values():
        return 0
    # "for_product = true" (a literal): the condition of the partial index ix_matches_lead_counts
    conditions = [Match.generation == current_generation(), Match.for_product == true(), *_match_filters(args)]
    total = db.session.scalar(select(func.count()).select_from(Match).where(
        Match.institution_id == actor.organization_id, *conditions)) or 0
    unpublished = [q for q, s in status.items() if s != ProductStatus.published]
    if unpublished and total:
        total -= db.session.scalar(select(func.count()).select_from(Match).where(
            Match.product_id.in_(unpublished), *conditions)) or 0
    return total


@permissions.policy(Match)
class MatchPolicy(permissions.Policy):
    """A match is acted on (engaged) by the institution whose product it is; everyone else reads matches
    through the leads and project endpoints, which select them themselves."""

    def scope(self, stmt: Select, actor: User | None, purpose: str = "view") -> Select:
        if actor is not None and actor.role == Role.institution:
            return stmt.where(Match.institution_id == actor.organization_id)
        return stmt.where(false())


def get_match(actor: User, match_id: int) -> Match:
    """A current match of the institution's own products; others' are 404."""
    match = db.session.scalar(permissions.visible(Match, actor).where(Match.id == match_id,
                                                                      Match.generation == current_generation()))
    if match is None:
        raise NotFound(Msg("Not found: %(what)s %(id)s", what="Match", id=match_id))
    return match


def localized(match: Match, locale: str | None = None) -> dict[str, Any]:
    """A stored match's reasons and paths (message codes) rendered in ``locale`` (None: the request's)."""
    return {"reasons": [_stored(r, locale) for r in match.reasons or []],
            "explanation": {"paths": [[_stored(x, locale) for x in p.get("labels", ())] if "labels" in p
                                      else _stored(p, locale) for p in match.paths or []]}}


def _stored(value: Any, locale: str | None) -> Any:
    # rows a release before the message codes wrote hold {"en", "zh"} pairs until the next re-match
    if isinstance(value, dict) and "zh" in value and "en" in value:
        return value["en" if is_english(locale or current_locale()) else "zh"]
    return render(from_json(value), locale)
