"""The life of a request: asked, decided, handed over, returned, closed.

Each kind of request has its own status machine (``TRANSITIONS``); a step it does not allow is
refused with a clear message. The pieces asked for are held from the moment of asking, through
the catalog's holds, so that two requests can never be promised the same pieces: the catalog
checks and writes the hold in the request's own transaction. Loans change listings only
through the catalog's rules, and tell the rest of the service by recorded events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, case, func, select, update
from sqlmodel import Session, col

from sharing.accounts.models import Actor, OpeningHours, Role, Site
from sharing.catalog.categories.models import ResourceKind
from sharing.catalog.holds import rules as holds
from sharing.catalog.holds.models import HoldPurpose
from sharing.catalog.listings import rules as listings
from sharing.catalog.listings.models import Condition, Listing
from sharing.catalog.listings.rules import listing_to_see
from sharing.catalog.photos import rules as photos
from sharing.catalog.transfers import rules as transfers
from sharing.clock import SWEDEN, today_in_sweden
from sharing.db import Page
from sharing.errors import Conflict, DomainError, NotAllowed, NotVisible, Term, refuse_any
from sharing.events import record
from sharing.i18n import N_, NP_
from sharing.loans import events
from sharing.loans.auto_approval import rules as auto_approval
from sharing.loans.requests.models import HandoverMethod, LoanRequest, RequestKind, RequestMessage, RequestStatus
from sharing.typed import id_of

K, S = RequestKind, RequestStatus
_FOR_GOOD = {S.REQUESTED: frozenset({S.APPROVED, S.DECLINED, S.CANCELLED}),
             S.APPROVED: frozenset({S.HANDED_OVER, S.CANCELLED}),
             S.HANDED_OVER: frozenset({S.CLOSED})}
TRANSITIONS: dict[RequestKind, dict[RequestStatus, frozenset[RequestStatus]]] = {
    K.BORROW: {S.REQUESTED: frozenset({S.APPROVED, S.DECLINED, S.CANCELLED}),
               S.APPROVED: frozenset({S.HANDED_OVER, S.CANCELLED}),
               S.HANDED_OVER: frozenset({S.RETURNED}),
               S.RETURNED: frozenset({S.CLOSED})},
    K.TAKE_OVER: _FOR_GOOD,
    K.SWAP: _FOR_GOOD,
}
# How a status is named inside a sentence (the labels are for headings and tags).
STATUS_NAMES = {S.REQUESTED: N_("requested"), S.APPROVED: N_("approved"), S.DECLINED: N_("declined"),
                S.CANCELLED: N_("cancelled"), S.HANDED_OVER: N_("handed over"), S.RETURNED: N_("returned"),
                S.CLOSED: N_("closed")}
OPEN = (S.REQUESTED.value, S.APPROVED.value, S.HANDED_OVER.value, S.RETURNED.value)
# A loan whose pieces are with the borrower: what is due back (a take-over is not).
LENT_OUT = and_(col(LoanRequest.kind) == RequestKind.BORROW.value, col(LoanRequest.status) == S.HANDED_OVER.value)
OFFER_OF_KIND = {K.BORROW: "lend", K.TAKE_OVER: "give_away", K.SWAP: "swap"}
MESSAGE_MAX = 2000
# How far ahead a day may be asked for: plans reach a year or two; a year 9999 is a typo that
# would hold the pieces for ever.
BOOKING_HORIZON = timedelta(days=730)
# Stored as the msgid, and shown translated (a reason a person wrote is no msgid and shows as written).
WITHDRAWN_REASON = N_("The listing was withdrawn.")
REASON_MAX = 1000


@dataclass
class RequestDetails:
    """What the requester fills in (types and lengths checked by the form or the API)."""

    kind: RequestKind
    quantity: int
    first_day: date
    last_day: date | None  # a loan's last day; none for good
    delivery_site_id: int
    transport_needed: bool = False
    message: str = ""
    offered_listing_id: int | None = None  # a swap
    offered_quantity: int | None = None
    # A place or a service booked for hours of one day (the first), within its site's opening hours.
    start_time: time | None = None
    end_time: time | None = None


# --- Who may see and do what -------------------------------------------------------------

def is_requester(user: Actor, request: LoanRequest) -> bool:
    return user.id is not None and user.id == request.requester_id


def is_owner_manager(user: Actor, request: LoanRequest) -> bool:
    """A facility manager of the municipality whose pieces are asked for: they decide."""
    return user.municipality_id == request.owner_municipality_id and user.has_role(Role.FACILITY_MANAGER)


def can_see(user: Actor, request: LoanRequest) -> bool:
    """The requester, and the facility managers of both municipalities."""
    return (is_requester(user, request) or is_owner_manager(user, request)
            or (user.municipality_id == request.requester_municipality_id
                and user.has_role(Role.FACILITY_MANAGER)))


def request_to_see(session: Session, user: Actor, request_id: int) -> LoanRequest:
    request = session.get(LoanRequest, request_id)
    if request is None or not can_see(user, request):
        raise NotVisible(f"request {request_id}")
    return request


# --- Asking -------------------------------------------------------------------------------

def ask(session: Session, *, listing_id: int, details: RequestDetails, by: Actor, now: datetime) -> LoanRequest:
    """Ask for pieces of a listing the requester may see; they are held at once, or the
    request is refused ("no longer available") if someone was first."""
    listing = listing_to_see(session, by, listing_id)
    problems = _offer_problems(listing, details, today=today_in_sweden(now))
    site = session.get(Site, details.delivery_site_id)
    if site is None or not site.active or site.municipality_id != by.municipality_id:
        problems.append(DomainError(N_("Choose one of your municipality's sites."), field="delivery_site_id"))
    offered = None
    if details.kind == K.SWAP:
        offered, problem = _offered_listing(session, details, by, asked_for=listing_id)
        problems += [problem] if problem else []
    refuse_any(problems)  # every field that is wrong, in the form's order
    for_good = details.kind != K.BORROW
    if details.start_time is not None and listing.kind != ResourceKind.THING:
        period = _hours(session, listing, details)
    else:
        period = holds.days(details.first_day, None if for_good else details.last_day)
    request = LoanRequest(
        kind=details.kind.value, listing_id=listing_id, quantity=details.quantity,
        owner_municipality_id=listing.municipality_id, requester_id=by.id,
        requester_municipality_id=by.municipality_id, requester_unit_id=by.unit_id,
        delivery_site_id=details.delivery_site_id,
        transport_needed=details.transport_needed and listing.kind == ResourceKind.THING,
        offered_listing_id=details.offered_listing_id if offered else None,
        offered_quantity=details.offered_quantity if offered else None,
        starts_at=period.starts_at, ends_at=period.ends_at, created_at=now, updated_at=now)
    # Everything read before the first write: from there on, the listing (on SQLite, the
    # database) is locked until the commit, and other requests wait.
    rule = auto_approval.rule_for(session, request, listing)
    session.add(request)
    session.flush()
    purpose = HoldPurpose.TAKE_OVER if for_good else HoldPurpose.LOAN
    request.hold_id = id_of(holds.hold(session, listing_id=listing_id, quantity=details.quantity, period=period,
                                       purpose=purpose, holder=holder(request), now=now))
    if offered is not None:
        try:
            request.offered_hold_id = id_of(holds.hold(
                session, listing_id=id_of(offered), quantity=details.offered_quantity or 1, period=period,
                purpose=HoldPurpose.TAKE_OVER, holder=holder(request), now=now))
        except holds.NotFree as taken:  # of what is offered, not of what is asked for: no queue for it
            if not taken.free:
                raise DomainError(N_("None of the pieces you offer is free then."), field="offered_quantity") from None
            raise DomainError(NP_("Only %(num)d of the pieces you offer is free then.",
                                  "Only %(num)d of the pieces you offer are free then."),
                              field="offered_quantity", num=taken.free) from None
    if details.message.strip():
        session.add(RequestMessage(request_id=id_of(request), author_id=by.id, body=details.message.strip(),
                                   created_at=now))
    _record(session, events.REQUESTED, request, by=by, now=now,  # its flush writes the request's hold too
            extra={"starts_at": request.starts_at.isoformat(),
                   "ends_at": request.ends_at.isoformat() if request.ends_at else None,
                   "transport_needed": request.transport_needed})
    if rule is not None:  # the owner approves such requests at once: nothing conflicts, the pieces are held
        request.decided_at = now
        _move(session, request, S.APPROVED, event=events.APPROVED, by=None, now=now,
              extra={"auto": True, "rule_id": rule.id})
    return request


def _hours(session: Session, listing: Listing, details: RequestDetails) -> holds.Period:
    """Hours of one day at the listing's site, within its opening hours (any hours when the site
    has none on record)."""
    start, end = details.start_time, details.end_time
    if start is None or end is None or end <= start:
        raise DomainError(N_("The end time must be after the start time."), field="end_time")
    day = details.first_day
    opening = session.scalars(select(OpeningHours).where(col(OpeningHours.site_id) == listing.site_id)).all()
    if opening and not any(o.weekday == day.weekday() and o.opens <= start and end <= o.closes for o in opening):
        today = sorted((o.opens, o.closes) for o in opening if o.weekday == day.weekday())
        hours = ", ".join(f"{opens:%H:%M}–{closes:%H:%M}" for opens, closes in today)
        if not hours:
            raise DomainError(N_("The site is closed that day."), field="first_day")
        raise DomainError(N_("Book within the site's opening hours that day: %(hours)s."), field="start_time",
                          hours=hours)
    return holds.Period(datetime.combine(day, start, tzinfo=SWEDEN), datetime.combine(day, end, tzinfo=SWEDEN))


def holder(request: LoanRequest) -> str:
    """How a request names itself to the catalog (its holds, its transfers)."""
    return f"{events.SUBJECT}:{request.id}"


def _offer_problems(listing: Listing, details: RequestDetails, *, today: date) -> list[DomainError]:
    """What the listing's offer refuses of an ask: the first reason for each field, in the form's order."""
    found = [_kind_problem(listing, details), _quantity_problem(listing, details),
             _first_day_problem(listing, details, today=today), _last_day_problem(listing, details, today=today)]
    return [problem for problem in found if problem is not None]


def _kind_problem(listing: Listing, details: RequestDetails) -> DomainError | None:
    if not getattr(listing, OFFER_OF_KIND[details.kind]):
        return DomainError(N_("This listing is not offered that way: choose one of the ways it names."), field="kind")
    if listing.kind != ResourceKind.THING and details.kind != K.BORROW:
        return DomainError(N_("Places and services are booked for a time, never taken over."), field="kind")
    return None


def _quantity_problem(listing: Listing, details: RequestDetails) -> DomainError | None:
    if details.quantity < 1:
        return DomainError(N_("Ask for at least one piece."), field="quantity")
    if details.quantity > listing.quantity:  # more than there ever were: not "no longer available"
        return DomainError(NP_("The listing has only %(num)d piece.", "The listing has only %(num)d pieces."),
                           field="quantity", num=listing.quantity)
    return None


def _first_day_problem(listing: Listing, details: RequestDetails, *, today: date) -> DomainError | None:
    if details.first_day < today:
        return DomainError(N_("The first day must not be in the past."), field="first_day")
    if details.first_day > today + BOOKING_HORIZON:
        return DomainError(N_("Ask for a day at most two years ahead."), field="first_day")
    if listing.available_from is not None and details.first_day < listing.available_from:
        return DomainError(N_("The listing is available from %(day)s."), field="first_day",
                           day=listing.available_from.isoformat())
    return None


def _last_day_problem(listing: Listing, details: RequestDetails, *, today: date) -> DomainError | None:
    if details.kind != K.BORROW or (details.start_time is not None and listing.kind != ResourceKind.THING):
        return None  # for good, or hours of one day
    if details.last_day is None:
        return DomainError(N_("Give the last day of the loan."), field="last_day")
    if details.last_day < details.first_day:
        return DomainError(N_("The last day must not be before the first."), field="last_day")
    length = (details.last_day - details.first_day).days + 1
    if listing.loan_min_days and length < listing.loan_min_days:
        return DomainError(NP_("The shortest loan is %(num)d day.", "The shortest loan is %(num)d days."),
                           field="last_day", num=listing.loan_min_days)
    return _longest_problem(listing, details.first_day, details.last_day, today=today)


def _longest_problem(listing: Listing, first_day: date, last_day: date, *, today: date) -> DomainError | None:
    """A loan's last day, asked for or extended to: within the listing's longest loan and the horizon."""
    if listing.loan_max_days and (last_day - first_day).days + 1 > listing.loan_max_days:
        return DomainError(NP_("The longest loan is %(num)d day.", "The longest loan is %(num)d days."),
                           field="last_day", num=listing.loan_max_days)
    if last_day > today + BOOKING_HORIZON:
        return DomainError(N_("Ask for a day at most two years ahead."), field="last_day")
    return None


def _offered_listing(session: Session, details: RequestDetails, by: Actor, *,
                     asked_for: int) -> tuple[Listing | None, DomainError | None]:
    """A swap offers one of the requester's own municipality's listings that is offered for
    swapping: that listing, or what is wrong with the offer."""
    offered = session.get(Listing, details.offered_listing_id) if details.offered_listing_id else None
    if (offered is None or offered.municipality_id != by.municipality_id or not offered.swap
            or offered.status not in holds.BOOKABLE):
        return None, DomainError(N_("Offer one of your municipality's listings that is offered for swapping."),
                                 field="offered_listing_id")
    if offered.id == asked_for:
        return None, DomainError(N_("Offer another listing than the one you ask for."), field="offered_listing_id")
    if not details.offered_quantity or details.offered_quantity < 1:
        return None, DomainError(N_("Say how many pieces you offer."), field="offered_quantity")
    if details.offered_quantity > offered.quantity:
        return None, DomainError(NP_("The listing you offer has only %(num)d piece.",
                                     "The listing you offer has only %(num)d pieces."),
                                 field="offered_quantity", num=offered.quantity)
    return offered, None


# --- Steps ---------------------------------------------------------------------------------

def _move(session: Session, request: LoanRequest, to: RequestStatus, *, event: str, by: Actor | None, now: datetime,
          extra: dict[str, Any] | None = None) -> None:
    current = RequestStatus(request.status)
    refusal = Conflict(N_("A request that is “%(current)s” cannot become “%(target)s”. "
                          "Reload the page to see it as it is now."),
                       current=Term(STATUS_NAMES[current]), target=Term(STATUS_NAMES[to]))
    if to not in TRANSITIONS[RequestKind(request.kind)].get(current, frozenset()):
        raise refusal
    # Compare and set, in the database: of two steps taken at once from one status (two
    # managers approving), the second finds the status changed and is refused.
    with session.no_autoflush:  # the step's other changes are written only once it may be taken
        moved = session.execute(update(LoanRequest).where(col(LoanRequest.id) == request.id,
                                                          col(LoanRequest.status) == current.value)
                                .values(status=to.value).execution_options(synchronize_session=False))
    if moved.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult's
        session.refresh(request)
        raise Conflict(N_("Someone else changed this request meanwhile: it is now “%(current)s”."),
                       current=Term(STATUS_NAMES[RequestStatus(request.status)]))
    request.status = to.value
    request.updated_at = now
    session.add(request)
    session.flush()
    _record(session, event, request, by=by, now=now, extra={"from": current.value, **(extra or {})})


def _record(session: Session, name: str, request: LoanRequest, *, by: Actor | None, now: datetime,
            extra: dict[str, Any] | None = None) -> None:
    record(session, name, subject_type=events.SUBJECT, subject_id=id_of(request), now=now,
           actor_id=by.id if by is not None else None, municipality_id=request.owner_municipality_id,
           payload={"listing_id": request.listing_id, "kind": request.kind, "quantity": request.quantity,
                    "status": request.status, "requester_municipality_id": request.requester_municipality_id,
                    **(extra or {})})


def _text(value: str, *, field: str, limit: int, missing: str, too_long: str) -> str:
    """Written text a step needs: not blank, and within its limit."""
    value = value.strip()
    if not value:
        raise DomainError(missing, field=field)
    if len(value) > limit:
        raise DomainError(too_long, field=field, n=limit)
    return value


def _decider(user: Actor, request: LoanRequest) -> None:
    if not is_owner_manager(user, request):
        raise NotAllowed(f"request {request.id}")


def approve(session: Session, request: LoanRequest, *, by: Actor, now: datetime) -> None:
    _decider(by, request)
    request.decided_by_id, request.decided_at = by.id, now
    _move(session, request, S.APPROVED, event=events.APPROVED, by=by, now=now)


def decline(session: Session, request: LoanRequest, *, reason: str, by: Actor, now: datetime) -> None:
    """Say no, and why: the pieces held for the request are free again."""
    _decider(by, request)
    reason = _text(reason, field="reason", limit=REASON_MAX, missing=N_("Say why the request is declined."),
                   too_long=N_("Keep the reason under %(n)d characters."))
    request.decided_by_id, request.decided_at, request.decline_reason = by.id, now, reason
    _move(session, request, S.DECLINED, event=events.DECLINED, by=by, now=now, extra={"reason": reason})
    _release_holds(session, request, now=now)


def cancel(session: Session, request: LoanRequest, *, by: Actor, now: datetime) -> None:
    """The requester takes the request back, before anything is handed over."""
    if not is_requester(by, request):
        raise NotAllowed(f"request {request.id}")
    request.cancelled_at = now
    _move(session, request, S.CANCELLED, event=events.CANCELLED, by=by, now=now)
    _release_holds(session, request, now=now)


# A listing's requests not yet handed over: what withdrawing it calls off. A swap offering its
# pieces for another listing stays open (the listing may be published again).
_OPEN_FOR_LISTING = (col(LoanRequest.listing_id) == bindparam("listing_id"),
                     col(LoanRequest.status).in_((S.REQUESTED.value, S.APPROVED.value)))


def called_off_with_listing(session: Session, listing_id: int) -> int:
    """How many requests withdrawing the listing would call off (``withdraw_with_listing``)."""
    return session.scalar(select(func.count()).select_from(LoanRequest).where(*_OPEN_FOR_LISTING),
                          {"listing_id": listing_id}) or 0


def withdraw_with_listing(session: Session, *, listing_id: int, now: datetime) -> int:
    """The owner withdrew the listing: its requests not yet handed over are declined, with that
    as the reason, and their pieces freed. Returns how many."""
    open_ones = session.scalars(select(LoanRequest).where(*_OPEN_FOR_LISTING), {"listing_id": listing_id}).all()
    for request in open_ones:
        request.decided_at, request.decline_reason = now, WITHDRAWN_REASON
        to = S.DECLINED if request.status == S.REQUESTED.value else S.CANCELLED
        _move(session, request, to, event=events.DECLINED if to == S.DECLINED else events.CANCELLED, by=None,
              now=now, extra={"reason": WITHDRAWN_REASON})
        _release_holds(session, request, now=now)
    return len(open_ones)


def _release_holds(session: Session, request: LoanRequest, *, now: datetime) -> None:
    for hold_id in (request.hold_id, request.offered_hold_id):
        if hold_id is not None:
            holds.release(session, hold_id=hold_id, now=now)


def hand_over(session: Session, request: LoanRequest, *, condition: Condition | None, method: HandoverMethod,
              by: Actor, now: datetime, for_side: str | None = None) -> None:
    """The pieces changed hands: recorded by either side, which confirms it for its own side.
    Pieces taken over for good change owner now, through the catalog; a swap's two take-overs
    happen together or not at all (one transaction).

    ``for_side`` ("owner" or "requester"): a carrier records it for that side, as logistics'
    driver does when fetching the pieces; the caller has made sure ``by`` carries them."""
    sides = _sides(by, request) if for_side is None else [_carried_for(for_side)]
    request.handed_over_at, request.handed_over_by_id = now, by.id
    request.handover_condition = condition.value if condition else None
    request.handover_method = method.value
    for side in sides:  # both, when a facility manager asked their own municipality
        _confirm(request, "handover", side, now)
    _move(session, request, S.HANDED_OVER, event=events.HANDED_OVER, by=by, now=now,
          extra={"method": method.value, "condition": request.handover_condition, "side": sides[0]})
    if request.kind == K.BORROW.value:
        if request.hold_id is not None:  # the catalog knows its pieces are out (on loan, if all are)
            listings.lent_out(session, hold_id=request.hold_id, by=by, now=now)
        return
    received = transfers.transfer(
        session, listing_id=request.listing_id, quantity=request.quantity, to_site_id=request.delivery_site_id,
        to_unit_id=request.requester_unit_id, hold_id=request.hold_id, reference=holder(request), by=by, now=now)
    moved = {"to_listing_id": received.id}
    if request.kind == K.SWAP.value and request.offered_listing_id is not None:
        asked_for = session.get_one(Listing, request.listing_id)
        given = transfers.transfer(
            session, listing_id=request.offered_listing_id, quantity=request.offered_quantity or 1,
            to_site_id=asked_for.site_id, to_unit_id=None, hold_id=request.offered_hold_id,
            reference=holder(request), by=by, now=now)
        moved["offered_to_listing_id"] = given.id
    _record(session, events.SWAPPED if request.kind == K.SWAP.value else events.TRANSFERRED, request, by=by,
            now=now, extra=moved)
    _close_when_confirmed(session, request, "handover", by=by, now=now)


def take_back(session: Session, request: LoanRequest, *, condition: Condition | None, remarks: str, damage: str,
              by: Actor, now: datetime, photo: photos.Upload | None = None,
              store: photos.PhotoStore | None = None, carried: bool = False) -> None:
    """The owner received the lent pieces back: free for others from now on (and the listing
    no longer on loan, if it was: the catalog follows its pieces out).

    A photo (of damage, say) is checked and stored as a listing's photos are, in ``store``; a
    refused one refuses the return, and its files go unless the transaction commits.

    ``carried``: the service's transport brought them back, and its driver records it for the
    owner's side; the caller has made sure ``by`` carries them.
    """
    if not carried:
        _decider(by, request)
    if len(remarks) > MESSAGE_MAX or len(damage) > MESSAGE_MAX:
        raise DomainError(N_("Keep the remarks under %(n)d characters."), field="remarks", n=MESSAGE_MAX)
    if photo is not None:
        if store is None:
            raise ValueError("a photo needs a photo store")
        stored = photos.store_photo(session, photo, store, field="photo")
        request.return_photo_key = stored.key
        request.return_photo_width, request.return_photo_height = stored.width, stored.height
    request.returned_at, request.return_received_by_id = now, by.id
    request.return_condition = condition.value if condition else None
    request.return_remarks, request.return_damage = remarks.strip(), damage.strip()
    request.return_confirmed_by_owner_at = now
    if is_requester(by, request):  # a facility manager who asked their own municipality received it too
        request.return_confirmed_by_requester_at = now
    _move(session, request, S.RETURNED, event=events.RETURNED, by=by, now=now,
          extra={"condition": request.return_condition, "damage": bool(request.return_damage),
                 "photo": request.return_photo_key is not None})
    if request.hold_id is not None:  # free from now on, and no longer out
        listings.came_back(session, hold_id=request.hold_id, by=by, now=now)
    _close_when_confirmed(session, request, "return", by=by, now=now)


def confirm(session: Session, request: LoanRequest, *, by: Actor, now: datetime) -> None:
    """Confirm, for one's own side, the handover or the return the other side recorded (one
    who speaks for both sides confirms the one not yet confirmed). A return confirmed by both
    sides closes the loan."""
    sides = _sides(by, request)
    steps = {S.HANDED_OVER.value: ("handover", N_("You have already confirmed this handover.")),
             S.RETURNED.value: ("return", N_("You have already confirmed this return."))}
    if request.status not in steps:
        raise Conflict(N_("There is nothing to confirm now."))
    step, already = steps[request.status]
    side = next((side for side in sides if _confirm(request, step, side, now)), None)
    if side is None:
        raise Conflict(already)
    request.updated_at = now
    session.add(request)
    session.flush()
    _record(session, events.CONFIRMED, request, by=by, now=now, extra={"step": step, "side": side})
    _close_when_confirmed(session, request, step, by=by, now=now)


def _close_when_confirmed(session: Session, request: LoanRequest, step: str, *, by: Actor | None,
                          now: datetime) -> None:
    """A loan closes when its return is confirmed by both sides; a take-over or swap, its handover."""
    both = all(getattr(request, f"{step}_confirmed_by_{s}_at") for s in ("owner", "requester"))
    if both and (step == "return" or request.kind != K.BORROW.value):
        request.closed_at = now
        _move(session, request, S.CLOSED, event=events.CLOSED, by=by, now=now)


def _sides(user: Actor, request: LoanRequest) -> list[str]:
    """The sides the user speaks for: both, when a facility manager asked their own municipality."""
    sides = [side for side, theirs in (("owner", is_owner_manager(user, request)),
                                       ("requester", is_requester(user, request))) if theirs]
    if not sides:
        raise NotAllowed(f"request {request.id}")
    return sides


def _side(user: Actor, request: LoanRequest) -> str:
    return _sides(user, request)[0]


def _carried_for(side: str) -> str:
    if side not in ("owner", "requester"):
        raise ValueError(f"no such side: {side!r}")
    return side


def _confirm(request: LoanRequest, step: str, side: str, now: datetime) -> bool:
    """Note one side's confirmation of a step ("handover" or "return"); False if it was noted before."""
    attribute = f"{step}_confirmed_by_{side}_at"
    if getattr(request, attribute) is not None:
        return False
    setattr(request, attribute, now)
    return True


def extend(session: Session, request: LoanRequest, *, last_day: date, by: Actor, now: datetime) -> None:
    """Lengthen a loan, if its pieces are free until the new last day (no approval needed)."""
    if not (is_requester(by, request) or is_owner_manager(by, request)):
        raise NotAllowed(f"request {request.id}")
    if request.kind != K.BORROW.value or request.status not in (S.APPROVED.value, S.HANDED_OVER.value):
        raise Conflict(N_("Only an approved or ongoing loan can be extended."))
    if request.hold_id is None or request.ends_at is None:
        raise DomainError(N_("This booking is no longer in force."))
    if (problem := _longest_problem(session.get_one(Listing, request.listing_id),
                                    request.starts_at.astimezone(SWEDEN).date(), last_day,
                                    today=today_in_sweden(now))) is not None:
        raise problem
    until = holds.days(last_day, last_day).ends_at
    assert until is not None
    # The request's row first, then the listing's, as every step takes them: a return at the
    # same moment either waits, or came first and this finds the loan over.
    with session.no_autoflush:
        claimed = session.execute(update(LoanRequest).where(
            col(LoanRequest.id) == request.id, col(LoanRequest.status).in_((S.APPROVED.value, S.HANDED_OVER.value)))
            .values(updated_at=now).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult's
        session.refresh(request)
        raise Conflict(N_("Someone else changed this request meanwhile: it is now “%(current)s”."),
                       current=Term(STATUS_NAMES[RequestStatus(request.status)]))
    previous = request.ends_at
    try:
        holds.extend(session, hold_id=request.hold_id, until=until, now=now)
    except DomainError as error:  # about the new last day, whatever the catalog calls it
        error.field = "last_day"
        raise
    request.ends_at, request.updated_at = until, now
    if request.overdue_since is not None and until > now:  # due again later: no longer overdue
        request.overdue_since = None
    session.add(request)
    session.flush()
    _record(session, events.EXTENDED, request, by=by, now=now,
            extra={"from": previous.isoformat(), "to": until.isoformat()})


def post_message(session: Session, request: LoanRequest, *, body: str, by: Actor, now: datetime) -> RequestMessage:
    """A message in the request's thread, from the requester or an owner's facility manager."""
    _side(by, request)
    body = _text(body, field="body", limit=MESSAGE_MAX, missing=N_("Write a message."),
                 too_long=N_("Keep the message under %(n)d characters."))
    message = RequestMessage(request_id=id_of(request), author_id=by.id, body=body, created_at=now)
    session.add(message)
    session.flush()
    _record(session, events.MESSAGE, request, by=by, now=now, extra={"message_id": message.id})
    return message


def mark_overdue(session: Session, *, now: datetime) -> list[int]:
    """Mark each loan not returned by its end as overdue (since its end), and record that it
    is, once: the mark is set only where none is, in the database, so a second run, or one
    racing in another process, finds it set and records nothing. Returns the ids marked."""
    late: list[int] = list(session.scalars(select(col(LoanRequest.id)).where(
        LENT_OUT, col(LoanRequest.overdue_since).is_(None), col(LoanRequest.ends_at) <= now)
        .order_by(col(LoanRequest.id))))
    marked: list[int] = []
    for request_id in late:
        with session.no_autoflush:
            moved = session.execute(
                update(LoanRequest).where(col(LoanRequest.id) == request_id,
                                          col(LoanRequest.status) == S.HANDED_OVER.value,
                                          col(LoanRequest.overdue_since).is_(None), col(LoanRequest.ends_at) <= now)
                .values(overdue_since=col(LoanRequest.ends_at), updated_at=now)
                .execution_options(synchronize_session=False))
        if moved.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult's
            continue  # marked meanwhile, returned or extended
        request = session.scalars(select(LoanRequest).where(col(LoanRequest.id) == request_id)
                                  .execution_options(populate_existing=True)).one()
        assert request.ends_at is not None
        _record(session, events.OVERDUE, request, by=None, now=now,
                extra={"ends_at": request.ends_at.isoformat()})
        marked.append(request_id)
    return marked


# --- Finding -------------------------------------------------------------------------------

def thread(session: Session, request: LoanRequest) -> list[RequestMessage]:
    return list(session.scalars(select(RequestMessage).where(col(RequestMessage.request_id) == request.id)
                                .order_by(col(RequestMessage.created_at), col(RequestMessage.id))))


def requests_of(session: Session, user: Actor, *, incoming: bool, open_only: bool, page: int,
                per_page: int = 25) -> Page[LoanRequest]:
    """The user's own requests, their loans out first, the soonest due back first; or (incoming)
    those for their municipality's listings if they decide them, those waiting for a decision
    first. Then the last changed first. (What comes first is what the start page counts.)"""
    first: list[ColumnElement[Any]] = []
    if incoming:
        if not user.has_role(Role.FACILITY_MANAGER):
            raise NotAllowed("incoming requests")
        query = select(LoanRequest).where(col(LoanRequest.owner_municipality_id) == user.municipality_id)
        first.append(case((col(LoanRequest.status) == S.REQUESTED.value, 0), else_=1))
    else:
        query = select(LoanRequest).where(col(LoanRequest.requester_id) == user.id)
        first += [case((LENT_OUT, 0), else_=1), case((LENT_OUT, col(LoanRequest.ends_at)), else_=None)]
    if open_only:
        query = query.where(col(LoanRequest.status).in_(OPEN))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(*first, col(LoanRequest.updated_at).desc(), col(LoanRequest.id).desc())
                           .limit(per_page).offset((page - 1) * per_page)).all()
    return Page(items=list(rows), total=total, page=page, per_page=per_page)


def awaiting_decision(session: Session, *, municipality_id: int) -> int:
    """How many requests for a municipality's listings wait for its facility managers' decision."""
    return session.scalar(select(func.count()).select_from(LoanRequest).where(
        col(LoanRequest.owner_municipality_id) == municipality_id,
        col(LoanRequest.status) == S.REQUESTED.value)) or 0


# Built once: every listing page asks.
_OPEN_REQUESTS_FOR = select(LoanRequest).where(
    col(LoanRequest.listing_id) == bindparam("listing_id"), col(LoanRequest.requester_id) == bindparam("user_id"),
    col(LoanRequest.status).in_(OPEN)).order_by(col(LoanRequest.id))


def open_requests_for(session: Session, user: Actor, listing_id: int) -> list[LoanRequest]:
    """The user's own open requests for a listing (shown on its page)."""
    return list(session.scalars(_OPEN_REQUESTS_FOR, {"listing_id": listing_id, "user_id": user.id}))

