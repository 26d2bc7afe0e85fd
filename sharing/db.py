"""The database: one engine per app, one session per request, shared column types."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from typing import Annotated, Any, Generic, TypeVar, cast

import pydantic
from flask import Flask, current_app, g
from sqlalchemy import Column, DateTime, ForeignKey, Integer, MetaData, Update, bindparam, event, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, Session, SQLModel, create_engine
from werkzeug.local import LocalProxy

from sharing import transactions

# Stable constraint names, so migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata: MetaData = SQLModel.metadata


# Schema objects written by hand in migrations, which the models do not describe (search
# indexes of one database or the other). Alembic's comparison leaves them alone.
HAND_WRITTEN_PREFIXES = ("listing_fts", "ix_listing_search_text_trgm", "ix_listing_search_title_trgm",
                         "search_fts_", "ix_listing_search_fts_")

# The largest id the databases' integer keys hold (PostgreSQL's integer). An id from outside
# (an address, a form, a request body) above it names no record: bounded before it reaches SQL,
# where PostgreSQL would refuse it with an error rather than find nothing.
MAX_RECORD_ID = 2**31 - 1
RecordId = Annotated[int, pydantic.Field(ge=1, le=MAX_RECORD_ID)]


def described_by_models(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's include_name hook: False for the hand-written objects above."""
    return not (name or "").startswith(HAND_WRITTEN_PREFIXES)


def foreign_key(target: str, *, nullable: bool = False, ondelete: str = "RESTRICT") -> Any:
    """A model's indexed foreign key column to ``target`` ("table.column"), restricting deletes
    unless told otherwise."""
    return Field(default=None, sa_column=Column(Integer, ForeignKey(target, ondelete=ondelete),
                                                nullable=nullable, index=True))


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC that always reads back timezone-aware.

    SQLite keeps no zone, so naive values read from it are UTC by construction.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; store timezone-aware UTC times")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


# How long a writer waits on SQLite for another's transaction to end before it gives up (the
# web shell then answers 503 "try again"). Writes hold the lock briefly (an import writes all
# its rows at once), so this is ample; it stays well under the server's request timeout.
SQLITE_BUSY_SECONDS = 10.0

# Functions of our own that SQLite's schema calls (a trigger keeping a search index), by name:
# a domain adds its own (``sqlite_function``), and every connection is given them all.
_SQLITE_FUNCTIONS: dict[str, Callable[[str], str]] = {}


def sqlite_function(name: str, function: Callable[[str], str]) -> None:
    """Give every SQLite connection opened from now on this deterministic function of one text."""
    _SQLITE_FUNCTIONS[name] = function


def _tune_sqlite(dbapi_connection: Any, _record: Any, busy_seconds: float = SQLITE_BUSY_SECONDS) -> None:
    # WAL lets readers run beside the writer; foreign keys are off by default in SQLite;
    # the busy timeout makes a second writer wait instead of failing at once.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_seconds * 1000)}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Read pages through a memory map (shared by every worker via the OS cache) rather than a
    # system call each: a search reads thousands of pages.
    cursor.execute("PRAGMA mmap_size=268435456")
    cursor.close()
    for name, function in _SQLITE_FUNCTIONS.items():
        dbapi_connection.create_function(name, 1, function, deterministic=True)


def row_lock(model: type[SQLModel]) -> Update:
    """A statement that locks one row (``{"id": ...}``) for the rest of the transaction and
    returns it as committed: an UPDATE that changes nothing still locks. PostgreSQL locks the
    row until commit; on SQLite it is the transaction's first write, which takes the database's
    write lock (waiting for the writer before) with a snapshot that sees everything committed.
    Build it once: a statement built costs more than one run."""
    id_ = model.__table__.c.id  # type: ignore[attr-defined]  # a table model has its table
    return (update(model).where(id_ == bindparam("id")).values(id=id_).returning(model)
            .execution_options(synchronize_session=False, populate_existing=True))


def make_engine(url: str, *, busy_seconds: float = SQLITE_BUSY_SECONDS, **kwargs: Any) -> Engine:
    """An engine for SQLite or PostgreSQL (psycopg 3), tuned for a web app."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", partial(_tune_sqlite, busy_seconds=busy_seconds))
    else:
        if parsed.drivername == "postgresql":
            url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
        engine = create_engine(url, pool_pre_ping=True, **kwargs)
    return engine


# --- Ending a request's transaction ------------------------------------------------
# Most requests only read, and their transaction ends with COMMIT, which is the same to the
# database as ROLLBACK: psycopg forgets its prepared statements at every ROLLBACK, so the
# queries every page makes (the session's user, say) would be planned anew each time.

def close_request_session(session: Session, error: BaseException | None = None) -> None:
    """End the request's session: what it changed without committing is rolled back, and a
    transaction that only read, in a request that did not fail, is committed (see above)."""
    try:
        if error is None and transactions.only_read(session):
            session.commit()
    except SQLAlchemyError:  # a lost connection, say: nothing was written, close() rolls back
        pass
    finally:
        session.close()


def init_app(app: Flask) -> None:
    """Create the app's engine and close the request's session on teardown."""
    app.extensions["sharing.engine"] = make_engine(
        app.config["SHARING_DATABASE_URL"],
        busy_seconds=float(app.config.get("SHARING_SQLITE_BUSY_SECONDS", SQLITE_BUSY_SECONDS)))

    @app.teardown_appcontext
    def close_session(exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            close_request_session(session, exc)


def engine() -> Engine:
    """The current app's engine."""
    return current_app.extensions["sharing.engine"]


Row = TypeVar("Row")


@dataclass
class Page(Generic[Row]):
    """One page of rows, as the domains' finders return them and the pagination macro shows them."""

    items: list[Row]
    total: int
    page: int
    per_page: int
    more: bool = False  # there are more than total (a broad search counted up to a limit)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def refresh_statistics() -> None:
    """Let the query planner see the data as it is now. SQLite keeps no statistics of its own:
    without them it sorts 100,000 listings rather than walk the index on publication time.
    (PostgreSQL's autovacuum analyses too; once a day more costs it nothing.)"""
    with engine().begin() as connection:
        connection.exec_driver_sql("ANALYZE")


def new_session() -> Session:
    """A session of its own, for CLI commands and jobs that finish their work inside it."""
    return Session(bind=engine(), expire_on_commit=False)


class RequestSession(Session):
    """The session of a request. Its commits may be held (``hold_commits``): then ``commit()``
    only flushes and notes that the view asked for it, and whoever held them commits the whole
    once the request has its answer, so that what the view did and what is kept of its answer
    are one transaction (the API's Idempotency-Key). A view that commits and then changes more
    commits again, as it would anyway."""

    commits_held = False
    commit_asked = False

    def hold_commits(self) -> None:
        """From now on, ``commit()`` flushes and is noted, and the transaction goes on."""
        self.commits_held, self.commit_asked = True, False

    def end_hold(self) -> bool:
        """Commits are commits again; whether the view asked for one (and has not rolled back
        since)."""
        asked = self.commit_asked
        self.commits_held = self.commit_asked = False
        return asked

    def commit(self) -> None:
        if not self.commits_held:
            super().commit()
            return
        self.flush()  # ids, defaults and constraints as a commit would have them
        self.commit_asked = True

    def rollback(self) -> None:
        self.commit_asked = False  # what the view asked to commit is gone
        super().rollback()


def request_session() -> RequestSession:
    """The session of the current request (or app context), opened on first use."""
    if "db_session" not in g:
        g.db_session = RequestSession(bind=engine(), expire_on_commit=False)
    session: RequestSession = g.db_session
    return session


# The session of the current request (or app context), opened on first use.
db_session = cast(RequestSession, LocalProxy(request_session))  # a proxy, typed as what it stands for
