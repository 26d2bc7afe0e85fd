"""Wanted items (efterlysningar): what a unit needs, who sees it, and the listings that meet it.

A listing meets a want when the want's unit may see it (shared with all partners, or of the
want's own municipality), its category is the want's category or lies below it, and every
word of the want is found among the listing's search stems, as the catalog's search finds
them: "kontorsstol" finds "Kontorsstolar, svarta", "stol" finds "Kontorsstol". The quantity
need not match: a few chairs may still help.

Each (want, listing) pair is recorded once (``WantMatch``), so a poster hears of a listing
once, however often it is edited afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, or_, select, update
from sqlalchemy.orm import selectinload
from sqlmodel import Session, col

from sharing.accounts.models import Actor, Role, Unit
from sharing.catalog import events
from sharing.catalog.categories.models import Category
from sharing.catalog.categories.rules import ancestors, category_name, descendant_ids
from sharing.catalog.listings import search as search
from sharing.catalog.listings.models import Listing, ListingStatus, Visibility
from sharing.catalog.listings.rules import findable_by
from sharing.catalog.wants.models import Want, WantMatch, WantStatus
from sharing.clock import today_in_sweden
from sharing.db import Page
from sharing.errors import DomainError, NotAllowed, NotVisible
from sharing.events import record
from sharing.i18n import N_
from sharing.typed import id_of, relation

WORDS_MAX = 200
DESCRIPTION_MAX = 2000
QUANTITY_MAX = 100_000
NOTICE_INTERVAL = timedelta(days=1)  # a want's poster hears of new matches once a day at most
MATCHES_RECORDED = 100  # when a want is posted: the newest listings that already meet it
CLOSED = (WantStatus.FULFILLED, WantStatus.WITHDRAWN)


@dataclass
class WantDetails:
    """What the poster enters (validated for type and length by the form or API)."""

    words: str = ""
    category_id: int | None = None
    quantity: int = 1
    needed_by: date | None = None
    description: str = ""



def is_expired(want: Want, *, today: date) -> bool:
    """Open, but its date has passed: no longer matched, no longer shown as open."""
    return want.status == WantStatus.OPEN and want.needed_by is not None and want.needed_by < today


def label(want: Want, category: Category | None = None, *, locale: str | None = None) -> str:
    """What the want is called in lists and messages: its words, else its category's name in the
    reader's language."""
    if want.words:
        return want.words
    category = category or want.category
    return category_name(category, locale) if category is not None else ""


# --- Who may do what ------------------------------------------------------------------

def _signed_in(user: Actor) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def can_post(user: Actor) -> bool:
    """Anyone signed in who belongs to a unit posts what the unit needs."""
    return _signed_in(user) and user.unit_id is not None


def can_see(user: Actor, want: Want) -> bool:
    """The poster and their unit; the municipality's facility managers; and, while it is open,
    the facility managers of every partner municipality (who may have what it asks for)."""
    if not _signed_in(user):
        return False
    if want.posted_by_id == user.id or (user.unit_id is not None and user.unit_id == want.unit_id):
        return True
    if user.has_role(Role.FACILITY_MANAGER):
        return want.municipality_id == user.municipality_id or want.status == WantStatus.OPEN
    return False


def visible_to(user: Actor) -> ColumnElement[bool]:
    """``can_see`` as a query condition."""
    conditions: list[ColumnElement[bool]] = [col(Want.posted_by_id) == user.id]
    if user.unit_id is not None:
        conditions.append(col(Want.unit_id) == user.unit_id)
    if user.has_role(Role.FACILITY_MANAGER):
        conditions += [col(Want.municipality_id) == user.municipality_id, col(Want.status) == WantStatus.OPEN.value]
    return or_(*conditions)


def can_edit(user: Actor, want: Want) -> bool:
    """Only its poster changes what a want asks for."""
    return _signed_in(user) and want.posted_by_id is not None and want.posted_by_id == user.id


def can_close(user: Actor, want: Want) -> bool:
    """Its poster, or a facility manager of its municipality (who may have met it)."""
    return can_edit(user, want) or (_signed_in(user) and user.municipality_id == want.municipality_id
                                    and user.has_role(Role.FACILITY_MANAGER))


def want_to_see(session: Session, viewer: Actor, want_id: int) -> Want:
    """The wanted item, for a viewer who may see it.

    :raise NotVisible: it does not exist, or the viewer may not see it.
    """
    want = session.get(Want, want_id)
    if want is None or not can_see(viewer, want):
        raise NotVisible(f"want {want_id}")
    return want


def want_to_edit(session: Session, user: Actor, want_id: int) -> Want:
    """The wanted item, for its poster.

    :raise NotVisible: as ``want_to_see``. :raise NotAllowed: the user may see it but not change it.
    """
    return _want_if(session, user, want_id, can_edit)


def want_to_close(session: Session, user: Actor, want_id: int) -> Want:
    """The wanted item, for its poster or a facility manager of its municipality.

    :raise NotVisible: as ``want_to_see``. :raise NotAllowed: the user may see it but not close it.
    """
    return _want_if(session, user, want_id, can_close)


def _want_if(session: Session, user: Actor, want_id: int, may: Callable[[Actor, Want], bool]) -> Want:
    want = want_to_see(session, user, want_id)
    if not may(user, want):
        raise NotAllowed(f"want {want_id}")
    return want


def restem_all(session: Session) -> int:
    """Stem every wanted item's words anew (after the stemming changed); returns how many."""
    found = session.scalars(select(Want)).all()
    for want in found:
        want.search_words = " ".join(search.query_terms(want.words))
    session.flush()
    return len(found)


# --- Posting, changing and closing -----------------------------------------------------

def _validate(session: Session, details: WantDetails, *, today: date) -> tuple[str, list[str]]:
    words = " ".join(details.words.split())
    if len(words) > WORDS_MAX:
        raise DomainError(N_("Use at most %(max)s characters."), field="words", max=WORDS_MAX)
    if len(dict.fromkeys(search.stems(words))) > search.MAX_TERMS:
        raise DomainError(N_("Use at most %(max)s words: every word must match, so fewer words find more."),
                          field="words", max=search.MAX_TERMS)
    terms = search.query_terms(words)
    if words and not terms:
        raise DomainError(N_("Describe it with letters or digits."), field="words")
    if details.category_id is not None and session.get(Category, details.category_id) is None:
        raise DomainError(N_("Choose a category."), field="category_id")
    if not terms and details.category_id is None:
        raise DomainError(N_("Say what you need: a few words, a category, or both."), field="words")
    if not 1 <= details.quantity <= QUANTITY_MAX:
        raise DomainError(N_("The quantity is from 1 to %(max)s."), field="quantity", max=QUANTITY_MAX)
    if len(details.description.strip()) > DESCRIPTION_MAX:
        raise DomainError(N_("Use at most %(max)s characters."), field="description", max=DESCRIPTION_MAX)
    if details.needed_by is not None and details.needed_by < today:
        raise DomainError(N_("That date has passed. Choose today or a later day, or leave it empty."),
                          field="needed_by")
    return words, terms


def _apply(want: Want, details: WantDetails, words: str, terms: list[str], now: datetime) -> None:
    want.words = words
    want.search_words = " ".join(terms)[:600]
    want.category_id = details.category_id
    want.quantity = details.quantity
    want.needed_by = details.needed_by
    want.description = details.description.strip()
    want.updated_at = now


def post_want(session: Session, *, details: WantDetails, by: Actor, now: datetime) -> Want:
    """Post what the poster's unit needs; the listings that already meet it are recorded with it."""
    unit = session.get(Unit, by.unit_id) if by.unit_id is not None else None
    if unit is None or not unit.active or unit.municipality_id != by.municipality_id:
        raise DomainError(N_("Your account belongs to no unit, so you cannot post a wanted item. "
                             "Ask your municipality's administrator to set your unit."))
    want = Want(municipality_id=by.municipality_id, unit_id=id_of(unit), posted_by_id=id_of(by), created_at=now)
    return _save(session, want, details, now)


def edit_want(session: Session, *, want: Want, details: WantDetails, by: Actor, now: datetime) -> Want:
    if not can_edit(by, want):
        raise DomainError(N_("Only the person who posted a wanted item can change it."))
    if want.status != WantStatus.OPEN:
        raise DomainError(N_("A closed wanted item can no longer be changed."))
    return _save(session, want, details, now)


def _save(session: Session, want: Want, details: WantDetails, now: datetime) -> Want:
    """Check and store what the poster entered, and record the listings that already meet it."""
    words, terms = _validate(session, details, today=today_in_sweden(now))
    _apply(want, details, words, terms, now)
    session.add(want)
    session.flush()
    record_present_matches(session, want=want, now=now)
    return want


def close_want(session: Session, *, want: Want, outcome: WantStatus, by: Actor, now: datetime) -> None:
    """Close an open want as fulfilled or withdrawn; it is then no longer matched."""
    if not can_close(by, want):
        raise DomainError(N_("Only its poster or the municipality's facility managers can close a wanted item."))
    if outcome not in CLOSED:
        raise DomainError(N_("Choose whether it was fulfilled or is no longer needed."))
    if want.status != WantStatus.OPEN:
        raise DomainError(N_("This wanted item is already closed."))
    # Closed once, whoever asks at the same moment: the row changes only while still open
    # (as the database sees it now, not as this session read it), and the others are told.
    closed = session.execute(
        update(Want).where(col(Want.id) == want.id, col(Want.status) == WantStatus.OPEN.value)
        .values(status=outcome.value, closed_at=now, updated_at=now, closed_by_id=by.id)
        .execution_options(synchronize_session=False)
    )
    if closed.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult
        session.refresh(want)
        raise DomainError(N_("This wanted item is already closed."))
    session.refresh(want)


# --- Matching ---------------------------------------------------------------------------

def _can_reach(want: Want, listing: Listing) -> bool:
    return listing.visibility == Visibility.PARTNERS or listing.municipality_id == want.municipality_id


def meets(want: Want, listing: Listing, category_chain: set[int]) -> bool:
    """Does the listing (whose category and its ancestors are ``category_chain``) meet the want?"""
    return (_can_reach(want, listing)
            and (want.category_id is None or want.category_id in category_chain)
            and all(term in listing.search_text for term in want.search_words.split()))


def record_present_matches(session: Session, *, want: Want, now: datetime) -> int:
    """Record the published listings that meet the want now, not yet recorded; nobody is told,
    as the want's page shows them to its poster. Returns how many meet it."""
    if want.status != WantStatus.OPEN:
        return 0
    query = select(col(Listing.id)).where(col(Listing.status) == ListingStatus.PUBLISHED.value,
                                     or_(col(Listing.visibility) == Visibility.PARTNERS.value,
                                         col(Listing.municipality_id) == want.municipality_id))
    if want.category_id is not None:
        query = query.where(col(Listing.category_id).in_(descendant_ids(session, want.category_id)))
    terms = want.search_words.split()
    if terms:
        query = query.where(search.matches(terms, session.get_bind().dialect.name))
    newest = query.order_by(col(Listing.published_at).desc(), col(Listing.id).desc()).limit(MATCHES_RECORDED)
    present = [id_ for id_ in session.scalars(newest) if id_ is not None]
    known = set(session.scalars(select(col(WantMatch.listing_id)).where(col(WantMatch.want_id) == want.id)))
    for listing_id in present:
        if listing_id not in known:
            session.add(WantMatch(want_id=id_of(want), listing_id=listing_id, matched_at=now))
    session.flush()
    return len(present)


def match_listing(session: Session, *, listing: Listing, now: datetime) -> list[Want]:
    """Record the open wants that a just published or edited listing meets for the first time,
    and return them: their posters are to be told. Nothing for a listing that is not published."""
    if listing.status != ListingStatus.PUBLISHED:
        return []
    category = session.get(Category, listing.category_id)
    chain = {id_of(c) for c in ancestors(session, category)} if category is not None else set()
    today = today_in_sweden(now)
    query = select(Want).where(
        col(Want.status) == WantStatus.OPEN.value,
        or_(col(Want.needed_by).is_(None), col(Want.needed_by) >= today),
        or_(col(Want.category_id).is_(None), col(Want.category_id).in_(chain)),
        ~exists().where(col(WantMatch.want_id) == Want.id, col(WantMatch.listing_id) == listing.id),
    ).order_by(col(Want.id))
    if listing.visibility != Visibility.PARTNERS:
        query = query.where(col(Want.municipality_id) == listing.municipality_id)
    met = [want for want in session.scalars(query) if meets(want, listing, chain)]
    told_lately = _told_since(session, [id_of(want) for want in met], now - NOTICE_INTERVAL)
    for want in met:
        tell = want.id not in told_lately
        session.add(WantMatch(want_id=id_of(want), listing_id=id_of(listing), matched_at=now,
                              notified_at=now if tell else None))
        _record_match(session, want, [id_of(listing)], told=tell, now=now)
    session.flush()
    return [want for want in met if want.id not in told_lately]


def _record_match(session: Session, want: Want, listing_ids: list[int], *, told: bool, now: datetime) -> None:
    record(session, events.WANT_MATCHED, subject_type="want", subject_id=want.id, now=now,
           municipality_id=want.municipality_id, payload={"listing_ids": listing_ids, "told": told})


def _told_since(session: Session, want_ids: list[int], since: datetime) -> set[int]:
    """The wants whose posters were told of a match since then: a broad want ("Möbler") that
    many listings meet tells its poster once a day at most; its page lists every match."""
    if not want_ids:
        return set()
    return set(session.scalars(select(col(WantMatch.want_id)).where(
        col(WantMatch.want_id).in_(want_ids), col(WantMatch.notified_at) >= since)))


def match_listings(session: Session, *, listing_ids: list[int], now: datetime) -> list[tuple[Want, list[int]]]:
    """Record, for many listings saved at once (an import), the open wants each meets for the first
    time: one query per open want, not one per listing. Returns each want met with its listings."""
    if not listing_ids:
        return []
    today = today_in_sweden(now)
    open_wants = session.scalars(select(Want).where(
        col(Want.status) == WantStatus.OPEN.value,
        or_(col(Want.needed_by).is_(None), col(Want.needed_by) >= today),
    ).order_by(col(Want.id))).all()
    met: list[tuple[Want, list[int]]] = []
    told_lately = _told_since(session, [id_of(want) for want in open_wants], now - NOTICE_INTERVAL)
    for want in open_wants:
        query = select(col(Listing.id)).where(
            col(Listing.id).in_(listing_ids), col(Listing.status) == ListingStatus.PUBLISHED.value,
            or_(col(Listing.visibility) == Visibility.PARTNERS.value,
                col(Listing.municipality_id) == want.municipality_id),
            ~exists().where(col(WantMatch.want_id) == want.id, col(WantMatch.listing_id) == Listing.id),
        )
        if want.category_id is not None:
            query = query.where(col(Listing.category_id).in_(descendant_ids(session, want.category_id)))
        terms = want.search_words.split()
        if terms:
            query = query.where(search.matches(terms, session.get_bind().dialect.name))
        found = [id_ for id_ in session.scalars(query.order_by(col(Listing.id))) if id_ is not None]
        tell = want.id not in told_lately
        for listing_id in found:
            session.add(WantMatch(want_id=id_of(want), listing_id=listing_id, matched_at=now,
                                  notified_at=now if tell else None))
        if found:
            _record_match(session, want, found, told=tell, now=now)
        if found and tell:
            met.append((want, found))
    session.flush()
    return met


def matching_query(session: Session, *, want: Want, viewer: Actor) -> Select[Any]:
    """The recorded matches that still meet the want and that the viewer may find, newest match
    first: a query, read a page at a time."""
    return _matching(session, select(Listing), want=want, viewer=viewer, limit=None)


def matching_ids(session: Session, *, want: Want, viewer: Actor, limit: int | None = 20) -> list[int]:
    """The ids of ``matching_query``'s listings, in their order."""
    return list(session.scalars(_matching(session, select(col(Listing.id)), want=want, viewer=viewer, limit=limit)))


def _matching(session: Session, query: Select[Any], *, want: Want, viewer: Actor, limit: int | None) -> Select[Any]:
    query = (query.join(WantMatch, col(WantMatch.listing_id) == Listing.id)
             .where(col(WantMatch.want_id) == want.id, findable_by(viewer),
                    or_(col(Listing.visibility) == Visibility.PARTNERS.value,
                        col(Listing.municipality_id) == want.municipality_id)))
    # "Still": a listing edited since it was matched may no longer meet the want.
    if want.category_id is not None:
        query = query.where(col(Listing.category_id).in_(descendant_ids(session, want.category_id)))
    terms = want.search_words.split()
    if terms:
        query = query.where(search.matches(terms, session.get_bind().dialect.name))
    query = query.order_by(col(WantMatch.matched_at).desc(), col(Listing.id).desc())
    return query.limit(limit) if limit is not None else query


# --- Finding ---------------------------------------------------------------------------

STATES = ("open", "expired", "closed", "all")


@dataclass
class WantFilters:
    state: str = "open"  # one of STATES
    municipality_id: int | None = None
    category_id: int | None = None
    mine: bool = False  # the viewer's own and their unit's only
    page: int = 1
    per_page: int = 25


def find_wants(session: Session, *, viewer: Actor, filters: WantFilters, now: datetime) -> Page[Want]:
    """One page of the wants the viewer may see: open ones soonest needed first, others newest first."""
    today = today_in_sweden(now)
    query = select(Want).where(visible_to(viewer))
    if filters.mine:
        own = [col(Want.posted_by_id) == viewer.id]
        if viewer.unit_id is not None:
            own.append(col(Want.unit_id) == viewer.unit_id)
        query = query.where(or_(*own))
    if filters.municipality_id is not None:
        query = query.where(col(Want.municipality_id) == filters.municipality_id)
    if filters.category_id is not None:
        query = query.where(col(Want.category_id).in_(descendant_ids(session, filters.category_id)))
    is_open = col(Want.status) == WantStatus.OPEN.value
    if filters.state == "open":
        query = query.where(is_open, or_(col(Want.needed_by).is_(None), col(Want.needed_by) >= today))
        query = query.order_by(col(Want.needed_by).is_(None), col(Want.needed_by), col(Want.id).desc())
    else:
        if filters.state == "expired":
            query = query.where(is_open, col(Want.needed_by) < today)
        elif filters.state == "closed":
            query = query.where(col(Want.status).in_([s.value for s in CLOSED]))
        query = query.order_by(col(Want.updated_at).desc(), col(Want.id).desc())
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = session.scalars(query.options(selectinload(relation(Want.category)))
                           .limit(filters.per_page).offset((filters.page - 1) * filters.per_page)).all()
    return Page(items=list(rows), total=total, page=filters.page, per_page=filters.per_page)

