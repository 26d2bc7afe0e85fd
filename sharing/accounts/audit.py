"""The audit trail: what happened in one municipality, read from the domain event table.

Every domain records its events (``sharing.events.record``) with who did it, when, in which
municipality and to what; this reads them back for the municipality's administrators, newest
first, filtered, and names the people who acted. How each event reads is said by the domain
that records it (``sharing.events.describe``): nothing here knows a domain above accounts.

People are named only while their account is kept: an erased account (its row stays, marked
erased and renamed) or one missing from the table reads as a deleted user (the trail keeps ids,
never names). The service never deletes an account, only erases it, so an id is never another
person's; an account's creation time says nothing here (the demo's history predates its accounts).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlmodel import Session, col

from sharing import events
from sharing.accounts.models import Actor, User
from sharing.clock import SWEDEN
from sharing.db import Page
from sharing.events import DomainEvent, SubjectLabel, event_label, subject_label
from sharing.typed import id_of


def record_for_trail(session: Session, name: str, *, subject_type: str, subject_id: int, municipality_id: int,
                     by: Actor | None, now: datetime, **payload: object) -> None:
    """Record what an administrator (or a person, of themself) did in a municipality, for its trail,
    in the caller's transaction. The payload names records by their ids and says which fields
    changed, never their values: no name, address, password, token or secret. ``by`` None is the
    service (or its operator)."""
    events.record(session, name, subject_type=subject_type, subject_id=subject_id, now=now,
                  actor_id=by.id if by is not None else None, municipality_id=municipality_id, payload=payload)


def record_account_event(session: Session, name: str, *, user: User, by: Actor | None, now: datetime,
                         **payload: object) -> None:
    """What was done to a person's account: the account named by its id alone (its name is read
    while the account is kept)."""
    record_for_trail(session, name, subject_type="user", subject_id=id_of(user), municipality_id=user.municipality_id,
                     by=by, now=now, **payload)


@dataclass(frozen=True)
class TrailFilters:
    """A trail as the page's address carries it: all optional."""

    kind: str = ""  # an event's name, or a domain's ("catalog": all of its events)
    subject_type: str = ""
    subject_id: int | None = None
    actor_id: int | None = None
    date_from: date | None = None  # Swedish days, both included
    date_to: date | None = None


def _conditions(municipality_id: int, filters: TrailFilters) -> list[ColumnElement[bool]]:
    name = col(DomainEvent.name)
    conditions = [col(DomainEvent.municipality_id) == municipality_id]
    if filters.kind:
        conditions.append(name == filters.kind if "." in filters.kind
                          else name.startswith(filters.kind + ".", autoescape=True))
    if filters.subject_type:
        conditions.append(col(DomainEvent.subject_type) == filters.subject_type)
    if filters.subject_id is not None:
        conditions.append(col(DomainEvent.subject_id) == filters.subject_id)
    if filters.actor_id is not None:
        conditions.append(col(DomainEvent.actor_id) == filters.actor_id)
    if filters.date_from is not None:
        conditions.append(col(DomainEvent.occurred_at) >= _start_of(filters.date_from))
    if filters.date_to is not None:
        conditions.append(col(DomainEvent.occurred_at) < _start_of(filters.date_to + timedelta(days=1)))
    return conditions


def _start_of(day: date) -> datetime:
    """When a Swedish day begins (00:00 in Stockholm, summer time or not)."""
    return datetime.combine(day, time.min, tzinfo=SWEDEN)


def _newest_first(municipality_id: int, filters: TrailFilters) -> Select[DomainEvent]:
    # Walks ix_domain_event_municipality_id_occurred_at backwards; the id orders events of one instant.
    return (select(DomainEvent).where(*_conditions(municipality_id, filters))
            .order_by(col(DomainEvent.occurred_at).desc(), col(DomainEvent.id).desc()))


def find_events(session: Session, *, municipality_id: int, filters: TrailFilters, page: int,
                per_page: int) -> Page[DomainEvent]:
    """One page of the municipality's events, newest first. No other municipality's event is ever
    among them: the municipality is a condition of every query here."""
    total = session.scalar(select(func.count()).select_from(DomainEvent)
                           .where(*_conditions(municipality_id, filters))) or 0
    rows = list(session.scalars(_newest_first(municipality_id, filters)
                                .offset((page - 1) * per_page).limit(per_page)))
    return Page(rows, total, page, per_page)


def all_events(session: Session, *, municipality_id: int, filters: TrailFilters,
               limit: int) -> Iterator[DomainEvent]:
    """The municipality's events, newest first, at most ``limit`` (a download), read in batches."""
    query = _newest_first(municipality_id, filters).limit(limit).execution_options(yield_per=500)
    yield from session.scalars(query)


# --- Reading an event ------------------------------------------------------------------

class Who(StrEnum):
    PERSON = "person"
    DELETED = "deleted"  # an account no longer kept
    SERVICE = "service"  # nobody: the service itself (a job, a match)
    OTHER = "other"  # someone not named here: another person than the one a register extract is for


@dataclass(frozen=True)
class Person:
    who: Who
    name: str = ""


def people(session: Session, events: Iterable[DomainEvent]) -> dict[int, User]:
    """The accounts of the events' actors that are still kept, by id."""
    ids = {event.actor_id for event in events if event.actor_id is not None}
    if not ids:
        return {}
    return {user.id: user for user in session.scalars(select(User).where(col(User.id).in_(ids)))
            if user.id is not None}


def person(user: User | None) -> Person:
    """How the trail names a user: by name unless their account was erased."""
    if user is None or user.erased_at is not None:
        return Person(Who.DELETED)
    return Person(Who.PERSON, user.name)


_named_alone: ContextVar[int | None] = ContextVar("named_alone", default=None)


@contextmanager
def naming_only(user_id: int) -> Iterator[None]:
    """Within it, ``person_of`` names this user alone, and anyone else as another person: a
    register extract tells a person what is kept about them, not who else they dealt with."""
    token = _named_alone.set(user_id)
    try:
        yield
    finally:
        _named_alone.reset(token)


def person_of(session: Session, user_id: int | None) -> Person:
    """One user as the trail names them (a payload's contact person, say); nobody is the service."""
    if user_id is None:
        return Person(Who.SERVICE)
    alone = _named_alone.get()
    if alone is not None and user_id != alone:
        return Person(Who.OTHER)
    return person(session.get(User, user_id))


@dataclass(frozen=True)
class TrailRow:
    """One event as the trail shows it; texts are in the reader's language where the domain said how."""

    event: DomainEvent
    actor: Person
    what: str  # the domain's label, or the event's own name where none was given
    described: bool
    subject: str  # "Listing" or the raw subject type
    link: str | None  # the subject's page, if it has one
    details: list[tuple[str, str]] = field(default_factory=list)


def trail_rows(session: Session, events: list[DomainEvent], *, reader: Actor | None = None) -> list[TrailRow]:
    """The events as rows of the trail. A domain's description that fails on an odd payload
    shows the event without its details, never an error. A subject's page is linked only where
    the ``reader`` may open it (none is linked without a reader)."""
    accounts = people(session, events)
    opened = _opened(session, events, reader)
    rows = []
    for event in events:
        label = event_label(event.name)
        subject = subject_label(event.subject_type)
        actor = (person(accounts.get(event.actor_id)) if event.actor_id is not None
                 else Person(Who.SERVICE))
        rows.append(TrailRow(
            event=event, actor=actor, what=str(label.label) if label else event.name, described=label is not None,
            subject=str(subject.label) if subject else event.subject_type,
            link=_link(subject, event, opened) if reader is not None else None,
            details=_details(session, event, label.details if label else None)))
    return rows


def _link(subject: SubjectLabel | None, event: DomainEvent, opened: dict[str, set[int]]) -> str | None:
    """The subject's page, if it has one the reader may open (the trail shows what they may not)."""
    if subject is None or subject.link is None or not event.subject_id:
        return None
    if subject.opens is not None and event.subject_id not in opened.get(event.subject_type, set()):
        return None
    return subject.link(event.subject_id)


def _opened(session: Session, events: list[DomainEvent], reader: Actor | None) -> dict[str, set[int]]:
    """Of the events' subjects whose pages not everyone may open, those the reader may, by kind:
    one read for each kind (the trail shows what they may not open too)."""
    if reader is None:
        return {}
    by_kind: dict[str, set[int]] = {}
    for event in events:
        if event.subject_id:
            by_kind.setdefault(event.subject_type, set()).add(event.subject_id)
    return {kind: subject.opens(session, reader, ids) for kind, ids in by_kind.items()
            if (subject := subject_label(kind)) is not None and subject.link is not None and subject.opens is not None}


def event_details(session: Session, event: DomainEvent) -> list[tuple[str, str]]:
    """What the event's payload says, in words, as its domain describes it (the trail's, and a
    person's register extract's)."""
    label = event_label(event.name)
    return _details(session, event, label.details if label else None)


def _details(session: Session, event: DomainEvent, describe: Any) -> list[tuple[str, str]]:
    if describe is None:
        return []
    try:
        return [(str(what), str(how)) for what, how in describe(session, event)]
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        return []  # a payload from an older version of the domain, say: the event still shows
