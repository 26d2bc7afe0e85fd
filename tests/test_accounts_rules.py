"""The accounts domain's rules, called directly with a session (no requests)."""

from datetime import time, timedelta
from functools import partial

import pytest
from sqlalchemy import select

from sharing.accounts import organisation
from sharing.accounts.auth import (
    Limits,
    LoginRefused,
    LoginThrottled,
    SessionCheck,
    authenticate,
    check_user_session,
    end_user_sessions,
    live_sessions,
    note_session_check,
    start_user_session,
    user_session_for,
)
from sharing.accounts.models import Role, Site
from sharing.accounts.organisation import Interval, format_opening_hours, parse_opening_hours
from sharing.clock import utcnow
from sharing.errors import DomainError, Refused, Term
from tests.conftest import PASSWORD

# Saved by the service, no person.
save_site = partial(organisation.save_site, by=None)
save_unit = partial(organisation.save_unit, by=None, now=utcnow())


def test_opening_hours_parse_the_swedish_notation():
    intervals = parse_opening_hours("mån–fre 07:00–16:00, lör 10.00-13.00")
    assert [i.weekday for i in intervals] == [0, 1, 2, 3, 4, 5]
    assert intervals[0] == Interval(0, time(7), time(16))
    assert intervals[-1] == Interval(5, time(10), time(13))
    assert parse_opening_hours("") == []
    assert parse_opening_hours("Mon-Tue 08:00-12:00")[1] == Interval(1, time(8), time(12))


def test_opening_hours_round_trip():
    text = "mån–tor 07:00–15:30, fre 07:00–12:00, lör 10:00–13:00"
    assert format_opening_hours(parse_opening_hours(text), language="sv") == text
    assert format_opening_hours(parse_opening_hours("mån 08:00–12:00; mån 13:00–16:00"), language="sv") == \
        "mån 08:00–12:00, mån 13:00–16:00"


def test_opening_hours_are_written_in_the_reader_s_language_and_read_back_from_it():
    intervals = parse_opening_hours("mån–tor 07:00–15:30, fre 07:00–12:00, sön 10:00–13:00")
    english = format_opening_hours(intervals, language="en")
    assert english == "Mon–Thu 07:00–15:30, Fri 07:00–12:00, Sun 10:00–13:00"
    assert parse_opening_hours(english) == intervals
    assert format_opening_hours(intervals, language="de") == format_opening_hours(intervals, language="sv")


def test_overlapping_opening_hours_name_their_day_for_translation():
    with pytest.raises(DomainError) as refused:
        parse_opening_hours("Tue 08:00–12:00, Tue 11:00–13:00")
    assert refused.value.in_english() == "Two opening intervals on Tuesday overlap."
    assert isinstance(refused.value.params["day"], Term)


@pytest.mark.parametrize("text", ["måndag", "mån 16:00–07:00", "fre–mån 08:00–12:00", "xyz 08:00–09:00",
                                  "mån 08:00–12:00, mån 11:00–13:00", "mån 25:00–26:00"])
def test_bad_opening_hours_are_refused_with_the_part_named(text):
    with pytest.raises(DomainError) as refused:
        parse_opening_hours(text)
    assert refused.value.field == "opening_hours"


def test_a_municipality_joins(db):
    municipality = organisation.create_municipality(db, by=None, now=utcnow(), code="1214", name="Svalöv")
    assert municipality.slug == "svalov"
    with pytest.raises(DomainError):
        organisation.create_municipality(db, by=None, now=utcnow(), code="1214", name="Annan")
    for code in ("12A4", "9999", "0212", "1512"):  # no county begins 99, 02 or 15
        with pytest.raises(DomainError):
            organisation.create_municipality(db, by=None, now=utcnow(), code=code, name="Fel")


def test_a_name_only_another_way_of_writing_a_member_is_refused(db):
    """Names are told apart as their addresses are (the slug: case and accents ignored), so a
    name written in another case or without its accents is told as taken, not a database error."""
    organisation.create_municipality(db, by=None, now=utcnow(), code="1293", name="Sjöbo")
    for name in ("sjöbo", "SJÖBO", "Sjobo", " Sjöbo! "):
        with pytest.raises(DomainError) as refused:
            organisation.create_municipality(db, by=None, now=utcnow(), code="1214", name=name)
        assert refused.value.field == "name" and refused.value.params == {"name": "Sjöbo"}
    assert organisation.create_municipality(db, by=None, now=utcnow(), code="1214", name="Svalöv").slug == "svalov"


def test_a_rename_to_another_way_of_writing_a_member_is_refused(db, factory):
    ystad, skurup = factory.municipality("Ystad", "1286"), factory.municipality("Skurup", "1264")
    system_admin = factory.user(ystad, Role.SYSTEM_ADMIN)
    with pytest.raises(DomainError) as refused:
        organisation.update_municipality(db, now=utcnow(), municipality=skurup, name="YSTAD", contact_email=None,
                                         data_protection_officer_email=None, changed_by=system_admin)
    assert refused.value.field == "name" and refused.value.params == {"name": "Ystad"}
    # Its own name in another case is no clash.
    organisation.update_municipality(db, now=utcnow(), municipality=ystad, name="YSTAD", contact_email=None,
                                     data_protection_officer_email=None, changed_by=system_admin)
    assert (ystad.name, ystad.slug) == ("YSTAD", "ystad")


def test_units_cannot_be_placed_under_themselves(db, factory):
    municipality = factory.municipality()
    top = save_unit(db, municipality=municipality, name="Förvaltning", parent_id=None)
    child = save_unit(db, municipality=municipality, name="Enhet", parent_id=top.id)
    with pytest.raises(DomainError):
        save_unit(db, municipality=municipality, name="Förvaltning", parent_id=child.id, unit=top)
    other = factory.municipality()
    with pytest.raises(DomainError):
        save_unit(db, municipality=other, name="Främling", parent_id=top.id)


def test_site_is_saved_with_hours_and_normalised_postal_code(db, factory):
    municipality = factory.municipality()
    details = organisation.SiteDetails(name="Kommunförrådet", street_address="Industrigatan 4", postal_code="27139",
                                       locality="Ystad", latitude=55.44, longitude=13.84,
                                       opening_hours="mån–fre 07:00–15:00")
    site = save_site(db, municipality=municipality, details=details, geocoder=None, now=utcnow())
    db.commit()
    stored = db.scalar(select(Site).where(Site.id == site.id))
    assert stored.postal_code == "271 39"
    assert len(stored.opening_hours) == 5
    details.postal_code = "2713"
    with pytest.raises(DomainError):
        save_site(db, municipality=municipality, details=details, site=stored, geocoder=None,
                               now=utcnow())


def limits(**overrides):
    values = dict(per_account_and_address=100, per_account=100, per_address=100, window=timedelta(minutes=15))
    return Limits(**{**values, **overrides})


def test_authenticate_counts_failures_and_throttles(db, factory):
    user = factory.user(factory.municipality())
    tight = limits(per_account_and_address=2)
    for _ in range(2):
        with pytest.raises(LoginRefused):
            authenticate(db, email=user.email, password="fel", address="10.0.0.1", now=utcnow(), limits=tight)
    with pytest.raises(LoginThrottled):
        authenticate(db, email=user.email, password=PASSWORD, address="10.0.0.1", now=utcnow(), limits=tight)
    # The same account from another address is not locked out by those failures.
    assert authenticate(db, email=user.email, password=PASSWORD, address="10.0.0.2", now=utcnow(),
                        limits=tight).id == user.id
    later = utcnow() + timedelta(minutes=16)
    assert authenticate(db, email=user.email, password=PASSWORD, address="10.0.0.1", now=later,
                        limits=tight).id == user.id


def test_guessing_one_account_from_many_addresses_is_throttled(db, factory):
    user = factory.user(factory.municipality())
    spread = limits(per_account=3)
    for n in range(3):
        with pytest.raises(LoginRefused):
            authenticate(db, email=user.email, password="fel", address=f"10.0.1.{n}", now=utcnow(), limits=spread)
    with pytest.raises(LoginThrottled):
        authenticate(db, email=user.email, password=PASSWORD, address="10.0.1.99", now=utcnow(), limits=spread)


def test_failures_from_one_address_throttle_every_account(db, factory):
    user = factory.user(factory.municipality())
    busy = limits(per_address=3)
    for n in range(3):
        with pytest.raises(LoginRefused):
            authenticate(db, email=f"guess{n}@x.example", password="fel", address="10.0.0.9", now=utcnow(),
                         limits=busy)
    with pytest.raises(LoginThrottled):
        authenticate(db, email=user.email, password=PASSWORD, address="10.0.0.9", now=utcnow(), limits=busy)


def test_only_a_system_admin_grants_system_admin(db, factory):
    municipality = factory.municipality()
    admin = factory.user(municipality, Role.MUNICIPALITY_ADMIN)
    system_admin = factory.user(municipality, Role.SYSTEM_ADMIN)
    user = factory.user(municipality)
    assert Role.SYSTEM_ADMIN not in organisation.grantable_roles(admin)
    with pytest.raises(DomainError):
        organisation.update_user(db, user=user, name=user.name, roles=[Role.SYSTEM_ADMIN], unit_id=None,
                                 active=True, changed_by=admin, now=utcnow())
    with pytest.raises(DomainError):  # nor take it away
        organisation.update_user(db, user=system_admin, name="X", roles=[Role.EMPLOYEE], unit_id=None,
                                 active=True, changed_by=admin, now=utcnow())
    organisation.update_user(db, user=user, name=user.name, roles=[Role.SYSTEM_ADMIN], unit_id=None,
                             active=True, changed_by=system_admin, now=utcnow())
    assert user.roles == {Role.SYSTEM_ADMIN}


def test_only_a_system_admin_renames_a_municipality(db, factory):
    ystad, skurup = factory.municipality("Ystad", "1286"), factory.municipality("Skurup", "1264")
    admin = factory.user(ystad, Role.MUNICIPALITY_ADMIN)
    system_admin = factory.user(ystad, Role.SYSTEM_ADMIN)
    with pytest.raises(DomainError):
        organisation.update_municipality(db, now=utcnow(), municipality=ystad, name="Ystads kommun", contact_email=None,
                                         data_protection_officer_email=None, changed_by=admin)
    organisation.update_municipality(db, now=utcnow(), municipality=ystad, name="Ystad",
                                     contact_email="a@ystad.example", data_protection_officer_email=None,
                                     changed_by=admin)
    with pytest.raises(DomainError):
        organisation.update_municipality(db, now=utcnow(), municipality=ystad, name="Skurup", contact_email=None,
                                         data_protection_officer_email=None, changed_by=system_admin)
    organisation.update_municipality(db, now=utcnow(), municipality=skurup, name="Skurups kommun", contact_email=None,
                                     data_protection_officer_email=None, changed_by=system_admin)
    assert skurup.slug == "skurups-kommun"


def test_a_failed_site_update_changes_nothing(db, factory):
    municipality = factory.municipality()
    site = factory.site(municipality, name="Förrådet")
    details = organisation.SiteDetails(name="Nytt namn", street_address="Ny gata 1", postal_code="fel",
                                       locality="Ystad", latitude=55.4, longitude=13.8)
    with pytest.raises(DomainError):
        save_site(db, municipality=municipality, details=details, site=site, geocoder=None,
                               now=utcnow())
    assert (site.name, site.street_address) == ("Förrådet", "Storgatan 1")


def test_an_admin_cannot_demote_or_deactivate_themself(db, factory):
    municipality = factory.municipality()
    admin = factory.user(municipality, Role.MUNICIPALITY_ADMIN)
    with pytest.raises(DomainError):
        organisation.update_user(db, user=admin, name=admin.name, roles=[Role.EMPLOYEE], unit_id=None,
                                 active=True, changed_by=admin, now=utcnow())
    with pytest.raises(DomainError):
        organisation.update_user(db, user=admin, name=admin.name, roles=[Role.MUNICIPALITY_ADMIN], unit_id=None,
                                 active=False, changed_by=admin, now=utcnow())
    with pytest.raises(Refused) as refused:  # every reason at once, a field each, in the form's order
        organisation.update_user(db, user=admin, name=" ", roles=[Role.EMPLOYEE], unit_id=10**6, active=False,
                                 changed_by=admin, now=utcnow())
    assert [problem.field for problem in refused.value.problems] == ["name", "roles", "unit_id", "active"]
    db.refresh(admin)
    assert (admin.roles, admin.active) == ({Role.MUNICIPALITY_ADMIN}, True)


def test_deactivating_a_user_ends_their_sessions(db, factory):
    municipality = factory.municipality()
    admin = factory.user(municipality, Role.MUNICIPALITY_ADMIN)
    user = factory.user(municipality)
    start_user_session(db, user=user, user_agent="Firefox", now=utcnow())
    start_user_session(db, user=user, user_agent="Safari", now=utcnow())
    db.commit()
    assert len(live_sessions(db, user_id=user.id)) == 2
    organisation.update_user(db, user=user, name=user.name, roles=[Role.EMPLOYEE], unit_id=None, active=False,
                             changed_by=admin, now=utcnow())
    db.commit()
    assert live_sessions(db, user_id=user.id) == []


LIMITS = dict(idle=timedelta(minutes=30), absolute=timedelta(hours=12))


@pytest.fixture
def signed_in(db, factory):
    """A user with a server-side session started now: (user, the cookie's secret, now)."""
    user = factory.user(factory.municipality())
    now = utcnow()
    raw = start_user_session(db, user=user, user_agent="", now=now)
    db.commit()
    return user, raw, now


def _live_after_check(db, raw, now):
    """What the session loader does: check the session, note what was found, say if it lives."""
    user_session = user_session_for(db, raw)
    check = check_user_session(user_session, now=now, **LIMITS)
    if user_session is not None:
        note_session_check(db, user_session_id=user_session.id, check=check, now=now)
        db.commit()
        db.expire_all()
    return check.live


def test_sessions_end_when_idle_or_too_old(db, signed_in):
    user, raw, now = signed_in
    assert _live_after_check(db, raw, now + timedelta(minutes=29))
    # Used every 20 minutes, it lives until the absolute limit, and no longer.
    later = now
    while later + timedelta(minutes=20) < now + timedelta(hours=12):
        later += timedelta(minutes=20)
        assert _live_after_check(db, raw, later), later - now
    assert not _live_after_check(db, raw, now + timedelta(hours=12, minutes=1))
    fresh = start_user_session(db, user=user, user_agent="", now=now)
    db.commit()
    assert not _live_after_check(db, fresh, now + timedelta(minutes=31))
    assert not _live_after_check(db, fresh, now)  # ended stays ended
    assert not _live_after_check(db, "not-a-session", now)
    assert check_user_session(user_session_for(db, fresh), now=now, **LIMITS) is SessionCheck.ENDED


def test_a_session_is_noted_as_seen_once_a_minute_at_most(db, signed_in):
    user, raw, now = signed_in
    found = user_session_for(db, raw)
    assert found.user.id == user.id and found.user.municipality_id == user.municipality_id
    assert check_user_session(found, now=now + timedelta(seconds=50), **LIMITS) is SessionCheck.LIVE
    assert check_user_session(found, now=now + timedelta(seconds=70), **LIMITS) is SessionCheck.SEEN
    assert _live_after_check(db, raw, now + timedelta(seconds=70))
    assert user_session_for(db, raw).last_seen_at == now + timedelta(seconds=70)


def test_noting_a_check_never_moves_a_time_back_nor_over_a_logout(db, signed_in):
    user, raw, now = signed_in
    found = user_session_for(db, raw)
    note_session_check(db, user_session_id=found.id, check=SessionCheck.SEEN, now=now + timedelta(minutes=5))
    note_session_check(db, user_session_id=found.id, check=SessionCheck.SEEN, now=now + timedelta(minutes=2))
    end_user_sessions(db, user_id=user.id, now=now + timedelta(minutes=6))
    db.commit()
    note_session_check(db, user_session_id=found.id, check=SessionCheck.EXPIRED, now=now + timedelta(hours=1))
    db.commit()
    db.expire_all()
    found = user_session_for(db, raw)
    assert found.last_seen_at == now + timedelta(minutes=5)
    assert found.ended_at == now + timedelta(minutes=6)  # the logout's time, not the expiry's


def test_the_signed_in_user_is_read_with_all_their_roles_or_none(db, factory):
    municipality = factory.municipality("Trelleborg", "1287")
    manager = factory.user(municipality, Role.FACILITY_MANAGER, Role.MUNICIPALITY_ADMIN)
    nobody = factory.user(municipality)
    nobody.role_grants = []
    db.commit()
    now = utcnow()
    secrets = {user.id: start_user_session(db, user=user, user_agent="", now=now) for user in (manager, nobody)}
    db.commit()
    found = user_session_for(db, secrets[manager.id]).user
    assert found.roles == {Role.FACILITY_MANAGER, Role.MUNICIPALITY_ADMIN}
    assert found.has_role(Role.MUNICIPALITY_ADMIN) and not found.has_role(Role.SYSTEM_ADMIN)
    assert (found.municipality_name, found.unread_notification_count, found.two_step) == ("Trelleborg", 0, False)
    assert user_session_for(db, secrets[nobody.id]).user.roles == frozenset()
