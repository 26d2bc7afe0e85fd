"""The catalog's part of a person's data (see accounts/personal_data): the listings they are the
contact for, the wanted items they posted and the corrections of category figures they proposed.

Erasing them leaves their listings without a contact person (each change recorded); a wanted
item is the unit's need and stays, its poster then the anonymous account. Where someone named
them in a listing's title or description, a photo's description or a wanted item's words, the
name (or address) is replaced, and the search indexes them anew. A proposed correction stays
(a version of the figures may have been made from it, and names it), its proposer then the
anonymous account; where they or an administrator named them in its texts, the name is replaced."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlmodel import Session, col

from sharing.accounts.models import Actor, Municipality
from sharing.accounts.personal_data.rules import Records, bounded, mentions_of
from sharing.catalog.categories.models import Category, FigureProposal
from sharing.catalog.categories.rules import FIGURES
from sharing.catalog.listings import rules as listings
from sharing.catalog.listings import search
from sharing.catalog.listings.models import Listing
from sharing.catalog.photos.models import ListingPhoto
from sharing.catalog.wants.models import Want


def extract(session: Session, *, user_id: int) -> dict[str, Records]:
    contact_for = session.execute(bounded(
        select(Listing, col(Municipality.name)).join(Municipality, col(Municipality.id) == Listing.municipality_id)
        .where(col(Listing.contact_user_id) == user_id).order_by(col(Listing.created_at).desc())))
    wants = session.scalars(bounded(select(Want).where(col(Want.posted_by_id) == user_id)
                                    .order_by(col(Want.created_at).desc())))
    proposals = session.execute(bounded(
        select(FigureProposal, col(Category.name)).join(Category, col(Category.id) == FigureProposal.category_id)
        .where(col(FigureProposal.proposed_by_id) == user_id)
        .order_by(col(FigureProposal.created_at).desc(), col(FigureProposal.id).desc())))
    return {
        "listings_as_contact": [{"id": listing.id, "title": listing.title, "status": listing.status,
                                 "municipality": municipality, "created_at": listing.created_at}
                                for listing, municipality in contact_for],
        "wanted_items": [{"id": want.id, "words": want.words, "description": want.description,
                          "quantity": want.quantity, "needed_by": want.needed_by, "status": want.status,
                          "created_at": want.created_at, "closed_at": want.closed_at} for want in wants],
        "figure_proposals": [{"id": proposal.id, "category": category,
                              "figures": {name: getattr(proposal, name) for name in FIGURES
                                          if getattr(proposal, name) is not None},
                              "co2e_kind": proposal.co2e_kind, "citation": proposal.citation, "url": proposal.url,
                              "reason": proposal.reason, "status": proposal.status,
                              "created_at": proposal.created_at, "decided_at": proposal.decided_at,
                              "decline_reason": proposal.decline_reason} for proposal, category in proposals],
    }


def erase(session: Session, *, user_id: int, by: Actor, now: datetime) -> None:
    listings.drop_contact(session, user_id=user_id, by=by, now=now)
    mentions = mentions_of(session, user_id)
    for listing in session.scalars(select(Listing).where(or_(
            mentions.found_in(Listing.title), mentions.found_in(Listing.description),
            mentions.found_in(Listing.inventory_number)))).all():
        listing.title = mentions.scrub(listing.title)
        listing.description = mentions.scrub(listing.description)
        listing.inventory_number = mentions.scrub(listing.inventory_number)[:50]
        listings.index(session, listing)
        session.add(listing)
    for photo in session.scalars(select(ListingPhoto).where(mentions.found_in(ListingPhoto.alt_text))).all():
        photo.alt_text = mentions.scrub(photo.alt_text)
        session.add(photo)
    for want in session.scalars(select(Want).where(or_(mentions.found_in(Want.words),
                                                       mentions.found_in(Want.description)))).all():
        want.words = mentions.scrub(want.words)[:200]
        want.description = mentions.scrub(want.description)
        want.search_words = " ".join(search.query_terms(want.words))[:600]
        session.add(want)
    for proposal in session.scalars(select(FigureProposal).where(or_(
            mentions.found_in(FigureProposal.reason), mentions.found_in(FigureProposal.citation),
            mentions.found_in(FigureProposal.decline_reason)))).all():
        proposal.reason = mentions.scrub(proposal.reason)[:2000]
        proposal.citation = mentions.scrub(proposal.citation)[:500]
        proposal.decline_reason = mentions.scrub(proposal.decline_reason)[:1000]
        session.add(proposal)
