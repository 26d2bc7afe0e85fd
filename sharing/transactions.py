"""Transaction hooks: work to run just before a session commits, once it has committed, or once
it has rolled back, and what its transaction wrote.

Domains keep no private state in ``session.info`` and listen to no process-wide ``Session`` or
``Connection`` event of their own: they ask here. Hooks belong to the transaction
they were added in: a savepoint's hooks follow the transaction around it once it is released,
and a savepoint rolled back runs its rollback hooks and forgets the others. A savepoint's
release is not a commit.

- ``before_commit(session, hook)``: ``hook(session)`` runs inside the transaction, before it
  commits; it may still write (the catalog draws a new revision token there).
- ``after_commit(session, hook)``: ``hook()`` runs once the transaction committed (files to
  remove, events to dispatch, mail to send). A failing hook is logged: what committed stays so.
- ``after_rollback(session, hook)``: ``hook()`` runs once the transaction ended without a
  commit, by a rollback or a close (files written for it are removed).
- ``when_written(tables, hook)``: for every transaction that writes one of these tables, by
  whatever means (ORM flush, bulk or Core statement), ``hook(session)`` runs before its commit.

Each hook may carry a key: a second hook under the same key in one transaction replaces none
and is dropped, so "once per transaction" needs no state of the caller's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Select, event
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql.dml import UpdateBase

log = logging.getLogger("sharing.transactions")

BeforeCommit = Callable[[Session], None]
AfterEnd = Callable[[], object]  # what it returns is ignored


@dataclass
class _Hooks:
    before_commit: dict[Hashable, BeforeCommit] = field(default_factory=dict)
    after_commit: dict[Hashable, AfterEnd] = field(default_factory=dict)
    after_rollback: dict[Hashable, AfterEnd] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.before_commit or self.after_commit or self.after_rollback)

    def take(self, other: _Hooks) -> None:
        """Adopt a released savepoint's hooks: they now follow this transaction."""
        self.before_commit = {**other.before_commit, **self.before_commit}
        self.after_commit = {**other.after_commit, **self.after_commit}
        self.after_rollback = {**other.after_rollback, **self.after_rollback}


_HOOKS = "sharing.transaction_hooks"
# Connection.info: the tables the transaction on this connection wrote, and whether it may have
# written at all (raw SQL text writes tables no one can name).
_TABLES_WRITTEN = "sharing.tables_written"
_MAY_HAVE_WRITTEN = "sharing.may_have_written"


def _frames(session: Session) -> dict[SessionTransaction, _Hooks]:
    """The hooks of each open transaction of the session: the outermost, and its savepoints."""
    frames: dict[SessionTransaction, _Hooks] = session.info.setdefault(_HOOKS, {})
    return frames


def _hooks(session: Session) -> _Hooks:
    if not session.in_transaction():
        session.begin()  # the hooks belong to a transaction: this one, not whichever comes next
    innermost = session.get_nested_transaction() or session.get_transaction()
    assert innermost is not None  # begun above
    return _frames(session).setdefault(innermost, _Hooks())


def _add(registry: dict[Hashable, Any], hook: Any, key: Hashable | None) -> None:
    registry.setdefault(hook if key is None else key, hook)


def before_commit(session: Session, hook: BeforeCommit, *, key: Hashable | None = None) -> None:
    """Run ``hook(session)`` inside this transaction, just before it commits."""
    _add(_hooks(session).before_commit, hook, key)


def after_commit(session: Session, hook: AfterEnd, *, key: Hashable | None = None) -> None:
    """Run ``hook()`` once this transaction has committed (not if it rolls back)."""
    _add(_hooks(session).after_commit, hook, key)


def after_rollback(session: Session, hook: AfterEnd, *, key: Hashable | None = None) -> None:
    """Run ``hook()`` once this transaction has ended without committing."""
    _add(_hooks(session).after_rollback, hook, key)


def has_hooks(session: Session) -> bool:
    """Whether anything waits on how this transaction ends."""
    return any(session.info.get(_HOOKS, {}).values())


@dataclass(frozen=True)
class _Watch:
    tables: frozenset[str]
    hook: BeforeCommit


_watches: dict[Hashable, _Watch] = {}


def when_written(tables: Iterable[str], hook: BeforeCommit, *, key: Hashable | None = None) -> None:
    """For every transaction, in any session, that writes one of ``tables``: run ``hook(session)``
    before it commits. Registered once per process (again under the same key replaces it)."""
    _watches[hook if key is None else key] = _Watch(frozenset(tables), hook)


def unwatch(key: Hashable) -> None:
    """Stop a watch registered under ``key``."""
    _watches.pop(key, None)


def note_write(connection: Connection, table: str) -> None:
    """For a write made with raw SQL text, which no event can read: name the table it wrote."""
    connection.info.setdefault(_TABLES_WRITTEN, set()).add(table)
    connection.info[_MAY_HAVE_WRITTEN] = True


def tables_written(session: Session) -> frozenset[str]:
    """The tables this session's transaction has written so far (raw SQL text only if noted)."""
    transaction = session.get_transaction()
    if transaction is None:
        return frozenset()
    return frozenset(name for connection in transaction.connections
                     for name in connection.info.get(_TABLES_WRITTEN, ()))


def only_read(session: Session) -> bool:
    """Whether the session's transaction ran SQL, all of which only read, holds no change to
    flush, and has nothing waiting on how it ends: then COMMIT and ROLLBACK are the same to the
    database (and PostgreSQL keeps its prepared statements at a COMMIT)."""
    transaction = session.get_transaction()
    if transaction is None or not transaction.is_active or not transaction.connections:
        return False
    if has_hooks(session) or session.new or session.dirty or session.deleted:
        return False
    return not any(connection.info.get(_MAY_HAVE_WRITTEN) for connection in transaction.connections)


# --- The process-wide listeners, the only ones ---------------------------------------------------

def _statement_only_reads(compiled: Any) -> bool:
    # Only a statement built as a SELECT, with no INSERT, UPDATE or DELETE in its WITH clause, is
    # known to read alone: raw SQL may write. (A SELECT calling a function that writes, such as
    # pg_notify, is not seen; nothing here calls one. PostgreSQL allows a data-changing WITH
    # only at the top, where it is seen.)
    if compiled is None or not isinstance(compiled.statement, Select):
        return False
    return not any(isinstance(cte.element, UpdateBase) for cte in compiled.ctes or ())


def _info(connection: Connection) -> dict[Any, Any]:
    try:
        return connection.info
    except NotImplementedError:  # the dialect's first look at a new connection, which has none yet
        return {}


@event.listens_for(Connection, "before_execute")
def _note_tables(connection: Connection, statement: object, *_: object) -> None:
    if isinstance(statement, UpdateBase):
        name = getattr(statement.table, "name", None)
        if name is not None:
            _info(connection).setdefault(_TABLES_WRITTEN, set()).add(name)


@event.listens_for(Connection, "before_cursor_execute")
def _note_possible_write(connection: Connection, _cursor: Any, _sql: str, _params: Any, context: Any,
                         _many: bool) -> None:
    if not _statement_only_reads(getattr(context, "compiled", None)):
        _info(connection)[_MAY_HAVE_WRITTEN] = True


@event.listens_for(Connection, "commit")
@event.listens_for(Connection, "rollback")  # the whole transaction's: a savepoint's is another event
def _forget_writes(connection: Connection) -> None:
    info = _info(connection)
    info.pop(_TABLES_WRITTEN, None)
    info.pop(_MAY_HAVE_WRITTEN, None)


@event.listens_for(Session, "before_commit")
def _run_before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint's release: the transaction has not committed yet
    session.flush()  # what the commit would flush next: its writes count too
    frames = session.info.get(_HOOKS, {})
    while pending := [hook for hooks in frames.values() for hook in hooks.before_commit.values()]:
        for hooks in frames.values():
            hooks.before_commit = {}
        for hook in pending:
            hook(session)
        session.flush()
    if _watches and session.in_transaction():
        written = tables_written(session)
        for watch in list(_watches.values()):
            if watch.tables & written:
                watch.hook(session)
        session.flush()


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    savepoint = session.get_nested_transaction()
    if savepoint is not None:  # released: its hooks now wait on the transaction around it
        released = _frames(session).pop(savepoint, None)
        if released and savepoint.parent is not None:
            _frames(session).setdefault(savepoint.parent, _Hooks()).take(released)
        return
    frames = session.info.pop(_HOOKS, {})
    _run_safely([hook for hooks in frames.values() for hook in hooks.after_commit.values()], "after commit")


@event.listens_for(Session, "after_transaction_end")
def _run_after_rollback(session: Session, transaction: SessionTransaction) -> None:
    frames = session.info.get(_HOOKS)
    if not frames:
        return  # nothing waits, or the commit took it all
    if transaction.parent is None:  # the outermost, ended without a commit: everything inside it too
        ended = list(session.info.pop(_HOOKS).values())
    elif transaction.nested:  # a savepoint rolled back (a released one was taken at its commit)
        ended = [frames.pop(transaction)] if transaction in frames else []
    else:
        return
    _run_safely([hook for hooks in ended for hook in hooks.after_rollback.values()], "after rollback")


def _run_safely(hooks: Iterable[AfterEnd], when: str) -> None:
    for hook in list(hooks):
        try:
            hook()
        except Exception:  # noqa: BLE001 - the transaction has ended: a hook's failure must not undo or hide that
            log.exception("a hook to run %s failed", when)
