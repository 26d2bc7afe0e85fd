"""Telling people of listings that meet their unit's wanted items: in the service and by e-mail.

Receivers of the catalog's own events (``sharing.events``): each runs after the listing's
commit, in a session of its own that the dispatcher commits, so whatever goes wrong here is
retried later and never undoes or breaks the saving of the listing. Mail goes only once the
notifications it repeats are committed.
"""

from __future__ import annotations

import logging
from functools import partial

from flask_babel import lazy_gettext as _l
from sqlmodel import Session

from sharing import transactions
from sharing.accounts import notifications
from sharing.accounts.models import Municipality, User
from sharing.catalog import events
from sharing.catalog.listings.models import Listing
from sharing.catalog.wants import rules as wants
from sharing.catalog.wants.models import Want
from sharing.clock import utcnow
from sharing.events import DomainEvent, add_receiver
from sharing.i18n import N_
from sharing.mail import send_mail, send_mail_in_background
from sharing.typed import id_of
from sharing.web.paths import path_for

log = logging.getLogger("sharing.catalog")
MATCH_MESSAGE = N_("“%(listing)s” matches your wanted item “%(want)s”.")
MANY_MATCH_MESSAGE = N_("%(count)s new listings match your wanted item “%(want)s”.")


def _poster(session: Session, want: Want) -> User | None:
    poster = session.get(User, want.posted_by_id) if want.posted_by_id is not None else None
    return poster if poster is not None and poster.active else None


def tell_of_matches(session: Session, event: DomainEvent) -> None:
    """On a listing saved or published: record the wants it meets for the first time, notify
    their posters in the service, and mail them once that is committed."""
    listing = session.get(Listing, event.subject_id)
    if listing is None:
        return
    now = utcnow()
    municipality = session.get(Municipality, listing.municipality_id)
    for want in wants.match_listing(session, listing=listing, now=now):
        poster = _poster(session, want)
        if poster is None:
            continue
        name = wants.label(want, locale=poster.locale)
        notifications.notify(session, user_id=id_of(poster), message=MATCH_MESSAGE,
                             params={"listing": listing.title, "want": name},
                             url=path_for("catalog.detail", listing_id=listing.id), now=now)
        # In the background: this may run inside the facility manager's publish request.
        transactions.after_commit(session, partial(
            send_mail_in_background, to=poster.email, subject=_l("A listing matches your wanted item"),
            locale=poster.locale, template="catalog/mail/want_matched.txt", user=poster, want=want, want_name=name,
            listing=listing, municipality=municipality))


def tell_of_many_matches(session: Session, event: DomainEvent) -> None:
    """On an import that published listings: each poster hears once per want of the listings it
    meets, not once per listing."""
    if not event.payload.get("published"):
        return
    now = utcnow()
    for want, found in wants.match_listings(session, listing_ids=event.payload["listing_ids"], now=now):
        poster = _poster(session, want)
        if poster is None:
            continue
        name = wants.label(want, locale=poster.locale)
        if len(found) == 1:
            listing = session.get_one(Listing, found[0])
            notifications.notify(session, user_id=id_of(poster), message=MATCH_MESSAGE,
                                 params={"listing": listing.title, "want": name},
                                 url=path_for("catalog.detail", listing_id=found[0]), now=now)
        else:
            notifications.notify(session, user_id=id_of(poster), message=MANY_MATCH_MESSAGE,
                                 params={"count": len(found), "want": name},
                                 url=path_for("wants.detail", want_id=want.id), now=now)
        shown = [session.get(Listing, listing_id) for listing_id in found[:10]]
        transactions.after_commit(session, partial(
            send_mail, to=poster.email, subject=_l("New listings match your wanted item"), locale=poster.locale,
            template="catalog/mail/wants_matched.txt", user=poster, want=want, want_name=name, listings=shown,
            count=len(found)))


def register() -> None:
    """The catalog's receivers of its own events."""
    add_receiver("catalog.tell-of-matches", [events.LISTING_SAVED, events.LISTING_PUBLISHED], tell_of_matches)
    add_receiver("catalog.tell-of-many-matches", [events.LISTINGS_IMPORTED], tell_of_many_matches)
