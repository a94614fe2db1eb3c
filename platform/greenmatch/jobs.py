"""Long work outside the request: one job abstraction over two executors.

* **Celery** with Redis as broker when ``REDIS_URL`` is set (or ``JOBS_EXECUTOR="celery"``): the web
  process only enqueues; ``greenmatch worker`` processes execute. Tasks are ``acks_late`` and every job
  is idempotent by its own database row (a run that is no longer ``queued`` is not executed again).
* **In-process threads** on the embedded default, so ``./scripts/serve`` needs nothing more.

The core knows no job: packages register theirs with :func:`register` (matching registers the full
re-match), which keeps the core free of upward imports.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app

log = logging.getLogger(__name__)

#: name -> function(**kwargs), called inside an app context
REGISTRY: dict[str, Callable[..., Any]] = {}
_celery_tasks: dict[str, Any] = {}


def register(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        REGISTRY[name] = fn
        return fn

    return decorate


def executor(app: Flask | None = None) -> str:
    config = (app or current_app).config
    return config.get("JOBS_EXECUTOR") or ("celery" if config.get("REDIS_URL") else "thread")


def enqueue(name: str, **kwargs: Any) -> None:
    """Run job ``name`` outside the current request."""
    if name not in REGISTRY:
        raise KeyError(f"unknown job {name!r}")
    app = current_app._get_current_object()
    if executor(app) == "celery":
        celery_app(app).send_task(name, kwargs=kwargs)
        return
    thread = threading.Thread(target=_run_in_thread, args=(app, name, kwargs), name=f"job:{name}", daemon=True)
    thread.start()
    app.extensions.setdefault("greenmatch.jobs.threads", []).append(thread)


def _run_in_thread(app: Flask, name: str, kwargs: dict[str, Any]) -> None:
    with app.app_context():
        try:
            REGISTRY[name](**kwargs)
        except Exception:  # recorded on the job's row by the job itself
            log.exception("job %s failed", name)


def join_threads(app: Flask, timeout: float | None = None) -> None:
    """Wait for the in-process jobs (tests, and the CLI before it exits)."""
    for thread in app.extensions.get("greenmatch.jobs.threads", []):
        thread.join(timeout)


def celery_app(app: Flask) -> Any:
    """The Celery application of ``app``, configured from ``REDIS_URL`` (broker and result backend),
    with every registered job as an ``acks_late`` task that runs inside an app context."""
    if "greenmatch.celery" in app.extensions:
        return app.extensions["greenmatch.celery"]
    from celery import Celery

    url = app.config.get("REDIS_URL")
    if not url:
        raise RuntimeError("GREENMATCH_REDIS_URL must be set for the Celery executor")
    celery = Celery(app.import_name, broker=url, set_as_current=False)
    celery.conf.update(task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
                       task_ignore_result=True, broker_connection_retry_on_startup=True,
                       worker_hijack_root_logger=False, task_default_queue="greenmatch")

    for name, fn in REGISTRY.items():
        def run(_fn: Callable[..., Any] = fn, **kwargs: Any) -> None:
            with app.app_context():
                _fn(**kwargs)

        celery.task(name=name, acks_late=True)(run)
    app.extensions["greenmatch.celery"] = celery
    return celery
