"""Periodic jobs: each domain declares its own (``add_job``), scheduler processes run them all
(`sharing jobs run`).

Each job runs once a period, however many schedulers run (one beside the web server on every
machine, say): periods are counted from the epoch (a minute's job runs at each full minute, a
day's at midnight UTC), and a run first takes the job's lease, a row of ``job_lease``, in a
short transaction of its own. One conditional statement takes it only while no one holds it
(or its holder's time ran out) and no run started in the current period, so of every scheduler
that tries, exactly one wins. The winner renews the lease while the job runs and releases it
when done; a holder that died leaves a lease that runs out (``LEASE``). A run of the last
period still going at a period's start holds the lease into it: the schedulers then try again a
few times a period until it is free, so the period still gets its run. A scheduler also runs
each job when it starts, if the job has not run in the current period.

Never start the scheduler inside web workers: each gunicorn worker would try every job.
"""

from __future__ import annotations

import logging
import os
import secrets
import selectors
import signal
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

import click
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import Engine, and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, SQLModel, col

from sharing.clock import utcnow
from sharing.db import UTCDateTime, engine, refresh_statistics
from sharing.typed import app_object

log = logging.getLogger("sharing.jobs")

# How long a lease holds without renewal: a scheduler that died mid-run blocks its job this long
# at most. The holder renews it four times as often while the job runs, however long it takes.
LEASE = timedelta(minutes=2)
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# How long a scheduler waits before it tries again for a lease held over from the last period:
# a twentieth of the period, at most this long.
LONGEST_PAUSE = timedelta(seconds=10)


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[], None]
    every: timedelta


def add_job(app: Flask, job: Job) -> None:
    app.extensions.setdefault("sharing.jobs", []).append(job)


def schedule(app: Flask) -> list[Job]:
    """Every job the domains declared, in the order they did."""
    return list(app.extensions.get("sharing.jobs", []))


def init_app(app: Flask) -> None:
    """The database's own job (declared here, as jobs build on the database, not it on them)."""
    add_job(app, Job("database-statistics", refresh_statistics, timedelta(days=1)))


class JobLease(SQLModel, table=True):
    """Who runs a job now, and when it last ran (one row a job, written only by the lease)."""

    __tablename__ = "job_lease"

    name: str = Field(primary_key=True, max_length=80)
    holder: str | None = Field(default=None, max_length=200)  # host, process and a random tag
    leased_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


def period_start(now: datetime, period: timedelta) -> datetime:
    """The start of the period ``now`` falls in, periods counted from the epoch: every
    scheduler, on every machine, agrees on it without asking another."""
    return EPOCH + (now - EPOCH) // period * period


def new_holder() -> str:
    """A name for one claim: where it runs, and a tag no other claim has."""
    return f"{socket.gethostname()[:120]} pid {os.getpid()} {secrets.token_hex(4)}"


def claim(bind: Engine, name: str, holder: str, *, clock: Callable[[], datetime] = utcnow,
          lease: timedelta = LEASE, period: timedelta | None) -> bool:
    """Take the job's lease for ``holder`` if it is free (or ran out) and, given a period, no run
    started in the current one; True if taken. One statement decides, in a transaction of its
    own: PostgreSQL locks the row and checks the condition again on the row it locked, SQLite
    runs one writer at a time, so two claimants never both win. The winner then notes the start
    by the clock read while it holds the row: had it waited for the lock past a period's end,
    the run belongs to the new period, and no one else runs the job in it."""
    now = clock()
    free = or_(col(JobLease.leased_until).is_(None), col(JobLease.leased_until) <= now)
    if period is not None:
        ran = col(JobLease.last_started_at)
        free = and_(free, or_(ran.is_(None), ran < period_start(now, period)))
    insert = sqlite.insert if bind.dialect.name == "sqlite" else postgresql.insert
    new = insert(JobLease).values(name=name, holder=holder, leased_until=now + lease, last_started_at=now)
    statement = new.on_conflict_do_update(
        index_elements=[col(JobLease.name)],
        set_={"holder": new.excluded.holder, "leased_until": new.excluded.leased_until,
              "last_started_at": new.excluded.last_started_at},
        where=free,
    ).returning(col(JobLease.name))
    with Session(bind=bind) as session:
        won = session.execute(statement).first() is not None
        if won:
            started = clock()
            session.execute(update(JobLease).where(col(JobLease.name) == name)
                            .values(last_started_at=started, leased_until=started + lease))
        session.commit()
    return won


def renew(bind: Engine, name: str, holder: str, *, now: datetime, lease: timedelta = LEASE) -> bool:
    """Hold the lease ``lease`` longer; False if it is no longer ``holder``'s."""
    with Session(bind=bind) as session:
        renewed = session.execute(
            update(JobLease).where(col(JobLease.name) == name, col(JobLease.holder) == holder)
            .values(leased_until=now + lease))
        session.commit()
    return renewed.rowcount == 1  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult


def release(bind: Engine, name: str, holder: str, *, now: datetime) -> bool:
    """Give the lease up and note when the run finished; False if it was no longer ``holder``'s."""
    with Session(bind=bind) as session:
        released = session.execute(
            update(JobLease).where(col(JobLease.name) == name, col(JobLease.holder) == holder)
            .values(holder=None, leased_until=None, last_finished_at=now))
        session.commit()
    return released.rowcount == 1  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult


def run_leased(app: Flask, job: Job, *, period: timedelta | None, lease: timedelta = LEASE) -> bool:
    """Run the job in the app's context if this process takes its lease (see ``claim``); True if
    it ran. The lease is renewed while it runs and released when it ends, failed or not."""
    with app.app_context():
        bind = engine()
        holder = new_holder()
        if not claim(bind, job.name, holder, lease=lease, period=period):
            return False
        done = threading.Event()

        def keep() -> None:
            while not done.wait(lease.total_seconds() / 4):
                try:
                    if not renew(bind, job.name, holder, now=utcnow(), lease=lease):
                        log.warning("job %s lost its lease while running", job.name)
                        return
                except Exception:  # noqa: BLE001 - a failed renewal is tried again at the next turn
                    log.exception("could not renew the lease of job %s", job.name)

        keeper = threading.Thread(target=keep, name=f"lease {job.name}", daemon=True)
        keeper.start()
        try:
            job.run()
        finally:
            done.set()
            keeper.join()
            if not release(bind, job.name, holder, now=utcnow()):
                log.warning("job %s finished after its lease ran out", job.name)
    return True


def ran_in_period(bind: Engine, name: str, *, now: datetime, period: timedelta) -> bool:
    """Whether a run of the job started in the period ``now`` falls in."""
    with Session(bind=bind) as session:
        started = session.scalar(select(col(JobLease.last_started_at)).where(col(JobLease.name) == name))
    return started is not None and started >= period_start(now, period)


def run_in_period(app: Flask, job: Job, *, period: timedelta, lease: timedelta,
                  stopping: threading.Event) -> bool:
    """Run the job if no run started in the current period yet (see ``run_leased``); True if
    this process ran it. A run of the last period that is still going holds the lease past the
    period's start: wait for it, trying again now and then until the period ends (or the
    scheduler stops), rather than leave the period without a run."""
    pause = min(period / 20, LONGEST_PAUSE)
    ends = period_start(utcnow(), period) + period
    while not run_leased(app, job, period=period, lease=lease):
        with app.app_context():
            ran = ran_in_period(engine(), job.name, now=utcnow(), period=period)
        if ran or utcnow() + pause >= ends or stopping.wait(pause.total_seconds()):
            return False
    return True


def job_period(app: Flask, job: Job) -> timedelta:
    """The job's period; tests shorten every period alike (SHARING_JOB_PERIOD_SCALE)."""
    return job.every * app.config["JOB_PERIOD_SCALE"]


def job_lease_time(app: Flask) -> timedelta:
    """How long a lease holds unrenewed; shortened with the periods in tests."""
    return LEASE * app.config["JOB_PERIOD_SCALE"]


jobs_cli = AppGroup("jobs", help="Periodic jobs.")


@jobs_cli.command("run")
def run_scheduler() -> None:
    """Run the scheduler in the foreground (one or more per deployment: each job runs once a
    period whatever their number). SIGTERM and Ctrl-C stop it once running jobs are done."""
    app: Flask = app_object()
    scheduler = BackgroundScheduler(timezone="UTC")
    jobs = schedule(app)
    lease = job_lease_time(app)
    stopping = threading.Event()  # ends the waits for a lease held over from the last period
    now = utcnow()
    for job in jobs:
        period = job_period(app, job)

        def leased(job: Job = job, period: timedelta = period) -> None:
            run_in_period(app, job, period=period, lease=lease, stopping=stopping)

        # At each period's start, on the same instants on every machine; and once now, in case
        # the job has not run in this period (the lease knows).
        scheduler.add_job(leased, IntervalTrigger(seconds=period.total_seconds(), start_date=EPOCH, timezone="UTC"),
                          id=job.name, max_instances=1, coalesce=True, misfire_grace_time=None)
        scheduler.add_job(leased, "date", run_date=now, id=f"{job.name} at start", misfire_grace_time=None)

    # A signal may reach any of the process's threads, and Python runs its handler in the main
    # thread only when that runs again: asleep in a lock's wait (as APScheduler's own loop is),
    # it would not notice until its next job is due, and start that job first. So the scheduler
    # runs in a thread of its own, and the main thread sleeps on the signals' wakeup pipe.
    stop_asked = threading.Event()
    woken, wake = os.pipe()
    os.set_blocking(wake, False)
    signal.set_wakeup_fd(wake)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda _signum, _frame: stop_asked.set())
    scheduler.start()
    log.info("scheduler started with %d jobs", len(jobs))
    with selectors.DefaultSelector() as waiting:
        waiting.register(woken, selectors.EVENT_READ)
        while not stop_asked.is_set():
            waiting.select()
            os.read(woken, 64)  # the handler has run by the loop's test
    log.info("scheduler stopping once its running jobs are done")
    stopping.set()
    scheduler.shutdown(wait=True)


@jobs_cli.command("once")
@click.argument("name")
def run_once(name: str) -> None:
    """Run one job now, by name, whenever it last ran; never beside a running instance."""
    jobs = schedule(current_app)
    for job in jobs:
        if job.name == name:
            if not run_leased(app_object(), job, period=None, lease=job_lease_time(current_app)):
                raise click.ClickException(f"{name} is running now (see the job_lease table); try again later.")
            click.echo(f"{name}: done")
            return
    raise click.ClickException(f"No job named {name}; known: {', '.join(j.name for j in jobs)}")
