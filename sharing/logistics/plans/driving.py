"""The driver's day: the routes of their municipality's vehicles, each stop reported done or
failed, and a route completed once no stop is left.

- A stop done: the pickup of a request's pieces records the handover in loans (the driver acts
  for the giving side, the method is the service's transport); the delivery of a loan's pieces
  back records their return for the owner; whatever loans refuses, the driver is told. The
  delivery of a job makes the job done.
- Stops are reported on the route's day (in Sweden) or later, never before; a delivery only
  once its pickup is done.
- A stop failed (nobody there, closed, wrong address, other): the job is failed, marked as
  changed after planning, and its coordinators are told, with the reason (``jobs.notices``; the
  driver's note is read on the job's page), as are the people of the request it serves; its
  other stop is failed with it. A coordinator plans it again (``jobs.plan_again``).
- A route with no stop left pending is completed: ``logistics.route.completed`` is recorded
  with its distance, its CO2e and each request's share of them (``attribute``).
- Reports race (a double tap, a retry, two phones): every step is a compare-and-set in the
  database. A report first takes its route (``_take``: the route's row, while it is not
  completed), so reports of one route are made one at a time; then the stop moves from pending
  only if it still is, and the route is completed only once. Of two reports of one stop at once,
  one is made and the other refused (409 in the API).
- A report and a new plan of its day race too: before its route, a report takes the lock of
  the route's plan (``plans.lock_plan``), which saving a new plan of the day takes as well. A
  report made while the day is planned again waits for it and, its plan replaced, is refused as
  a report on a replaced plan always is (``Replanned``: the driver is led to the day's routes as
  they are now); a plan saved while a first report is made waits for it, sees the route
  started, and fails.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlmodel import Session, col

from sharing.accounts.models import Actor, Role
from sharing.clock import today_in_sweden
from sharing.errors import Conflict, DomainError, NotAllowed, NotVisible
from sharing.events import record
from sharing.i18n import N_
from sharing.loans.requests import rules as loans
from sharing.loans.requests.models import HandoverMethod, LoanRequest, RequestKind, RequestStatus
from sharing.logistics.jobs import rules as jobs
from sharing.logistics.jobs.models import JobKind, JobStatus, TransportJob
from sharing.logistics.planning.problem import StopAction
from sharing.logistics.plans.models import (
    FailureReason,
    PlannedRoute,
    PlannedStop,
    PlanStatus,
    RoutePlan,
    RouteStatus,
    StopStatus,
)
from sharing.logistics.plans.rules import lock_plan
from sharing.logistics.vehicles.models import Vehicle
from sharing.typed import id_of

ROUTE_SUBJECT = "logistics.route"
ROUTE_COMPLETED = "logistics.route.completed"  # reports' ledger reads it (reports.ledger.rules.TRANSPORT_COMPLETED)
METHOD = "load-distance share"
NOTE_MAX = 300


def is_driver(user: Actor) -> bool:
    return user.has_role(Role.DRIVER)


def can_drive(session: Session, user: Actor, route: PlannedRoute) -> bool:
    """The drivers of the vehicle's municipality."""
    vehicle = session.get(Vehicle, route.vehicle_id)
    return is_driver(user) and vehicle is not None and vehicle.municipality_id == user.municipality_id


class Replanned(Conflict):
    """The route's plan was replaced by a new plan of its day (planned again before any of its
    routes started): the driver's route is in the new plan now, perhaps another."""

    def __init__(self, day: date) -> None:
        super().__init__(N_("The day was planned again: these are its routes now."))
        self.day = day


def route_to_drive(session: Session, user: Actor, route_id: int) -> PlannedRoute:
    route = session.get(PlannedRoute, route_id)
    if route is None or not can_drive(session, user, route):
        raise NotVisible(f"route {route_id}")
    _in_force(session.get_one(RoutePlan, route.plan_id), route_id)
    return route


def _in_force(plan: RoutePlan, route_id: int) -> None:
    """A route is driven while its plan is in force: one replaced leads to its day's new plan,
    any other (failed, say) is no route to drive."""
    if plan.status == PlanStatus.REPLACED.value:
        raise Replanned(plan.day)
    if plan.status != PlanStatus.DONE.value:
        raise NotVisible(f"route {route_id}")


def stop_to_report(session: Session, user: Actor, stop_id: int) -> PlannedStop:
    stop = session.get(PlannedStop, stop_id)
    if stop is None:
        raise NotVisible(f"stop {stop_id}")
    route_to_drive(session, user, stop.route_id)
    return stop


def routes_for(session: Session, user: Actor, *, day: date) -> list[tuple[PlannedRoute, Vehicle]]:
    """The day's routes of the vehicles of the driver's municipality, in plans in force."""
    if not is_driver(user):
        raise NotAllowed("routes")
    rows = session.execute(select(PlannedRoute, Vehicle).join(Vehicle, col(Vehicle.id) == col(PlannedRoute.vehicle_id))
                           .join(RoutePlan, col(RoutePlan.id) == col(PlannedRoute.plan_id))
                           .where(col(RoutePlan.day) == day, col(RoutePlan.status) == PlanStatus.DONE.value,
                                  col(Vehicle.municipality_id) == user.municipality_id)
                           .order_by(col(Vehicle.name), col(PlannedRoute.id))).all()
    return [(row[0], row[1]) for row in rows]


def next_day_with_routes(session: Session, user: Actor, *, after: date) -> date | None:
    """The first day after ``after`` with routes for the driver's municipality (a driver who
    opens a day without routes is led to the next one)."""
    if not is_driver(user):
        raise NotAllowed("routes")
    return session.scalar(select(func.min(col(RoutePlan.day)))
                          .join(PlannedRoute, col(PlannedRoute.plan_id) == col(RoutePlan.id))
                          .join(Vehicle, col(Vehicle.id) == col(PlannedRoute.vehicle_id))
                          .where(col(RoutePlan.day) > after, col(RoutePlan.status) == PlanStatus.DONE.value,
                                 col(Vehicle.municipality_id) == user.municipality_id))


ALREADY_REPORTED = N_("This stop is already reported.")


def reportable_on(day: date, now: datetime) -> bool:
    """A route's stops are reported on its day, Swedish time, or after it: never before."""
    return today_in_sweden(now) >= day


def _on_its_day(session: Session, route: PlannedRoute, now: datetime) -> None:
    day = session.get_one(RoutePlan, route.plan_id).day
    if not reportable_on(day, now):
        raise Conflict(N_("This route is driven on %(day)s: report its stops on that day."), day=day.isoformat())


def _picked_up(session: Session, stop: PlannedStop) -> None:
    """A delivery is reported done only once its job's pickup on the route is."""
    if stop.action != StopAction.DELIVERY.value:
        return
    pickup = session.scalar(select(PlannedStop).where(
        col(PlannedStop.route_id) == stop.route_id, col(PlannedStop.job_id) == stop.job_id,
        col(PlannedStop.action) == StopAction.PICKUP.value).execution_options(populate_existing=True))
    if pickup is not None and pickup.status != StopStatus.DONE.value:
        raise Conflict(N_("Report the pickup first: the pieces cannot be delivered before they are picked up."))


def _still_in_force(session: Session, route: PlannedRoute) -> None:
    """Lock the route's plan and check it is still in force (``route_to_drive`` read it before
    the lock: a new plan of the day may have replaced it meanwhile)."""
    _in_force(lock_plan(session, route.plan_id), id_of(route))


def _take(session: Session, route: PlannedRoute) -> None:
    """Start the route, or take it again, if it is not completed: a write of its row, so that
    the reports of one route are made one at a time (the second waits for the first's commit)."""
    with session.no_autoflush:
        moved = session.execute(update(PlannedRoute).where(
            col(PlannedRoute.id) == route.id,
            col(PlannedRoute.status).in_([RouteStatus.PLANNED.value, RouteStatus.STARTED.value]))
            .values(status=RouteStatus.STARTED.value).execution_options(synchronize_session=False))
    if moved.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult's
        raise Conflict(ALREADY_REPORTED)
    route.status = RouteStatus.STARTED.value
    session.add(route)


def _report(session: Session, stop: PlannedStop, to: StopStatus, *, by: Actor, now: datetime,
            reason: FailureReason | None = None, note: str = "") -> None:
    """Move the stop from pending, if it still is (compare and set); else it is already reported."""
    values = {"status": to.value, "done_at": now, "done_by_id": by.id,
              "failure_reason": reason.value if reason is not None else None, "failure_note": note}
    with session.no_autoflush:
        moved = session.execute(update(PlannedStop).where(col(PlannedStop.id) == stop.id,
                                                          col(PlannedStop.status) == StopStatus.PENDING.value)
                                .values(**values).execution_options(synchronize_session=False))
    if moved.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult's
        session.refresh(stop)
        raise Conflict(ALREADY_REPORTED)
    for name, value in values.items():
        setattr(stop, name, value)
    session.add(stop)


def _loans_step(session: Session, stop: PlannedStop, job: TransportJob, *, by: Actor, now: datetime) -> None:
    """What the stop means to the request the job serves, recorded through loans' own rules."""
    request = session.get(LoanRequest, job.request_id) if job.request_id is not None else None
    if request is None:
        return
    status = RequestStatus(request.status)
    if stop.action == StopAction.PICKUP.value and job.kind in (JobKind.DELIVERY.value, JobKind.EXCHANGE.value):
        if status == RequestStatus.APPROVED:
            side = "requester" if job.kind == JobKind.EXCHANGE.value else "owner"
            loans.hand_over(session, request, condition=None, method=HandoverMethod.TRANSPORT, by=by, now=now,
                            for_side=side)
    elif (stop.action == StopAction.DELIVERY.value and job.kind == JobKind.RETURN.value
          and request.kind == RequestKind.BORROW.value and status == RequestStatus.HANDED_OVER):
        loans.take_back(session, request, condition=None, remarks="", damage="", by=by, now=now, carried=True)


def report_done(session: Session, stop: PlannedStop, *, by: Actor, now: datetime) -> bool:
    """The driver did the stop; True if that completed the route. Loans' refusal refuses it all."""
    route = session.get_one(PlannedRoute, stop.route_id)
    if not can_drive(session, by, route):
        raise NotVisible(f"stop {stop.id}")
    _still_in_force(session, route)
    if stop.status != StopStatus.PENDING.value:
        raise Conflict(ALREADY_REPORTED)
    _on_its_day(session, route, now)
    _take(session, route)
    _picked_up(session, stop)
    _report(session, stop, StopStatus.DONE, by=by, now=now)
    session.flush()
    job = session.get_one(TransportJob, stop.job_id)
    _loans_step(session, stop, job, by=by, now=now)
    session.refresh(job)
    if stop.action == StopAction.DELIVERY.value and job.status == JobStatus.PLANNED.value:
        jobs.set_status(session, job, JobStatus.DONE, by=by, now=now, extra={"route_id": route.id})
    session.flush()
    return _complete_if_done(session, route, by=by, now=now)


def report_failed(session: Session, stop: PlannedStop, *, reason: FailureReason, note: str, by: Actor,
                  now: datetime) -> bool:
    """The driver could not do the stop: the job goes back to its coordinators; True if that
    completed the route."""
    route = session.get_one(PlannedRoute, stop.route_id)
    if not can_drive(session, by, route):
        raise NotVisible(f"stop {stop.id}")
    _still_in_force(session, route)
    if stop.status != StopStatus.PENDING.value:
        raise Conflict(ALREADY_REPORTED)
    _on_its_day(session, route, now)
    note = note.strip()
    if reason == FailureReason.OTHER and not note:
        raise DomainError(N_("Say what went wrong."), field="note")
    if len(note) > NOTE_MAX:
        raise DomainError(N_("Keep the note under %(n)d characters."), field="note", n=NOTE_MAX)
    _take(session, route)
    _report(session, stop, StopStatus.FAILED, by=by, now=now, reason=reason, note=note)
    job = session.get_one(TransportJob, stop.job_id)
    if job.status == JobStatus.PLANNED.value:
        jobs.set_status(session, job, JobStatus.FAILED, by=by, now=now,
                        extra={"changed_after_planning": True, "reason": reason.value, "route_id": route.id,
                               "stop_id": stop.id, "action": stop.action})
    for same_job in session.scalars(select(PlannedStop).where(
            col(PlannedStop.route_id) == route.id, col(PlannedStop.job_id) == stop.job_id,
            col(PlannedStop.id) != stop.id, col(PlannedStop.status) == StopStatus.PENDING.value)
            .execution_options(populate_existing=True)):
        _report(session, same_job, StopStatus.FAILED, by=by, now=now, reason=reason, note=note)
    session.flush()
    return _complete_if_done(session, route, by=by, now=now)


def clear_old_failure_notes(session: Session, *, today: date) -> int:
    """Delete what drivers wrote of the stops they could not make (it may name people)
    ``jobs.NOTES_KEPT`` after the route's day, as what was written for them; returns how many."""
    old_routes = (select(col(PlannedRoute.id)).join(RoutePlan, col(RoutePlan.id) == PlannedRoute.plan_id)
                  .where(col(RoutePlan.day) < today - jobs.NOTES_KEPT))
    result = session.execute(update(PlannedStop).where(col(PlannedStop.route_id).in_(old_routes),
                                                       col(PlannedStop.failure_note) != "").values(failure_note=""))
    return result.rowcount or 0  # type: ignore[attr-defined]  # a DML result is a CursorResult


# --- A route completed ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Attribution:
    job_id: int
    request_id: int | None
    km: float
    co2e_kg: float


def attribute(legs_m: Sequence[int], stops: Sequence[tuple[int, str, int]], *, back_m: int,
              kg_per_km: float) -> list[Attribution]:
    """Each carried job's share of a route's distance and CO2e: the *load-distance share*.

    ``stops``: the route's stops done in order, as (job id, action, litres); ``legs_m[i]`` the
    metres driven to stop i, ``back_m`` those back to the depot. Each leg's distance is shared
    by the jobs on board along it in proportion to their volume (equally when all are of no
    volume): a job's *carried* km. The legs driven with nothing on board (out to the first
    pickup, back from the last delivery, between) are shared in proportion to the carried km
    (equally when nothing was carried at all). So the shares add up to the route's distance,
    and CO2e, the distance times the vehicle's CO2e per km, is shared as the distance.
    Jobs are keyed by id; ``request_id`` is filled in by the caller.
    """
    order: list[int] = []
    carried: dict[int, float] = {}
    on_board: dict[int, int] = {}
    empty = float(back_m)
    for leg, (job_id, action, litres) in zip(legs_m, stops, strict=True):
        if on_board:
            total = sum(on_board.values())
            for key, volume in on_board.items():
                carried[key] += leg * (volume / total if total else 1 / len(on_board))
        else:
            empty += leg
        if job_id not in carried:
            order.append(job_id)
            carried[job_id] = 0.0
        if action == StopAction.PICKUP.value:
            on_board[job_id] = litres
        else:
            on_board.pop(job_id, None)
    if on_board:  # never, for a route whose every pickup is delivered; counted as carried if so
        total = sum(on_board.values())
        for key, volume in on_board.items():
            carried[key] += back_m * (volume / total if total else 1 / len(on_board))
        empty -= back_m
    all_carried = sum(carried.values())
    shares = {key: (carried[key] + empty * (carried[key] / all_carried if all_carried else 1 / len(order)))
              for key in order}
    return [Attribution(key, None, round(shares[key] / 1000, 3), round(shares[key] / 1000 * kg_per_km, 3))
            for key in order]


def _complete_if_done(session: Session, route: PlannedRoute, *, by: Actor, now: datetime) -> bool:
    stops = list(session.scalars(select(PlannedStop).where(col(PlannedStop.route_id) == route.id)
                                 .order_by(col(PlannedStop.position)).execution_options(populate_existing=True)))
    if any(stop.status == StopStatus.PENDING.value for stop in stops):
        return False
    # Compare and set: the route is completed, and its transport recorded, once.
    with session.no_autoflush:
        moved = session.execute(update(PlannedRoute).where(col(PlannedRoute.id) == route.id,
                                                           col(PlannedRoute.status) != RouteStatus.COMPLETED.value)
                                .values(status=RouteStatus.COMPLETED.value, completed_at=now)
                                .execution_options(synchronize_session=False))
    if moved.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult's
        raise Conflict(ALREADY_REPORTED)
    route.status, route.completed_at = RouteStatus.COMPLETED.value, now
    session.add(route)
    vehicle = session.get_one(Vehicle, route.vehicle_id)
    plan = session.get_one(RoutePlan, route.plan_id)
    served = {s.job_id for s in stops if s.status == StopStatus.DONE.value} - {
        s.job_id for s in stops if s.status == StopStatus.FAILED.value}
    job_rows = {id_of(j): j for j in session.scalars(select(TransportJob).where(
        col(TransportJob.id).in_(sorted(served) or [0])))}
    # A failed job's legs are driven all the same: they count as legs with nothing of it on board.
    legs, done = [], []
    pending_leg = 0
    for stop in stops:
        pending_leg += stop.leg_m
        if stop.job_id in served:
            legs.append(pending_leg)
            done.append((stop.job_id, stop.action, job_rows[stop.job_id].volume_l))
            pending_leg = 0
    back_m = route.distance_m - sum(s.leg_m for s in stops) + pending_leg
    km = round(route.distance_m / 1000, 3)
    co2e = round(km * vehicle.co2e_kg_per_km, 3)
    shares = attribute(legs, done, back_m=back_m, kg_per_km=vehicle.co2e_kg_per_km) if done else []
    by_request: dict[int, list[float]] = {}
    for share in shares:
        request_id = job_rows[share.job_id].request_id
        if request_id is not None:
            totals = by_request.setdefault(request_id, [0.0, 0.0])
            totals[0] += share.km
            totals[1] += share.co2e_kg
    record(session, ROUTE_COMPLETED, subject_type=ROUTE_SUBJECT, subject_id=route.id, now=now, actor_id=by.id,
           municipality_id=vehicle.municipality_id,
           payload={"route_id": route.id, "day": plan.day.isoformat(), "km": km, "co2e_kg": co2e,
                    "factor_source": vehicle.co2e_source, "kg_co2e_per_km": vehicle.co2e_kg_per_km, "method": METHOD,
                    "attributions": [{"request_id": request_id, "km": round(values[0], 3),
                                      "co2e_kg": round(values[1], 3)}
                                     for request_id, values in sorted(by_request.items())]})
    session.flush()
    return True
