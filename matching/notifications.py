"""The in-app inbox: notifications addressed to an organisation (all its users see them)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select, update

from greenmatch.accounts.models import User
from greenmatch.db import utcnow
from greenmatch.errors import NotFound
from greenmatch.extensions import db
from greenmatch.text import Msg, current_locale, from_json, is_english, render, to_json

from .models import Notification


def notify(organization_id: int, kind: str, message: Msg, link: str | None = None, **data: Any) -> Notification:
    """Add a notification (the caller commits with its own transaction); ``message`` is rendered in each
    reader's language when the inbox is read."""
    note = Notification(organization_id=organization_id, kind=kind, message=to_json(message), link=link, data=data)
    db.session.add(note)
    return note


def title(note: Notification, locale: str | None = None) -> str:
    """The notification's text in ``locale`` (None: the request's)."""
    stored = note.message or {}
    if "zh" in stored and "en" in stored:  # written before message codes (migration 0014)
        return stored["en" if is_english(locale or current_locale()) else "zh"]
    return render(from_json(stored), locale)


def inbox(actor: User, unread_only: bool = False) -> Select:
    stmt = select(Notification).where(Notification.organization_id == actor.organization_id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return stmt.order_by(Notification.created_at.desc(), Notification.id.desc())


def mark_read(actor: User, notification_id: int | None = None) -> int:
    stmt = update(Notification).where(Notification.organization_id == actor.organization_id,
                                      Notification.read_at.is_(None))
    if notification_id is not None:
        exists = db.session.scalar(select(Notification.id).where(
            Notification.id == notification_id, Notification.organization_id == actor.organization_id))
        if exists is None:
            raise NotFound(Msg("Not found: %(what)s %(id)s", what="Notification", id=notification_id))
        stmt = stmt.where(Notification.id == notification_id)
    count = db.session.execute(stmt.values(read_at=utcnow())).rowcount
    db.session.commit()
    return count
