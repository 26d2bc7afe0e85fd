"""Finding listings, and listing what one's municipality can share."""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from babel.dates import format_date
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import bindparam, select
from sqlmodel import Session, col
from werkzeug.wrappers import Response

from sharing.access import SIGNED_IN, allow
from sharing.accounts.models import Municipality, Role, RoleGrant, Site, User
from sharing.catalog.categories.models import ResourceKind
from sharing.catalog.categories.rules import category_choices, current_factor
from sharing.catalog.holds import rules as holds
from sharing.catalog.listings import cards, kept_results
from sharing.catalog.listings import revision as revision
from sharing.catalog.listings import rules as listings
from sharing.catalog.listings.forms import ListingForm, SearchForm, SearchWords
from sharing.catalog.listings.labels import STATUS_LABELS
from sharing.catalog.listings.models import Condition, Listing, ListingDetails, ListingStatus
from sharing.catalog.photos import rules as photos
from sharing.catalog.photos.forms import NewListingForm
from sharing.catalog.photos.forms import uploads as photo_uploads
from sharing.catalog.transfers import rules as transfers
from sharing.clock import today_in_sweden, utcnow
from sharing.db import db_session
from sharing.errors import DomainError, NotVisible
from sharing.typed import id_of
from sharing.web.arguments import link_arguments, page_number
from sharing.web.forms import flash_refusal, refusal, show_error
from sharing.web.fragments import KeptInMemory, cached_fragment, checked_fragment, render_part
from sharing.web.hooks import content_security_policy, tile_origin

blueprint = Blueprint("catalog", __name__, url_prefix="/catalog", template_folder="templates")
log = logging.getLogger("sharing.catalog")


def _category_choices(blank: str | None = None) -> list[tuple[object, str]]:
    return category_choices(db_session, str(get_locale()), blank)


def _own_sites() -> list[Site]:
    return list(db_session.scalars(
        select(Site).where(col(Site.municipality_id) == current_user.municipality_id, col(Site.active))
        .order_by(Site.name)))


# --- Finding --------------------------------------------------------------------------

@blueprint.get("/")
@allow(SIGNED_IN)
def browse() -> Response:
    """The search: as a list of listings, or (view=map) as a map of the sites they stand at."""
    view = "map" if request.args.get("view") == "map" else "list"
    today = today_in_sweden(utcnow())
    if view == "list":
        results = _kept_results(today)
    else:
        token = revision.current(db_session, max_age=current_app.config["SEARCH_LAG_SECONDS"])
        key = None if token is None else _search_key(f"map:{token}", today)
        results = cached_fragment(key, lambda: _map_results(today))
    response = make_response(render_template("catalog/browse.html", view=view, results=results))
    if view == "map" and (origin := tile_origin(current_app.config["MAP_TILE_URL"])):
        response.headers["Content-Security-Policy"] = content_security_policy(origin)
    return response


# The search's filters, as named in the URL (the words, the sorting and the page are not filters).
FILTER_ARGUMENTS = ("category_id", "municipality_id", "kind", "available_from", "available_until", "near_site_id",
                    "within_km", "condition", "offer")


def _search_key(part: str, today: date) -> str:
    """What a rendered part of the search depends on, beside the catalog: the words and
    filters, the reader's language and municipality (what is shared with it, and its sites) and
    the date (a loan of whole days not back falls overdue, holding its pieces on, as it
    changes). Many readers ask alike, so the parts are kept under all of those."""
    # In their order: the form reads the first of a repeated argument.
    args = urlencode(list(request.args.items(multi=True)))
    return (f"catalog.search.{part}:{get_locale()}:{current_user.municipality_id}:{today}:"
            + hashlib.sha256(args.encode()).hexdigest())


def _kept_results(today: date) -> Markup:
    """The list of results, kept while no change of the catalog touches it (kept_results)."""
    lag = current_app.config["SEARCH_LAG_SECONDS"]
    checked: kept_results.CheckedUpTo = current_app.extensions["sharing.catalog.kept_checked"]

    def still_good(note: str) -> bool:
        found = kept_results.Found.from_note(note)
        if found is None:
            return False
        changes = revision.changes_since(db_session, checked.since(note, found), max_age=lag)
        good = kept_results.still_shows(found, changes)
        if good:
            checked.still_good(note, changes.up_to)
        return good

    def search() -> tuple[str | None, str]:
        ranking, at, part = _list_results(today)
        return (None if at is None or not kept_results.keepable(ranking)
                else kept_results.found(ranking, at).note()), part

    return checked_fragment(_search_key("list", today), still_good, search)


def _search_parts(view: str, today: date) -> tuple[dict[str, Any], listings.Filters]:
    search_form, values = _search_form(view, today)
    filters = listings.Filters(**values, today=today, now=utcnow(),
                               page=max(1, request.args.get("page", 1, type=page_number)))
    return {"search_form": search_form, "view": view, "link": _search_link()}, filters


def _map_results(today: date) -> str:
    """The search form and the sites of what it finds, for the reader's municipality."""
    shown, filters = _search_parts("map", today)
    on_map = listings.map_points(db_session, viewer=current_user, filters=filters)
    points = on_map.points
    markers = [{"name": p.name, "locality": p.locality, "lat": p.latitude, "lng": p.longitude, "count": p.count,
                "listings": [{"title": title, "url": url_for(".detail", listing_id=listing_id)}
                             for listing_id, title in p.listings]} for p in points]
    return render_part("catalog/_search.html", **shown, points=points, markers=markers,
                       total=sum(point.count for point in points), place=on_map.place,
                       unmatched_place=on_map.unmatched_place)


def _list_results(today: date) -> tuple[listings.Ranking, revision.Revision | None, str]:
    """The search form and a page of what it finds, for the reader's municipality, with the
    ranking it is a page of and where the catalog stood before it was searched."""
    shown, filters = _search_parts("list", today)
    at = revision.now(db_session)  # before the search: a change meanwhile is checked again
    ranking = listings.rank(db_session, viewer=current_user, filters=filters)
    origin = None
    if filters.sort == "distance" and filters.near_site_id is not None:
        site = db_session.get(Site, filters.near_site_id)
        if site is not None and site.municipality_id == current_user.municipality_id:  # only one's own
            origin = (site.latitude, site.longitude)
    page = cards.page_of(db_session, ranking, filters, locale=str(get_locale()), origin=origin)
    return ranking, at, render_part("catalog/_search.html", **shown, page=page, total=page.total,
                                     place=page.place, unmatched_place=page.unmatched_place,
                                     cards=cards.rendered(page.items))


URL_SAFE = "!$'()*,/:;?@"  # what url_for leaves unquoted in a query string (Werkzeug's urls._urlencode)


def _search_link() -> Callable[..., str]:
    """Writes this search's links to its other pages and views, ``link(page=2)``, as url_for
    would (what is given first, then the search's arguments), for a tenth of the work: url_for
    encodes the search's arguments anew for each link."""
    base = url_for("catalog.browse")
    kept: list[tuple[str, object]] = [
        (name, value) for name, values in link_arguments(exclude=("page", "view")).items() for value in values]

    def link(**first: object) -> str:
        given = [(name, value) for name, value in first.items() if value is not None]
        query = urlencode(given + kept, safe=URL_SAFE)
        return f"{base}?{query}" if query else base

    return link


SearchValues = dict[str, Any]  # the Filters' fields that the search's arguments give (not today, not the page)
WORDS_SLOT = Markup("<!-- the search's words -->")  # where the words' field goes in the rest of the form


def _search_form(view: str, today: date) -> tuple[Markup, SearchValues]:
    """The search form, and the filters read from it, in the reader's language with their
    municipality's choices. Many searches ask alike, a word or two under a few filters: each
    worker keeps the words' field by the words, and the rest of the form by the filters."""
    choices, fingerprint = _filter_choices_kept()
    locale = str(get_locale())
    filter_args = urlencode([(name, value) for name, value in request.args.items(multi=True)
                             if name not in ("q", "page")])
    forms: KeptInMemory[tuple[Markup, Markup, SearchValues]] = current_app.extensions["sharing.catalog.search_forms"]
    before, after, values = forms.get_or_make(
        (locale, current_user.municipality_id, fingerprint, today, view, filter_args, request.script_root),
        lambda: _make_search_form(view, today, choices, fingerprint))
    words: KeptInMemory[tuple[Markup, str]] = current_app.extensions["sharing.catalog.search_words"]
    words_field, q = words.get_or_make((locale, request.args.get("q")), _make_words_field)  # the form reads the first
    # Lists of their own: a search must not change what the next one is given.
    return (Markup(before + words_field + after),
            {**values, "q": q, "conditions": list(values["conditions"]), "offers": list(values["offers"])})


def _make_words_field() -> tuple[Markup, str]:
    """The words' field, and the words searched for (none when they are too long)."""
    form = SearchWords(request.args)
    form.validate()
    words = form.q.data or "" if not form.q.errors else ""
    return render_part("catalog/_search_words.html", form=form), words


def _make_search_form(view: str, today: date, choices: FilterChoices,
                      fingerprint: str) -> tuple[Markup, Markup, SearchValues]:
    """The form but for its words, split where they go, and the filters it reads."""
    form = SearchForm(request.args)  # its selects take any id: their choices are needed only to show them
    form.validate()
    values: SearchValues = dict(
        category_id=form.category_id.data, municipality_id=form.municipality_id.data,
        # A stale bookmark may hold values that no longer exist: they are left out, not a 500.
        kind=ResourceKind(form.kind.data) if form.kind.data in set(ResourceKind) else None,
        conditions=tuple(Condition(c) for c in form.condition.data or [] if c in set(Condition)),
        offers=tuple(form.offer.data or []),
        available_from=form.available_from.data if not form.available_from.errors else None,
        available_until=form.available_until.data if not (form.available_until.errors or form.available_from.errors)
        else None,
        near_site_id=form.near_site_id.data,
        within_km=form.within_km.data if not form.within_km.errors else None,
        sort=form.sort.data if form.sort.data in listings.SORTS else "relevance",
    )
    form.category_id.choices, form.municipality_id.choices, form.near_site_id.choices = choices
    # The filters are the same for most searches (none but the words): kept apart, and shared
    # by the workers, they are rendered once for all of them.
    filter_fields = cached_fragment(_filters_key(fingerprint, today), lambda: render_part(
        "catalog/_search_filters.html", form=form, view=view))
    rest = render_part(
        "catalog/_search_form.html", view=view, filter_fields=filter_fields, words_field=WORDS_SLOT,
        active_filters=len({name for name in FILTER_ARGUMENTS if request.args.get(name)}),
        filter_errors=any(getattr(form, name).errors for name in FILTER_ARGUMENTS))
    before, after = Markup(rest).split(WORDS_SLOT)
    return Markup(before), Markup(after), values


FilterChoices = tuple[list[tuple[object, str]], ...]
SEARCH_FORMS_KEPT = 500  # per worker: a form is some 10 kB
SEARCH_WORDS_KEPT = 2000  # per worker: the words' field is some 300 bytes
KEPT_PAGES_CHECKED = 2000  # per worker: as many as the pages kept (PAGE_CACHE_ENTRIES)


def init_app(app: Flask) -> None:
    """What the search keeps in each worker's memory: its forms, and the listings' cards."""
    app.extensions["sharing.catalog.search_forms"] = KeptInMemory(SEARCH_FORMS_KEPT)
    app.extensions["sharing.catalog.search_words"] = KeptInMemory(SEARCH_WORDS_KEPT)
    app.extensions["sharing.catalog.kept_checked"] = kept_results.CheckedUpTo(KEPT_PAGES_CHECKED)
    cards.init_app(app)


def _filter_choices_kept() -> tuple[FilterChoices, str]:
    """The filters' choices (categories, municipalities, the reader's own sites), and a digest
    of them: alike for everyone of a municipality and language, so kept per catalog revision
    rather than read and sorted anew for every search."""
    return revision.kept(
        db_session, ("catalog.search.choices", str(get_locale()), current_user.municipality_id), _filter_choices,
        max_age=current_app.config["SEARCH_LAG_SECONDS"])


def _filter_choices() -> tuple[FilterChoices, str]:
    municipalities = db_session.scalars(select(Municipality).where(col(Municipality.active))
                                        .order_by(Municipality.name)).all()
    choices: FilterChoices = (_category_choices(_("All categories")),
                              [("", _("All municipalities"))] + [(m.id, m.name) for m in municipalities],
                              [("", _("Anywhere"))] + [(s.id, s.name) for s in _own_sites()])
    digest = hashlib.sha256(repr([[(str(value), str(label)) for value, label in field] for field in choices])
                            .encode()).hexdigest()
    return choices, digest


def _filters_key(fingerprint: str, today: date) -> str:
    """What the filter panel shows: its choices (categories, municipalities, the reader's sites)
    and the filters chosen, in the reader's language. Not the catalog's revision: a listing's
    change, many a second, leaves the panel as it was."""
    args = urlencode([(name, value) for name, value in request.args.items(multi=True) if name not in ("q", "page")])
    return (f"catalog.search.filters:{get_locale()}:{today}:"
            + hashlib.sha256(repr((fingerprint, args)).encode()).hexdigest())


CALENDAR_WEEKS = 6


@dataclass(frozen=True)
class ShownListing:
    """A listing as its page shows it, for the parts higher domains add (``add_listing_panel``):
    what the page has already read, so that a part need not read it again."""

    listing: Listing
    today: date
    # Free pieces day by day, from this week's Monday for CALENDAR_WEEKS weeks (today's four
    # weeks ahead included); empty when the listing cannot be booked now.
    calendar: list[holds.Day]
    now: datetime  # what the calendar was read as of (``today`` is its day in Sweden)


ListingPanel = Callable[[ShownListing], str]


def _municipality_names(history: transfers.History) -> dict[int, str]:
    """The names the listing's history mentions (none read when it has none)."""
    ids = {i for moved in history.came_from + history.passed_on
           for i in (moved.from_municipality_id, moved.to_municipality_id)}
    if not ids:
        return {}
    rows = db_session.execute(select(col(Municipality.id), col(Municipality.name)).where(col(Municipality.id).in_(ids)))
    return {id_: name for id_, name in rows}


@dataclass(frozen=True)
class Availability:
    """A calendar as its table shows it: the weekdays' names (short, full) from its first day on,
    and week by week its ISO number and its days' cells."""

    weekdays: tuple[tuple[str, str], ...]
    weeks: list[tuple[int, Markup]]


@functools.lru_cache(maxsize=32)
def _weekday_names(locale: str, first: int) -> tuple[tuple[str, str], ...]:
    monday = date(2024, 1, 1)
    days = [monday + timedelta(days=(first + n) % 7) for n in range(7)]
    return tuple((format_date(day, "EEE", locale=locale), format_date(day, "EEEE", locale=locale)) for day in days)


_CELL = '<td class="{}"><span class="day">{}/{}</span><span class="{}">{}</span></td>'


def weeks_ahead(listing: Listing, now: datetime) -> list[holds.Day]:
    """Free pieces day by day as known at ``now``, from this week's Monday (in Sweden) for
    CALENDAR_WEEKS weeks: whole weeks, each row of the table under its number."""
    today = today_in_sweden(now)
    monday = today - timedelta(days=today.weekday())
    return holds.calendar(db_session, listing, first=monday, count=CALENDAR_WEEKS * 7, now=now)


def availability(calendar: list[holds.Day], *, quantity: int, today: date) -> Availability:
    """The table of ``calendar`` (catalog/_availability.html), in the reader's language. A page
    shows six weeks of days: their cells are put together here, and what a cell says is worked
    out once per number of free pieces, not once per day."""
    said: dict[int, str] = {}

    def saying(free: int) -> str:
        if free not in said:
            said[free] = escape((_("free") if free else _("booked")) if quantity == 1 else
                                ngettext("%(num)d free", "%(num)d free", free))
        return said[free]

    past = escape(_("past"))
    weeks = []
    for n in range(0, len(calendar), 7):
        cells = []
        for day in calendar[n:n + 7]:
            if day.day < today:
                cells.append(_CELL.format("past", day.day.day, day.day.month, "visually-hidden", past))
            else:
                state = "none-free" if day.free == 0 else ("some-free" if day.free < quantity else "all-free")
                cells.append(_CELL.format(state, day.day.day, day.day.month, "free", saying(day.free)))
        weeks.append((calendar[n].day.isocalendar()[1], Markup("".join(cells))))
    return Availability(_weekday_names(str(get_locale()), calendar[0].day.weekday()) if calendar else (), weeks)


def add_called_off_count(app: Flask, count: Callable[[Session, int], int]) -> None:
    """Let a higher domain say how many of its records withdrawing a listing calls off (loans: the
    requests for it not yet handed over), for the page that asks first, without the catalog
    knowing of them. ``count`` is given the session and the listing's id."""
    app.extensions.setdefault("sharing.catalog.called_off_counts", []).append(count)


def add_listing_panel(app: Flask, panel: ListingPanel) -> None:
    """Let a higher domain add a part to every listing's page (loans: the form to ask for it),
    without the catalog knowing of it. ``panel`` renders it for the signed-in user, or "" for none
    (and should find that out before reading anything: it runs for every page)."""
    app.extensions.setdefault("sharing.catalog.listing_panels", []).append(panel)


# Built once: every listing page asks for where the listing is, whose it is, whom to contact
# and how many loans it made, in one read (each statement costs a round trip and its ORM work).
_SITE_AND_MUNICIPALITY = select(Site, Municipality, User, transfers.LOANS_OF_LISTING).select_from(Site) \
    .join(Municipality, col(Municipality.id) == bindparam("municipality_id")) \
    .outerjoin(User, col(User.id) == bindparam("contact_user_id")) \
    .where(col(Site.id) == bindparam("site_id"))


@blueprint.get("/<int:listing_id>")
@allow(SIGNED_IN)
def detail(listing_id: int) -> str | tuple[str, int]:
    try:
        listing = listings.listing_to_see(db_session, current_user, listing_id)
    except NotVisible:
        # Often a label's QR code on a thing that is no longer listed: say why that may be,
        # and what to do, without telling whether it exists.
        return render_template("catalog/not_shown.html"), 404
    site, municipality, contact, loans = db_session.execute(_SITE_AND_MUNICIPALITY, {
        "site_id": listing.site_id, "municipality_id": listing.municipality_id,
        "contact_user_id": listing.contact_user_id, "listing_id": listing.id}).one()
    path = listings.category_path(db_session, listing.category_id)
    factor = current_factor(db_session, listing.category_id, line=path[::-1])
    now = utcnow()
    today = today_in_sweden(now)
    calendar = weeks_ahead(listing, now) if listing.status in holds.BOOKABLE else []
    history = transfers.history(db_session, listing, loans=loans)
    shown = ShownListing(listing=listing, today=today, calendar=calendar, now=now)
    panels = [Markup(panel(shown)) for panel in current_app.extensions.get("sharing.catalog.listing_panels", [])]
    return render_template("catalog/detail.html", listing=listing, site=site, contact=contact, path=path,
                           factor=factor, can_manage=listings.can_manage(current_user, listing),
                           photos=photos.photos_of(db_session, id_of(listing)),
                           manual_steps=listings.manual_steps(listing),
                           municipality=municipality,
                           availability=availability(calendar, quantity=listing.quantity, today=today),
                           history=history, municipality_names=_municipality_names(history),
                           today=today, panels=[panel for panel in panels if panel])


# --- Listing ----------------------------------------------------------------------------

@blueprint.get("/mine")
@allow(Role.FACILITY_MANAGER)
def mine() -> str:
    status = request.args.get("status", "")
    q = request.args.get("q", "")[:200]
    page = listings.owned(db_session, municipality_id=current_user.municipality_id,
                          status=ListingStatus(status) if status in set(ListingStatus) else None, q=q,
                          page=max(1, request.args.get("page", 1, type=page_number)))
    args = link_arguments(exclude=("page",))
    return render_template("catalog/mine.html", listings=page.items, page=page, query_args=args, status=status, q=q,
                           covers=photos.covers(db_session, [id_of(listing) for listing in page.items]))


def _listing_form(listing: Listing | None = None) -> ListingForm:
    form = ListingForm(obj=listing) if listing is not None else NewListingForm()
    # Nothing is chosen for the user: a preselected first category or site filed things wrongly.
    form.category_id.choices = _category_choices(_("Choose a category …"))
    sites = _own_sites()
    form.site_id.choices = [("", _("Choose where it is …"))] + [(s.id, f"{s.name}, {s.locality}") for s in sites]
    if listing is None and not form.is_submitted() and len(sites) == 1:
        form.site_id.data = sites[0].id  # the only choice there is
    managers = db_session.scalars(
        select(User).join(RoleGrant).where(col(User.municipality_id) == current_user.municipality_id, col(User.active),
                                           col(RoleGrant.role) == Role.FACILITY_MANAGER.value).order_by(col(User.name))
    ).all()
    form.contact_user_id.choices = [("", _("Nobody in particular"))] + [(u.id, u.name) for u in managers]
    if listing is None and not form.is_submitted():
        form.contact_user_id.data = current_user.id
    return form


def _details(form: ListingForm) -> ListingDetails:
    values = {name: form[name].data for name in ListingDetails.model_fields}
    values["condition"] = values["condition"] or None  # "" when none is chosen (places and services)
    return listings.details_from({name: value for name, value in values.items() if value is not None})


@blueprint.route("/new", methods=["GET", "POST"])
@allow(Role.FACILITY_MANAGER)
def new() -> str | Response:
    form = _listing_form()
    if form.validate_on_submit():
        try:
            listing = listings.save_listing(db_session, details=_details(form), by=current_user, now=utcnow())
            chosen = photo_uploads(form.photos.data)
            if chosen:
                photos.add_photos(db_session, listing=listing, uploads=chosen, by=current_user, now=utcnow(),
                                  store=photos.PhotoStore.from_config(current_app.config))
        except DomainError as error:
            db_session.rollback()  # a refused photo keeps the listing from being saved too: all or nothing
            show_error(form, error)
        else:
            db_session.commit()
            log.info("listing %s created by user %s with %d photos", listing.id, current_user.id, len(chosen))
            flash(_("The listing is saved as a draft. Publish it when it is ready."), "success")
            return redirect(url_for("catalog.detail", listing_id=listing.id))
    return render_template("catalog/form.html", form=form, listing=None)


@blueprint.route("/<int:listing_id>/edit", methods=["GET", "POST"])
@allow(Role.FACILITY_MANAGER)
def edit(listing_id: int) -> str | Response:
    listing = listings.listing_to_manage(db_session, current_user, listing_id)
    form = _listing_form(listing)
    if form.validate_on_submit():
        try:
            listings.save_listing(db_session, details=_details(form), by=current_user, now=utcnow(), listing=listing)
        except DomainError as error:
            show_error(form, error)
        else:
            db_session.commit()
            flash(_("The listing is saved."), "success")
            return redirect(url_for("catalog.detail", listing_id=listing.id))
    return render_template("catalog/form.html", form=form, listing=listing)


@blueprint.get("/<int:listing_id>/withdraw")
@allow(Role.FACILITY_MANAGER)
def confirm_withdraw(listing_id: int) -> str | Response:
    """Withdrawing asks first: a page of its own, so that it works without JavaScript."""
    listing = listings.listing_to_manage(db_session, current_user, listing_id)
    if ListingStatus.WITHDRAWN not in listings.manual_steps(listing):
        return redirect(url_for("catalog.detail", listing_id=listing.id))
    counts = current_app.extensions.get("sharing.catalog.called_off_counts", [])
    return render_template("catalog/withdraw.html", listing=listing,
                           called_off=sum(count(db_session, id_of(listing)) for count in counts))


@blueprint.post("/<int:listing_id>/status")
@allow(Role.FACILITY_MANAGER)
def change_status(listing_id: int) -> Response:
    listing = listings.listing_to_manage(db_session, current_user, listing_id)
    try:
        target = ListingStatus(request.form.get("status", ""))
        listings.set_status(db_session, listing=listing, to=target, by=current_user, now=utcnow())
    except ValueError:
        abort(400)
    except DomainError as error:
        if target == ListingStatus.PUBLISHED:  # every rule the listing breaks, corrected in one round
            flash_refusal(error, lead=_("The listing cannot be published until you have corrected this:"))
        else:
            flash(refusal(error), "error")
    else:
        db_session.commit()
        log.info("listing %s %s by user %s", listing.id, target.value, current_user.id)
        flash(_("The listing is now “%(status)s”.", status=STATUS_LABELS[target]), "success")
    return redirect(url_for("catalog.detail", listing_id=listing.id))


@blueprint.post("/<int:listing_id>/duplicate")
@allow(Role.FACILITY_MANAGER)
def duplicate(listing_id: int) -> Response:
    listing = listings.listing_to_manage(db_session, current_user, listing_id)
    copy = listings.duplicate(db_session, listing=listing, by=current_user, now=utcnow())
    db_session.commit()
    flash(_("A copy is saved as a draft. Change what differs, then publish it."), "success")
    return redirect(url_for("catalog.edit", listing_id=copy.id))
