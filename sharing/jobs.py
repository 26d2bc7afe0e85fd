"""Periodic jobs: each domain declares its own (``add_job``), one scheduler process runs
them all (`sharing jobs run`).

Never start the scheduler inside web workers: each gunicorn worker would run every job.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

import click
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask, current_app
from flask.cli import AppGroup

from sharing.typed import app_object

log = logging.getLogger("sharing.jobs")


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


jobs_cli = AppGroup("jobs", help="Periodic jobs.")


@jobs_cli.command("run")
def run_scheduler() -> None:
    """Run the scheduler in the foreground (one process per deployment)."""
    app: Flask = app_object()
    scheduler = BlockingScheduler(timezone="UTC")
    jobs = schedule(app)
    for job in jobs:
        def in_context(job: Job = job) -> None:
            with app.app_context():
                job.run()
        scheduler.add_job(in_context, "interval", seconds=job.every.total_seconds(), id=job.name,
                          max_instances=1, coalesce=True)
    log.info("scheduler started with %d jobs", len(jobs))
    scheduler.start()


@jobs_cli.command("once")
@click.argument("name")
def run_once(name: str) -> None:
    """Run one job now, by name."""
    jobs = schedule(current_app)
    for job in jobs:
        if job.name == name:
            job.run()
            click.echo(f"{name}: done")
            return
    raise click.ClickException(f"No job named {name}; known: {', '.join(j.name for j in jobs)}")
