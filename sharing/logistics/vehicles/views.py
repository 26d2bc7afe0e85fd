"""Vehicles, for transport coordinators and municipality administrators: the list, adding one,
changing one of their own municipality's, taking one out of use and back."""

from __future__ import annotations

import logging

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlmodel import col
from werkzeug.wrappers import Response

from sharing.access import allow
from sharing.accounts.models import Role, Site
from sharing.clock import utcnow
from sharing.db import db_session
from sharing.errors import DomainError
from sharing.logistics.jobs.rules import municipality_names
from sharing.logistics.vehicles import rules as vehicles
from sharing.logistics.vehicles.factors import DEFAULT_FACTORS
from sharing.logistics.vehicles.forms import VehicleForm
from sharing.logistics.vehicles.models import FuelKind, Vehicle
from sharing.web.forms import show_error

blueprint = Blueprint("vehicles", __name__, url_prefix="/logistics/vehicles", template_folder="templates")
log = logging.getLogger("sharing.logistics")
KEEPERS = (Role.TRANSPORT_COORDINATOR, Role.MUNICIPALITY_ADMIN)


@blueprint.get("/")
@allow(*KEEPERS)
def index() -> str:
    found = vehicles.vehicles_for(db_session, current_user)
    return render_template("logistics/vehicles/index.html", vehicles=found,
                           municipalities=municipality_names(db_session, {v.municipality_id for v in found}),
                           depots=_site_names({v.depot_site_id for v in found}))


def _site_names(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {row[0]: row[1] for row in db_session.execute(select(col(Site.id), col(Site.name))
                                                         .where(col(Site.id).in_(ids)))}


def _form(vehicle: Vehicle | None = None) -> VehicleForm:
    form = VehicleForm(obj=vehicles.details_of(vehicle) if vehicle is not None else None)
    if vehicle is None and request.method == "GET":
        form.fuel.data = FuelKind.DIESEL.value
    sites = db_session.execute(select(col(Site.id), col(Site.name)).where(
        col(Site.municipality_id) == current_user.municipality_id, col(Site.active)).order_by(col(Site.name))).all()
    form.depot_site_id.choices = [("", _("Choose a site")), *((site_id, name) for site_id, name in sites)]
    return form


def _details(form: VehicleForm) -> vehicles.VehicleDetails:
    def number(value: float | None) -> float:
        return value if value is not None else 0.0

    assert form.shift_start.data is not None and form.shift_end.data is not None  # the form requires them
    return vehicles.VehicleDetails(
        name=form.name.data or "", registration=form.registration.data or "", shared=bool(form.shared.data),
        volume_m3=number(form.volume_m3.data), payload_kg=form.payload_kg.data or 0,
        depot_site_id=form.depot_site_id.data or 0, shift_start=form.shift_start.data,
        shift_end=form.shift_end.data, cost_per_km=number(form.cost_per_km.data), fuel=FuelKind(form.fuel.data),
        co2e_kg_per_km=form.co2e_kg_per_km.data,
        co2e_source=form.co2e_source.data or "")


def _save(form: VehicleForm, vehicle: Vehicle | None) -> ResponseReturnValue:
    if form.validate_on_submit():
        details = _details(form)
        if vehicle is not None:
            details.active = vehicle.active
        try:
            saved = vehicles.save_vehicle(db_session, details=details, by=current_user, now=utcnow(), vehicle=vehicle)
        except DomainError as error:
            db_session.rollback()
            show_error(form, error)
        else:
            db_session.commit()
            log.info("vehicle %s saved by user %s", saved.id, current_user.id)
            flash(_("The vehicle is saved."), "success")
            return redirect(url_for(".index"))
    page = render_template("logistics/vehicles/form.html", form=form, vehicle=vehicle,
                           factors=list(DEFAULT_FACTORS.items()))
    return page, 422 if form.errors else 200


@blueprint.route("/new", methods=["GET", "POST"])
@allow(*KEEPERS)
def new() -> ResponseReturnValue:
    return _save(_form(), None)


@blueprint.route("/<int:vehicle_id>", methods=["GET", "POST"])
@allow(*KEEPERS)
def edit(vehicle_id: int) -> ResponseReturnValue:
    vehicle = vehicles.vehicle_to_edit(db_session, current_user, vehicle_id)
    return _save(_form(vehicle), vehicle)


@blueprint.post("/<int:vehicle_id>/active")
@allow(*KEEPERS)
def set_active(vehicle_id: int) -> Response:
    vehicle = vehicles.vehicle_to_edit(db_session, current_user, vehicle_id)
    active = request.form.get("active") == "1"
    vehicles.set_active(db_session, vehicle, active=active, by=current_user, now=utcnow())
    db_session.commit()
    flash(_("%(name)s is in use again.", name=vehicle.name) if active
          else _("%(name)s is taken out of use: it is no longer used in planning.", name=vehicle.name), "success")
    return redirect(url_for(".index"))
