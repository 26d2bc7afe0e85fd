"""Domain events: what happened, recorded in the same transaction as the change itself, then
handed to the receivers that other parts of the service registered for it.

- ``record(session, name, ...)`` writes the event row, and one delivery row for each receiver
  registered for that name, in the caller's transaction: an event that rolls back never was.
- Once the transaction commits, each delivery is dispatched: the receiver runs in a session of
  its own, which also marks the delivery done, so its work and the mark commit together (or
  neither does) and a delivery is handled once, whoever dispatches it.
- A receiver that fails is logged, its delivery kept with the attempt counted, and the
  ``dispatch-events`` job tries it again later, as it catches up deliveries whose process died
  between the commit and the dispatch. The request that recorded the event never sees the failure.

The event table is append-only: the audit trail and the reports read it. What became of each
delivery is kept beside it, in ``event_delivery``.

A lower domain tells a higher one this way without importing it: the higher one registers a
receiver (``add_receiver``) for the lower one's event names.

How an event reads to people (the audit trail) is said by the domain that records it, in the
same way: it describes its event names (``describe``) and the kinds of subject they concern
(``describe_subject``); whoever shows events asks here and imports no domain. An event whose
name nobody described reads as its name.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Any

from flask import Flask, has_app_context
from sqlalchemy import JSON, Column, Connection, Engine, Index, UniqueConstraint, insert, select, update
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlmodel import Field, Session, SQLModel, col

from sharing import transactions
from sharing.clock import utcnow
from sharing.db import UTCDateTime, engine
from sharing.jobs import Job, add_job
from sharing.typed import id_of

log = logging.getLogger("sharing.events")

# Time the recording process has to dispatch a delivery itself before the job may take it.
DISPATCH_GRACE = timedelta(minutes=1)
# Waits between attempts of a failing receiver: 1, 2, 4 ... minutes, at most 4 hours; never given up.
MAX_RETRY_WAIT = timedelta(hours=4)


class DomainEvent(SQLModel, table=True):
    """Something that happened in a domain: what, when, who, where, to what. Never changed."""

    __tablename__ = "domain_event"
    __table_args__ = (
        Index("ix_domain_event_subject", "subject_type", "subject_id"),
        Index("ix_domain_event_municipality_id_occurred_at", "municipality_id", "occurred_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, index=True)  # "<domain>.<subject>.<what happened>"
    occurred_at: datetime = Field(sa_type=UTCDateTime, index=True)
    # Ids, not foreign keys: the core knows no users or municipalities, and the trail outlives them.
    actor_id: int | None = None
    municipality_id: int | None = None
    subject_type: str = Field(max_length=40)
    subject_id: int | None = None
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class EventDelivery(SQLModel, table=True):
    """One event's passage to one receiver: pending until ``done_at``."""

    __tablename__ = "event_delivery"
    __table_args__ = (
        UniqueConstraint("event_id", "receiver"),
        Index("ix_event_delivery_done_at_due_at", "done_at", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="domain_event.id")  # indexed by the unique constraint
    receiver: str = Field(max_length=80)
    due_at: datetime = Field(sa_type=UTCDateTime)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = 0
    last_error: str = Field(default="", max_length=200)  # the exception's class, never its text


Handler = Callable[[Session, DomainEvent], None]


@dataclass(frozen=True)
class Receiver:
    """A named handler of some events. The name is stored with each delivery: keep it stable."""

    name: str
    events: frozenset[str]
    handle: Handler


_receivers: dict[str, Receiver] = {}


def add_receiver(name: str, events: Iterable[str], handle: Handler) -> None:
    """Have ``handle(session, event)`` run for every event of these names recorded from now on.

    It runs in a session of its own and commits with the delivery's mark, so it must only
    write through that session; mail and other outside effects go in its ``after_commit``.
    Registering the same name again replaces the receiver (an app built twice, in tests)."""
    _receivers[name] = Receiver(name, frozenset(events), handle)


def remove_receiver(name: str) -> None:
    """Stop handing events to the receiver; its pending deliveries wait for it to come back."""
    _receivers.pop(name, None)


def record(session: Session, name: str, *, subject_type: str, subject_id: int | None, now: datetime,
           actor_id: int | None = None, municipality_id: int | None = None,
           payload: Mapping[str, Any] | None = None) -> DomainEvent:
    """Record that ``name`` happened, in the session's transaction; it is dispatched after commit."""
    event = DomainEvent(name=name, occurred_at=now, actor_id=actor_id, municipality_id=municipality_id,
                        subject_type=subject_type, subject_id=subject_id, payload=dict(payload or {}))
    session.add(event)
    session.flush()
    receivers = sorted(receiver.name for receiver in _receivers.values() if name in receiver.events)
    if receivers:
        event_id = id_of(event)
        rows = [{"event_id": event_id, "receiver": receiver, "due_at": now + DISPATCH_GRACE} for receiver in receivers]
        # One statement for all: matched by receiver (unique per event) rather than by the rows'
        # order, which SQLite could keep only by inserting them one at a time.
        made: dict[str, int] = {receiver: delivery_id for receiver, delivery_id in session.execute(
            insert(EventDelivery).returning(col(EventDelivery.receiver), col(EventDelivery.id)), rows)}
        transactions.after_commit(session, partial(
            _dispatch_recorded, session.get_bind(), [(made[receiver], receiver) for receiver in receivers],
            _as_committed(event)))
    return event


def _as_committed(event: DomainEvent) -> DomainEvent:
    """A copy of the event, as its receivers would read it back once committed (the payload as
    JSON, the time in UTC): they are handed this rather than read it again."""
    return DomainEvent(id=event.id, name=event.name, occurred_at=event.occurred_at.astimezone(timezone.utc),
                       actor_id=event.actor_id, municipality_id=event.municipality_id,
                       subject_type=event.subject_type, subject_id=event.subject_id,
                       payload=json.loads(json.dumps(event.payload)))


def _dispatch_recorded(bind: Engine | Connection, deliveries: list[tuple[int, str]], event: DomainEvent) -> None:
    """Right after the commit that recorded it: the event's deliveries in one session of their
    own, all in one transaction if they all go well, else each in a transaction of its own."""
    if not has_app_context():
        return
    now = utcnow()
    with Session(bind=bind, expire_on_commit=False) as session:
        if len(deliveries) > 1 and _dispatch_together(session, deliveries, event, now):
            return
        for delivery_id, receiver in deliveries:
            try:
                _dispatch_one(session, bind, delivery_id, receiver, event, now)
            except SQLAlchemyError:  # the database refused even the note of a failure: the job tries again
                log.exception("could not dispatch delivery %s", delivery_id)
                session.rollback()
            session.expunge_all()  # each receiver reads afresh, as in a session of its own


def _dispatch_together(session: Session, deliveries: list[tuple[int, str]], event: DomainEvent,
                       now: datetime) -> bool:
    """Hand an event to each of its receivers in turn, then claim their deliveries in one
    statement and commit their work and the marks together: one write to the database instead
    of one per receiver. The claim comes last, so that what the receivers read and render is
    done before the first write (on SQLite, before the database's one write lock is taken); a
    delivery claimed meanwhile (by the job, a minute on) makes the whole try roll back, and
    receivers only write through the session, so nothing of it happened. If any receiver
    fails, nothing of the try is kept either (False): then each delivery goes on its own, so
    that a receiver's failure never takes another's work with it (and the one that failed is
    tried once more alone, and noted if it fails)."""
    receivers = [_receivers.get(name) for _, name in deliveries]
    if any(receiver is None for receiver in receivers):
        return False
    try:
        for receiver in receivers:
            assert receiver is not None  # checked above
            receiver.handle(session, event)
        claimed = session.execute(
            update(EventDelivery)
            .where(col(EventDelivery.id).in_([delivery_id for delivery_id, _ in deliveries]),
                   col(EventDelivery.done_at).is_(None))
            .values(done_at=now, attempts=EventDelivery.attempts + 1))
        if claimed.rowcount != len(deliveries):  # type: ignore[attr-defined]  # an UPDATE's result has a rowcount
            session.rollback()
            session.expunge_all()
            return False
        session.commit()
    except Exception:  # noqa: BLE001 - a receiver's failure is handled one delivery at a time
        session.rollback()
        session.expunge_all()
        log.info("the deliveries of event %s failed together; each is tried on its own", event.id)
        return False
    return True


def dispatch(bind: Engine | Connection, delivery_id: int, *, now: datetime | None = None) -> bool:
    """Hand one delivery to its receiver, unless it is done; True if this call handled it.

    Receivers are the app's (they build links, send mail): outside an app's context (a script
    with a bare session) the delivery waits for the job."""
    if not has_app_context():
        return False
    now = now or utcnow()
    with Session(bind=bind, expire_on_commit=False) as session:
        delivery = session.get(EventDelivery, delivery_id)
        if delivery is None or delivery.done_at is not None:
            return False
        return _dispatch_one(session, bind, delivery_id, delivery.receiver, delivery.event_id, now)


def _dispatch_one(session: Session, bind: Engine | Connection, delivery_id: int, receiver_name: str,
                  event: DomainEvent | int, now: datetime) -> bool:
    """Claim the delivery and hand the event (or the event of this id) to its receiver, in one
    transaction of ``session``: its work and the mark commit together, or neither does."""
    receiver = _receivers.get(receiver_name)
    if receiver is None:
        log.warning("no receiver %s for delivery %s: it waits", receiver_name, delivery_id)
        return False
    try:
        # The mark first: on PostgreSQL it holds the row, so a second dispatcher waits and
        # then finds it done; on SQLite it takes the database's write lock.
        claimed = session.execute(
            update(EventDelivery)
            .where(col(EventDelivery.id) == delivery_id, col(EventDelivery.done_at).is_(None))
            .values(done_at=now, attempts=EventDelivery.attempts + 1)
        )
    except OperationalError:  # SQLite: another dispatcher holds the write lock past the busy timeout
        session.rollback()
        return False
    if claimed.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE's result has a rowcount
        session.rollback()
        return False
    event_id = event if isinstance(event, int) else id_of(event)
    try:
        handed = session.get_one(DomainEvent, event) if isinstance(event, int) else event
        receiver.handle(session, handed)
        session.commit()
    except Exception as error:  # noqa: BLE001 - a receiver's failure is kept and retried, never raised
        session.rollback()
        log.exception("receiver %s failed on event %s (%s)", receiver.name, event_id, receiver_name)
        _note_failure(bind, delivery_id, error, now)
        return False
    return True


def _note_failure(bind: Engine | Connection, delivery_id: int, error: Exception, now: datetime) -> None:
    with Session(bind=bind) as session:
        attempts = session.scalar(select(col(EventDelivery.attempts)).where(col(EventDelivery.id) == delivery_id)) or 0
        wait = min(timedelta(minutes=2 ** min(attempts, 10)), MAX_RETRY_WAIT)
        session.execute(update(EventDelivery).where(col(EventDelivery.id) == delivery_id).values(
            attempts=attempts + 1, last_error=type(error).__name__[:200], due_at=now + wait))
        session.commit()


def dispatch_due(bind: Engine | Connection, *, now: datetime, limit: int = 500) -> int:
    """Dispatch the deliveries that are due and not done (failed ones, and those whose process
    died before it could); returns how many were handled now. Deliveries to a receiver this
    process does not know (removed or renamed) wait, and never hold up the others."""
    with Session(bind=bind) as session:
        due: list[int] = list(session.scalars(
            select(col(EventDelivery.id))
            .where(col(EventDelivery.done_at).is_(None), col(EventDelivery.due_at) <= now,
                   col(EventDelivery.receiver).in_(sorted(_receivers)))
            .order_by(col(EventDelivery.due_at), col(EventDelivery.id)).limit(limit)
        ))
    handled = 0
    for delivery_id in due:
        try:
            handled += dispatch(bind, delivery_id, now=now)
        except SQLAlchemyError:  # the database refused even the note of a failure: the next run tries again
            log.exception("could not dispatch delivery %s", delivery_id)
    return handled


def events_of(session: Session, *, subject_type: str, subject_id: int) -> list[DomainEvent]:
    """What happened to one subject, oldest first."""
    return list(session.scalars(
        select(DomainEvent)
        .where(col(DomainEvent.subject_type) == subject_type, col(DomainEvent.subject_id) == subject_id)
        .order_by(col(DomainEvent.id))
    ))


# --- How events read -------------------------------------------------------------------

# What an event's payload says, as pairs of (what, how) in the reader's language: ("Title",
# "Stolar → Kontorsstolar"). Given the session, to name what the payload holds by id.
Details = Callable[[Session, DomainEvent], list[tuple[str, str]]]


@dataclass(frozen=True)
class EventLabel:
    """How one event name reads: what happened, the domain's name (the group it is listed in)
    and what of its payload to show. Labels are lazily translated strings: str() them."""

    name: str
    label: object
    group: object
    details: Details | None = None

    @property
    def domain(self) -> str:
        """The name's first part ("catalog"): the key of its group."""
        return domain_of(self.name)


@dataclass(frozen=True)
class SubjectLabel:
    """How a kind of subject reads ("Listing"), the address of one by its id if it has a page, and
    which of several such ids a reader may open the pages of (``opens(session, reader, ids)``, read
    at once for a page of the trail; None: anyone who reads of them)."""

    subject_type: str
    label: object
    link: Callable[[int], str] | None = None
    opens: Callable[[Session, Any, set[int]], set[int]] | None = None


_event_labels: dict[str, EventLabel] = {}
_subject_labels: dict[str, SubjectLabel] = {}


def describe(name: str, label: object, *, group: object, details: Details | None = None) -> None:
    """Say how events of this name read (in the order given: the order they are offered in).
    Describing a name again replaces its label (an app built twice, in tests)."""
    _event_labels[name] = EventLabel(name, label, group, details)


def describe_subject(subject_type: str, label: object, *, link: Callable[[int], str] | None = None,
                     opens: Callable[[Session, Any, set[int]], set[int]] | None = None) -> None:
    _subject_labels[subject_type] = SubjectLabel(subject_type, label, link, opens)


def domain_of(name: str) -> str:
    return name.split(".", 1)[0]


def event_label(name: str) -> EventLabel | None:
    return _event_labels.get(name)


def event_labels() -> list[EventLabel]:
    return list(_event_labels.values())


def subject_label(subject_type: str) -> SubjectLabel | None:
    return _subject_labels.get(subject_type)


def subject_labels() -> list[SubjectLabel]:
    return list(_subject_labels.values())


def dispatch_pending() -> None:
    """The ``dispatch-events`` job: retry what failed, catch up what a dead process left."""
    handled = dispatch_due(engine(), now=utcnow())
    if handled:
        log.info("dispatched %d pending event deliveries", handled)


def init_app(app: Flask) -> None:
    add_job(app, Job("dispatch-events", dispatch_pending, timedelta(minutes=1)))
