"""Periodic jobs: each runs once a period however many schedulers run, never beside itself."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session

from sharing.clock import utcnow
from sharing.db import make_engine
from sharing.jobs import LEASE, Job, JobLease, claim, period_start, release, run_in_period, run_leased, schedule
from tests.conftest import ROOT
from tests.scheduled_app import COUNTED_JOB, RUN_SECONDS, job_runs

MINUTE = timedelta(minutes=1)
LEASES = JobLease.__table__


def at(moment: datetime) -> Callable[[], datetime]:
    """A clock that reads ``moment``."""
    return lambda: moment


def lease_of(db: Session, name: str) -> JobLease:
    db.expire_all()
    return db.get_one(JobLease, name)


def test_one_claim_a_period_and_none_while_the_lease_is_held(app, db):
    engine = app.extensions["sharing.engine"]
    start = period_start(utcnow(), MINUTE) + timedelta(minutes=5)
    assert claim(engine, "tidy", "first", clock=at(start + timedelta(seconds=1)), period=MINUTE)
    assert not claim(engine, "tidy", "second", clock=at(start + timedelta(seconds=1)), period=MINUTE)  # held
    assert release(engine, "tidy", "first", now=start + timedelta(seconds=2))
    assert not claim(engine, "tidy", "second", clock=at(start + timedelta(seconds=3)), period=MINUTE)  # ran this period
    assert not release(engine, "tidy", "second", now=start + timedelta(seconds=3))  # never held it
    assert claim(engine, "tidy", "second", clock=at(start + MINUTE), period=MINUTE)  # the next period
    lease = lease_of(db, "tidy")
    assert (lease.holder, lease.last_started_at) == ("second", start + MINUTE)
    assert lease.leased_until == start + MINUTE + LEASE
    assert lease.last_finished_at == start + timedelta(seconds=2)


def test_a_claim_that_waited_past_the_period_s_end_counts_for_the_new_period(app, db):
    """The clock is read again once the row is held: a run that starts in the next period is
    that period's run (on SQLite a claim may wait for another writer for seconds)."""
    engine = app.extensions["sharing.engine"]
    end = period_start(utcnow(), MINUTE) + timedelta(minutes=6)
    readings = iter([end - timedelta(seconds=1), end + timedelta(seconds=2)])  # before the lock, with it
    assert claim(engine, "tidy", "late", clock=lambda: next(readings), period=MINUTE)
    assert lease_of(db, "tidy").last_started_at == end + timedelta(seconds=2)
    assert release(engine, "tidy", "late", now=end + timedelta(seconds=3))
    assert not claim(engine, "tidy", "next", clock=at(end + timedelta(seconds=4)), period=MINUTE)
    assert claim(engine, "tidy", "next", clock=at(end + MINUTE), period=MINUTE)


def test_a_dead_holder_s_lease_runs_out(app, db):
    engine = app.extensions["sharing.engine"]
    now = utcnow()
    assert claim(engine, "tidy", "died", clock=at(now), period=MINUTE)  # and never released
    for later in (now + MINUTE, now + LEASE - timedelta(seconds=1)):
        assert not claim(engine, "tidy", "next", clock=at(later), period=MINUTE)
        assert not claim(engine, "tidy", "by hand", clock=at(later), period=None)
    assert claim(engine, "tidy", "next", clock=at(now + LEASE), period=MINUTE)
    assert not release(engine, "tidy", "died", now=now + LEASE)  # too late: it is another's now
    assert lease_of(db, "tidy").holder == "next"


def test_a_job_that_outlasts_its_lease_keeps_it(app, db):
    """The holder renews the lease while the job runs: no one else starts it meanwhile."""
    engine = app.extensions["sharing.engine"]
    lease = timedelta(seconds=0.2)
    refused: list[bool] = []

    def long_run() -> None:
        for _ in range(5):
            time.sleep(lease.total_seconds())
            refused.append(not claim(engine, "long", "another", lease=lease, period=None))

    a_fresh_period(MINUTE, at_least=timedelta(seconds=5))  # both runs asked in the same period
    assert run_leased(app, Job("long", long_run, MINUTE), period=MINUTE, lease=lease)
    assert refused == [True] * 5
    assert lease_of(db, "long").holder is None
    assert not run_leased(app, Job("long", long_run, MINUTE), period=MINUTE, lease=lease)  # ran this period


def a_fresh_period(period: timedelta, *, at_least: timedelta) -> datetime:
    """The start of the current period, after waiting for the next if less than ``at_least`` of it is left."""
    start = period_start(utcnow(), period)
    left = start + period - utcnow()
    if left < at_least:
        time.sleep(left.total_seconds() + 0.01)
        start += period
    return start


def test_a_run_of_the_last_period_still_going_delays_this_period_s_run(app, db):
    """Its lease reaches into this period: the scheduler waits for it rather than skip a period."""
    engine = app.extensions["sharing.engine"]
    period = timedelta(seconds=4)  # tried again every 0.2 s
    start = a_fresh_period(period, at_least=timedelta(seconds=2))
    assert claim(engine, "held", "last period's", clock=at(start - timedelta(seconds=1)), lease=MINUTE, period=period)
    runs: list[datetime] = []
    releasing = threading.Timer(0.5, lambda: release(engine, "held", "last period's", now=utcnow()))
    releasing.start()
    try:
        assert run_in_period(app, Job("held", lambda: runs.append(utcnow()), period), period=period, lease=MINUTE,
                             stopping=threading.Event())
    finally:
        releasing.join()
    assert len(runs) == 1 and start <= runs[0] < start + period
    # The period has its run now: another scheduler gives up at once.
    assert not run_in_period(app, Job("held", lambda: runs.append(utcnow()), period), period=period, lease=MINUTE,
                             stopping=threading.Event())
    assert len(runs) == 1


def test_a_stopping_scheduler_waits_no_longer_for_a_held_lease(app, db):
    engine = app.extensions["sharing.engine"]
    period = timedelta(minutes=4)  # tried again every 10 s
    start = a_fresh_period(period, at_least=timedelta(seconds=15))
    assert claim(engine, "held", "last period's", clock=at(start - timedelta(seconds=1)), lease=period, period=period)
    stopping = threading.Event()
    threading.Timer(0.2, stopping.set).start()
    began = time.monotonic()
    assert not run_in_period(app, Job("held", lambda: None, period), period=period, lease=MINUTE, stopping=stopping)
    assert 0.15 < time.monotonic() - began < 5  # it waited, until told to stop
    assert lease_of(db, "held").holder == "last period's"


def test_a_failing_job_releases_its_lease(app, db):
    def fail() -> None:
        raise RuntimeError("broken")

    try:
        run_leased(app, Job("broken", fail, MINUTE), period=MINUTE)
    except RuntimeError:
        pass
    else:
        raise AssertionError("the job's failure reaches the scheduler, which logs it")
    lease = lease_of(db, "broken")
    assert lease.holder is None and lease.last_finished_at is not None


def test_once_runs_a_job_by_hand_but_never_beside_a_running_one(app, runner, db):
    engine = app.extensions["sharing.engine"]
    result = runner.invoke(args=["jobs", "once", "purge-notifications"])
    assert result.exit_code == 0, result.output
    first = lease_of(db, "purge-notifications").last_started_at
    result = runner.invoke(args=["jobs", "once", "purge-notifications"])  # the same day: by hand, it runs
    assert result.exit_code == 0, result.output
    assert lease_of(db, "purge-notifications").last_started_at > first

    assert claim(engine, "purge-notifications", "a scheduler", period=None)
    result = runner.invoke(args=["jobs", "once", "purge-notifications"])
    assert result.exit_code != 0 and "running now" in result.output
    assert lease_of(db, "purge-notifications").holder == "a scheduler"


# Every period and lease a twentieth: the counted job (and every minute's job) runs every 3 s,
# which leaves a scheduler on a loaded two-core machine time to claim each period.
SCALE = 0.05
PERIOD = (MINUTE * SCALE).total_seconds()
SCHEDULERS = 4


def start_scheduler(environment: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`sharing jobs run`, with the counted job added (tests/scheduled_app.py), logging to ``log``."""
    with log.open("w") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "tests.scheduled_app:create_app", "jobs", "run"],
            cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=output)


def test_four_schedulers_run_each_job_once_a_period(app, databases, tmp_path):
    url = databases.fresh()
    engine = make_engine(url)
    job_runs.create(engine)
    environment = {**os.environ, "SHARING_ENV": "testing", "SHARING_DATABASE_URL": url,
                   "SHARING_JOB_PERIOD_SCALE": str(SCALE), "SHARING_INSTANCE_PATH": str(tmp_path / "instance"),
                   "SHARING_MAIL_BACKEND": "outbox", "SHARING_LOG_LEVEL": "INFO"}
    logs = [tmp_path / f"scheduler{n}.log" for n in range(SCHEDULERS)]
    schedulers = [start_scheduler(environment, log) for log in logs]
    try:
        deadline = time.monotonic() + 60  # a busy machine starts four Pythons slowly
        while not all("scheduler started" in log.read_text() for log in logs):
            assert time.monotonic() < deadline, "\n".join(log.read_text() for log in logs)
            assert all(scheduler.poll() is None for scheduler in schedulers), "\n".join(log.read_text() for log in logs)
            time.sleep(0.1)
        all_started = time.time()
        time.sleep(6 * PERIOD)
    finally:
        stopping = time.time()
        for scheduler in schedulers:
            scheduler.send_signal(signal.SIGTERM)
        codes = [scheduler.wait(timeout=30) for scheduler in schedulers]
    output = "\n".join(log.read_text() for log in logs)
    assert codes == [0] * SCHEDULERS, output
    assert "Traceback" not in output, output

    with engine.connect() as connection:
        runs = connection.execute(select(job_runs.c.started, job_runs.c.finished, job_runs.c.pid)
                                  .order_by(job_runs.c.started)).all()
        leases = {row.name: row for row in connection.execute(select(LEASES))}
    engine.dispose()
    periods = [math.floor(run.started / PERIOD) for run in runs]
    # Never two runs in one period, never two at once.
    assert len(set(periods)) == len(periods), runs
    assert all(later.started >= earlier.finished for earlier, later in zip(runs, runs[1:])), runs
    assert all(run.finished - run.started >= RUN_SECONDS for run in runs)
    # And one in each period once every scheduler is up, until they were told to stop.
    watched = range(math.floor(all_started / PERIOD) + 1, math.floor(stopping / PERIOD))
    assert len(watched) >= 4
    assert set(watched) <= set(periods), (list(watched), periods)
    # Every scheduled job ran (each scheduler tries each at its start), and every lease is free.
    assert set(leases) == {job.name for job in schedule(app)} | {COUNTED_JOB}
    assert all(lease.holder is None and lease.last_finished_at is not None for lease in leases.values()), leases
    assert leases[COUNTED_JOB].last_started_at.timestamp() <= runs[-1].started


def test_a_stopped_scheduler_lets_its_running_job_finish(databases, tmp_path):
    """SIGTERM (as `make run`'s Ctrl-C sends, or a service manager) waits for the running job."""
    url = databases.fresh()
    engine = make_engine(url)
    job_runs.create(engine)
    environment = {**os.environ, "SHARING_ENV": "testing", "SHARING_DATABASE_URL": url,
                   "SHARING_JOB_PERIOD_SCALE": str(SCALE), "SHARING_INSTANCE_PATH": str(tmp_path / "instance"),
                   "SHARING_MAIL_BACKEND": "outbox"}
    log = tmp_path / "scheduler.log"
    scheduler = start_scheduler(environment, log)
    try:
        deadline = time.monotonic() + 60
        with engine.connect() as connection:
            while connection.execute(select(LEASES.c.holder)
                                     .where(LEASES.c.name == COUNTED_JOB)).scalar() is None:
                assert time.monotonic() < deadline and scheduler.poll() is None, log.read_text()
                connection.rollback()
                time.sleep(0.02)
    finally:
        scheduler.send_signal(signal.SIGTERM)
        code = scheduler.wait(timeout=30)
    assert code == 0, log.read_text()
    with engine.connect() as connection:
        assert len(connection.execute(select(job_runs)).all()) == 1  # finished and written down
        lease = connection.execute(select(LEASES)
                                   .where(LEASES.c.name == COUNTED_JOB)).one()
    engine.dispose()
    assert lease.holder is None and lease.last_finished_at is not None
