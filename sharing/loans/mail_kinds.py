"""The kinds of loans' notifications a user may choose to get by e-mail (accounts keeps the
choice): each step's notice and each reminder is sent as one of these."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from sharing.accounts.mail_preferences.rules import add_mail_kind

REQUEST_RECEIVED = "loans.request_received"  # asked for, or the asking taken back
DECIDED = "loans.decided"  # approved or declined
HANDOVER = "loans.handover"  # pickup or delivery coming; a handover to confirm
DUE_SOON = "loans.due_soon"  # a loan ends soon, or today; extended
OVERDUE = "loans.overdue"
RETURNED = "loans.returned"
MESSAGE = "loans.message"
QUEUE_PLACE_FREE = "loans.queue_place_free"  # pieces came free for a queue place


def register() -> None:
    """Declare them to accounts, in the order a request lives them."""
    add_mail_kind(REQUEST_RECEIVED, _l("A request for your municipality's listings arrives or is cancelled"))
    add_mail_kind(DECIDED, _l("Your request is approved or declined"))
    add_mail_kind(HANDOVER, _l("A pickup or delivery is coming, or a handover waits for confirmation"))
    add_mail_kind(DUE_SOON, _l("A loan ends soon, or is extended"))
    add_mail_kind(OVERDUE, _l("A loan is overdue"))
    add_mail_kind(RETURNED, _l("A loan is returned"))
    add_mail_kind(MESSAGE, _l("A message about a request arrives"))
    add_mail_kind(QUEUE_PLACE_FREE, _l("Pieces come free for your place in a queue"))
