"""Full re-match runs: queued, executed by a job worker under a lease, switched to atomically.

A full run is a row (``match_runs``) that moves queued -> running -> succeeded | failed, or to abandoned
when the lease its executing worker renews expires (the worker died: kill -9, OOM, a lost host). Its
rows go into a generation of their own that only becomes current in the final switch, so a dead
run's partial rows are never visible; they are deleted when it is marked abandoned. See
:mod:`greenmatch.matching.models` for the generations and :mod:`greenmatch.matching.service` for the
engine, its cached indexes and the incremental re-matching a run ends with.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import current_app
from sqlalchemy import and_, delete, or_, select, text, update

from greenmatch import jobs
from greenmatch.catalog.models import Project
from greenmatch.db import utcnow
from greenmatch.errors import Conflict, NotFound
from greenmatch.extensions import db
from greenmatch.instruments import current_plugins
from greenmatch.products.models import Product
from greenmatch.text import Msg

from . import service
from .engine import MatchEngine
from .models import Match, MatchRun

log = logging.getLogger(__name__)
#: a full run of before leases still 'running' after this long was left by a process that died
RUN_ABANDONED_AFTER = dt.timedelta(hours=6)
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
    generations = [g for _, g in stale if g is not None and g != service.current_generation()]
    if generations:
        db.session.execute(delete(Match).where(Match.generation.in_(generations)))
    db.session.commit()
    log.warning("full re-match runs %s abandoned: lease expired", ids)
    return len(ids)


def create_run(triggered_by: str) -> MatchRun:
    """A new ``queued`` full run, or 409 while another is queued or running (it would delete that run's
    rows and switch to them half-written). The lease of a queued run starts now: a run no worker picks
    up within it is abandoned too, and a worker that picks it up later skips it."""
    service.matching_state(lock=True)  # serialises concurrent POSTs (on SQLite the write lock does)
    mark_abandoned()
    service.matching_state(lock=True)
    active = db.session.scalar(select(MatchRun.id).where(MatchRun.kind == "full", MatchRun.status.in_(ACTIVE)))
    if active is not None:
        db.session.rollback()
        raise Conflict(Msg("Full re-match run #%(id)s is still running; try again when it has finished", id=active))
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
        raise NotFound(Msg("No matching run #%(id)s", id=run_id))
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
    state = service.matching_state(lock=True)
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
    try:
        pairs_considered, written = _write_generation(run_id, generation, lease, progress, after_batch,
                                                      parallel=parallel)
        run = _switch(run_id, generation, pairs_considered, written, started)
    except BaseException as exc:
        _fail(run_id, generation, exc, started)
        raise
    _vacuum_matches()
    _catch_up(run.started_at)
    return run


def _write_generation(run_id: int, generation: int, lease: _Lease, progress: Callable[[int, int], Any],
                      after_batch: Callable[[int], Any] | None, *, parallel: bool) -> tuple[int, int]:
    """Stream the engine's batches into ``generation``, a commit per batch; (pairs considered, rows written)."""
    projects = service.approved_projects()
    products = service.published_products()
    institution_of = {p.id: p.institution_id for p in products}
    outs = service.outcomes()
    matcher = MatchEngine(current_plugins(), service.settings()) if parallel else service.engine()
    stream = matcher.start([p.facts() for p in projects], [p.facts() for p in products], outs,
                           financed_projects=service.financed_facts(outs), progress=progress)
    written = 0
    for batch in stream:
        if lease.lost:
            raise RuntimeError("the run was marked abandoned while it ran")
        rows = [service.match_row(m, generation, institution_of, for_project=m.project_rank is not None,
                          for_product=m.product_rank is not None) for m in batch.matches]
        service.insert_matches(rows)
        db.session.execute(update(MatchRun).where(MatchRun.id == run_id)
                           .values(progress=round(min(lease.progress, 0.999), 4)))
        db.session.commit()
        written += len(rows)
        if after_batch is not None:
            after_batch(batch.number)
    return stream.stats.pairs_considered, written


def _switch(run_id: int, generation: int, pairs_considered: int, written: int, started: float) -> MatchRun:
    """Make ``generation`` current and the run ``succeeded`` in one transaction (unless the run was
    marked otherwise meanwhile: then it raises)."""
    state = service.matching_state(lock=True)
    run = db.session.get(MatchRun, run_id)
    db.session.refresh(run)
    if run.status != "running":
        raise RuntimeError(f"the run was marked {run.status} while it ran")
    previous = state.current_generation
    state.current_generation = generation
    db.session.execute(delete(Match).where(Match.generation == previous))
    run.status = "succeeded"
    run.progress = 1.0
    run.pairs_considered = pairs_considered
    run.matches_written = written
    run.finished_at = utcnow()
    run.duration_ms = round((time.perf_counter() - started) * 1000)
    db.session.commit()
    return run


def _fail(run_id: int, generation: int, exc: BaseException, started: float) -> None:
    """Mark the run failed and remove its rows (called while ``exc`` is being handled)."""
    db.session.rollback()
    db.session.execute(delete(Match).where(Match.generation == generation))
    db.session.execute(update(MatchRun).where(MatchRun.id == run_id, MatchRun.status == "running").values(
        status="failed", error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=utcnow(),
        duration_ms=round((time.perf_counter() - started) * 1000)))
    db.session.commit()
    log.exception("full re-match %s failed; previous results kept", run_id)


def _catch_up(since: dt.datetime) -> None:
    """What changed while the run read its snapshot is re-matched on top of the new generation (a project
    that left the approved library meanwhile loses its rows)."""
    for project in db.session.scalars(select(Project).where(Project.updated_at > since)):
        service.rematch_project(project)
    for product in db.session.scalars(select(Product).where(Product.updated_at > since)):
        service.rematch_product(product)


def _vacuum_matches() -> None:
    """On PostgreSQL, after a full run replaced the matches: remove the previous generation's dead rows
    and set the visibility map, so that :func:`~greenmatch.matching.queries.leads_total` counts on the index
    alone, without reading table pages, from the first request on (autovacuum would get there minutes
    later; until then a count of 100,000 leads reads 100,000 table pages). Skipped while autovacuum holds
    the table."""
    if db.engine.dialect.name != "postgresql":
        return
    try:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM (ANALYZE, SKIP_LOCKED) matches"))
    except Exception:  # an optimisation only: the run has succeeded
        log.warning("VACUUM of matches after a full re-match failed", exc_info=True)


def recent_runs(limit: int = 20) -> list[MatchRun]:
    mark_abandoned()
    return list(db.session.scalars(select(MatchRun).order_by(MatchRun.id.desc()).limit(limit)))
