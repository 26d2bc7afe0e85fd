"""Municipalities joining, their units and sites, and the people in them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Iterable

from sqlalchemy import or_, select
from sqlmodel import Session, col

from sharing.accounts.audit import record_account_event, record_for_trail
from sharing.accounts.auth import end_user_sessions, issue_account_token, normalise_email, user_by_email
from sharing.accounts.geocoding.rules import Geocoder, place
from sharing.accounts.models import (
    Actor,
    CoordinatesSource,
    Municipality,
    OpeningHours,
    Role,
    RoleGrant,
    Site,
    TokenPurpose,
    Unit,
    User,
)
from sharing.errors import DomainError, Term, refuse_any
from sharing.i18n import N_
from sharing.text import slugify
from sharing.typed import id_of

# What an administrator did to a person's account, for the audit trail (subject: the user).
USER_INVITED = "accounts.user.invited"
USER_ROLES_CHANGED = "accounts.user.roles_changed"
USER_DEACTIVATED = "accounts.user.deactivated"
USER_REACTIVATED = "accounts.user.reactivated"
USER_LOGGED_OUT = "accounts.user.logged_out_everywhere"
USER_DETAILS_CHANGED = "accounts.user.details_changed"  # name or unit: which, never the name itself
# How a municipality is set up, for its trail: which fields changed, never their values (an address
# may be a person's). Subjects: the municipality, a unit, a site.
MUNICIPALITY_JOINED = "accounts.municipality.joined"
MUNICIPALITY_CHANGED = "accounts.municipality.changed"
UNIT_ADDED = "accounts.unit.added"
UNIT_CHANGED = "accounts.unit.changed"
SITE_ADDED = "accounts.site.added"
SITE_CHANGED = "accounts.site.changed"

# Roles a municipality administrator may hand out; system administrators are made by their peers.
MUNICIPALITY_ROLES = frozenset(Role) - {Role.SYSTEM_ADMIN}
# Statistics Sweden's county codes: a municipality's code begins with its county's.
COUNTY_CODES = frozenset({"01", "03", "04", "05", "06", "07", "08", "09", "10", "12", "13", "14", "17", "18", "19",
                          "20", "21", "22", "23", "24", "25"})


def create_municipality(
    session: Session, *, code: str, name: str, by: Actor | None, now: datetime, contact_email: str | None = None
) -> Municipality:
    """A new member municipality; it can be used as soon as it has an administrator. ``by`` None:
    the service's operator, at the command line."""
    code, name = code.strip(), name.strip()
    if not re.fullmatch(r"\d{4}", code) or code[:2] not in COUNTY_CODES:
        raise DomainError(N_("The municipality code is Statistics Sweden's: four digits, its county's two first "
                             "(for example 1286)."), field="code")
    if not name:
        raise DomainError(N_("Enter the municipality's name."), field="name")
    if session.scalar(select(Municipality).where(col(Municipality.code) == code)):
        raise DomainError(N_("A municipality with code %(code)s is already a member."), field="code", code=code)
    _refuse_a_members_name(session, name)
    municipality = Municipality(code=code, name=name, slug=slugify(name), contact_email=contact_email or None)
    session.add(municipality)
    session.flush()
    _record_setup(session, MUNICIPALITY_JOINED, "municipality", id_of(municipality), municipality, by=by, now=now,
                  code=code)
    return municipality


def _record_setup(session: Session, name: str, subject_type: str, subject_id: int, municipality: Municipality, *,
                  by: Actor | None, now: datetime, **payload: object) -> None:
    record_for_trail(session, name, subject_type=subject_type, subject_id=subject_id,
                     municipality_id=id_of(municipality), by=by, now=now, **payload)


def _changed(before: dict[str, object], after: dict[str, object]) -> list[str]:
    return [field for field in before if before[field] != after[field]]


def _refuse_a_members_name(session: Session, name: str, *, municipality_id: int | None = None) -> None:
    """Refuse the name of another member, also written in another case or without its accents: names
    are told apart as their addresses are (the slug, unique, made of the name), so "sjöbo" or
    "Sjobo" is Sjöbo's."""
    member = session.scalars(select(Municipality).where(
        or_(col(Municipality.name) == name, col(Municipality.slug) == slugify(name)),
        col(Municipality.id) != municipality_id)).first()
    if member is not None:
        raise DomainError(N_("A municipality named %(name)s is already a member."), field="name", name=member.name)


def update_municipality(
    session: Session, *, municipality: Municipality, name: str, contact_email: str | None,
    data_protection_officer_email: str | None, changed_by: Actor, now: datetime,
) -> None:
    """Change a municipality's name (system administrators only: every member sees it) or contacts."""
    before = _settings_of(municipality)
    name = name.strip()
    if name != municipality.name:
        if not changed_by.has_role(Role.SYSTEM_ADMIN):
            raise DomainError(N_("Only a system administrator can rename a municipality."), field="name")
        if not name:
            raise DomainError(N_("Enter the municipality's name."), field="name")
        _refuse_a_members_name(session, name, municipality_id=municipality.id)
        municipality.name, municipality.slug = name, slugify(name)
    municipality.contact_email = contact_email or None
    municipality.data_protection_officer_email = (data_protection_officer_email or "").strip() or None
    session.add(municipality)
    if changed := _changed(before, _settings_of(municipality)):
        _record_setup(session, MUNICIPALITY_CHANGED, "municipality", id_of(municipality), municipality,
                      by=changed_by, now=now, changed=changed)


def _settings_of(municipality: Municipality) -> dict[str, object]:
    """What of a municipality's settings its trail says changed (which, not to what)."""
    return {"name": municipality.name, "contact_email": municipality.contact_email,
            "data_protection_officer_email": municipality.data_protection_officer_email}


def save_unit(
    session: Session, *, municipality: Municipality, name: str, parent_id: int | None, by: Actor | None,
    now: datetime, unit: Unit | None = None, active: bool = True,
) -> Unit:
    """Create or rename a unit; a parent must be in the same municipality and not below it."""
    name = name.strip()
    if not name:
        raise DomainError(N_("Enter the unit's name."), field="name")
    clash = session.scalar(select(Unit).where(col(Unit.municipality_id) == municipality.id, col(Unit.name) == name))
    if clash is not None and clash is not unit:
        raise DomainError(N_("There is already a unit named %(name)s."), field="name", name=name)
    if parent_id is not None:
        parent = session.get(Unit, parent_id)
        if parent is None or parent.municipality_id != municipality.id:
            raise DomainError(N_("Choose a parent unit of your own municipality."), field="parent_id")
        ancestor: Unit | None = parent
        while ancestor is not None and unit is not None:
            if ancestor.id == unit.id:
                raise DomainError(N_("A unit cannot be placed under itself."), field="parent_id")
            ancestor = session.get(Unit, ancestor.parent_id) if ancestor.parent_id else None
    before = None if unit is None else _unit_facts(unit)
    unit = unit or Unit(municipality_id=id_of(municipality), name=name)
    unit.name, unit.parent_id, unit.active = name, parent_id, active
    session.add(unit)
    session.flush()
    if before is None:
        _record_setup(session, UNIT_ADDED, "unit", id_of(unit), municipality, by=by, now=now)
    elif changed := _changed(before, _unit_facts(unit)):
        _record_setup(session, UNIT_CHANGED, "unit", id_of(unit), municipality, by=by, now=now, changed=changed)
    return unit


def _unit_facts(unit: Unit) -> dict[str, object]:
    """What of a unit its trail says changed (which, not to what)."""
    return {"name": unit.name, "parent": unit.parent_id, "active": unit.active}


# --- Opening hours: "mån–fre 07:00–16:00, lör 10:00–13:00", "Mon–Fri 07:00–16:00" ----------

# The days' short names in each language of the service: read in either, written in the
# reader's, so that the hours a form is filled with read back as they were.
WEEKDAYS = {
    "sv": ("mån", "tis", "ons", "tor", "fre", "lör", "sön"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}
# A day as a refusal names it, in the reader's language when shown.
WEEKDAY_TERMS = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"), N_("Saturday"),
                 N_("Sunday"))
_WEEKDAY_ALIASES = {name.lower(): i for names in WEEKDAYS.values() for i, name in enumerate(names)}
_DASH = r"\s*[-–—]\s*"
_PART = re.compile(
    rf"^(?P<first>[a-zåäö]+)\.?(?:{_DASH}(?P<last>[a-zåäö]+)\.?)?\s+"
    rf"(?P<opens>\d{{1,2}}[:.]\d{{2}}){_DASH}(?P<closes>\d{{1,2}}[:.]\d{{2}})$"
)


@dataclass(frozen=True)
class Interval:
    weekday: int
    opens: time
    closes: time


def _clock(text: str) -> time:
    hours, minutes = (int(x) for x in re.split(r"[:.]", text))
    if hours == 24 and minutes == 0:
        return time(23, 59)
    return time(hours, minutes)


def parse_opening_hours(text: str) -> list[Interval]:
    """Parse the compact notation, its days named in Swedish or English."""
    intervals: list[Interval] = []
    for part in filter(None, (p.strip().lower() for p in re.split(r"[,;\n]", text))):
        match = _PART.match(part)
        if not match:
            raise DomainError(
                N_('Could not read "%(part)s". Write for example: Mon–Fri 07:00–16:00, Sat 10:00–13:00'),
                field="opening_hours", part=part,
            )
        try:
            first = _WEEKDAY_ALIASES[match["first"][:3]]
            last = _WEEKDAY_ALIASES[(match["last"] or match["first"])[:3]]
            opens, closes = _clock(match["opens"]), _clock(match["closes"])
        except (KeyError, ValueError):
            raise DomainError(
                N_('Could not read "%(part)s". Write for example: Mon–Fri 07:00–16:00, Sat 10:00–13:00'),
                field="opening_hours", part=part,
            ) from None
        if closes <= opens:
            raise DomainError(N_('In "%(part)s" the closing time is not after the opening time.'),
                              field="opening_hours", part=part)
        if last < first:
            raise DomainError(N_('In "%(part)s" the days run backwards.'), field="opening_hours", part=part)
        intervals.extend(Interval(day, opens, closes) for day in range(first, last + 1))
    intervals.sort(key=lambda i: (i.weekday, i.opens))
    for a, b in zip(intervals, intervals[1:]):
        if a.weekday == b.weekday and b.opens < a.closes:
            raise DomainError(N_("Two opening intervals on %(day)s overlap."), field="opening_hours",
                              day=Term(WEEKDAY_TERMS[a.weekday]))
    return intervals


def format_opening_hours(intervals: Iterable[OpeningHours | Interval], *, language: str) -> str:
    """The compact notation back again, consecutive days with equal hours joined, the days named
    in ``language`` ("sv", "en"; Swedish, the service's own, for any other)."""
    names = WEEKDAYS.get(language, WEEKDAYS["sv"])
    by_day: dict[int, list[tuple[time, time]]] = {}
    for interval in intervals:
        by_day.setdefault(interval.weekday, []).append((interval.opens, interval.closes))
    parts: list[str] = []
    days = sorted(by_day)
    i = 0
    while i < len(days):
        j = i
        while j + 1 < len(days) and days[j + 1] == days[j] + 1 and by_day[days[j + 1]] == by_day[days[i]]:
            j += 1
        label = names[days[i]] if i == j else f"{names[days[i]]}–{names[days[j]]}"
        for opens, closes in by_day[days[i]]:
            parts.append(f"{label} {opens:%H:%M}–{closes:%H:%M}")
        i = j + 1
    return ", ".join(parts)


@dataclass
class SiteDetails:
    """What an administrator enters for a site (validated by the form or the API schema).

    Latitude and longitude may be left out: the address is placed then (``save_site``).
    ``coordinates_source`` says how given ones were set: typed, or picked on the map."""

    name: str
    street_address: str
    postal_code: str
    locality: str
    latitude: float | None = None
    longitude: float | None = None
    opening_hours: str = ""
    access_notes: str = ""
    active: bool = True
    coordinates_source: CoordinatesSource = CoordinatesSource.TYPED


def normalise_postal_code(code: str) -> str:
    digits = re.sub(r"\s", "", code)
    if not re.fullmatch(r"\d{5}", digits):
        raise DomainError(N_("A postal code has five digits, for example 271 80."), field="postal_code")
    return f"{digits[:3]} {digits[3:]}"


# Coordinates that differ less than this (about a centimetre) are the ones the form was given.
SAME_COORDINATE = 1e-7


def _coordinates(
    session: Session, *, details: SiteDetails, postal_code: str, site: Site | None, geocoder: Geocoder | None,
    now: datetime,
) -> tuple[float, float, CoordinatesSource]:
    """The site's coordinates and how they were set. Coordinates given anew (typed or picked) are
    used as given, and so are those the site has when its address stays. The address is placed
    when none are given; when the address changed, unless the site's place was picked on the
    map; and when the site has only its locality's position (the geocoder may know it now)."""
    latitude, longitude = details.latitude, details.longitude
    if (latitude is None) != (longitude is None):
        raise DomainError(N_("Enter both latitude and longitude, or leave both empty to find the place from the "
                             "address."), field="latitude" if latitude is None else "longitude")
    if latitude is not None and longitude is not None:
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise DomainError(N_("The coordinates are not a place on Earth: "
                                 "the latitude is from −90 to 90, the longitude from −180 to 180."), field="latitude")
        shown = site is not None and (abs(site.latitude - latitude) < SAME_COORDINATE
                                      and abs(site.longitude - longitude) < SAME_COORDINATE)
        if not shown:
            return latitude, longitude, details.coordinates_source
        assert site is not None
        source = CoordinatesSource(site.coordinates_source)
        moved = (site.street_address, site.postal_code, site.locality) != (
            details.street_address.strip(), postal_code, details.locality.strip())
        if not (source == CoordinatesSource.APPROXIMATE or (moved and source != CoordinatesSource.PICKED)):
            return latitude, longitude, source
    placement = place(session, geocoder=geocoder, street_address=details.street_address.strip(),
                      postal_code=postal_code, locality=details.locality.strip(), now=now)
    source = CoordinatesSource.APPROXIMATE if placement.approximate else CoordinatesSource.GEOCODED
    return placement.latitude, placement.longitude, source


def save_site(
    session: Session, *, municipality: Municipality, details: SiteDetails, geocoder: Geocoder | None, now: datetime,
    by: Actor | None, site: Site | None = None,
) -> Site:
    """Create or update a site with its opening hours; nothing changes unless all of it is valid.

    Without coordinates the address is placed (``geocoding.rules.place``): by the geocoder, or
    at its locality, approximately; one that cannot be placed is refused, never put at zero."""
    name = details.name.strip()
    if not name:
        raise DomainError(N_("Enter the site's name."), field="name")
    clash = session.scalar(select(Site).where(col(Site.municipality_id) == municipality.id, col(Site.name) == name))
    if clash is not None and clash is not site:
        raise DomainError(N_("There is already a site named %(name)s."), field="name", name=name)
    intervals = parse_opening_hours(details.opening_hours)
    postal_code = normalise_postal_code(details.postal_code)
    # Last of the checks: it may ask the geocoder, and it keeps the answer.
    latitude, longitude, source = _coordinates(session, details=details, postal_code=postal_code, site=site,
                                               geocoder=geocoder, now=now)
    before = None if site is None else _site_facts(site)
    site = site or Site(municipality_id=id_of(municipality), name=name, street_address="", postal_code="",
                        locality="", latitude=latitude, longitude=longitude)
    site.name = name
    site.street_address = details.street_address.strip()
    site.postal_code = postal_code
    site.locality = details.locality.strip()
    site.latitude, site.longitude, site.coordinates_source = latitude, longitude, source.value
    site.access_notes = details.access_notes.strip()
    site.active = details.active
    site.opening_hours = [OpeningHours(weekday=i.weekday, opens=i.opens, closes=i.closes) for i in intervals]
    session.add(site)
    session.flush()
    if before is None:
        _record_setup(session, SITE_ADDED, "site", id_of(site), municipality, by=by, now=now)
    elif changed := _changed(before, _site_facts(site)):
        _record_setup(session, SITE_CHANGED, "site", id_of(site), municipality, by=by, now=now, changed=changed)
    return site


def _site_facts(site: Site) -> dict[str, object]:
    """What of a site its trail says changed (which, not to what)."""
    return {"name": site.name, "address": (site.street_address, site.postal_code, site.locality),
            "position": (site.latitude, site.longitude), "opening_hours": sorted(
                (hours.weekday, hours.opens, hours.closes) for hours in site.opening_hours),
            "access_notes": site.access_notes, "active": site.active}


# --- People -----------------------------------------------------------------------

def grantable_roles(granted_by: Actor | None) -> frozenset[Role]:
    """The roles this person may hand out (None: the command line, which may hand out any)."""
    if granted_by is None or granted_by.has_role(Role.SYSTEM_ADMIN):
        return frozenset(Role)
    return MUNICIPALITY_ROLES


def _roles_refusal(roles: frozenset[Role], *, granted_by: Actor | None) -> DomainError | None:
    if not roles:
        return DomainError(N_("Choose at least one role."), field="roles")
    if not roles <= grantable_roles(granted_by):
        return DomainError(N_("Only a system administrator can make another."), field="roles")
    return None


def _unit_refusal(session: Session, municipality_id: int, unit_id: int | None) -> DomainError | None:
    if unit_id is None:
        return None
    unit = session.get(Unit, unit_id)
    if unit is None or unit.municipality_id != municipality_id:
        return DomainError(N_("Choose a unit of the user's municipality."), field="unit_id")
    return None


def person_refusals(
    session: Session, *, municipality_id: int, email: str, name: str, roles: Iterable[Role],
    unit_id: int | None, invited_by: Actor | None,
) -> list[DomainError]:
    """Every reason an invitation would be refused, a field each, in the form's order (without an
    address: what a change of a person's name, roles and unit shares with it)."""
    refusals = []
    if not name.strip():
        refusals.append(DomainError(N_("Enter the person's name."), field="name"))
    if email.strip() and user_by_email(session, email) is not None:
        refusals.append(DomainError(N_("There is already a user with that e-mail address."), field="email"))
    if (refusal := _roles_refusal(frozenset(roles), granted_by=invited_by)) is not None:
        refusals.append(refusal)
    if (refusal := _unit_refusal(session, municipality_id, unit_id)) is not None:
        refusals.append(refusal)
    return refusals


PERSON_FIELDS = ("name", "email", "roles", "unit_id", "active")  # the person form's order


def change_refusals(
    session: Session, *, user: User, name: str, roles: Iterable[Role], unit_id: int | None, active: bool,
    changed_by: Actor,
) -> list[DomainError]:
    """Every reason a change of a person's name, roles, unit or activity would be refused, a
    field each, in the form's order."""
    roles = frozenset(roles)
    refusals = person_refusals(session, municipality_id=user.municipality_id, email="", name=name, roles=roles,
                               unit_id=unit_id, invited_by=changed_by)
    if user.id == changed_by.id:
        if (user.roles & {Role.MUNICIPALITY_ADMIN, Role.SYSTEM_ADMIN}) - roles and not any(
                refusal.field == "roles" for refusal in refusals):
            refusals.append(DomainError(
                N_("You cannot remove your own administrator role. Ask another administrator."), field="roles"))
        if not active:
            refusals.append(DomainError(N_("You cannot deactivate yourself. Ask another administrator."),
                                        field="active"))
    return sorted(refusals, key=lambda refusal: PERSON_FIELDS.index(refusal.field or "active"))


def invite_user(
    session: Session, *, municipality: Municipality, email: str, name: str, roles: Iterable[Role],
    unit_id: int | None, invited_by: Actor | None, now: datetime, lifetime: timedelta,
) -> tuple[User, str]:
    """A new user without a password, and the secret of the invitation link to mail them."""
    email = normalise_email(email)
    granted = frozenset(roles)
    refuse_any(person_refusals(session, municipality_id=id_of(municipality), email=email, name=name, roles=granted,
                               unit_id=unit_id, invited_by=invited_by))
    user = User(municipality_id=id_of(municipality), unit_id=unit_id, email=email, name=name.strip(),
                created_at=now)
    user.role_grants = [RoleGrant(role=role.value) for role in sorted(granted)]  # type: ignore[call-arg]  # user_id: set at flush
    session.add(user)
    session.flush()
    raw = issue_account_token(session, user=user, purpose=TokenPurpose.INVITATION, lifetime=lifetime, now=now)
    record_account_event(session, USER_INVITED, user=user, by=invited_by, now=now, roles=_codes(granted))
    return user, raw


def _codes(roles: Iterable[Role]) -> list[str]:
    return [role.value for role in sorted(roles)]


def reinvite_user(session: Session, *, user: User, now: datetime, lifetime: timedelta) -> str:
    """A new invitation for someone who has not yet chosen a password (the earlier link stops working)."""
    if user.password_hash is not None:
        raise DomainError(N_("%(name)s has already joined."), name=user.name)
    if user.erased_at is not None:
        raise DomainError(N_("This person is erased: nothing of them is left to change."))
    return issue_account_token(session, user=user, purpose=TokenPurpose.INVITATION, lifetime=lifetime, now=now)


def may_change(actor: Actor, user: User) -> bool:
    """A system administrator's account is changed by system administrators alone: a
    municipality's administrator may neither lock out nor log out the service's."""
    return Role.SYSTEM_ADMIN not in user.roles or actor.has_role(Role.SYSTEM_ADMIN)


def update_user(
    session: Session, *, user: User, name: str, roles: Iterable[Role], unit_id: int | None, active: bool,
    changed_by: Actor, now: datetime,
) -> None:
    """Change a user's name, unit, roles or activity; deactivation ends their sessions at once."""
    if user.erased_at is not None:
        raise DomainError(N_("This person is erased: nothing of them is left to change."))
    if not may_change(changed_by, user):
        raise DomainError(N_("Only a system administrator can change a system administrator's account."))
    new_roles = frozenset(roles)
    refuse_any(change_refusals(session, user=user, name=name, roles=new_roles, unit_id=unit_id, active=active,
                               changed_by=changed_by))
    changed = [what for what, differs in (("name", name.strip() != user.name), ("unit", unit_id != user.unit_id))
               if differs]
    if changed:
        units = {"unit_from": user.unit_id, "unit_to": unit_id} if "unit" in changed else {}
        record_account_event(session, USER_DETAILS_CHANGED, user=user, by=changed_by, now=now, changed=changed, **units)
    user.name, user.unit_id = name.strip(), unit_id
    if user.roles != new_roles:
        record_account_event(session, USER_ROLES_CHANGED, user=user, by=changed_by, now=now,
                **{"from": _codes(user.roles), "to": _codes(new_roles)})
        user.role_grants = [RoleGrant(role=role.value) for role in sorted(new_roles)]  # type: ignore[call-arg]  # user_id: set at flush
    if user.active and not active:
        end_user_sessions(session, user_id=id_of(user), now=now)
    if user.active != active:
        record_account_event(session, USER_REACTIVATED if active else USER_DEACTIVATED, user=user, by=changed_by,
                             now=now)
    user.active = active
    session.add(user)


def log_out_everywhere(session: Session, *, user: User, by: Actor, now: datetime) -> None:
    """For a lost or shared computer: every session of the user ends at once."""
    end_user_sessions(session, user_id=id_of(user), now=now)
    record_account_event(session, USER_LOGGED_OUT, user=user, by=by, now=now)
