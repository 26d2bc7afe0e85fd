"""How the accounts domain's sections of a register extract read, and its contribution registered."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlmodel import Session

from sharing.accounts.audit import event_details
from sharing.accounts.labels import browser_text, message_text, roles_text
from sharing.accounts.mail_preferences.rules import mail_kinds
from sharing.accounts.personal_data import account_records
from sharing.accounts.personal_data.rules import Section, contribute, labelled
from sharing.events import DomainEvent, event_label, subject_label
from sharing.web.i18n import LANGUAGE_NAMES
from sharing.web.paths import external_address

PART_LABELS = {"actor": _l("You did it"), "subject": _l("It concerned you")}
ATTEMPT_LABELS = {"login": _l("A failed login"), "reset": _l("A request for a new password")}


def _message(session: Session, record: dict[str, object]) -> str:
    """A notification in the reader's language, as the notifications page shows it."""
    return message_text(str(record.get("message", "")), record.get("params"))


def _link(session: Session, record: dict[str, object]) -> str:
    """A notification's link (a path within the service) as an address to open from the extract."""
    path = str(record.get("url") or "")
    return external_address(path) if path.startswith("/") else ""


def _kind(session: Session, record: dict[str, object]) -> str:
    labels = {kind.name: kind.label for kind in mail_kinds()}
    return str(labels.get(str(record.get("kind")), record.get("kind")))


def _event(session: Session, record: dict[str, object]) -> str:
    label = event_label(str(record.get("event")))
    return str(label.label) if label else str(record.get("event"))


def _subject(session: Session, record: dict[str, object]) -> str:
    label = subject_label(str(record.get("subject_type")))
    return str(label.label) if label else str(record.get("subject_type"))


def _details(session: Session, record: dict[str, Any]) -> str:
    """An entry's payload as the audit trail says it, one "what: how" a line."""
    event = DomainEvent(name=str(record.get("event")), occurred_at=record["occurred_at"],
                        subject_type=str(record.get("subject_type")), subject_id=record.get("subject_id"),
                        payload=record.get("payload") or {})
    return "\n".join(f"{what}: {how}" for what, how in event_details(session, event))


def _browser(session: Session, record: dict[str, object]) -> str:
    """The browser and its system as the account page says them (both are in the download)."""
    return browser_text(str(record.get("browser") or ""), str(record.get("platform") or ""))


def _roles(session: Session, record: dict[str, object]) -> str:
    roles = record.get("roles")
    return roles_text(roles) if isinstance(roles, list) else ""


SECTIONS = {
    "account": Section(_l("Your account"), {
        "name": _l("Name"), "email": _l("E-mail address"), "municipality": _l("Municipality"), "unit": _l("Unit"),
        "roles": _l("Roles"), "language": _l("Language"), "active": _l("Active"), "created_at": _l("Created"),
        "last_login_at": _l("Last logged in"), "two_step": _l("Two-step verification"),
        "recovery_codes_left": _l("Recovery codes left")},
        {"roles": _roles, "language": labelled("language", LANGUAGE_NAMES)}),
    "sessions": Section(_l("Where you are or were logged in"), {
        "created_at": _l("Logged in"), "last_seen_at": _l("Last active"), "ended_at": _l("Ended"),
        "browser": _l("Browser")},
        {"browser": _browser}),
    "notifications": Section(_l("Notifications"), {
        "created_at": _l("Sent"), "read_at": _l("Read"), "message": _l("Message"), "url": _l("Link")},
        {"message": _message, "url": _link}),
    "mail_preferences": Section(_l("E-mail notifications"), {"kind": _l("Kind"), "mailed": _l("By e-mail")},
                                {"kind": _kind}),
    "api_tokens": Section(_l("API tokens"), {
        "name": _l("Name"), "prefix": _l("Begins with"), "created_at": _l("Created"),
        "expires_at": _l("Valid until"), "last_used_at": _l("Last used"), "revoked_at": _l("Revoked")}),
    "sso_identities": Section(_l("Sign-in with your municipality's account"), {
        "issuer": _l("Identity provider"), "subject": _l("Your identity there"), "created_at": _l("Linked"),
        "last_login_at": _l("Last logged in")}),
    "known_login_addresses": Section(_l("Addresses you logged in from (kept as a keyed hash only)"), {
        "last_seen_at": _l("Last used")}),
    "login_attempts": Section(_l("Failed logins and requests for a new password"), {
        "kind": _l("Kind"), "attempted_at": _l("When"), "address": _l("IP address")},
        {"kind": labelled("kind", ATTEMPT_LABELS)}),
    "audit_entries": Section(_l("Audit trail entries about you"), {
        "occurred_at": _l("When"), "event": _l("What happened"), "role": _l("Your part"),
        "subject_type": _l("Concerning"), "subject_id": _l("Number"), "payload": _l("Details")},
        {"event": _event, "role": labelled("role", PART_LABELS), "subject_type": _subject, "payload": _details}),
}


def register() -> None:
    contribute("accounts", extract=account_records.extract, erase=account_records.erase, sections=SECTIONS)
