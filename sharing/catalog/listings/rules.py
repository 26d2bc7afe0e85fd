"""The rules of listings: who may change them, what they must hold, how their status moves,
and what each user may see and find."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence, Sized
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import Enum
from functools import lru_cache
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy import ColumnElement, Select, and_, bindparam, false, func, or_, select
from sqlmodel import Session, col

from sharing.accounts.models import Actor, Municipality, Role, Site, User
from sharing.catalog import events
from sharing.catalog.categories.models import MAX_VOLUME_M3, MAX_WEIGHT_KG, Category, ResourceKind
from sharing.catalog.categories.rules import descendant_ids, lineage
from sharing.catalog.holds import rules as holds
from sharing.catalog.listings import revision
from sharing.catalog.listings import search as search
from sharing.catalog.listings.models import (
    MAX_LOAN_DAYS,
    MAX_QUANTITY,
    MAX_SIZE_CM,
    Condition,
    Listing,
    ListingDetails,
    ListingStatus,
    Visibility,
)
from sharing.db import Page, Row
from sharing.errors import DomainError, NotAllowed, NotVisible, Refused, Term, refuse_any
from sharing.events import record
from sharing.i18n import N_
from sharing.typed import id_of

S = ListingStatus
# Which status may follow which: the lifecycle lives here, not in views. Only what was published
# is withdrawn (a draft is simply not published); a withdrawn listing may become a draft again.
TRANSITIONS: dict[ListingStatus, frozenset[ListingStatus]] = {
    S.DRAFT: frozenset({S.PUBLISHED}),
    S.PUBLISHED: frozenset({S.DRAFT, S.RESERVED, S.ON_LOAN, S.HANDED_OVER, S.WITHDRAWN}),
    S.RESERVED: frozenset({S.PUBLISHED, S.ON_LOAN, S.HANDED_OVER}),
    S.ON_LOAN: frozenset({S.PUBLISHED, S.RESERVED}),
    S.HANDED_OVER: frozenset(),
    S.WITHDRAWN: frozenset({S.DRAFT}),
}
# How a status is named inside a sentence (the labels are for headings and tags).
STATUS_NAMES = {S.DRAFT: N_("a draft"), S.PUBLISHED: N_("published"), S.RESERVED: N_("reserved"),
                S.ON_LOAN: N_("lent out"), S.HANDED_OVER: N_("passed on"), S.WITHDRAWN: N_("withdrawn")}
# Shown to others in the catalog (reserved and lent things too: they come back).
FINDABLE = (S.PUBLISHED.value, S.RESERVED.value, S.ON_LOAN.value)
# Only things are picked up and delivered; places and services are booked by time.
OFFERS_BY_KIND = {
    ResourceKind.THING: frozenset({"lend", "give_away", "swap"}),
    ResourceKind.PLACE: frozenset({"lend"}),
    ResourceKind.SERVICE: frozenset({"lend"}),
}


FIGURE_LIMITS = {"width_cm": MAX_SIZE_CM, "depth_cm": MAX_SIZE_CM, "height_cm": MAX_SIZE_CM,
                 "weight_kg": MAX_WEIGHT_KG, "volume_m3": MAX_VOLUME_M3}


def details_from(values: Mapping[str, Any]) -> ListingDetails:
    """Listing details from plain values (a form's, a stored import row's), checked for type
    and bounds.

    :raise Refused: every field out of bounds, once each, in the words the rules use for it.
    """
    try:
        return ListingDetails.model_validate(values)
    except ValidationError as invalid:
        refusals: dict[str, DomainError] = {}
        for error in invalid.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            refusals.setdefault(field, _refusal(field, error["type"]))
        raise Refused(list(refusals.values())) from None


def _refusal(field: str, problem: str) -> DomainError:
    if field == "title" and problem == "string_too_short":
        return DomainError(N_("Give the listing a title."), field=field)
    if field == "quantity":
        return DomainError(N_("The quantity is from 1 to %(max)s."), field=field, max=MAX_QUANTITY)
    if field in FIGURE_LIMITS:
        return DomainError(N_("Enter a number from 0 to %(max)s."), field=field, max=FIGURE_LIMITS[field])
    if field in ("loan_min_days", "loan_max_days"):
        return DomainError(N_("A loan is from 1 to %(max)s days."), field=field, max=MAX_LOAN_DAYS)
    if problem == "string_too_long":
        largest = next(rule.max_length for rule in ListingDetails.model_fields[field].metadata
                       if hasattr(rule, "max_length"))
        return DomainError(N_("Use at most %(max)s characters."), field=field, max=largest)
    return DomainError(N_("This value cannot be used here."), field=field or None)


def details_of(listing: Listing) -> ListingDetails:
    """A saved listing's details, to check them again (its site or contact may have gone)."""
    return details_from({name: getattr(listing, name) for name in ListingDetails.model_fields})


def can_manage(user: Actor, listing: Listing) -> bool:
    """Facility managers of the owning municipality, and nobody else, change a listing."""
    return (getattr(user, "is_authenticated", False) and user.municipality_id == listing.municipality_id
            and user.has_role(Role.FACILITY_MANAGER))


def can_see(user: Actor, listing: Listing) -> bool:
    if can_manage(user, listing):
        return True
    if listing.status not in FINDABLE:
        return False
    return listing.visibility == Visibility.PARTNERS or listing.municipality_id == user.municipality_id


def listing_to_see(session: Session, viewer: Actor, listing_id: int) -> Listing:
    """The listing, for a viewer who may see it.

    :raise NotVisible: it does not exist, or the viewer may not see it.
    """
    listing = session.get(Listing, listing_id)
    if listing is None or not can_see(viewer, listing):
        raise NotVisible(f"listing {listing_id}")
    return listing


def listing_to_manage(session: Session, user: Actor, listing_id: int) -> Listing:
    """The listing, for a user who may change it.

    :raise NotVisible: it does not exist, or the user may not see it.
    :raise NotAllowed: the user may see it but not change it.
    """
    listing = listing_to_see(session, user, listing_id)
    if not can_manage(user, listing):
        raise NotAllowed(f"listing {listing_id}")
    return listing


def category_path(session: Session, category_id: int) -> list[Category]:
    """The category and its parents, from the top down."""
    return list(reversed(lineage(session, category_id)))


def validate(session: Session, user: Actor, details: ListingDetails) -> tuple[Category, Site]:
    """The rules a listing's details must meet (saving and the import's preview both ask here):
    every one they break is raised at once (``Refused``)."""
    refuse_any(problems(session, user, details))
    category, site = session.get(Category, details.category_id), session.get(Site, details.site_id)
    assert category is not None and site is not None  # problems() found both
    return category, site


def problems(session: Session, user: Actor, details: ListingDetails) -> list[DomainError]:
    """Every rule the details break, in the form's order, one for each field (the import's
    preview shows a row's all at once)."""
    found: list[DomainError] = []
    if not details.title.strip():
        found.append(DomainError(N_("Give the listing a title."), field="title"))
    category = session.get(Category, details.category_id)
    if category is None:
        found.append(DomainError(N_("Choose a category."), field="category_id"))
    elif category.kind != details.kind:
        found.append(DomainError(N_("The category does not fit the kind of resource: "
                                    "choose one that does, or change the kind."), field="category_id"))
    site = session.get(Site, details.site_id)
    if site is None or site.municipality_id != user.municipality_id or not site.active:
        found.append(DomainError(N_("Choose one of your municipality's sites."), field="site_id"))
    offers = {name for name in ("lend", "give_away", "swap") if getattr(details, name)}
    if not offers:
        found.append(DomainError(N_("Choose at least one way to share it."), field="lend"))
    elif not offers <= OFFERS_BY_KIND[details.kind]:
        found.append(DomainError(N_("Places and services can only be booked for a time, not handed over."),
                                 field="lend"))
    if details.kind == ResourceKind.THING and details.condition is None:
        found.append(DomainError(N_("Choose the condition."), field="condition"))
    if not 1 <= details.quantity <= MAX_QUANTITY:
        found.append(DomainError(N_("The quantity is from 1 to %(max)s."), field="quantity", max=MAX_QUANTITY))
    for name, largest in FIGURE_LIMITS.items():
        value = getattr(details, name)
        # Reports add these up: no negative, infinite or absurd figure may enter.
        if value is not None and not (math.isfinite(value) and 0 <= value <= largest):
            found.append(DomainError(N_("Enter a number from 0 to %(max)s."), field=name, max=largest))
    loan_days_fit = True
    for name in ("loan_min_days", "loan_max_days"):
        value = getattr(details, name)
        if value is not None and not 1 <= value <= MAX_LOAN_DAYS:
            found.append(DomainError(N_("A loan is from 1 to %(max)s days."), field=name, max=MAX_LOAN_DAYS))
            loan_days_fit = False
    if loan_days_fit and details.lend and details.loan_min_days and details.loan_max_days and \
            details.loan_min_days > details.loan_max_days:
        found.append(DomainError(N_("The shortest loan cannot be longer than the longest."), field="loan_min_days"))
    if details.contact_user_id is not None:
        contact = session.get(User, details.contact_user_id)
        if (contact is None or contact.municipality_id != user.municipality_id or not contact.active
                or not contact.has_role(Role.FACILITY_MANAGER)):
            found.append(DomainError(N_("Choose a contact among your municipality's facility managers."),
                                     field="contact_user_id"))
    return found


def save_listing(
    session: Session, *, details: ListingDetails, by: Actor, now: datetime, listing: Listing | None = None,
    record_event: bool = True, flush: bool = True,
) -> Listing:
    """Create a draft, or update a listing; nothing changes unless all of it is valid.

    ``record_event=False`` is for a caller that handles many listings at once (an import): it
    records one event for them all and teaches the search their words itself. ``flush=False``
    leaves the listing pending in the session, for a caller that writes many at once (an import:
    the database's write lock is then held only while they are written)."""
    if record_event and not flush:
        raise ValueError("an event names the listing's id: it needs the flush")
    if listing is not None and not can_manage(by, listing):
        raise DomainError(N_("Only the owning municipality's facility managers can change this listing."))
    if listing is None and not by.has_role(Role.FACILITY_MANAGER):
        raise DomainError(N_("Only facility managers can list resources."))
    if listing is not None and listing.status == S.HANDED_OVER:
        raise DomainError(N_("A listing that has been handed over can no longer be changed."))
    category, site = validate(session, by, details)
    created = listing is None
    before = None if listing is None else _recorded_details(listing)
    if listing is None:
        listing = Listing(municipality_id=by.municipality_id, site_id=id_of(site), category_id=id_of(category),
                          title="", created_by_id=by.id, created_at=now)
    for name in ListingDetails.model_fields:
        value = getattr(details, name)
        setattr(listing, name, value.strip() if isinstance(value, str) else value)
    if details.kind != ResourceKind.THING:
        listing.condition = None
        listing.weight_kg = listing.volume_m3 = None
    # A weight or volume left empty stays so: the category's typical figure stands in where one
    # is needed (a transport's load, a reuse's figures) and is shown as such, never as entered.
    if not listing.lend:
        listing.loan_min_days = listing.loan_max_days = None
    listing.updated_at = now
    index(session, listing, site=site, learn_words=record_event)
    session.add(listing)
    if flush:
        session.flush()  # writes the row: locked, for the status to follow (more or fewer pieces)
        if before is not None and before["quantity"] != listing.quantity:
            follow_lending(session, listing, by=by, now=now)
    if record_event:
        payload: dict[str, Any] = {"created": created, "status": listing.status}
        if before is not None:
            after = _recorded_details(listing)
            payload["changes"] = {name: [before[name], after[name]] for name in after if before[name] != after[name]}
        _record(session, events.LISTING_SAVED, listing, by=by, now=now, payload=payload)
    return listing


# A changed text is kept in an event by its start only: the trail says what changed, the
# listing holds the whole text.
CHANGED_TEXT_KEPT = 120


def _recorded_details(listing: Listing) -> dict[str, Any]:
    """A listing's details as an event's payload keeps them: plain JSON values, texts cut short."""
    return {name: _plain(getattr(listing, name)) for name in ListingDetails.model_fields}


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and len(value) > CHANGED_TEXT_KEPT:
        return value[:CHANGED_TEXT_KEPT - 1] + "…"
    return value


def _record(session: Session, name: str, listing: Listing, *, by: Actor | None, now: datetime,
            payload: dict[str, Any]) -> None:
    record(session, name, subject_type="listing", subject_id=listing.id, now=now,
           actor_id=by.id if by is not None else None, municipality_id=listing.municipality_id, payload=payload)


def index(session: Session, listing: Listing, *, site: Site | None = None, learn_words: bool = True) -> None:
    """Keep the listing's search words in step with what it says (``learn_words=False``: the
    caller teaches the search vocabulary many listings' words at once)."""
    names = [part for c in category_path(session, listing.category_id) for part in (c.name, c.name_en)]
    site = site or session.get(Site, listing.site_id)
    listing.search_title = search.document(listing.title)[:600]
    listing.search_text = search.document(listing.title, listing.description, " ".join(names),
                                          listing.inventory_number, site.locality if site else "")
    if learn_words:
        search.learn_after_commit(session, [listing.search_text])


def reindex_all(session: Session, *, batch: int = 500) -> int:
    """Index every listing anew (after the stemming changed, say), a batch per flush; returns how many."""
    done, last_id = 0, 0
    while True:
        rows = session.scalars(select(Listing).where(col(Listing.id) > last_id).order_by(col(Listing.id))
                               .limit(batch)).all()
        if not rows:
            return done
        for listing in rows:
            index(session, listing, learn_words=False)
        search.remember_words(session, [listing.search_text for listing in rows])
        session.flush()
        done, last_id = done + len(rows), id_of(rows[-1])


def change_status(session: Session, listing: Listing, to: ListingStatus, *, by: Actor | None, now: datetime,
                  record_event: bool = True) -> None:
    """Move the listing along its lifecycle; an illegal step is refused with a clear message.

    The step is recorded as an event (``events.LISTING_STATUS``), unless the caller records
    one for many (an import)."""
    current = ListingStatus(listing.status)
    if to not in TRANSITIONS[current]:
        raise DomainError(N_("A listing that is “%(current)s” cannot become “%(target)s”. "
                             "Reload the page to see it as it is now."),
                          current=Term(STATUS_NAMES[current]), target=Term(STATUS_NAMES[to]))
    listing.status = to.value
    listing.updated_at = now
    if to == S.PUBLISHED and listing.published_at is None:
        listing.published_at = now
    session.add(listing)
    if record_event:
        session.flush()
        _record(session, events.LISTING_STATUS[to], listing, by=by, now=now,
                payload={"from": current.value, "to": to.value})


def drop_contact(session: Session, *, user_id: int, by: Actor, now: datetime) -> int:
    """The person is no longer anyone's contact (they were erased): their listings keep no contact
    person, as a listing saved with "nobody in particular" does, each change recorded as a save.
    Returns how many listings it touched."""
    listings = session.scalars(select(Listing).where(col(Listing.contact_user_id) == user_id)
                               .order_by(col(Listing.id))).all()
    for listing in listings:
        listing.contact_user_id = None
        listing.updated_at = now
        session.add(listing)
        session.flush()
        _record(session, events.LISTING_SAVED, listing, by=by, now=now,
                payload={"created": False, "status": listing.status, "changes": {"contact_user_id": [user_id, None]}})
    return len(listings)


# The steps a facility manager takes by hand; the others follow reservations, loans and handovers.
MANUAL_TARGETS = (S.PUBLISHED, S.DRAFT, S.WITHDRAWN)


# --- The status follows lent pieces ----------------------------------------------------
# A published listing is "on loan" while every one of its pieces is away with borrowers, and
# published again once one is back: what its page and the search's cards say. It stays
# bookable either way (for the days the pieces are back: the holds decide that), and 3 of 10
# lent leave it published. The catalog follows its own holds here, marked out at the
# handover and back at the return by the loans (``lent_out``, ``came_back``); it never asks the
# loans. Each step writes the listing, so the catalog's revision moves with it and no kept
# search result shows the status as it was.

def follow_lending(session: Session, listing: Listing, *, by: Actor | None, now: datetime) -> None:
    """Move a published listing to on loan while every piece is out, and back once one is back.
    Other statuses (a draft, a withdrawn listing) stay as they are. Call it with the listing
    locked (``holds.lock``, or a write of its row): two handovers at once then count each other."""
    out = holds.pieces_out(session, id_of(listing))
    if listing.status == S.PUBLISHED and out >= listing.quantity:
        change_status(session, listing, S.ON_LOAN, by=by, now=now)
    elif listing.status == S.ON_LOAN and out < listing.quantity:
        change_status(session, listing, S.PUBLISHED, by=by, now=now)


def lent_out(session: Session, *, hold_id: int, by: Actor | None, now: datetime) -> None:
    """A hold's pieces were handed over to their borrower: the listing is on loan if none is left."""
    follow_lending(session, holds.hand_out(session, hold_id=hold_id, at=now), by=by, now=now)


def came_back(session: Session, *, hold_id: int, by: Actor | None, now: datetime) -> None:
    """A hold's lent pieces are back with their owner, free from now on: the listing is
    published again if it was on loan."""
    listing = holds.bring_back(session, hold_id=hold_id, at=now)
    if listing is not None:
        follow_lending(session, listing, by=by, now=now)


def manual_steps(listing: Listing) -> list[ListingStatus]:
    """The statuses a facility manager can move this listing to now (none while it is reserved
    or lent: the loans domain moves it then)."""
    if listing.status not in MANUAL_TARGETS:
        return []
    return [target for target in MANUAL_TARGETS if target in TRANSITIONS[ListingStatus(listing.status)]]


def set_status(session: Session, *, listing: Listing, to: ListingStatus, by: Actor, now: datetime) -> None:
    """A facility manager publishes, unpublishes, withdraws or reopens a listing."""
    if not can_manage(by, listing):
        raise DomainError(N_("Only the owning municipality's facility managers can change this listing."))
    if to not in MANUAL_TARGETS or listing.status not in MANUAL_TARGETS:
        raise DomainError(N_("Reservations, loans and handovers change that status, not an edit."))
    if to == ListingStatus.PUBLISHED:
        validate(session, by, details_of(listing))  # its site or contact may be gone since it was saved
    change_status(session, listing, to, by=by, now=now)


def duplicate(session: Session, *, listing: Listing, by: Actor, now: datetime) -> Listing:
    """A new draft with the same details (24 more chairs of the same model, say)."""
    if not can_manage(by, listing):
        raise DomainError(N_("Only the owning municipality's facility managers can change this listing."))
    skip = {"id", "status", "created_at", "updated_at", "published_at", "created_by_id"}
    values = {name: getattr(listing, name) for name in Listing.model_fields if name not in skip}
    copy = Listing(**values, status=S.DRAFT.value, created_by_id=by.id, created_at=now, updated_at=now)
    contact = session.get(User, copy.contact_user_id) if copy.contact_user_id else None
    if contact is None or not contact.active:
        copy.contact_user_id = None  # a copy names no one who has left
    session.add(copy)
    session.flush()
    _record(session, events.LISTING_SAVED, copy, by=by, now=now,
            payload={"created": True, "status": copy.status, "copied_from": listing.id})
    return copy


# --- Finding ------------------------------------------------------------------------

SORTS = ("relevance", "newest", "title", "distance")


@dataclass
class Filters:
    """A search as the URL carries it: all optional."""

    q: str = ""
    category_id: int | None = None
    municipality_id: int | None = None
    kind: ResourceKind | None = None
    conditions: list[Condition] = field(default_factory=list)
    offers: list[str] = field(default_factory=list)
    # Available for the whole of this period (see ``period``): listed as available from its start,
    # and at least one piece free throughout it (not held by loans and take-overs).
    available_from: date | None = None
    available_until: date | None = None
    today: date | None = None  # where a period open at its start begins
    # When the search is made: a loan overdue then holds its pieces (``holds.held_until``).
    # Needed with dates.
    now: datetime | None = None
    near_site_id: int | None = None
    within_km: float | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = 24

    def period(self) -> holds.Period | None:
        """The whole days searched, if any: from ``available_from`` (or today, when only the end
        is given) to ``available_until``. A period open at its end is taken as its first day only:
        "available from the 3rd" asks for something to fetch then, not for something free for
        ever, which nothing lent is. An end before the start is that first day too."""
        start = self.available_from or (self.available_until and self.today)
        if start is None:
            return None
        last = self.available_until if self.available_until is not None and self.available_until >= start else start
        return holds.days(start, last)

    def as_of(self) -> datetime:
        """When the holds are read for the period searched (``now``, which a search by dates gives)."""
        if self.now is None:
            raise ValueError("a search by dates says when it is made (Filters.now)")
        return self.now


# Counting every match of a broad search costs more than finding the page itself, and ranking
# them all more still: beyond this many, a search says "more than", ranks the newest this many
# (see ``rank``) and offers the pages up to it (21 of 24: add words or filters to narrow it).
COUNT_LIMIT = 500


def findable_by(user: Actor) -> ColumnElement[bool]:
    """What a user may find: shared with partners, or their own municipality's."""
    return _findable_in(user.municipality_id)


@lru_cache(maxsize=256)
def _findable_in(municipality_id: int | None) -> ColumnElement[bool]:
    # Built once for each municipality: every search asks, and building it costs more than running it.
    return and_(col(Listing.status).in_(FINDABLE),
                or_(col(Listing.visibility) == Visibility.PARTNERS.value,
                    col(Listing.municipality_id) == municipality_id))


@dataclass(frozen=True)
class Place:
    """A municipality or locality named among a search's words, used as a filter."""

    name: str
    municipality_id: int | None = None
    localities: tuple[str, ...] = ()


def _place_in(session: Session, terms: list[str]) -> tuple[Place | None, list[str], bool]:
    """The first place the terms name (typed with or without å, ä, ö; a municipality's name may be
    followed by "kommun"), the terms without it, and whether it was so followed. A place name is
    no word of a listing: as a term it would find every listing there, ranked like any title."""
    if not terms:
        return None, terms, False
    typed = [search.plain(term) for term in terms]
    for stems, place in _places(session):  # municipalities first: "Ystad" is the municipality, not its town
        for start in range(len(typed) - len(stems) + 1):
            if typed[start:start + len(stems)] == stems:
                end = start + len(stems)
                named_kommun = place.municipality_id is not None and typed[end:end + 1] == [MUNICIPALITY_WORD]
                return place, terms[:start] + terms[end + named_kommun:], named_kommun
    return None, terms, False


MUNICIPALITY_WORD = search.plain(search.query_terms("kommun")[0])


def _places(session: Session) -> list[tuple[list[str], Place]]:
    """The stems of every active municipality's name, then of every site's locality, as the
    terms of a query are and without å, ä, ö."""
    return revision.kept(session, "catalog.places", lambda: _place_names(session))


def _place_names(session: Session) -> list[tuple[list[str], Place]]:
    def terms(name: str) -> list[str]:
        return [search.plain(term) for term in search.query_terms(name)]

    names: list[tuple[list[str], Place]] = []
    for municipality_id, name in session.execute(
            select(col(Municipality.id), col(Municipality.name)).where(col(Municipality.active))):
        names.append((terms(name), Place(name, municipality_id=municipality_id)))
    by_locality: dict[str, set[str]] = {}
    for (locality,) in session.execute(select(col(Site.locality)).where(col(Site.active)).distinct()):
        by_locality.setdefault(" ".join(terms(locality)), set()).add(locality)
    names += [(key.split(), Place(min(spellings), localities=tuple(sorted(spellings))))
              for key, spellings in by_locality.items() if key]
    return [(stems, place) for stems, place in names if stems]


@dataclass
class Matching:
    """A search as the database runs it: the conditions on a listing (and its site), the facets
    that narrow the search index alike, and what the words became."""

    conditions: list[ColumnElement[bool]]
    facets: list[search.Facet]
    joins_site: bool
    distance: ColumnElement[float] | None
    terms: list[str]
    alternatives: dict[str, list[str]]
    place: Place | None
    dialect: str
    # What the terms may have been meant as when nothing holds them as typed (search.Alternatives).
    fallback: dict[str, list[str]] = field(default_factory=dict)
    unknown: frozenset[str] = frozenset()  # the terms the search vocabulary held no word of
    keys: tuple[tuple[str, ...], ...] = ()  # search.term_keys of the terms
    # Whether the place's name may also be a word of the listings (a maker's, a model's): it is
    # among the words a search reads, and not named a municipality by "kommun".
    place_may_be_word: bool = False

    def as_typed_or_fallback(self, session: Session, fill: int) -> Matching:
        """This search, or, when fewer than ``fill`` listings (a page) hold its terms as typed,
        the one of what they may also have been meant as (``fallback``)."""
        if self.fallback == self.alternatives or len(session.connection().execute(
                self.select(col(Listing.id), exact=True).limit(fill)).all()) >= fill:
            return self
        return replace(self, alternatives=self.fallback)

    def select(self, *columns: Any, exact: bool = False, newest_first: bool = False,
               instead: bool = False) -> Select[Any]:
        """These columns of the matching listings: every term or one of its alternatives in
        their words (``exact``: every term itself; ``instead``: of one term, an alternative only)."""
        every: list[search.Words]
        if instead:
            (term,) = self.terms
            every = [search.AnyOf(tuple(search.in_words(other) for other in self.alternatives[term]))]
        else:
            every = [search.every_term(self.terms, None if exact else self.alternatives)] if self.terms else []
        query = search.listings(self.dialect, list(columns), self.conditions, every, self.facets,
                                newest_first=newest_first)
        return query.join(Site, col(Site.id) == Listing.site_id) if self.joins_site else query


def _matching(session: Session, viewer: Actor, filters: Filters, *, places: bool = True) -> Matching:
    """The viewer's findable listings narrowed by the filters, with the distance and search terms
    (``places``: a place the words name is taken as a filter)."""
    conditions: list[ColumnElement[bool]] = [findable_by(viewer)]
    facets: list[search.Facet] = []
    dialect = session.get_bind().dialect.name

    def narrow(condition: ColumnElement[bool], facet: search.Facet | None) -> None:
        # A filter with a facet is asked of the search index alone, which holds the facets as the
        # columns are (SQLite's triggers, PostgreSQL's generated column): the listing's row is
        # then not read to test it on SQLite, and PostgreSQL plans for the words and filters together.
        if facet is not None:
            facets.append(facet)
        else:
            conditions.append(condition)

    if filters.category_id is not None:
        categories = descendant_ids(session, filters.category_id)
        narrow(col(Listing.category_id).in_(categories), search.facet_of(search.FACET_CATEGORY, categories))
    if filters.municipality_id is not None:
        narrow(col(Listing.municipality_id) == filters.municipality_id,
               search.facet_of(search.FACET_MUNICIPALITY, [filters.municipality_id]))
    if filters.kind is not None:
        narrow(col(Listing.kind) == filters.kind.value,
               search.facet_of(search.FACET_KIND, [search.KIND_CODES[filters.kind.value]]))
    if filters.conditions:
        codes = [search.CONDITION_CODES[c.value] for c in filters.conditions]
        narrow(col(Listing.condition).in_([c.value for c in filters.conditions]),
               search.facet_of(search.FACET_CONDITION, codes))
    for offer in filters.offers:
        if offer in search.OFFER_CODES:
            narrow(getattr(Listing, offer).is_(True),
                   search.facet_of(search.FACET_OFFER, [search.OFFER_CODES[offer]]))
    start = filters.available_from or (filters.available_until and filters.today)
    if start is not None:
        conditions.append(or_(col(Listing.available_from).is_(None), col(Listing.available_from) <= start))
    period = filters.period()
    if period is not None:
        conditions.append(~holds.none_free(period, now=filters.as_of()))
    distance = _distance_from(session, viewer, filters)
    typed = search.query_terms(filters.q, limit=None)
    place, terms, named_kommun = _place_in(session, typed) if places else (None, typed, False)
    terms = terms[:search.MAX_TERMS]  # a place may come after the words a search reads
    if place is not None and place.municipality_id is not None:
        narrow(col(Listing.municipality_id) == place.municipality_id,
               search.facet_of(search.FACET_MUNICIPALITY, [place.municipality_id]))
    if place is not None and place.localities:
        conditions.append(col(Site.locality).in_(place.localities))
    if distance is not None and filters.within_km:
        conditions.append(distance <= filters.within_km ** 2)
    alternatives = search.alternatives(session, terms, filters.q)
    if not terms and filters.q.strip() and place is None:
        conditions.append(false())  # only punctuation: no word can match it
    joins_site = distance is not None or bool(place and place.localities)
    return Matching(conditions, facets, joins_site=joins_site, distance=distance, terms=terms,
                    alternatives=alternatives.near, fallback=alternatives.fallback, unknown=alternatives.unknown,
                    keys=alternatives.keys, place=place, dialect=dialect,
                    place_may_be_word=place is not None and not named_kommun and len(typed) <= search.MAX_TERMS)


Hits = TypeVar("Hits", bound=Sized)


def _or_as_words(session: Session, viewer: Actor, filters: Filters, found: Matching,
                 search_: Callable[[Matching], tuple[Hits, Matching]]) -> tuple[Hits, Matching, Place | None]:
    """What ``search_`` finds of a search and the search it made; or, when it finds nothing at
    the place the words named and the name may be a word (``Matching.place_may_be_word``), what
    it finds of the words with the name among them, if anything, and the place that held nothing.
    (A maker or a model named like a place: Höganäs pots. A site's locality is among the words
    of its listings, so what stands there is still found.)"""
    result, searched = search_(found)
    if len(result) or not found.place_may_be_word:
        return result, searched, None
    as_words, searched_as_words = search_(_matching(session, viewer, filters, places=False))
    return (as_words, searched_as_words, found.place) if len(as_words) else (result, searched, None)


@dataclass(frozen=True)
class Ranking:
    """What a search found, before any page of it is read: the ids in order, up to the page
    asked; how many matched (counted up to COUNT_LIMIT and one more); the ids of every match
    when they are no more than COUNT_LIMIT (``complete``), else of every candidate read; the
    place its words named; each term's patterns and keys (search.term_patterns, term_keys). What
    kept_results checks changes against."""

    ids: tuple[int, ...]
    matched: frozenset[int]
    counted: int
    place: Place | None
    patterns: tuple[tuple[str, ...], ...]
    keys: tuple[tuple[str, ...], ...]  # search.term_keys
    order: str = "newest"  # how it was put in order: "relevance" (by its words), "title", "distance" or "newest"
    facets: tuple[search.Facet, ...] = ()  # the filters asked of the search index
    reader_municipality_id: int | None = None  # whose shared and own listings it found
    # When it read only exact matches, as many as it counts: when the oldest of them was
    # published. A listing published before cannot join them while they all stand.
    oldest: datetime | None = None
    # A place the words named where nothing matched, its name searched as a word instead.
    unmatched_place: Place | None = None

    @property
    def among_newest(self) -> bool:
        """Whether it put in order, other than newest first, only the newest COUNT_LIMIT
        matches of more (as the page says)."""
        return self.order != "newest" and not self.complete

    @property
    def complete(self) -> bool:
        return self.counted <= COUNT_LIMIT


@dataclass
class Results(Page[Row]):
    """A page of a search, and the place its words named (which the page says it filtered by).

    ``free``: when dates are searched, how many pieces of each listing on the page are free for
    the whole period (at least one: the others are left out); fewer than its quantity when it is
    partly booked then. ``ranking``: the search it is a page of."""

    place: Place | None = None
    unmatched_place: Place | None = None  # Ranking.unmatched_place
    free: dict[int, int] = field(default_factory=dict)
    ranking: Ranking | None = None


def find(session: Session, *, viewer: Actor, filters: Filters) -> Results[Listing]:
    """One page of the listings the viewer may see that match the filters: those matching every
    word exactly before those that match a mistyped word only."""
    return page_of(session, rank(session, viewer=viewer, filters=filters), filters)


def rank(session: Session, *, viewer: Actor, filters: Filters) -> Ranking:
    """The listings the viewer may see that match the filters, in order (see ``Ranking``).

    A search puts in order a bounded set of candidates: the newest COUNT_LIMIT matches, exact
    ones before mistyped ones. Both databases find the newest matches through an index and stop
    there, so a broad word costs what a narrow one does, and a search of more than COUNT_LIMIT
    matches says so and shows the best, or the first by title or distance, of the newest. By
    relevance or newest first they are ranked here, with the databases' own tests
    (``_candidates``); by title or distance the database sorts them (``_all_at_once``)."""
    session.flush()  # its statements are read on the connection: the session's pending changes first
    found = _matching(session, viewer, filters)
    wanted = min(filters.page * filters.per_page, COUNT_LIMIT)
    counting = COUNT_LIMIT + 1  # one more tells that there are more
    candidates, found, unmatched_place = _or_as_words(session, viewer, filters, found, lambda matching: _candidates(
        session, matching, counting, fill=filters.per_page))
    by_rank = filters.sort == "relevance" and bool(found.terms)
    total = len(candidates)
    # Whichever candidate changes may change the order (one gone lets an older one in).
    matched = frozenset(row[0] for row in candidates)
    if filters.sort in ("relevance", "newest") or (filters.sort == "distance" and found.distance is None):
        ranked = _ranked_here(candidates[:COUNT_LIMIT], found, by_rank=by_rank)
        order = "relevance" if by_rank else "newest"
    else:  # sorted by the database, by their ids alone
        beyond = (filters.page - 1) * filters.per_page
        among = [row[0] for row in candidates[:COUNT_LIMIT]]
        ranked = [] if beyond >= len(among) else _all_at_once(session, found, filters.sort, wanted, among)
        order = filters.sort
    terms = found.terms
    filled_by_exact = total == counting and candidates[-1][2] is None  # exact matches come first, text unread
    return Ranking(tuple(ranked[:wanted]), counted=total, place=found.place, matched=matched,
                   patterns=search.term_patterns(terms, found.alternatives) if terms else (),
                   keys=found.keys if terms else (), order=order,
                   facets=tuple(found.facets), reader_municipality_id=viewer.municipality_id,
                   unmatched_place=unmatched_place,
                   oldest=_published_at(session, candidates[-1][0]) if filled_by_exact else None)


def page_ids(ranking: Ranking, filters: Filters) -> list[int]:
    """The ids of the page ``filters`` asks for of its ranking, in order."""
    return list(ranking.ids[(filters.page - 1) * filters.per_page:])


def page_of(session: Session, ranking: Ranking, filters: Filters) -> Results[Listing]:
    """The page ``filters`` asks for of its ranking, its listings read."""
    ids = page_ids(ranking, filters)
    rows = session.scalars(select(Listing).where(col(Listing.id).in_(ids))).all()
    by_id = {row.id: row for row in rows}
    items = [by_id[i] for i in ids if i in by_id]  # one deleted between the two reads: left out
    period, free = filters.period(), {}
    if period is not None:  # exact, for the page alone: how many pieces are free throughout
        held = holds.most_held_of(session, [id_of(item) for item in items], period, now=filters.as_of())
        free = {id_of(item): holds.free_of(item.quantity, held[id_of(item)]) for item in items}
    return results_of(ranking, filters, items, free=free)


def results_of(ranking: Ranking, filters: Filters, items: list[Row], *, free: dict[int, int] | None = None
               ) -> Results[Row]:
    """The page ``filters`` asks for of its ranking, as these items (``page_ids``, read)."""
    return Results(items=items, total=min(ranking.counted, COUNT_LIMIT), page=filters.page,
                   per_page=filters.per_page, more=ranking.counted > COUNT_LIMIT, place=ranking.place,
                   unmatched_place=ranking.unmatched_place, free=free or {}, ranking=ranking)


Candidate = tuple[Any, ...]  # (id, search title, search text or None)


def _candidates(session: Session, found: Matching, limit: int, fill: int = Filters.per_page
                ) -> tuple[list[Candidate], Matching]:
    """Up to ``limit`` matches, newest first, as (id, search title, search text): every exact
    match (each term itself in the words) before any that holds a term only through an
    alternative, so a mistyped word never pushes an exact match out. An exact match's text is
    not read (None): it holds every term. Among the others the newest come first, however many
    of the terms they hold only through an alternative (the ranking then puts fewer first).
    With the search made: with fewer exact matches than ``fill`` (a page), of what its terms
    may also have been meant as (``Matching.fallback``)."""
    # On the connection, all at once: hundreds of plain rows need none of the ORM's work on the
    # way, nor a call a row to fetch them.
    connection = session.connection()
    rows: list[Candidate] = [(i, title, None) for i, title in connection.execute(
        found.select(col(Listing.id), col(Listing.search_title), exact=True, newest_first=True).limit(limit)).all()]
    if len(rows) < fill:
        found = replace(found, alternatives=found.fallback)  # the terms as typed fill no page
    if found.alternatives and len(rows) < limit:
        known = {row[0] for row in rows}
        # Every exact match is known: of one term, the others hold an alternative instead, and
        # asking for those alone spares the database a pattern a row (the term's own).
        more = found.select(col(Listing.id), col(Listing.search_title), col(Listing.search_text), newest_first=True,
                            instead=len(found.terms) == 1)
        rows += [tuple(row) for row in connection.execute(more.limit(limit)).all()
                 if row[0] not in known][:limit - len(rows)]
    return rows, found


_PUBLISHED_AT = select(col(Listing.published_at)).where(col(Listing.id) == bindparam("listing_id"))  # built once


def _published_at(session: Session, listing_id: int) -> datetime | None:
    return session.connection().scalar(_PUBLISHED_AT, {"listing_id": listing_id})


def _ranked_here(rows: Sequence[Candidate], found: Matching, *, by_rank: bool) -> list[int]:
    """The ids of these candidates, read newest first, in the search's order: exact matches
    first, then by relevance if asked, newest first among equals, as _all_at_once sorts them.
    Ranking rows already read, with the databases' own tests (search.test_of), costs less than
    asking the database again. A text of None holds every term."""
    if not found.alternatives and not by_rank:
        return [row[0] for row in rows]
    rank = search.ranker(found.terms, found.alternatives, by_relevance=by_rank)
    return [row[0] for row in sorted(rows, key=lambda row: rank(row[1], row[2]))]


def _all_at_once(session: Session, found: Matching, sort: str, wanted: int, among: Sequence[int]) -> list[int]:
    """The first ``wanted`` of these matches' ids sorted in one query, without asking the search
    again (sorting ids alone costs less than sorting rows)."""
    query = select(col(Listing.id)).where(col(Listing.id).in_(among))
    if sort == "distance" and found.distance is not None:
        query = query.join(Site, col(Site.id) == Listing.site_id)
    if found.alternatives:
        query = query.order_by(search.inexact(found.terms, found.alternatives))
    newest = (col(Listing.published_at).desc(), col(Listing.id).desc())
    if sort == "distance" and found.distance is not None:
        query = query.order_by(found.distance, col(Listing.id))
    elif sort == "title":
        query = query.order_by(func.lower(col(Listing.title)), col(Listing.id))
    elif sort == "relevance" and found.terms:
        query = query.order_by(search.relevance(found.terms, found.alternatives), *newest)
    else:
        query = query.order_by(*newest)
    return list(session.scalars(query.limit(wanted)))


def owned(session: Session, *, municipality_id: int, status: ListingStatus | None = None, q: str = "",
          page: int = 1, per_page: int = 50) -> Page[Listing]:
    """A municipality's own listings in every status, last changed first: the facility managers' desk."""
    query: Select[Any] = select(Listing).where(col(Listing.municipality_id) == municipality_id)
    if status is not None:
        query = query.where(col(Listing.status) == status.value)
    terms = search.query_terms(q)
    if terms:
        query = query.where(search.matches(terms, session.get_bind().dialect.name))
    total = session.scalar(select(func.count()).select_from(query.with_only_columns(col(Listing.id)).subquery())) or 0
    rows = session.scalars(query.order_by(col(Listing.updated_at).desc(), col(Listing.id).desc())
                           .limit(per_page).offset((page - 1) * per_page)).all()
    return Page(items=list(rows), total=total, page=page, per_page=per_page)


@dataclass
class MapPoint:
    """A site on the map with how many of the matching listings stand there, and a few of them."""

    site_id: int
    name: str
    locality: str
    latitude: float
    longitude: float
    count: int
    listings: list[tuple[int, str]]  # (id, title) of the newest few


@dataclass
class MapResults:
    """The sites on the map, and the place the search's words named (which the map says it
    filtered by) or that held nothing, its name searched as a word instead (``unmatched_place``)."""

    points: list[MapPoint]
    place: Place | None = None
    unmatched_place: Place | None = None


def map_points(session: Session, *, viewer: Actor, filters: Filters, per_site: int = 5) -> MapResults:
    """The matching listings grouped by the site they stand at: one marker per site, not per listing,
    so the map stays light whatever the number of listings."""
    def sites(matching: Matching) -> tuple[list[Any], Matching]:
        searched = matching.as_typed_or_fallback(session, filters.per_page)
        return _sites_of(session, searched), searched

    counts, found, unmatched_place = _or_as_words(session, viewer, filters, _matching(session, viewer, filters), sites)
    if not counts:
        return MapResults([], found.place)
    matching = found.select(col(Listing.id), col(Listing.site_id), col(Listing.title),
                            col(Listing.published_at)).subquery()
    newest_first = func.row_number().over(
        partition_by=matching.c.site_id, order_by=(matching.c.published_at.desc(), matching.c.id.desc()))
    ranked = select(matching.c.id, matching.c.site_id, matching.c.title, newest_first.label("rank")).subquery()
    examples: dict[int, list[tuple[int, str]]] = {}
    for listing_id, site_id, title, _rank in session.execute(
            select(ranked).where(ranked.c.rank <= per_site).order_by(ranked.c.site_id, ranked.c.rank)):
        examples.setdefault(site_id, []).append((listing_id, title))
    return MapResults([MapPoint(site.id, site.name, site.locality, site.latitude, site.longitude, count,
                                examples.get(site.id, [])) for site, count in counts], found.place, unmatched_place)


def _sites_of(session: Session, found: Matching) -> list[Any]:
    """The sites where the search finds listings, each with how many (Site, count)."""
    matching = found.select(col(Listing.id), col(Listing.site_id)).subquery()
    return list(session.execute(select(Site, func.count(matching.c.id)).join(matching, matching.c.site_id == Site.id)
                                .group_by(col(Site.id))).all())


def _distance_from(session: Session, viewer: Actor, filters: Filters) -> ColumnElement[float] | None:
    """Squared kilometres from one of the viewer's sites (flat-earth: fine within a region)."""
    if filters.near_site_id is None:
        return None
    origin = session.get(Site, filters.near_site_id)
    if origin is None or origin.municipality_id != viewer.municipality_id:
        return None
    km_per_degree = 111.2
    x_scale = km_per_degree * math.cos(math.radians(origin.latitude))
    dy = (col(Site.latitude) - origin.latitude) * km_per_degree
    dx = (col(Site.longitude) - origin.longitude) * x_scale
    return dy * dy + dx * dx
