"""Command-line administration: municipalities joining, and users."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlmodel import col

from sharing.accounts import auth, notices, organisation
from sharing.accounts.models import Municipality, Role
from sharing.clock import utcnow
from sharing.db import new_session
from sharing.errors import DomainError, problems_of

municipality_cli = AppGroup("municipality", help="Member municipalities.")
user_cli = AppGroup("user", help="User accounts.")


@municipality_cli.command("add")
@click.option("--code", required=True, help="The four-digit municipality code (SCB), e.g. 1214.")
@click.option("--name", required=True)
@click.option("--contact-email", default=None)
def add_municipality(code: str, name: str, contact_email: str | None) -> None:
    """Let another municipality join the service."""
    with new_session() as session:
        try:
            municipality = organisation.create_municipality(
                session, code=code, name=name, contact_email=contact_email, by=None, now=utcnow()
            )
        except DomainError as error:
            raise _refused(error) from None
        session.commit()
        click.echo(f"{municipality.name} ({municipality.code}) has joined, id {municipality.id}.")


@municipality_cli.command("list")
def list_municipalities() -> None:
    """Show the member municipalities."""
    with new_session() as session:
        for municipality in session.scalars(select(Municipality).order_by(Municipality.name)):
            click.echo(f"{municipality.code}  {municipality.name}")


@user_cli.command("add")
@click.option("--municipality", "code", required=True, help="The municipality code, e.g. 1286.")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice([r.value for r in Role]))
@click.option("--set-password", is_flag=True,
              help="Ask for a password now (hidden) instead of inviting them by e-mail.")
def add_user(code: str, email: str, name: str, roles: tuple[str, ...], set_password: bool) -> None:
    """Add a user (for example a municipality's first administrator), invited by e-mail."""
    password = click.prompt("Password", hide_input=True, confirmation_prompt=True) if set_password else None
    with new_session() as session:
        municipality = session.scalar(select(Municipality).where(col(Municipality.code) == code))
        if municipality is None:
            raise click.ClickException(f"No municipality with code {code}.")
        try:
            user, raw = organisation.invite_user(
                session, municipality=municipality, email=email, name=name, roles=[Role(r) for r in roles],
                unit_id=None, invited_by=None, now=utcnow(),
                lifetime=timedelta(days=current_app.config["INVITATION_DAYS"]),
            )
            if password:
                auth.set_password(session, user=user, password=password)
            else:
                notices.queue_invitation(session, user, token=raw, inviter=_l("Delningstjänsten"))
        except DomainError as error:
            raise _refused(error) from None
        session.commit()
        click.echo(f"User {user.email} added." if password else
                   f"User {user.email} added. {_invitation_queued(user.email, raw)}")


@user_cli.command("invite-again")
@click.option("--email", required=True)
def invite_again(email: str) -> None:
    """A new invitation, by e-mail, for someone who has not yet chosen a password."""
    with new_session() as session:
        user = auth.user_by_email(session, email)
        if user is None:
            raise click.ClickException(f"No user with the address {email}.")
        try:
            raw = organisation.reinvite_user(session, user=user, now=utcnow(),
                                             lifetime=timedelta(days=current_app.config["INVITATION_DAYS"]))
            notices.queue_invitation(session, user, token=raw, inviter=_l("Delningstjänsten"))
        except DomainError as error:
            raise _refused(error) from None
        session.commit()
        click.echo(_invitation_queued(user.email, raw))


def _refused(error: DomainError) -> click.ClickException:
    """A rule's refusal for the command line: every problem it tells, one per line."""
    return click.ClickException("\n".join(problem.in_english() for problem in problems_of(error)))


def _invitation_queued(email: str, raw: str) -> str:
    """What the operator is told: the mail is queued (sent by this process once it has committed,
    else by the send-queued-mail job), and its link, to hand over another way should mail fail."""
    link = f"{current_app.config['SHARING_BASE_URL'].rstrip('/')}/invitation/{raw}"
    return f"An invitation to {email} is queued in the mail queue. Its link, should it not arrive: {link}"
