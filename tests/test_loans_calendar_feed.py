"""Each user's calendar feed: a secret address their calendar app reads without signing in,
with their bookings, pickups, deliveries and due dates as whole Swedish days."""

import hashlib
import re
from datetime import date, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from sharing.accounts.models import Role
from sharing.catalog.listings.models import Condition
from sharing.clock import today_in_sweden, utcnow
from sharing.loans.calendar_feed.models import CalendarFeed
from sharing.loans.requests import rules as loans
from sharing.loans.requests.models import HandoverMethod, RequestKind
from sharing.loans.requests.rules import RequestDetails
from tests.conftest import Auth, csrf_token

TODAY = today_in_sweden(utcnow())
FIRST = TODAY + timedelta(days=3)


@pytest.fixture
def s(factory):
    ystad, skurup = factory.municipality("Ystad", "1286"), factory.municipality("Skurup", "1264")
    ystad_site, skurup_site = factory.site(ystad), factory.site(skurup, locality="Skurup")
    unit = factory.unit(skurup, "Skurups skola")
    manager = factory.manager(ystad, name="Maja Förvaltare")
    chairs = factory.listing_published(site=ystad_site, by=manager, title="Kontorsstolar", quantity=24,
                                       lend=True, give_away=True)
    return {"ystad": ystad, "skurup": skurup, "skurup_site": skurup_site, "manager": manager, "chairs": chairs,
            "employee": factory.user(skurup, Role.EMPLOYEE, unit=unit, name="Erik Lånare"),
            "colleague": factory.user(skurup, Role.EMPLOYEE, unit=unit, name="Karin Kollega"),
            "skurup_manager": factory.manager(skurup)}


def ask(db, s, *, by, quantity=6, first=FIRST, days=14, kind=RequestKind.BORROW, transport=False):
    details = RequestDetails(kind=kind, quantity=quantity, first_day=first,
                             last_day=first + timedelta(days=days - 1) if kind == RequestKind.BORROW else None,
                             delivery_site_id=s["skurup_site"].id, transport_needed=transport)
    request = loans.ask(db, listing_id=s["chairs"].id, details=details, by=by, now=utcnow())
    db.commit()
    return request


def approve(db, s, request):
    loans.approve(db, request, by=s["manager"], now=utcnow())
    db.commit()


def hand_over(db, s, request, method=HandoverMethod.PICKUP):
    loans.hand_over(db, request, condition=Condition.GOOD, method=method, by=s["manager"], now=utcnow())
    db.commit()


def feed_address(app, user) -> str:
    """Make the user's calendar address on its page, signed in as they are, and read it off the page."""
    client = app.test_client()
    assert Auth(client).login(user).status_code == 302
    response = client.post("/loans/calendar/", data={"csrf_token": csrf_token(client, "/loans/calendar/")})
    assert response.status_code == 200
    found = re.search(r'<code class="token">(http://delning\.test/loans/calendar/[A-Za-z0-9_-]+\.ics)</code>',
                      response.get_data(as_text=True))
    assert found, "the new address is shown on the page"
    return found.group(1)


def fetch(app, address):
    """The feed as a calendar app fetches it: no session, no cookie."""
    return app.test_client().get(address.removeprefix("http://delning.test"))


def events_of(app, address) -> dict[str, dict]:
    response = fetch(app, address)
    assert response.status_code == 200
    calendar = Calendar.from_ical(response.data)
    return {str(event["UID"]): {"summary": str(event["SUMMARY"]), "start": event.decoded("DTSTART"),
                                "end": event.decoded("DTEND"), "url": str(event["URL"]),
                                "status": str(event["STATUS"])}
            for event in calendar.walk("VEVENT")}


def test_a_requester_s_feed_holds_their_booking_pickup_and_due_date(app, db, s):
    request = ask(db, s, by=s["employee"])
    approve(db, s, request)
    hand_over(db, s, request)
    address = feed_address(app, s["employee"])
    response = fetch(app, address)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "Set-Cookie" not in response.headers
    calendar = Calendar.from_ical(response.data)
    assert str(calendar["VERSION"]) == "2.0" and str(calendar["X-WR-TIMEZONE"]) == "Europe/Stockholm"

    events = events_of(app, address)
    n = request.id
    assert sorted(events) == [f"loans-request-{n}-booking@delning", f"loans-request-{n}-due@delning",
                              f"loans-request-{n}-handover@delning"]
    booking, pickup, due = (events[f"loans-request-{n}-{part}@delning"] for part in ("booking", "handover", "due"))
    last = FIRST + timedelta(days=13)
    assert (booking["start"], booking["end"]) == (FIRST, last + timedelta(days=1))
    assert (pickup["start"], pickup["end"]) == (FIRST, FIRST + timedelta(days=1))
    assert (due["start"], due["end"]) == (last, last + timedelta(days=1))
    # In the user's language (Swedish unless they chose otherwise), naming the listing and the owner.
    assert booking["summary"] == "Lån av 6 st. ”Kontorsstolar” från Ystad"
    assert pickup["summary"] == "Hämta 6 st. ”Kontorsstolar” i Ystad"
    assert due["summary"] == "Lämna tillbaka 6 st. ”Kontorsstolar” till Ystad"
    assert {event["url"] for event in events.values()} == {f"http://delning.test/loans/{n}"}
    assert {event["status"] for event in events.values()} == {"CONFIRMED"}
    # Every DTSTAMP is a UTC instant; no person is named, no address given.
    assert all(event.decoded("DTSTAMP").utcoffset() == timedelta(0) for event in calendar.walk("VEVENT"))
    text = response.get_data(as_text=True)
    for person in (s["employee"], s["manager"]):
        assert person.name not in text and person.email not in text
    assert "@" not in text.replace("@delning", "")


def test_a_request_not_yet_decided_is_tentative_and_a_delivery_is_named_so(app, db, s):
    request = ask(db, s, by=s["employee"], transport=True)
    events = events_of(app, feed_address(app, s["employee"]))
    assert sorted(events) == [f"loans-request-{request.id}-booking@delning",
                              f"loans-request-{request.id}-handover@delning"]
    delivery = events[f"loans-request-{request.id}-handover@delning"]
    assert delivery["summary"] == "Leverans av 6 st. ”Kontorsstolar” från Ystad (inte godkänd än)"
    assert {event["status"] for event in events.values()} == {"TENTATIVE"}


def test_a_facility_manager_s_feed_holds_the_agreed_requests_for_their_listings(app, db, s):
    waiting = ask(db, s, by=s["employee"], quantity=1)
    approved = ask(db, s, by=s["employee"], quantity=2, first=FIRST + timedelta(days=20), days=3)
    approve(db, s, approved)
    lent = ask(db, s, by=s["colleague"], quantity=1, days=2)
    approve(db, s, lent)
    hand_over(db, s, lent, method=HandoverMethod.TRANSPORT)
    given = ask(db, s, by=s["colleague"], quantity=3, kind=RequestKind.TAKE_OVER)
    approve(db, s, given)
    s["manager"].locale = "en"
    db.add(s["manager"])
    db.commit()

    events = events_of(app, feed_address(app, s["manager"]))
    assert not any(f"-{waiting.id}-" in uid for uid in events)  # not yet approved: not theirs to plan
    assert sorted(events) == sorted([
        f"loans-request-{approved.id}-booking@delning", f"loans-request-{approved.id}-handover@delning",
        f"loans-request-{lent.id}-booking@delning", f"loans-request-{lent.id}-handover@delning",
        f"loans-request-{lent.id}-due@delning", f"loans-request-{given.id}-handover@delning"])
    # In the manager's language, naming the borrowing municipality, never the borrower.
    assert events[f"loans-request-{approved.id}-booking@delning"]["summary"] == \
        "Lent to Skurup: 2 pieces of “Kontorsstolar”"
    assert events[f"loans-request-{approved.id}-handover@delning"]["summary"] == \
        "Skurup picks up 2 pieces of “Kontorsstolar”"
    assert events[f"loans-request-{lent.id}-handover@delning"]["summary"] == \
        "Delivery of 1 piece of “Kontorsstolar” to Skurup"
    assert events[f"loans-request-{lent.id}-due@delning"]["summary"] == \
        "Due back from Skurup: 1 piece of “Kontorsstolar”"
    assert events[f"loans-request-{lent.id}-due@delning"]["start"] == FIRST + timedelta(days=1)
    # A take-over has a handover day, and neither a booking nor a due date.
    assert events[f"loans-request-{given.id}-handover@delning"]["start"] == FIRST


def test_another_user_s_requests_never_appear(app, db, s, factory):
    mine = ask(db, s, by=s["employee"], quantity=1)
    approve(db, s, mine)
    theirs = ask(db, s, by=s["colleague"], quantity=2)
    approve(db, s, theirs)
    # Another municipality's listing, asked for by someone there and approved.
    trelleborg = factory.municipality("Trelleborg", "1287")
    elsewhere = factory.listing_published(site=factory.site(trelleborg), quantity=5, lend=True)
    stranger = factory.user(trelleborg)
    other = loans.ask(db, listing_id=elsewhere.id, by=stranger, now=utcnow(), details=RequestDetails(
        kind=RequestKind.BORROW, quantity=1, first_day=FIRST, last_day=FIRST, delivery_site_id=elsewhere.site_id))
    loans.approve(db, other, by=factory._manager_of(elsewhere), now=utcnow())
    db.commit()

    assert {uid.split("-")[2] for uid in events_of(app, feed_address(app, s["employee"]))} == {str(mine.id)}
    # The requester's own municipality's facility managers decide nothing here: its requests are not theirs.
    assert events_of(app, feed_address(app, s["skurup_manager"])) == {}
    assert {uid.split("-")[2] for uid in events_of(app, feed_address(app, s["manager"]))} == \
        {str(mine.id), str(theirs.id)}


def test_cancelled_and_declined_requests_drop_out(app, db, s):
    cancelled, declined, kept = (ask(db, s, by=s["employee"], quantity=1) for _ in range(3))
    address = feed_address(app, s["employee"])
    assert {uid.split("-")[2] for uid in events_of(app, address)} == {str(r.id) for r in (cancelled, declined, kept)}
    loans.cancel(db, cancelled, by=s["employee"], now=utcnow())
    loans.decline(db, declined, reason="Behövs själva", by=s["manager"], now=utcnow())
    db.commit()
    assert {uid.split("-")[2] for uid in events_of(app, address)} == {str(kept.id)}


def test_only_the_secret_s_hash_is_kept_and_a_new_secret_replaces_the_old(app, db, s):
    first = feed_address(app, s["employee"])
    secret = first.rsplit("/", 1)[1].removesuffix(".ics")
    stored = db.scalars(select(CalendarFeed)).all()
    assert [(row.user_id, row.secret_hash) for row in stored] == \
        [(s["employee"].id, hashlib.sha256(secret.encode()).hexdigest())]
    second = feed_address(app, s["employee"])
    assert second != first
    assert fetch(app, first).status_code == 404
    assert fetch(app, second).status_code == 200
    assert db.scalar(select(CalendarFeed.secret_hash).execution_options(populate_existing=True)) != \
        stored[0].secret_hash


def test_a_revoked_address_and_an_unknown_one_are_the_same_404(app, db, s):
    address = feed_address(app, s["employee"])
    client = app.test_client()
    Auth(client).login(s["employee"])
    page = client.get("/loans/calendar/").get_data(as_text=True)
    assert "You have a calendar address" in page or "Du har en kalenderadress" in page
    assert address not in page  # shown once, when it was made
    response = client.post("/loans/calendar/revoke", data={"csrf_token": csrf_token(client, "/loans/calendar/")})
    assert response.status_code == 302
    assert db.scalars(select(CalendarFeed)).all() == []
    revoked = fetch(app, address)
    unknown_secret = "A" * 43
    unknown = fetch(app, f"/loans/calendar/{unknown_secret}.ics")
    assert revoked.status_code == unknown.status_code == 404
    # The same page, but for the address it repeats and its form's CSRF token.
    secret = address.rsplit("/", 1)[1].removesuffix(".ics")

    def page(response, secret):
        return re.sub(r'(name="csrf_token"[^>]*value=)"[^"]*"', r"\1", response.get_data(as_text=True)
                      ).replace(secret, "SECRET")
    assert page(revoked, secret) == page(unknown, unknown_secret)
    assert fetch(app, "/loans/calendar/" + "A" * 500 + ".ics").status_code == 404


def test_the_requests_page_leads_to_the_calendar_page(client, auth, s):
    auth.login(s["employee"])
    page = client.get("/loans/").get_data(as_text=True)
    assert 'href="/loans/calendar/"' in page and "Kalender i din kalenderapp" in page
    calendar_page = client.get("/loans/calendar/").get_data(as_text=True)
    assert "Du har ingen kalenderadress." in calendar_page


def test_days_are_whole_swedish_days_across_the_clock_change(app, db, s):
    # Summer time begins on Sunday 28 March 2027: the loan's days are still whole dates, and
    # its first day is the Swedish date, although it begins at 23:00 UTC the day before.
    first = date(2027, 3, 27)
    assert first > TODAY
    request = ask(db, s, by=s["employee"], first=first, days=3)
    assert request.starts_at == datetime.fromisoformat("2027-03-26T23:00:00+00:00")
    address = feed_address(app, s["employee"])
    events = events_of(app, address)
    booking = events[f"loans-request-{request.id}-booking@delning"]
    assert type(booking["start"]) is date and type(booking["end"]) is date
    assert (booking["start"], booking["end"]) == (date(2027, 3, 27), date(2027, 3, 30))
    text = fetch(app, address).get_data(as_text=True)
    assert "DTSTART;VALUE=DATE:20270327" in text and "DTEND;VALUE=DATE:20270330" in text


def test_a_booked_place_is_a_booking_alone(app, db, s, factory):
    hall = factory.listing_published(site=factory.site(s["ystad"]), by=s["manager"],
                                     category=factory.category("Lokaler", kind="place"), title="Idrottshall",
                                     quantity=1, lend=True)
    request = loans.ask(db, listing_id=hall.id, by=s["employee"], now=utcnow(), details=RequestDetails(
        kind=RequestKind.BORROW, quantity=1, first_day=FIRST, last_day=FIRST, delivery_site_id=s["skurup_site"].id))
    db.commit()
    approve(db, s, request)
    hand_over(db, s, request)
    events = events_of(app, feed_address(app, s["employee"]))
    # Nothing is fetched, delivered or returned: the place is used where it is.
    assert list(events) == [f"loans-request-{request.id}-booking@delning"]
    booking = events[f"loans-request-{request.id}-booking@delning"]
    assert (booking["start"], booking["end"]) == (FIRST, FIRST + timedelta(days=1))
    assert booking["summary"] == "Lån av 1 st. ”Idrottshall” från Ystad"
