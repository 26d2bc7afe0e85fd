"""The app as `sharing jobs run` builds it, plus a job that writes down each of its runs: what
tests/test_jobs.py starts several schedulers with (`flask --app tests.scheduled_app jobs run`)."""

from __future__ import annotations

import os
import time
from datetime import timedelta

from flask import Flask
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, insert

from sharing import create_app as create_sharing_app
from sharing.db import engine
from sharing.jobs import Job, add_job

COUNTED_JOB = "count-runs"
RUN_SECONDS = 0.3  # long enough that two runs at once would overlap

job_runs = Table(
    "test_job_run", MetaData(),
    Column("id", Integer, primary_key=True),
    Column("job", String(80), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started", Float, nullable=False),  # seconds since the epoch
    Column("finished", Float, nullable=False),
)


def count_run() -> None:
    """One run: note when it started and finished, in which process."""
    started = time.time()
    time.sleep(RUN_SECONDS)
    with engine().begin() as connection:
        connection.execute(insert(job_runs).values(job=COUNTED_JOB, pid=os.getpid(), started=started,
                                                   finished=time.time()))


def create_app() -> Flask:
    app = create_sharing_app()
    add_job(app, Job(COUNTED_JOB, count_run, timedelta(minutes=1)))
    return app
