"""The catalog's revision: a random token drawn anew with every committed change to what the
search pages show (listings, their photos, categories, municipalities and sites), under
which rendered search results are kept.

Every transaction that writes one of the watched tables, whoever makes it (the ORM's flushes
and bulk statements, Core statements; the catalog, loans, an import, an administrator), draws
a new token before it commits (``transactions.when_written``), so no writer can forget the
change. It is made in the committing transaction itself, so a reader who sees the new token
also sees the change, and at its commit, so writers queue behind a long transaction (an
import) only for its commit. (Raw SQL text is not seen: call ``note_change``.)

Each process remembers the token it last read or drew itself, so a search need not ask the
database every time: what a process commits shows in its next search at once, and what
another process commits shows once the remembered token is older than the reader allows.
"""

from __future__ import annotations

import secrets
import time
import weakref
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, bindparam, select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from sharing import transactions
from sharing.accounts.models import Municipality, Site
from sharing.catalog.categories.models import Category
from sharing.catalog.listings.models import CatalogRevision, Listing
from sharing.typed import table_name

# What the search pages show: writing any of these tables retires what was kept. Features and
# higher domains whose rows show in search add theirs (``watch``).
_watched = {table_name(model) for model in (Listing, Category, Municipality, Site)}
# Per database (engine or connection the sessions are bound to): the token and when it was known.
_known: weakref.WeakKeyDictionary[Engine | Connection, tuple[int | None, float]] = weakref.WeakKeyDictionary()

# Built once: every search asks, and building a statement costs more than running it.
_CURRENT = select(col(CatalogRevision.token)).where(col(CatalogRevision.id) == 1)
_NEW = update(CatalogRevision).where(col(CatalogRevision.id) == 1).values(token=bindparam("token"))


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


T = TypeVar("T")
# Per database: what was computed from the catalog as of a revision, by what it was asked under.
_kept: weakref.WeakKeyDictionary[Engine | Connection, tuple[int | None, dict[Hashable, Any]]] = \
    weakref.WeakKeyDictionary()
KEPT_PER_REVISION = 1000  # a bound: keys carry a municipality and a language, a handful each


def kept(session: Session, key: Hashable, compute: Callable[[], T], *, max_age: float = 1.0) -> T:
    """``compute()``, kept by this process while the catalog's revision stays the same: for what
    many requests need alike and only a change of the catalog changes (the filters' choices,
    the place names). A revision known at most ``max_age`` seconds ago is fresh enough."""
    bind, token = session.get_bind(), current(session, max_age=max_age)
    if token is None:
        return compute()
    known_token, values = _kept.get(bind, (None, {}))
    if known_token != token or len(values) >= KEPT_PER_REVISION:
        values = {}
        _kept[bind] = (token, values)
    if key not in values:
        values[key] = compute()
    return values[key]


def note_change(connection: Connection) -> None:
    """For a change made with raw SQL text, which no event can read."""
    transactions.note_write(connection, table_name(Listing))


def _draw_new_token(session: Session) -> None:
    token = secrets.randbits(62)
    session.execute(_NEW, {"token": token})
    bind = session.get_bind()
    transactions.after_commit(session, lambda: _known.__setitem__(bind, (token, time.monotonic())))


def watch(*models: type[Any]) -> None:
    """Have every committed write to these models' tables draw a new token too."""
    _watched.update(table_name(model) for model in models)
    transactions.when_written(frozenset(_watched), _draw_new_token, key="catalog.revision")


watch()
