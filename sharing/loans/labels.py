"""How loans' events read in the audit trail, in the reader's language (see sharing/catalog/labels.py)."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlmodel import Session

from sharing.events import DomainEvent, describe, describe_subject
from sharing.loans import events
from sharing.loans.requests.labels import KIND_LABELS, REQUEST_STATUS_LABELS

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
    shown = [(_("Listing"), _("listing %(id)s", id=payload.get("listing_id"))),
             (_("Kind"), str(kinds.get(str(payload.get("kind")), payload.get("kind")))),
             (_("Pieces"), str(payload.get("quantity", "")))]
    if payload.get("from") in statuses:
        after = statuses.get(str(payload.get("status")), "")
        shown.append((_("Status"), f"{statuses[payload['from']]} → {after}"))
    if payload.get("reason"):
        shown.append((_("Why"), str(payload["reason"])))
    return shown


def _queued(session: Session, event: DomainEvent) -> list[tuple[str, str]]:
    return [(_("Listing"), _("listing %(id)s", id=event.payload.get("listing_id"))),
            (_("Pieces"), str(event.payload.get("quantity", "")))]


def describe_events() -> None:
    for name, label in EVENT_LABELS.items():
        describe(name, label, group=GROUP, details=_request)
    for name, label in QUEUE_LABELS.items():
        describe(name, label, group=GROUP, details=_queued)
    describe_subject(events.SUBJECT, _l("Request"), link=lambda id_: url_for("loans.detail", request_id=id_))
    describe_subject(events.QUEUE_SUBJECT, _l("Queue place"))
