"""The app as `sharing jobs run` builds it, plus a job that writes down each of its runs: what
tests/test_jobs.py starts several schedulers with (`flask --app tests.scheduled_app jobs run`)."""

from __future__ import annotations

import os
import time
from datetime import timedelta

from flask import Flask
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, insert, select

from sharing import create_app as create_sharing_app
from sharing.db import engine
from sharing.jobs import Job, JobLease, add_job

COUNTED_JOB = "count-runs"
LEASES = JobLease.__table__
RUN_SECONDS = 0.3  # long enough that two runs at once would overlap

job_runs = Table(
    "test_job_run", MetaData(),
    Column("id", Integer, primary_key=True),
    Column("job", String(80), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started", Float, nullable=False),  # when its lease was taken, in seconds since the epoch
    Column("finished", Float, nullable=False),
)


def count_run() -> None:
    """One run: note when its lease was taken (the start its period is counted by: on a loaded
    machine the job itself may start a while later) and when it finished, in which process."""
    with engine().connect() as connection:
        started = connection.scalar(select(LEASES.c.last_started_at).where(LEASES.c.name == COUNTED_JOB))
    time.sleep(RUN_SECONDS)
    with engine().begin() as connection:
        connection.execute(insert(job_runs).values(job=COUNTED_JOB, pid=os.getpid(), started=started.timestamp(),
                                                   finished=time.time()))


def create_app() -> Flask:
    app = create_sharing_app()
    add_job(app, Job(COUNTED_JOB, count_run, timedelta(minutes=1)))
    return app
