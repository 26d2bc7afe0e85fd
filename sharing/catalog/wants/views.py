"""Wanted items: the list, posting and changing one, closing one, and its matching listings."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlmodel import col
from werkzeug.wrappers import Response

from sharing.access import SIGNED_IN, allow
from sharing.accounts.models import Municipality, Role, Unit, User
from sharing.catalog.categories.rules import category_choices
from sharing.catalog.listings import cards as listing_cards
from sharing.catalog.wants import rules as wants
from sharing.catalog.wants.forms import WantFilterForm, WantForm
from sharing.catalog.wants.labels import WANT_STATUS_LABELS
from sharing.catalog.wants.models import Want, WantStatus
from sharing.clock import today_in_sweden, utcnow
from sharing.db import db_session
from sharing.errors import DomainError
from sharing.web.arguments import link_arguments, page_number
from sharing.web.forms import refusal, show_error

blueprint = Blueprint("wants", __name__, url_prefix="/wants", template_folder="templates")
log = logging.getLogger("sharing.catalog")


def _category_choices(blank: str | None = None) -> list[tuple[object, str]]:
    return category_choices(db_session, str(get_locale()), blank)


def _names(model: type[Municipality] | type[Unit], ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = db_session.execute(select(col(model.id), col(model.name)).where(col(model.id).in_(ids))).all()
    return {id_: name for id_, name in rows if id_ is not None}



@blueprint.get("/")
@allow(SIGNED_IN)
def index() -> str:
    form = WantFilterForm(request.args)
    form.category_id.choices = _category_choices(_("All categories"))
    municipalities = db_session.scalars(select(Municipality).where(col(Municipality.active))
                                        .order_by(Municipality.name)).all()
    form.municipality_id.choices = [("", _("All municipalities"))] + [(m.id, m.name) for m in municipalities]
    form.validate()
    is_manager = current_user.has_role(Role.FACILITY_MANAGER)
    filters = wants.WantFilters(
        state=form.state.data if form.state.data in wants.STATES else "open",
        municipality_id=form.municipality_id.data if is_manager else None,
        category_id=form.category_id.data, mine=bool(form.mine.data) or not is_manager,
        page=max(1, request.args.get("page", 1, type=page_number)),
    )
    now = utcnow()
    page = wants.find_wants(db_session, viewer=current_user, filters=filters, now=now)
    args = link_arguments(exclude=("page",))
    return render_template(
        "catalog/wants/index.html", form=form, page=page, query_args=args, is_manager=is_manager,
        can_post=wants.can_post(current_user), today=today_in_sweden(now),
        units=_names(Unit, {w.unit_id for w in page.items}),
        municipalities=_names(Municipality, {w.municipality_id for w in page.items}),
    )


def _details(form: WantForm) -> wants.WantDetails:
    return wants.WantDetails(words=form.words.data or "", category_id=form.category_id.data,
                             quantity=form.quantity.data or 0, needed_by=form.needed_by.data,
                             description=form.description.data or "")


def _want_form(want: Want | None = None) -> WantForm:
    form = WantForm(obj=want)
    form.category_id.choices = _category_choices(_("Any category"))
    return form


@blueprint.route("/new", methods=["GET", "POST"])
@allow(SIGNED_IN)
def new() -> str | Response:
    form = _want_form()
    if form.validate_on_submit():
        try:
            want = wants.post_want(db_session, details=_details(form), by=current_user, now=utcnow())
        except DomainError as error:
            show_error(form, error)
        else:
            db_session.commit()
            log.info("wanted item %s posted by user %s", want.id, current_user.id)
            flash(_("Your wanted item is posted. You will be told when a listing matches it."), "success")
            return redirect(url_for("wants.detail", want_id=want.id))
    return render_template("catalog/wants/form.html", form=form, want=None, can_post=wants.can_post(current_user))


@blueprint.get("/<int:want_id>")
@allow(SIGNED_IN)
def detail(want_id: int) -> str:
    want = wants.want_to_see(db_session, current_user, want_id)
    poster = db_session.get(User, want.posted_by_id) if want.posted_by_id is not None else None
    if poster is not None and poster.erased_at is not None:
        poster = None  # an erased person is no one's contact: the unit shows whose want it is
    today = today_in_sweden(utcnow())
    search_args: dict[str, str | int] = {"q": want.words} if want.words else {}
    if want.category_id is not None:
        search_args["category_id"] = want.category_id
    return render_template(
        "catalog/wants/detail.html", want=want, poster=poster, unit=db_session.get(Unit, want.unit_id),
        municipality=db_session.get(Municipality, want.municipality_id),
        label=wants.label(want, locale=str(get_locale())),
        expired=wants.is_expired(want, today=today), can_edit=wants.can_edit(current_user, want),
        can_close=wants.can_close(current_user, want), search_args=search_args,
        matches=listing_cards.rendered(listing_cards.read(
            db_session, wants.matching_ids(db_session, want=want, viewer=current_user), locale=str(get_locale()))),
    )


@blueprint.route("/<int:want_id>/edit", methods=["GET", "POST"])
@allow(SIGNED_IN)
def edit(want_id: int) -> str | Response:
    want = wants.want_to_edit(db_session, current_user, want_id)
    form = _want_form(want)
    if form.validate_on_submit():
        try:
            wants.edit_want(db_session, want=want, details=_details(form), by=current_user, now=utcnow())
        except DomainError as error:
            show_error(form, error)
        else:
            db_session.commit()
            flash(_("The wanted item is saved."), "success")
            return redirect(url_for("wants.detail", want_id=want.id))
    return render_template("catalog/wants/form.html", form=form, want=want, can_post=True)


@blueprint.post("/<int:want_id>/close")
@allow(SIGNED_IN)
def close(want_id: int) -> Response:
    want = wants.want_to_close(db_session, current_user, want_id)
    try:
        outcome = WantStatus(request.form.get("outcome", ""))
        wants.close_want(db_session, want=want, outcome=outcome, by=current_user, now=utcnow())
    except ValueError:
        abort(400)
    except DomainError as error:
        flash(refusal(error), "error")
    else:
        db_session.commit()
        log.info("wanted item %s closed as %s by user %s", want.id, outcome.value, current_user.id)
        flash(_("The wanted item is closed: “%(status)s”.", status=WANT_STATUS_LABELS[outcome]), "success")
    return redirect(url_for("wants.detail", want_id=want.id))
