"""Searching by dates leaves out what is booked then, and marks what is partly booked: the
catalog's holds (loans, take-overs) against the period searched, on the pages and in the API."""

from datetime import date

import pytest

from sharing.accounts.models import Role
from sharing.catalog.holds import rules as holds
from sharing.catalog.holds.models import HoldPurpose
from sharing.catalog.listings import rules as listings
from sharing.catalog.listings.models import Condition, Visibility
from sharing.clock import utcnow
from sharing.errors import DomainError

MAY = {day: date(2031, 5, day) for day in range(1, 32)}  # MAY[3] is the 3rd of May 2031


@pytest.fixture
def s(factory):
    ystad, skurup = factory.municipality("Ystad", "1286"), factory.municipality("Skurup", "1264")
    return {"ystad": ystad, "site": factory.site(ystad), "manager": factory.manager(ystad),
            "chairs": factory.category("Kontorsstol", name_en="Office chair"),
            "employee": factory.user(ystad, Role.EMPLOYEE), "skurup_employee": factory.user(skurup, Role.EMPLOYEE)}


def listing(factory, s, title, quantity=1, **overrides):
    return factory.listing_published(site=s["site"], category=s["chairs"], by=s["manager"], title=title,
                                     quantity=quantity, lend=True, condition=Condition.GOOD,
                                     visibility=Visibility.PARTNERS, **overrides)


def hold(db, thing, first, last, quantity=1, purpose=HoldPurpose.LOAN):
    made = holds.hold(db, listing_id=thing.id, quantity=quantity, period=holds.days(first, last), purpose=purpose,
                      holder="test", now=utcnow())
    db.commit()
    return made


def found(db, s, first=None, last=None, q="stol", today=MAY[1], **filters):
    return listings.find(db, viewer=s["employee"], filters=listings.Filters(
        q=q, available_from=first, available_until=last, today=today, now=utcnow(), **filters))


def titles(db, s, first=None, last=None, **filters):
    return sorted(item.title for item in found(db, s, first, last, **filters).items)


def test_a_fully_booked_listing_is_left_out_inside_its_bookings_and_found_outside(db, factory, s):
    booked = listing(factory, s, "Stol bokad", quantity=2)
    listing(factory, s, "Stol fri")
    hold(db, booked, MAY[10], MAY[20], quantity=2)
    assert titles(db, s, MAY[12], MAY[14]) == ["Stol fri"]
    assert titles(db, s, MAY[5], MAY[10]) == ["Stol fri"]  # overlaps its first day
    assert titles(db, s, MAY[20], MAY[25]) == ["Stol fri"]  # and its last
    assert titles(db, s, MAY[12]) == ["Stol fri"]  # from a day on: that day
    assert titles(db, s, MAY[3], MAY[9]) == ["Stol bokad", "Stol fri"]
    assert titles(db, s, MAY[21], MAY[30]) == ["Stol bokad", "Stol fri"]
    assert titles(db, s, MAY[21]) == ["Stol bokad", "Stol fri"]
    assert titles(db, s, None, MAY[9]) == ["Stol bokad", "Stol fri"]  # until a day: from today on
    assert titles(db, s, None, MAY[10], today=MAY[1]) == ["Stol fri"]


def test_what_is_free_throughout_counts_not_what_is_booked_at_any_time(db, factory, s):
    chairs = listing(factory, s, "Stolar", quantity=3)
    hold(db, chairs, MAY[10], MAY[12])
    hold(db, chairs, MAY[11], MAY[20])
    assert titles(db, s, MAY[1], MAY[30]) == ["Stolar"]  # at most two held at once
    hold(db, chairs, MAY[12], MAY[12])
    assert titles(db, s, MAY[1], MAY[30]) == []  # all three on the 12th
    assert titles(db, s, MAY[13], MAY[30]) == ["Stolar"]
    assert titles(db, s, MAY[1], MAY[11]) == ["Stolar"]


def test_without_dates_nothing_changes(db, factory, s):
    booked = listing(factory, s, "Stol bokad")
    hold(db, booked, MAY[1], MAY[31])
    results = found(db, s)
    assert [item.title for item in results.items] == ["Stol bokad"] and results.free == {}


def test_a_partly_booked_listing_is_found_and_marked(db, factory, client, auth, s):
    chairs = listing(factory, s, "Stolar", quantity=5)
    single = listing(factory, s, "Stol ensam")
    hold(db, chairs, MAY[10], MAY[20], quantity=3)
    results = found(db, s, MAY[15], MAY[25])
    assert results.free == {chairs.id: 2, single.id: 1}
    assert found(db, s, MAY[21], MAY[25]).free == {chairs.id: 5, single.id: 1}
    auth.login(s["employee"])
    page = client.get("/catalog/?q=stol&available_from=2031-05-15&available_until=2031-05-25").get_data(as_text=True)
    card = page.split("Stolar</a>")[1].split("</li>")[0]
    assert "Delvis bokad de dagarna: 2 lediga hela tiden" in card
    assert "Delvis bokad" not in page.split("Stol ensam</a>")[1].split("</li>")[0]
    page = client.get("/catalog/?q=stol&available_from=2031-05-21&available_until=2031-05-25").get_data(as_text=True)
    assert "Stolar" in page and "Delvis bokad" not in page
    assert "Delvis bokad" not in client.get("/catalog/?q=stol").get_data(as_text=True)


def test_back_to_back_holds_are_never_counted_together(db, factory, s):
    # One piece lent to one unit, then to the next: booked every day of May 10-20, left out.
    single = listing(factory, s, "Stol ensam")
    hold(db, single, MAY[10], MAY[14])
    hold(db, single, MAY[15], MAY[20])
    # Two pieces, each lent for one half: one is held at a time, the other is free throughout.
    pair = listing(factory, s, "Stolpar", quantity=2)
    hold(db, pair, MAY[10], MAY[14])
    hold(db, pair, MAY[15], MAY[20])
    results = found(db, s, MAY[10], MAY[20])
    assert [item.title for item in results.items] == ["Stolpar"] and results.free == {pair.id: 1}
    assert titles(db, s, MAY[14], MAY[15]) == ["Stolpar"]
    assert titles(db, s, MAY[21], MAY[22]) == ["Stol ensam", "Stolpar"]


def test_released_holds_free_their_pieces_and_a_take_over_holds_them_for_good(db, factory, s):
    lent = listing(factory, s, "Stol lånad")
    given = listing(factory, s, "Stol given")
    loan = hold(db, lent, MAY[10], MAY[20])
    hold(db, given, MAY[10], None, purpose=HoldPurpose.TAKE_OVER)
    assert titles(db, s, MAY[12]) == []
    assert titles(db, s, MAY[3], MAY[9]) == ["Stol given", "Stol lånad"]
    assert titles(db, s, date(2040, 1, 1)) == ["Stol lånad"]
    holds.release(db, hold_id=loan.id, now=utcnow())
    db.commit()
    assert titles(db, s, MAY[12]) == ["Stol lånad"]


def test_paging_and_the_total_count_leave_out_the_booked(db, factory, s):
    made = [listing(factory, s, f"Stol {n}") for n in range(7)]
    for booked in made[1::2]:  # 1, 3, 5
        hold(db, booked, MAY[10], MAY[20])
    first = found(db, s, MAY[11], MAY[12], sort="title", per_page=2)
    last = found(db, s, MAY[11], MAY[12], sort="title", per_page=2, page=2)
    assert (first.total, first.pages, first.more) == (4, 2, False)
    assert [item.title for item in first.items + last.items] == ["Stol 0", "Stol 2", "Stol 4", "Stol 6"]
    assert listings.map_points(db, viewer=s["employee"], filters=listings.Filters(
        q="stol", available_from=MAY[11], available_until=MAY[12], now=utcnow())).points[0].count == 4


def test_the_api_leaves_out_the_booked_and_says_what_is_free(db, factory, client, auth, s):
    chairs = listing(factory, s, "Stolar", quantity=5)
    single = listing(factory, s, "Stol ensam")
    hold(db, chairs, MAY[10], MAY[20], quantity=3)
    hold(db, single, MAY[10], MAY[20])
    auth.login(s["skurup_employee"])
    answer = client.get("/api/v1/listings?q=stol&available_from=2031-05-15&available_until=2031-05-25").get_json()
    assert [(item["title"], item["free_pieces"]) for item in answer["items"]] == [("Stolar", 2)]
    assert answer["total"] == 1
    answer = client.get("/api/v1/listings?q=stol&sort=title").get_json()
    assert [(item["title"], item["free_pieces"]) for item in answer["items"]] == [("Stol ensam", None),
                                                                                  ("Stolar", None)]
    answer = client.get("/api/v1/listings?q=stol&sort=title&available_from=2031-05-21").get_json()
    assert [(item["title"], item["free_pieces"]) for item in answer["items"]] == [("Stol ensam", 1), ("Stolar", 5)]


def test_kept_results_follow_the_holds_for_every_municipality(db, factory, client, auth, s):
    chairs = listing(factory, s, "Stolar", quantity=5)
    address = "/catalog/?q=stol&available_from=2031-05-15&available_until=2031-05-25"
    for reader in ("employee", "skurup_employee"):
        auth.logout()
        auth.login(s[reader])
        assert "Delvis bokad" not in client.get(address).get_data(as_text=True)
    hold(db, chairs, MAY[10], MAY[20], quantity=4)
    for reader in ("employee", "skurup_employee"):
        auth.logout()
        auth.login(s[reader])
        assert "Delvis bokad de dagarna: 1 ledigt hela tiden" in client.get(address).get_data(as_text=True)
    hold(db, chairs, MAY[20], MAY[20])
    for reader in ("employee", "skurup_employee"):
        auth.logout()
        auth.login(s[reader])
        assert "Stolar" not in client.get(address).get_data(as_text=True).split("<main", 1)[1]


@pytest.mark.parametrize("dates", ["available_from=9999-12-31", "available_from=0001-01-01",
                                   "available_from=2031-05-15&available_until=9999-12-31"])
def test_days_beyond_the_calendar_are_refused_not_a_server_error(db, factory, client, auth, s, dates):
    listing(factory, s, "Stolar", quantity=5)
    auth.login(s["skurup_employee"])
    answer = client.get(f"/api/v1/listings?q=stol&{dates}")
    assert answer.status_code == 400 and "2000-01-01 to 2999-12-31" in answer.get_json()["detail"]
    page = client.get(f"/catalog/?q=stol&{dates}")
    assert page.status_code == 200
    assert "Välj ett datum från 2000-01-01 till 2999-12-31." in page.get_data(as_text=True)
    with pytest.raises(DomainError):
        holds.days(date(9999, 12, 31), None)
