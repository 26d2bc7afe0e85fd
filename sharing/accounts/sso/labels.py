"""How single sign-on's events read in the audit trail."""

from __future__ import annotations

from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlmodel import Session

from sharing.accounts.labels import ROLE_LABELS, roles_held
from sharing.accounts.models import Role
from sharing.events import DomainEvent, describe, describe_subject

GROUP = _l("Sign-in")
EVENTS = {
    "accounts.sso.configured": _l("Sign-in with the municipality's account configured"),
    "accounts.sso.account_created": _l("Account created at the first sign-in"),
    "accounts.sso.account_linked": _l("Account linked to the municipality's sign-in"),
    "accounts.sso.signed_in": _l("Logged in with the municipality's account"),
    "accounts.sso.refused": _l("Sign-in with the municipality's account refused"),
}


def _configured(session: Session, event: DomainEvent) -> list[tuple[str, str]]:
    payload = event.payload
    return [(_("Issuer"), str(payload.get("issuer", ""))),
            (_("Sign-in with the municipality's account is on"), _("Yes") if payload.get("enabled") else _("No")),
            (_("The municipality's people may also log in with a password"),
             _("Yes") if payload.get("password_login") else _("No"))]


DETAILS = {"accounts.sso.configured": _configured, "accounts.sso.account_created": roles_held,
           "accounts.sso.account_linked": roles_held, "accounts.sso.signed_in": roles_held}


def describe_events() -> None:
    for name, label in EVENTS.items():
        describe(name, label, group=GROUP, details=DETAILS.get(name))
    describe_subject("sso_provider", _l("Identity provider"))
    describe_subject("user", _l("User"))


def role_names() -> dict[Role, list[str]]:
    """The names a mapping may give each role: the reader's first (the help and the errors list
    the mappable ones), then the other language's, whichever language the administrator writes in."""
    reader = str(get_locale())
    names: dict[Role, list[str]] = {role: [] for role in Role}  # a system administrator too: refused by name
    for language in (reader, *(other for other in ("sv", "en") if other != reader)):
        with force_locale(language):
            for role, written in names.items():
                written.append(str(ROLE_LABELS[role]))
    return names
