"""The catalog's revision: a random token drawn anew with every committed change to what the
search pages show (listings, their photos, categories, municipalities and sites), under
which rendered search results are kept.

Every write statement passes the connection's ``before_execute`` event, whoever makes it (the
ORM's flushes and bulk statements, Core statements; the catalog, loans, an import, an
administrator), so no writer can forget the change. It is made in the committing transaction
itself, so a reader who sees the new token also sees the change, and at its commit, so
writers queue behind a long transaction (an import) only for its commit. (Releasing a
savepoint counts as a commit here, and raw SQL text is not seen: call ``note_change``.)

Each process remembers the token it last read or drew itself, so a search need not ask the
database every time: what a process commits shows in its next search at once, and what
another process commits shows once the remembered token is older than the reader allows.
"""

from __future__ import annotations

import secrets
import time
import weakref

from sqlalchemy import Connection, Engine, bindparam, event, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import UpdateBase

from sharing.accounts.models import Municipality, Site
from sharing.catalog.models import CatalogRevision, Category, Listing, ListingPhoto

WATCHED_TABLES = frozenset(model.__tablename__ for model in (Listing, ListingPhoto, Category, Municipality, Site))
_CHANGED = "catalog_changed"
_DRAWN = "catalog_revision_drawn"
# Per database (engine or connection the sessions are bound to): the token and when it was known.
_known: weakref.WeakKeyDictionary[Engine | Connection, tuple[int | None, float]] = weakref.WeakKeyDictionary()

# Built once: every search asks, and building a statement costs more than running it.
_CURRENT = select(CatalogRevision.token).where(CatalogRevision.id == 1)  # type: ignore[arg-type]
_NEW = update(CatalogRevision).where(CatalogRevision.id == 1).values(token=bindparam("token"))  # type: ignore[arg-type]


def current(session: Session, *, max_age: float = 0) -> int | None:
    """The revision's token, as this process knew it at most ``max_age`` seconds ago (None
    only in a database without the row: then nothing is kept)."""
    bind, now = session.get_bind(), time.monotonic()
    known = _known.get(bind)
    if known is not None and now - known[1] <= max_age:
        return known[0]
    token = session.connection().scalar(_CURRENT)
    latest = _known.get(bind)
    if latest is None or latest[1] <= now:  # not over a token this process drew meanwhile
        _known[bind] = (token, now)
    return token


def note_change(connection: Connection) -> None:
    """For a change made with raw SQL text, which no event can read."""
    connection.info[_CHANGED] = True


@event.listens_for(Connection, "before_execute")
def _note_writes(connection: Connection, statement: object, *_: object) -> None:
    if isinstance(statement, UpdateBase) and getattr(statement.table, "name", None) in WATCHED_TABLES:  # type: ignore[attr-defined]
        note_change(connection)


@event.listens_for(Connection, "commit")
@event.listens_for(Connection, "rollback")  # the whole transaction's: a savepoint's is another event
def _forget(connection: Connection) -> None:
    connection.info.pop(_CHANGED, None)


@event.listens_for(Session, "before_commit")
def _draw_new_token(session: Session) -> None:
    session.flush()  # what the commit would flush next: its changes count too
    if session.in_transaction() and session.connection().info.pop(_CHANGED, False):
        session.info[_DRAWN] = secrets.randbits(62)
        session.execute(_NEW, {"token": session.info[_DRAWN]})


@event.listens_for(Session, "after_commit")
def _remember_drawn_token(session: Session) -> None:
    if _DRAWN in session.info:
        _known[session.get_bind()] = (session.info.pop(_DRAWN), time.monotonic())


@event.listens_for(Session, "after_rollback")
def _forget_drawn_token(session: Session) -> None:
    session.info.pop(_DRAWN, None)
