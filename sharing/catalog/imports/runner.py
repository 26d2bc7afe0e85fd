"""Running a confirmed import in the background, and telling how far it has come.

Why a thread of the web process, not the scheduler (``sharing.jobs``): the scheduler is one
separate process for periodic jobs; handing it work would need a queue it polls, and an
import would wait for the next poll. An import is one bounded piece of work (at most 5,000
rows: seconds, a minute at most), so the worker that accepted it runs it in a thread with a
session of its own, and the page follows it.

All or nothing: every listing is written in ONE transaction, committed together with the
import's "done"; any failure rolls all of it back, and the failure is recorded in a new
transaction. If the process dies mid-way, the database rolls the transaction back and the
periodic ``tidy`` marks the import as interrupted.

Progress must be visible while that transaction is still open, so it cannot travel in it:
- In this process's memory (a dict guarded by a lock), always: the freshest figure.
- On PostgreSQL, also on the import's row, in short transactions of their own a few times
  a second, so whichever worker process answers the page's poll knows it. The import's own
  transaction does not touch that row until its end, so neither waits for the other.
- Not on SQLite: it allows one writer at a time, so a second write would wait for the import's
  own transaction to end. SQLite deployments run a single process, whose memory is enough.

Other users keep writing while an import runs: ``imports.run`` checks and prepares every row
without writing, then writes all of them at once, so the import's transaction holds SQLite's
write lock for well under a second rather than for the whole import.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask
from sqlalchemy import update

from sharing.catalog.imports import rules as imports
from sharing.catalog.imports.models import ListingImport
from sharing.clock import utcnow
from sharing.db import engine, new_session
from sharing.i18n import N_

log = logging.getLogger("sharing.catalog")
PROGRESS_WRITE_SECONDS = 0.5

_lock = threading.Lock()
_progress: dict[int, int] = {}  # import id -> rows written, while it runs in this process
_threads: dict[int, threading.Thread] = {}


def progress(import_id: int) -> int | None:
    """Rows written so far by an import running in this process (None if it runs elsewhere, or not)."""
    with _lock:
        return _progress.get(import_id)


def start_in_background(app: Flask, import_id: int) -> threading.Thread:
    """Run an import already marked as running (``imports.start``) in a thread of its own."""
    with _lock:
        _progress[import_id] = 0
    # Not a daemon: a worker that is shut down gracefully lets the import finish first.
    thread = threading.Thread(target=_run, args=(app, import_id), name=f"listing-import-{import_id}")
    with _lock:
        _threads[import_id] = thread
    try:
        thread.start()
    except RuntimeError:  # the process may start no more threads: say so rather than seem to run
        log.exception("import %s could not start", import_id)
        with _lock:
            _progress.pop(import_id, None)
            _threads.pop(import_id, None)
        _record_failure(import_id, row=None, message=N_("The import failed. Nothing was saved."))
    return thread


def running() -> list[int]:
    """The imports running in this process."""
    with _lock:
        return list(_threads)


def wait(import_id: int, timeout: float) -> bool:
    """Wait for an import started in this process to end; False if it is still running after ``timeout``."""
    with _lock:
        thread = _threads.get(import_id)
    if thread is None:
        return True
    thread.join(timeout)
    return not thread.is_alive()


def _run(app: Flask, import_id: int) -> None:
    with app.app_context():
        try:
            _import(import_id)
        except imports.RowFailed as failure:
            # The cause's class only: a database error's text would repeat the row's values.
            log.warning("import %s failed at row %s: %s", import_id, failure.row, type(failure.__cause__).__name__)
            _record_failure(import_id, row=failure.row, message=failure.message, params=failure.params,
                            problems=failure.problems)
        except Exception:
            log.exception("import %s failed", import_id)
            _record_failure(import_id, row=None, message=N_("The import failed. Nothing was saved."))
        finally:
            with _lock:
                _progress.pop(import_id, None)
                _threads.pop(import_id, None)


def _import(import_id: int) -> None:
    shared_progress = engine().dialect.name != "sqlite"
    last_write = time.monotonic()

    def report(done: int) -> None:
        nonlocal last_write
        with _lock:
            _progress[import_id] = done
        if shared_progress and time.monotonic() - last_write >= PROGRESS_WRITE_SECONDS:
            with new_session() as progress_session:
                progress_session.execute(update(ListingImport).where(ListingImport.id == import_id)  # type: ignore[arg-type]
                                         .values(done=done))
                progress_session.commit()
            last_write = time.monotonic()

    with new_session() as session:
        job = session.get(ListingImport, import_id)
        if job is None:
            return
        created = imports.run(session, job=job, now=utcnow(), on_progress=report)
        session.commit()
    log.info("import %s created %d listings", import_id, len(created))


def _record_failure(import_id: int, **failure: object) -> None:
    with new_session() as session:
        imports.fail(session, import_id=import_id, now=utcnow(), **failure)  # type: ignore[arg-type]
        session.commit()
