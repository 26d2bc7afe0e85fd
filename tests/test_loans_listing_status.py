"""A listing's status follows its lent pieces: "on loan" while every piece is out with borrowers,
published again once one is back, bookable throughout; the search's cards say so at once."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from sharing.accounts.models import Role
from sharing.catalog import events as catalog_events
from sharing.catalog.holds import rules as holds
from sharing.catalog.holds.models import Hold
from sharing.catalog.listings import rules as listings
from sharing.catalog.listings.models import Listing, ListingStatus
from sharing.clock import today_in_sweden, utcnow
from sharing.errors import NotVisible
from sharing.events import events_of
from sharing.loans.requests import rules as loans
from sharing.loans.requests.models import HandoverMethod, RequestKind
from sharing.loans.requests.rules import RequestDetails

TODAY = today_in_sweden(utcnow())
LAST = TODAY + timedelta(days=6)


@pytest.fixture
def s(factory):
    ystad, skurup = factory.municipality("Ystad", "1286"), factory.municipality("Skurup", "1264")
    manager = factory.manager(ystad)
    benches = factory.listing_published(site=factory.site(ystad), by=manager, title="Parkbänkar", quantity=3,
                                        lend=True, give_away=True)
    return {"manager": manager, "benches": benches, "skurup_site": factory.site(skurup, locality="Skurup"),
            "employee": factory.user(skurup, Role.EMPLOYEE, unit=factory.unit(skurup))}


def lent(db, s, quantity, first=None, last=LAST, *, kind=RequestKind.BORROW, hand_over=True, now=None):
    """A request asked, approved and (unless told otherwise) handed over, all ``now``, from
    ``first`` (the day it is asked: read then, so a run that passes midnight asks no past day)."""
    now = now or utcnow()
    first = first or today_in_sweden(now)
    request = loans.ask(db, listing_id=s["benches"].id, by=s["employee"], now=now, details=RequestDetails(
        kind=kind, quantity=quantity, first_day=first, last_day=last if kind == RequestKind.BORROW else None,
        delivery_site_id=s["skurup_site"].id))
    loans.approve(db, request, by=s["manager"], now=now)
    if hand_over:
        loans.hand_over(db, request, condition=None, method=HandoverMethod.PICKUP, by=s["manager"], now=now)
    db.commit()
    return request


def status(db, s):
    db.expire_all()
    return db.get(Listing, s["benches"].id).status


def back(db, s, request, now=None):
    loans.take_back(db, request, condition=None, remarks="", damage="", by=s["manager"], now=now or utcnow())
    db.commit()


def test_a_listing_is_on_loan_while_every_piece_is_out_and_bookable_all_the_while(db, s):
    one = lent(db, s, 1)
    assert status(db, s) == "published"  # 1 of 3 out: still published
    two = lent(db, s, 2, hand_over=False)
    assert status(db, s) == "published"  # promised is not out
    loans.hand_over(db, two, condition=None, method=HandoverMethod.PICKUP, by=s["manager"], now=utcnow())
    db.commit()
    assert status(db, s) == "on_loan"
    # Still found and bookable for when the pieces are back.
    later = lent(db, s, 3, LAST + timedelta(days=1), LAST + timedelta(days=3), hand_over=False)
    assert later.status == "approved"
    with pytest.raises(holds.NotFree):  # the holds, not the status, say what is free
        lent(db, s, 1, hand_over=False)
    db.rollback()

    back(db, s, one)
    assert status(db, s) == "published"  # one piece is home again
    back(db, s, two, now=utcnow() + timedelta(days=9))  # late: the status followed the pieces, not the period
    assert status(db, s) == "published"
    steps = [(e.name, e.payload["from"], e.actor_id) for e in events_of(db, subject_type="listing",
                                                                          subject_id=s["benches"].id)
             if e.name in catalog_events.LISTING_STATUS.values()]
    assert steps[-2:] == [(catalog_events.LISTING_STATUS["on_loan"], "published", s["manager"].id),
                          (catalog_events.LISTING_STATUS["published"], "on_loan", s["manager"].id)]


def test_an_overdue_loan_keeps_the_listing_on_loan_until_the_pieces_are_back(db, s):
    today = today_in_sweden(utcnow())
    request = lent(db, s, 3, today - timedelta(days=9), today - timedelta(days=2),
                   now=utcnow() - timedelta(days=9))
    assert status(db, s) == "on_loan"  # lent nine days ago, due back two days ago
    # Held until they are back, whatever the period says (tests/test_loans_overdue.py).
    assert holds.free_pieces(db, s["benches"], holds.days(today, today), now=utcnow()) == 0
    assert listings.manual_steps(db.get(Listing, s["benches"].id)) == []  # the loans move it, not a hand
    back(db, s, request)
    assert status(db, s) == "published"
    hold = db.get(Hold, request.hold_id)
    assert hold.out_at is not None and hold.back_at is not None


def test_more_or_fewer_pieces_move_the_status_too(db, s):
    lent(db, s, 2)
    assert status(db, s) == "published"
    listing = db.get(Listing, s["benches"].id)
    # The third piece leaves for good: the two left are both out.
    taken = lent(db, s, 1, kind=RequestKind.TAKE_OVER, hand_over=False)
    loans.hand_over(db, taken, condition=None, method=HandoverMethod.PICKUP, by=s["manager"], now=utcnow())
    db.commit()
    assert status(db, s) == "on_loan" and db.get(Listing, listing.id).quantity == 2
    # A piece more, written into the listing: one is free again, and back.
    listing = db.get(Listing, s["benches"].id)
    details = listings.details_of(listing).model_copy(update={"quantity": 3})
    listings.save_listing(db, details=details, by=s["manager"], now=utcnow(), listing=listing)
    db.commit()
    assert status(db, s) == "published"
    listings.save_listing(db, details=details.model_copy(update={"quantity": 2}), by=s["manager"], now=utcnow(),
                          listing=db.get(Listing, s["benches"].id))
    db.commit()
    assert status(db, s) == "on_loan"


def test_a_draft_or_withdrawn_listing_keeps_its_status_when_pieces_come_back(db, s):
    request = lent(db, s, 1)
    listings.set_status(db, listing=db.get(Listing, s["benches"].id), to=ListingStatus.WITHDRAWN, by=s["manager"],
                        now=utcnow())
    db.commit()
    back(db, s, request)
    assert status(db, s) == "withdrawn"
    with pytest.raises(NotVisible):  # what is withdrawn is lent no more
        lent(db, s, 1)


def test_the_search_shows_a_listing_on_loan_at_once_and_published_again_at_once(db, s, client, auth):
    auth.login(s["employee"])

    def card() -> str:
        page = client.get("/catalog/?q=parkbänkar").get_data(as_text=True)
        return page[page.index("Parkbänkar"):][:2000]

    assert "Utlånad" not in card()  # rendered, and kept under the catalog's revision
    request = lent(db, s, 3)
    assert "Utlånad" in card()
    back(db, s, request)
    assert "Utlånad" not in card()
    assert db.scalar(select(Listing.status).where(Listing.id == s["benches"].id)) == "published"
