"""How single sign-on's events read in the audit trail."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from sharing.events import describe, describe_subject

GROUP = _l("Sign-in")
EVENTS = {
    "accounts.sso.configured": _l("Sign-in with the municipality's account configured"),
    "accounts.sso.account_created": _l("Account created at the first sign-in"),
    "accounts.sso.account_linked": _l("Account linked to the municipality's sign-in"),
    "accounts.sso.signed_in": _l("Logged in with the municipality's account"),
    "accounts.sso.refused": _l("Sign-in with the municipality's account refused"),
}


def describe_events() -> None:
    for name, label in EVENTS.items():
        describe(name, label, group=GROUP)
    describe_subject("sso_provider", _l("Identity provider"))
    describe_subject("user", _l("User"))
