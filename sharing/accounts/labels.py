"""What people read of the accounts domain, in their own language: role names, notifications and
how the domain's own events read in the audit trail."""

from __future__ import annotations

import logging
from typing import Iterable

from flask_babel import get_locale, pgettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlmodel import Session

from sharing.accounts import auth, mfa, organisation
from sharing.accounts.audit import Person, Who, person_of
from sharing.accounts.models import CoordinatesSource, Notification, OpeningHours, Role, TokenPurpose, Unit
from sharing.accounts.personal_data import rules as personal_data
from sharing.events import Details, DomainEvent, describe, describe_subject

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


def browser_text(browser: str, platform: str) -> str:
    """A session's browser as people say it, "Firefox on Windows"; one it could not tell, so said."""
    name = browser or _("Unknown browser")
    return _("%(browser)s on %(platform)s", browser=name, platform=platform) if platform else name


def opening_hours_text(hours: Iterable[OpeningHours]) -> str:
    """A site's opening hours in the reader's language ("Mon–Fri 07:00–16:00"), as its list shows
    them and its form is filled with (the form reads either language back)."""
    return organisation.format_opening_hours(hours, language=get_locale().language)


def role_labels(roles: Iterable[Role]) -> list[str]:
    """Labels in the fixed order of the roles, whatever order they come in."""
    held = set(roles)
    return [str(ROLE_LABELS[role]) for role in Role if role in held]


def notification_text(notification: Notification) -> str:
    """The message in the reader's language; an unexpected parameter set never breaks a page."""
    return message_text(notification.message, notification.params)


def _param(value: object) -> object:
    """A parameter as the message shows it: a term (``notifications.term``) in the reader's language."""
    if isinstance(value, dict) and isinstance(value.get("msgid"), str):
        context = value.get("context")
        return pgettext(context, value["msgid"]) if isinstance(context, str) else _(value["msgid"])
    return value


def message_text(message: str, params: object) -> str:
    """A notification's message, as stored (its msgid and parameters), in the reader's language."""
    try:
        if isinstance(params, dict):
            return _(message, **{name: _param(value) for name, value in params.items()})
        return _(message)
    except (KeyError, TypeError, ValueError):
        log.warning("a notification does not fit its message's placeholders: %r", message)
        return _(message)


def roles_text(codes: Iterable[str]) -> str:
    """A payload's role codes as a list of names; a code of a newer version shows as itself."""
    known = {role.value for role in Role}
    shown = role_labels(Role(code) for code in codes if code in known)
    return ", ".join(shown + [code for code in codes if code not in known]) or "–"


def named(person: Person) -> str:
    """A person as an event's details name them: by name while their account is kept."""
    if person.who == Who.PERSON:
        return person.name
    return _("Another person") if person.who == Who.OTHER else _("Deleted user")


def _account(session: Session, event: DomainEvent) -> list[tuple[str, str]]:
    """Whose account: by name while it is kept (the payload never holds a name)."""
    return [(_("Account"), named(person_of(session, event.subject_id)))]


def _invited(session: Session, event: DomainEvent) -> list[tuple[str, str]]:
    return _account(session, event) + [(_("Roles"), roles_text(event.payload["roles"]))]


def _roles_changed(session: Session, event: DomainEvent) -> list[tuple[str, str]]:
    before, after = roles_text(event.payload["from"]), roles_text(event.payload["to"])
    return _account(session, event) + [(_("Roles"), f"{before} → {after}")]


LINK_LABELS = {TokenPurpose.INVITATION.value: _l("An invitation"),
               TokenPurpose.PASSWORD_RESET.value: _l("A new password")}


def _link(session: Session, event: DomainEvent) -> list[tuple[str, str]]:
    link = event.payload.get("link")
    return [(_("Link"), str(LINK_LABELS[link]))] if link in LINK_LABELS else []


CHANGED_LABELS = {"name": _l("Name"), "unit": _l("Unit")}


def _unit_named(session: Session, unit_id: object) -> str:
    unit = session.get(Unit, unit_id) if isinstance(unit_id, int) else None
    return unit.name if unit is not None else "–"


def _details_changed(session: Session, event: DomainEvent) -> list[tuple[str, str]]:
    """Which of the name and the unit changed; the units by their names (a unit is no person)."""
    changed = [str(CHANGED_LABELS[what]) for what in event.payload["changed"] if what in CHANGED_LABELS]
    shown = _account(session, event) + [(pgettext("what", "Changed"), ", ".join(changed))]
    if "unit" in event.payload["changed"]:
        before = _unit_named(session, event.payload.get("unit_from"))
        shown.append((_("Unit"), f"{before} → {_unit_named(session, event.payload.get('unit_to'))}"))
    return shown


def _codes_left(session: Session, event: DomainEvent) -> list[tuple[str, str]]:
    left = event.payload.get("left", event.payload.get("codes"))
    return [(_("Recovery codes left"), str(left))] if isinstance(left, int) else []


# What of a municipality's setup changed (the trail says which, never the values).
SETUP_FIELDS = {"name": _l("Name"), "contact_email": _l("Contact"),
                "data_protection_officer_email": _l("Data protection officer"), "parent": _l("Parent unit"),
                "active": _l("Active"), "address": _l("Address"), "position": _l("Where it is"),
                "opening_hours": _l("Opening hours"), "access_notes": _l("Access notes")}


def _setup_changed(session: Session, event: DomainEvent) -> list[tuple[str, str]]:
    changed = [str(SETUP_FIELDS.get(what, what)) for what in event.payload.get("changed", [])]
    return [(pgettext("what", "Changed"), ", ".join(changed))] if changed else []


def _joined(session: Session, event: DomainEvent) -> list[tuple[str, str]]:
    return [(_("Municipality code"), str(event.payload.get("code", "")))]


ACCOUNT_GROUP = _l("Accounts")
ACCOUNT_EVENTS = {
    organisation.USER_INVITED: _l("A person was invited"),
    organisation.USER_ROLES_CHANGED: _l("A person's roles were changed"),
    organisation.USER_DEACTIVATED: _l("A person was deactivated"),
    organisation.USER_REACTIVATED: _l("A person was activated again"),
    organisation.USER_LOGGED_OUT: _l("A person was logged out everywhere"),
    organisation.USER_DETAILS_CHANGED: _l("A person's name or unit was changed"),
    mfa.TWO_STEP_RESET: _l("A person's two-step verification was reset"),
    auth.PASSWORD_CHANGED: _l("Password changed"),
    auth.PASSWORD_SET_BY_LINK: _l("Password chosen from a mailed link"),
    mfa.TWO_STEP_ON: _l("Two-step verification turned on"),
    mfa.TWO_STEP_OFF: _l("Two-step verification turned off"),
    mfa.RECOVERY_CODES_MADE: _l("Recovery codes made"),
    mfa.RECOVERY_CODE_USED: _l("Logged in with a recovery code"),
    personal_data.ERASED: _l("A person was erased"),
    organisation.MUNICIPALITY_JOINED: _l("The municipality joined"),
    organisation.MUNICIPALITY_CHANGED: _l("The municipality's settings were changed"),
    organisation.UNIT_ADDED: _l("A unit was added"),
    organisation.UNIT_CHANGED: _l("A unit was changed"),
    organisation.SITE_ADDED: _l("A site was added"),
    organisation.SITE_CHANGED: _l("A site was changed"),
}
ACCOUNT_DETAILS: dict[str, Details] = {
    organisation.USER_INVITED: _invited,
    organisation.USER_ROLES_CHANGED: _roles_changed,
    organisation.USER_DEACTIVATED: _account,
    organisation.USER_REACTIVATED: _account,
    organisation.USER_LOGGED_OUT: _account,
    organisation.USER_DETAILS_CHANGED: _details_changed,
    mfa.TWO_STEP_RESET: _account,
    auth.PASSWORD_SET_BY_LINK: _link,
    mfa.RECOVERY_CODES_MADE: _codes_left,
    mfa.RECOVERY_CODE_USED: _codes_left,
    organisation.MUNICIPALITY_JOINED: _joined,
    organisation.MUNICIPALITY_CHANGED: _setup_changed,
    organisation.UNIT_CHANGED: _setup_changed,
    organisation.SITE_CHANGED: _setup_changed,
}


def roles_held(session: Session, event: DomainEvent) -> list[tuple[str, str]]:
    """The roles an event's payload says the user held (at a sign-in), by their labels."""
    roles = event.payload.get("roles")
    if not isinstance(roles, list):
        return []
    return [(_("Roles"), roles_text(roles))]


def describe_events() -> None:
    for name, label in ACCOUNT_EVENTS.items():
        describe(name, label, group=ACCOUNT_GROUP, details=ACCOUNT_DETAILS.get(name))
    describe_subject("municipality", _l("Municipality"))
    describe_subject("unit", _l("Unit"))
    describe_subject("site", _l("Site"))
