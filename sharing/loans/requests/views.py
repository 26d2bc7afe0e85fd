"""Requests: asking from a listing's page, the lists of one's own and incoming requests, and
each request's page with its steps and its thread."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import bindparam, select
from sqlmodel import col
from werkzeug.wrappers import Response

from sharing.access import SIGNED_IN, allow
from sharing.accounts.models import Municipality, Role, Site, Unit, User
from sharing.catalog.categories.models import ResourceKind
from sharing.catalog.categories.views import category_name
from sharing.catalog.holds import rules as holds
from sharing.catalog.listings.labels import CONDITION_LABELS
from sharing.catalog.listings.models import Condition, Listing
from sharing.catalog.listings.rules import listing_to_see
from sharing.catalog.listings.views import ShownListing, availability, weeks_ahead
from sharing.catalog.photos import rules as photos
from sharing.catalog.photos.files import allow_photo_request, photo_store, send_stored
from sharing.catalog.photos.rules import Upload
from sharing.catalog.transfers.models import ListingTransfer
from sharing.clock import SWEDEN, today_in_sweden, utcnow
from sharing.db import db_session
from sharing.errors import DomainError
from sharing.loans import retention
from sharing.loans.queue import views as queue_views
from sharing.loans.requests import rules as loans
from sharing.loans.requests import transfer_document as transfer_pdf
from sharing.loans.requests.facts import facts_of
from sharing.loans.requests.forms import AskForm, DeclineForm, ExtendForm, HandoverForm, MessageForm, ReturnForm
from sharing.loans.requests.labels import KIND_CHOICES, METHOD_LABELS
from sharing.loans.requests.models import HandoverMethod, LoanRequest, RequestKind, RequestStatus
from sharing.web.arguments import page_number
from sharing.web.forms import refusal, show_error
from sharing.web.fragments import rendered_once
from sharing.web.i18n import when

blueprint = Blueprint("loans", __name__, url_prefix="/loans", template_folder="templates")
log = logging.getLogger("sharing.loans")


@blueprint.url_value_preprocessor
def make_room_for_a_photo(endpoint: str | None, values: dict[str, Any] | None) -> None:
    # A return may bring a photo: let the request be large enough before the form is read.
    if endpoint == "loans.take_back" and request.method == "POST":
        allow_photo_request()


# --- Asking -------------------------------------------------------------------------------

def _kinds(listing: Listing, *, swapping: bool) -> list[RequestKind]:
    return [kind for kind, offer in loans.OFFER_OF_KIND.items()
            if getattr(listing, offer) and (swapping or kind != RequestKind.SWAP)]


def _chosen_kind(kinds: list[RequestKind]) -> str | None:
    """The kind the form starts with: the one the address names (?kind=swap), else the first."""
    wanted = request.args.get("kind")
    values = [kind.value for kind in kinds]
    return wanted if wanted in values else (values[0] if values else None)


def _ask_form(listing: Listing, *, swapping: bool = True) -> AskForm:
    """The request form, with what checking it needs (the kinds the listing is offered as).
    The choices only showing it needs are added by ``_offer_choices``."""
    form = AskForm()
    kinds = _kinds(listing, swapping=swapping)
    form.kind.choices = [(kind.value, KIND_CHOICES[kind]) for kind in kinds]
    if form.kind.data is None:
        form.kind.data = _chosen_kind(kinds)
    return form


# Built once: every listing page asks.
_SITES_OF = select(col(Site.id), col(Site.name)).where(
    col(Site.municipality_id) == bindparam("municipality_id"), col(Site.active)).order_by(col(Site.name))


def _delivery_sites() -> list[tuple[int, str]]:
    """The user's municipality's sites, where pieces can be delivered."""
    return [(site_id, name) for site_id, name in db_session.execute(
        _SITES_OF, {"municipality_id": current_user.municipality_id})]


def _offer_choices(form: AskForm, listing: Listing, *, sites: list[tuple[int, str]], swapping: bool = True) -> None:
    """The choices of the form's selects. A swap's choice of one's own listings (hundreds, in a
    large municipality) is offered on the request page alone (``swapping``), not on every listing page."""
    form.delivery_site_id.choices = [("", _("Choose a site")), *sites]
    if listing.swap and swapping:
        own = db_session.execute(select(col(Listing.id), col(Listing.title)).where(
            col(Listing.municipality_id) == current_user.municipality_id, col(Listing.swap),
            col(Listing.status).in_(holds.BOOKABLE), col(Listing.id) != listing.id).order_by(Listing.title)).all()
        form.offered_listing_id.choices = [("", _("Nothing offered"))] + [(item_id, title) for item_id, title in own]


def _fields(form: AskForm, listing: Listing) -> Markup:
    """The form's fields, for the listing's kind and offers."""
    choices = form.offered_listing_id.choices
    return Markup(render_template("loans/_ask_field_list.html", form=form, thing=listing.kind == ResourceKind.THING,
                                  lend=listing.lend, swap=bool(listing.swap and choices and len(choices) > 1)))


def ask_panel(shown: ShownListing) -> str:
    """The listing page's part of loans: the signed-in user's open requests for it, and the form.

    The form's fields are blank and alike for every listing of the same kind and offers, in one
    language, for everyone of one municipality (its sites are the choices): they are rendered
    once for each such key and kept in memory."""
    listing = shown.listing
    if not any(getattr(listing, offer) for offer in loans.OFFER_OF_KIND.values()) or \
            listing.status not in holds.BOOKABLE:
        return ""
    kinds = _kinds(listing, swapping=False)
    sites = _delivery_sites()
    key = ("loans.ask-fields", str(get_locale()), tuple(kinds), _chosen_kind(kinds),
           listing.kind == ResourceKind.THING, listing.lend, tuple(sites))

    def blank_fields() -> Markup:
        form = _ask_form(listing, swapping=False)
        _offer_choices(form, listing, sites=sites, swapping=False)
        return _fields(form, listing)

    return render_template("loans/_ask_panel.html", listing=listing, fields=rendered_once(key, blank_fields),
                           mine=loans.open_requests_for(db_session, current_user, listing.id or 0))


@blueprint.route("/ask/<int:listing_id>", methods=["GET", "POST"])
@allow(SIGNED_IN)
def ask(listing_id: int) -> ResponseReturnValue:
    listing = listing_to_see(db_session, current_user, listing_id)
    form = _ask_form(listing)
    queue_form = None
    now = utcnow()
    if form.validate_on_submit():
        details = _details(form)
        try:
            made = loans.ask(db_session, listing_id=listing_id, details=details, by=current_user, now=now)
        except DomainError as error:
            db_session.rollback()
            show_error(form, error)
            if isinstance(error, holds.NotFree):  # too few free: offer the queue for what was asked
                queue_form = queue_views.offer(listing, quantity=details.quantity, first_day=details.first_day,
                                               last_day=details.last_day, now=now, free=error.free)
        else:
            db_session.commit()
            log.info("request %s for listing %s made by user %s", made.id, listing_id, current_user.id)
            flash(_("Your request is sent. You will be told when it is decided."), "success")
            return redirect(url_for("loans.detail", request_id=made.id))
    _offer_choices(form, listing, sites=_delivery_sites())
    today = today_in_sweden(now)
    calendar = weeks_ahead(listing, now)
    page = render_template("loans/ask.html", listing=listing, fields=_fields(form, listing), form=form,
                           queue_form=queue_form,
                           availability=availability(calendar, quantity=listing.quantity, today=today))
    return page, 422 if form.errors else 200


def _details(form: AskForm) -> loans.RequestDetails:
    kind = RequestKind(form.kind.data)
    assert form.first_day.data is not None  # the form requires it
    return loans.RequestDetails(
        kind=kind, quantity=form.quantity.data or 0, first_day=form.first_day.data,
        last_day=form.last_day.data if kind == RequestKind.BORROW else None,
        delivery_site_id=form.delivery_site_id.data or 0, transport_needed=bool(form.transport_needed.data),
        message=form.message.data or "",
        offered_listing_id=form.offered_listing_id.data if kind == RequestKind.SWAP else None,
        offered_quantity=form.offered_quantity.data if kind == RequestKind.SWAP else None,
        start_time=form.start_time.data, end_time=form.end_time.data)


# --- Lists ----------------------------------------------------------------------------------

@blueprint.get("/")
@allow(SIGNED_IN)
def index() -> str:
    deciding = current_user.has_role(Role.FACILITY_MANAGER)
    # Deciding what others ask for is a facility manager's work here: their list opens on it.
    incoming = deciding and request.args.get("show", "incoming") == "incoming"
    open_only = request.args.get("state", "open") != "all"
    page = loans.requests_of(db_session, current_user, incoming=incoming, open_only=open_only,
                             page=max(1, request.args.get("page", 1, type=page_number)))
    return render_template("loans/index.html", page=page, incoming=incoming, deciding=deciding,
                           open_only=open_only, **_names_for(page.items))


def _names_for(requests: list[LoanRequest]) -> dict[str, dict[int, str]]:
    """What a list or a page of requests names: listings, municipalities, units, sites, people."""
    def names(model: type[Listing] | type[Municipality] | type[Unit] | type[Site] | type[User],
              ids: Iterable[int | None], attribute: str = "name") -> dict[int, str]:
        wanted = {i for i in ids if i is not None}
        if not wanted:
            return {}
        rows = db_session.execute(select(col(model.id), getattr(model, attribute))
                                  .where(col(model.id).in_(wanted))).all()
        return {row[0]: row[1] for row in rows}

    return {
        "listings": names(Listing, [i for r in requests for i in (r.listing_id, r.offered_listing_id)], "title"),
        "municipalities": names(Municipality, [i for r in requests
                                               for i in (r.owner_municipality_id, r.requester_municipality_id)]),
        "units": names(Unit, [r.requester_unit_id for r in requests]),
        "sites": names(Site, [r.delivery_site_id for r in requests]),
        "people": names(User, [i for r in requests for i in (r.requester_id, r.decided_by_id, r.handed_over_by_id,
                                                             r.return_received_by_id)]),
    }


# --- A request ---------------------------------------------------------------------------------

@blueprint.get("/<int:request_id>")
@allow(SIGNED_IN)
def detail(request_id: int) -> str:
    found = loans.request_to_see(db_session, current_user, request_id)
    return _detail_page(found)


def _conditions() -> list[tuple[str, str]]:
    return [("", _("Not noted"))] + [(c.value, str(CONDITION_LABELS[c])) for c in Condition]


def _handover_form(found: LoanRequest) -> HandoverForm:
    form = HandoverForm()
    form.condition.choices = _conditions()
    form.method.choices = [(m.value, str(METHOD_LABELS[m])) for m in HandoverMethod]
    if found.kind == RequestKind.BORROW.value:
        del form.for_good  # a loan comes back
    if form.method.data is None:
        form.method.data = (HandoverMethod.TRANSPORT if found.transport_needed else HandoverMethod.PICKUP).value
    return form


def _return_form() -> ReturnForm:
    form = ReturnForm()
    form.condition.choices = _conditions()
    form.photo.description = _("%(help)s At most %(megabytes)s MB.", help=form.photo.description,
                               megabytes=photo_store().megabytes)
    return form


def _detail_page(found: LoanRequest, **forms: object) -> str:
    thread = loans.thread(db_session, found)
    names = _names_for([found])
    names["people"] |= {user.id: user.name for user in db_session.scalars(
        select(User).where(col(User.id).in_({m.author_id for m in thread if m.author_id}))) if user.id}
    return render_template(
        "loans/detail.html", request_=found, thread=thread,
        is_requester=loans.is_requester(current_user, found), is_owner=loans.is_owner_manager(current_user, found),
        steps=loans.TRANSITIONS[RequestKind(found.kind)].get(RequestStatus(found.status), frozenset()),
        decline_form=forms.get("decline_form") or DeclineForm(),
        handover_form=forms.get("handover_form") or _handover_form(found),
        return_form=forms.get("return_form") or _return_form(),
        extend_form=forms.get("extend_form") or ExtendForm(), message_form=forms.get("message_form") or MessageForm(),
        return_photo_size=photos.fit((found.return_photo_width or 1, found.return_photo_height or 1),
                                     photos.RENDITIONS["card"]),
        today=today_in_sweden(utcnow()), first_day=found.starts_at.astimezone(SWEDEN).date(),
        text_kept_days=retention.REQUEST_TEXT_KEPT.days, request_facts=facts_of(db_session, found), **names)


def _step(request_id: int, take: Callable[[LoanRequest], None], done: str) -> Response:
    """Take a step that needs no form: commit it and say so, or show why it was refused."""
    found = loans.request_to_see(db_session, current_user, request_id)
    try:
        take(found)
    except DomainError as error:
        db_session.rollback()
        flash(refusal(error), "error")
    else:
        db_session.commit()
        flash(done, "success")
    return redirect(url_for("loans.detail", request_id=request_id))


@blueprint.get("/<int:request_id>/transfer.pdf")
@allow(SIGNED_IN)
def transfer_document(request_id: int) -> Response:
    """The transfer document of a take-over or swap that has happened, for both sides' registers."""
    found = loans.request_to_see(db_session, current_user, request_id)
    moved = db_session.scalars(select(ListingTransfer).where(col(ListingTransfer.reference) == loans.holder(found))
                               .order_by(col(ListingTransfer.id))).all()
    if not moved:
        abort(404)
    requester = db_session.get(User, found.requester_id) if found.requester_id else None
    giver = _signatory(found)
    # The unit the request was made for, whatever the person's unit is now (or if they are gone).
    asker = (requester.name if requester else "", _unit_name(found.requester_unit_id))
    passages = [_passage(transfer, giver=giver if n == 0 else asker, receiver=asker if n == 0 else giver,
                         condition=found.handover_condition)
                for n, transfer in enumerate(moved)]
    texts = {"service": _("Delningstjänsten"), "number": _("Document number"), "handed_over": _("Handed over"),
             "from": _("From"), "to": _("To"), "municipality": _("Municipality"), "unit": _("Unit"),
             "site": _("Site"), "what": _("What"), "category": _("Category"), "quantity": _("Pieces"),
             "inventory_number": _("Inventory number"), "condition": _("Condition"),
             "signed_giver": _("For the giving side"), "signed_receiver": _("For the receiving side"),
             "signature_date": _("Signature and date"),
             "footer": _("Ownership of the pieces above passed for good at the handover. Keep a copy in each "
                         "municipality's asset register.")}
    pdf = transfer_pdf.render(title=_("Transfer of ownership"), number=f"DT-{found.id}",
                              handed_over=when(found.handed_over_at, "short"), passages=passages, texts=texts)
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="overlatelse-{found.id}.pdf"'
    return response


def _signatory(found: LoanRequest) -> tuple[str, str]:
    """Who signs for the giving side, and their unit (the listing has none of its own): the
    owner's facility manager who handed over, or who approved."""
    for user_id in ((found.handed_over_by_id if found.handed_over_by_id != found.requester_id else None),
                    found.decided_by_id):
        user = db_session.get(User, user_id) if user_id else None
        if user is not None:
            return user.name, _unit_name(user.unit_id)
    return "", ""


def _unit_name(unit_id: int | None) -> str:
    unit = db_session.get(Unit, unit_id) if unit_id else None
    return unit.name if unit else ""


def _passage(transfer: ListingTransfer, *, giver: tuple[str, str], receiver: tuple[str, str],
             condition: str | None) -> transfer_pdf.Passage:
    """One way the pieces passed; ``giver`` and ``receiver``: who signs for each side, and their unit."""
    received = db_session.get_one(Listing, transfer.to_listing_id)
    # The receiving unit is the request's (``to_unit_id``), where the signatory's may differ.
    receiving_unit = _unit_name(transfer.to_unit_id) or receiver[1]

    def party(municipality_id: int, site_id: int, unit_name: str, signatory: str) -> transfer_pdf.Party:
        municipality, site = db_session.get(Municipality, municipality_id), db_session.get(Site, site_id)
        return transfer_pdf.Party(municipality=municipality.name if municipality else "", unit=unit_name or "–",
                                  site=f"{site.name}, {site.locality}" if site else "", signatory=signatory)

    item = transfer_pdf.Item(title=received.title, category=category_name(received.category),
                             quantity=transfer.quantity, inventory_number=transfer.inventory_number,
                             condition=str(CONDITION_LABELS[Condition(condition)]) if condition else "")
    return transfer_pdf.Passage(giver=party(transfer.from_municipality_id, transfer.from_site_id, giver[1], giver[0]),
                                receiver=party(transfer.to_municipality_id, transfer.to_site_id, receiving_unit,
                                               receiver[0]),
                                items=(item,))


@blueprint.post("/<int:request_id>/approve")
@allow(Role.FACILITY_MANAGER)
def approve(request_id: int) -> Response:
    return _step(request_id, lambda found: loans.approve(db_session, found, by=current_user, now=utcnow()),
                 _("The request is approved."))


@blueprint.post("/<int:request_id>/cancel")
@allow(SIGNED_IN)
def cancel(request_id: int) -> Response:
    return _step(request_id, lambda found: loans.cancel(db_session, found, by=current_user, now=utcnow()),
                 _("The request is cancelled."))


@blueprint.post("/<int:request_id>/confirm")
@allow(SIGNED_IN)
def confirm(request_id: int) -> Response:
    return _step(request_id, lambda found: loans.confirm(db_session, found, by=current_user, now=utcnow()),
                 _("Thank you: your confirmation is noted."))


def _with_form(found: LoanRequest, form_name: str, form: FlaskForm, take: Callable[[LoanRequest], None],
               done: str) -> ResponseReturnValue:
    """Take a step from a form on the request's page: on a refusal, the page again with the form's errors."""
    request_id = found.id
    if form.validate_on_submit():
        try:
            take(found)
        except DomainError as error:
            db_session.rollback()
            show_error(form, error)
        else:
            db_session.commit()
            flash(done, "success")
            return redirect(url_for("loans.detail", request_id=request_id))
    return _detail_page(found, **{form_name: form}), 422


@blueprint.post("/<int:request_id>/decline")
@allow(Role.FACILITY_MANAGER)
def decline(request_id: int) -> ResponseReturnValue:
    found, form = loans.request_to_see(db_session, current_user, request_id), DeclineForm()

    def take(found: LoanRequest) -> None:
        loans.decline(db_session, found, reason=form.reason.data or "", by=current_user, now=utcnow())
    return _with_form(found, "decline_form", form, take, _("The request is declined."))


@blueprint.post("/<int:request_id>/handover")
@allow(SIGNED_IN)
def hand_over(request_id: int) -> ResponseReturnValue:
    found = loans.request_to_see(db_session, current_user, request_id)
    form = _handover_form(found)
    if form.condition.data and form.condition.data not in set(Condition):  # as at the return
        abort(400)

    def take(found: LoanRequest) -> None:
        loans.hand_over(db_session, found, condition=Condition(form.condition.data) if form.condition.data else None,
                        method=HandoverMethod(form.method.data), by=current_user, now=utcnow())
    return _with_form(found, "handover_form", form, take, _("The handover is noted."))


@blueprint.post("/<int:request_id>/return")
@allow(Role.FACILITY_MANAGER)
def take_back(request_id: int) -> ResponseReturnValue:
    found = loans.request_to_see(db_session, current_user, request_id)
    form = _return_form()
    if form.condition.data and form.condition.data not in set(Condition):
        abort(400)

    def take(found: LoanRequest) -> None:
        chosen = form.photo.data
        photo = Upload(chosen.filename, chosen.stream) if chosen and chosen.filename else None
        loans.take_back(db_session, found, condition=Condition(form.condition.data) if form.condition.data else None,
                        remarks=form.remarks.data or "", damage=form.damage.data or "", by=current_user, now=utcnow(),
                        photo=photo, store=photo_store())
    return _with_form(found, "return_form", form, take, _("The return is noted."))


@blueprint.get("/<int:request_id>/return-photo/<key>/<rendition>.jpg")
@allow(SIGNED_IN)
def return_photo(request_id: int, key: str, rendition: str) -> Response:
    """The photo taken at the return, for those who may see the request; a 404 for everyone else."""
    found = loans.request_to_see(db_session, current_user, request_id)
    if found.return_photo_key is None or key != found.return_photo_key or rendition not in photos.RENDITIONS:
        abort(404)
    return send_stored(found.return_photo_key, rendition)


@blueprint.post("/<int:request_id>/extend")
@allow(SIGNED_IN)
def extend(request_id: int) -> ResponseReturnValue:
    found, form = loans.request_to_see(db_session, current_user, request_id), ExtendForm()

    def take(found: LoanRequest) -> None:
        assert form.last_day.data is not None  # the form requires it
        loans.extend(db_session, found, last_day=form.last_day.data, by=current_user, now=utcnow())
    return _with_form(found, "extend_form", form, take, _("The loan is extended."))


@blueprint.post("/<int:request_id>/messages")
@allow(SIGNED_IN)
def write(request_id: int) -> ResponseReturnValue:
    found, form = loans.request_to_see(db_session, current_user, request_id), MessageForm()

    def take(found: LoanRequest) -> None:
        loans.post_message(db_session, found, body=form.body.data or "", by=current_user, now=utcnow())
    return _with_form(found, "message_form", form, take, _("Your message is sent."))
