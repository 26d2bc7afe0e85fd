"""The queue for a listing: when too few pieces are free, a user waits for them, and the first
in line whose period has come free is told.

Telling books nothing: a told user asks as usual, and may be beaten to it by anyone quicker.
Each entry is told at most once, whoever tells it and however many releases come at once: it is
marked by a compare-and-set in the database (``status = 'waiting'``), in the transaction that
also writes the notice. Places are counted from the order of joining, never stored.

A user joins a listing's queue at most once for overlapping dates, however many joins race
(two tabs, a double click, a retry): a join takes the listing's write lock, the one bookings
take (``holds.lock``), before it looks for the user's places, so a second join of the same
listing waits for the first to commit and then finds its place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, func, or_, select, update
from sqlmodel import Session, col

from sharing.accounts.models import Actor
from sharing.catalog.categories.models import ResourceKind
from sharing.catalog.holds import rules as holds
from sharing.catalog.listings.models import Listing
from sharing.catalog.listings.rules import listing_to_see
from sharing.clock import today_in_sweden
from sharing.errors import DomainError, NotVisible
from sharing.events import record
from sharing.i18n import N_, NP_
from sharing.loans import events
from sharing.loans.queue.models import QueueEntry, QueueStatus
from sharing.loans.requests.rules import BOOKING_HORIZON, OFFER_OF_KIND
from sharing.typed import id_of

W = QueueStatus


@dataclass(frozen=True)
class Wish:
    """What a user waits for: how many pieces, from which day, until which (None: for good)."""

    quantity: int
    first_day: date
    last_day: date | None


@dataclass(frozen=True)
class Place:
    """One of a user's entries, with its place in line while it waits (1: next)."""

    entry: QueueEntry
    position: int | None


def period_of(entry: QueueEntry, *, today: date) -> holds.Period | None:
    """What is left of the entry's period from today on; None if it is over."""
    if entry.last_day is not None and entry.last_day < today:
        return None
    return holds.days(max(entry.first_day, today), entry.last_day)


def queueable(listing: Listing) -> bool:
    """A listing that can be asked for at all can be queued for."""
    return listing.status in holds.BOOKABLE and any(getattr(listing, offer) for offer in OFFER_OF_KIND.values())


# --- Joining and leaving ------------------------------------------------------------------

def join(session: Session, *, listing_id: int, wish: Wish, by: Actor, now: datetime) -> QueueEntry:
    """Join the listing's queue for a period in which too few pieces are free, unless the user
    already waits for overlapping dates (checked under the listing's lock: see above)."""
    listing_to_see(session, by, listing_id)
    listing = holds.lock(session, listing_id)  # read again as committed, once joins before are done
    user_id = by.id
    assert user_id is not None  # a signed-in user
    if not queueable(listing):
        raise DomainError(N_("This listing can no longer be booked."))
    last_day = _last_day(listing, wish)
    if wish.quantity < 1:
        raise DomainError(N_("Ask for at least one piece."), field="quantity")
    if wish.quantity > listing.quantity:
        raise DomainError(NP_("The listing has only %(num)d piece.", "The listing has only %(num)d pieces."),
                          field="quantity", num=listing.quantity)
    today = today_in_sweden(now)
    if wish.first_day < today:
        raise DomainError(N_("The first day must not be in the past."), field="first_day")
    if max(wish.first_day, last_day or wish.first_day) > today + BOOKING_HORIZON:
        raise DomainError(N_("Ask for a day at most two years ahead."), field="last_day" if last_day else "first_day")
    period = holds.days(wish.first_day, last_day)
    if holds.free_pieces(session, listing, period, now=now) >= wish.quantity:
        raise DomainError(N_("Enough pieces are free for those dates: ask for them now instead."), field="quantity")
    if _waiting_overlapping(session, listing_id=listing_id, user_id=user_id, first=wish.first_day, last=last_day):
        raise DomainError(N_("You are already in the queue for these dates."), field="first_day")
    entry = QueueEntry(listing_id=listing_id, user_id=user_id, unit_id=by.unit_id,
                       municipality_id=by.municipality_id, quantity=wish.quantity, first_day=wish.first_day,
                       last_day=last_day, created_at=now)
    session.add(entry)
    session.flush()
    _record(session, events.QUEUE_JOINED, entry, listing=listing, by=by.id, now=now)
    return entry


def _last_day(listing: Listing, wish: Wish) -> date | None:
    for_good = listing.kind == ResourceKind.THING and (listing.give_away or listing.swap)
    if not listing.lend:
        return None  # only for good: a last day means nothing
    if wish.last_day is None:
        if not for_good:
            raise DomainError(N_("Give the last day of the loan."), field="last_day")
        return None
    if wish.last_day < wish.first_day:
        raise DomainError(N_("The last day must not be before the first."), field="last_day")
    return wish.last_day


def _waiting_overlapping(session: Session, *, listing_id: int, user_id: int, first: date, last: date | None) -> bool:
    query = select(col(QueueEntry.id)).where(
        col(QueueEntry.listing_id) == listing_id, col(QueueEntry.user_id) == user_id,
        col(QueueEntry.status) == W.WAITING.value,
        or_(col(QueueEntry.last_day).is_(None), col(QueueEntry.last_day) >= first))
    if last is not None:
        query = query.where(col(QueueEntry.first_day) <= last)
    return session.scalar(query.limit(1)) is not None


def leave(session: Session, entry: QueueEntry, *, by: Actor, now: datetime) -> None:
    """The user leaves the queue (waiting or told)."""
    if entry.user_id != by.id:
        raise NotVisible(f"queue entry {entry.id}")
    if not _move(session, entry, (W.WAITING, W.TOLD), W.LEFT, now=now):
        raise DomainError(N_("You are no longer in this queue."))
    _record(session, events.QUEUE_LEFT, entry, listing=None, by=by.id, now=now, extra={"why": "left"})


def leave_after_asking(session: Session, *, user_id: int, listing_id: int, now: datetime) -> list[QueueEntry]:
    """A told user asked for the listing: their told entries for it are done."""
    told = list(session.scalars(select(QueueEntry).where(
        col(QueueEntry.listing_id) == listing_id, col(QueueEntry.user_id) == user_id,
        col(QueueEntry.status) == W.TOLD.value)))
    left = [entry for entry in told if _move(session, entry, (W.TOLD,), W.LEFT, now=now)]
    for entry in left:
        _record(session, events.QUEUE_LEFT, entry, listing=None, by=user_id, now=now, extra={"why": "asked"})
    return left


def drop(session: Session, entry: QueueEntry, *, why: str, now: datetime) -> bool:
    """A waiting place that can never be told any more (its listing can no longer be booked, or
    its period is over) leaves the queue, recorded so (``why``); False if it no longer waited."""
    if not _move(session, entry, (W.WAITING,), W.LEFT, now=now):
        return False
    _record(session, events.QUEUE_LEFT, entry, listing=None, by=None, now=now, extra={"why": why})
    return True


def _move(session: Session, entry: QueueEntry, sources: tuple[QueueStatus, ...], to: QueueStatus, *,
          now: datetime) -> bool:
    """Compare and set, in the database: True if this call moved the entry (and nobody else did)."""
    values: dict[str, Any] = {"status": to.value}
    if to == W.TOLD:
        values["told_at"] = now
    elif to == W.LEFT:
        values["left_at"] = now
    moved = session.execute(update(QueueEntry).where(col(QueueEntry.id) == entry.id,
                                                     col(QueueEntry.status).in_([s.value for s in sources]))
                            .values(**values).execution_options(synchronize_session=False))
    session.refresh(entry)
    return moved.rowcount == 1  # type: ignore[attr-defined]  # a CursorResult's


def _record(session: Session, name: str, entry: QueueEntry, *, listing: Listing | None, by: int | None,
            now: datetime, extra: dict[str, Any] | None = None) -> None:
    owner = listing.municipality_id if listing is not None else session.scalar(
        select(col(Listing.municipality_id)).where(col(Listing.id) == entry.listing_id))
    record(session, name, subject_type=events.QUEUE_SUBJECT, subject_id=id_of(entry), now=now, actor_id=by,
           municipality_id=owner,
           payload={"listing_id": entry.listing_id, "quantity": entry.quantity,
                    "first_day": entry.first_day.isoformat(),
                    "last_day": entry.last_day.isoformat() if entry.last_day else None,
                    "user_municipality_id": entry.municipality_id, **(extra or {})})


# --- Telling the next in line ---------------------------------------------------------------

def mark_told(session: Session, entry: QueueEntry, *, now: datetime) -> bool:
    """Mark a waiting entry told; False if it no longer waits (told already, or left)."""
    if not _move(session, entry, (W.WAITING,), W.TOLD, now=now):
        return False
    _record(session, events.QUEUE_TOLD, entry, listing=None, by=None, now=now)
    return True


def tell_next(session: Session, *, listing_id: int, now: datetime) -> list[QueueEntry]:
    """Pieces of the listing came free: mark told, in the order of joining, each waiting entry
    whose period now has enough free pieces; returns them, for the caller to tell.

    Pieces that an entry told in this pass would take count as taken for those after it, so two
    people are never told of the same pieces at once (the told may still be beaten by anyone)."""
    listing = session.get(Listing, listing_id)
    if listing is None or not queueable(listing):
        return []
    today = today_in_sweden(now)
    told: list[tuple[holds.Period, int]] = []
    result = []
    for entry in waiting(session, listing_id=listing_id):
        period = period_of(entry, today=today)
        if period is None:
            continue  # the period is over: nothing can come free for it any more
        promised = sum(quantity for other, quantity in told if _overlap(period, other))
        if holds.free_pieces(session, listing, period, now=now) - promised < entry.quantity:
            continue
        if mark_told(session, entry, now=now):
            told.append((period, entry.quantity))
            result.append(entry)
    return result


def _overlap(a: holds.Period, b: holds.Period) -> bool:
    return (a.ends_at is None or b.starts_at < a.ends_at) and (b.ends_at is None or a.starts_at < b.ends_at)


# --- Finding -------------------------------------------------------------------------------------

def waiting(session: Session, *, listing_id: int) -> list[QueueEntry]:
    """The listing's waiting entries, first in line first."""
    return list(session.scalars(select(QueueEntry).where(
        col(QueueEntry.listing_id) == listing_id, col(QueueEntry.status) == W.WAITING.value)
        .order_by(col(QueueEntry.created_at), col(QueueEntry.id))))


def waiting_count(session: Session, *, listing_id: int) -> int:
    """How many wait for the listing (its managers see the number, never who)."""
    return session.scalar(select(func.count()).select_from(QueueEntry).where(
        col(QueueEntry.listing_id) == listing_id, col(QueueEntry.status) == W.WAITING.value)) or 0


def position(session: Session, entry: QueueEntry) -> int | None:
    """The entry's place in line (1: next), while it waits."""
    if entry.status != W.WAITING.value:
        return None
    ahead = session.scalar(select(func.count()).select_from(QueueEntry).where(
        col(QueueEntry.listing_id) == entry.listing_id, col(QueueEntry.status) == W.WAITING.value,
        or_(col(QueueEntry.created_at) < entry.created_at,
            (col(QueueEntry.created_at) == entry.created_at) & (col(QueueEntry.id) < entry.id)))) or 0
    return ahead + 1


def entry_to_see(session: Session, user: Actor, entry_id: int) -> QueueEntry:
    """A queue entry is its user's alone."""
    entry = session.get(QueueEntry, entry_id)
    if entry is None or entry.user_id != user.id:
        raise NotVisible(f"queue entry {entry_id}")
    return entry


# Built once: every listing page asks for the user's places in its queue.
_PLACES = select(QueueEntry).where(col(QueueEntry.user_id) == bindparam("user_id"),
                                   col(QueueEntry.status).in_((W.WAITING.value, W.TOLD.value))) \
    .order_by(col(QueueEntry.created_at).desc(), col(QueueEntry.id).desc())
_PLACES_FOR = _PLACES.where(col(QueueEntry.listing_id) == bindparam("listing_id"))


def places_of(session: Session, user: Actor, *, listing_id: int | None = None) -> list[Place]:
    """The user's entries still in force (waiting or told), newest first."""
    if listing_id is None:
        entries = session.scalars(_PLACES, {"user_id": user.id}).all()
    else:
        entries = session.scalars(_PLACES_FOR, {"user_id": user.id, "listing_id": listing_id}).all()
    return [Place(entry, position(session, entry)) for entry in entries]
