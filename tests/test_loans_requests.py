"""Requests to borrow, take over or swap: their life, who may take each step, and the catalog's
holds that keep two requests from being promised the same pieces."""

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from sharing.accounts.models import Role
from sharing.catalog.holds import rules as holds
from sharing.catalog.holds.models import Hold, HoldPurpose
from sharing.catalog.listings.models import Condition
from sharing.clock import today_in_sweden, utcnow
from sharing.errors import Conflict, DomainError, NotAllowed, NotVisible
from sharing.events import events_of
from sharing.loans import events
from sharing.loans.requests import rules as loans
from sharing.loans.requests.models import HandoverMethod, RequestKind
from sharing.loans.requests.rules import RequestDetails
from tests.conftest import statements_on

TODAY = today_in_sweden(utcnow())


@pytest.fixture
def s(factory):
    ystad, skurup = factory.municipality("Ystad", "1286"), factory.municipality("Skurup", "1264")
    ystad_site, skurup_site = factory.site(ystad), factory.site(skurup, locality="Skurup")
    unit = factory.unit(skurup, "Skurups skola")
    manager = factory.manager(ystad)
    chairs = factory.listing_published(site=ystad_site, by=manager, title="Kontorsstolar", quantity=24,
                                       lend=True, give_away=True)
    return {"ystad": ystad, "skurup": skurup, "ystad_site": ystad_site, "skurup_site": skurup_site,
            "manager": manager, "chairs": chairs,
            "employee": factory.user(skurup, Role.EMPLOYEE, unit=unit),
            "colleague": factory.user(skurup, Role.EMPLOYEE, unit=unit),
            "skurup_manager": factory.manager(skurup)}


def borrow(s, quantity=6, first=TODAY + timedelta(days=1), days=14, **overrides):
    values = dict(kind=RequestKind.BORROW, quantity=quantity, first_day=first,
                  last_day=first + timedelta(days=days - 1), delivery_site_id=s["skurup_site"].id,
                  transport_needed=True, message="Till matsalen")
    return RequestDetails(**{**values, **overrides})


def ask(db, s, details=None, by=None):
    request = loans.ask(db, listing_id=s["chairs"].id, details=details or borrow(s), by=by or s["employee"],
                        now=utcnow())
    db.commit()
    return request


def test_asking_reads_first_and_once_it_writes_reads_only_the_listing_s_holds(db, s):
    """From its first write to its commit a request keeps the listing (on SQLite, the database)
    locked: inside, it locks and reads the listing in one statement and reads its holds, and
    writes the request, the hold and the event; everything else was read before."""
    with statements_on(db.get_bind()) as statements:
        ask(db, s)
    first_write = next(n for n, statement in enumerate(statements) if not statement.startswith("SELECT"))
    locked = statements[first_write:]
    reads = [statement for statement in locked if statement.startswith("SELECT")]
    assert len(reads) == 1 and "FROM listing_hold" in reads[0]
    locks = [statement for statement in locked if statement.startswith("UPDATE listing ")]
    assert len(locks) == 1 and "RETURNING" in locks[0]


def test_a_loan_goes_from_request_to_close_with_both_sides_confirming(db, s):
    request = ask(db, s)
    assert request.status == "requested" and request.transport_needed
    assert request.requester_unit_id == s["employee"].unit_id
    assert [m.body for m in loans.thread(db, request)] == ["Till matsalen"]
    loans.approve(db, request, by=s["manager"], now=utcnow())
    loans.hand_over(db, request, condition=Condition.GOOD, method=HandoverMethod.TRANSPORT, by=s["manager"],
                    now=utcnow())
    assert request.handover_confirmed_by_owner_at and request.handover_confirmed_by_requester_at is None
    loans.confirm(db, request, by=s["employee"], now=utcnow())
    assert request.handover_confirmed_by_requester_at is not None
    loans.take_back(db, request, condition=Condition.GOOD, remarks="", damage="En stol har en spricka",
                    by=s["manager"], now=utcnow())
    assert request.status == "returned" and request.return_confirmed_by_owner_at
    loans.confirm(db, request, by=s["employee"], now=utcnow())
    db.commit()
    assert request.status == "closed" and request.closed_at
    names = [event.name for event in events_of(db, subject_type=events.SUBJECT, subject_id=request.id)]
    assert names == [events.REQUESTED, events.APPROVED, events.HANDED_OVER, events.CONFIRMED, events.RETURNED,
                     events.CONFIRMED, events.CLOSED]


def test_steps_out_of_order_are_refused_with_a_message(db, s):
    request = ask(db, s)
    with pytest.raises(DomainError, match="cannot become"):
        loans.hand_over(db, request, condition=None, method=HandoverMethod.PICKUP, by=s["manager"], now=utcnow())
    db.rollback()
    loans.approve(db, request, by=s["manager"], now=utcnow())
    with pytest.raises(DomainError, match="cannot become"):
        loans.approve(db, request, by=s["manager"], now=utcnow())
    with pytest.raises(DomainError, match="nothing to confirm"):
        loans.confirm(db, request, by=s["employee"], now=utcnow())


def test_only_the_owner_s_facility_managers_decide_and_only_the_requester_cancels(db, s):
    request = ask(db, s)
    for outsider in (s["employee"], s["skurup_manager"]):
        with pytest.raises(NotAllowed):
            loans.approve(db, request, by=outsider, now=utcnow())
    with pytest.raises(NotAllowed):
        loans.cancel(db, request, by=s["colleague"], now=utcnow())
    with pytest.raises(NotVisible):
        loans.request_to_see(db, s["colleague"], request.id)
    assert loans.request_to_see(db, s["skurup_manager"], request.id) == request  # the requester's managers see it
    loans.cancel(db, request, by=s["employee"], now=utcnow())
    assert request.status == "cancelled"


def test_asked_pieces_are_held_and_a_decline_or_cancel_frees_them(db, s):
    period = holds.days(TODAY + timedelta(days=1), TODAY + timedelta(days=14))
    first = ask(db, s, borrow(s, quantity=20))
    assert holds.free_pieces(db, s["chairs"], period, now=utcnow()) == 4
    with pytest.raises(holds.NotFree) as refused:
        ask(db, s, borrow(s, quantity=5))
    assert refused.value.free == 4 and "Only 4 pieces are free for those dates." in str(refused.value)
    db.rollback()
    with pytest.raises(DomainError, match="Say why"):
        loans.decline(db, first, reason=" ", by=s["manager"], now=utcnow())
    loans.decline(db, first, reason="Behövs själva", by=s["manager"], now=utcnow())
    db.commit()
    assert holds.free_pieces(db, s["chairs"], period, now=utcnow()) == 24
    second = ask(db, s, borrow(s, quantity=24))
    loans.cancel(db, second, by=s["employee"], now=utcnow())
    db.commit()
    assert holds.free_pieces(db, s["chairs"], period, now=utcnow()) == 24


def test_holds_count_what_overlaps_at_any_one_moment(db, s):
    """Two loans back to back share the pieces; only overlapping ones add up."""
    day = TODAY + timedelta(days=10)
    ask(db, s, borrow(s, quantity=20, first=day, days=5))  # days 10-14
    ask(db, s, borrow(s, quantity=20, first=day + timedelta(days=5), days=5))  # days 15-19: no overlap
    assert holds.free_pieces(db, s["chairs"], holds.days(day, day + timedelta(days=9)), now=utcnow()) == 4
    with pytest.raises(holds.NotFree):
        ask(db, s, borrow(s, quantity=5, first=day + timedelta(days=4), days=2))  # spans both
    db.rollback()
    calendar = holds.calendar(db, s["chairs"], first=day - timedelta(days=1), count=12, now=utcnow())
    assert [d.free for d in calendar] == [24] + [4] * 10 + [24]


def test_a_returned_loan_frees_its_pieces_from_the_return_on(db, s):
    first = TODAY + timedelta(days=1)
    request = ask(db, s, borrow(s, quantity=24, first=first, days=30))
    loans.approve(db, request, by=s["manager"], now=utcnow())
    loans.hand_over(db, request, condition=None, method=HandoverMethod.PICKUP, by=s["employee"], now=utcnow())
    returned = holds.midnight(first + timedelta(days=10))
    loans.take_back(db, request, condition=Condition.GOOD, remarks="", damage="", by=s["manager"], now=returned)
    db.commit()
    after = holds.days(first + timedelta(days=11), first + timedelta(days=29))
    assert holds.free_pieces(db, s["chairs"], after, now=utcnow()) == 24
    assert holds.free_pieces(db, s["chairs"], holds.days(first, first + timedelta(days=5)), now=utcnow()) == 0


def test_a_loan_is_extended_only_when_nothing_conflicts(db, s):
    first = TODAY + timedelta(days=1)
    request = ask(db, s, borrow(s, quantity=10, first=first, days=7))
    ask(db, s, borrow(s, quantity=20, first=first + timedelta(days=10), days=5), by=s["colleague"])
    with pytest.raises(DomainError, match="approved or ongoing"):
        loans.extend(db, request, last_day=first + timedelta(days=9), by=s["employee"], now=utcnow())
    loans.approve(db, request, by=s["manager"], now=utcnow())
    loans.extend(db, request, last_day=first + timedelta(days=9), by=s["employee"], now=utcnow())
    db.commit()
    assert request.ends_at == holds.midnight(first + timedelta(days=10))
    with pytest.raises(holds.NotFree):
        loans.extend(db, request, last_day=first + timedelta(days=11), by=s["employee"], now=utcnow())


def test_an_extension_tells_the_other_side_its_new_last_day_and_the_owner_why_they_were_not_asked(app, db, s):
    from sharing.accounts.models import Notification
    from sharing.loans.requests.notices import EXTENDED_BY_BORROWER

    first = TODAY + timedelta(days=1)
    start = utcnow().replace(microsecond=0)

    def told(user):
        return [(n.message, n.params.get("last_day")) for n in db.scalars(select(Notification).where(
            Notification.user_id == user.id, Notification.created_at >= start).order_by(Notification.id))]

    with app.app_context():
        request = ask(db, s, borrow(s, quantity=2, first=first, days=7))
        loans.approve(db, request, by=s["manager"], now=utcnow())
        db.commit()
        loans.extend(db, request, last_day=first + timedelta(days=9), by=s["employee"], now=utcnow())
        db.commit()
        loans.extend(db, request, last_day=first + timedelta(days=11), by=s["manager"], now=utcnow())
        db.commit()
    assert told(s["manager"])[-1] == (EXTENDED_BY_BORROWER, (first + timedelta(days=9)).isoformat())
    assert told(s["employee"])[-1] == ("The loan of “%(listing)s” is extended to %(last_day)s.",
                                       (first + timedelta(days=11)).isoformat())


def test_an_extension_keeps_to_the_listing_s_longest_loan_and_the_horizon(db, s):
    s["chairs"].loan_max_days = 14
    first = TODAY + timedelta(days=1)
    request = ask(db, s, borrow(s, quantity=2, first=first, days=7))
    loans.approve(db, request, by=s["manager"], now=utcnow())
    with pytest.raises(DomainError, match="longest loan is 14 days"):
        loans.extend(db, request, last_day=first + timedelta(days=14), by=s["employee"], now=utcnow())
    loans.extend(db, request, last_day=first + timedelta(days=13), by=s["employee"], now=utcnow())  # 14 days in all
    s["chairs"].loan_max_days = None
    with pytest.raises(DomainError, match="two years ahead"):
        loans.extend(db, request, last_day=date(9999, 12, 20), by=s["employee"], now=utcnow())


def test_a_request_must_fit_the_listing(db, s, factory):
    with pytest.raises(DomainError, match="past"):
        ask(db, s, borrow(s, first=TODAY - timedelta(days=1)))
    with pytest.raises(DomainError, match="only 24 pieces"):  # never had them, rather than no longer free
        ask(db, s, borrow(s, quantity=100))
    with pytest.raises(DomainError, match="two years ahead"):  # a typo for a year holds nothing for ever
        ask(db, s, borrow(s, first=date(9999, 12, 10), days=11))
    with pytest.raises(DomainError, match="two years ahead"):
        ask(db, s, borrow(s, days=800))
    with pytest.raises(DomainError, match="not offered that way"):
        ask(db, s, borrow(s, kind=RequestKind.SWAP, offered_listing_id=None))
    with pytest.raises(DomainError, match="sites"):
        ask(db, s, borrow(s, delivery_site_id=s["ystad_site"].id))
    with pytest.raises(DomainError, match="shortest loan"):
        s["chairs"].loan_min_days = 7
        ask(db, s, borrow(s, days=3))
    db.rollback()
    room = factory.listing_published(site=s["ystad_site"], by=s["manager"], kind="place", category=factory.category(
        kind="place"), lend=True)
    booked = loans.ask(db, listing_id=room.id, details=borrow(s, quantity=1, days=1), by=s["employee"], now=utcnow())
    assert not booked.transport_needed  # a room is never carried anywhere


def test_a_take_over_holds_the_pieces_for_good(db, s):
    request = ask(db, s, borrow(s, kind=RequestKind.TAKE_OVER, quantity=4, last_day=None))
    assert request.ends_at is None
    hold = db.get(Hold, request.hold_id)
    assert hold.purpose == HoldPurpose.TAKE_OVER and hold.ends_at is None
    far = TODAY + timedelta(days=3000)
    assert holds.free_pieces(db, s["chairs"], holds.days(far, far), now=utcnow()) == 20


def test_day_periods_follow_swedish_midnights_across_the_clock_change():
    period = holds.days(date(2027, 3, 27), date(2027, 3, 28))  # summer time begins on the 28th
    assert period.starts_at == datetime(2027, 3, 26, 23, 0, tzinfo=timezone.utc)
    assert period.ends_at == datetime(2027, 3, 28, 22, 0, tzinfo=timezone.utc)


# --- For good: take-overs and swaps ---------------------------------------------------------

def test_a_facility_manager_asking_their_own_municipality_confirms_both_sides_at_each_step(db, s, factory):
    lent = ask(db, s, borrow(s, delivery_site_id=s["ystad_site"].id), by=s["manager"])
    loans.approve(db, lent, by=s["manager"], now=utcnow())
    loans.hand_over(db, lent, condition=None, method=HandoverMethod.PICKUP, by=s["manager"], now=utcnow())
    assert lent.handover_confirmed_by_owner_at and lent.handover_confirmed_by_requester_at
    loans.take_back(db, lent, condition=None, remarks="", damage="", by=s["manager"], now=utcnow())
    db.commit()
    assert lent.status == "closed"  # nothing left to confirm, by anyone

    # A colleague takes the steps: the manager who asked confirms for the requester's side.
    colleague = factory.manager(s["ystad"])
    lent = ask(db, s, borrow(s, delivery_site_id=s["ystad_site"].id), by=s["manager"])
    loans.approve(db, lent, by=colleague, now=utcnow())
    loans.hand_over(db, lent, condition=None, method=HandoverMethod.PICKUP, by=colleague, now=utcnow())
    loans.confirm(db, lent, by=s["manager"], now=utcnow())
    db.commit()
    assert lent.handover_confirmed_by_requester_at is not None
    with pytest.raises(Conflict):
        loans.confirm(db, lent, by=s["manager"], now=utcnow())
    db.rollback()
    loans.take_back(db, lent, condition=None, remarks="", damage="", by=colleague, now=utcnow())
    loans.confirm(db, lent, by=s["manager"], now=utcnow())
    db.commit()
    assert lent.status == "closed"

    taken = ask(db, s, borrow(s, kind=RequestKind.TAKE_OVER, quantity=2, last_day=None,
                              delivery_site_id=s["ystad_site"].id), by=s["manager"])
    loans.approve(db, taken, by=s["manager"], now=utcnow())
    loans.hand_over(db, taken, condition=None, method=HandoverMethod.PICKUP, by=s["manager"], now=utcnow())
    db.commit()
    assert taken.status == "closed"


def test_the_history_counts_the_loans_handed_over_not_those_asked_for(db, s):
    from sharing.catalog.transfers import rules as transfers

    lent = ask(db, s)
    ask(db, s, borrow(s, quantity=2), by=s["colleague"])  # asked for, never lent
    loans.approve(db, lent, by=s["manager"], now=utcnow())
    assert transfers.history(db, s["chairs"]).loans == 0
    loans.hand_over(db, lent, condition=None, method=HandoverMethod.PICKUP, by=s["manager"], now=utcnow())
    loans.take_back(db, lent, condition=None, remarks="", damage="", by=s["manager"], now=utcnow())
    db.commit()
    assert transfers.history(db, s["chairs"]).loans == 1  # lent once, and back


def test_a_take_over_of_some_pieces_splits_the_listing_and_keeps_its_history(db, s):
    from sharing.catalog.transfers import rules as transfers

    s["chairs"].inventory_number = "YST-4711"
    s["chairs"].contact_user_id = s["manager"].id
    db.commit()
    request = ask(db, s, borrow(s, kind=RequestKind.TAKE_OVER, quantity=4, last_day=None))
    loans.approve(db, request, by=s["manager"], now=utcnow())
    loans.hand_over(db, request, condition=Condition.GOOD, method=HandoverMethod.PICKUP, by=s["manager"], now=utcnow())
    db.commit()
    chairs = db.get(type(s["chairs"]), s["chairs"].id)
    assert chairs.quantity == 20 and chairs.status == "published"
    history = transfers.history(db, chairs)
    assert len(history.passed_on) == 1 and history.passed_on[0].quantity == 4
    received = db.get(type(chairs), history.passed_on[0].to_listing_id)
    assert (received.municipality_id, received.site_id, received.quantity, received.status) == (
        s["skurup"].id, s["skurup_site"].id, 4, "draft")
    assert received.title == chairs.title and received.inventory_number == "YST-4711"
    assert chairs.contact_user_id == s["manager"].id and received.contact_user_id is None  # the giver's is not theirs
    came = transfers.history(db, received).came_from
    assert [(t.from_municipality_id, t.to_municipality_id, t.to_unit_id) for t in came] == [
        (s["ystad"].id, s["skurup"].id, s["employee"].unit_id)]
    # The old owner can no longer lend what left: only 20 are free, for any dates.
    far = TODAY + timedelta(days=400)
    assert holds.free_pieces(db, chairs, holds.days(far, far), now=utcnow()) == 20
    loans.confirm(db, request, by=s["employee"], now=utcnow())
    db.commit()
    assert request.status == "closed"
    names = [e.name for e in events_of(db, subject_type=events.SUBJECT, subject_id=request.id)]
    assert events.TRANSFERRED in names and names[-1] == events.CLOSED


def test_a_take_over_of_every_piece_hands_the_listing_over(db, s):
    request = ask(db, s, borrow(s, kind=RequestKind.TAKE_OVER, quantity=24, last_day=None))
    loans.approve(db, request, by=s["manager"], now=utcnow())
    loans.hand_over(db, request, condition=None, method=HandoverMethod.TRANSPORT, by=s["employee"], now=utcnow())
    db.commit()
    chairs = db.get(type(s["chairs"]), s["chairs"].id)
    assert chairs.status == "handed_over"
    with pytest.raises(NotVisible):  # no longer in the catalog for anyone to ask for
        ask(db, s, borrow(s, quantity=1))


def test_pieces_handed_over_early_are_held_from_then_if_no_one_else_holds_them_meanwhile(db, s):
    week = TODAY + timedelta(days=7)
    early = ask(db, s, borrow(s, quantity=20, first=week, days=7))
    meanwhile = ask(db, s, borrow(s, quantity=4, first=TODAY + timedelta(days=2), days=2), by=s["colleague"])
    for request in (early, meanwhile):
        loans.approve(db, request, by=s["manager"], now=utcnow())
    db.commit()
    loans.hand_over(db, early, condition=None, method=HandoverMethod.PICKUP, by=s["manager"], now=utcnow())
    db.commit()
    # Out from today: the days before its first are no longer free for 20 of the pieces.
    tomorrow = TODAY + timedelta(days=1)
    assert holds.free_pieces(db, s["chairs"], holds.days(tomorrow, tomorrow), now=utcnow()) == 4
    assert db.get(Hold, early.hold_id).starts_at <= utcnow()
    assert early.starts_at.date() >= week - timedelta(days=1)  # the loan's agreed days stay as they were
    with pytest.raises(holds.NotFree):  # the day the 4 others are lent too, none is left
        ask(db, s, borrow(s, quantity=1, first=TODAY + timedelta(days=2), days=1))

    # Pieces others hold before its first day are not handed over early.
    late = ask(db, s, borrow(s, quantity=4, first=week, days=3), by=s["colleague"])
    loans.approve(db, late, by=s["manager"], now=utcnow())
    db.commit()
    with pytest.raises(holds.NotFreeBefore) as refused:
        loans.hand_over(db, late, condition=None, method=HandoverMethod.PICKUP, by=s["manager"], now=utcnow())
    db.rollback()
    assert refused.value.free == 0 and late.status == "approved" and "No piece is free" in str(refused.value)
    assert db.get(Hold, late.hold_id).out_at is None


def handed_over_too_early(db, s, request, *others):
    """Approve the request (and the others), then hand it over now: the refusal it meets."""
    for each in (request, *others):
        loans.approve(db, each, by=s["manager"], now=utcnow())
    db.commit()
    with pytest.raises(holds.NotFreeBefore) as refused:
        loans.hand_over(db, request, condition=None, method=HandoverMethod.PICKUP, by=s["manager"], now=utcnow())
    db.rollback()
    return refused.value


def test_pieces_taken_over_early_are_never_those_others_hold_meanwhile(db, s):
    later = TODAY + timedelta(days=10)
    take_over = ask(db, s, borrow(s, kind=RequestKind.TAKE_OVER, quantity=10, first=later, last_day=None))
    meanwhile = ask(db, s, borrow(s, quantity=20, first=TODAY + timedelta(days=2), days=3), by=s["colleague"])
    assert handed_over_too_early(db, s, take_over, meanwhile).free == 4
    assert db.get(type(s["chairs"]), s["chairs"].id).quantity == 24 and take_over.status == "approved"


def test_pieces_still_out_after_their_loan_are_not_taken_over(db, s):
    from sharing.loans.requests.models import LoanRequest

    lent = ask(db, s, borrow(s, quantity=20, first=TODAY, days=1))
    loans.approve(db, lent, by=s["manager"], now=utcnow())
    loans.hand_over(db, lent, condition=None, method=HandoverMethod.PICKUP, by=s["manager"], now=utcnow())
    db.commit()
    take_over = ask(db, s, borrow(s, kind=RequestKind.TAKE_OVER, quantity=10, last_day=None), by=s["colleague"])
    # Then the loan's last day goes by and the pieces are not back: held still, and counted once.
    # It ended after it began (today, in Sweden: in its first hour, less than an hour ago).
    hold = db.get(Hold, lent.hold_id)
    now = utcnow()
    ended = hold.starts_at + (now - hold.starts_at) / 2
    hold.ends_at = ended
    db.get(LoanRequest, lent.id).ends_at = ended
    db.commit()
    assert handed_over_too_early(db, s, take_over).free == 4


def test_a_swap_offering_more_than_is_free_is_told_at_what_is_offered(db, s, factory):
    from sharing.catalog.listings import rules as listing_rules
    from sharing.catalog.listings.models import ListingStatus

    s["chairs"].swap = True
    db.commit()
    tables = factory.listing_published(site=s["skurup_site"], by=s["skurup_manager"], title="Bord", quantity=3,
                                       swap=True, lend=False)
    offer = dict(kind=RequestKind.SWAP, quantity=2, last_day=None, offered_listing_id=tables.id)
    with pytest.raises(DomainError) as refused:
        ask(db, s, borrow(s, **offer, offered_quantity=50))
    assert (refused.value.field, refused.value.params["num"]) == ("offered_quantity", 3)
    db.rollback()
    ask(db, s, borrow(s, **offer, offered_quantity=2), by=s["colleague"])  # 1 of the 3 tables is left
    with pytest.raises(DomainError) as refused:
        ask(db, s, borrow(s, **offer, offered_quantity=2))
    assert not isinstance(refused.value, holds.NotFree)  # the chairs asked for are free: no queue for them
    assert (refused.value.field, refused.value.params["num"]) == ("offered_quantity", 1)
    db.rollback()
    listing_rules.set_status(db, listing=tables, to=ListingStatus.WITHDRAWN, by=s["skurup_manager"], now=utcnow())
    db.commit()
    with pytest.raises(DomainError) as refused:  # a withdrawn listing is offered no more
        ask(db, s, borrow(s, **offer, offered_quantity=1))
    assert refused.value.field == "offered_listing_id"


def test_a_swap_passes_both_listings_in_one_go_or_not_at_all(db, s, factory):
    from sharing.catalog.listings import rules as listing_rules
    from sharing.catalog.listings.models import ListingStatus
    from sharing.catalog.transfers.models import ListingTransfer

    s["chairs"].swap = True
    db.commit()
    tables = factory.listing_published(site=s["skurup_site"], by=s["skurup_manager"], title="Bord", quantity=3,
                                       swap=True, lend=False)
    details = borrow(s, kind=RequestKind.SWAP, quantity=2, last_day=None, offered_listing_id=tables.id,
                     offered_quantity=1)
    request = ask(db, s, details)
    loans.approve(db, request, by=s["manager"], now=utcnow())
    db.commit()
    # The offered listing is withdrawn meanwhile: the swap cannot happen, and nothing moves.
    listing_rules.set_status(db, listing=tables, to=ListingStatus.WITHDRAWN, by=s["skurup_manager"], now=utcnow())
    db.commit()
    with pytest.raises(DomainError):
        loans.hand_over(db, request, condition=None, method=HandoverMethod.PICKUP, by=s["manager"], now=utcnow())
    db.rollback()
    assert db.scalars(select(ListingTransfer)).all() == []
    assert db.get(type(s["chairs"]), s["chairs"].id).quantity == 24 and request.status == "approved"
    listing_rules.set_status(db, listing=tables, to=ListingStatus.DRAFT, by=s["skurup_manager"], now=utcnow())
    listing_rules.set_status(db, listing=tables, to=ListingStatus.PUBLISHED, by=s["skurup_manager"], now=utcnow())
    loans.hand_over(db, request, condition=None, method=HandoverMethod.PICKUP, by=s["manager"], now=utcnow())
    db.commit()
    moved = {(t.from_listing_id, t.quantity, t.to_municipality_id) for t in db.scalars(select(ListingTransfer))}
    assert moved == {(s["chairs"].id, 2, s["skurup"].id), (tables.id, 1, s["ystad"].id)}
    assert db.get(type(tables), tables.id).quantity == 2


def test_every_loans_event_reads_in_the_audit_trail(app):
    from sharing.events import event_label

    names = [value for name, value in vars(events).items() if name.isupper() and not name.endswith("SUBJECT")]
    assert names and all(event_label(name) is not None for name in names)


def test_withdrawing_a_listing_ends_its_open_requests_and_tells_their_people(app, db, s):
    from sharing.accounts.models import Notification
    from sharing.catalog.listings import rules as listing_rules
    from sharing.catalog.listings.models import ListingStatus

    asked = ask(db, s, borrow(s, quantity=2))
    approved = ask(db, s, borrow(s, quantity=3), by=s["colleague"])
    loans.approve(db, approved, by=s["manager"], now=utcnow())
    db.commit()
    with app.test_request_context():
        listing_rules.set_status(db, listing=s["chairs"], to=ListingStatus.WITHDRAWN, by=s["manager"], now=utcnow())
        db.commit()  # the receiver runs after the commit, in a session of its own
    db.expire_all()
    assert (asked.status, approved.status) == ("declined", "cancelled")
    assert asked.decline_reason == loans.WITHDRAWN_REASON
    assert db.scalar(select(Hold.id).where(Hold.listing_id == s["chairs"].id, Hold.released_at.is_(None))) is None
    told = db.scalars(select(Notification.user_id)).all()
    assert s["employee"].id in told and s["colleague"].id in told


# --- Approved at once ---------------------------------------------------------------------------

def test_a_rule_approves_matching_requests_at_once_and_only_those(db, s, factory):
    from sharing.loans.auto_approval import rules as auto

    with pytest.raises(NotAllowed):
        auto.add_rule(db, kind=RequestKind.BORROW, category_id=None, max_quantity=5, max_days=None,
                      by=s["employee"], now=utcnow())
    parent = db.get(type(s["chairs"].category), s["chairs"].category_id)
    auto.add_rule(db, kind=RequestKind.BORROW, category_id=parent.id, max_quantity=5, max_days=7,
                  by=s["manager"], now=utcnow())
    db.commit()
    small = ask(db, s, borrow(s, quantity=5, days=7))
    assert small.status == "approved" and small.decided_by_id is None
    approval = [e for e in events_of(db, subject_type=events.SUBJECT, subject_id=small.id) if e.name == events.APPROVED]
    assert approval[0].payload["auto"] is True and approval[0].actor_id is None
    assert ask(db, s, borrow(s, quantity=6, days=7)).status == "requested"  # more pieces than the rule allows
    assert ask(db, s, borrow(s, quantity=2, days=8)).status == "requested"  # a longer loan
    assert ask(db, s, borrow(s, kind=RequestKind.TAKE_OVER, quantity=1, last_day=None)).status == "requested"
    # Another municipality's rule approves nothing here.
    other = factory.manager(s["skurup"])
    auto.add_rule(db, kind=RequestKind.BORROW, category_id=None, max_quantity=None, max_days=None, by=other,
                  now=utcnow())
    db.commit()
    assert ask(db, s, borrow(s, quantity=6, days=7)).status == "requested"


def test_categories_are_read_only_for_a_rule_that_names_one_and_a_parent_s_rule_covers_its_children(db, s,
                                                                                                      factory):
    from sharing.loans.auto_approval import rules as auto

    with statements_on(db.get_bind()) as statements:
        assert ask(db, s).status == "requested"  # the owner has no rules: no category is read
        assert not [statement for statement in statements if "FROM category" in statement]
    furniture = factory.category("Möbler")
    stools = factory.listing_published(site=s["ystad_site"], by=s["manager"], title="Pallar", quantity=4, lend=True,
                                       category=factory.category("Pallar", parent=furniture))
    auto.add_rule(db, kind=RequestKind.BORROW, category_id=furniture.id, max_quantity=None, max_days=None,
                  by=s["manager"], now=utcnow())
    db.commit()
    request = loans.ask(db, listing_id=stools.id, details=borrow(s, quantity=2, days=3), by=s["employee"],
                        now=utcnow())
    assert request.status == "approved"
    assert ask(db, s, borrow(s, quantity=1, days=3)).status == "requested"  # the chairs are no furniture here


def test_the_rules_page_adds_and_removes_rules(client, auth, s):
    from tests.conftest import csrf_token

    auth.login(s["manager"])
    page = client.get("/loans/auto-approval/")
    assert page.status_code == 200 and "Inga regler" in page.get_data(as_text=True)
    added = client.post("/loans/auto-approval/", data={"csrf_token": csrf_token(client, "/loans/auto-approval/"),
                                                       "kind": "borrow", "category_id": "", "max_quantity": "4"})
    assert added.status_code == 302
    assert "Alla kategorier" in client.get("/loans/auto-approval/").get_data(as_text=True)
    refused = client.post("/loans/auto-approval/", data={"csrf_token": csrf_token(client, "/loans/auto-approval/"),
                                                         "kind": "borrow", "max_quantity": "0"})
    assert refused.status_code == 422


def test_a_room_is_booked_for_hours_within_its_site_s_opening_hours(db, s, factory):
    from datetime import time

    from sharing.accounts.models import OpeningHours

    monday = TODAY + timedelta(days=7 - TODAY.weekday())
    db.add(OpeningHours(site_id=s["ystad_site"].id, weekday=0, opens=time(8), closes=time(17)))
    db.commit()
    room = factory.listing_published(site=s["ystad_site"], by=s["manager"], kind="place",
                                     category=factory.category(kind="place"), lend=True)

    def book(start, end, day=monday):
        return loans.ask(db, listing_id=room.id, by=s["employee"], now=utcnow(), details=borrow(
            s, quantity=1, first=day, last_day=None, start_time=start, end_time=end))

    morning = book(time(9), time(11))
    db.commit()
    assert morning.starts_at == datetime.combine(monday, time(9), tzinfo=holds.SWEDEN)
    assert (morning.ends_at - morning.starts_at) == timedelta(hours=2)
    with pytest.raises(holds.NotFree):
        book(time(10), time(12))  # overlaps the morning
    db.rollback()
    assert book(time(11), time(13)).id  # right after it
    with pytest.raises(DomainError, match="opening hours that day: 08:00–17:00"):
        book(time(16), time(18))
    db.rollback()
    with pytest.raises(DomainError, match="closed that day"):
        book(time(9), time(10), day=monday + timedelta(days=1))
    db.rollback()
    with pytest.raises(DomainError, match="end time must be after"):
        book(time(12), time(12))


# --- Notices of the steps --------------------------------------------------------------------

def test_a_step_s_notice_is_dated_when_it_was_taken_and_read_once_the_step_it_asks_for_is_taken(app, db, s, factory):
    from sharing.accounts.models import Notification

    colleague = factory.manager(s["ystad"])  # of the owner's side, told too, and never the one who acts
    start = utcnow().replace(microsecond=0) - timedelta(hours=10)
    at = [start + timedelta(hours=n) for n in range(6)]

    def unread(user):
        return {(n.message, n.created_at) for n in db.scalars(select(Notification).where(
            Notification.user_id == user.id, Notification.read_at.is_(None)))}

    with app.app_context():  # each commit hands the step's events to their receivers
        request = loans.ask(db, listing_id=s["chairs"].id, details=borrow(s), by=s["employee"], now=at[0])
        db.commit()
        asked = {("%(unit)s in %(municipality)s asks for %(quantity)s of “%(listing)s”.", at[0])}
        assert unread(s["manager"]) == unread(colleague) == asked
        loans.approve(db, request, by=s["manager"], now=at[1])
        db.commit()
        assert unread(s["manager"]) == unread(colleague) == set()  # decided, by either of them
        assert unread(s["employee"]) == {("Your request for “%(listing)s” is approved.", at[1])}
        loans.hand_over(db, request, condition=Condition.GOOD, method=HandoverMethod.TRANSPORT, by=s["manager"],
                        now=at[2])
        db.commit()
        assert ("“%(listing)s” is noted as handed over: please confirm.", at[2]) in unread(s["employee"])
        loans.confirm(db, request, by=s["employee"], now=at[3])
        db.commit()
        assert unread(s["employee"]) == set()  # they have been at the request, and confirmed
        loans.take_back(db, request, condition=Condition.GOOD, remarks="", damage="", by=colleague, now=at[4])
        db.commit()
        assert unread(s["employee"]) == {("“%(listing)s” is noted as returned: please confirm.", at[4])}
        loans.confirm(db, request, by=s["employee"], now=at[5])
        db.commit()
    db.expire_all()
    assert request.status == "closed"
    for user in (s["employee"], s["manager"], colleague):
        assert unread(user) == set(), user.email
    read = db.scalars(select(Notification).where(Notification.url == f"/loans/{request.id}")).all()
    assert all(n.read_at >= n.created_at for n in read)


def test_a_request_names_the_asking_unit_s_municipality_and_settles_notices_of_its_earlier_wording(
        app, db, s, factory):
    from sharing.accounts import notifications
    from sharing.accounts.models import Notification
    from sharing.loans.requests.notices import EARLIER, TOLD

    colleague = factory.manager(s["ystad"])
    with app.app_context():
        request = ask(db, s)
        # A colleague's notice of it told in the wording before the municipality was named.
        [earlier] = EARLIER[TOLD[events.REQUESTED][0]]
        notifications.notify(db, user_id=colleague.id, message=earlier, params={"unit": "Skurups skola"},
                             url=f"/loans/{request.id}", now=utcnow())
        db.commit()
        told = db.scalars(select(Notification).where(Notification.user_id == s["manager"].id)).one()
        assert told.params["municipality"] == "Skurup" and "%(municipality)s" in told.message
        loans.approve(db, request, by=s["manager"], now=utcnow())
        db.commit()
    db.expire_all()
    assert all(n.read_at is not None for n in db.scalars(select(Notification).where(
        Notification.user_id == colleague.id, Notification.url == f"/loans/{request.id}")))


def test_the_owner_hears_as_news_what_the_driver_of_a_transport_did_on_their_behalf(app, db, s, factory):
    from sharing.accounts.models import Notification

    driver = factory.user(s["ystad"], Role.DRIVER)
    start = utcnow().replace(microsecond=0)

    def told(user):
        return [n.message for n in db.scalars(select(Notification).where(
            Notification.user_id == user.id, Notification.created_at > start))]

    with app.app_context():
        request = ask(db, s)
        loans.approve(db, request, by=s["manager"], now=utcnow())
        db.commit()
        loans.hand_over(db, request, condition=None, method=HandoverMethod.TRANSPORT, by=driver, now=utcnow(),
                        for_side="owner")
        db.commit()
        loans.take_back(db, request, condition=None, remarks="", damage="", by=driver, now=utcnow(), carried=True)
        db.commit()
    assert told(s["manager"])[-2:] == ["“%(listing)s” is handed over by transport.",
                                       "“%(listing)s” is back, taken back by transport."]
    assert told(s["employee"])[-2:] == ["“%(listing)s” is noted as handed over: please confirm.",
                                        "“%(listing)s” is noted as returned: please confirm."]
    assert told(driver) == []

    # A facility manager who asked their own municipality is on both sides: told once.
    since = utcnow()
    with app.app_context():
        own = ask(db, s, borrow(s, delivery_site_id=s["ystad_site"].id), by=s["manager"])
        loans.approve(db, own, by=factory.manager(s["ystad"]), now=utcnow())
        db.commit()
        loans.hand_over(db, own, condition=None, method=HandoverMethod.TRANSPORT, by=driver, now=utcnow(),
                        for_side="owner")
        db.commit()
    handed = [n.message for n in db.scalars(select(Notification).where(
        Notification.user_id == s["manager"].id, Notification.created_at >= since.replace(microsecond=0),
        Notification.url == f"/loans/{own.id}"))]
    assert handed.count("“%(listing)s” is noted as handed over: please confirm.") == 1
    assert "“%(listing)s” is handed over by transport." not in handed


def test_a_request_that_ended_asks_nothing_more_but_its_end_is_told(app, db, s):
    from sharing.accounts.models import Notification

    start = utcnow().replace(microsecond=0) - timedelta(hours=3)
    with app.app_context():
        request = loans.ask(db, listing_id=s["chairs"].id, details=borrow(s), by=s["employee"], now=start)
        db.commit()
        loans.cancel(db, request, by=s["employee"], now=start + timedelta(hours=1))
        db.commit()
    told = db.execute(select(Notification.message, Notification.read_at).where(
        Notification.user_id == s["manager"].id).order_by(Notification.id)).all()
    assert [(message, read_at is None) for message, read_at in told] == [
        ("%(unit)s in %(municipality)s asks for %(quantity)s of “%(listing)s”.", False),
        ("The request for “%(listing)s” from %(unit)s in %(municipality)s is cancelled.", True)]
