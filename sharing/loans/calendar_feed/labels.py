"""How a calendar feed's events read, in the language of the feed's owner (the view sets it)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext

from sharing.i18n import N_
from sharing.loans.calendar_feed.rules import Entry, Happening, Side

# What happens, from each side; %(what)s is how many of which listing, %(municipality)s the other side's.
SUMMARIES = {
    (Side.REQUESTER, Happening.BOOKING): N_("Loan of %(what)s from %(municipality)s"),
    (Side.REQUESTER, Happening.PICKUP): N_("Pick up %(what)s in %(municipality)s"),
    (Side.REQUESTER, Happening.DELIVERY): N_("Delivery of %(what)s from %(municipality)s"),
    (Side.REQUESTER, Happening.DUE): N_("Return %(what)s to %(municipality)s"),
    (Side.OWNER, Happening.BOOKING): N_("Lent to %(municipality)s: %(what)s"),
    (Side.OWNER, Happening.PICKUP): N_("%(municipality)s picks up %(what)s"),
    (Side.OWNER, Happening.DELIVERY): N_("Delivery of %(what)s to %(municipality)s"),
    (Side.OWNER, Happening.DUE): N_("Due back from %(municipality)s: %(what)s"),
}


def summary(entry: Entry) -> str:
    """The event's title: what happens, to how many of what, and the other side's municipality."""
    what = ngettext("%(num)d piece of “%(listing)s”", "%(num)d pieces of “%(listing)s”", entry.quantity,
                    listing=entry.listing)
    text = _(SUMMARIES[entry.side, entry.happening], what=what, municipality=entry.municipality)
    return _("%(summary)s (not yet approved)", summary=text) if entry.tentative else text
