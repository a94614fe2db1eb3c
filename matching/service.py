"""Matching as a service: the process's engine and its cached indexes, the facts it is fed from the
database, the generations of stored matches and the rows written into them, and the incremental
re-matching of one project or product.

The engine (:mod:`greenmatch.matching.engine`) is database-free; this module feeds it facts from
the database and persists what it keeps. Full runs, which replace the results atomically, are in
:mod:`greenmatch.matching.runs` (see :mod:`greenmatch.matching.models` for how generations make their
switch atomic); the reads behind matches and leads are in :mod:`greenmatch.matching.queries`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, insert, select

from greenmatch.catalog.models import Project, ProjectStatus
from greenmatch.db import utcnow
from greenmatch.extensions import db
from greenmatch.instruments import current_plugins
from greenmatch.products.models import Product, ProductStatus
from greenmatch.text import to_json

from .engine import MatchEngine, Outcome, ProductIndex, ProjectIndex
from .models import Engagement, EngagementStatus, Match, MatchingState
from .results import Match as EngineMatch
from .settings import MatchSettings

WRITE_BATCH = 5000


# -- the engine and its cached indexes ---------------------------------------------------------------
class _Indexes:
    """Per-process caches of the product side and the project side, rebuilt when the data changes
    (a cheap fingerprint query decides), so incremental re-matching stays fast."""

    def __init__(self) -> None:
        self.products: tuple[Any, ProductIndex] | None = None
        self.projects: tuple[Any, ProjectIndex] | None = None


def settings() -> MatchSettings:
    """The deployment's matching settings (config ``MATCHING``)."""
    return MatchSettings.from_config(current_app.config.get("MATCHING", {}))


def engine() -> MatchEngine:
    """The process's engine for requests, with its caches: it never forks worker processes (unsafe in
    a multi-threaded web worker), whatever ``workers`` says; full runs with ``parallel`` use their own."""
    ext = current_app.extensions
    if "greenmatch.matching" not in ext:
        ext["greenmatch.matching"] = (MatchEngine(current_plugins(), settings().replace(workers=1)), _Indexes())
    return ext["greenmatch.matching"][0]


def _indexes() -> _Indexes:
    engine()
    return current_app.extensions["greenmatch.matching"][1]


def approved_projects() -> list[Project]:
    return list(db.session.scalars(select(Project).where(Project.status == ProjectStatus.approved)
                                   .order_by(Project.id)))


def published_products() -> list[Product]:
    return list(db.session.scalars(select(Product).where(Product.status == ProductStatus.published,
                                                         Product.instrument.in_(list(current_plugins())))
                                   .order_by(Product.id)))


def outcomes(product_id: int | None = None) -> list[Outcome]:
    """The financed engagements (of one product)."""
    stmt = (select(Engagement.product_id, Engagement.project_id, Engagement.financed_amount_cny)
            .where(Engagement.status == EngagementStatus.financed))
    if product_id is not None:
        stmt = stmt.where(Engagement.product_id == product_id)
    rows = db.session.execute(stmt)
    return [Outcome(product_id=p, project_id=j, financed_amount_cny=float(a) if a is not None else None)
            for p, j, a in rows]


def financed_facts(outs: Iterable[Outcome]) -> list:
    ids = {o.project_id for o in outs}
    if not ids:
        return []
    return [p.facts() for p in db.session.scalars(select(Project).where(Project.id.in_(ids)))]


def _fingerprint(model: type, status_col: Any, status: str) -> tuple:
    return tuple(db.session.execute(select(func.count(), func.max(model.updated_at), func.max(model.id))
                                    .where(status_col == status)).one())


def product_index() -> ProductIndex:
    cache = _indexes()
    key = (_fingerprint(Product, Product.status, ProductStatus.published),
           db.session.scalar(select(func.count()).select_from(Engagement)
                             .where(Engagement.status == EngagementStatus.financed)))
    if cache.products is None or cache.products[0] != key:
        outs = outcomes()
        index = engine().product_index([p.facts() for p in published_products()], outs,
                                       financed_projects=financed_facts(outs))
        cache.products = (key, index)
    return cache.products[1]


def project_index() -> ProjectIndex:
    cache = _indexes()
    key = _fingerprint(Project, Project.status, ProjectStatus.approved)
    if cache.projects is None or cache.projects[0] != key:
        cache.projects = (key, engine().project_index([p.facts() for p in approved_projects()]))
    return cache.projects[1]


# -- generations ---------------------------------------------------------------------------------------
def matching_state(lock: bool = False) -> MatchingState:
    stmt = select(MatchingState).where(MatchingState.id == 1)
    if lock:
        stmt = stmt.with_for_update()
    state = db.session.scalar(stmt)
    if state is None:
        state = MatchingState(id=1, current_generation=0, next_generation=1)
        db.session.add(state)
        db.session.flush()
    return state


def current_generation() -> int:
    value = db.session.scalar(select(MatchingState.current_generation).where(MatchingState.id == 1))
    return value or 0


def match_row(m: EngineMatch, generation: int, institution_of: Mapping[int, int], *, for_project: bool,
         for_product: bool) -> dict[str, Any]:
    return {
        "generation": generation, "project_id": m.project_id, "product_id": m.product_id,
        "institution_id": institution_of[m.product_id], "instrument": m.instrument, "score": m.score,
        "for_project": for_project, "for_product": for_product,
        "reasons": [to_json(r) for r in m.reasons],
        "paths": [{"kind": p.kind, "contribution": round(p.contribution, 6), "labels": [to_json(x) for x in p.parts]}
                  for p in m.paths],
        "created_at": utcnow(),
    }


def insert_matches(rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), WRITE_BATCH):
        db.session.execute(insert(Match), rows[start:start + WRITE_BATCH])


# -- incremental --------------------------------------------------------------------------------------------
def rematch_project(project: Project) -> Counter[int]:
    """Replace the current generation's rows of one project (its top products, and its place in
    those products' lead lists). Returns the rows written per institution."""
    generation = current_generation()
    db.session.execute(delete(Match).where(Match.generation == generation, Match.project_id == project.id))
    written: Counter[int] = Counter()
    if project.status == ProjectStatus.approved:
        index = product_index()
        found = engine().match_project(project.facts(), index)
        institution_of = {m.product_id: index.facts[index.position[m.product_id]].institution_id for m in found}
        insert_matches([match_row(m, generation, institution_of, for_project=True, for_product=True) for m in found])
        written.update(institution_of[m.product_id] for m in found)
    db.session.commit()
    return written


def rematch_product(product: Product) -> int:
    """Replace the current generation's rows of one product (its leads, and its place in those
    projects' lists); a product that is not published keeps no rows."""
    generation = current_generation()
    db.session.execute(delete(Match).where(Match.generation == generation, Match.product_id == product.id))
    written = 0
    if product.status == ProductStatus.published and product.instrument in current_plugins():
        outs = outcomes(product.id)
        found = engine().match_product(product.facts(), project_index(), outs,
                                       financed_projects=financed_facts(outs))
        k = engine().settings.project_top_k
        kth = _kth_scores([m.project_id for m in found], generation, k)
        rows = [match_row(m, generation, {product.id: product.institution_id},
                     for_project=m.score > kth.get(m.project_id, -1.0), for_product=True) for m in found]
        insert_matches(rows)
        written = len(rows)
    db.session.commit()
    return written


def _kth_scores(project_ids: list[int], generation: int, k: int) -> dict[int, float]:
    """For projects that already have k products in their lists, the k-th best score (to beat)."""
    if not project_ids:
        return {}
    ranked = (select(Match.project_id, Match.score,
                     func.row_number().over(partition_by=Match.project_id,
                                            order_by=(Match.score.desc(), Match.product_id)).label("rank"))
              .where(Match.generation == generation, Match.for_project.is_(True),
                     Match.project_id.in_(project_ids))
              .subquery())
    return dict(db.session.execute(select(ranked.c.project_id, ranked.c.score).where(ranked.c.rank == k)).all())
