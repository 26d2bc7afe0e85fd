"""Listing cards, as search results and wanted items show them: what a page of cards shows is
read in one query, and each card is rendered once for every page that shows it alike.

A card is kept in the worker's memory under everything it shows: the listing's title, kind,
quantity, condition, offers and status, its category's name, its cover photo, where it stands,
the reader's language, and what the search adds (how far away it is when sorted by distance;
how many pieces are free when dates are searched and some are booked). A change to any of them
is another key, so the next search shows it at once, and a kept card is exactly what a fresh
one would be for anyone shown it: who reads it (a role, a municipality) never enters a card,
beyond what the key names.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from operator import itemgetter
from typing import NamedTuple, cast

from flask import Flask, current_app, request
from markupsafe import Markup
from sqlalchemy import bindparam, select
from sqlalchemy.orm.attributes import instance_dict
from sqlmodel import Session, col

from sharing.accounts.models import Municipality, Site
from sharing.catalog.categories.rules import category_name
from sharing.catalog.listings.labels import CONDITION_LABELS, OFFER_LABELS, STATUS_LABELS
from sharing.catalog.listings.models import Listing
from sharing.catalog.photos.models import ListingPhoto
from sharing.catalog.photos.rules import RENDITIONS, fit
from sharing.web.fragments import KeptInMemory
from sharing.web.i18n import page_gettext

OFFERS = ("lend", "give_away", "swap")
CARD_COLUMNS = ("id", "title", "kind", "quantity", "condition", "status", *OFFERS)  # what a card shows of the row
_card_columns = itemgetter(*CARD_COLUMNS)
TEMPLATE = "catalog/_listing_card.html"


class Card(NamedTuple):
    """All one card shows, and so the key it is kept under."""

    listing_id: int
    title: str
    kind: str
    category: str  # its name in the reader's language
    quantity: int
    condition: str | None
    offers: tuple[str, ...]  # of OFFERS, in that order
    status: str
    cover: tuple[str, int, int] | None  # the cover photo's key and the size of its card rendition
    municipality: str | None  # where it stands (None: the card does not say, nor the locality)
    locality: str
    km: float | None  # from the reader's chosen site, rounded as shown (searches sorted by distance)
    free: int | None  # pieces free throughout the dates searched, when fewer than its quantity
    locale: str


class Standing(NamedTuple):
    """What a card shows of a listing beyond its own row: where it stands, and its cover."""

    municipality: str
    locality: str
    latitude: float
    longitude: float
    cover: tuple[str, int, int] | None


# Built once: a search asks for every page it shows, and building a statement costs more than
# running it. The cover is the photo first in order (position, then id).
_COVER = (select(col(ListingPhoto.id)).where(col(ListingPhoto.listing_id) == Listing.id)
          .order_by(col(ListingPhoto.position), col(ListingPhoto.id)).limit(1).correlate(Listing).scalar_subquery())
_STANDINGS = (
    select(col(Listing.id), col(Municipality.name), col(Site.locality), col(Site.latitude), col(Site.longitude),
           col(ListingPhoto.key), col(ListingPhoto.width), col(ListingPhoto.height))
    .join(Site, col(Site.id) == Listing.site_id)
    .join(Municipality, col(Municipality.id) == Site.municipality_id)
    .outerjoin(ListingPhoto, col(ListingPhoto.id) == _COVER)
    .where(col(Listing.id).in_(bindparam("ids", expanding=True)))
)


def standings(session: Session, listing_ids: Sequence[int]) -> dict[int, Standing]:
    """Where each listing stands (its site's municipality and locality) and its cover photo,
    for a page of listings in one query."""
    if not listing_ids:
        return {}
    found: dict[int, Standing] = {}
    # On the connection: a plain statement needs none of the ORM's work on the way.
    for listing_id, municipality, locality, latitude, longitude, key, width, height in session.connection().execute(
            _STANDINGS, {"ids": list(listing_ids)}):
        cover = (key, *fit((width, height), RENDITIONS["card"])) if key is not None else None
        found[cast(int, listing_id)] = Standing(municipality, locality, latitude, longitude, cover)
    return found


def km_between(origin: tuple[float, float], latitude: float, longitude: float) -> float:
    """Kilometres as the crow flies (flat-earth: fine within a region), as the search sorts by."""
    dy = (latitude - origin[0]) * 111.2
    dx = (longitude - origin[1]) * 111.2 * math.cos(math.radians(origin[0]))
    return math.hypot(dx, dy)


def cards_for(items: Sequence[Listing], *, locale: str, standing: Mapping[int, Standing] | None = None,
              origin: tuple[float, float] | None = None, free: Mapping[int, int] | None = None) -> list[Card]:
    """The cards of these listings (their categories loaded). ``standing``: where each stands
    and its cover (none given: the cards say neither); ``origin``: the reader's site the search
    is sorted by distance from; ``free``: the pieces free on the dates searched."""
    cards = []
    for item in items:
        # The loaded values as they are (a page's rows are fresh): read one by one through the
        # mapped attributes, the few a card shows cost more than the rest of its making.
        try:
            columns = _card_columns(instance_dict(item))
        except KeyError:  # one not loaded (expired): the attributes load it
            columns = tuple(getattr(item, name) for name in CARD_COLUMNS)
        listing_id, title, kind, quantity, condition, status, *offers = columns
        place = standing.get(listing_id) if standing is not None else None
        km = None
        if place is not None and origin is not None and None not in (*origin, place.latitude, place.longitude):
            km = round(km_between(origin, place.latitude, place.longitude), 1)
        free_then = free.get(listing_id) if free is not None else None
        cards.append(Card(
            listing_id, title, str(kind), category_name(item.category, locale) if item.category else "", quantity,
            condition, tuple(offer for offer, offered in zip(OFFERS, offers) if offered), status,
            place.cover if place is not None else None, place.municipality if place is not None else None,
            place.locality if place is not None else "", km,
            free_then if free_then is not None and free_then < quantity else None, locale))
    return cards


def rendered(cards: Sequence[Card]) -> Markup:
    """The cards' HTML: each rendered once per worker for whatever shows it alike (see above)."""
    kept: KeptInMemory[Markup] = current_app.extensions["sharing.catalog.cards"]
    macros: list[Callable[[Card], str]] = []

    def render(card: Card) -> Markup:
        if not macros:  # the template's macro, given what it needs once for all the cards it renders
            names = {**page_gettext(), **_labels(card.locale)}
            module = current_app.jinja_env.get_template(TEMPLATE).make_module(names)
            macros.append(module.listing_card)  # type: ignore[attr-defined]  # the template's macro
        return Markup(macros[0](card))

    root = request.script_root  # where the app is mounted: the cards' links start with it
    return Markup("").join([kept.get_or_make((card, root), partial(render, card)) for card in cards])


def _labels(locale: str) -> dict[str, dict[str, str]]:
    """The labels a card shows, translated once per language rather than once per card."""
    translated: dict[str, dict[str, dict[str, str]]] = current_app.extensions["sharing.catalog.card_labels"]
    if locale not in translated:
        translated[locale] = {name: {str(code): str(label) for code, label in labels.items()}
                              for name, labels in (("condition_labels", CONDITION_LABELS),
                                                   ("offer_labels", OFFER_LABELS), ("status_labels", STATUS_LABELS))}
    return translated[locale]


def init_app(app: Flask) -> None:
    app.extensions["sharing.catalog.cards"] = KeptInMemory(app.config["SEARCH_CARDS_KEPT"])
    app.extensions["sharing.catalog.card_labels"] = {}  # by language: a few
