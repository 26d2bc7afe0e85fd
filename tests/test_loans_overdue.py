"""A loan not back by its end keeps its pieces held until they are: nobody books or extends into
them, the listing page's calendar shows them booked, the search leaves them out or counts them,
and once they are back they are free again. A loan out but not yet past its end holds only to it."""

import re
from datetime import date, timedelta

import pytest

from sharing.accounts.models import Role
from sharing.catalog.holds import rules as holds
from sharing.clock import today_in_sweden, utcnow
from sharing.loans.requests import rules as loans
from sharing.loans.requests.models import HandoverMethod, RequestKind
from sharing.loans.requests.rules import RequestDetails
from tests.conftest import csrf_token

MONTH = timedelta(days=30)


@pytest.fixture
def s(factory):
    ystad, skurup = factory.municipality("Ystad", "1286"), factory.municipality("Skurup", "1264")
    manager = factory.manager(ystad)
    benches = factory.listing_published(site=factory.site(ystad), by=manager, title="Parkbänkar", quantity=3,
                                        lend=True)
    unit = factory.unit(skurup)
    return {"manager": manager, "benches": benches, "skurup_site": factory.site(skurup, locality="Skurup"),
            "employee": factory.user(skurup, Role.EMPLOYEE, unit=unit),
            "colleague": factory.user(skurup, Role.EMPLOYEE, unit=unit)}


def today() -> date:
    return today_in_sweden(utcnow())  # read when asked: a run that passes midnight asks no past day


def ask(db, s, quantity, first, last, *, by=None, now=None):
    request = loans.ask(db, listing_id=s["benches"].id, by=by or s["colleague"], now=now or utcnow(),
                        details=RequestDetails(kind=RequestKind.BORROW, quantity=quantity, first_day=first,
                                               last_day=last, delivery_site_id=s["skurup_site"].id))
    db.commit()
    return request


def lent(db, s, quantity, first, last, *, now=None):
    """Asked, approved and handed over, all ``now``."""
    now = now or utcnow()
    request = ask(db, s, quantity, first, last, by=s["employee"], now=now)
    loans.approve(db, request, by=s["manager"], now=now)
    loans.hand_over(db, request, condition=None, method=HandoverMethod.PICKUP, by=s["manager"], now=now)
    db.commit()
    return request


def overdue(db, s, quantity):
    """Lent nine days ago for a week: due back two days ago, and not back."""
    then = utcnow() - timedelta(days=9)
    first = today_in_sweden(then)
    return lent(db, s, quantity, first, first + timedelta(days=6), now=then)


def refused(db, s, quantity, first, last) -> holds.NotFree:
    with pytest.raises(holds.NotFree) as refusal:
        ask(db, s, quantity, first, last)
    db.rollback()
    return refusal.value


def test_overdue_pieces_are_booked_neither_from_today_nor_later(db, s):
    overdue(db, s, 2)
    day = today()
    assert refused(db, s, 2, day, day + timedelta(days=2)).free == 1
    assert refused(db, s, 2, day + MONTH, day + MONTH + timedelta(days=3)).free == 1
    ask(db, s, 1, day, day + timedelta(days=2))  # the third piece is free
    ask(db, s, 1, day + MONTH, day + MONTH + timedelta(days=3))
    refusal = refused(db, s, 1, day + MONTH, day + MONTH)  # the last piece, next month: taken
    assert refusal.free == 0 and "No piece is free for those dates." in str(refusal)


def test_overdue_pieces_are_not_free_for_an_extension(db, s):
    overdue(db, s, 1)
    day = today()
    running = lent(db, s, 2, day, day + timedelta(days=6))
    ask(db, s, 1, day + timedelta(days=7), day + timedelta(days=9))  # the third piece, after it
    with pytest.raises(holds.NotFree) as refusal:
        loans.extend(db, running, last_day=day + timedelta(days=10), by=s["employee"], now=utcnow())
    db.rollback()
    assert refusal.value.free == 1


def test_the_listing_page_shows_overdue_pieces_booked_and_asking_for_them_is_refused(client, auth, db, s):
    overdue(db, s, 3)
    day = today()
    auth.login(s["employee"])
    page = client.get(f"/catalog/{s['benches'].id}").get_data(as_text=True)
    cells = {when: state for state, when in re.findall(r'<td class="([\w-]+)"><span class="day">(\d+/\d+)</span>',
                                                       page)}
    coming = [day + timedelta(days=n) for n in range(14)]
    assert [cells[f"{d.day}/{d.month}"] for d in coming] == ["none-free"] * 14
    assert [d.free for d in holds.calendar(db, s["benches"], first=day, count=40, now=utcnow())] == [0] * 40

    answer = client.post(f"/loans/ask/{s['benches'].id}", data={
        "csrf_token": csrf_token(client, f"/catalog/{s['benches'].id}"), "kind": "borrow", "quantity": 1,
        "first_day": (day + timedelta(days=1)).isoformat(), "last_day": (day + timedelta(days=2)).isoformat(),
        "delivery_site_id": s["skurup_site"].id})
    assert answer.status_code == 422
    assert "Inget exemplar är ledigt de dagarna." in answer.get_data(as_text=True)


def found(client, first, last=None):
    """The search's page and the API's answer for the benches, available over those days."""
    dates = f"available_from={first.isoformat()}" + (f"&available_until={last.isoformat()}" if last else "")
    page = client.get(f"/catalog/?q=parkbänkar&{dates}").get_data(as_text=True)
    api = client.get(f"/api/v1/listings?q=parkbänkar&{dates}").get_json()
    return page, [(item["title"], item["free_pieces"]) for item in api["items"]]


def test_the_search_leaves_out_or_counts_overdue_pieces(client, auth, db, s):
    overdue(db, s, 2)
    day = today()
    auth.login(s["employee"])
    page, api = found(client, day)
    assert "Delvis bokad de dagarna: 1 ledigt hela tiden" in page and api == [("Parkbänkar", 1)]
    page, api = found(client, day + MONTH, day + MONTH + timedelta(days=3))
    assert "Delvis bokad de dagarna: 1 ledigt hela tiden" in page and api == [("Parkbänkar", 1)]
    lent(db, s, 1, day, day + timedelta(days=6))  # the third piece, out for a week
    page, api = found(client, day)
    assert "Parkbänkar" not in page and api == []
    page, api = found(client, day + timedelta(days=7))  # after that week: the third is back by then
    assert "Delvis bokad de dagarna: 1 ledigt hela tiden" in page and api == [("Parkbänkar", 1)]


def test_once_brought_back_every_piece_is_free_again(client, auth, db, s):
    late = overdue(db, s, 3)
    day = today()
    auth.login(s["employee"])
    assert found(client, day)[1] == []
    loans.take_back(db, late, condition=None, remarks="", damage="", by=s["manager"], now=utcnow())
    db.commit()
    page, api = found(client, day)
    assert "Parkbänkar" in page and "Delvis bokad" not in page and api == [("Parkbänkar", 3)]
    page = client.get(f"/catalog/{s['benches'].id}").get_data(as_text=True)
    assert f'<td class="all-free"><span class="day">{day.day}/{day.month}</span>' in page
    assert holds.free_pieces(db, s["benches"], holds.days(day, day + MONTH), now=utcnow()) == 3
    ask(db, s, 3, day, day + timedelta(days=2))


def test_a_loan_out_but_not_past_its_end_holds_only_to_its_end(client, auth, db, s):
    day = today()
    lent(db, s, 3, day, day + timedelta(days=6))
    assert refused(db, s, 1, day + timedelta(days=6), day + timedelta(days=6)).free == 0
    auth.login(s["employee"])
    assert found(client, day + timedelta(days=7))[1] == [("Parkbänkar", 3)]
    calendar = holds.calendar(db, s["benches"], first=day, count=14, now=utcnow())
    assert [d.free for d in calendar] == [0] * 7 + [3] * 7
    ask(db, s, 3, day + timedelta(days=7), day + timedelta(days=9))


def test_pieces_handed_over_early_count_overdue_ones_once(db, s):
    overdue(db, s, 1)
    day = today()
    early = ask(db, s, 2, day + timedelta(days=7), day + timedelta(days=9))
    loans.approve(db, early, by=s["manager"], now=utcnow())
    loans.hand_over(db, early, condition=None, method=HandoverMethod.PICKUP, by=s["manager"], now=utcnow())
    db.commit()  # the two pieces not overdue leave today
    assert early.status == "handed_over"
    assert refused(db, s, 1, day + timedelta(days=1), day + timedelta(days=1)).free == 0


def test_a_booking_made_before_a_loan_fell_overdue_is_not_handed_over_while_its_pieces_are_away(db, s):
    """Booked when the pieces were due back in time; on its day two of the three are still away:
    one piece can be handed over, not two, and once the others are back both can."""
    then = utcnow() - timedelta(days=9)
    away = lent(db, s, 2, today_in_sweden(then), today_in_sweden(then) + timedelta(days=6), now=then)
    day = today()
    booked = ask(db, s, 2, day, day + timedelta(days=2), now=then)  # free then: the loan was to end before
    loans.approve(db, booked, by=s["manager"], now=then)
    db.commit()
    with pytest.raises(holds.NotHere) as refusal:
        loans.hand_over(db, booked, condition=None, method=HandoverMethod.PICKUP, by=s["manager"], now=utcnow())
    db.rollback()
    assert refusal.value.here == 1 and "Only 1 piece is here" in str(refusal.value)
    loans.take_back(db, away, condition=None, remarks="", damage="", by=s["manager"], now=utcnow())
    loans.hand_over(db, booked, condition=None, method=HandoverMethod.PICKUP, by=s["manager"], now=utcnow())
    db.commit()
    assert booked.status == "handed_over"
