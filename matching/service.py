"""Matching as a service: full runs that replace results atomically, incremental re-matching of one
project or product, and the reads behind matches and leads.

The engine (:mod:`greenmatch.matching.engine`) is database-free; this module feeds it facts from
the database and persists what it keeps. See :mod:`greenmatch.matching.models` for how
generations make a full run's switch atomic.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, delete, false, func, insert, or_, select, text, true, update
from sqlalchemy.orm import contains_eager

from greenmatch import jobs, permissions
from greenmatch.accounts.models import Role, User
from greenmatch.catalog.models import Project, ProjectStatus
from greenmatch.db import utcnow
from greenmatch.errors import Conflict, NotFound
from greenmatch.extensions import db
from greenmatch.instruments import current_plugins
from greenmatch.products.models import Product, ProductStatus
from greenmatch.text import current_locale, from_json, is_english, render, to_json

from .engine import MatchEngine, Outcome, ProductIndex, ProjectIndex
from .models import Engagement, EngagementStatus, Match, MatchingState, MatchRun
from .results import Match as EngineMatch
from .settings import MatchSettings

log = logging.getLogger(__name__)
WRITE_BATCH = 5000
#: a full run of before leases still 'running' after this long was left by a process that died
RUN_ABANDONED_AFTER = dt.timedelta(hours=6)


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


def _financed_facts(outs: Iterable[Outcome]) -> list:
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
                                       financed_projects=_financed_facts(outs))
        cache.products = (key, index)
    return cache.products[1]


def project_index() -> ProjectIndex:
    cache = _indexes()
    key = _fingerprint(Project, Project.status, ProjectStatus.approved)
    if cache.projects is None or cache.projects[0] != key:
        cache.projects = (key, engine().project_index([p.facts() for p in approved_projects()]))
    return cache.projects[1]


# -- generations ---------------------------------------------------------------------------------------
def _state(lock: bool = False) -> MatchingState:
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


def _row(m: EngineMatch, generation: int, institution_of: Mapping[int, int], *, for_project: bool,
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


def _insert(rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), WRITE_BATCH):
        db.session.execute(insert(Match), rows[start:start + WRITE_BATCH])


# -- full runs -------------------------------------------------------------------------------------------
# A full run is a row (``match_runs``) that moves queued -> running -> succeeded | failed, or to abandoned
# when the lease its executing worker renews expires (the worker died: kill -9, OOM, a lost host). Its
# rows go into a generation of their own that only becomes current in the final switch, so a dead
# run's partial rows are never visible; they are deleted when it is marked abandoned.
FULL_RUN_JOB = "matching.full_rematch"
ACTIVE = ("queued", "running")


def lease_length() -> dt.timedelta:
    return dt.timedelta(seconds=float(current_app.config.get("RUN_LEASE_SECONDS", 60)))


def mark_abandoned() -> int:
    """Mark every queued or running full run whose lease has expired ``abandoned`` (and remove its
    partial rows); returns how many. Called on every POST and GET of runs and by the scheduler."""
    now = utcnow()
    stale = db.session.execute(select(MatchRun.id, MatchRun.generation).where(
        MatchRun.kind == "full", MatchRun.status.in_(ACTIVE),
        or_(MatchRun.lease_expires_at < now,
            and_(MatchRun.lease_expires_at.is_(None), MatchRun.started_at < now - RUN_ABANDONED_AFTER)))).all()
    if not stale:
        return 0
    ids = [i for i, _ in stale]
    db.session.execute(update(MatchRun).where(MatchRun.id.in_(ids), MatchRun.status.in_(ACTIVE)).values(
        status="abandoned", finished_at=now,
        error="abandoned: its worker stopped renewing the lease before the run finished"))
    generations = [g for _, g in stale if g is not None and g != current_generation()]
    if generations:
        db.session.execute(delete(Match).where(Match.generation.in_(generations)))
    db.session.commit()
    log.warning("full re-match runs %s abandoned: lease expired", ids)
    return len(ids)


def create_run(triggered_by: str) -> MatchRun:
    """A new ``queued`` full run, or 409 while another is queued or running (it would delete that run's
    rows and switch to them half-written). The lease of a queued run starts now: a run no worker picks
    up within it is abandoned too, and a worker that picks it up later skips it."""
    _state(lock=True)  # serialises concurrent POSTs (on SQLite the write lock does)
    mark_abandoned()
    _state(lock=True)
    active = db.session.scalar(select(MatchRun.id).where(MatchRun.kind == "full", MatchRun.status.in_(ACTIVE)))
    if active is not None:
        db.session.rollback()
        raise Conflict(str(_l("Full re-match run #%(id)s is still running; try again when it has finished",
                                id=active)))
    run = MatchRun(kind="full", status="queued", triggered_by=triggered_by, progress=0.0,
                   lease_expires_at=utcnow() + lease_length())
    db.session.add(run)
    db.session.commit()
    return run


def start_run(triggered_by: str) -> MatchRun:
    """Queue a full run and hand it to the job executor (Celery worker or in-process thread): 202."""
    run = create_run(triggered_by)
    jobs.enqueue(FULL_RUN_JOB, run_id=run.id)
    return run


def get_run(run_id: int) -> MatchRun:
    mark_abandoned()
    run = db.session.get(MatchRun, run_id)
    if run is None:
        raise NotFound(str(_l("No matching run #%(id)s", id=run_id)))
    return run


class _Lease:
    """Renews a running run's lease (and writes its progress) every third of the lease length from a
    thread of its own, on its own connection, while the run computes; ``lost`` once the run was marked
    abandoned meanwhile (the run then stops without switching)."""

    def __init__(self, run_id: int, worker: str) -> None:
        self.run_id, self.worker = run_id, worker
        self.length = lease_length()
        self.engine = db.engine
        self.progress = 0.0
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"lease:run{run_id}", daemon=True)

    def __enter__(self) -> _Lease:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()

    def renew(self) -> None:
        now = utcnow()
        with self.engine.begin() as conn:
            renewed = conn.execute(update(MatchRun).where(MatchRun.id == self.run_id, MatchRun.status == "running")
                                   .values(lease_expires_at=now + self.length, heartbeat_at=now,
                                           progress=round(self.progress, 4))).rowcount
        if not renewed:
            self.lost = True

    def _loop(self) -> None:
        while not self._stop.wait(self.length.total_seconds() / 3):
            try:
                self.renew()
            except Exception:  # a busy database: the next beat tries again, well within the lease
                log.warning("lease renewal of run %s failed", self.run_id, exc_info=True)


@jobs.register(FULL_RUN_JOB)
def execute_run(run_id: int, progress: Callable[[int, int], Any] | None = None,
                after_batch: Callable[[int], Any] | None = None, *, parallel: bool = True) -> MatchRun | None:
    """Execute queued run ``run_id`` (the job; idempotent by the row: a run no longer ``queued`` —
    taken by another worker, abandoned, finished — is left alone and None returned)."""
    worker = f"{socket.gethostname()}:{os.getpid()}"
    state = _state(lock=True)
    claimed = db.session.execute(update(MatchRun).where(MatchRun.id == run_id, MatchRun.status == "queued").values(
        status="running", worker=worker, started_at=utcnow(), heartbeat_at=utcnow(),
        lease_expires_at=utcnow() + lease_length(), generation=state.next_generation)).rowcount
    if not claimed:
        db.session.rollback()
        log.info("run %s is no longer queued: skipped", run_id)
        return None
    generation = state.next_generation
    state.next_generation = generation + 1
    # leftovers of crashed runs are never current: remove them
    db.session.execute(delete(Match).where(Match.generation != state.current_generation))
    db.session.commit()
    with _Lease(run_id, worker) as lease:
        def on_progress(done: int, total: int) -> None:
            lease.progress = done / total if total else 1.0
            if progress is not None:
                progress(done, total)

        return _full_rematch(run_id, generation, lease, on_progress, after_batch, parallel=parallel)


def full_rematch(triggered_by: str = "admin", progress: Callable[[int, int], Any] | None = None,
                 after_batch: Callable[[int], Any] | None = None, *, parallel: bool = False) -> MatchRun:
    """Queue a full run and execute it here, now (the CLI and tests); 409 while another is active."""
    run = create_run(triggered_by)
    return execute_run(run.id, progress, after_batch, parallel=parallel)


def _full_rematch(run_id: int, generation: int, lease: _Lease, progress: Callable[[int, int], Any],
                  after_batch: Callable[[int], Any] | None, *, parallel: bool) -> MatchRun:
    """Re-match every approved project against every published product into a new generation, then
    switch to it in one transaction. On any error the run is marked failed, its rows are removed and
    the previous results stay served. ``after_batch(n)`` is called after each persisted chunk.
    ``parallel``: score in forked worker processes (the CLI, the scheduler and the Celery worker; never
    inside a multi-threaded web worker, where forking is unsafe)."""
    started = time.perf_counter()
    run = db.session.get(MatchRun, run_id)
    try:
        projects = approved_projects()
        products = published_products()
        institution_of = {p.id: p.institution_id for p in products}
        outs = outcomes()
        matcher = MatchEngine(current_plugins(), settings()) if parallel else engine()
        stream = matcher.start([p.facts() for p in projects], [p.facts() for p in products], outs,
                                financed_projects=_financed_facts(outs), progress=progress)
        written = 0
        for batch in stream:
            if lease.lost:
                raise RuntimeError("the run was marked abandoned while it ran")
            rows = [_row(m, generation, institution_of, for_project=m.project_rank is not None,
                         for_product=m.product_rank is not None) for m in batch.matches]
            _insert(rows)
            db.session.execute(update(MatchRun).where(MatchRun.id == run_id)
                               .values(progress=round(min(lease.progress, 0.999), 4)))
            db.session.commit()
            written += len(rows)
            if after_batch is not None:
                after_batch(batch.number)
        state = _state(lock=True)
        run = db.session.get(MatchRun, run_id)
        db.session.refresh(run)
        if run.status != "running":
            raise RuntimeError(f"the run was marked {run.status} while it ran")
        previous = state.current_generation
        state.current_generation = generation
        db.session.execute(delete(Match).where(Match.generation == previous))
        run.status = "succeeded"
        run.progress = 1.0
        run.pairs_considered = stream.stats.pairs_considered
        run.matches_written = written
        run.finished_at = utcnow()
        run.duration_ms = round((time.perf_counter() - started) * 1000)
        db.session.commit()
    except BaseException as exc:
        db.session.rollback()
        db.session.execute(delete(Match).where(Match.generation == generation))
        db.session.execute(update(MatchRun).where(MatchRun.id == run_id, MatchRun.status == "running").values(
            status="failed", error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=utcnow(),
            duration_ms=round((time.perf_counter() - started) * 1000)))
        db.session.commit()
        log.exception("full re-match %s failed; previous results kept", run_id)
        raise
    _vacuum_matches()
    # what changed while the run read its snapshot is re-matched on top of the new generation (a project
    # that left the approved library meanwhile loses its rows)
    since = run.started_at
    for project in db.session.scalars(select(Project).where(Project.updated_at > since)):
        rematch_project(project)
    for product in db.session.scalars(select(Product).where(Product.updated_at > since)):
        rematch_product(product)
    return run


def _vacuum_matches() -> None:
    """On PostgreSQL, after a full run replaced the matches: remove the previous generation's dead rows
    and set the visibility map, so that :func:`leads_total` counts on the index alone, without reading
    table pages, from the first request on (autovacuum would get there minutes later; until then a
    count of 100,000 leads reads 100,000 table pages). Skipped while autovacuum holds the table."""
    if db.engine.dialect.name != "postgresql":
        return
    try:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM (ANALYZE, SKIP_LOCKED) matches"))
    except Exception:  # an optimisation only: the run has succeeded
        log.warning("VACUUM of matches after a full re-match failed", exc_info=True)


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
        _insert([_row(m, generation, institution_of, for_project=True, for_product=True) for m in found])
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
                                       financed_projects=_financed_facts(outs))
        k = engine().settings.project_top_k
        kth = _kth_scores([m.project_id for m in found], generation, k)
        rows = [_row(m, generation, {product.id: product.institution_id},
                     for_project=m.score > kth.get(m.project_id, -1.0), for_product=True) for m in found]
        _insert(rows)
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


# -- reads ----------------------------------------------------------------------------------------------------
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
    approved ones, :func:`rematch_project` writes none for another status, :func:`rematch_product`
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
        raise NotFound(f"Match {match_id} not found")
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


def recent_runs(limit: int = 20) -> list[MatchRun]:
    mark_abandoned()
    return list(db.session.scalars(select(MatchRun).order_by(MatchRun.id.desc()).limit(limit)))
