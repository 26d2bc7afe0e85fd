"""How loans' events read in the audit trail, in the reader's language (see sharing/catalog/labels.py)."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlmodel import Session, col

from sharing.accounts.models import Actor
from sharing.accounts.personal_data.rules import Section, labelled
from sharing.catalog.labels import listing_named
from sharing.events import DomainEvent, describe, describe_subject
from sharing.loans import events
from sharing.loans.queue.models import QueueStatus
from sharing.loans.requests import rules as requests
from sharing.loans.requests.labels import KIND_LABELS, REQUEST_STATUS_LABELS, period_between
from sharing.loans.requests.models import LoanRequest
from sharing.typed import id_of

GROUP = _l("Loans")
EVENT_LABELS = {
    events.REQUESTED: _l("A request was made"),
    events.APPROVED: _l("The request was approved"),
    events.DECLINED: _l("The request was declined"),
    events.CANCELLED: _l("The request was cancelled"),
    events.HANDED_OVER: _l("The pieces were handed over"),
    events.CONFIRMED: _l("A handover or return was confirmed"),
    events.RETURNED: _l("The pieces were returned"),
    events.EXTENDED: _l("The loan was extended"),
    events.OVERDUE: _l("The loan became overdue"),
    events.TRANSFERRED: _l("The pieces changed owner"),
    events.SWAPPED: _l("The pieces were swapped"),
    events.CLOSED: _l("The request was closed"),
    events.MESSAGE: _l("A message was written"),
}
QUEUE_LABELS = {
    events.QUEUE_JOINED: _l("Someone joined the queue"),
    events.QUEUE_TOLD: _l("The next in the queue was told pieces came free"),
    events.QUEUE_LEFT: _l("Someone left the queue"),
}


def _request(session: Session, event: DomainEvent) -> list[tuple[str, str]]:
    payload = event.payload
    kinds: dict[str, object] = {kind.value: label for kind, label in KIND_LABELS.items()}
    statuses: dict[str, object] = {status.value: label for status, label in REQUEST_STATUS_LABELS.items()}
    shown = [(_("Listing"), listing_named(session, payload.get("listing_id"))),
             (_("Kind"), str(kinds.get(str(payload.get("kind")), payload.get("kind")))),
             (_("Pieces"), str(payload.get("quantity", "")))]
    if payload.get("from") in statuses:
        after = statuses.get(str(payload.get("status")), "")
        shown.append((_("Status"), f"{statuses[payload['from']]} → {after}"))
    if payload.get("reason"):
        shown.append((_("Why"), str(payload["reason"])))
    elif payload.get("reason_given"):  # what a person wrote goes after its time (retention.py)
        shown.append((_("Why"), _("Given, since deleted")))
    return shown


def _queued(session: Session, event: DomainEvent) -> list[tuple[str, str]]:
    return [(_("Listing"), listing_named(session, event.payload.get("listing_id"))),
            (_("Pieces"), str(event.payload.get("quantity", "")))]


def _opens_requests(session: Session, reader: Actor, ids: set[int]) -> set[int]:
    return {id_of(request) for request in session.scalars(select(LoanRequest).where(col(LoanRequest.id).in_(ids)))
            if requests.can_see(reader, request)}


def describe_events() -> None:
    for name, label in EVENT_LABELS.items():
        describe(name, label, group=GROUP, details=_request)
    for name, label in QUEUE_LABELS.items():
        describe(name, label, group=GROUP, details=_queued)
    describe_subject(events.SUBJECT, _l("Request"), link=lambda id_: url_for("loans.detail", request_id=id_),
                     opens=_opens_requests)
    describe_subject(events.QUEUE_SUBJECT, _l("Queue place"))


QUEUE_STATUS_LABELS = {
    QueueStatus.WAITING: _l("Waiting"),
    QueueStatus.TOLD: _l("Told that pieces came free"),
    QueueStatus.LEFT: _l("Left the queue"),
}
PART_LABELS = {
    "requester": _l("You asked"), "decided": _l("You decided"), "handed_over": _l("You noted the handover"),
    "received_return": _l("You received the return"),
}


def _parts(session: Session, record: dict[str, object]) -> str:
    parts = record.get("your_part")
    return ", ".join(str(PART_LABELS.get(str(part), part)) for part in parts) if isinstance(parts, list) else ""


def _period(session: Session, record: dict[str, Any]) -> str:
    """Its days as the request's page says them: its last day, not the midnight after."""
    return period_between(record["starts_at"], record["ends_at"])


PERSONAL_DATA = {
    "requests": Section(_l("Requests you made or took a step of"), {
        "id": _l("Number"), "kind": _l("Kind"), "status": _l("Status"), "listing": _l("Listing"),
        "quantity": _l("Pieces"), "your_part": _l("Your part"), "period": _l("When"),
        "created_at": _l("Asked"), "decided_at": _l("Decided"), "decline_reason": _l("Reason for declining"),
        "handed_over_at": _l("Handed over"), "returned_at": _l("Returned"),
        "return_remarks": _l("Remarks at the return"), "return_damage": _l("Damage noted"), "closed_at": _l("Closed")},
        {"kind": labelled("kind", KIND_LABELS), "status": labelled("status", REQUEST_STATUS_LABELS),
         "your_part": _parts, "period": _period}),
    "request_messages": Section(_l("Messages you wrote in requests"), {
        "request_id": _l("Request"), "listing": _l("Listing"), "created_at": _l("Written"), "body": _l("Message")}),
    "queue_places": Section(_l("Your queue places"), {
        "listing": _l("Listing"), "quantity": _l("Pieces"), "first_day": _l("First day"), "last_day": _l("Last day"),
        "status": _l("Status"), "created_at": _l("Joined"), "told_at": _l("Told"), "left_at": _l("Left")},
        {"status": labelled("status", QUEUE_STATUS_LABELS)}),
    "calendar_feed": Section(_l("Your calendar feed"), {"created_at": _l("Made")}),
}
