"""Holds on listings: the catalog alone decides whether pieces are free, and keeps it true.

The invariant: at no moment do the pieces held of a listing exceed its quantity. Every
booking checks it inside the transaction that writes the hold, after taking the listing's
write lock (``_lock``): a second booking of the same listing waits for the first to commit and
then counts its hold. The booking tools whose double bookings are well known (LibreBooking,
Snipe-IT, Shelf) all checked outside the writing transaction.

Lent pieces are also known to be away (``hand_out``) until they are back (``bring_back``):
the listing's status follows that, not the periods (see ``listings.rules.follow_lending``).
A loan not back by its end (overdue) keeps its pieces held until they are: as of ``now``, a
hold out and not back whose end has passed holds from its start with no end (``held_until``),
as a hold for good does, until ``bring_back``. So every question of what is free is asked at
a ``now``. A loan out but not yet past its end holds to that end: days after it can be booked.

Periods are half-open, [starts_at, ends_at) in UTC; a loan of whole days runs from the first
day's midnight in Sweden to the midnight after its last (``days``). A hold for good has no end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, and_, bindparam, case, exists, func, literal, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.orm.util import AliasedClass
from sqlmodel import Session, col

from sharing.catalog.holds.models import Hold, HoldPurpose
from sharing.catalog.listings.models import Listing, ListingStatus
from sharing.clock import SWEDEN
from sharing.db import UTCDateTime, row_lock
from sharing.errors import Conflict, DomainError, NotVisible
from sharing.i18n import N_, NP_

BOOKABLE = (ListingStatus.PUBLISHED.value, ListingStatus.RESERVED.value, ListingStatus.ON_LOAN.value)
CALENDAR_DAYS_MAX = 370


@dataclass(frozen=True)
class Period:
    starts_at: datetime
    ends_at: datetime | None  # None: for good

    def __post_init__(self) -> None:
        if self.ends_at is not None and self.ends_at <= self.starts_at:
            raise DomainError(N_("The period must end after it starts."), field="ends_on")


def midnight(day: date) -> datetime:
    """The instant a Swedish day begins (a day of 23 or 25 hours at the clock changes)."""
    return datetime.combine(day, time(0), tzinfo=SWEDEN)


def day_before(ends_at: datetime) -> date:
    """The last Swedish day of a period that ends at ``ends_at`` (the midnight after it)."""
    return (ends_at.astimezone(SWEDEN) - timedelta(microseconds=1)).date()


# The days a period may name: wide enough for any booking or search, and inside the calendar's
# arithmetic (9999-12-31 has no next day; the year 1 no midnight in UTC).
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)


def in_calendar(day: date) -> bool:
    return FIRST_DAY <= day <= LAST_DAY


def days(first: date, last: date | None) -> Period:
    """Whole Swedish days, ``first`` to ``last`` inclusive (``last`` None: for good, from ``first``)."""
    if not in_calendar(first) or (last is not None and not in_calendar(last)):
        raise DomainError(N_("Choose a date from %(first)s to %(last)s."),
                          field="starts_on" if not in_calendar(first) else "ends_on",
                          first=FIRST_DAY.isoformat(), last=LAST_DAY.isoformat())
    if last is not None and last < first:
        raise DomainError(N_("The last day must not be before the first."), field="ends_on")
    return Period(midnight(first), midnight(last + timedelta(days=1)) if last is not None else None)


class NotFree(Conflict):
    """Fewer pieces are free than were asked for: someone booked them first."""

    def __init__(self, free: int) -> None:
        if free:
            super().__init__(NP_("Only %(num)d piece is free for those dates.",
                                 "Only %(num)d pieces are free for those dates."), field="quantity", num=free)
        else:
            super().__init__(N_("No piece is free for those dates."), field="quantity")
        self.free = free


class NotFreeBefore(Conflict):
    """Pieces handed over before their booking's first day would be out while others hold them."""

    def __init__(self, free: int) -> None:
        if free:
            super().__init__(NP_("Only %(num)d piece is free before the agreed first day: hand them over on that "
                                 "day.", "Only %(num)d pieces are free before the agreed first day: hand them over "
                                 "on that day."), num=free)
        else:
            super().__init__(N_("No piece is free before the agreed first day: hand them over on that day."))
        self.free = free


def held_until(hold: Hold, now: datetime) -> datetime | None:
    """When a hold stops holding its pieces, as known at ``now``: its end, or none (like a hold
    for good) while its pieces are overdue, out past its end and not back."""
    if hold.out_at is not None and hold.back_at is None and hold.ends_at is not None and hold.ends_at <= now:
        return None
    return hold.ends_at


def _held_after(hold: type[Hold] | AliasedClass[Hold], moment: ColumnElement[datetime] | datetime,
                now: ColumnElement[datetime] | datetime) -> ColumnElement[bool]:
    """The hold still holds its pieces after ``moment``, as known at ``now`` (``held_until`` in SQL)."""
    ends_at = col(hold.ends_at)
    return or_(ends_at.is_(None), ends_at > moment,
               and_(col(hold.out_at).is_not(None), col(hold.back_at).is_(None), ends_at <= now))


class NotHere(Conflict):
    """Fewer pieces are here to hand over than were booked: others are still away on loan (one
    not back by its end, say: booked before it fell overdue)."""

    def __init__(self, here: int) -> None:
        if here:
            super().__init__(NP_("Only %(num)d piece is here: the others are still out on loan.",
                                 "Only %(num)d pieces are here: the others are still out on loan."), num=here)
        else:
            super().__init__(N_("No piece is here: every one is still out on loan."))
        self.here = here


def _overlapping(period: Period, now: datetime) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [_held_after(Hold, period.starts_at, now)]
    if period.ends_at is not None:
        conditions.append(col(Hold.starts_at) < period.ends_at)
    return conditions


# Built once: every booking and every listing page asks, and building a statement costs more
# than running it. The index ix_listing_hold_listing_active finds a listing's holds in force.
_IN_FORCE_FOR_GOOD = select(Hold).where(
    col(Hold.listing_id) == bindparam("listing_id"), col(Hold.released_at).is_(None),
    _held_after(Hold, bindparam("starts_at", type_=UTCDateTime), bindparam("now", type_=UTCDateTime)))
_IN_FORCE = _IN_FORCE_FOR_GOOD.where(col(Hold.starts_at) < bindparam("ends_at", type_=UTCDateTime))


def _holds_in(session: Session, listing_id: int, period: Period, *, now: datetime,
              leaving_out: int | None = None) -> list[Hold]:
    """The listing's unreleased holds that overlap the period as known at ``now`` (as
    ``_overlapping`` says)."""
    query, values = _IN_FORCE_FOR_GOOD, {"listing_id": listing_id, "starts_at": period.starts_at, "now": now}
    if period.ends_at is not None:
        query, values = _IN_FORCE, {**values, "ends_at": period.ends_at}
    if leaving_out is not None:
        query = query.where(col(Hold.id) != leaving_out)
    return list(session.scalars(query, values))


def most_held(holds: list[Hold], period: Period, *, now: datetime) -> int:
    """The most pieces held at any one moment of the period, as known at ``now`` (a sweep over
    the holds' ends)."""
    changes: list[tuple[datetime, int]] = []
    for hold in holds:
        ends_at = held_until(hold, now)
        if (ends_at is not None and ends_at <= period.starts_at) or (
                period.ends_at is not None and hold.starts_at >= period.ends_at):
            continue  # not within the period at all
        changes.append((max(hold.starts_at, period.starts_at), hold.quantity))
        if ends_at is not None and (period.ends_at is None or ends_at < period.ends_at):
            changes.append((ends_at, -hold.quantity))
    held = most = 0
    for _at, change in sorted(changes, key=lambda c: (c[0], c[1])):  # a hold ending frees before one starts
        held += change
        most = max(most, held)
    return most


def free_pieces(session: Session, listing: Listing, period: Period, *, now: datetime) -> int:
    """How many of the listing's pieces are free for the whole period (as last committed, and
    as known at ``now``: overdue pieces are not free)."""
    return free_of(listing.quantity, most_held(_holds_in(session, _id(listing), period, now=now), period, now=now))


def free_of(quantity: int, held: int) -> int:
    """How many of so many pieces are free throughout a period, given the most held at once in it."""
    return max(0, quantity - held)


def none_free(period: Period, *, now: datetime) -> ColumnElement[bool]:
    """A condition on a query of listings: no piece is free for the whole period, as known at
    ``now`` (exactly, in SQL; an overdue hold holds with no end, as ``held_until`` says).

    What is held changes only where a hold starts or ends, and grows only where one starts: the
    most held in the period is held at its start or at the start of a hold within it. So a
    listing has no piece free throughout when, at one of those moments, the unreleased holds in
    force then add up to its quantity. Two holds back to back (one ending where the next starts)
    are never counted together. Per listing it is an index probe (``ix_listing_hold_listing_active``)
    that finds nothing for most listings, and a few more for those with holds in the period."""
    moment_hold, covering = aliased(Hold), aliased(Hold)
    start, at = literal(period.starts_at, UTCDateTime), literal(now, UTCDateTime)
    moment = case((col(moment_hold.starts_at) > start, col(moment_hold.starts_at)), else_=start)
    held_then = (select(func.coalesce(func.sum(col(covering.quantity)), 0))
                 .where(col(covering.listing_id) == col(Listing.id), col(covering.released_at).is_(None),
                        col(covering.starts_at) <= moment, _held_after(covering, moment, at))
                 .correlate(Listing, moment_hold).scalar_subquery())  # the listing: two levels up
    in_period = [_held_after(moment_hold, start, at)]
    if period.ends_at is not None:
        in_period.append(col(moment_hold.starts_at) < period.ends_at)
    return exists().where(col(moment_hold.listing_id) == col(Listing.id), col(moment_hold.released_at).is_(None),
                          *in_period, held_then >= col(Listing.quantity))


def most_held_of(session: Session, listing_ids: list[int], period: Period, *, now: datetime) -> dict[int, int]:
    """The most pieces held at any one moment of the period as known at ``now``, for each of a
    few listings (a page of search results): one query, then ``most_held`` for each."""
    holds: dict[int, list[Hold]] = {listing_id: [] for listing_id in listing_ids}
    if listing_ids:
        for held in session.scalars(select(Hold).where(col(Hold.listing_id).in_(listing_ids),
                                                       col(Hold.released_at).is_(None), *_overlapping(period, now))):
            holds[held.listing_id].append(held)
    return {listing_id: most_held(found, period, now=now) for listing_id, found in holds.items()}


def _id(listing: Listing) -> int:
    assert listing.id is not None
    return listing.id


_LOCK = row_lock(Listing)  # every booking asks


def lock(session: Session, listing_id: int) -> Listing:
    """Take the listing's write lock for the rest of the transaction and read it as committed
    (``db.row_lock``)."""
    listing = session.scalars(_LOCK, {"id": listing_id}).one_or_none()  # the row as the UPDATE left it
    if listing is None:
        raise NotVisible()
    return listing


def hold(session: Session, *, listing_id: int, quantity: int, period: Period, purpose: HoldPurpose,
         holder: str, now: datetime) -> Hold:
    """Hold pieces of a published listing for the period, if that many are free throughout it.
    Flushed in the caller's transaction, which keeps the listing locked until it ends."""
    if quantity < 1:
        raise DomainError(N_("Ask for at least one piece."), field="quantity")
    listing = lock(session, listing_id)
    if listing.status not in BOOKABLE:
        raise DomainError(N_("This listing can no longer be booked."))
    free = free_of(listing.quantity, most_held(_holds_in(session, listing_id, period, now=now), period, now=now))
    if quantity > free:
        raise NotFree(free)
    made = Hold(listing_id=listing_id, quantity=quantity, starts_at=period.starts_at, ends_at=period.ends_at,
                purpose=purpose.value, holder=holder, created_at=now)
    session.add(made)
    session.flush()
    return made


def extend(session: Session, *, hold_id: int, until: datetime, now: datetime) -> Hold:
    """Move a hold's end later, if its pieces are free until then."""
    held = session.get(Hold, hold_id)
    if held is None or held.released_at is not None:
        raise DomainError(N_("This booking is no longer in force."))
    listing = lock(session, held.listing_id)
    session.refresh(held)
    if held.ends_at is None or until <= held.ends_at:
        raise DomainError(N_("The new end must be later than the current one."), field="ends_on")
    added = Period(held.ends_at, until)
    free = free_of(listing.quantity, most_held(_holds_in(session, held.listing_id, added, now=now, leaving_out=hold_id),
                                               added, now=now))
    if held.quantity > free:
        raise NotFree(free)
    held.ends_at = until
    session.add(held)
    session.flush()
    return held


def release(session: Session, *, hold_id: int, now: datetime) -> None:
    """Free a hold's pieces entirely (a request cancelled or declined): it no longer counts."""
    held = session.get(Hold, hold_id)
    if held is None or held.released_at is not None:
        return
    lock(session, held.listing_id)
    held.released_at = now
    session.add(held)
    session.flush()


def end(session: Session, *, hold_id: int, at: datetime) -> None:
    """End a hold at ``at`` (pieces back early): free from then on, on record until then."""
    held = session.get(Hold, hold_id)
    if held is None or held.released_at is not None or (held.ends_at is not None and held.ends_at <= at):
        return
    lock(session, held.listing_id)
    held.ends_at = max(at, held.starts_at + timedelta(seconds=1))
    session.add(held)
    session.flush()


def hand_out(session: Session, *, hold_id: int, at: datetime) -> Listing:
    """The held pieces left their owner (a loan handed over): out until ``bring_back``, whatever
    the period says, if that many are here (not away on another loan); before its first day, the
    hold starts then (if the pieces are free until that day). Returns the listing, locked for the
    rest of the transaction."""
    held = session.get(Hold, hold_id)
    if held is None:
        raise DomainError(N_("This booking is no longer in force."))
    listing = lock(session, held.listing_id)
    session.refresh(held)
    if held.released_at is not None:
        raise DomainError(N_("This booking is no longer in force."))
    if held.out_at is None:
        here = listing.quantity - pieces_out(session, held.listing_id)
        if held.quantity > here:  # booked when they were due back in time: still away
            raise NotHere(max(0, here))
        if at < held.starts_at:  # handed over early: held from now on, if no one else holds them until then
            before = Period(at, held.starts_at)  # overdue pieces, still away, count as held throughout
            free = free_of(listing.quantity, most_held(_holds_in(session, held.listing_id, before, now=at,
                                                                 leaving_out=held.id), before, now=at))
            if held.quantity > free:
                raise NotFreeBefore(free)
            held.starts_at = at
        held.out_at = at
        session.add(held)
        session.flush()
    return listing


def bring_back(session: Session, *, hold_id: int, at: datetime) -> Listing | None:
    """The held pieces are back with their owner: no longer out, and free from ``at`` on (see
    ``end``). Returns the listing, locked; None if the hold is gone."""
    held = session.get(Hold, hold_id)
    if held is None:
        return None
    listing = lock(session, held.listing_id)
    session.refresh(held)
    if held.out_at is not None and held.back_at is None:
        held.back_at = at
        session.add(held)
        session.flush()
    end(session, hold_id=hold_id, at=at)
    return listing


def pieces_out(session: Session, listing_id: int) -> int:
    """How many of the listing's pieces are away with borrowers now (handed out, not back)."""
    return session.scalar(select(func.coalesce(func.sum(col(Hold.quantity)), 0)).where(
        col(Hold.listing_id) == listing_id, col(Hold.released_at).is_(None), col(Hold.out_at).is_not(None),
        col(Hold.back_at).is_(None))) or 0


@dataclass(frozen=True)
class Day:
    day: date
    free: int


def calendar(session: Session, listing: Listing, *, first: date, count: int, now: datetime) -> list[Day]:
    """How many pieces are free on each of ``count`` days from ``first``, as known at ``now``
    (the listing page's calendar): one read of the holds, then one sweep over their ends, day by day."""
    count = max(1, min(count, CALENDAR_DAYS_MAX))
    whole = days(first, first + timedelta(days=count - 1))
    return days_free(_holds_in(session, _id(listing), whole, now=now), listing.quantity, first=first, count=count,
                     now=now)


def days_free(holds: list[Hold], quantity: int, *, first: date, count: int, now: datetime) -> list[Day]:
    """``most_held`` for each Swedish day from ``first`` on, in one sweep: what is held when a day
    begins, and each change within it."""
    bounds = [midnight(first + timedelta(days=n)) for n in range(count + 1)]
    changes: list[tuple[datetime, int]] = []
    for hold in holds:
        changes.append((hold.starts_at, hold.quantity))
        ends_at = held_until(hold, now)
        if ends_at is not None:
            changes.append((ends_at, -hold.quantity))
    changes.sort(key=lambda c: (c[0], c[1]))  # a hold ending frees before one starting at that moment
    calendar: list[Day] = []
    held = n = 0
    for day in range(count):
        begins, ends = bounds[day], bounds[day + 1]
        while n < len(changes) and changes[n][0] <= begins:
            held += changes[n][1]
            n += 1
        most = held
        while n < len(changes) and changes[n][0] < ends:
            held += changes[n][1]
            most = max(most, held)
            n += 1
        calendar.append(Day(first + timedelta(days=day), max(0, quantity - most)))
    return calendar


def least_free(calendar: list[Day], first: date, last: date) -> int | None:
    """The fewest pieces free on any day from ``first`` to ``last``, as a calendar says (the
    pieces free for the whole of those days); None when the calendar does not cover them all."""
    if not calendar or first > last:
        return None
    start = (first - calendar[0].day).days
    end = (last - calendar[0].day).days
    if start < 0 or end >= len(calendar):
        return None
    return min(day.free for day in calendar[start:end + 1])
