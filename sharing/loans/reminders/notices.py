"""What each reminder says, and to whom: in the service, and by e-mail to those who keep that
kind of notice on. Messages are msgids with the request's words as parameters."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlmodel import Session

from sharing.i18n import N_
from sharing.loans import mail_kinds
from sharing.loans.reminders.rules import ReminderKind, day_of
from sharing.loans.requests.models import LoanRequest, RequestStatus
from sharing.loans.requests.notices import owner_managers, request_words, requester, tell_one

K = ReminderKind
MAILED_AS = {K.HANDOVER_SOON: mail_kinds.HANDOVER, K.HANDOVER_UNCONFIRMED: mail_kinds.HANDOVER,
             K.DUE_SOON: mail_kinds.DUE_SOON, K.DUE_TODAY: mail_kinds.DUE_SOON,
             K.OVERDUE_1: mail_kinds.OVERDUE, K.OVERDUE_7: mail_kinds.OVERDUE}

# (to the requester, to the owner's facility managers); None: that side is not told.
DELIVERY_SOON = (N_("“%(listing)s” is to be delivered to you tomorrow, %(day)s."),
                 N_("“%(listing)s” is to be delivered to %(unit)s tomorrow, %(day)s."))
PICKUP_SOON = (N_("“%(listing)s” is to be picked up tomorrow, %(day)s."),
               N_("%(unit)s is to pick up “%(listing)s” tomorrow, %(day)s."))
HANDOVER_NOT_RECORDED = (N_("The handover of “%(listing)s” was planned for %(day)s but is not recorded: "
                            "please record it once it has happened."),) * 2
HANDOVER_NOT_CONFIRMED = (N_("The handover of “%(listing)s” is not yet confirmed by both sides: "
                             "please confirm it if you have not."),) * 2
SAID: dict[ReminderKind, tuple[str | None, str | None]] = {
    K.DUE_SOON: (N_("The loan of “%(listing)s” ends on %(day)s: please plan its return."), None),
    K.DUE_TODAY: (N_("The loan of “%(listing)s” ends today: please return it."), None),
    K.OVERDUE_1: (N_("The loan of “%(listing)s” ended on %(day)s: please return it as soon as you can."),
                  N_("“%(listing)s”, lent to %(unit)s, was due back on %(day)s and is not returned.")),
    K.OVERDUE_7: (N_("“%(listing)s” has been overdue for a week (due back on %(day)s): please return it."),
                  N_("“%(listing)s”, lent to %(unit)s, has been overdue for a week (due back on %(day)s).")),
}


def _said(request: LoanRequest, kind: ReminderKind) -> tuple[str | None, str | None]:
    if kind == K.HANDOVER_SOON:
        return DELIVERY_SOON if request.transport_needed else PICKUP_SOON
    if kind == K.HANDOVER_UNCONFIRMED:
        return HANDOVER_NOT_RECORDED if request.status == RequestStatus.APPROVED.value else HANDOVER_NOT_CONFIRMED
    return SAID[kind]


def _day(request: LoanRequest, kind: ReminderKind) -> str:
    """The day the reminder is about: the first day for a handover, the last for a loan's end."""
    day = day_of(request, kind)
    return day.isoformat() if day is not None else ""


def remind(session: Session, request: LoanRequest, kind: ReminderKind, *, now: datetime) -> int:
    """Tell each side what the reminder says to it, in the session's transaction; returns how
    many people were told."""
    to_requester, to_managers = _said(request, kind)
    params = {**request_words(session, request), "day": _day(request, kind)}
    subject = _l("Delningstjänsten: a reminder about “%(listing)s”", listing=params["listing"])
    told = 0
    for message, audience in ((to_requester, requester), (to_managers, owner_managers)):
        if message is None:
            continue
        for user in audience(session, request, None):
            tell_one(session, user, request, message=message, params=params, subject=subject,
                     mail_kind=MAILED_AS[kind], now=now)
            told += 1
    return told
