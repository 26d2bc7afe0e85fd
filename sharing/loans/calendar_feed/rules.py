"""Calendar feeds: each user's loans as an iCalendar (RFC 5545) feed at a secret address.

Calendar apps cannot sign in, so the address itself is the key: a random secret of which only
the hash is kept (as for sessions and API tokens). A new secret replaces the old one, and a
revoked or unknown secret finds nobody, the same way.

What a feed holds, for its owner:
- the requests they made that are still ahead or under way (asked, approved, handed over;
  those not yet approved are tentative);
- for a facility manager, the approved and handed-over requests for their municipality's listings.

Each request gives its events: the booking (a loan's days), the pickup or delivery day (its
first day, for things) and the due date (a handed-over loan's last day, for things). Days are
Swedish days, written as whole-day DATE values. The feed names listings, quantities and
municipalities, never people: the rest is on the request's page behind the link.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from icalendar import Calendar, Event
from icalendar.enums import STATUS, TRANSP
from sqlalchemy import and_, delete, or_, select
from sqlmodel import Session, col

from sharing.accounts.models import Actor, Municipality, Role, User
from sharing.catalog.categories.models import ResourceKind
from sharing.catalog.listings.models import Listing
from sharing.clock import SWEDEN
from sharing.loans.calendar_feed.models import CalendarFeed
from sharing.loans.requests.models import HandoverMethod, LoanRequest, RequestKind, RequestStatus

S = RequestStatus
# A requester sees their requests until they are over; a facility manager, what was agreed.
AS_REQUESTER = (S.REQUESTED.value, S.APPROVED.value, S.HANDED_OVER.value)
AS_OWNER = (S.APPROVED.value, S.HANDED_OVER.value)
SECRET_MAX = 100  # a longer "secret" is none of ours: not even hashed
PRODUCT_ID = "-//Delningstjänsten//Loans calendar//EN"
UID_DOMAIN = "delning"
REFRESH = timedelta(hours=1)


# --- The secret -----------------------------------------------------------------------------

def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def feed_of(session: Session, *, user_id: int) -> CalendarFeed | None:
    return session.scalar(select(CalendarFeed).where(col(CalendarFeed.user_id) == user_id))


def make_secret(session: Session, *, user_id: int, now: datetime) -> str:
    """A new secret for the user's feed, replacing any earlier one; returned once, only its hash is kept."""
    raw = secrets.token_urlsafe(32)
    feed = feed_of(session, user_id=user_id)
    if feed is None:
        feed = CalendarFeed(user_id=user_id, secret_hash=_digest(raw), created_at=now)
    feed.secret_hash, feed.created_at = _digest(raw), now
    session.add(feed)
    session.flush()
    return raw


def revoke(session: Session, *, user_id: int) -> bool:
    """Forget the user's secret: its address finds nothing from now on. False if there was none."""
    removed = session.execute(delete(CalendarFeed).where(col(CalendarFeed.user_id) == user_id))
    return bool(removed.rowcount)  # type: ignore[attr-defined]  # a CursorResult's


def owner_of(session: Session, *, secret: str) -> User | None:
    """The active user whose feed this secret opens; None for an unknown or revoked secret alike."""
    if not secret or len(secret) > SECRET_MAX:
        return None
    user = session.scalar(select(User).join(CalendarFeed, col(CalendarFeed.user_id) == col(User.id))
                          .where(col(CalendarFeed.secret_hash) == _digest(secret)))
    return user if user is not None and user.active else None


# --- What the feed holds ----------------------------------------------------------------------

class Happening(StrEnum):
    BOOKING = "booking"  # a loan's days
    PICKUP = "pickup"  # the requester fetches the pieces on the first day
    DELIVERY = "delivery"  # the service's transport brings them on the first day
    DUE = "due"  # a lent thing goes back on the last day


class Side(StrEnum):
    REQUESTER = "requester"
    OWNER = "owner"  # a facility manager of the listing's municipality


# The UID's part for each happening: a pickup that becomes a delivery stays one event.
_UID_PART = {Happening.BOOKING: "booking", Happening.PICKUP: "handover", Happening.DELIVERY: "handover",
             Happening.DUE: "due"}


@dataclass(frozen=True)
class Entry:
    """One event of the feed: what happens, from whose side, and when (``end`` exclusive)."""

    request_id: int
    happening: Happening
    side: Side
    tentative: bool  # asked for, not yet approved
    listing: str
    quantity: int
    municipality: str  # the other side's municipality
    start: date | datetime
    end: date | datetime
    stamp: datetime  # when the request last changed

    @property
    def uid(self) -> str:
        return f"loans-request-{self.request_id}-{_UID_PART[self.happening]}@{UID_DOMAIN}"


def calendar_uid(user_id: int) -> str:
    """The feed's own UID (RFC 7986): the same at every fetch."""
    return f"loans-calendar-{user_id}@{UID_DOMAIN}"


def _swedish_day(at: datetime) -> date:
    return at.astimezone(SWEDEN).date()


def _is_midnight(at: datetime) -> bool:
    return at.astimezone(SWEDEN).time() == time(0)


def _span(starts_at: datetime, ends_at: datetime) -> tuple[date | datetime, date | datetime]:
    """Whole Swedish days as DATE values (the end exclusive, as iCalendar wants); else instants."""
    if _is_midnight(starts_at) and _is_midnight(ends_at):
        return _swedish_day(starts_at), _swedish_day(ends_at)
    return starts_at, ends_at


def _one_day(day: date) -> tuple[date, date]:
    return day, day + timedelta(days=1)


def entries(session: Session, user: Actor) -> list[Entry]:
    """The events of the user's feed, in order of time."""
    mine = and_(col(LoanRequest.requester_id) == user.id, col(LoanRequest.status).in_(AS_REQUESTER))
    wanted = mine
    if user.has_role(Role.FACILITY_MANAGER):
        wanted = or_(mine, and_(col(LoanRequest.owner_municipality_id) == user.municipality_id,
                                col(LoanRequest.status).in_(AS_OWNER)))
    requests = session.scalars(select(LoanRequest).where(wanted)
                               .order_by(col(LoanRequest.starts_at), col(LoanRequest.id))).all()
    if not requests:
        return []
    listings = {row.id: (row.title, row.kind) for row in session.execute(
        select(col(Listing.id), col(Listing.title), col(Listing.kind))
        .where(col(Listing.id).in_({r.listing_id for r in requests})))}
    municipalities = {row.id: row.name for row in session.execute(
        select(col(Municipality.id), col(Municipality.name)).where(col(Municipality.id).in_(
            {i for r in requests for i in (r.owner_municipality_id, r.requester_municipality_id)})))}
    found: list[Entry] = []
    for request in requests:
        side = Side.REQUESTER if request.requester_id == user.id else Side.OWNER
        other = request.owner_municipality_id if side == Side.REQUESTER else request.requester_municipality_id
        title, kind = listings.get(request.listing_id, ("", ResourceKind.THING))
        found.extend(_entries_of(request, side=side, listing=title, kind=kind,
                                 municipality=municipalities.get(other, "")))
    return sorted(found, key=lambda e: (_swedish_day_of(e.start), e.request_id, e.uid))


def _entries_of(request: LoanRequest, *, side: Side, listing: str, kind: str, municipality: str) -> list[Entry]:
    """A request's events: a loan's booking; for things, the handover day and, once handed
    over, the day a loan is due back."""
    assert request.id is not None

    def entry(happening: Happening, span: tuple[date | datetime, date | datetime]) -> Entry:
        assert request.id is not None
        return Entry(request_id=request.id, happening=happening, side=side,
                     tentative=request.status == S.REQUESTED.value, listing=listing, quantity=request.quantity,
                     municipality=municipality, start=span[0], end=span[1], stamp=request.updated_at)

    found: list[Entry] = []
    ends_at = request.ends_at if request.kind == RequestKind.BORROW.value else None
    if ends_at is not None:
        found.append(entry(Happening.BOOKING, _span(request.starts_at, ends_at)))
    if kind != ResourceKind.THING:
        return found  # a place or a service is used where it is: nothing fetched, nothing returned
    method = request.handover_method or (HandoverMethod.TRANSPORT.value if request.transport_needed
                                         else HandoverMethod.PICKUP.value)
    found.append(entry(Happening.DELIVERY if method == HandoverMethod.TRANSPORT.value else Happening.PICKUP,
                       _one_day(_swedish_day(request.starts_at))))
    if ends_at is not None and request.status == S.HANDED_OVER.value:
        found.append(entry(Happening.DUE, _one_day(_swedish_day(ends_at - timedelta(microseconds=1)))))
    return found


def _swedish_day_of(value: date | datetime) -> date:
    return _swedish_day(value) if isinstance(value, datetime) else value


# --- The iCalendar text -----------------------------------------------------------------------

def ical(found: Sequence[Entry], *, uid: str, name: str, summary: Callable[[Entry], str],
         link: Callable[[int], str]) -> bytes:
    """The feed as iCalendar text. ``summary`` words an entry in the reader's language; ``link``
    gives the absolute address of a request's page."""
    calendar = Calendar.new(prodid=PRODUCT_ID, uid=uid, name=name, calscale="GREGORIAN")
    # How often to fetch it again (RFC 7986, and what older clients read), and the zone of its days.
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    calendar.add("x-wr-timezone", str(SWEDEN))
    for item in found:
        calendar.add_component(Event.new(
            uid=item.uid, stamp=item.stamp, start=item.start, end=item.end, summary=summary(item),
            url=link(item.request_id), status=STATUS.TENTATIVE if item.tentative else STATUS.CONFIRMED,
            transparency=TRANSP.TRANSPARENT))  # a loan's days do not make its borrower busy
    return calendar.to_ical()
