"""The queue on the pages: joining from a listing's page or from a refused request, leaving,
and the user's own queue places. A listing's facility managers see how many wait, never who."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlmodel import col
from werkzeug.wrappers import Response

from sharing.access import SIGNED_IN, allow
from sharing.catalog.categories.models import ResourceKind
from sharing.catalog.holds import rules as holds
from sharing.catalog.listings.models import Listing
from sharing.catalog.listings.rules import can_manage, listing_to_see
from sharing.catalog.listings.views import ShownListing
from sharing.clock import utcnow
from sharing.db import db_session
from sharing.errors import DomainError
from sharing.loans.queue import rules as queue
from sharing.loans.queue.forms import PREFIX, JoinForm
from sharing.web.forms import refusal, show_error
from sharing.web.fragments import rendered_once

blueprint = Blueprint("queue", __name__, url_prefix="/loans/queue", template_folder="templates")
log = logging.getLogger("sharing.loans")
LOOK_AHEAD_DAYS = 28  # the listing's panel offers the queue when a day this far ahead has nothing free


def offer(listing: Listing, *, quantity: int, first_day: date, last_day: date | None, now: datetime,
          free: int | None = None) -> JoinForm | None:
    """The form to join the queue for what a refused request asked, if too few pieces are free
    for it (``free``: as many as the refusal found, else they are counted as known at ``now``)."""
    if not queue.queueable(listing) or quantity > listing.quantity:
        return None
    try:
        period = holds.days(first_day, last_day)
    except DomainError:
        return None
    if (free if free is not None else holds.free_pieces(db_session, listing, period, now=now)) >= quantity:
        return None
    return JoinForm(formdata=None, prefix=PREFIX, quantity=quantity, first_day=first_day,
                    last_day=last_day if listing.lend else None).fit(give_away=listing.give_away)


def queue_panel(shown: ShownListing) -> str:
    """The listing page's part of the queue: the user's places in it, the form to join when
    something is booked out, and for the owner's facility managers how many wait."""
    listing = shown.listing
    if not queue.queueable(listing):
        return ""
    assert listing.id is not None
    places = queue.places_of(db_session, current_user, listing_id=listing.id)
    count = queue.waiting_count(db_session, listing_id=listing.id) if can_manage(current_user, listing) else None
    today = shown.today
    # Nothing free on some day of the coming weeks: the page's calendar says, or one look at the holds.
    last = today + timedelta(days=LOOK_AHEAD_DAYS - 1)
    least = holds.least_free(shown.calendar, today, last)
    if least is None:
        least = holds.free_pieces(db_session, listing, holds.days(today, last), now=shown.now)
    fields = None
    if least == 0:  # the form's fields are blank, alike for many pages: rendered once per such key
        thing, lend, give_away = listing.kind == ResourceKind.THING, listing.lend, listing.give_away
        fields = rendered_once(("loans.queue-fields", str(get_locale()), today, thing, lend, give_away),
                               lambda: render_template(
                                   "loans/_queue_join_fields.html", thing=thing, lend=lend,
                                   form=JoinForm(formdata=None, prefix=PREFIX, first_day=today).fit(
                                       give_away=give_away)))
    if not places and count is None and fields is None:
        return ""
    return render_template("loans/_queue_panel.html", listing=listing, places=places, waiting_count=count,
                           fields=fields)


@blueprint.post("/join/<int:listing_id>")
@allow(SIGNED_IN)
def join(listing_id: int) -> ResponseReturnValue:
    listing = listing_to_see(db_session, current_user, listing_id)
    form = JoinForm(prefix=PREFIX).fit(give_away=listing.give_away)
    back = redirect(url_for("catalog.detail", listing_id=listing_id))
    if not form.validate_on_submit():
        return _join_page(listing, form)
    assert form.first_day.data is not None  # the form requires it
    wish = queue.Wish(quantity=form.quantity.data or 0, first_day=form.first_day.data, last_day=form.last_day.data)
    try:
        entry = queue.join(db_session, listing_id=listing.id or 0, wish=wish, by=current_user, now=utcnow())
        place = queue.position(db_session, entry)
    except DomainError as error:
        db_session.rollback()
        show_error(form, error)
        return _join_page(listing, form)
    db_session.commit()
    log.info("queue entry %s for listing %s made by user %s", entry.id, listing_id, current_user.id)
    flash(_("You are number %(n)d in the queue. You will be told in the service and by e-mail when pieces come "
            "free: they are not booked for you, so ask for them as soon as you can.", n=place or 1), "success")
    return back


def _join_page(listing: Listing, form: JoinForm) -> ResponseReturnValue:
    """The form again, on a page of its own, with what was asked and what is wrong with it."""
    return render_template("loans/queue_join.html", listing=listing, form=form), 422


@blueprint.post("/<int:entry_id>/leave")
@allow(SIGNED_IN)
def leave(entry_id: int) -> Response:
    entry = queue.entry_to_see(db_session, current_user, entry_id)
    listing_id = entry.listing_id
    try:
        queue.leave(db_session, entry, by=current_user, now=utcnow())
    except DomainError as error:
        db_session.rollback()
        flash(refusal(error), "error")
    else:
        db_session.commit()
        flash(_("You have left the queue."), "success")
    if request.form.get("back") == "listing":
        return redirect(url_for("catalog.detail", listing_id=listing_id))
    return redirect(url_for("queue.index"))


@blueprint.get("/")
@allow(SIGNED_IN)
def index() -> str:
    places = queue.places_of(db_session, current_user)
    wanted = {place.entry.listing_id for place in places}
    titles = {row[0]: row[1] for row in db_session.execute(
        select(col(Listing.id), col(Listing.title)).where(col(Listing.id).in_(wanted)))} if wanted else {}
    return render_template("loans/queue.html", places=places, listings=titles)
