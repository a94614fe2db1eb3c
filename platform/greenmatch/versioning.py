"""Optimistic locking of the records people edit (projects, products, engagements): each has a
``version`` column (SQLAlchemy ``version_id_col``). A change sent against another version than the
stored one, or a write that loses the race with a concurrent one, is a 409 naming ``version``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm.exc import StaleDataError

from .errors import Conflict
from .extensions import db
from .text import Msg


def _stale(obj: Any, detail: str) -> Conflict:
    return Conflict(Msg("Someone changed this in the meantime; reload the page and apply your change again."),
                    fields={"version": [Msg("Someone changed this in the meantime; reload and try again.")]})


def check_version(obj: Any, sent: int | None) -> None:
    """Refuse a change based on another version than the stored one (None: the caller sent none)."""
    if sent is not None and sent != obj.version:
        raise _stale(obj, f" (version {obj.version}, you sent {sent})")


def commit(obj: Any) -> None:
    """Commit the session; a concurrent writer that committed between our read and our write is a 409."""
    try:
        db.session.commit()
    except StaleDataError as exc:
        db.session.rollback()
        raise _stale(obj, "") from exc
