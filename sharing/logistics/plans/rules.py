"""Planning a day: a coordinator asks for a plan, the planner makes it, and it is kept only if
the feasibility check finds nothing wrong with it.

- ``request_plan`` makes a queued plan (the day, the vehicles, the solver's seconds and seed);
  ``run_plan`` plans it: the day's jobs the coordinator plans for (``jobs.rules.jobs_for_day``)
  and the chosen vehicles become a ``planning.problem.Problem`` (matrices from a
  ``distances.DistanceMatrix``), ``solver.solve`` plans it, ``feasibility.violations`` checks
  it; a plan with any violation is refused (logged, the plan failed, nothing saved). A plan
  that passes becomes routes and stops, its jobs planned, those left over unserved with the
  reason (a site closed that day: ``closed``), and the day's earlier plan is replaced.
  ``plan_day`` does both at once.
- One plan in force carries a job, and drives a vehicle, on a day: the jobs on routes of
  another municipality's plan in force (a job between two municipalities, or planned jointly,
  is seen by the coordinators of both) are left out, listed as planned elsewhere
  (``ELSEWHERE``), and so are the vehicles that plan drives. A plan is saved under locks of its
  jobs and vehicles and checked again then, so two plans made at once cannot both take one.
- A day is not planned again once a route of its plan in force has started. The plan is saved
  under the lock of that plan's row (``lock_plan``), which a driver's report takes too: of a
  first report and a new plan of the day at once, the later sees the earlier and is refused.
- Pins: a coordinator pins a job to a vehicle (``pin_job``); every later plan keeps it there.
- The same jobs, vehicles and seed give the same plan: the coordinator's planning time is turned
  into an iteration budget (``ITERATIONS_PER_SECOND``), which ends the search whatever the
  machine's load; the clock only stops a search that runs ``CLOCK_GUARD`` times over.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import Session, col

from sharing.accounts.models import Actor, Site
from sharing.clock import utcnow
from sharing.db import row_lock
from sharing.errors import Conflict, DomainError, NotAllowed, NotVisible
from sharing.i18n import N_
from sharing.logistics.coordination import rules as coordination
from sharing.logistics.jobs import rules as jobs
from sharing.logistics.jobs.models import JobStatus, TransportJob
from sharing.logistics.planning import feasibility, problem, solver
from sharing.logistics.planning.distances import DistanceMatrix, StraightLine
from sharing.logistics.plans.models import (
    JobPin,
    PlannedRoute,
    PlannedStop,
    PlanStatus,
    RoutePlan,
    RouteStatus,
    StopStatus,
    UnservedJob,
)
from sharing.logistics.vehicles import rules as vehicles
from sharing.logistics.vehicles.models import Vehicle
from sharing.typed import id_of

log = logging.getLogger("sharing.logistics.plans")

CLOSED = "closed"  # a site of the job is closed on its day: no plan can serve it
ELSEWHERE = "other_plan"  # the job is on a route of another municipality's plan in force that day
SERVICE_S = 10 * 60  # the time a stop takes: carrying furniture in or out, and signing for it
MAX_SECONDS = 60.0
# A planning second is this many iterations of the search: about what a day of 120 requests gets
# in a second on the two-core machines we measured on (bench/routing.py); smaller days go faster.
# Budgeting iterations rather than time keeps a plan reproducible on a busy machine.
ITERATIONS_PER_SECOND = 330
# The clock stops a search only when it runs this many times its planning time (a machine far
# slower than planned for); such a plan may differ from one made on an idle machine.
CLOCK_GUARD = 4.0
Solve = Callable[..., problem.Plan]
STARTED = N_("A route of the day's plan has already started: it cannot be planned again.")
BUSY_ELSEWHERE = N_("Every chosen vehicle is already on a route of another municipality's plan that day.")
TAKEN_MEANWHILE = N_("Another municipality's plan took some of these jobs or vehicles meanwhile: plan the day again.")


# --- Asking for a plan ----------------------------------------------------------------------

def _coordinator(user: Actor) -> None:
    if not coordination.is_coordinator(user):
        raise NotAllowed("route plans")


def can_see(session: Session, user: Actor, plan: RoutePlan) -> bool:
    """The coordinators who plan for the plan's municipality."""
    return coordination.is_coordinator(user) and plan.municipality_id in coordination.scope_of(session, user)


def plan_to_see(session: Session, user: Actor, plan_id: int) -> RoutePlan:
    plan = session.get(RoutePlan, plan_id)
    if plan is None or not can_see(session, user, plan):
        raise NotVisible(f"route plan {plan_id}")
    return plan


def vehicle_ids_of(plan: RoutePlan) -> list[int]:
    return [int(part) for part in plan.vehicle_ids.split(",") if part]


def request_plan(session: Session, *, day: date, vehicle_ids: Sequence[int], seconds: float, seed: int,
                 by: Actor, now: datetime) -> RoutePlan:
    """A queued plan of the day (not past, at most about two years ahead) with the coordinator's
    chosen vehicles (active ones they plan with)."""
    _coordinator(by)
    jobs.check_day(day, now=now)
    usable = {id_of(v) for v in vehicles.vehicles_for(session, by, active_only=True)}
    chosen = sorted(set(vehicle_ids))
    if not chosen or not set(chosen) <= usable:
        raise DomainError(N_("Choose at least one of the vehicles you plan with."), field="vehicle_ids")
    if not 1 <= seconds <= MAX_SECONDS:
        raise DomainError(N_("Give the planning time in seconds, from 1 to %(max)s."), field="seconds",
                          max=int(MAX_SECONDS))
    if has_started(session, day=day, municipality_id=by.municipality_id):
        raise Conflict(STARTED, field="day")
    plan = RoutePlan(day=day, municipality_id=by.municipality_id, seed=seed, seconds=float(seconds),
                     vehicle_ids=",".join(str(v) for v in chosen), created_by_id=by.id, created_at=now)
    session.add(plan)
    session.flush()
    return plan


def plan_day(session: Session, *, day: date, by: Actor, now: datetime, seconds: float, seed: int = 0,
             vehicle_ids: Sequence[int] | None = None, matrix: DistanceMatrix | None = None,
             iterations: int | None = None, solve: Solve = solver.solve) -> RoutePlan:
    """Plan the day at once (every active vehicle the coordinator plans with, unless chosen)."""
    if vehicle_ids is None:
        vehicle_ids = [id_of(v) for v in vehicles.vehicles_for(session, by, active_only=True)]
    plan = request_plan(session, day=day, vehicle_ids=vehicle_ids, seconds=seconds, seed=seed, by=by, now=now)
    run_plan(session, plan, by=by, now=now, matrix=matrix, iterations=iterations, solve=solve)
    return plan


# --- Making it --------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Built:
    problem: problem.Problem
    entries: dict[str, jobs.ScheduledJob]
    vehicles: dict[str, Vehicle]
    closed: list[jobs.ScheduledJob]
    elsewhere: list[jobs.ScheduledJob]  # on another municipality's plan in force


@dataclass(frozen=True)
class Taken:
    """What the other municipalities' plans in force of a day hold: the jobs on their routes
    (job id -> the municipality whose plan it is) and the vehicles they drive."""

    jobs: dict[int, int]
    vehicles: frozenset[int]


def taken_elsewhere(session: Session, *, day: date, municipality_id: int) -> Taken:
    """The jobs and vehicles of the day's plans in force of every municipality but this one (a
    stop that failed holds its job no more: it is to be planned again)."""
    elsewhere = (col(RoutePlan.day) == day, col(RoutePlan.status) == PlanStatus.DONE.value,
                 col(RoutePlan.municipality_id) != municipality_id)
    held = session.execute(select(col(PlannedStop.job_id), col(RoutePlan.municipality_id))
                           .join(PlannedRoute, col(PlannedRoute.id) == col(PlannedStop.route_id))
                           .join(RoutePlan, col(RoutePlan.id) == col(PlannedRoute.plan_id))
                           .where(*elsewhere, col(PlannedStop.status) != StopStatus.FAILED.value)).all()
    driven = session.scalars(select(col(PlannedRoute.vehicle_id))
                             .join(RoutePlan, col(RoutePlan.id) == col(PlannedRoute.plan_id)).where(*elsewhere))
    return Taken({row[0]: row[1] for row in held}, frozenset(driven))


def _build(session: Session, plan: RoutePlan, *, by: Actor, matrix: DistanceMatrix) -> _Built:
    taken = taken_elsewhere(session, day=plan.day, municipality_id=plan.municipality_id)
    active = [v for v in (session.get(Vehicle, i) for i in vehicle_ids_of(plan)) if v is not None and v.active]
    if not active:
        raise DomainError(N_("None of the chosen vehicles is in use any more."))
    chosen = [v for v in active if id_of(v) not in taken.vehicles]
    if not chosen:
        raise DomainError(BUSY_ELSEWHERE)
    entries = jobs.jobs_for_day(session, day=plan.day, by=by)
    elsewhere = [entry for entry in entries if id_of(entry.job) in taken.jobs]
    entries = [entry for entry in entries if id_of(entry.job) not in taken.jobs]
    closed = [entry for entry in entries if entry.closed]
    open_entries = [entry for entry in entries if not entry.closed]
    points: list[tuple[float, float]] = []
    place: dict[int, int] = {}

    def at(site_id: int, latitude: float, longitude: float) -> int:
        if site_id not in place:
            place[site_id] = len(points)
            points.append((latitude, longitude))
        return place[site_id]

    depots = {id_of(v): session.get_one(Site, v.depot_site_id) for v in chosen}
    planning_vehicles = [vehicles.planning_vehicle(v, depot=at(d.id or 0, d.latitude, d.longitude))
                         for v, d in ((v, depots[id_of(v)]) for v in chosen)]
    shipments = []
    for entry in open_entries:
        shipment = jobs.shipment_of(
            entry, pickup=at(entry.pickup.site_id, entry.pickup.latitude, entry.pickup.longitude),
            delivery=at(entry.delivery.site_id, entry.delivery.latitude, entry.delivery.longitude),
            pickup_service_s=SERVICE_S, delivery_service_s=SERVICE_S)
        if shipment is not None:
            shipments.append(shipment)
    keys = {v.key for v in planning_vehicles}
    shipment_keys = {s.key for s in shipments}
    pins = {str(pin.job_id): str(pin.vehicle_id) for pin in session.scalars(
        select(JobPin).where(col(JobPin.job_id).in_([int(k) for k in shipment_keys] or [0])))}
    pinned = {job: vehicle for job, vehicle in pins.items() if vehicle in keys}
    matrices = matrix.between(points)
    built = problem.Problem(distance_m=matrices.distance_m, duration_s=matrices.duration_s, shipments=shipments,
                            vehicles=planning_vehicles, pinned=pinned)
    return _Built(built, {str(id_of(e.job)): e for e in open_entries}, {str(id_of(v)): v for v in chosen}, closed,
                  elsewhere)


def run_plan(session: Session, plan: RoutePlan, *, by: Actor, now: datetime,
             matrix: DistanceMatrix | None = None, iterations: int | None = None, solve: Solve = solver.solve,
             progress: Callable[[float], None] | None = None, clock: Callable[[], datetime] | None = None) -> None:
    """Plan a queued plan, as its coordinator ``by``; the caller commits. The plan ends done or
    failed: a plan the feasibility check faults is never saved."""
    if plan.status not in (PlanStatus.QUEUED.value, PlanStatus.RUNNING.value):
        raise Conflict(N_("This plan has already been made."))
    if plan.status == PlanStatus.QUEUED.value:  # a runner claimed and committed it as running already
        plan.status, plan.started_at, plan.progress = PlanStatus.RUNNING.value, now, 0.0
        session.add(plan)
        session.flush()
    try:
        built = _build(session, plan, by=by, matrix=matrix or StraightLine())
        budget = iterations if iterations is not None else max(1, round(plan.seconds * ITERATIONS_PER_SECOND))
        made = solve(built.problem, seconds=plan.seconds * CLOCK_GUARD, seed=plan.seed, progress=progress,
                     iterations=budget)
    except (DomainError, ValueError, OSError) as error:
        log.exception("plan %s of %s could not be made", plan.id, plan.day)
        # A rule's message is kept as its msgid, which the plan's page translates; one with
        # parameters, and anything else, as it reads in English.
        said = str(error)
        if isinstance(error, DomainError) and not error.params:
            said = str(error.message)
        fail(session, plan, said or type(error).__name__, clock() if clock else now)
        return
    found = feasibility.violations(built.problem, made)
    if found:
        log.error("plan %s of %s refused: %d violation(s): %s", plan.id, plan.day, len(found),
                  "; ".join(v.message for v in found[:10]))
        fail(session, plan, "; ".join(v.message for v in found[:5]), clock() if clock else now)
        return
    _save(session, plan, built, made, by=by, now=clock() if clock else now)


def fail(session: Session, plan: RoutePlan, error: str, now: datetime) -> None:
    plan.status, plan.error, plan.finished_at = PlanStatus.FAILED.value, error[:1000], now
    session.add(plan)
    session.flush()


def current_plan(session: Session, *, day: date, municipality_id: int) -> RoutePlan | None:
    """The day's plan in force for the municipality's coordinators: the last one done."""
    return session.scalar(select(RoutePlan).where(
        col(RoutePlan.day) == day, col(RoutePlan.municipality_id) == municipality_id,
        col(RoutePlan.status) == PlanStatus.DONE.value).order_by(col(RoutePlan.id).desc()).limit(1))


_LOCK_PLAN = row_lock(RoutePlan)


def lock_plan(session: Session, plan_id: int) -> RoutePlan:
    """Take the plan's write lock for the rest of the transaction and read it as committed
    (``db.row_lock``). Saving a new plan of a day takes the lock of the day's plan in
    force, and a driver's report that of its route's plan: the later of the two waits for the
    earlier's commit and then sees it."""
    return session.scalars(_LOCK_PLAN, {"id": plan_id}).one()


def _lock_in_force(session: Session, *, day: date, municipality_id: int) -> RoutePlan | None:
    """The day's plan in force, locked (``lock_plan``). One that another plan replaced while this
    waited for its lock gives way to that plan."""
    while (before := current_plan(session, day=day, municipality_id=municipality_id)) is not None:
        if lock_plan(session, id_of(before)).status == PlanStatus.DONE.value:
            return before
    return None


def _lock(session: Session, plan: RoutePlan, built: _Built, made: problem.Plan) -> RoutePlan | None:
    """Hold what the plan takes until it is committed, and return the day's plan in force it
    replaces: a write of the plan's row (SQLite then makes every other writer wait), the lock of
    the plan in force (a driver's report takes it too), and the rows of its jobs, then its
    vehicles, in the order of their ids (PostgreSQL: another plan taking one of them waits, and
    then sees this one). The plan in force comes before the jobs, as in a report (which touches
    its job only after its plan's lock), so that neither waits for the other holding what it wants."""
    session.execute(update(RoutePlan).where(col(RoutePlan.id) == plan.id).values(status=PlanStatus.RUNNING.value)
                    .execution_options(synchronize_session=False))
    before = _lock_in_force(session, day=plan.day, municipality_id=plan.municipality_id)
    job_ids = sorted(int(stop.shipment) for route in made.routes for stop in route.stops)
    vehicle_ids = sorted(id_of(built.vehicles[route.vehicle]) for route in made.routes)
    session.execute(select(col(TransportJob.id)).where(col(TransportJob.id).in_(job_ids or [0]))
                    .order_by(col(TransportJob.id)).with_for_update())
    session.execute(select(col(Vehicle.id)).where(col(Vehicle.id).in_(vehicle_ids or [0]))
                    .order_by(col(Vehicle.id)).with_for_update())
    return before


def has_started(session: Session, *, day: date, municipality_id: int) -> bool:
    """A route of the day's plan in force for the municipality has started: the day cannot be
    planned again (a driver is out with it)."""
    before = current_plan(session, day=day, municipality_id=municipality_id)
    return before is not None and _started(session, before)


def _started(session: Session, plan: RoutePlan) -> bool:
    return session.scalar(select(col(PlannedRoute.id)).where(
        col(PlannedRoute.plan_id) == plan.id,
        col(PlannedRoute.status) != RouteStatus.PLANNED.value).limit(1)) is not None


def can_plan_again(session: Session, plan: RoutePlan, *, today: date) -> bool:
    """Whether planning the plan's day again can succeed: not for a day gone by, not while a plan
    is being made, nor once a route of the day's plan in force has started."""
    return (plan.day >= today and plan.status not in (PlanStatus.QUEUED.value, PlanStatus.RUNNING.value)
            and not has_started(session, day=plan.day, municipality_id=plan.municipality_id))


def _save(session: Session, plan: RoutePlan, built: _Built, made: problem.Plan, *, by: Actor,
          now: datetime) -> None:
    before = _lock(session, plan, built, made)
    taken = taken_elsewhere(session, day=plan.day, municipality_id=plan.municipality_id)
    if (any(int(stop.shipment) in taken.jobs for route in made.routes for stop in route.stops)
            or any(id_of(built.vehicles[route.vehicle]) in taken.vehicles for route in made.routes)):
        fail(session, plan, TAKEN_MEANWHILE, now)
        return
    if before is not None and _started(session, before):
        fail(session, plan, STARTED, now)
        return
    distance = built.problem.distance_m
    served: set[str] = set()
    for route in made.routes:
        vehicle = built.vehicles[route.vehicle]
        saved = PlannedRoute(plan_id=id_of(plan), vehicle_id=id_of(vehicle), departure_s=route.departure_s,
                             return_s=route.return_s, distance_m=route.distance_m,
                             co2e_kg=round(route.distance_m / 1000 * vehicle.co2e_kg_per_km, 3))
        session.add(saved)
        session.flush()
        at = built.problem.vehicles[[v.key for v in built.problem.vehicles].index(route.vehicle)].depot
        for position, stop in enumerate(route.stops, start=1):
            session.add(PlannedStop(route_id=id_of(saved), job_id=int(stop.shipment), action=stop.action.value,
                                    position=position, leg_m=int(distance[at][stop.place]),
                                    arrival_s=stop.arrival_s, start_s=stop.start_s, end_s=stop.end_s))
            at = stop.place
            served.add(stop.shipment)
    for unserved in made.unserved:
        session.add(UnservedJob(plan_id=id_of(plan), job_id=int(unserved.shipment), reason=unserved.reason.value))
    for entry in built.closed:
        session.add(UnservedJob(plan_id=id_of(plan), job_id=id_of(entry.job), reason=CLOSED))
    for entry in built.elsewhere:
        session.add(UnservedJob(plan_id=id_of(plan), job_id=id_of(entry.job), reason=ELSEWHERE))
    for key, entry in built.entries.items():
        job = entry.job
        if key in served and job.status == JobStatus.OPEN.value:
            jobs.set_status(session, job, JobStatus.PLANNED, by=by, now=now, extra={"plan_id": plan.id})
        elif key in served:
            job.changed_after_planning = False
            session.add(job)
        elif job.status == JobStatus.PLANNED.value:
            jobs.set_status(session, job, JobStatus.OPEN, by=by, now=now, extra={"plan_id": plan.id})
    for entry in built.closed:
        if entry.job.status == JobStatus.PLANNED.value:
            jobs.set_status(session, entry.job, JobStatus.OPEN, by=by, now=now, extra={"plan_id": plan.id})
    if before is not None:
        before.status = PlanStatus.REPLACED.value
        session.add(before)
    plan.status, plan.progress, plan.finished_at = PlanStatus.DONE.value, 1.0, now
    plan.distance_m = made.distance_m
    session.add(plan)
    session.flush()
    log.info("plan %s of %s: %d route(s), %d m, %d unserved", plan.id, plan.day, len(made.routes),
             made.distance_m, len(made.unserved) + len(built.closed) + len(built.elsewhere))


def set_progress(session: Session, plan_id: int, progress: float) -> None:
    """The running planner says how far it has come (a fraction of its time)."""
    session.execute(update(RoutePlan).where(col(RoutePlan.id) == plan_id,
                                            col(RoutePlan.status) == PlanStatus.RUNNING.value)
                    .values(progress=max(0.0, min(1.0, progress))))


def left_behind(session: Session) -> list[RoutePlan]:
    """Plans queued or running with no one at them (their process stopped): oldest first."""
    return list(session.scalars(select(RoutePlan).where(
        col(RoutePlan.status).in_([PlanStatus.QUEUED.value, PlanStatus.RUNNING.value])).order_by(col(RoutePlan.id))))


def claim(session: Session, plan_id: int, *, from_status: PlanStatus) -> bool:
    """Take a plan to run it, once: True if this caller moved it from ``from_status``."""
    moved = session.execute(update(RoutePlan).where(col(RoutePlan.id) == plan_id,
                                                    col(RoutePlan.status) == from_status.value)
                            .values(status=PlanStatus.RUNNING.value, started_at=utcnow())
                            .execution_options(synchronize_session=False))
    return moved.rowcount == 1  # type: ignore[attr-defined]  # a CursorResult's


# --- Pins ---------------------------------------------------------------------------------------

def pin_job(session: Session, *, job: TransportJob, vehicle_id: int | None, by: Actor, now: datetime) -> None:
    """Pin the job to one of the vehicles the coordinator plans with (None: unpin it)."""
    if not jobs.can_see(session, by, job):
        raise NotVisible(f"transport job {job.id}")
    pin = session.get(JobPin, job.id)
    if vehicle_id is None:
        if pin is not None:
            session.delete(pin)
            session.flush()
        return
    if vehicle_id not in {id_of(v) for v in vehicles.vehicles_for(session, by, active_only=True)}:
        raise DomainError(N_("Choose one of the vehicles you plan with."), field="vehicle_id")
    if pin is None:
        pin = JobPin(job_id=id_of(job), vehicle_id=vehicle_id, pinned_by_id=by.id, pinned_at=now)
    pin.vehicle_id, pin.pinned_by_id, pin.pinned_at = vehicle_id, by.id, now
    session.add(pin)
    session.flush()


def pins_of(session: Session, job_ids: Sequence[int]) -> dict[int, int]:
    """Job id -> the vehicle it is pinned to."""
    if not job_ids:
        return {}
    found = session.scalars(select(JobPin).where(col(JobPin.job_id).in_(job_ids)))
    return {pin.job_id: pin.vehicle_id for pin in found}


# --- Reading it -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class RouteView:
    route: PlannedRoute
    vehicle: Vehicle
    stops: list[tuple[PlannedStop, jobs.ScheduledJob, int]]  # the stop, its job, the load on board after it (l)


def routes_of(session: Session, plan: RoutePlan) -> list[RouteView]:
    """The plan's routes with their stops in order, each job with its sites, and the load on board."""
    routes = list(session.scalars(select(PlannedRoute).where(col(PlannedRoute.plan_id) == plan.id)
                                  .order_by(col(PlannedRoute.id))))
    return [route_view(session, route) for route in routes]


def route_view(session: Session, route: PlannedRoute) -> RouteView:
    stops = list(session.scalars(select(PlannedStop).where(col(PlannedStop.route_id) == route.id)
                                 .order_by(col(PlannedStop.position))))
    job_rows = {id_of(j): j for j in session.scalars(select(TransportJob).where(
        col(TransportJob.id).in_([s.job_id for s in stops] or [0])))}
    entries = {id_of(e.job): e for e in jobs.scheduled(session, list(job_rows.values()))}
    load, shown = 0, []
    for stop in stops:
        entry = entries[stop.job_id]
        load += entry.job.volume_l if stop.action == problem.StopAction.PICKUP.value else -entry.job.volume_l
        shown.append((stop, entry, load))
    return RouteView(route, session.get_one(Vehicle, route.vehicle_id), shown)


def planned_by(session: Session, plan: RoutePlan, job_ids: Sequence[int]) -> dict[int, str]:
    """Of these jobs, those on another municipality's plan in force of the plan's day: job id ->
    that municipality's name (what a coordinator is shown of a job planned elsewhere)."""
    held = taken_elsewhere(session, day=plan.day, municipality_id=plan.municipality_id).jobs
    names = jobs.municipality_names(session, held.values())
    return {job_id: names[held[job_id]] for job_id in job_ids if job_id in held}


def unserved_of(session: Session, plan: RoutePlan) -> list[tuple[UnservedJob, TransportJob]]:
    rows = session.execute(select(UnservedJob, TransportJob).join(
        TransportJob, col(TransportJob.id) == col(UnservedJob.job_id)).where(col(UnservedJob.plan_id) == plan.id)
        .order_by(col(UnservedJob.id))).all()
    return [(row[0], row[1]) for row in rows]


def plans_of(session: Session, user: Actor, *, limit: int = 20, offset: int = 0) -> list[RoutePlan]:
    """The plans of the municipalities the coordinator plans for, the latest day first."""
    _coordinator(user)
    return list(session.scalars(select(RoutePlan).where(
        col(RoutePlan.municipality_id).in_(sorted(coordination.scope_of(session, user))))
        .order_by(col(RoutePlan.day).desc(), col(RoutePlan.id).desc()).offset(offset).limit(limit)))


def count_plans(session: Session, user: Actor) -> int:
    _coordinator(user)
    return session.scalar(select(func.count()).select_from(RoutePlan).where(
        col(RoutePlan.municipality_id).in_(sorted(coordination.scope_of(session, user))))) or 0


def summary(plan: RoutePlan) -> dict[str, Any]:
    return {"id": plan.id, "day": plan.day.isoformat(), "status": plan.status, "progress": plan.progress}
