"""The audit trail: a municipality's administrators read what happened there, from the event
table, newest first, filtered and paged, in Swedish, and nothing of another municipality."""

import csv
import io
import re
from datetime import datetime, timedelta, timezone

import pyotp
import pytest
from flask_babel import force_locale
from sqlalchemy import select

from sharing import events
from sharing.accounts.models import Role, User
from sharing.accounts.personal_data import rules as personal_data
from sharing.catalog import events as catalog_events
from sharing.catalog.listings import rules as listings
from sharing.catalog.listings.models import ListingStatus
from sharing.clock import today_in_sweden, utcnow
from sharing.events import event_label
from sharing.loans.requests import rules as loans
from sharing.loans.requests.models import RequestKind
from sharing.loans.requests.rules import RequestDetails
from tests.conftest import PASSWORD, csrf_token, statements_on
from tests.test_accounts_two_step import enrol


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


@pytest.fixture
def world(factory, db):
    ystad = factory.municipality("Ystad", "1286")
    skurup = factory.municipality("Skurup", "1264")
    manager = factory.user(ystad, Role.FACILITY_MANAGER, name="Lena Lokal")
    listing = factory.listing(by=manager, title="Stolar", quantity=10, now=at("2026-07-01T08:00:00"))
    listings.save_listing(db, details=listings.details_of(listing).model_copy(update={"title": "Kontorsstolar",
                                                                                     "quantity": 8}),
                          by=manager, now=at("2026-07-01T09:00:00"), listing=listing)
    listings.set_status(db, listing=listing, to=ListingStatus.PUBLISHED, by=manager, now=at("2026-07-01T10:00:00"))
    listings.set_status(db, listing=listing, to=ListingStatus.WITHDRAWN, by=manager, now=at("2026-07-02T10:00:00"))
    db.commit()
    skurup_manager = factory.user(skurup, Role.FACILITY_MANAGER, name="Sven Skurupsson")
    skurup_listing = factory.listing(by=skurup_manager, title="Hemliga bord", published=True,
                                     now=at("2026-07-01T11:00:00"))
    return {"ystad": ystad, "skurup": skurup, "manager": manager, "listing": listing,
            "skurup_listing": skurup_listing, "skurup_manager": skurup_manager,
            "admin": factory.user(ystad, Role.MUNICIPALITY_ADMIN), "employee": factory.user(ystad),
            "skurup_admin": factory.user(skurup, Role.MUNICIPALITY_ADMIN)}


def trail(client, municipality, **args):
    response = client.get(f"/admin/municipalities/{municipality.id}/audit", query_string=args)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def rows(html):
    body = re.search(r"<tbody>(.*?)</tbody>", html, re.DOTALL)
    if body is None:
        return []
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
            for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.DOTALL)]


def test_an_admin_reads_who_did_what_and_what_changed_newest_first_in_swedish(client, auth, world):
    auth.login(world["admin"])
    html = trail(client, world["ystad"])
    assert "4 händelser" in html
    listing_id = world["listing"].id
    assert rows(html) == [
        f"2026-07-02 12:00 Lena Lokal Annonsen drogs tillbaka Annons {listing_id} "
        "Status: Tillgänglig → Tillbakadragen",
        f"2026-07-01 12:00 Lena Lokal Annonsen publicerades Annons {listing_id} Status: Utkast → Tillgänglig",
        f"2026-07-01 11:00 Lena Lokal Annonsen sparades Annons {listing_id} "
        "Rubrik: Stolar → Kontorsstolar Antal likadana exemplar: 10 → 8",
        f"2026-07-01 10:00 Lena Lokal Annonsen sparades Annons {listing_id} Ny annons: Utkast",
    ]
    # The listing is withdrawn: its page is its facility managers' alone, so the admin gets no link to it.
    assert f'href="/catalog/{listing_id}"' not in html
    # Another municipality's events are never among them.
    assert "Sven Skurupsson" not in html and "Hemliga bord" not in html
    assert f'href="/catalog/{world["skurup_listing"].id}"' not in html


def test_the_trail_links_a_subject_only_where_the_admin_may_open_its_page(client, auth, world, factory, db):
    employee = factory.user(world["ystad"], Role.EMPLOYEE, unit=factory.unit(world["ystad"]))
    want = factory.want(by=employee)
    chairs = factory.listing_published(by=world["manager"], title="Stapelstolar", quantity=4, lend=True)
    request = loans.ask(db, listing_id=chairs.id, by=employee, now=utcnow(), details=RequestDetails(
        kind=RequestKind.BORROW, quantity=1, first_day=today_in_sweden(utcnow()) + timedelta(days=1),
        last_day=today_in_sweden(utcnow()) + timedelta(days=3), delivery_site_id=chairs.site_id))
    events.record(db, catalog_events.WANT_MATCHED, subject_type="want", subject_id=want.id, now=utcnow(),
                  municipality_id=world["ystad"].id, payload={"listing_ids": [chairs.id]})
    db.commit()
    auth.login(world["admin"])
    html = trail(client, world["ystad"])
    assert f"Förfrågan {request.id}" in html and f"Efterlysning {want.id}" in html  # told of, as before
    assert f'href="/loans/{request.id}"' not in html  # the requester's and the managers' page alone
    assert f'href="/wants/{want.id}"' not in html  # the poster's unit's and the managers' page alone
    assert f'href="/catalog/{chairs.id}"' in html  # a published listing the admin sees is linked
    for path in re.findall(r'href="(/(?:catalog|loans|wants)/\d+)"', html):
        assert client.get(path).status_code == 200, path  # every link opens


def test_the_trail_asks_once_for_each_kind_of_subject_whether_the_reader_may_open_it(app, client, auth, world,
                                                                                    factory):
    for n in range(5):  # five more listings on the page, each with its events
        factory.listing_published(by=world["manager"], title=f"Bord {n}", quantity=1, lend=True)
    auth.login(world["admin"])
    with statements_on(app.extensions["sharing.engine"]) as statements:
        html = trail(client, world["ystad"])
    assert html.count('href="/catalog/') >= 5
    read_listings = [s for s in statements if re.search(r"FROM listing\b(?! ?_)", s)]
    assert len(read_listings) == 1, read_listings


def test_no_other_municipalitys_trail_is_ever_shown(client, auth, world, factory):
    auth.login(world["admin"])
    assert client.get(f"/admin/municipalities/{world['skurup'].id}/audit").status_code == 403
    assert client.get(f"/admin/municipalities/{world['skurup'].id}/audit.csv").status_code == 403
    # Filtering one's own trail by another municipality's listing or person finds nothing.
    assert rows(trail(client, world["ystad"], subject_type="listing", subject_id=world["skurup_listing"].id)) == []
    assert rows(trail(client, world["ystad"], actor_id=world["skurup_manager"].id)) == []
    download = client.get(f"/admin/municipalities/{world['ystad'].id}/audit.csv").get_data(as_text=True)
    assert "Lena Lokal" in download and "Sven Skurupsson" not in download and "Hemliga bord" not in download
    auth.logout()
    # A system administrator reads any municipality's trail.
    auth.login(factory.user(world["ystad"], Role.SYSTEM_ADMIN))
    skurup = rows(trail(client, world["skurup"]))
    assert len(skurup) == 2 and all("Sven Skurupsson" in row for row in skurup)


@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.FACILITY_MANAGER, Role.SUSTAINABILITY_OFFICER])
def test_other_roles_are_refused(client, auth, world, factory, role):
    auth.login(factory.user(world["ystad"], role))
    assert client.get(f"/admin/municipalities/{world['ystad'].id}/audit").status_code == 403


def test_the_trail_is_filtered_by_kind_subject_who_and_swedish_days(client, auth, world, factory, db):
    other = factory.user(world["ystad"], Role.FACILITY_MANAGER, name="Olle Annan")
    second = factory.listing(by=other, title="Bord", now=at("2026-07-01T22:30:00"))  # 00:30 on 2 July in Sweden
    auth.login(world["admin"])
    ystad = world["ystad"]
    published = rows(trail(client, ystad, kind=catalog_events.LISTING_PUBLISHED))
    assert len(published) == 1 and "Annonsen publicerades" in published[0]
    assert len(rows(trail(client, ystad, kind="catalog"))) == 5  # the whole domain
    assert len(rows(trail(client, ystad, subject_type="listing", subject_id=second.id))) == 1
    by_other = rows(trail(client, ystad, actor_id=other.id))
    assert len(by_other) == 1 and "Olle Annan" in by_other[0]
    # Days are Swedish days, both ends included.
    assert len(rows(trail(client, ystad, date_from="2026-07-02"))) == 2
    assert len(rows(trail(client, ystad, date_from="2026-07-01", date_to="2026-07-01"))) == 3
    html = trail(client, ystad, date_from="2026-07-02", date_to="2026-07-01")
    assert "Den sista dagen kommer före den första: välj samma dag" in html
    assert len(rows(html)) == 2  # only the valid end applies
    # A filter the trail cannot read filters nothing, and breaks nothing.
    assert len(rows(trail(client, ystad, kind="'; drop table--", subject_id="x", actor_id="-1"))) == 5


def test_the_trail_is_paged_and_unknown_events_read_as_their_name(client, auth, world, db):
    now = at("2026-08-01T12:00:00")
    for n in range(51):
        events.record(db, "logistics.route.planned", subject_type="route", subject_id=n + 1, now=now,
                      actor_id=world["manager"].id, municipality_id=world["ystad"].id, payload={"stops": n})
    # A described name whose payload does not hold what its description expects still shows.
    events.record(db, catalog_events.LISTING_PUBLISHED, subject_type="listing", subject_id=world["listing"].id,
                  now=now, municipality_id=world["ystad"].id, payload={"odd": True})
    db.commit()
    auth.login(world["admin"])
    first = trail(client, world["ystad"])
    assert "56 händelser" in first and len(rows(first)) == 50
    assert "<code>logistics.route.planned</code>" in first
    assert "Sida 1 av 2" in first and 'page=2' in first
    second = rows(trail(client, world["ystad"], page=2))
    assert len(second) == 6
    filtered = rows(trail(client, world["ystad"], kind="logistics.route.planned", page=2))
    assert len(filtered) == 1 and "route 1" in filtered[0]
    odd = rows(trail(client, world["ystad"], kind=catalog_events.LISTING_PUBLISHED))
    assert odd[0].startswith("2026-08-01 14:00 Tjänsten Annonsen publicerades") and odd[0].endswith("–")


def test_an_erased_or_missing_account_is_not_named(client, auth, world, factory, db):
    leaver = factory.user(world["ystad"], name="Lämnad Person")
    events.record(db, "catalog.listing.saved", subject_type="listing", subject_id=world["listing"].id,
                  now=utcnow(), actor_id=leaver.id, municipality_id=world["ystad"].id,
                  payload={"created": False, "status": "draft", "changes": {"contact_user_id": [leaver.id, None]}})
    db.commit()
    db.delete(db.get(User, leaver.id))
    db.commit()
    erased = factory.user(world["ystad"], name="Raderad Person")
    events.record(db, "catalog.listing.saved", subject_type="listing", subject_id=world["listing"].id,
                  now=at("2026-07-03T00:00:00"), actor_id=erased.id, municipality_id=world["ystad"].id,
                  payload={"created": False, "status": "draft", "changes": {}})
    personal_data.erase_user(db, user=erased, by=world["admin"], now=utcnow())
    db.commit()
    auth.login(world["admin"])
    shown = rows(trail(client, world["ystad"]))
    assert not any("Lämnad Person" in row or "Raderad Person" in row for row in shown)
    assert "Borttagen användare Annonsen sparades" in shown[1] and "Kontakt: Borttagen användare → –" in shown[1]
    assert "2026-07-03 02:00 Borttagen användare Annonsen sparades" in shown[2]


def test_a_living_account_is_named_for_what_it_did_before_it_was_made(client, auth, world, factory, db):
    # The demo's history, say, is dated before its accounts were made.
    newcomer = factory.user(world["ystad"], name="Ny Person")
    assert newcomer.created_at > at("2025-12-31T00:00:00")
    events.record(db, "catalog.listing.saved", subject_type="listing", subject_id=world["listing"].id,
                  now=at("2025-12-31T00:00:00"), actor_id=newcomer.id, municipality_id=world["ystad"].id,
                  payload={"created": False, "status": "draft", "changes": {"contact_user_id": [None, newcomer.id]}})
    db.commit()
    auth.login(world["admin"])
    shown = rows(trail(client, world["ystad"]))
    assert shown[-1].startswith("2025-12-31 01:00 Ny Person Annonsen sparades")
    assert shown[-1].endswith("Kontakt: – → Ny Person")


def test_the_download_is_the_filtered_trail_with_no_cell_a_formula(client, auth, world, factory, db):
    prankster = factory.manager(world["ystad"], name="=HYPERLINK(\"https://example.com\")")
    factory.listing(by=prankster, title="-1+1")
    auth.login(world["admin"])
    response = client.get(f"/admin/municipalities/{world['ystad'].id}/audit.csv",
                          query_string={"kind": catalog_events.LISTING_SAVED})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig")), delimiter=";"))
    assert table[0] == ["När", "Vem", "Vad som hände", "Händelsekod", "Gäller", "Nummer", "Vad som ändrades"]
    assert len(table) == 1 + 3  # the saved events only
    assert table[1][:6] == [table[1][0], "'=HYPERLINK(\"https://example.com\")", "Annonsen sparades",
                            "catalog.listing.saved", "Annons", table[1][5]]
    assert table[3][0] == "2026-07-01 10:00:00" and table[2][6] == "Rubrik: Stolar → Kontorsstolar; " \
        "Antal likadana exemplar: 10 → 8"


def test_every_catalog_event_reads_in_swedish(app):
    names = [value for name, value in vars(catalog_events).items() if name.isupper() and isinstance(value, str)]
    names += list(catalog_events.LISTING_STATUS.values())
    with app.test_request_context(headers={"Accept-Language": "sv"}):
        for name in names:
            label = event_label(name)
            assert label is not None, f"{name} has no label in the audit trail"
            with force_locale("en"):
                english = str(label.label)
            assert str(label.label) != english, f"{name}'s label is not in Swedish"


def test_every_logistics_event_reads_in_swedish_a_driven_route_too(app):
    from sharing.events import DomainEvent, subject_label
    from sharing.logistics import events as logistics_events
    from sharing.logistics.plans import driving

    names = [value for name, value in vars(logistics_events).items()
             if name.isupper() and not name.endswith("SUBJECT") and isinstance(value, str)]
    names.append(driving.ROUTE_COMPLETED)
    with app.test_request_context(headers={"Accept-Language": "sv"}):
        for name in names:
            label = event_label(name)
            assert label is not None, f"{name} has no label in the audit trail"
            with force_locale("en"):
                english = str(label.label)
            assert str(label.label) != english, f"{name}'s label is not in Swedish"
        route = subject_label(driving.ROUTE_SUBJECT)
        assert route is not None and str(route.label) == "Rutt"
        completed = event_label(driving.ROUTE_COMPLETED)
        assert completed is not None and completed.details is not None
        event = DomainEvent(name=driving.ROUTE_COMPLETED, occurred_at=utcnow(), subject_type=driving.ROUTE_SUBJECT,
                            subject_id=1, payload={"day": "2026-12-07", "km": 23.4, "co2e_kg": 1.75})
        assert completed.details(None, event) == [("Dag", "2026-12-07"), ("Körd sträcka", "23,4 km"),
                                                  ("Utsläpp", "1,75 kg CO2e")]


def account_rows(client, municipality):
    return rows(trail(client, municipality, kind="accounts"))


def test_an_admins_changes_to_peoples_accounts_are_in_the_trail(client, auth, factory, db):
    ystad = factory.municipality("Ystad", "1286")
    admin = factory.user(ystad, Role.MUNICIPALITY_ADMIN, name="Anna Admin")
    auth.login(admin)
    path = f"/admin/municipalities/{ystad.id}/users/new"
    response = client.post(path, data={"name": "Karin Nilsson", "email": "karin@ystad.example",
                                       "roles": ["facility_manager", "employee"],
                                       "csrf_token": csrf_token(client, path)})
    assert response.status_code == 302
    karin = db.scalar(select(User).where(User.email == "karin@ystad.example"))
    assert account_rows(client, ystad)[0].endswith(
        f"Anna Admin En person bjöds in Användare {karin.id} Konto: Karin Nilsson Roller: Medarbetare, "
        "Lokalförvaltare")

    path = f"/admin/municipalities/{ystad.id}/users/{karin.id}"
    token = csrf_token(client, path)
    response = client.post(path, data={"name": "Karin Nilsson", "roles": ["employee", "driver"],
                                       "csrf_token": token})  # no "active": deactivated
    assert response.status_code == 302
    deactivated, roles_changed = account_rows(client, ystad)[:2]
    assert deactivated.endswith(f"Anna Admin En person inaktiverades Användare {karin.id} Konto: Karin Nilsson")
    assert roles_changed.endswith(f"Anna Admin En persons roller ändrades Användare {karin.id} "
                                  "Konto: Karin Nilsson Roller: Medarbetare, Lokalförvaltare → Medarbetare, Chaufför")
    client.post(path, data={"name": "Karin Nilsson", "roles": ["employee", "driver"], "active": "y",
                            "csrf_token": token})
    assert account_rows(client, ystad)[0].endswith(
        f"Anna Admin En person aktiverades igen Användare {karin.id} Konto: Karin Nilsson")
    assert len(account_rows(client, ystad)) == 4  # a save that changes nothing records nothing
    school = factory.unit(ystad, "Österportskolan")
    client.post(path, data={"name": "Karin Nilsson Berg", "roles": ["employee", "driver"], "active": "y",
                            "unit_id": str(school.id), "csrf_token": token})
    assert account_rows(client, ystad)[0].endswith(
        f"Anna Admin En persons namn eller enhet ändrades Användare {karin.id} Konto: Karin Nilsson Berg "
        "Ändrat: Namn, Enhet Enhet: – → Österportskolan")
    changed = db.scalar(select(events.DomainEvent).where(events.DomainEvent.name == "accounts.user.details_changed"))
    assert "Karin" not in str(changed.payload)  # which changed, never the name itself

    colleague = factory.user(ystad, name="Kalle Kollega")
    colleague.totp_secret = pyotp.random_base32()
    db.commit()
    base = f"/admin/municipalities/{ystad.id}/users/{colleague.id}"
    client.post(base + "/end-sessions", data={"csrf_token": token})
    client.post(base + "/reset-two-step", data={"csrf_token": token})
    reset, logged_out = account_rows(client, ystad)[:2]
    assert reset.endswith(f"Anna Admin En persons tvåstegsverifiering återställdes Användare {colleague.id} "
                          "Konto: Kalle Kollega")
    assert logged_out.endswith(f"Anna Admin En person loggades ut överallt Användare {colleague.id} "
                               "Konto: Kalle Kollega")


def test_how_a_municipality_is_set_up_is_in_its_trail_which_fields_never_their_values(client, auth, factory, db):
    from sharing.accounts.models import Municipality, Site, Unit

    ystad = factory.municipality("Ystad", "1286")
    auth.login(factory.user(ystad, Role.MUNICIPALITY_ADMIN, name="Anna Admin"))
    base = f"/admin/municipalities/{ystad.id}"
    token = csrf_token(client, base + "/settings")
    client.post(base + "/settings", data={"contact_email": "kontakt@ystad.example", "csrf_token": token})
    client.post(base + "/units/new", data={"name": "Östra skolan", "active": "y", "csrf_token": token})
    unit = db.scalar(select(Unit).where(Unit.name == "Östra skolan"))
    client.post(f"{base}/units/{unit.id}", data={"name": "Östra skolan F–6", "active": "y", "csrf_token": token})
    site = {"name": "Östra förrådet", "street_address": "Industrigatan 4", "postal_code": "271 39", "locality": "Ystad",
            "latitude": "55.43", "longitude": "13.83", "opening_hours": "mån–fre 07:00–16:00", "access_notes": "",
            "active": "y", "csrf_token": token}
    assert client.post(base + "/sites/new", data=site).status_code == 302
    saved = db.scalar(select(Site).where(Site.name == "Östra förrådet"))
    client.post(f"{base}/sites/{saved.id}", data={**site, "opening_hours": "mån–fre 07:00–15:00",
                                                  "access_notes": "Ring på"})
    client.post(f"{base}/sites/{saved.id}", data={**site, "opening_hours": "mån–fre 07:00–15:00",
                                                  "access_notes": "Ring på"})  # nothing changes: nothing recorded
    shown = account_rows(client, ystad)
    assert [row.split(" Anna Admin ", 1)[1] for row in shown[:5]] == [
        f"En fastighet ändrades Fastighet {saved.id} Ändrat: Öppettider, Information om tillträde",
        f"En fastighet lades till Fastighet {saved.id} –",  # nothing changed: it is new
        f"En enhet ändrades Enhet {unit.id} Ändrat: Namn",
        f"En enhet lades till Enhet {unit.id} –",
        f"Kommunens inställningar ändrades Kommun {ystad.id} Ändrat: Kontakt"]
    recorded = db.scalars(select(events.DomainEvent).where(events.DomainEvent.name.like("accounts.%"))).all()
    assert not any("kontakt@" in str(event.payload) or "Ring på" in str(event.payload) for event in recorded)

    # A municipality that joins begins its trail so, by the system administrator who added it.
    auth.logout()
    auth.login(factory.user(ystad, Role.SYSTEM_ADMIN, name="Sara Systemsson"))
    client.post("/admin/municipalities/new", data={"code": "1265", "name": "Sjöbo",
                                                   "csrf_token": csrf_token(client, "/admin/municipalities/new")})
    sjobo = db.scalar(select(Municipality).where(Municipality.code == "1265"))
    assert account_rows(client, sjobo)[0].endswith(f"Sara Systemsson Kommunen anslöt Kommun {sjobo.id} Kommunkod: 1265")


def test_a_users_own_password_and_two_step_changes_are_in_the_trail(client, auth, factory, db):
    ystad = factory.municipality("Ystad", "1286")
    admin = factory.user(ystad, Role.MUNICIPALITY_ADMIN)
    user = factory.user(ystad, name="Olle Egen")
    auth.login(user)
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "password": "gul-cykel-under-kastanjen",
        "csrf_token": csrf_token(client, "/account")})
    assert response.status_code == 302
    secret = enrol(client, db, user)
    later = utcnow() + timedelta(seconds=30)
    response = client.post("/account/two-step/off", data={
        "current_password": "gul-cykel-under-kastanjen", "code": pyotp.TOTP(secret).at(later),
        "csrf_token": csrf_token(client, "/account/two-step")})
    assert response.status_code == 302
    auth.logout()
    auth.login(admin)
    shown = [row.split(" ", 2)[2] for row in account_rows(client, ystad)]
    assert shown == [f"Olle Egen Tvåstegsverifiering stängdes av Användare {user.id} –",
                     f"Olle Egen Återställningskoder skapades Användare {user.id} Återställningskoder kvar: 10",
                     f"Olle Egen Tvåstegsverifiering slogs på Användare {user.id} –",
                     f"Olle Egen Lösenordet byttes Användare {user.id} –"]
    assert not any("kastanjen" in str(event.payload) or secret in str(event.payload)
                   for event in db.scalars(select(events.DomainEvent)))


def test_a_password_chosen_from_a_mailed_link_is_in_the_trail(client, auth, factory, db, mailbox):
    """A new password by the forgotten-password link, the case the trail matters most for."""
    ystad = factory.municipality("Ystad", "1286")
    admin = factory.user(ystad, Role.MUNICIPALITY_ADMIN)
    user = factory.user(ystad, name="Olle Glömsk")
    client.post("/password/forgot", data={"email": user.email, "csrf_token": csrf_token(client, "/password/forgot")})
    path = mailbox.open_link(client, mailbox.messages[-1])
    assert client.post(path, data={"password": "gul-cykel-under-kastanjen",
                                   "csrf_token": csrf_token(client, path)}).status_code == 302
    auth.login(admin)
    shown = [row.split(" ", 2)[2] for row in account_rows(client, ystad)]
    assert shown == [f"Olle Glömsk Lösenord valt via en länk i e-post Användare {user.id} Länk: Nytt lösenord"]


def test_every_accounts_event_reads_in_swedish(app):
    from sharing.accounts.labels import ACCOUNT_EVENTS

    with app.test_request_context(headers={"Accept-Language": "sv"}):
        for name in ACCOUNT_EVENTS:
            label = event_label(name)
            assert label is not None, f"{name} has no label in the audit trail"
            with force_locale("en"):
                english = str(label.label)
            assert str(label.label) != english, f"{name}'s label is not in Swedish"
