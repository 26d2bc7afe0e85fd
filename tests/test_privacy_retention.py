"""Retention: what the service keeps about people goes after the periods the privacy page states,
each by a declared job, and only what is due (the rules are run at explicit moments)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from sharing.accounts import LOGIN_ATTEMPTS_KEPT, SESSIONS_KEPT, SSO_REFUSALS_KEPT, notifications
from sharing.accounts.auth import purge_expired
from sharing.accounts.models import AttemptKind, LoginAttempt, Notification, UserSession
from sharing.accounts.sso.models import SsoProvider
from sharing.accounts.sso.rules import REFUSED, forget_refusal_details, refuse
from sharing.clock import utcnow
from sharing.events import DomainEvent
from sharing.jobs import schedule

NOW = utcnow()
MINUTE = timedelta(minutes=1)


def test_the_retention_jobs_are_declared(app):
    declared = {job.name: job.every for job in schedule(app)}
    assert declared["purge-account-data"] == timedelta(hours=1)
    assert declared["purge-notifications"] == timedelta(days=1)
    assert declared["loan-retention"] == timedelta(days=1)


def test_notifications_go_after_their_periods_read_ones_sooner(db, factory):
    user = factory.user(factory.municipality())
    kept, read = notifications.RETENTION, notifications.READ_RETENTION

    def sent(ago, read_ago=None) -> Notification:
        notification = notifications.notify(db, user_id=user.id, message="Log in", now=NOW - ago)
        notification.read_at = NOW - read_ago if read_ago is not None else None
        db.flush()
        return notification

    unread_young, unread_old = sent(kept - MINUTE), sent(kept + MINUTE)
    long_ago = read + timedelta(days=10)  # sent: within the period of unread ones
    read_young, read_old = sent(long_ago, read - MINUTE), sent(long_ago, read + MINUTE)
    db.commit()
    assert notifications.purge_old(db, now=NOW) == 2
    db.commit()
    assert set(db.scalars(select(Notification.id))) == {unread_young.id, read_young.id}
    assert notifications.purge_old(db, now=NOW) == 0  # nothing more is due
    assert db.get(Notification, unread_old.id) is None and db.get(Notification, read_old.id) is None


def test_sessions_and_failed_logins_go_after_their_periods(app, db, factory):
    user = factory.user(factory.municipality())
    for ago, ended in ((SESSIONS_KEPT - MINUTE, True), (SESSIONS_KEPT + MINUTE, True), (SESSIONS_KEPT + MINUTE, False)):
        db.add(UserSession(user_id=user.id, token_hash=f"{ago}{ended}"[:64].ljust(64, "0"), created_at=NOW - ago,
                           last_seen_at=NOW - ago, ended_at=NOW - ago if ended else None))
    for ago in (LOGIN_ATTEMPTS_KEPT - MINUTE, LOGIN_ATTEMPTS_KEPT + MINUTE):
        db.add(LoginAttempt(kind=AttemptKind.LOGIN.value, email=user.email, address="192.0.2.1",
                            attempted_at=NOW - ago))
    db.commit()
    purge_expired(db, now=NOW, attempts_older_than=LOGIN_ATTEMPTS_KEPT, sessions_older_than=SESSIONS_KEPT,
                  addresses_older_than=timedelta(days=app.config["LOGIN_KNOWN_ADDRESS_DAYS"]))
    db.commit()
    assert [s.last_seen_at for s in db.scalars(select(UserSession))] == [NOW - SESSIONS_KEPT + MINUTE]
    assert db.scalar(select(func.count()).select_from(LoginAttempt)) == 1


def test_a_refused_sign_in_s_subject_and_reason_go_after_their_period(db, factory):
    municipality = factory.municipality()
    provider = factory._save(SsoProvider(municipality_id=municipality.id, issuer="https://login.example",
                                         client_id="delning", client_secret_encrypted="x", email_domains="example"))
    for ago in (SSO_REFUSALS_KEPT - MINUTE, SSO_REFUSALS_KEPT + MINUTE):
        refuse(db, provider=provider, reason="anna@example is not an address this sign-in admits. (sub abc)",
               subject="abc", now=NOW - ago)
    db.commit()
    assert forget_refusal_details(db, now=NOW, older_than=SSO_REFUSALS_KEPT) == 1
    db.commit()
    payloads = [e.payload for e in db.scalars(select(DomainEvent).where(DomainEvent.name == REFUSED)
                                              .order_by(DomainEvent.occurred_at))]
    assert payloads[0] == {"reason": "", "subject": ""}  # the older one: the trail keeps that it happened
    assert payloads[1]["subject"] == "abc"
    assert forget_refusal_details(db, now=NOW, older_than=SSO_REFUSALS_KEPT) == 0
