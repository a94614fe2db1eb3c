"""The worker processes of a full run (and of :meth:`~greenmatch.matching.engine.MatchEngine.project_index`).

Pass 1 runs in forked worker processes when there are several chunks (``MatchSettings.workers``;
0 = one per :data:`PROJECTS_PER_WORKER` projects and core, at most 4): the plugins, called at most once
per project and plugin, dominate a run's time. Workers inherit the facts and the product index at fork
time (and freeze them out of their garbage collector) and send back only compact arrays. Set
``workers=1`` where forking is unwelcome (e.g. a multi-threaded web worker).
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import multiprocessing
import os
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from greenmatch.facts import ProjectFacts

from .blocks import evaluate_projects
from .product_index import ProductIndex
from .scorer import ChunkScores
from .settings import MatchSettings

if TYPE_CHECKING:
    from .engine import MatchEngine

__all__ = ["PROJECTS_PER_WORKER", "evaluate_slice", "fork_pool", "score_slice", "worker_count"]


# Full runs score chunks in forked worker processes; a worker finds its run's inputs here
# (inherited at fork time, never pickled) under the run's key.
_FORK_JOBS: dict[int, tuple[Sequence[ProjectFacts], MatchEngine, ProductIndex | None]] = {}
_FORK_KEYS = itertools.count(1)


def _worker_init() -> None:
    # A worker lives for one run: the objects it inherits (the facts, the index) stay to the end, and
    # those it makes for a chunk are freed by reference counting once their results are sent (they
    # form no cycles). Its cyclic collector would only re-scan them: frozen and off (which also spares
    # copying the inherited pages on write).
    gc.freeze()
    gc.disable()
    # a lock held by another thread at fork time would stay held in the child
    for _, engine, index in _FORK_JOBS.values():
        engine.tax._lock = threading.Lock()
        engine.features._lock = threading.Lock()
        engine.plugin_tags._lock = threading.Lock()
        if index is not None:
            index._lock = threading.Lock()


def evaluate_slice(task: tuple[int, int, int]) -> Any:
    key, start, stop = task
    projects, engine, _ = _FORK_JOBS[key]
    return evaluate_projects(projects[start:stop], list(engine.plugins.values()))


#: Automatic worker processes: one per this many projects (per core, at most 4). Measured on the
#: 2-core development machine: a second worker saves 26% of a run at 100,000 projects and 12% at
#: 20,000, and costs 14% at 5,000 x 200 products (forking, sending results back, and two processes
#: sharing the caches).
PROJECTS_PER_WORKER = 10_000


def worker_count(settings: MatchSettings, projects: int, chunks: int | None = None) -> int:
    """Processes to use for ``projects`` in ``chunks`` chunks (see ``MatchSettings.workers``): never
    more than the chunks; automatic: a worker per core (at most 4) and ``PROJECTS_PER_WORKER`` projects."""
    wanted = settings.workers if settings.workers > 0 else min(4, os.cpu_count() or 1,
                                                               projects // PROJECTS_PER_WORKER)
    return max(1, min(wanted, projects if chunks is None else chunks))


@contextlib.contextmanager
def fork_pool(engine: MatchEngine, projects: Sequence[ProjectFacts], index: ProductIndex | None,
              workers: int) -> Iterator[tuple[Any, int]]:
    """A pool of forked workers sharing ``projects``, the engine and the index (none when ``workers``
    is 1); terminated on exit, also when the caller stops early or fails."""
    key = next(_FORK_KEYS)
    if workers <= 1:
        yield None, key
        return
    _FORK_JOBS[key] = (projects, engine, index)
    pool = multiprocessing.get_context("fork").Pool(workers, initializer=_worker_init)
    try:
        yield pool, key
    finally:
        _FORK_JOBS.pop(key, None)
        pool.terminate()
        pool.join()


def score_slice(task: tuple[int, int, int]) -> ChunkScores:
    key, start, stop = task
    projects, engine, index = _FORK_JOBS[key]
    chunk = engine.score_chunk(projects[start:stop], start, index)
    chunk.block.facts = []  # the parent has these; do not send them back
    chunk.block.plugins = []
    return chunk
