"""The command line: ``sharing <command>`` (Flask's CLI with this app)."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path
from typing import Callable

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup
from sqlmodel import Session

from sharing.config import DEVELOPMENT_ENVS
from sharing.db import new_session, refresh_statistics


def _create_app():
    from sharing import create_app
    from sharing.config import ConfigError

    try:
        return create_app()
    except ConfigError as error:
        raise click.ClickException(f"{error} To try the service out, set SHARING_ENV=development.") from None


@click.group(cls=FlaskGroup, create_app=_create_app)
def main() -> None:
    """Delningstjänsten: manage the service from the command line."""


demo = AppGroup("demo", help="Demo data for trying the service out.")
DemoLoader = Callable[[Session], dict[str, int]]


def add_demo_loader(app: Flask, loader: DemoLoader) -> None:
    """Each domain adds its demo data; loaders run in the order of the domains."""
    app.extensions.setdefault("sharing.demo", []).append(loader)


@demo.command("load")
def load_demo() -> None:
    """Load the demo municipalities, units, sites, users and more (safe to run again)."""
    if current_app.config["SHARING_ENV"] not in DEVELOPMENT_ENVS:
        # The demo users' password is published in the README.
        raise click.ClickException("Demo data is for development only (SHARING_ENV=development).")
    added: dict[str, int] = {}
    with new_session() as session:
        for loader in current_app.extensions.get("sharing.demo", []):
            added.update(loader(session))
        session.commit()
    refresh_statistics()
    click.echo("Demo data: " + ", ".join(f"{count} {kind} added" for kind, count in added.items()))


outbox = AppGroup("outbox", help="The development mail outbox (SHARING_MAIL_BACKEND=outbox).")


@outbox.command("list")
@click.option("--show", "show", type=int, default=None, help="Print message number N in full.")
def list_outbox(show: int | None) -> None:
    """List the mail written to the outbox, newest first."""
    folder = Path(current_app.config["MAIL_OUTBOX_DIR"])
    files = sorted(folder.glob("*.eml"), reverse=True) if folder.is_dir() else []
    if not files:
        click.echo(f"The outbox ({folder}) is empty.")
        return
    for number, path in enumerate(files, start=1):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if show is None:
            click.echo(f"{number:3}  {message['Date']}  {message['To']}  {message['Subject']}")
        elif number == show:
            click.echo(f"To: {message['To']}\nSubject: {message['Subject']}\n\n{message.get_content()}")
