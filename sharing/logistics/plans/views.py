"""Route plans for coordinators (plan a day, its routes and unserved jobs, pins, planning again)
and the driver's day (the routes, each stop reported done or failed)."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from sharing.access import allow
from sharing.accounts.models import Role
from sharing.catalog.qr_labels.views import listing_url
from sharing.clock import today_in_sweden, utcnow
from sharing.db import db_session
from sharing.errors import DomainError
from sharing.i18n import N_
from sharing.logistics.jobs import rules as jobs
from sharing.logistics.labels import FAILURE_LABELS, PLAN_STATUS_LABELS, UNSERVED_LABELS
from sharing.logistics.plans import driving, rules, runner
from sharing.logistics.plans import sheet as route_sheets
from sharing.logistics.plans.models import FailureReason, PlanStatus
from sharing.logistics.vehicles import rules as vehicles
from sharing.web.arguments import record_id
from sharing.web.forms import refusal

blueprint = Blueprint("route_plans", __name__, url_prefix="/logistics/plans", template_folder="templates")
driver_blueprint = Blueprint("driver", __name__, url_prefix="/logistics/driver", template_folder="templates")
sheet_blueprint = Blueprint("route_sheets", __name__, url_prefix="/logistics/routes", template_folder="templates")
log = logging.getLogger("sharing.logistics")
COORDINATOR = Role.TRANSPORT_COORDINATOR


def _next_working_day(today: date) -> date:
    """The day a coordinator most often plans: the next weekday (a day's plan is made the day before)."""
    day = today + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text or "")
    except ValueError:
        return None


@blueprint.route("/", methods=["GET", "POST"])
@allow(COORDINATOR)
def index() -> ResponseReturnValue:
    usable = vehicles.vehicles_for(db_session, current_user, active_only=True)
    error = None
    if request.method == "POST":
        day = _day(request.form.get("day"))
        chosen = [int(v) for v in request.form.getlist("vehicle_ids") if v.isdigit()]
        seconds = request.form.get("seconds", type=float) or 0.0
        try:
            if day is None:
                raise DomainError(N_("Choose a day."), field="day")
            plan = rules.request_plan(db_session, day=day, vehicle_ids=chosen, seconds=seconds, seed=0,
                                      by=current_user, now=utcnow())
        except DomainError as refused:
            db_session.rollback()
            error = refusal(refused)
        else:
            db_session.commit()
            log.info("route plan %s of %s asked for by user %s", plan.id, plan.day, current_user.id)
            runner.start(plan.id or 0)
            return redirect(url_for(".detail", plan_id=plan.id))
    page = render_template("logistics/plans/index.html", vehicles=usable, error=error,
                           plans=rules.plans_of(db_session, current_user),
                           next_working_day=_next_working_day(today_in_sweden(utcnow())), seconds=3)
    return page, 422 if error else 200


@blueprint.get("/<int:plan_id>")
@allow(COORDINATOR)
def detail(plan_id: int) -> str:
    plan = rules.plan_to_see(db_session, current_user, plan_id)
    db_session.refresh(plan)
    routes = rules.routes_of(db_session, plan) if plan.status in (PlanStatus.DONE.value,
                                                                   PlanStatus.REPLACED.value) else []
    unserved = rules.unserved_of(db_session, plan)
    job_ids = [stop.job_id for view in routes for stop, _, _ in view.stops] + [job.id or 0 for _, job in unserved]
    return render_template("logistics/plans/detail.html", plan=plan, routes=routes, unserved=unserved,
                           pins=rules.pins_of(db_session, job_ids), unserved_labels=UNSERVED_LABELS,
                           planned_by=rules.planned_by(db_session, plan, [job.id or 0 for _, job in unserved]),
                           vehicles=vehicles.vehicles_for(db_session, current_user, active_only=True),
                           waiting=plan.status in (PlanStatus.QUEUED.value, PlanStatus.RUNNING.value),
                           error=_(plan.error) if plan.error else "",  # a rule's msgid, or as it reads
                           can_plan_again=rules.can_plan_again(db_session, plan, today=today_in_sweden(utcnow())))


@blueprint.get("/<int:plan_id>/status")
@allow(COORDINATOR)
def status(plan_id: int) -> Response:
    """How far the planning has come, as JSON, for the plan page's script to follow."""
    plan = rules.plan_to_see(db_session, current_user, plan_id)
    db_session.refresh(plan)
    percent = round(plan.progress * 100)
    label = str(PLAN_STATUS_LABELS[PlanStatus(plan.status)])
    return jsonify(status=plan.status, progress=percent, done=percent, total=100, label=label, text=f"{percent} %",
                   announce=f"{label}: {percent} %",
                   finished=plan.status not in (PlanStatus.QUEUED.value, PlanStatus.RUNNING.value))


@blueprint.post("/<int:plan_id>/pin")
@allow(COORDINATOR)
def pin(plan_id: int) -> Response:
    rules.plan_to_see(db_session, current_user, plan_id)
    # An id from the outside world: one the databases cannot hold names no job (0: not found).
    job = jobs.job_to_see(db_session, current_user, request.form.get("job_id", 0, type=record_id))
    vehicle_id = request.form.get("vehicle_id", 0, type=int) or None
    try:
        rules.pin_job(db_session, job=job, vehicle_id=vehicle_id, by=current_user, now=utcnow())
    except DomainError as refused:
        db_session.rollback()
        flash(refusal(refused), "error")
    else:
        db_session.commit()
        flash(_("Saved: plan the day again to use it.") if vehicle_id else _("The job is no longer pinned."),
              "success")
    return redirect(url_for(".detail", plan_id=plan_id))


@blueprint.post("/<int:plan_id>/replan")
@allow(COORDINATOR)
def replan(plan_id: int) -> Response:
    plan = rules.plan_to_see(db_session, current_user, plan_id)
    try:
        again = rules.request_plan(db_session, day=plan.day, vehicle_ids=rules.vehicle_ids_of(plan),
                                   seconds=plan.seconds, seed=plan.seed, by=current_user, now=utcnow())
    except DomainError as refused:
        db_session.rollback()
        flash(refusal(refused), "error")
        return redirect(url_for(".detail", plan_id=plan_id))
    db_session.commit()
    runner.start(again.id or 0)
    return redirect(url_for(".detail", plan_id=again.id))


# --- The driver ----------------------------------------------------------------------------------

@driver_blueprint.get("/", endpoint="index")
@allow(Role.DRIVER)
def driver_day() -> str:
    day = _day(request.args.get("day")) or today_in_sweden(utcnow())
    routes = driving.routes_for(db_session, current_user, day=day)
    later = None if routes else driving.next_day_with_routes(db_session, current_user, after=day)
    return render_template("logistics/plans/driver.html", day=day, routes=routes, later=later)


@driver_blueprint.errorhandler(driving.Replanned)
def to_the_new_plan(replanned: driving.Replanned) -> Response:
    """A route or stop of a plan replaced since the driver opened it: the day's routes as they are now."""
    db_session.rollback()
    flash(refusal(replanned), "info")
    return redirect(url_for(".index", day=replanned.day.isoformat()))


@driver_blueprint.get("/routes/<int:route_id>")
@allow(Role.DRIVER)
def route(route_id: int) -> str:
    planned = driving.route_to_drive(db_session, current_user, route_id)
    view = rules.route_view(db_session, planned)
    plan = db_session.get_one(rules.RoutePlan, planned.plan_id)
    at = request.args.get("at", type=int)  # the stop just reported: its messages are shown there
    return render_template("logistics/plans/route.html", view=view, plan=plan, failure_labels=FAILURE_LABELS,
                           arrived=at if any(stop.id == at for stop, _, _ in view.stops) else None,
                           reportable=driving.reportable_on(plan.day, utcnow()))


def _back_to(stop_id: int, route_id: int) -> Response:
    """Back at the stop reported (its anchor, focused by the page's script), not at the top of a
    long route: its messages are shown there."""
    return redirect(url_for(".route", route_id=route_id, at=stop_id, _anchor=f"stop-{stop_id}"))


@driver_blueprint.post("/stops/<int:stop_id>/done")
@allow(Role.DRIVER)
def done(stop_id: int) -> Response:
    stop = driving.stop_to_report(db_session, current_user, stop_id)
    route_id = stop.route_id
    try:
        completed = driving.report_done(db_session, stop, by=current_user, now=utcnow())
    except driving.Replanned:
        raise  # to the day's new routes (to_the_new_plan)
    except DomainError as refused:
        db_session.rollback()
        flash(refusal(refused), "error")
    else:
        db_session.commit()
        flash(_("The route is done: thank you!") if completed else _("The stop is done."), "success")
    return _back_to(stop_id, route_id)


@driver_blueprint.post("/stops/<int:stop_id>/failed")
@allow(Role.DRIVER)
def failed(stop_id: int) -> Response:
    stop = driving.stop_to_report(db_session, current_user, stop_id)
    route_id = stop.route_id
    try:
        reason = FailureReason(request.form.get("reason", ""))
    except ValueError:
        flash(_("Choose what went wrong."), "error")
        return _back_to(stop_id, route_id)
    try:
        driving.report_failed(db_session, stop, reason=reason, note=request.form.get("note", ""),
                              by=current_user, now=utcnow())
    except driving.Replanned:
        raise  # to the day's new routes (to_the_new_plan)
    except DomainError as refused:
        db_session.rollback()
        flash(refusal(refused), "error")
    else:
        db_session.commit()
        flash(_("Reported: the coordinators will plan the job again."), "success")
    return _back_to(stop_id, route_id)




# --- The route sheet (its coordinators and drivers) --------------------------------------------------

def _sheet(route_id: int) -> route_sheets.RouteSheet:
    route = route_sheets.route_to_print(db_session, current_user, route_id)
    return route_sheets.route_sheet(db_session, route, listing_url=listing_url)


@sheet_blueprint.get("/<int:route_id>/sheet")
@allow(COORDINATOR, Role.DRIVER)
def page(route_id: int) -> str:
    sheet = _sheet(route_id)
    return render_template("logistics/plans/sheet.html", sheet=sheet, route_map=route_sheets.route_map(sheet),
                           svg_points=route_sheets.svg_points, qr_svg=route_sheets.qr_svg)


@sheet_blueprint.get("/<int:route_id>/sheet.pdf")
@allow(COORDINATOR, Role.DRIVER)
def pdf(route_id: int) -> Response:
    sheet = _sheet(route_id)
    texts = {"title": _("Route sheet: %(vehicle)s, %(day)s", vehicle=sheet.vehicle, day=sheet.day.isoformat()),
             "service": _("Delningstjänsten"), "depot": _("Depot"), "departure": _("Leave the depot"),
             "return": _("Back at the depot"), "number": "#", "time": _("Time"), "where": _("Address"),
             "what": _("What"), "qr": _("Listing"), "access": _("Access"), "notes": _("Note"),
             "pickup": _("Pick up"), "delivery": _("Deliver"), "quantity": _("Quantity"),
             "inventory_number": _("Inv. no."), "arrival": _("arrive"), "window": _("open"),
             "footer": _("Scan a piece's code to open its listing."),
             "distance": format_decimal(sheet.distance_km, format="#,##0.0")}
    body = route_sheets.render_pdf(sheet, texts=texts)
    log.info("route sheet of route %s made by user %s", route_id, current_user.id)
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="korlista-{sheet.day.isoformat()}-{route_id}.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response
