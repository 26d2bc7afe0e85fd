"""How long loans keep what people wrote, photographed and queued for, and the ``loan-retention``
job that deletes it after that (the privacy page states these very periods).

- A request's free text and photo: the messages of its thread, the reason it was declined (in
  the request and in its declined event), the remarks and damage noted at its return, and the
  return's photo (its files too), are deleted ``REQUEST_TEXT_KEPT`` after the request ended:
  closed, declined, cancelled, returned (even if the borrower never confirmed it), or handed
  over for good. What the reports need stays: the request's facts (who asked, for what, when,
  how many, each step's time and who took it, the conditions noted) and its events.
- A queue place: one left, or told that pieces came free, is deleted ``QUEUE_PLACE_KEPT``
  after that; one still waiting is dropped (and its leaving recorded) once it can never be told
  any more: its listing withdrawn, handed over or otherwise no longer bookable, or its period
  over.

Each run does what is due, in batches of its own transactions; a second run finds nothing left
to do, so two runs at once are harmless too (and the job's lease keeps them to one a day).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, and_, delete, exists, func, or_, select, update
from sqlmodel import Session, col

from sharing.catalog.holds.rules import BOOKABLE
from sharing.catalog.listings.models import Listing
from sharing.catalog.photos import rules as photos
from sharing.clock import today_in_sweden, utcnow
from sharing.db import new_session
from sharing.events import DomainEvent
from sharing.loans import events
from sharing.loans.queue import rules as queue
from sharing.loans.queue.models import QueueEntry, QueueStatus
from sharing.loans.requests.models import LoanRequest, RequestKind, RequestMessage, RequestStatus
from sharing.loans.requests.rules import WITHDRAWN_REASON

log = logging.getLogger("sharing.loans")

REQUEST_TEXT_KEPT = timedelta(days=365)  # from the request's end: messages, written notes, the return photo
QUEUE_PLACE_KEPT = timedelta(days=30)  # from leaving the queue, or being told
BATCH = 200  # requests or queue places a transaction handles

S, W = RequestStatus, QueueStatus


# --- Requests ----------------------------------------------------------------------------------

def ended_before(cutoff: datetime) -> ColumnElement[bool]:
    """A condition on requests: ended before ``cutoff`` (for good, whatever the other side
    still has to confirm)."""
    return or_(
        and_(col(LoanRequest.status) == S.CLOSED.value, col(LoanRequest.closed_at) < cutoff),
        and_(col(LoanRequest.status) == S.DECLINED.value, col(LoanRequest.decided_at) < cutoff),
        # Cancelled by its requester, or with its withdrawn listing (then only decided).
        and_(col(LoanRequest.status) == S.CANCELLED.value,
             func.coalesce(col(LoanRequest.cancelled_at), col(LoanRequest.decided_at),
                           col(LoanRequest.updated_at)) < cutoff),
        and_(col(LoanRequest.status) == S.RETURNED.value, col(LoanRequest.returned_at) < cutoff),
        and_(col(LoanRequest.status) == S.HANDED_OVER.value, col(LoanRequest.kind) != RequestKind.BORROW.value,
             col(LoanRequest.handed_over_at) < cutoff))


def _has_text() -> ColumnElement[bool]:
    """A condition on requests: something written or photographed is left to delete."""
    return or_(col(LoanRequest.return_photo_key).is_not(None), col(LoanRequest.return_remarks) != "",
               col(LoanRequest.return_damage) != "",
               and_(col(LoanRequest.decline_reason) != "", col(LoanRequest.decline_reason) != WITHDRAWN_REASON),
               exists().where(col(RequestMessage.request_id) == col(LoanRequest.id)))


def forget_request_texts(session: Session, *, now: datetime, store: photos.PhotoStore,
                         limit: int = BATCH) -> int:
    """Delete the free text and photo of up to ``limit`` requests that ended ``REQUEST_TEXT_KEPT``
    ago, in the session's transaction (the photo's files go once it commits); returns how many."""
    ids = list(session.scalars(select(col(LoanRequest.id)).where(ended_before(now - REQUEST_TEXT_KEPT), _has_text())
                               .order_by(col(LoanRequest.id)).limit(limit)))
    if not ids:
        return 0
    for key in session.scalars(select(col(LoanRequest.return_photo_key)).where(col(LoanRequest.id).in_(ids))):
        if key is not None:
            photos.discard_stored(session, key, store)
    session.execute(delete(RequestMessage).where(col(RequestMessage.request_id).in_(ids)))
    session.execute(update(LoanRequest).where(col(LoanRequest.id).in_(ids)).values(
        return_remarks="", return_damage="", return_photo_key=None, return_photo_width=None,
        return_photo_height=None))
    # A reason a person wrote goes; the service's own (the listing was withdrawn) is no one's text.
    session.execute(update(LoanRequest).where(col(LoanRequest.id).in_(ids),
                                              col(LoanRequest.decline_reason) != WITHDRAWN_REASON)
                    .values(decline_reason=""))
    blank_declined_reasons(session, request_ids=ids)
    session.expire_all()  # what the session held of them is gone
    return len(ids)


def blank_declined_reasons(session: Session, *, request_ids: Sequence[int | None]) -> int:
    """The reason a person wrote for declining is in the declined event's payload too: blanked
    there as well (the event stays, and that a reason was given: ``reason_given``). The
    service's own reason stays. Returns how many events were blanked."""
    blanked = 0
    for event in session.scalars(select(DomainEvent).where(
            col(DomainEvent.subject_type) == events.SUBJECT, col(DomainEvent.subject_id).in_(request_ids),
            col(DomainEvent.name) == events.DECLINED)):
        reason = event.payload.get("reason")
        if reason and reason != WITHDRAWN_REASON:
            session.execute(update(DomainEvent).where(col(DomainEvent.id) == event.id)
                            .values(payload={**event.payload, "reason": "", "reason_given": True}))
            blanked += 1
    return blanked


# --- Queue places ------------------------------------------------------------------------------

def forget_queue_places(session: Session, *, now: datetime, limit: int = BATCH) -> int:
    """Drop up to ``limit`` waiting places that can never be told any more (recording that they
    left the queue), and delete up to ``limit`` places left or told ``QUEUE_PLACE_KEPT`` ago, in
    the session's transaction; returns how many places went."""
    today = today_in_sweden(now)
    listing_gone = ~exists().where(col(Listing.id) == col(QueueEntry.listing_id), col(Listing.status).in_(BOOKABLE))
    lapsed = list(session.scalars(select(QueueEntry).where(
        col(QueueEntry.status) == W.WAITING.value, or_(col(QueueEntry.last_day) < today, listing_gone))
        .order_by(col(QueueEntry.id)).limit(limit)))
    for entry in lapsed:
        queue.drop(session, entry, why="listing_gone" if entry.last_day is None or entry.last_day >= today
                   else "period_over", now=now)
    cutoff = now - QUEUE_PLACE_KEPT
    done = list(session.scalars(select(col(QueueEntry.id)).where(or_(
        and_(col(QueueEntry.status) == W.LEFT.value, col(QueueEntry.left_at) < cutoff),
        and_(col(QueueEntry.status) == W.TOLD.value, col(QueueEntry.told_at) < cutoff)))
        .order_by(col(QueueEntry.id)).limit(limit)))
    if done:
        session.execute(delete(QueueEntry).where(col(QueueEntry.id).in_(done)))
    session.expire_all()
    return len(lapsed) + len(done)


# --- The job -----------------------------------------------------------------------------------

def forget_what_is_due(*, now: datetime, store: photos.PhotoStore) -> tuple[int, int]:
    """Everything due at ``now``, a batch a transaction; returns how many requests lost their
    texts and how many queue places went."""
    counts = []
    for forget in (lambda session: forget_request_texts(session, now=now, store=store),
                   lambda session: forget_queue_places(session, now=now)):
        total = 0
        while True:
            with new_session() as session:
                done = forget(session)
                session.commit()
            total += done
            if done == 0:
                break
        counts.append(total)
    if any(counts):
        log.info("retention: texts and photos of %d requests deleted, %d queue places deleted", *counts)
    return counts[0], counts[1]


def run() -> None:
    forget_what_is_due(now=utcnow(), store=photos.PhotoStore.from_config(current_app.config))
