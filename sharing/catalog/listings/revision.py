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

The same commit counts the revision's ``seq`` up and stamps it on the log of what changed
(``catalog_change``): the listings whose rows, photos or holds it wrote, which the database's
triggers note (so no writer can forget), or "anything" for another table the search shows. The
row lock on the revision orders the stamps as the commits, so ``changes_since`` can tell, for
a page kept at one ``seq``, which listings changed since: kept search results outlive the
changes that do not touch them (see ``kept_results``).
"""

from __future__ import annotations

import secrets
import threading
import time
import weakref
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, Engine, bindparam, delete, distinct, func, insert, select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from sharing import transactions
from sharing.accounts.models import Municipality, Site
from sharing.catalog.categories.models import Category
from sharing.catalog.listings import search
from sharing.catalog.listings.models import CatalogChange, CatalogRevision, Listing, Visibility
from sharing.typed import table_name

# What the search pages show: writing any of these tables retires what was kept. Features and
# higher domains whose rows show in search add theirs (``watch``).
_watched = {table_name(model) for model in (Listing, Category, Municipality, Site)}
# Per database (engine or connection the sessions are bound to): the token and when it was known.
_known: weakref.WeakKeyDictionary[Engine | Connection, tuple[int | None, float]] = weakref.WeakKeyDictionary()

# Built once: every search asks, and building a statement costs more than running it.
_CURRENT = select(col(CatalogRevision.token)).where(col(CatalogRevision.id) == 1)
_NEW = (update(CatalogRevision).where(col(CatalogRevision.id) == 1)
        .values(token=bindparam("token"), seq=col(CatalogRevision.seq) + 1).returning(col(CatalogRevision.seq)))
_STAMP = (update(CatalogChange).where(col(CatalogChange.seq).is_(None))
          .values(seq=bindparam("seq"), token=bindparam("token")))
_LISTINGS_LOGGED = (select(func.count(distinct(col(CatalogChange.listing_id))))
                    .where(col(CatalogChange.seq) == bindparam("seq")))
_FORGOTTEN = delete(CatalogChange).where(col(CatalogChange.seq) == bindparam("seq"))
_LOGGED = insert(CatalogChange).values(listing_id=bindparam("listing_id"), seq=bindparam("seq"),
                                       token=bindparam("token"))
LOG_KEPT = 2000  # the commits a process remembers the changes of
ROWS_READ = 5000  # at most, at a time: a larger commit (an import) counts as anything
MAX_LISTINGS_A_COMMIT = 200  # a commit that changed more listings counts as anything
# In the log, for a listing: anything may have changed (another table the search shows), or no
# listing changed (a commit that wrote no row after all: its token is noted all the same).
ANYTHING, NO_LISTING = None, 0
# The tables whose writes the database's triggers log by listing (see the migration that made
# catalog_change); a write to any other watched table is logged as "anything".
LOGGED_BY_LISTING = frozenset({"listing", "listing_photo", "listing_hold"})


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
# Per database: what was computed from the catalog, by what it was asked under, and where the
# catalog stood when it was (see ``kept``).
_kept: weakref.WeakKeyDictionary[Engine | Connection, dict[Hashable, tuple[Revision, Any]]] = \
    weakref.WeakKeyDictionary()
KEPT_ENTRIES = 1000  # a bound: keys carry a municipality and a language, a handful each


def kept(session: Session, key: Hashable, compute: Callable[[], T], *, max_age: float = 1.0) -> T:
    """``compute()``, kept by this process while nothing in the catalog but its listings changes
    (a category, a municipality, a site: ``Changes.anything``), as the log known at most
    ``max_age`` seconds ago tells: for what many requests need alike and the listings do not
    decide (the filters' choices, the place names), which a listing's change, many a second,
    would otherwise have computed anew."""
    bind = session.get_bind()
    values = _kept.setdefault(bind, {})
    found = values.get(key)
    if found is not None:
        at, value = found
        changes = changes_since(session, at, max_age=max_age)
        if not changes.anything:
            if changes.up_to is not None:
                values[key] = (changes.up_to, value)  # the next check reads only the changes since
            return cast(T, value)
    since = now(session)  # before computing: a change meanwhile is found at the next ask
    value = compute()
    if since is not None:
        if len(values) >= KEPT_ENTRIES:
            values.clear()
        values[key] = (since, value)
    return value


def note_change(connection: Connection) -> None:
    """For a change made with raw SQL text, which no event can read."""
    transactions.note_write(connection, table_name(Listing))


def _draw_new_token(session: Session) -> None:
    token = secrets.randbits(62)
    connection = session.connection()
    seq = connection.execute(_NEW, {"token": token}).scalar_one_or_none()
    if seq is not None:  # None: a database without the row
        stamped = connection.execute(_STAMP, {"seq": seq, "token": token}).rowcount
        many = stamped > MAX_LISTINGS_A_COMMIT and (
            connection.scalar(_LISTINGS_LOGGED, {"seq": seq}) or 0) > MAX_LISTINGS_A_COMMIT
        if many or (transactions.tables_written(session) & _watched) - LOGGED_BY_LISTING:
            # Read as anything, whatever listings it names: one row, rather than thousands that
            # every process would read (an import's), ROWS_READ at a time, only to count them so.
            if stamped:
                connection.execute(_FORGOTTEN, {"seq": seq})
            connection.execute(_LOGGED, {"listing_id": ANYTHING, "seq": seq, "token": token})
        elif not stamped:  # no listing changed after all: the commit's token is noted all the same
            connection.execute(_LOGGED, {"listing_id": NO_LISTING, "seq": seq, "token": token})
    bind = session.get_bind()
    transactions.after_commit(session, lambda: _known.__setitem__(bind, (token, time.monotonic())))


def watch(*models: type[Any]) -> None:
    """Have every committed write to these models' tables draw a new token too."""
    _watched.update(table_name(model) for model in models)
    transactions.when_written(frozenset(_watched), _draw_new_token, key="catalog.revision")


watch()


# --- What changed since: the log, as each process knows it ---------------------------------



@dataclass(frozen=True)
class Standing:
    """What a search asks of a changed listing besides its words: its status, whether it is
    shared with partners or kept to its municipality, its facets (search.facets_of), and when
    it was published (where it stands in the newest-first order a search reads matches in)."""

    status: str
    shared: bool
    municipality_id: int
    facets: frozenset[tuple[int, int]]
    published_at: datetime | None = None


_STANDING = (select(col(Listing.id), col(Listing.search_text), col(Listing.status), col(Listing.visibility),
                    col(Listing.municipality_id), col(Listing.kind), col(Listing.condition),
                    col(Listing.category_id), col(Listing.lend), col(Listing.give_away), col(Listing.swap),
                    col(Listing.published_at))
             .where(col(Listing.id).in_(bindparam("ids", expanding=True))))


@dataclass
class _Log:
    """What this process knows of the log: the listings each commit after ``first`` up to
    ``last`` changed (ANYTHING for more), and each such listing's search words as last read."""

    token: int | None
    first: int
    last: int
    changed: dict[int, frozenset[int] | None] = field(default_factory=dict)
    tokens: dict[int, int] = field(default_factory=dict)  # the revision's token at each seq read
    words: dict[int, str | None] = field(default_factory=dict)  # None: the listing is gone
    standing: dict[int, Standing] = field(default_factory=dict)  # of those not gone
    lock: threading.Lock = field(default_factory=threading.Lock)


_logs: weakref.WeakKeyDictionary[Engine | Connection, _Log] = weakref.WeakKeyDictionary()
_reading = threading.Lock()
_REVISION = select(col(CatalogRevision.token), col(CatalogRevision.seq)).where(col(CatalogRevision.id) == 1)


@dataclass(frozen=True)
class Revision:
    """Where the catalog stands: its seq, and the token drawn with it."""

    seq: int
    token: int


@dataclass(frozen=True)
class Changes:
    """The listings changed after one ``seq`` up to ``last``, with their search words as they
    are now (None for a listing deleted) and what else a search's filters ask of them (for those
    read: one missing may meet any); ``anything`` if something else changed too, or more than
    the log tells."""

    last: int
    words: Mapping[int, str | None]
    anything: bool = False
    standing: Mapping[int, Standing] = field(default_factory=dict)
    token: int | None = None  # the revision's token at ``last``, when the log knows it

    @property
    def up_to(self) -> Revision | None:
        """The revision these changes run up to (None: not known, or ``anything``)."""
        return None if self.token is None or self.anything else Revision(self.last, self.token)


def now(session: Session) -> Revision | None:
    """Where the catalog stands now (None in a database without the revision's row)."""
    row = session.connection().execute(_REVISION).first()
    return None if row is None else Revision(row.seq, row.token)


def prune_log(session: Session) -> None:
    """Delete the changes no process reads any more. A process reads the last LOG_KEPT commits'
    at most; twice as many are kept, so that one reading while the log is pruned (the count moved
    on meanwhile) never finds a commit's changes half gone."""
    at = now(session)
    if at is not None:
        session.execute(delete(CatalogChange).where(col(CatalogChange.seq) <= at.seq - 2 * LOG_KEPT))


def changes_since(session: Session, since: Revision, *, max_age: float = 0) -> Changes:
    """What changed in the catalog after ``since``, as known at most ``max_age`` seconds ago."""
    bind, seq = session.get_bind(), since.seq
    token = current(session, max_age=max_age)
    log = _logs.get(bind)
    if log is None or log.token != token or seq > log.last:  # changed, or another process knows more
        with _reading:  # one thread at a time: words read later never give way to words read earlier
            log = _logs.get(bind)
            if log is None or log.token != token or seq > log.last:
                log = _read_log(session, log)
    with log.lock:
        if not log.first < seq <= log.last or log.tokens.get(seq) != since.token:
            # Too old to tell, counted past what the database holds, or counted in another life of
            # it (a restore from a backup counts the same seqs again, under other tokens).
            return Changes(log.last, {}, anything=True)
        changed = [log.changed[n] for n in range(seq + 1, log.last + 1) if n in log.changed]
        if any(listings is ANYTHING for listings in changed):
            return Changes(log.last, {}, anything=True)
        ids = {i for listings in changed if listings for i in listings}
        return Changes(log.last, {i: log.words.get(i) for i in ids},
                       standing={i: log.standing[i] for i in ids if i in log.standing}, token=log.tokens.get(log.last))


def _read_log(session: Session, log: _Log | None) -> _Log:
    """The log, read on from where this process left it (from its last LOG_KEPT commits if new),
    up to the seq of the token read with it: a transaction's snapshot may be older than the token
    this process knows, and the log must say which token it is current for."""
    connection = session.connection()
    token, last = connection.execute(_REVISION).first() or (None, 0)
    if log is not None and log.last in log.tokens and log.tokens[log.last] != connection.scalar(
            select(col(CatalogChange.token)).where(col(CatalogChange.seq) == log.last).limit(1)):
        log = None  # the database is not the one read: restored from a backup, say
    if log is None or last - log.last > LOG_KEPT or last < log.last:  # new, far behind, or another database
        log = _Log(token, first=max(0, last - LOG_KEPT), last=max(0, last - LOG_KEPT))
        _logs[session.get_bind()] = log
    rows = connection.execute(
        select(col(CatalogChange.seq), col(CatalogChange.listing_id), col(CatalogChange.token))
        .where(col(CatalogChange.seq) > log.last, col(CatalogChange.seq) <= last)
        .order_by(col(CatalogChange.seq)).limit(ROWS_READ)).all()
    by_seq: dict[int, set[int] | None] = {}
    tokens: dict[int, int] = {}
    for stamped, listing_id, stamped_token in rows:
        seq = cast(int, stamped)  # never None: stamped ones only
        tokens[seq] = cast(int, stamped_token)
        listings = by_seq.setdefault(seq, set())
        if listings is None:
            continue
        if listing_id is None or (listing_id not in listings and len(listings) >= MAX_LISTINGS_A_COMMIT):
            by_seq[seq] = ANYTHING
        elif listing_id != NO_LISTING:
            listings.add(listing_id)
    if len(rows) == ROWS_READ:  # the last commit read may be cut short (anything), and more are to read
        last, token = int(rows[-1].seq), None
        by_seq[last] = ANYTHING
    ids = {i for listings in by_seq.values() if listings for i in listings}
    words: dict[int, str | None] = dict.fromkeys(ids)
    standing: dict[int, Standing] = {}
    if ids:
        for (listing_id, text, status, visibility, municipality_id, kind, condition, category_id, lend, give_away,
             swap, published_at) in connection.execute(_STANDING, {"ids": list(ids)}):
            words[cast(int, listing_id)] = text
            standing[cast(int, listing_id)] = Standing(status, visibility == Visibility.PARTNERS.value, municipality_id,
                                                       search.facets_of(kind, condition, municipality_id, category_id,
                                                                        lend, give_away, swap), published_at)
    with log.lock:
        log.changed.update({seq: None if listings is None else frozenset(listings) for seq, listings in by_seq.items()})
        log.tokens.update(tokens)
        log.words.update(words)
        log.standing.update(standing)
        for gone in (i for i, w in words.items() if w is None):
            log.standing.pop(gone, None)
        log.last, log.token = max(log.last, last), token
        while log.changed and (len(log.changed) > LOG_KEPT or next(iter(log.changed)) <= log.last - LOG_KEPT):
            oldest = next(iter(log.changed))  # read in order: the first is the oldest
            log.changed.pop(oldest)
            log.tokens.pop(oldest, None)
            log.first = max(log.first, oldest)
        if len(log.words) > 4 * LOG_KEPT:  # words no kept commit names any more
            named = {i for listings in log.changed.values() if listings for i in listings}
            log.words = {i: w for i, w in log.words.items() if i in named}
            log.standing = {i: w for i, w in log.standing.items() if i in named}
    return log

