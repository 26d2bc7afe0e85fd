"""Photos of listings: the facility managers' page to add, order, describe and remove them, and
the photo files themselves, for everyone who may see the listing."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from sharing.access import SIGNED_IN, allow
from sharing.accounts.models import Role
from sharing.catalog.listings import rules as listings
from sharing.catalog.listings.models import Listing
from sharing.catalog.photos import rules as photos
from sharing.catalog.photos.files import allow_photo_request, photo_store, send_photo
from sharing.catalog.photos.forms import PhotoDescriptionForm, PhotoUploadForm, uploads
from sharing.catalog.photos.models import ListingPhoto
from sharing.clock import utcnow
from sharing.db import db_session
from sharing.errors import DomainError
from sharing.typed import id_of
from sharing.web.forms import refusal, show_error

log = logging.getLogger("sharing.catalog")
blueprint = Blueprint("photos", __name__, url_prefix="/catalog", template_folder="templates")
# The views whose requests may carry photos (the API's upload sets its own limit the same way).
UPLOAD_ENDPOINTS = {"catalog.new", "photos.manage"}


@blueprint.app_url_value_preprocessor
def make_room_for_photos(endpoint: str | None, values: dict[str, Any] | None) -> None:
    if endpoint in UPLOAD_ENDPOINTS and request.method == "POST":
        allow_photo_request()


def photo_size(photo: ListingPhoto, rendition: str) -> tuple[int, int]:
    return photos.rendition_size(photo, rendition)


@blueprint.get("/photos/<key>/<rendition>.jpg")
@allow(SIGNED_IN)
def file(key: str, rendition: str) -> Response:
    return send_photo(key, rendition)


def _page(listing: Listing, form: PhotoUploadForm) -> str:
    shown = photos.photos_of(db_session, id_of(listing))
    descriptions = {}
    for shown_photo in shown:
        description = PhotoDescriptionForm(prefix=f"photo-{shown_photo.id}", formdata=None)
        description.alt_text.data = shown_photo.alt_text
        descriptions[shown_photo.id] = description
    form.photos.description = _(
        "%(help)s At most %(megabytes)s MB a photo, and %(most)d photos a listing.", help=form.photos.description,
        megabytes=photo_store().megabytes, most=photos.MAX_PHOTOS_PER_LISTING)
    return render_template("catalog/photos.html", listing=listing, form=form, photos=shown,
                           descriptions=descriptions, room=photos.MAX_PHOTOS_PER_LISTING - len(shown))


@blueprint.route("/<int:listing_id>/photos", methods=["GET", "POST"])
@allow(Role.FACILITY_MANAGER)
def manage(listing_id: int) -> str | Response:
    listing = listings.listing_to_manage(db_session, current_user, listing_id)
    form = PhotoUploadForm()
    if form.validate_on_submit():
        try:
            added = photos.add_photos(db_session, listing=listing, uploads=uploads(form.photos.data), by=current_user,
                                      now=utcnow(), store=photo_store())
        except DomainError as error:
            db_session.rollback()
            show_error(form, error)
        else:
            db_session.commit()
            log.info("%d photos added to listing %s by user %s", len(added), listing.id, current_user.id)
            flash(_("The photo is added.") if len(added) == 1 else _("%(n)d photos are added.", n=len(added)),
                  "success")
            return redirect(url_for("photos.manage", listing_id=listing.id))
    return _page(listing, form)


def _managed_photo(listing_id: int, photo_id: int) -> tuple[Listing, ListingPhoto]:
    listing = listings.listing_to_manage(db_session, current_user, listing_id)
    return listing, photos.photo_of(db_session, listing, photo_id)


def _back(listing: Listing, photo_id: int | None = None) -> Response:
    return redirect(url_for("photos.manage", listing_id=listing.id, _anchor=f"photo-{photo_id}" if photo_id else None))


@blueprint.post("/<int:listing_id>/photos/<int:photo_id>/move")
@allow(Role.FACILITY_MANAGER)
def move(listing_id: int, photo_id: int) -> Response:
    listing, found = _managed_photo(listing_id, photo_id)
    to = request.form.get("to", "")
    if to not in photos.MOVES:
        abort(400)
    try:
        photos.move_photo(db_session, listing=listing, photo=found, to=to, by=current_user, now=utcnow())
    except DomainError as error:
        flash(refusal(error), "error")
    else:
        db_session.commit()
        flash(_("The photo is now the cover.") if to == "cover" else _("The photo is moved."), "success")
    return _back(listing, photo_id)


@blueprint.post("/<int:listing_id>/photos/<int:photo_id>/description")
@allow(Role.FACILITY_MANAGER)
def describe(listing_id: int, photo_id: int) -> Response | str:
    listing, found = _managed_photo(listing_id, photo_id)
    form = PhotoDescriptionForm(prefix=f"photo-{photo_id}")
    if not form.validate_on_submit():
        for message in (message for messages in form.errors.values() for message in messages):
            flash(str(message), "error")
        return _back(listing, photo_id)
    try:
        photos.describe_photo(db_session, listing=listing, photo=found, alt_text=form.alt_text.data or "",
                              by=current_user, now=utcnow())
    except DomainError as error:
        flash(refusal(error), "error")
    else:
        db_session.commit()
        flash(_("The description is saved."), "success")
    return _back(listing, photo_id)


@blueprint.post("/<int:listing_id>/photos/<int:photo_id>/delete")
@allow(Role.FACILITY_MANAGER)
def delete(listing_id: int, photo_id: int) -> Response:
    listing, found = _managed_photo(listing_id, photo_id)
    try:
        photos.remove_photo(db_session, listing=listing, photo=found, by=current_user, now=utcnow(),
                            store=photo_store())
    except DomainError as error:
        flash(refusal(error), "error")
    else:
        db_session.commit()
        log.info("photo %s of listing %s removed by user %s", photo_id, listing.id, current_user.id)
        flash(_("The photo is removed."), "success")
    return _back(listing)
