"""What people read of the accounts domain, in their own language: role names, notifications and
how the domain's own events read in the audit trail."""

from __future__ import annotations

import logging
from typing import Iterable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from sharing.accounts import mfa
from sharing.accounts.models import CoordinatesSource, Notification, Role
from sharing.accounts.personal_data import rules as personal_data
from sharing.events import describe

log = logging.getLogger("sharing.accounts")

ROLE_LABELS = {
    Role.EMPLOYEE: _l("Employee"),
    Role.FACILITY_MANAGER: _l("Facility manager"),
    Role.DRIVER: _l("Driver"),
    Role.TRANSPORT_COORDINATOR: _l("Transport coordinator"),
    Role.SUSTAINABILITY_OFFICER: _l("Sustainability officer"),
    Role.MUNICIPALITY_ADMIN: _l("Municipality administrator"),
    Role.SYSTEM_ADMIN: _l("System administrator"),
}


# How a site's place was set, as its form and list say it.
COORDINATES_LABELS = {
    CoordinatesSource.GEOCODED: _l("Found from the address"),
    CoordinatesSource.APPROXIMATE: _l("Approximate position, from the locality"),
    CoordinatesSource.PICKED: _l("Picked on the map"),
    CoordinatesSource.TYPED: _l("Entered as coordinates"),
}


def coordinates_label(source: str) -> str:
    try:
        return str(COORDINATES_LABELS[CoordinatesSource(source)])
    except ValueError:  # a value of a newer version, read by an older one
        return source


def role_labels(roles: Iterable[Role]) -> list[str]:
    """Labels in the fixed order of the roles, whatever order they come in."""
    held = set(roles)
    return [str(ROLE_LABELS[role]) for role in Role if role in held]


def notification_text(notification: Notification) -> str:
    """The message in the reader's language; an unexpected parameter set never breaks a page."""
    try:
        return _(notification.message, **notification.params)
    except (KeyError, TypeError, ValueError):
        log.warning("notification %s does not fit its message's placeholders", notification.id)
        return _(notification.message)


ACCOUNT_GROUP = _l("Accounts")
ACCOUNT_EVENTS = {
    mfa.RECOVERY_CODES_MADE: _l("Recovery codes made"),
    mfa.RECOVERY_CODE_USED: _l("Logged in with a recovery code"),
    personal_data.ERASED: _l("A person was erased"),
}


def describe_events() -> None:
    for name, label in ACCOUNT_EVENTS.items():
        describe(name, label, group=ACCOUNT_GROUP)
