"""Passing pieces to a new owner for good, and a listing's history of owners.

The pieces leave their listing (its quantity goes down; handed over when none are left) and
become a new listing of the receiving municipality, a draft at the receiving site: "split"
when only some move. The giving municipality can then no longer lend them, and the receiver
decides whether to offer them again. Both listings keep the transfer on record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, or_, select
from sqlmodel import Session, col

from sharing.accounts.models import Actor, Site
from sharing.catalog import events
from sharing.catalog.holds import rules as holds
from sharing.catalog.holds.models import Hold, HoldPurpose
from sharing.catalog.listings import rules as listings
from sharing.catalog.listings.models import Listing, ListingStatus
from sharing.catalog.transfers.models import ListingTransfer
from sharing.errors import DomainError
from sharing.events import record
from sharing.i18n import N_, NP_
from sharing.typed import id_of


def transfer(session: Session, *, listing_id: int, quantity: int, to_site_id: int, to_unit_id: int | None,
             hold_id: int | None, reference: str, by: Actor | None, now: datetime) -> Listing:
    """Pass ``quantity`` pieces for good to the municipality of ``to_site_id``; returns the
    receiver's new listing. The hold that promised them (if any) is used up."""
    listing = holds.lock(session, listing_id)
    if listing.status not in holds.BOOKABLE:
        raise DomainError(N_("This listing can no longer be handed over."))
    if not 1 <= quantity <= listing.quantity:
        raise DomainError(NP_("Only %(num)d piece is left to hand over.", "Only %(num)d pieces are left to hand over."),
                          num=listing.quantity)
    site = session.get(Site, to_site_id)
    if site is None:
        raise DomainError(N_("Choose one of your municipality's sites."))
    if hold_id is not None:
        holds.release(session, hold_id=hold_id, now=now)
    free = holds.free_pieces(session, listing, holds.Period(now, None), now=now)  # overdue pieces are not here
    if quantity > free:  # before the agreed first day, say: others hold some of the pieces meanwhile
        raise holds.NotFreeBefore(free)
    # The giver's contact is a person of another municipality: the receiver names their own.
    received = Listing(**{**listings.details_of(listing).model_dump(), "site_id": to_site_id, "quantity": quantity,
                          "contact_user_id": None},
                       municipality_id=site.municipality_id, status=ListingStatus.DRAFT.value, created_at=now,
                       updated_at=now, created_by_id=None)
    listings.index(session, received, site=site)
    session.add(received)
    listing.quantity -= quantity
    listing.updated_at = now
    if listing.quantity == 0:
        listing.quantity = quantity  # a listing handed over whole says how many pieces left last
        listings.change_status(session, listing, ListingStatus.HANDED_OVER, by=by, now=now)
    session.add(listing)
    session.flush()
    if listing.status != ListingStatus.HANDED_OVER:
        listings.follow_lending(session, listing, by=by, now=now)  # fewer pieces: all lent, perhaps
    moved = ListingTransfer(from_listing_id=listing_id, to_listing_id=id_of(received), quantity=quantity,
                            from_municipality_id=listing.municipality_id, from_site_id=listing.site_id,
                            to_municipality_id=site.municipality_id, to_unit_id=to_unit_id, to_site_id=to_site_id,
                            inventory_number=listing.inventory_number, by_id=by.id if by else None,
                            reference=reference, at=now)
    session.add(moved)
    session.flush()
    for subject in (listing, received):
        record(session, events.LISTING_TRANSFERRED, subject_type="listing", subject_id=id_of(subject), now=now,
               actor_id=by.id if by else None, municipality_id=subject.municipality_id,
               payload={"transfer_id": moved.id, "from_listing_id": listing_id, "to_listing_id": received.id,
                        "quantity": quantity, "from_municipality_id": moved.from_municipality_id,
                        "to_municipality_id": moved.to_municipality_id})
    return received


@dataclass(frozen=True)
class History:
    """What a listing's pieces went through: the owners before (oldest first), the pieces that
    left it for good, and how many loans it made."""

    came_from: list[ListingTransfer]
    passed_on: list[ListingTransfer]
    loans: int


# Built once: every listing page asks.
_TRANSFERS_OF = select(ListingTransfer).where(or_(col(ListingTransfer.to_listing_id) == bindparam("listing_id"),
                                                  col(ListingTransfer.from_listing_id) == bindparam("listing_id")))
_CAME_TO = select(ListingTransfer).where(col(ListingTransfer.to_listing_id) == bindparam("listing_id"))
# A loan made is one handed out: a request asked or approved has made none yet.
_LOANS_OF = select(func.count()).select_from(Hold).where(
    col(Hold.listing_id) == bindparam("listing_id"), col(Hold.purpose) == HoldPurpose.LOAN.value,
    col(Hold.out_at).is_not(None))
# How many loans the listing made, as a column of another query of the listing's (its page's).
LOANS_OF_LISTING = _LOANS_OF.scalar_subquery()


def history(session: Session, listing: Listing, *, loans: int | None = None) -> History:
    """The listing's history: one read of the transfers to and from it (most have none), then
    one for each owner further back. ``loans``: how many loans it made, when the caller has read
    it already (``LOANS_OF_LISTING``)."""
    came_from: list[ListingTransfer] = []
    passed_on: list[ListingTransfer] = []
    for moved in session.scalars(_TRANSFERS_OF, {"listing_id": listing.id}):
        if moved.to_listing_id == listing.id and not came_from:
            came_from.append(moved)
        if moved.from_listing_id == listing.id:
            passed_on.append(moved)
    passed_on.sort(key=lambda moved: (moved.at, id_of(moved)))
    for _ in range(100):  # a chain of owners; the bound guards against a cycle
        if not came_from:
            break
        before = session.scalars(_CAME_TO, {"listing_id": came_from[0].from_listing_id}).first()
        if before is None:
            break
        came_from.insert(0, before)
    if loans is None:
        loans = session.scalar(_LOANS_OF, {"listing_id": listing.id}) or 0
    return History(came_from=came_from, passed_on=passed_on, loans=loans)
