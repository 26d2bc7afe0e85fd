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
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from typing import NamedTuple

from flask import Flask, current_app, request
from markupsafe import Markup
from sqlalchemy import bindparam, select
from sqlmodel import Session, col

from sharing.accounts.models import Municipality, Site
from sharing.catalog.categories.models import Category
from sharing.catalog.categories.rules import name_in
from sharing.catalog.holds import rules as holds
from sharing.catalog.listings import rules as listings
from sharing.catalog.listings.labels import CONDITION_LABELS, OFFER_LABELS, STATUS_LABELS
from sharing.catalog.listings.models import Listing
from sharing.catalog.photos.models import ListingPhoto
from sharing.catalog.photos.rules import RENDITIONS, fit
from sharing.web.fragments import KeptInMemory
from sharing.web.i18n import page_gettext

OFFERS = ("lend", "give_away", "swap")
TEMPLATE = "catalog/_listing_card.html"


class Card(NamedTuple):
    """All one card shows, and so the key it is kept under."""

    listing_id: int
    title: str
    kind: str
    category: str  # its name in the reader's language
    drawing: str  # what the card shows without a photo (``drawing_of``)
    quantity: int
    condition: str | None
    offers: tuple[str, ...]  # of OFFERS, in that order
    status: str
    cover: tuple[str, int, int] | None  # the cover photo's key and the size of its card rendition
    municipality: str  # where it stands
    locality: str
    km: float | None  # from the reader's chosen site, rounded as shown (searches sorted by distance)
    free: int | None  # pieces free throughout the dates searched, when fewer than its quantity
    locale: str


# Built once: a search asks for every page it shows, and building a statement costs more than
# running it. The cover is the photo first in order (position, then id).
_COVER = (select(col(ListingPhoto.id)).where(col(ListingPhoto.listing_id) == Listing.id)
          .order_by(col(ListingPhoto.position), col(ListingPhoto.id)).limit(1).correlate(Listing).scalar_subquery())
_CARDS = (
    select(col(Listing.id), col(Listing.title), col(Listing.kind), col(Listing.quantity), col(Listing.condition),
           col(Listing.status), *(getattr(Listing, offer) for offer in OFFERS), col(Category.name),
           col(Category.name_en), col(Category.slug), col(Municipality.name), col(Site.locality), col(Site.latitude),
           col(Site.longitude), col(ListingPhoto.key), col(ListingPhoto.width), col(ListingPhoto.height))
    .join(Category, col(Category.id) == Listing.category_id)
    .join(Site, col(Site.id) == Listing.site_id)
    .join(Municipality, col(Municipality.id) == Site.municipality_id)
    .outerjoin(ListingPhoto, col(ListingPhoto.id) == _COVER)
    .where(col(Listing.id).in_(bindparam("ids", expanding=True)))
)


def read(session: Session, listing_ids: Sequence[int], *, locale: str, origin: tuple[float, float] | None = None,
         period: holds.Period | None = None, now: datetime | None = None) -> list[Card]:
    """The cards of these listings, in their order, read in one query (a listing deleted
    meanwhile is left out). ``origin``: the reader's site a search sorted by distance is
    measured from; ``period``: the dates searched, for which the cards say how many pieces are
    free throughout when some are booked, as known at ``now`` (which a period needs)."""
    if not listing_ids:
        return []
    session.flush()  # read on the connection: the session's pending changes first
    held = None
    if period is not None:
        if now is None:
            raise ValueError("the pieces free in a period are counted as known at a now")
        held = holds.most_held_of(session, list(listing_ids), period, now=now)
    found: dict[int, Card] = {}
    # On the connection: plain rows need none of the ORM's work on the way.
    for (listing_id, title, kind, quantity, condition, status, *offered, category, category_en, slug, municipality,
         locality, latitude, longitude, key, width, height) in session.connection().execute(
            _CARDS, {"ids": list(listing_ids)}):
        km = None
        if origin is not None and None not in (*origin, latitude, longitude):
            km = round(km_between(origin, latitude, longitude), 1)
        free = holds.free_of(quantity, held[listing_id]) if held is not None else None
        found[listing_id] = Card(
            listing_id, title, str(kind), name_in(locale, category, category_en), drawing_of(str(kind), slug),
            quantity, condition,
            tuple(offer for offer, on in zip(OFFERS, offered) if on), status,
            (key, *fit((width, height), RENDITIONS["card"])) if key is not None else None, municipality, locality,
            km, free if free is not None and free < quantity else None, locale)
    return [found[listing_id] for listing_id in listing_ids if listing_id in found]


# A drawing for a card without a photo, by the category's place in the tree (its slug's path
# from the top, as the starting tree names it); what it does not know gets its kind's.
DRAWINGS = (("mobler/bord", "table"), ("mobler/forvaring", "cabinet"), ("mobler", "chair"),
            ("it-utrustning", "screen"), ("belysning", "lamp"), ("textilier", "textile"), ("lekmaterial", "toy"),
            ("verktyg-och-maskiner", "tool"), ("kok-och-hushall", "kitchen"))


def drawing_of(kind: str, slug: str) -> str:
    if kind != "thing":
        return kind  # a place, a service
    return next((drawing for path, drawing in DRAWINGS if slug == path or slug.startswith(path + "/")), "thing")


def page_of(session: Session, ranking: listings.Ranking, filters: listings.Filters, *, locale: str,
            origin: tuple[float, float] | None = None) -> listings.Results[Card]:
    """The page ``filters`` asks for of a search's ranking, as its cards (see ``read``)."""
    period = filters.period()
    items = read(session, listings.page_ids(ranking, filters), locale=locale, origin=origin, period=period,
                 now=filters.as_of() if period is not None else None)
    return listings.results_of(ranking, filters, items)


def km_between(origin: tuple[float, float], latitude: float, longitude: float) -> float:
    """Kilometres as the crow flies (flat-earth: fine within a region), as the search sorts by."""
    dy = (latitude - origin[0]) * 111.2
    dx = (longitude - origin[1]) * 111.2 * math.cos(math.radians(origin[0]))
    return math.hypot(dx, dy)


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
