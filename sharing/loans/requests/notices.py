"""Telling the people of a request what happened to it: in the service and by e-mail.

Receivers of loans' own events: each runs after the step's commit, in a session of its own,
so a failure here is retried later and never undoes the step. Who hears of a step is the side
that did not take it: the requester, or the facility managers of the owner's municipality.
Everyone told is told in the service; by e-mail only if they keep that kind of notice on
(``sharing.accounts.mail_preferences``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlmodel import Session, col

from sharing.accounts import notifications
from sharing.accounts.mail_preferences.rules import wants_mail
from sharing.accounts.models import Municipality, Role, RoleGrant, Site, Unit, User
from sharing.catalog import events as catalog_events
from sharing.catalog.holds import rules as holds
from sharing.catalog.listings.models import Listing
from sharing.clock import utcnow
from sharing.events import DomainEvent, add_receiver
from sharing.i18n import N_
from sharing.loans import events, mail_kinds
from sharing.loans.requests import rules as loans
from sharing.loans.requests.models import LoanRequest, RequestMessage, RequestStatus
from sharing.mail import queue_mail
from sharing.web.paths import path_for

# Who is told, given the request and who took the step (None: no one, as for a reminder).
Audience = Callable[[Session, LoanRequest, "int | None"], list[User]]


# Built once: every request asked tells the owner's managers.
_MANAGERS_OF = select(User).join(RoleGrant).where(
    col(User.municipality_id) == bindparam("municipality_id"), col(RoleGrant.role) == Role.FACILITY_MANAGER.value,
    col(User.active)).order_by(col(User.id))


def owner_managers(session: Session, request: LoanRequest, actor_id: int | None = None) -> list[User]:
    """The facility managers of the owner's municipality, but not whoever took the step."""
    return [user for user in session.scalars(_MANAGERS_OF, {"municipality_id": request.owner_municipality_id})
            if user.id != actor_id]


def requester(session: Session, request: LoanRequest, actor_id: int | None = None) -> list[User]:
    user = session.get(User, request.requester_id) if request.requester_id is not None else None
    return [user] if user is not None and user.active and user.id != actor_id else []


def other_side(session: Session, request: LoanRequest, actor_id: int | None) -> list[User]:
    """A step either side may take is told to the other."""
    return owner_managers(session, request, actor_id) if actor_id == request.requester_id \
        else requester(session, request, actor_id)


# What each step says, and to whom. Messages are msgids with the request's words as parameters.
TOLD: dict[str, tuple[str, Audience]] = {
    events.REQUESTED: (N_("%(unit)s in %(municipality)s asks for %(quantity)s of “%(listing)s”."), owner_managers),
    events.APPROVED: (N_("Your request for “%(listing)s” is approved."), requester),
    events.DECLINED: (N_("Your request for “%(listing)s” is declined."), requester),
    events.CANCELLED: (N_("The request for “%(listing)s” from %(unit)s in %(municipality)s is cancelled."),
                       other_side),
    events.HANDED_OVER: (N_("“%(listing)s” is noted as handed over: please confirm."), other_side),
    events.RETURNED: (N_("“%(listing)s” is noted as returned: please confirm."), requester),
    events.EXTENDED: (N_("The loan of “%(listing)s” is extended to %(last_day)s."), other_side),
    events.MESSAGE: (N_("A new message about “%(listing)s”."), other_side),
}
# A handover or a return a driver made on the owner's behalf (by transport) is news to the owner's
# facility managers too: what they hear, not asked to confirm (the driver's step is theirs).
CARRIED = {
    events.HANDED_OVER: (N_("“%(listing)s” is handed over by transport."), N_("Handed over by transport: %(listing)s")),
    events.RETURNED: (N_("“%(listing)s” is back, taken back by transport."), N_("Back by transport: %(listing)s")),
}
# Notices keep their msgid: those told in an earlier wording are still read, in the reader's
# language, and settled as their step's own (``EARLIER``: the step's msgid now, and before).
EARLIER = {
    N_("%(unit)s in %(municipality)s asks for %(quantity)s of “%(listing)s”."):
        [N_("%(unit)s asks for %(quantity)s of “%(listing)s”.")],
}
EARLIER_WORDINGS = (N_("The loan of “%(listing)s” is extended."),
                    N_("The request for “%(listing)s” from %(unit)s is cancelled."))
# A borrower extends within the listing's longest loan without asking: the owner hears why they
# were not asked.
EXTENDED_BY_BORROWER = N_("%(unit)s in %(municipality)s extended the loan of “%(listing)s” to %(last_day)s. "
                          "It stays within the listing's longest loan, so it needed no approval.")
# What a step answers: the notices of the request that asked for it (by their msgid), settled
# for everyone told (a colleague may have taken it). A confirmation answers the notice of the
# step it confirms; a request that ended asks nothing more of anyone.
_ASKED = {name: TOLD[name][0] for name in (events.REQUESTED, events.HANDED_OVER, events.RETURNED)}
_DECIDED = [_ASKED[events.REQUESTED], *EARLIER[_ASKED[events.REQUESTED]]]
_ENDED = [msgid for asked in _ASKED.values() for msgid in (asked, *EARLIER.get(asked, []))]
ANSWERS: dict[str, list[str]] = {
    events.APPROVED: _DECIDED, events.DECLINED: _DECIDED, events.CANCELLED: _ENDED, events.CLOSED: _ENDED,
}
CONFIRMS = {"handover": _ASKED[events.HANDED_OVER], "return": _ASKED[events.RETURNED]}
# Every step someone takes on a request: whoever takes it has seen the request.
STEPS = [events.APPROVED, events.DECLINED, events.CANCELLED, events.HANDED_OVER, events.RETURNED, events.CLOSED,
         events.EXTENDED, events.CONFIRMED, events.MESSAGE]
# Msgids naming the listing: the step's mail is rendered when the send-queued-mail job sends it
# (``later``), in the reader's language then, not by the request that took the step. A subject
# says what happened to what, so that a reader's mails about many requests tell apart.
SUBJECTS = {
    events.REQUESTED: N_("New request: %(listing)s"), events.APPROVED: N_("Approved: %(listing)s"),
    events.DECLINED: N_("Declined: %(listing)s"), events.CANCELLED: N_("Cancelled: %(listing)s"),
    events.HANDED_OVER: N_("Handed over, please confirm: %(listing)s"),
    events.RETURNED: N_("Returned, please confirm: %(listing)s"), events.EXTENDED: N_("Loan extended: %(listing)s"),
    events.MESSAGE: N_("New message: %(listing)s"),
}
# The kind of notice each step is, for the mail choices of those told.
MAILED_AS = {
    events.REQUESTED: mail_kinds.REQUEST_RECEIVED, events.CANCELLED: mail_kinds.REQUEST_RECEIVED,
    events.APPROVED: mail_kinds.DECIDED, events.DECLINED: mail_kinds.DECIDED,
    events.HANDED_OVER: mail_kinds.HANDOVER, events.EXTENDED: mail_kinds.DUE_SOON,
    events.RETURNED: mail_kinds.RETURNED, events.MESSAGE: mail_kinds.MESSAGE,
}


_WORDS = select(select(col(Listing.title)).where(col(Listing.id) == bindparam("listing_id")).scalar_subquery(),
                select(col(Unit.name)).where(col(Unit.id) == bindparam("unit_id")).scalar_subquery())


# A step's receiver reads the request and its words at once: one statement where three were.
_REQUEST_AND_WORDS = select(
    LoanRequest, select(col(Listing.title)).where(col(Listing.id) == col(LoanRequest.listing_id)).scalar_subquery(),
    select(col(Unit.name)).where(col(Unit.id) == col(LoanRequest.requester_unit_id)).scalar_subquery(),
    select(col(Municipality.name)).where(col(Municipality.id) == col(LoanRequest.requester_municipality_id))
    .scalar_subquery(),
    select(col(Site.name)).where(col(Site.id) == col(LoanRequest.delivery_site_id)).scalar_subquery(),
).where(col(LoanRequest.id) == bindparam("request_id"))
# Whether the requester wrote a message when they asked. A mail says there is one, never what
# it says: free text stays in the service, where the retention deletes it.
_ASKED_WITH = select(col(RequestMessage.id)).where(
    col(RequestMessage.request_id) == bindparam("request_id"), col(RequestMessage.author_id) == bindparam("author_id"),
    col(RequestMessage.created_at) <= bindparam("at")).limit(1)


def mail_details(request: LoanRequest, unit: str | None, municipality: str | None, site: str | None = None,
                 with_message: bool = False) -> dict[str, object]:
    """What the step's mail says of the request beside its message, as plain values (it is
    rendered later): which request of several on one listing, where it goes and how, a
    decline's reason, and (to whom it is asked) that the requester wrote with it."""
    return {"kind": request.kind, "quantity": request.quantity, "starts_at": request.starts_at.isoformat(),
            "ends_at": request.ends_at.isoformat() if request.ends_at else None, "unit": unit or "",
            "municipality": municipality or "", "site": site or "", "transport": request.transport_needed,
            "reason": request.decline_reason if request.status == RequestStatus.DECLINED.value else "",
            "with_message": with_message}


def request_words(session: Session, request: LoanRequest) -> dict[str, object]:
    """The request's words that messages name: the listing, how many, the requester's unit
    (the names read in one query)."""
    title, unit = session.execute(_WORDS, {"listing_id": request.listing_id,
                                           "unit_id": request.requester_unit_id}).one()
    return _words(request, title, unit)


def _words(request: LoanRequest, title: str | None, unit: str | None) -> dict[str, object]:
    return {"listing": title or "", "quantity": request.quantity, "unit": unit or ""}


def tell_one(session: Session, user: User, request: LoanRequest, *, message: str, params: dict[str, object],
             subject: object, mail_kind: str, now: datetime, later: bool = False,
             details: dict[str, object] | None = None) -> None:
    """Notify one user in the service, and queue the mail in the same transaction if they want it
    (``later``: rendered and sent by the mail job, the subject a msgid naming the listing; see
    ``queue_mail``). ``details``: what the mail says of the request (``mail_details``)."""
    assert user.id is not None
    notifications.notify(session, user_id=user.id, message=message, params=params,
                         url=path_for("loans.detail", request_id=request.id), now=now)
    if wants_mail(session, user.id, mail_kind):
        # The template reads the user's name alone: given as a value, it can wait to be rendered.
        queue_mail(session, to=user.email, subject=subject, locale=user.locale, template="loans/mail/step.txt",
                   user={"name": user.name}, message=message, params=params, request_id=request.id, later=later,
                   subject_params={"listing": params["listing"]} if later else None, details=details)


def tell(session: Session, event: DomainEvent) -> None:
    if event.name not in TOLD:
        return
    found = session.execute(_REQUEST_AND_WORDS, {"request_id": event.subject_id}).one_or_none()
    if found is None:
        return
    request, title, unit, municipality, site = found
    message, audience = TOLD[event.name]
    params = {**_words(request, title, unit), "municipality": municipality or ""}  # a unit's name alone is ambiguous
    if event.name == events.EXTENDED:
        params["last_day"] = _last_day(event.payload.get("to"), request)
        if event.actor_id == request.requester_id:
            message = EXTENDED_BY_BORROWER
    with_message = event.name == events.REQUESTED and session.scalar(_ASKED_WITH, {
        "request_id": request.id, "author_id": request.requester_id, "at": event.occurred_at}) is not None
    details = mail_details(request, unit, municipality, site, with_message)
    told = [(user, message, SUBJECTS[event.name]) for user in audience(session, request, event.actor_id)]
    if event.name in CARRIED:
        owners = owner_managers(session, request)
        if event.actor_id not in {request.requester_id, *(user.id for user in owners)}:
            asked = {user.id for user, _, _ in told}  # one who asked their own municipality is asked already
            told += [(user, *CARRIED[event.name]) for user in owners if user.id not in asked]
    for user, said, subject in told:
        # Dated when the step was taken, not when it was told (a retry may tell it later).
        tell_one(session, user, request, message=said, params=params, subject=subject,
                 mail_kind=MAILED_AS[event.name], now=event.occurred_at, later=True, details=details)


def _last_day(to: object, request: LoanRequest) -> str:
    """The last day an extension gave, as its page shows it (it ends at the midnight after)."""
    ends_at = datetime.fromisoformat(to) if isinstance(to, str) else request.ends_at
    return holds.day_before(ends_at).isoformat() if ends_at else ""


def settle(session: Session, event: DomainEvent) -> None:
    """A step taken leaves no notice of the request unread asking for it: not those of whoever took
    it (they have been at the request), nor anyone's that asked for this very step or for any
    once the request has ended. What the step itself tells others stays unread."""
    request = session.get(LoanRequest, event.subject_id) if event.subject_id is not None else None
    if request is None:
        return
    url, at = path_for("loans.detail", request_id=event.subject_id), event.occurred_at
    since = request.created_at  # nothing of it was told before it was asked
    if event.actor_id is not None:
        notifications.settle(session, url=url, user_ids=[event.actor_id], sent_from=since, sent_by=at, now=at)
    answered = list(ANSWERS.get(event.name, []))
    if event.name == events.CONFIRMED and event.payload.get("step") in CONFIRMS:
        answered.append(CONFIRMS[event.payload["step"]])
    if answered:
        told = [user.id for user in owner_managers(session, request) + requester(session, request)
                if user.id is not None]
        notifications.settle(session, url=url, user_ids=told, sent_from=since, sent_by=at, now=at,
                             messages=answered)


def close_with_listing(session: Session, event: DomainEvent) -> None:
    """A withdrawn listing can no longer be lent: its open requests end (and their people are told)."""
    if event.subject_id is not None:
        loans.withdraw_with_listing(session, listing_id=event.subject_id, now=utcnow())


def register() -> None:
    add_receiver("loans.tell-of-steps", list(TOLD), tell)
    add_receiver("loans.settle-notices", STEPS, settle)
    add_receiver("loans.close-with-listing", [catalog_events.LISTING_WITHDRAWN], close_with_listing)
