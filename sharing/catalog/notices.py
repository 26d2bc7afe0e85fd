"""Telling people of listings that meet their unit's wanted items: in the service and by mail.

Runs on ``listing_changed``, after the listing's commit, in a session of its own: whatever
goes wrong here is logged and never undoes or breaks the saving of the listing.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, has_request_context, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from sharing.accounts import notifications
from sharing.accounts.models import Municipality, User
from sharing.catalog import wants
from sharing.catalog.models import Listing, Want
from sharing.db import new_session, utcnow
from sharing.i18n import N_
from sharing.mail import send_mail, send_mail_in_background

log = logging.getLogger("sharing.catalog")
MATCH_MESSAGE = N_("“%(listing)s” matches your wanted item “%(want)s”.")
MANY_MATCH_MESSAGE = N_("%(count)s new listings match your wanted item “%(want)s”.")


def _path(endpoint: str, **values: object) -> str:
    """A path within the service, also when no request is being served (a command or a job)."""
    if has_request_context():
        return url_for(endpoint, **values)
    with current_app.test_request_context(base_url=current_app.config["SHARING_BASE_URL"]):
        return url_for(endpoint, **values)


def tell_of_matches(sender: Flask, *, listing_id: int) -> None:
    """The ``listing_changed`` receiver: record the wants the listing meets for the first time,
    notify their posters in the service, then mail them."""
    try:
        with new_session() as session:
            listing = session.get(Listing, listing_id)
            if listing is None:
                return
            now = utcnow()
            met = wants.match_listing(session, listing=listing, now=now)
            if not met:
                return
            municipality = session.get(Municipality, listing.municipality_id)
            told: list[tuple[User, Want, str]] = []
            for want in met:
                poster = session.get(User, want.posted_by_id) if want.posted_by_id is not None else None
                if poster is None or not poster.active:
                    continue
                name = wants.label(want, locale=poster.locale)
                notifications.notify(session, user_id=poster.id, message=MATCH_MESSAGE,  # type: ignore[arg-type]
                                     params={"listing": listing.title, "want": name},
                                     url=_path("catalog.detail", listing_id=listing.id), now=now)
                told.append((poster, want, name))
            session.commit()
    except IntegrityError:  # a simultaneous save recorded the same pairs first, and told them
        log.info("matches of listing %s were recorded by another request", listing_id)
        return
    except Exception:  # noqa: BLE001 - the listing is saved; telling people of it must not fail the request
        log.exception("could not match listing %s with wanted items", listing_id)
        return
    for poster, want, name in told:
        try:
            want_matched(poster, want=want, want_name=name, listing=listing, municipality=municipality)
        except Exception:  # noqa: BLE001 - send_mail logs failed deliveries; this guards the rendering
            log.exception("could not mail user %s of listing %s", poster.id, listing_id)
    log.info("listing %s met %d wanted items", listing_id, len(met))


def tell_of_many_matches(sender: Flask, *, listing_ids: list[int]) -> None:
    """The ``listings_imported`` receiver: each poster hears once per want of the listings it
    meets among many saved at once (an import), not once per listing."""
    try:
        with new_session() as session:
            now = utcnow()
            told: list[tuple[User, Want, str, list[int]]] = []
            for want, found in wants.match_listings(session, listing_ids=listing_ids, now=now):
                poster = session.get(User, want.posted_by_id) if want.posted_by_id is not None else None
                if poster is None or not poster.active:
                    continue
                name = wants.label(want, locale=poster.locale)
                if len(found) == 1:
                    listing = session.get(Listing, found[0])
                    notifications.notify(session, user_id=poster.id, message=MATCH_MESSAGE,  # type: ignore[arg-type]
                                         params={"listing": listing.title, "want": name},  # type: ignore[union-attr]
                                         url=_path("catalog.detail", listing_id=found[0]), now=now)
                else:
                    notifications.notify(session, user_id=poster.id, message=MANY_MATCH_MESSAGE,  # type: ignore[arg-type]
                                         params={"count": len(found), "want": name},
                                         url=_path("wants.detail", want_id=want.id), now=now)
                told.append((poster, want, name, found))
            session.commit()
            for poster, want, name, found in told:
                listings = [session.get(Listing, listing_id) for listing_id in found[:10]]
                try:
                    send_mail(to=poster.email, subject=_l("New listings match your wanted item"), locale=poster.locale,
                              template="catalog/mail/wants_matched.txt", user=poster, want=want, want_name=name,
                              listings=listings, count=len(found))
                except Exception:  # noqa: BLE001 - send_mail logs failed deliveries; this guards the rendering
                    log.exception("could not mail user %s of imported listings", poster.id)
    except Exception:  # noqa: BLE001 - the listings are saved; telling people of them must not undo that
        log.exception("could not match %d imported listings with wanted items", len(listing_ids))


def want_matched(user: User, *, want: Want, want_name: str, listing: Listing,
                 municipality: Municipality | None) -> None:
    # In the background: this runs inside the facility manager's publish request.
    send_mail_in_background(to=user.email, subject=_l("A listing matches your wanted item"), locale=user.locale,
                     template="catalog/mail/want_matched.txt", user=user, want=want, want_name=want_name,
                     listing=listing, municipality=municipality)
