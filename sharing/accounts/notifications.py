"""In-app notifications: short messages to one user, with a link, that any domain may send.

A notification keeps its message as the English msgid (marked ``N_()`` by its sender) and its
parameters, not as rendered text: it reads in the language its reader uses when reading it,
which may differ from the one used when it was sent, and a corrected translation reaches
old notifications too. Parameters are plain values (names, titles, numbers), never translated
text: a word that is itself a msgid (the name of a reason) is given as ``term(msgid)``, kept
so and translated when the notice is read.

They may name people's units and things, so they are purged: read ones ``READ_RETENTION`` after
they were read, every one ``RETENTION`` after it was sent.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlmodel import Session, col

from sharing.accounts.models import Notification

RETENTION = timedelta(days=180)  # from when it was sent, read or not
READ_RETENTION = timedelta(days=90)  # from when it was read
MESSAGE_MAX = 300
URL_MAX = 500


def term(msgid: str, context: str | None = None) -> dict[str, str]:
    """A parameter that is itself a msgid (with its pgettext context, if it has one)."""
    return {"msgid": msgid, "context": context} if context else {"msgid": msgid}


def notify(session: Session, *, user_id: int, message: str, params: dict[str, Any] | None = None, url: str = "",
           now: datetime) -> Notification:
    """Add a notification for the user; ``url`` is a path within the service (or empty)."""
    if url and (not url.startswith("/") or url.startswith("//") or len(url) > URL_MAX):
        raise ValueError("a notification links to a path within the service")
    if len(message) > MESSAGE_MAX:
        raise ValueError("a notification's message is a short msgid")
    notification = Notification(user_id=user_id, message=message, params=dict(params or {}), url=url,
                                created_at=now)
    session.add(notification)
    return notification


def newest(session: Session, *, user_id: int, page: int, per_page: int) -> tuple[list[Notification], int]:
    """One page of the user's notifications, newest first, and how many there are in all."""
    mine = col(Notification.user_id) == user_id
    total = session.scalar(select(func.count()).select_from(Notification).where(mine)) or 0
    rows = session.scalars(select(Notification).where(mine)
                           .order_by(col(Notification.created_at).desc(), col(Notification.id).desc())
                           .limit(per_page).offset((page - 1) * per_page)).all()
    return list(rows), total


def mark_read(session: Session, *, user_id: int, notification_id: int, now: datetime) -> Notification | None:
    """Mark one of the user's notifications read; None if the user has no such notification."""
    notification = session.get(Notification, notification_id)
    if notification is None or notification.user_id != user_id:
        return None
    if notification.read_at is None:
        notification.read_at = now
        session.add(notification)
    return notification


def mark_all_read(session: Session, *, user_id: int, now: datetime) -> int:
    result = session.execute(update(Notification).where(
        col(Notification.user_id) == user_id, col(Notification.read_at).is_(None))
        .values(read_at=now))
    return result.rowcount or 0  # type: ignore[attr-defined]  # a DML result is a CursorResult


def settle(session: Session, *, url: str, user_ids: Collection[int], sent_from: datetime, sent_by: datetime,
           now: datetime, messages: Collection[str] | None = None) -> int:
    """Mark read these users' unread notifications linking to ``url`` sent from ``sent_from`` to
    ``sent_by`` (only those of these messages, if given), so that none stays unread asking for a
    step already taken. ``sent_from`` (when what they link to began) bounds the walk of each
    user's notifications by time, their index's order, to that thing's life."""
    where = [col(Notification.user_id).in_(list(user_ids)), col(Notification.created_at) >= sent_from,
             col(Notification.created_at) <= sent_by, col(Notification.url) == url,
             col(Notification.read_at).is_(None)]
    if messages is not None:
        where.append(col(Notification.message).in_(list(messages)))
    result = session.execute(update(Notification).where(*where).values(read_at=now))
    return result.rowcount or 0  # type: ignore[attr-defined]  # a DML result is a CursorResult


def purge_old(session: Session, *, now: datetime, older_than: timedelta = RETENTION,
              read_before: timedelta = READ_RETENTION) -> int:
    """Delete every notification sent longer ago than ``older_than``, read or not, and those read
    longer ago than ``read_before``."""
    result = session.execute(delete(Notification).where(or_(
        col(Notification.created_at) < now - older_than, col(Notification.read_at) < now - read_before)))
    return result.rowcount or 0  # type: ignore[attr-defined]  # a DML result is a CursorResult
