"""QR labels for listings: choose how to print, then a PDF sheet for label stock.

Facility managers print labels for their own municipality's listings only. The QR code holds
the listing's address built from SHARING_BASE_URL, never from the request's Host header.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import to_user_timezone
from flask_login import current_user
from sqlalchemy import select
from sqlmodel import col
from werkzeug.wrappers import Response

from sharing.access import allow
from sharing.accounts.models import Municipality, Role
from sharing.catalog.listings import rules as listings
from sharing.catalog.listings.models import Listing
from sharing.catalog.qr_labels import sheet as qr_sheet
from sharing.catalog.qr_labels.forms import LabelSheetForm
from sharing.clock import utcnow
from sharing.db import db_session
from sharing.errors import DomainError
from sharing.typed import id_of
from sharing.web.arguments import record_id
from sharing.web.forms import show_error

blueprint = Blueprint("qr_labels", __name__, url_prefix="/catalog", template_folder="templates")
log = logging.getLogger("sharing.catalog")


def _chosen() -> list[Listing]:
    """The listings asked for (``?listing=1&listing=2``), in that order; another
    municipality's listing ends the request, as on its own page."""
    ids = list(dict.fromkeys(request.args.getlist("listing", type=record_id)))
    # One query for all; held here, each is then found in the session (which holds rows weakly).
    _loaded = db_session.scalars(select(Listing).where(col(Listing.id).in_(ids))).all() if ids else []
    return [listings.listing_to_manage(db_session, current_user, listing_id) for listing_id in ids]


def listing_url(listing_id: int) -> str:
    """The listing's absolute address under SHARING_BASE_URL (which may hold a path prefix)."""
    base = urlsplit(current_app.config["SHARING_BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https")
    return adapter.build("catalog.detail", {"listing_id": listing_id}, force_external=True)


def _nothing_chosen() -> Response:
    flash(_("Choose at least one listing to print labels for."), "error")
    return redirect(url_for("catalog.mine"))


def _page(form: LabelSheetForm, chosen: list[Listing]) -> str:
    return render_template("catalog/qr_labels.html", form=form, listings=chosen, per_sheet=qr_sheet.A4_70X37.per_sheet)


@blueprint.get("/labels")
@allow(Role.FACILITY_MANAGER)
def prepare() -> str | Response:
    chosen = _chosen()
    if not chosen:
        return _nothing_chosen()
    return _page(LabelSheetForm(formdata=None), chosen)


@blueprint.get("/labels.pdf")
@allow(Role.FACILITY_MANAGER)
def sheet() -> str | Response:
    chosen = _chosen()
    if not chosen:
        return _nothing_chosen()
    form = LabelSheetForm(request.args)
    if form.validate():
        per_piece = form.copies.data == "piece"
        labels = [qr_sheet.ListingLabel(listing_id=id_of(listing), title=listing.title,
                                          inventory_number=listing.inventory_number, url=listing_url(id_of(listing)),
                                          copies=listing.quantity if per_piece else 1)
                  for listing in chosen]
        municipality = db_session.get_one(Municipality, current_user.municipality_id)
        captions = qr_sheet.Captions(inventory_number=_("Inv. no."), listing_number=_("Listing no."))
        try:
            pdf = qr_sheet.render(labels, municipality=municipality.name, captions=captions,
                                    start=form.start.data or 1, title=_("Labels"))
        except DomainError as error:
            show_error(form, error)
        else:
            log.info("labels of %d listings made by user %s", len(chosen), current_user.id)
            return _pdf_response(pdf, _filename(chosen))
    return _page(form, chosen)


def _filename(chosen: list[Listing]) -> str:
    if len(chosen) == 1:
        return f"etiketter-annons-{chosen[0].id}.pdf"
    return f"etiketter-{to_user_timezone(utcnow()):%Y-%m-%d}.pdf"


def _pdf_response(pdf: bytes, filename: str) -> Response:
    response = Response(pdf, mimetype="application/pdf")
    # Inline: the browser shows it, ready to print. Never cached: the sheet names our things.
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
