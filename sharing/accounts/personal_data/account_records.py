"""The accounts domain's part of a person's data: the account, its sessions and secrets,
notifications, mail choices, identities at the municipality's sign-in, failed logins, mail
waiting to be sent, and the audit entries where they acted or were acted upon.

Its ``erase`` deletes what only serves the person (sessions, tokens, codes, identities, known
addresses, notifications, mail choices, failed logins, queued mail to them) and replaces their
name and address wherever they were copied or written into others' records: events' payloads
(whichever domain recorded them: the trail is read here), others' notifications and queued
mail, sites' access notes, a municipality's contact address. The account row itself is made
anonymous last, by ``rules.erase_user``.
"""

from __future__ import annotations

from datetime import datetime
from email import message_from_string, policy
from email.message import EmailMessage
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlmodel import Session, col

from sharing.accounts import mfa
from sharing.accounts.mail_preferences.models import MailPreference
from sharing.accounts.mail_preferences.rules import choices_of
from sharing.accounts.models import (
    AccountToken,
    Actor,
    ApiToken,
    KnownLoginAddress,
    LoginAttempt,
    Municipality,
    Notification,
    RecoveryCode,
    Site,
    Unit,
    User,
    UserSession,
)
from sharing.accounts.personal_data.rules import Mentions, Records, bounded, mentions_of
from sharing.accounts.sso.models import SsoIdentity, SsoProvider
from sharing.accounts.sso.rules import REFUSED
from sharing.events import DomainEvent
from sharing.mail import QueuedMail


def extract(session: Session, *, user_id: int) -> dict[str, Records]:
    user = session.get(User, user_id)
    if user is None:
        return {}
    municipality = session.get(Municipality, user.municipality_id)
    unit = session.get(Unit, user.unit_id) if user.unit_id is not None else None
    account = {"name": user.name, "email": user.email, "municipality": municipality.name if municipality else "",
               "unit": unit.name if unit else None, "roles": sorted(user.roles), "language": user.locale,
               "active": user.active, "created_at": user.created_at, "last_login_at": user.last_login_at,
               "two_step": user.totp_secret is not None,
               "recovery_codes_left": mfa.recovery_codes_left(session, user_id=user_id)}
    mine = {"user_id": user_id}
    return {
        "account": [account],
        "sessions": [{"created_at": s.created_at, "last_seen_at": s.last_seen_at, "ended_at": s.ended_at,
                      "browser": s.browser, "platform": s.platform}
                     for s in session.scalars(bounded(select(UserSession).filter_by(**mine)
                                                      .order_by(col(UserSession.created_at).desc())))],
        "notifications": [{"created_at": n.created_at, "read_at": n.read_at, "message": n.message,
                           "params": n.params, "url": n.url}
                          for n in session.scalars(bounded(select(Notification).filter_by(**mine)
                                                           .order_by(col(Notification.created_at).desc())))],
        "mail_preferences": [{"kind": kind, "mailed": mailed} for kind, mailed in choices_of(session, user_id).items()],
        "api_tokens": [{"name": t.name, "prefix": t.prefix, "created_at": t.created_at, "expires_at": t.expires_at,
                        "last_used_at": t.last_used_at, "revoked_at": t.revoked_at}
                       for t in session.scalars(bounded(select(ApiToken).filter_by(**mine)
                                                        .order_by(col(ApiToken.created_at).desc())))],
        "sso_identities": [{"issuer": issuer, "subject": identity.subject, "created_at": identity.created_at,
                            "last_login_at": identity.last_login_at}
                           for identity, issuer in session.execute(
                               select(SsoIdentity, col(SsoProvider.issuer)).join(
                                   SsoProvider, col(SsoProvider.id) == SsoIdentity.provider_id)
                               .where(col(SsoIdentity.user_id) == user_id))],
        "known_login_addresses": [{"last_seen_at": seen} for seen in session.scalars(bounded(
            select(col(KnownLoginAddress.last_seen_at)).filter_by(**mine)
            .order_by(col(KnownLoginAddress.last_seen_at).desc())))],
        "login_attempts": [{"kind": a.kind, "attempted_at": a.attempted_at, "address": a.address}
                           for a in session.scalars(bounded(
                               select(LoginAttempt).where(col(LoginAttempt.email) == user.email)
                               .order_by(col(LoginAttempt.attempted_at).desc())))],
        "audit_entries": [{"occurred_at": e.occurred_at, "event": e.name,
                           "role": "actor" if e.actor_id == user_id else "subject",
                           "subject_type": e.subject_type, "subject_id": e.subject_id, "payload": e.payload}
                          for e in session.scalars(bounded(select(DomainEvent).where(or_(
                              col(DomainEvent.actor_id) == user_id,
                              (col(DomainEvent.subject_type) == "user") & (col(DomainEvent.subject_id) == user_id)))
                              .order_by(col(DomainEvent.occurred_at).desc(), col(DomainEvent.id).desc())))],
    }


def erase(session: Session, *, user_id: int, by: Actor, now: datetime) -> None:
    user = session.get(User, user_id)
    if user is None:
        return
    mentions = mentions_of(session, user_id)
    _blank_refusals(session, user)
    _scrub_queued_mail(session, user, mentions)
    _scrub_mentions(session, user, mentions)
    session.execute(delete(LoginAttempt).where(col(LoginAttempt.email) == user.email))
    for model in (UserSession, AccountToken, ApiToken, KnownLoginAddress, RecoveryCode, SsoIdentity, MailPreference,
                  Notification):
        session.execute(delete(model).where(col(model.user_id) == user_id))


def _blank_refusals(session: Session, user: User) -> None:
    """A refused sign-in at the municipality's provider keeps the subject it gave, and a reason
    that may name the address or the subject: those of the person lose both."""
    subjects = set(session.scalars(select(col(SsoIdentity.subject)).where(col(SsoIdentity.user_id) == user.id)))
    if not subjects:
        return
    refused = session.scalars(select(DomainEvent).where(col(DomainEvent.name) == REFUSED,
                                                        col(DomainEvent.municipality_id) == user.municipality_id))
    for event in refused.all():
        subject, reason = str(event.payload.get("subject", "")), str(event.payload.get("reason", ""))
        if subject in subjects or any(known in reason for known in subjects):
            session.execute(update(DomainEvent).where(col(DomainEvent.id) == event.id)
                            .values(payload={**event.payload, "subject": "", "reason": ""}))


def _scrub_mentions(session: Session, user: User, mentions: Mentions) -> None:
    """Where the service copied the person's name or address into someone else's record (an
    event's payload, another user's notification), or someone wrote it (a site's access notes,
    the municipality's contact or data protection officer's address): replaced."""
    for event in session.scalars(select(DomainEvent).where(mentions.found_in_json(DomainEvent.payload))).all():
        session.execute(update(DomainEvent).where(col(DomainEvent.id) == event.id)
                        .values(payload=mentions.scrub_json(event.payload)))
    for notification in session.scalars(select(Notification).where(
            col(Notification.user_id) != user.id, mentions.found_in_json(Notification.params))).all():
        session.execute(update(Notification).where(col(Notification.id) == notification.id)
                        .values(params=mentions.scrub_json(notification.params)))
    for site in session.scalars(select(Site).where(mentions.found_in(Site.access_notes))).all():
        site.access_notes = mentions.scrub(site.access_notes)[:1000]
        session.add(site)
    # An address as an administrator typed it (any case); an account's is kept in lower case.
    session.execute(update(Municipality).where(func.lower(col(Municipality.contact_email)) == user.email.lower())
                    .values(contact_email=None))
    session.execute(update(Municipality)
                    .where(func.lower(col(Municipality.data_protection_officer_email)) == user.email.lower())
                    .values(data_protection_officer_email=None))


def _scrub_queued_mail(session: Session, user: User, mentions: Mentions) -> None:
    """Mail waiting to be sent (the mail server was down): to the person, deleted; naming them
    to someone else, sent without their name or address."""
    for mail_id, text, recipe in session.execute(
            select(col(QueuedMail.id), col(QueuedMail.message), col(QueuedMail.recipe))).all():
        if recipe:  # not rendered yet: its values are what it will say
            if user.email.casefold() in str(recipe.get("to", "")).casefold():
                session.execute(delete(QueuedMail).where(col(QueuedMail.id) == mail_id))
            elif (scrubbed := mentions.scrub_json(recipe)) != recipe:
                session.execute(update(QueuedMail).where(col(QueuedMail.id) == mail_id).values(recipe=scrubbed))
            continue
        message: Any = message_from_string(text, _class=EmailMessage, policy=policy.default)
        if user.email.casefold() in str(message["To"] or "").casefold():
            session.execute(delete(QueuedMail).where(col(QueuedMail.id) == mail_id))
            continue
        if message.get_content_type() != "text/plain":  # the service mails plain text only
            continue
        subject, body = str(message["Subject"] or ""), message.get_content()
        if mentions.scrub(subject) == subject and mentions.scrub(body) == body:
            continue
        message.replace_header("Subject", mentions.scrub(subject))
        message.set_content(mentions.scrub(body))
        session.execute(update(QueuedMail).where(col(QueuedMail.id) == mail_id).values(message=message.as_string()))
