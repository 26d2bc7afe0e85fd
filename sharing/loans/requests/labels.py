"""How requests' codes read in the user's language."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from flask_babel import gettext, lazy_pgettext
from flask_babel import lazy_gettext as _l

from sharing.clock import SWEDEN
from sharing.loans.requests.models import HandoverMethod, LoanRequest, RequestKind, RequestStatus
from sharing.web.i18n import when

# What one asks to do, as the ask form offers it (verbs)...
KIND_CHOICES = {
    RequestKind.BORROW: _l("Borrow"),
    RequestKind.TAKE_OVER: _l("Take over for good"),
    RequestKind.SWAP: lazy_pgettext("ask to", "Swap"),
}
# ...and what a request is, as lists, pages, rules and exports name it (nouns).
KIND_LABELS = {
    RequestKind.BORROW: _l("Loan"),
    RequestKind.TAKE_OVER: _l("Take-over"),
    RequestKind.SWAP: _l("Swap"),
}
REQUEST_STATUS_LABELS = {
    RequestStatus.REQUESTED: _l("Requested"),
    RequestStatus.APPROVED: _l("Approved"),
    RequestStatus.DECLINED: _l("Declined"),
    RequestStatus.CANCELLED: _l("Cancelled"),
    RequestStatus.HANDED_OVER: _l("Handed over"),
    RequestStatus.RETURNED: _l("Returned"),
    RequestStatus.CLOSED: _l("Closed"),
}
METHOD_LABELS = {
    HandoverMethod.PICKUP: _l("Fetched by the requester"),
    HandoverMethod.TRANSPORT: _l("By transport"),
}
# ...and as a handover that took place reads it (Swedish says it in the past tense).
METHOD_DONE_LABELS = {
    HandoverMethod.PICKUP: lazy_pgettext("handed over", "Fetched by the requester"),
    HandoverMethod.TRANSPORT: lazy_pgettext("handed over", "By transport"),
}


def period_of(request: LoanRequest) -> str:
    """When a request is for, as people say it: whole days (its last day, not the midnight after),
    hours of one day, or for good from a day."""
    return period_between(request.starts_at, request.ends_at)


def period_between(starts_at: datetime | str, ends_at: datetime | str | None) -> str:
    """``period_of`` a request's instants (in ISO text too, as a mail rendered later has them)."""
    starts = (datetime.fromisoformat(starts_at) if isinstance(starts_at, str) else starts_at).astimezone(SWEDEN)
    ends = (datetime.fromisoformat(ends_at) if isinstance(ends_at, str) else ends_at).astimezone(SWEDEN) \
        if ends_at else None
    if ends is None:
        return gettext("For good, from %(first)s", first=when(starts.date(), "short"))
    if starts.time() == ends.time() == time(0):
        last = ends.date() - timedelta(days=1)
        if last == starts.date():
            return when(last, "short")
        return gettext("%(first)s to %(last)s", first=when(starts.date(), "short"), last=when(last, "short"))
    return f"{when(starts.date(), 'short')} {starts:%H:%M}–{ends:%H:%M}"
