"""Operator-readable logs: every line carries the request id and user id; every request logs its duration."""

from __future__ import annotations

import logging
import time
import uuid

from flask import Flask, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
FORMAT = "%(asctime)s %(levelname)s [req=%(request_id)s user=%(user_id)s] %(name)s: %(message)s"
access_log = logging.getLogger("greenmatch.access")


_base_factory = logging.getLogRecordFactory()


def _record_factory(*args, **kwargs) -> logging.LogRecord:
    """Every record (ours, Flask's, SQLAlchemy's) carries the request id and user id."""
    record = _base_factory(*args, **kwargs)
    record.request_id = record.user_id = "-"
    if has_request_context():
        record.request_id = g.get("request_id", "-")
        record.user_id = g.get("actor_id") or "-"
    return record


def configure_logging(app: Flask) -> None:
    if logging.getLogRecordFactory() is not _record_factory:
        logging.setLogRecordFactory(_record_factory)
    logger = logging.getLogger("greenmatch")
    logger.setLevel(app.config["GREENMATCH_LOG_LEVEL"])
    # Leave logging alone when the host (pytest, gunicorn --log-config) already configured it.
    if not logging.getLogger().handlers and not any(getattr(h, "_greenmatch", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(FORMAT))
        handler._greenmatch = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.propagate = False

    @app.before_request
    def _start() -> None:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming[:64] if incoming.isprintable() and incoming else uuid.uuid4().hex
        g.started = time.perf_counter()
        g.pop("actor", None)  # resolved lazily per request (tests may share one app context)
        g.pop("actor_id", None)

    @app.after_request
    def _finish(response):
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "-")
        if request.path.startswith("/static/"):
            return response
        duration_ms = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        access_log.info("%s %s -> %s in %.1f ms", request.method, request.full_path.rstrip("?"),
                        response.status_code, duration_ms)
        return response
