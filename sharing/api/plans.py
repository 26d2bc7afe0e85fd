"""API of route plans, under the same rules as the pages: a coordinator's plans (the list, one
with its routes and stops, a day planned as the page plans it: queued, then made in the
background), and a driver's routes of a day with each stop reported done or failed.

Times of the day are seconds from the planned day's midnight, Swedish time, as the planner
gives them."""

from __future__ import annotations

import logging
from datetime import date, datetime

from flask import Response, g
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field

from sharing.access import allow
from sharing.accounts.models import Role
from sharing.api import blueprint
from sharing.api.common import DATE_PATTERN, date_arg, one, page_args, page_response, parse_body, refused
from sharing.api.openapi import documented
from sharing.clock import today_in_sweden, utcnow
from sharing.db import RecordId, db_session
from sharing.errors import DomainError
from sharing.logistics.planning.problem import StopAction
from sharing.logistics.plans import driving, rules, runner
from sharing.logistics.plans.models import FailureReason, PlannedRoute, PlanStatus, RoutePlan, RouteStatus, StopStatus
from sharing.logistics.vehicles import rules as vehicles
from sharing.typed import id_of

COORDINATOR = Role.TRANSPORT_COORDINATOR
log = logging.getLogger("sharing.api")
REPORTED = {409: "The stop is already reported"}


class PlannedStopOut(BaseModel):
    id: int
    position: int = Field(description="1 first")
    action: StopAction
    job_id: int
    request_id: int | None = Field(description="The request the job serves; none for a job added by hand")
    listing_id: int | None
    goods: str
    quantity: int
    site_id: int
    site_name: str
    street_address: str
    postal_code: str
    locality: str
    latitude: float
    longitude: float
    access_notes: str
    leg_m: int = Field(description="Metres driven to it from the previous place (the depot for the first)")
    arrival_s: int = Field(description="Seconds from the day's midnight (local time)")
    start_s: int = Field(description="Seconds from the day's midnight (local time)")
    end_s: int = Field(description="Seconds from the day's midnight (local time)")
    load_after_l: int = Field(description="Litres on board after the stop")
    status: StopStatus
    failure_reason: FailureReason | None
    failure_note: str
    done_at: datetime | None


class PlannedRouteOut(BaseModel):
    id: int
    plan_id: int
    day: date
    vehicle_id: int
    vehicle_name: str
    departure_s: int = Field(description="Leaves the depot: seconds from the day's midnight (local time)")
    return_s: int = Field(description="Back at the depot: seconds from the day's midnight (local time)")
    distance_m: int
    co2e_kg: float
    status: RouteStatus
    completed_at: datetime | None
    stops: list[PlannedStopOut]


class UnservedJobOut(BaseModel):
    job_id: int
    reason: str = Field(description="Why no route serves it (the planner's reason; closed: a site is closed; "
                                    "other_plan: it is on another municipality's plan in force that day)")


class RoutePlanOut(BaseModel):
    id: int
    day: date
    municipality_id: int
    status: PlanStatus
    progress: float = Field(description="How far the planner has come, 0 to 1")
    seed: int
    seconds: float = Field(description="The planner's time limit")
    vehicle_ids: list[int]
    distance_m: int | None
    error: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    routes: list[PlannedRouteOut] = Field(description="Once the plan is done (or replaced)")
    unserved: list[UnservedJobOut]


class RoutePlanIn(BaseModel):
    """A day to plan with vehicles you plan with (all your active ones, without ``vehicle_ids``)."""

    model_config = ConfigDict(extra="forbid")

    day: date = Field(description="Not past (in Sweden), at most about two years ahead",
                      json_schema_extra={"format": "date", "pattern": DATE_PATTERN})
    vehicle_ids: list[RecordId] | None = Field(default=None, max_length=100)
    seconds: float = Field(default=3, ge=1, le=rules.MAX_SECONDS, allow_inf_nan=False,
                           description="The planner's time limit")
    seed: int = Field(default=0, ge=0, le=2**31 - 1)


class StopFailedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: FailureReason
    note: str = Field(default="", max_length=driving.NOTE_MAX, description="Required when the reason is other")


def _route(view: rules.RouteView, day: date) -> PlannedRouteOut:
    route = view.route
    stops = []
    for stop, entry, load in view.stops:
        site = entry.pickup if stop.action == StopAction.PICKUP.value else entry.delivery
        job = entry.job
        stops.append(PlannedStopOut(
            id=id_of(stop), position=stop.position, action=StopAction(stop.action), job_id=stop.job_id,
            request_id=job.request_id, listing_id=job.listing_id, goods=job.goods, quantity=job.quantity,
            site_id=site.site_id, site_name=site.name, street_address=site.street_address,
            postal_code=site.postal_code, locality=site.locality, latitude=site.latitude, longitude=site.longitude,
            access_notes=site.access_notes, leg_m=stop.leg_m, arrival_s=stop.arrival_s, start_s=stop.start_s,
            end_s=stop.end_s, load_after_l=load, status=StopStatus(stop.status),
            failure_reason=FailureReason(stop.failure_reason) if stop.failure_reason else None,
            failure_note=stop.failure_note, done_at=stop.done_at))
    return PlannedRouteOut(id=id_of(route), plan_id=route.plan_id, day=day, vehicle_id=route.vehicle_id,
                           vehicle_name=view.vehicle.name, departure_s=route.departure_s, return_s=route.return_s,
                           distance_m=route.distance_m, co2e_kg=route.co2e_kg, status=RouteStatus(route.status),
                           completed_at=route.completed_at, stops=stops)


def _plan(plan: RoutePlan) -> RoutePlanOut:
    made = plan.status in (PlanStatus.DONE.value, PlanStatus.REPLACED.value)
    return RoutePlanOut(
        id=id_of(plan), day=plan.day, municipality_id=plan.municipality_id, status=PlanStatus(plan.status),
        progress=plan.progress, seed=plan.seed, seconds=plan.seconds, vehicle_ids=rules.vehicle_ids_of(plan),
        distance_m=plan.distance_m, error=plan.error, created_at=plan.created_at, started_at=plan.started_at,
        finished_at=plan.finished_at,
        routes=[_route(view, plan.day) for view in rules.routes_of(db_session, plan)] if made else [],
        unserved=[UnservedJobOut(job_id=row.job_id, reason=row.reason)
                  for row, _ in rules.unserved_of(db_session, plan)])


@blueprint.get("/route-plans")
@allow(COORDINATOR)
@documented("The route plans of the municipalities you plan for (transport coordinators), the latest day first",
            tag="logistics", response=RoutePlanOut, paginated=True)
def find_route_plans() -> Response:
    page, per_page = page_args()
    found = rules.plans_of(db_session, current_user, limit=per_page, offset=(page - 1) * per_page)
    return page_response([_plan(plan) for plan in found], total=rules.count_plans(db_session, current_user),
                         page=page, per_page=per_page, schema=RoutePlanOut)


@blueprint.get("/route-plans/<int:plan_id>")
@allow(COORDINATOR)
@documented("One route plan with its routes, their stops in order, and the jobs left unserved", tag="logistics",
            response=RoutePlanOut)
def get_route_plan(plan_id: int) -> Response:
    plan = rules.plan_to_see(db_session, current_user, plan_id)
    db_session.refresh(plan)
    return one(_plan(plan), RoutePlanOut)


@blueprint.post("/route-plans")
@allow(COORDINATOR)
@documented("Plan a day, as the page does: the plan is queued and made in the background (poll it until its "
            "status is done or failed); a plan done replaces the day's earlier one", tag="logistics",
            response=RoutePlanOut, body=RoutePlanIn, status=202)
def create_route_plan() -> Response:
    body = parse_body(RoutePlanIn)
    vehicle_ids = body.vehicle_ids
    if vehicle_ids is None:
        vehicle_ids = [id_of(v) for v in vehicles.vehicles_for(db_session, current_user, active_only=True)]
    try:
        plan = rules.request_plan(db_session, day=body.day, vehicle_ids=vehicle_ids, seconds=body.seconds,
                                  seed=body.seed, by=current_user, now=utcnow())
    except DomainError as error:
        db_session.rollback()
        raise refused(error) from None
    db_session.commit()
    # Planned once the request's transaction is over (an Idempotency-Key holds its commit until
    # the answer is kept with it): the planner's own sessions then find the plan queued.
    g.setdefault("route_plans_to_start", []).append(id_of(plan))
    return one(_plan(plan), RoutePlanOut, status=202)


@blueprint.teardown_request
def start_asked_plans(error: BaseException | None) -> None:
    for plan_id in g.pop("route_plans_to_start", []):
        if error is None:
            try:
                runner.start(plan_id)
            except Exception:  # noqa: BLE001 - the logistics-plans job picks up a plan left queued
                log.exception("route plan %s could not be started", plan_id)


# --- The driver -------------------------------------------------------------------------------------

@blueprint.get("/driver/routes")
@allow(Role.DRIVER)
@documented("Your routes of a day (drivers): the routes of your municipality's vehicles in plans in force",
            tag="logistics", response=PlannedRouteOut, paginated=True,
            query={"day": {"type": "string", "format": "date", "pattern": DATE_PATTERN,
                           "description": "The day; without it, today"}})
def find_driver_routes() -> Response:
    page, per_page = page_args()
    day = date_arg("day") or today_in_sweden(utcnow())
    found = driving.routes_for(db_session, current_user, day=day)
    shown = [_route(rules.route_view(db_session, route), day) for route, _ in
             found[(page - 1) * per_page:page * per_page]]
    return page_response(shown, total=len(found), page=page, per_page=per_page, schema=PlannedRouteOut)


def _reported(route: PlannedRoute) -> Response:
    db_session.refresh(route)
    plan = db_session.get_one(RoutePlan, route.plan_id)
    return one(_route(rules.route_view(db_session, route), plan.day), PlannedRouteOut)



@blueprint.post("/driver/stops/<int:stop_id>/done")
@allow(Role.DRIVER)
@documented("Report a stop done (drivers): a pickup hands the request's pieces over, a delivery of a loan's "
            "return takes them back; the route after it", tag="logistics", response=PlannedRouteOut,
            responses=REPORTED)
def report_stop_done(stop_id: int) -> Response:
    try:
        stop = driving.stop_to_report(db_session, current_user, stop_id)  # its plan replaced: 409
        route = db_session.get_one(PlannedRoute, stop.route_id)
        driving.report_done(db_session, stop, by=current_user, now=utcnow())
    except DomainError as error:
        db_session.rollback()
        raise refused(error) from None
    db_session.commit()
    return _reported(route)


@blueprint.post("/driver/stops/<int:stop_id>/failed")
@allow(Role.DRIVER)
@documented("Report a stop failed (drivers): the job goes back to its coordinators; the route after it",
            tag="logistics", response=PlannedRouteOut, body=StopFailedIn, responses=REPORTED)
def report_stop_failed(stop_id: int) -> Response:
    body = parse_body(StopFailedIn)
    try:
        stop = driving.stop_to_report(db_session, current_user, stop_id)  # its plan replaced: 409
        route = db_session.get_one(PlannedRoute, stop.route_id)
        driving.report_failed(db_session, stop, reason=body.reason, note=body.note, by=current_user, now=utcnow())
    except DomainError as error:
        db_session.rollback()
        raise refused(error) from None
    db_session.commit()
    return _reported(route)
