"""How requests' codes read in the user's language."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from flask_babel import gettext, lazy_pgettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from sharing.clock import SWEDEN
from sharing.loans.requests.models import HandoverMethod, LoanRequest, RequestKind, RequestStatus
from sharing.web.i18n import when, when_tag

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


def period_between(starts_at: datetime | str, ends_at: datetime | str | None) -> str:
    """When a request is for, as people say it: whole days (its last day, not the midnight after),
    hours of one day, or for good from a day. Its instants may be ISO text, as a mail rendered
    later has them."""
    return _period(starts_at, ends_at, text=str, day=functools.partial(when, style="short"), hours=str)


def period_markup(request: LoanRequest) -> Markup:
    """``period_between`` as a page shows it: each date a <time> kept whole (``when_tag``), and the
    hours too (they could break at their dash)."""
    return Markup(_period(request.starts_at, request.ends_at, text=escape, day=when_tag,
                          hours=lambda hours: Markup('<span class="nowrap">%s</span>') % hours))


def _period(starts_at: datetime | str, ends_at: datetime | str | None, *, text: Callable[[str], str],
            day: Callable[[date], str], hours: Callable[[str], str]) -> str:
    starts = (datetime.fromisoformat(starts_at) if isinstance(starts_at, str) else starts_at).astimezone(SWEDEN)
    ends = (datetime.fromisoformat(ends_at) if isinstance(ends_at, str) else ends_at).astimezone(SWEDEN) \
        if ends_at else None
    if ends is None:
        return text(gettext("For good, from %(first)s")) % {"first": day(starts.date())}
    if starts.time() == ends.time() == time(0):
        last = ends.date() - timedelta(days=1)
        if last == starts.date():
            return day(last)
        return text(gettext("%(first)s to %(last)s")) % {"first": day(starts.date()), "last": day(last)}
    return text("%s %s") % (day(starts.date()), hours(f"{starts:%H:%M}–{ends:%H:%M}"))
