"""Telling the next in line: receivers of loans' events that free pieces, and of asking.

Each runs after the step's commit, in a session of its own that also marks its delivery done:
an entry is marked told, noted in the service and mailed in one transaction, so it is told once.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlmodel import Session

from sharing.accounts import notifications
from sharing.accounts.mail_preferences.rules import wants_mail
from sharing.accounts.models import User
from sharing.catalog.listings.models import Listing
from sharing.clock import utcnow
from sharing.events import DomainEvent, add_receiver
from sharing.i18n import N_
from sharing.loans import events, mail_kinds
from sharing.loans.queue import rules as queue
from sharing.loans.queue.models import QueueEntry
from sharing.loans.requests.models import LoanRequest
from sharing.mail import queue_mail
from sharing.web.paths import path_for

# What frees pieces: a request declined or cancelled (its holds released), a loan returned
# (early or on time: its hold ends at the return; late: its overdue pieces are free again).
FREEING = (events.DECLINED, events.CANCELLED, events.RETURNED)
TOLD = N_("Pieces of “%(listing)s” have come free for your dates. They are not booked for you: "
          "ask for them now, before someone else does.")
SUBJECT = _l("Delningstjänsten: a queue place has come free")


def tell_when_free(session: Session, event: DomainEvent) -> None:
    request = session.get(LoanRequest, event.subject_id)
    listing_ids = {event.payload.get("listing_id")}
    if request is not None and event.name != events.RETURNED:
        listing_ids.add(request.offered_listing_id)  # a swap's offered pieces are released too
    now = utcnow()
    for listing_id in sorted(i for i in listing_ids if isinstance(i, int)):
        for entry in queue.tell_next(session, listing_id=listing_id, now=now):
            tell(session, entry, now=now)


def tell(session: Session, entry: QueueEntry, *, now: datetime) -> None:
    """In the service and by e-mail, in the user's language: what came free, and that it is not theirs yet."""
    user = session.get(User, entry.user_id)
    listing = session.get(Listing, entry.listing_id)
    if user is None or not user.active or listing is None:
        return
    assert user.id is not None
    params = {"listing": listing.title}
    url = path_for("catalog.detail", listing_id=listing.id)
    notifications.notify(session, user_id=user.id, message=TOLD, params=params, url=url, now=now)
    if wants_mail(session, user.id, mail_kinds.QUEUE_PLACE_FREE):
        queue_mail(session, to=user.email, subject=SUBJECT, locale=user.locale,
                   template="loans/mail/queue_free.txt", user=user, message=TOLD, params=params, entry=entry,
                   listing_id=listing.id)


def leave_when_asked(session: Session, event: DomainEvent) -> None:
    listing_id = event.payload.get("listing_id")
    if event.actor_id is not None and isinstance(listing_id, int):
        queue.leave_after_asking(session, user_id=event.actor_id, listing_id=listing_id, now=utcnow())


def register() -> None:
    add_receiver("loans.queue.tell-when-free", FREEING, tell_when_free)
    add_receiver("loans.queue.leave-when-asked", [events.REQUESTED], leave_when_asked)
