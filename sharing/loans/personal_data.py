"""The loans' part of a person's data (see accounts/personal_data): the requests they made or
took a step of, the messages they wrote, their queue places and calendar feed.

Erasing them blanks what was written by them or to them about their requests: the messages
they wrote anywhere and the whole thread of the requests they made, the decline reasons and the
return's remarks and damage notes on their requests or written by them (in the declined events'
payloads too). Where others named them in another request's texts, the name (or address) is
replaced. Their queue places and calendar feed go. The requests themselves stay as they
were, naming the anonymous account by its id (who asked, who decided, who handed over): the
reports count them, and must count exactly the same."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlmodel import Session, col

from sharing.accounts.models import Actor
from sharing.accounts.personal_data.rules import Mentions, Records, bounded, mentions_of
from sharing.catalog.listings.models import Listing
from sharing.loans.calendar_feed.models import CalendarFeed
from sharing.loans.queue import rules as queue
from sharing.loans.queue.models import QueueEntry, QueueStatus
from sharing.loans.requests.models import LoanRequest, RequestMessage
from sharing.loans.requests.rules import WITHDRAWN_REASON
from sharing.loans.retention import blank_declined_reasons

# What a person may have done in a request, by the column that names them.
PARTS = {"requester": "requester_id", "decided": "decided_by_id", "handed_over": "handed_over_by_id",
         "received_return": "return_received_by_id"}


def extract(session: Session, *, user_id: int) -> dict[str, Records]:
    requests = session.execute(bounded(
        select(LoanRequest, col(Listing.title)).join(Listing, col(Listing.id) == LoanRequest.listing_id)
        .where(or_(*(col(getattr(LoanRequest, column)) == user_id for column in PARTS.values())))
        .order_by(col(LoanRequest.created_at).desc(), col(LoanRequest.id).desc())))
    messages = session.execute(bounded(
        select(RequestMessage, col(Listing.title)).join(LoanRequest, col(LoanRequest.id) == RequestMessage.request_id)
        .join(Listing, col(Listing.id) == LoanRequest.listing_id).where(col(RequestMessage.author_id) == user_id)
        .order_by(col(RequestMessage.created_at).desc())))
    places = session.execute(bounded(
        select(QueueEntry, col(Listing.title)).join(Listing, col(Listing.id) == QueueEntry.listing_id)
        .where(col(QueueEntry.user_id) == user_id).order_by(col(QueueEntry.created_at).desc())))
    feed = session.scalar(select(CalendarFeed).where(col(CalendarFeed.user_id) == user_id))
    return {
        "requests": [{
            "id": r.id, "kind": r.kind, "status": r.status, "listing": title, "quantity": r.quantity,
            "your_part": [part for part, column in PARTS.items() if getattr(r, column) == user_id],
            "starts_at": r.starts_at, "ends_at": r.ends_at, "created_at": r.created_at, "decided_at": r.decided_at,
            "decline_reason": r.decline_reason, "handed_over_at": r.handed_over_at, "returned_at": r.returned_at,
            "return_remarks": r.return_remarks, "return_damage": r.return_damage, "closed_at": r.closed_at,
        } for r, title in requests],
        "request_messages": [{"request_id": m.request_id, "listing": title, "created_at": m.created_at,
                              "body": m.body} for m, title in messages],
        "queue_places": [{"listing": title, "quantity": e.quantity, "first_day": e.first_day,
                          "last_day": e.last_day, "status": e.status, "created_at": e.created_at,
                          "told_at": e.told_at, "left_at": e.left_at} for e, title in places],
        "calendar_feed": [{"created_at": feed.created_at}] if feed is not None else [],
    }


def erase(session: Session, *, user_id: int, by: Actor, now: datetime) -> None:
    theirs = select(col(LoanRequest.id)).where(col(LoanRequest.requester_id) == user_id)
    session.execute(delete(RequestMessage).where(or_(col(RequestMessage.author_id) == user_id,
                                                     col(RequestMessage.request_id).in_(theirs))))
    declined = list(session.scalars(select(col(LoanRequest.id)).where(
        or_(col(LoanRequest.requester_id) == user_id, col(LoanRequest.decided_by_id) == user_id),
        col(LoanRequest.decline_reason) != "", col(LoanRequest.decline_reason) != WITHDRAWN_REASON)))
    if declined:
        session.execute(update(LoanRequest).where(col(LoanRequest.id).in_(declined)).values(decline_reason=""))
        blank_declined_reasons(session, request_ids=declined)
    session.execute(update(LoanRequest).where(
        or_(col(LoanRequest.requester_id) == user_id, col(LoanRequest.return_received_by_id) == user_id),
        or_(col(LoanRequest.return_remarks) != "", col(LoanRequest.return_damage) != ""))
        .values(return_remarks="", return_damage=""))
    _scrub_mentions(session, mentions_of(session, user_id))
    for entry in session.scalars(select(QueueEntry).where(col(QueueEntry.user_id) == user_id,
                                                          col(QueueEntry.status) == QueueStatus.WAITING.value)).all():
        queue.drop(session, entry, why="erased", now=now)  # the queue's others move up, as when one leaves
    session.execute(delete(QueueEntry).where(col(QueueEntry.user_id) == user_id))
    session.execute(delete(CalendarFeed).where(col(CalendarFeed.user_id) == user_id))
    session.expire_all()  # what the session held of these rows has changed beneath it


def _scrub_mentions(session: Session, mentions: Mentions) -> None:
    """What others wrote naming the person, in other requests: their name and address replaced."""
    for message in session.scalars(select(RequestMessage).where(mentions.found_in(RequestMessage.body))).all():
        message.body = mentions.scrub(message.body)
        session.add(message)
    texts = ("decline_reason", "return_remarks", "return_damage")
    for request in session.scalars(select(LoanRequest).where(
            or_(*(mentions.found_in(getattr(LoanRequest, text)) for text in texts)))).all():
        for text in texts:
            setattr(request, text, mentions.scrub(getattr(request, text)))
        session.add(request)
    session.flush()
