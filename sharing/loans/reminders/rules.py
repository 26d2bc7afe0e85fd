"""When each reminder is due, and the claim that sends it once.

The schedule counts Swedish days (``sharing.clock``): a loan's first day begins at the
Swedish midnight its ``starts_at`` is, its last day is the one before the midnight its
``ends_at`` is. A reminder is due on its day from ``SEND_FROM`` (nobody needs a mail at
midnight), and one the job could not send on its day (the scheduler was down) goes out
late only while it still makes sense:

- ``handover_soon``: the day before the first day, to both sides, for an approved request;
- ``handover_unconfirmed``: from the day after the first day, to both sides, while an
  approved request has no handover recorded, or a handover recorded on an earlier day still
  lacks one side's confirmation;
- ``due_soon``: from ``DUE_SOON_DAYS`` days before a loan's last day until the day before,
  to the requester; ``due_today``: on the last day;
- ``overdue_1``: from the day after the last day, for a week; ``overdue_7``: from a week
  after the last day; to the requester and the owner's facility managers, while the pieces
  are not returned.

Each kind goes out at most once per request and day it is about (``day_of``): a loan extended
to a new last day is reminded of that day as of the first ("due soon", "due today", "overdue"
again), and a handover moved to another day likewise; never twice of the same day.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from sharing.catalog.holds.rules import day_before, midnight
from sharing.clock import SWEDEN, today_in_sweden
from sharing.loans.reminders.models import LoanReminder
from sharing.loans.requests.models import LoanRequest, RequestKind, RequestStatus
from sharing.loans.requests.rules import LENT_OUT

SEND_FROM = time(7, 0)  # Swedish time: reminders of a day go out from then on
DUE_SOON_DAYS = 3
OVERDUE_AGAIN_DAYS = 7
DAY = timedelta(days=1)


class ReminderKind(StrEnum):
    HANDOVER_SOON = "handover_soon"
    HANDOVER_UNCONFIRMED = "handover_unconfirmed"
    DUE_SOON = "due_soon"
    DUE_TODAY = "due_today"
    OVERDUE_1 = "overdue_1"
    OVERDUE_7 = "overdue_7"


def first_day(request: LoanRequest) -> date:
    return today_in_sweden(request.starts_at)


def last_day(request: LoanRequest) -> date | None:
    """A loan's last day (its ``ends_at`` is the midnight after it); None for good."""
    return day_before(request.ends_at) if request.ends_at is not None else None


def due_kinds(request: LoanRequest, *, now: datetime) -> list[ReminderKind]:
    """The reminders the request is due at ``now``, sent or not."""
    local = now.astimezone(SWEDEN)
    if local.time() < SEND_FROM:
        return []
    today, first, status = local.date(), first_day(request), RequestStatus(request.status)
    due = []
    if status == RequestStatus.APPROVED and first - DAY == today:
        due.append(ReminderKind.HANDOVER_SOON)
    if today > first and (status == RequestStatus.APPROVED or (
            status == RequestStatus.HANDED_OVER and _unconfirmed(request) and request.handed_over_at is not None
            and today_in_sweden(request.handed_over_at) < today)):
        due.append(ReminderKind.HANDOVER_UNCONFIRMED)
    last = last_day(request)
    if request.kind == RequestKind.BORROW.value and status == RequestStatus.HANDED_OVER and last is not None:
        if last - timedelta(days=DUE_SOON_DAYS) <= today < last:
            due.append(ReminderKind.DUE_SOON)
        elif today == last:
            due.append(ReminderKind.DUE_TODAY)
        elif last < today < last + timedelta(days=OVERDUE_AGAIN_DAYS):
            due.append(ReminderKind.OVERDUE_1)
        elif today >= last + timedelta(days=OVERDUE_AGAIN_DAYS):
            due.append(ReminderKind.OVERDUE_7)
    return due


def day_of(request: LoanRequest, kind: ReminderKind) -> date | None:
    """The day a reminder is about: a handover's first day, a loan's last day (None: a request
    for good has no last day). A reminder goes out once per request, kind and this day."""
    if kind in (ReminderKind.HANDOVER_SOON, ReminderKind.HANDOVER_UNCONFIRMED):
        return first_day(request)
    return last_day(request)


def _unconfirmed(request: LoanRequest) -> bool:
    return request.handover_confirmed_by_owner_at is None or request.handover_confirmed_by_requester_at is None


def due_back(session: Session, *, requester_id: int, now: datetime) -> int:
    """How many of the requester's loans are to be returned within DUE_SOON_DAYS days, or are
    overdue: those its reminders speak of."""
    # A loan ends at the midnight after its last day: the last day warned of ends at this one.
    by = midnight(today_in_sweden(now) + timedelta(days=DUE_SOON_DAYS + 1))
    return session.scalar(select(func.count()).select_from(LoanRequest).where(
        col(LoanRequest.requester_id) == requester_id, LENT_OUT, col(LoanRequest.ends_at) <= by)) or 0


def due(session: Session, *, now: datetime) -> list[tuple[int, ReminderKind, date]]:
    """The reminders due at ``now`` that have not been sent, by request id, oldest request
    first: each with the day it is about."""
    today = today_in_sweden(now)
    # Only requests whose first day is at most tomorrow, or whose loan ends within the days
    # warned of, can be due anything (the rest is decided by ``due_kinds``).
    near = (col(LoanRequest.status).in_([RequestStatus.APPROVED.value, RequestStatus.HANDED_OVER.value]),
            or_(col(LoanRequest.starts_at) < midnight(today + 2 * DAY),
                col(LoanRequest.ends_at) < midnight(today + timedelta(days=DUE_SOON_DAYS + 2))))
    requests = session.scalars(select(LoanRequest).where(*near).order_by(col(LoanRequest.id))).all()
    sent = {(request_id, kind, day) for request_id, kind, day in session.execute(
        select(col(LoanReminder.request_id), col(LoanReminder.kind), col(LoanReminder.day))
        .join(LoanRequest, col(LoanRequest.id) == col(LoanReminder.request_id)).where(*near))}
    found = []
    for request in requests:
        for kind in due_kinds(request, now=now):
            day = day_of(request, kind)
            if request.id is not None and day is not None and (request.id, kind.value, day) not in sent:
                found.append((request.id, kind, day))
    return found


def claim(session: Session, *, request_id: int, kind: ReminderKind, day: date, now: datetime) -> bool:
    """Record that the reminder of ``day`` is sent, in the session's transaction: True if this
    transaction may send it, False if another has (or is about to, once it commits).

    INSERT ... ON CONFLICT DO NOTHING on the unique (request_id, kind, day): on PostgreSQL a
    second transaction inserting the same row waits for the first to end and then inserts
    nothing; on SQLite it is the transaction's first write, which waits for the database's write
    lock and then sees the first's row. Call it before anything else the reminder writes."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    inserted = session.execute(insert(LoanReminder).values(request_id=request_id, kind=kind.value, day=day,
                                                           sent_at=now)
                               .on_conflict_do_nothing(index_elements=["request_id", "kind", "day"])
                               .returning(col(LoanReminder.id)))
    return inserted.first() is not None  # no row: it was there


def sent(session: Session, request_id: int) -> list[str]:
    """The kinds of reminder sent about a request, in the order they went out."""
    return list(session.scalars(select(col(LoanReminder.kind)).where(col(LoanReminder.request_id) == request_id)
                                .order_by(col(LoanReminder.id))))
