"""Planning a day: the plan's routes and stops, what is left unserved and why, pins, the same
plan from the same seed, and a plan the feasibility check faults never saved."""

from datetime import time

import pytest
from sqlalchemy import select
from sqlmodel import col

from sharing.clock import utcnow
from sharing.logistics.jobs import rules as jobs
from sharing.logistics.jobs.models import JobStatus, TransportJob
from sharing.logistics.planning import problem
from sharing.logistics.plans import rules as plans
from sharing.logistics.plans.models import PlannedStop, PlanStatus, RoutePlan, UnservedJob
from tests.logistics import build, hours, vehicle

ITERATIONS = 200


@pytest.fixture
def w(factory):
    return build(factory)


def manual(db, w, pickup, delivery, *, volume=0.5, weight=20.0, goods="Stolar"):
    job = jobs.add_manual_job(db, by=w["ystad_coordinator"], now=utcnow(), details=jobs.ManualJobDetails(
        pickup_site_id=pickup.id, delivery_site_id=delivery.id, day=w["monday"], goods=goods, volume_m3=volume,
        weight_kg=weight))
    db.commit()
    return job


def plan(db, w, **options):
    options.setdefault("iterations", ITERATIONS)
    made = plans.plan_day(db, day=w["monday"], by=w["ystad_coordinator"], now=utcnow(), seconds=5, **options)
    db.commit()
    return made


def orders(db, made):
    return [[(stop.job_id, stop.action) for stop, _, _ in view.stops] for view in plans.routes_of(db, made)]


def test_a_small_day_is_planned_in_its_best_order(db, factory, w):
    """Chairs from the depot to a school east of it, and tables from that school to one farther
    east: out along the line and back is the one shortest way."""
    near = factory.site(w["ystad"], "Nära", latitude=55.43, longitude=13.90)
    far = factory.site(w["ystad"], "Långt bort", latitude=55.43, longitude=14.00)
    van = vehicle(db, w)
    onward = manual(db, w, near, far, goods="Bord")
    out = manual(db, w, w["depot"], near, goods="Stolar")
    made = plan(db, w)
    assert made.status == PlanStatus.DONE.value and made.error == ""
    [view] = plans.routes_of(db, made)
    assert view.vehicle.id == van.id
    places = [entry.pickup.site_id if stop.action == "pickup" else entry.delivery.site_id
              for stop, entry, _ in view.stops]
    assert places == [w["depot"].id, near.id, near.id, far.id]
    assert [stop.job_id for stop, _, _ in view.stops][::3] == [out.id, onward.id]
    assert view.stops[-1][2] == 0, "empty once all is delivered"
    legs = [stop.leg_m for stop, _, _ in view.stops]
    assert legs[0] == 0 and legs[2] == 0, "the second stop at a place is no drive"
    # Out along the line and back: the far site's distance twice.
    assert view.route.distance_m == made.distance_m == 2 * sum(legs)
    assert view.route.co2e_kg == pytest.approx(view.route.distance_m / 1000 * view.vehicle.co2e_kg_per_km, abs=1e-3)
    db.expire_all()
    assert {db.get(TransportJob, j.id).status for j in (onward, out)} == {JobStatus.PLANNED.value}


def test_jobs_no_plan_can_serve_are_listed_with_the_reason(db, factory, w):
    vehicle(db, w, volume_m3=2.0)
    tuesdays = factory.site(w["skurup"], "Öppet på tisdagar")
    hours(db, tuesdays, (1, time(8), time(12)))
    closed = manual(db, w, w["depot"], tuesdays)  # on a Monday
    too_big = manual(db, w, w["depot"], w["trelleborg_site"], volume=5.0)
    fine = manual(db, w, w["depot"], w["trelleborg_site"])
    made = plan(db, w)
    reasons = {row.job_id: row.reason for row in db.scalars(select(UnservedJob).where(
        col(UnservedJob.plan_id) == made.id))}
    assert reasons == {closed.id: plans.CLOSED, too_big.id: problem.UnservedReason.TOO_BIG.value}
    assert db.get(TransportJob, fine.id).status == JobStatus.PLANNED.value
    assert db.get(TransportJob, closed.id).status == JobStatus.OPEN.value


def test_a_pinned_job_stays_on_its_vehicle_when_the_day_is_planned_again(db, factory, w):
    first = vehicle(db, w, name="Första")
    second = vehicle(db, w, name="Andra")
    job = manual(db, w, w["depot"], w["trelleborg_site"])
    other = manual(db, w, w["depot"], w["school"])
    for pinned_to in (first, second):
        plans.pin_job(db, job=db.get(TransportJob, job.id), vehicle_id=pinned_to.id, by=w["ystad_coordinator"],
                      now=utcnow())
        db.commit()
        made = plan(db, w)
        on = {stop.job_id: view.vehicle.id for view in plans.routes_of(db, made) for stop, _, _ in view.stops}
        assert on[job.id] == pinned_to.id
        assert other.id in on
    earlier = db.scalars(select(RoutePlan).order_by(col(RoutePlan.id))).all()
    assert [p.status for p in earlier] == [PlanStatus.REPLACED.value, PlanStatus.DONE.value]


def test_the_same_day_and_seed_give_the_same_plan(db, factory, w):
    vehicle(db, w, name="Första")
    vehicle(db, w, name="Andra", volume_m3=3.0)
    sites = [factory.site(w["ystad"], f"Skola {n}", latitude=55.40 + n / 100, longitude=13.70 + n / 50)
             for n in range(6)]
    for n, site in enumerate(sites):
        manual(db, w, w["depot"] if n % 2 else sites[n - 1], site, volume=0.8 + n / 10)
    first, second = plan(db, w, seed=7), plan(db, w, seed=7)
    assert orders(db, first) == orders(db, second) and orders(db, first)
    assert first.distance_m == second.distance_m


def test_a_plan_the_feasibility_check_faults_is_never_saved(db, factory, w, caplog):
    vehicle(db, w)
    job = manual(db, w, w["depot"], factory.site(w["trelleborg"], "Hedvägen", latitude=55.38, longitude=13.16))

    def careless(built, **_):
        """A planner that forgets the drive: it arrives everywhere at once."""
        [van] = built.vehicles
        [shipment] = built.shipments
        stops = (problem.Stop(shipment.key, problem.StopAction.PICKUP, shipment.pickup, 25200, 25200, 25800),
                 problem.Stop(shipment.key, problem.StopAction.DELIVERY, shipment.delivery, 25800, 25800, 26400))
        return problem.Plan((problem.Route(van.key, stops, 25200, 26400, 0),), ())

    made = plan(db, w, solve=careless)
    assert made.status == PlanStatus.FAILED.value
    assert "too_fast" in caplog.text or "arrives" in made.error
    assert db.scalars(select(PlannedStop)).all() == []
    assert db.get(TransportJob, job.id).status == JobStatus.OPEN.value


def test_only_coordinators_plan_and_only_with_their_vehicles(db, w):
    from sharing.errors import DomainError, NotAllowed
    theirs = vehicle(db, w, by="trelleborg_coordinator", depot_site_id=w["trelleborg_site"].id)
    with pytest.raises(NotAllowed):
        plans.plan_day(db, day=w["monday"], by=w["ystad_admin"], now=utcnow(), seconds=1)
    with pytest.raises(DomainError):
        plans.plan_day(db, day=w["monday"], by=w["ystad_coordinator"], now=utcnow(), seconds=1,
                       vehicle_ids=[theirs.id])
