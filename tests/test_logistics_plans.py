"""Planning a day: the plan's routes and stops, what is left unserved and why, pins, the same
plan from the same seed, and a plan the feasibility check faults never saved."""

import re
import threading
from datetime import datetime, time, timedelta, timezone
from time import monotonic, sleep

import pytest
from sqlalchemy import func, select, text
from sqlmodel import col

from sharing.accounts.models import Notification, Role
from sharing.clock import SWEDEN, today_in_sweden, utcnow
from sharing.errors import Conflict, DomainError, NotAllowed, NotVisible
from sharing.events import events_of
from sharing.loans.requests import rules as loans
from sharing.loans.requests.models import HandoverMethod, LoanRequest, RequestStatus
from sharing.logistics.jobs import rules as jobs
from sharing.logistics.jobs.models import JobStatus, TransportJob
from sharing.logistics.planning import problem
from sharing.logistics.plans import driving
from sharing.logistics.plans import rules as plans
from sharing.logistics.plans.models import (
    FailureReason,
    JobPin,
    PlannedRoute,
    PlannedStop,
    PlanStatus,
    RoutePlan,
    RouteStatus,
    StopStatus,
    UnservedJob,
)
from sharing.logistics.vehicles.models import Vehicle
from sharing.reports.ledger.rules import TRANSPORT_COMPLETED
from tests.conftest import csrf_token
from tests.logistics import ask, build, hours, jobs_of, the_day_comes, vehicle

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


def on_the_day(w, hour=9):
    """An instant on the planned Monday, Swedish time: when its driver reports its stops."""
    return datetime.combine(w["monday"], time(hour), tzinfo=SWEDEN).astimezone(timezone.utc)


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


@pytest.mark.parametrize("job_id", [str(2**31), str(2**63), "not a number"])
def test_a_pin_naming_a_job_no_database_can_hold_is_not_found(app, client, auth, db, w, job_id):
    """The pin form's job is an id from the outside world: one the databases cannot hold (above
    PostgreSQL's integer, above SQLite's) names no job, a 404, never a 500."""
    van = vehicle(db, w)
    waiting = plans.request_plan(db, day=w["monday"], vehicle_ids=[van.id], seconds=1, seed=0,
                                 by=w["ystad_coordinator"], now=utcnow())
    db.commit()
    auth.login(w["ystad_coordinator"])
    token = csrf_token(client, f"/logistics/plans/{waiting.id}")
    answer = client.post(f"/logistics/plans/{waiting.id}/pin",
                         data={"csrf_token": token, "job_id": job_id, "vehicle_id": str(van.id)})
    assert answer.status_code == 404
    assert db.scalar(select(func.count()).select_from(JobPin)) == 0


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
    # As the page plans it: the planning time becomes an iteration budget, not a clock.
    third, fourth = plan(db, w, seed=7, iterations=None), plan(db, w, seed=7, iterations=None)
    assert orders(db, third) == orders(db, fourth) and third.distance_m == fourth.distance_m


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


@pytest.mark.parametrize("jointly", [False, True])
def test_a_job_or_vehicle_on_another_municipalitys_plan_is_not_planned_again(app, client, auth, db, factory, w,
                                                                             jointly):
    """A job between Ystad and Skurup is seen by the coordinators of both (of all, planning
    jointly): once on Ystad's plan, Skurup's plan of the day leaves it out and says who has it;
    nor does it drive a vehicle Ystad's plan drives."""
    from sharing.logistics.coordination import rules as coordination
    from tests.conftest import Auth
    if jointly:
        for admin in (w["ystad_admin"], factory.user(w["skurup"], Role.MUNICIPALITY_ADMIN)):
            coordination.set_joint_planning(db, joined=True, by=admin, now=utcnow())
        db.commit()
    shared = vehicle(db, w, by="skurup_coordinator", name="Skurups bil", depot_site_id=w["school"].id, shared=True)
    own = vehicle(db, w, by="skurup_coordinator", name="Skolbilen", depot_site_id=w["school"].id)
    request = approved_loan(app, db, w)
    ystad = plan(db, w, vehicle_ids=[shared.id])
    [view] = plans.routes_of(db, ystad)
    assert view.vehicle.id == shared.id and len(view.stops) == 2
    skurup = plans.plan_day(db, day=w["monday"], by=w["skurup_coordinator"], now=utcnow(), seconds=1,
                            vehicle_ids=[shared.id, own.id], iterations=ITERATIONS)
    db.commit()
    assert skurup.status == PlanStatus.DONE.value
    job = jobs_of(db, request)["delivery"]
    assert [(row.job_id, row.reason) for row, _ in plans.unserved_of(db, skurup)] == [(job.id, plans.ELSEWHERE)]
    assert plans.routes_of(db, skurup) == [] or all(
        v.vehicle.id == own.id and not v.stops for v in plans.routes_of(db, skurup))
    assert db.get(RoutePlan, ystad.id).status == PlanStatus.DONE.value, "both plans are in force"
    assert db.scalar(select(func.count()).select_from(PlannedStop).where(col(PlannedStop.job_id) == job.id)) == 2
    Auth(client).login(w["skurup_coordinator"])
    page = client.get(f"/logistics/plans/{skurup.id}").get_data(as_text=True)
    assert "Redan planerat av Ystad" in page
    # Only the vehicle Ystad's plan drives: Skurup's plan cannot be made.
    again = plans.plan_day(db, day=w["monday"], by=w["skurup_coordinator"], now=utcnow(), seconds=1,
                           vehicle_ids=[shared.id], iterations=ITERATIONS)
    db.commit()
    assert again.status == PlanStatus.FAILED.value and "another municipality" in again.error
    # Ystad's route: its pickup is pinned to a vehicle, its delivery goes with it, and says so.
    Auth(client).logout()
    Auth(client).login(w["ystad_coordinator"])
    page = client.get(f"/logistics/plans/{ystad.id}").get_data(as_text=True)
    assert page.count('data-label="Lås till fordon">Med sin hämtning</td>') == 1


def test_two_plans_made_at_once_do_not_both_take_a_job(app, db, factory, w):
    """Skurup's plan is being made when Ystad's, made meanwhile, takes the job: Skurup's is
    checked again as it is saved, and fails rather than carry the job a second time."""
    from sharing.db import new_session
    from sharing.logistics.planning import solver
    ystad_van = vehicle(db, w)
    skurup_van = vehicle(db, w, by="skurup_coordinator", name="Skolbilen", depot_site_id=w["school"].id)
    request = approved_loan(app, db, w)
    skurup = plans.request_plan(db, day=w["monday"], vehicle_ids=[skurup_van.id], seconds=1, seed=0,
                                by=w["skurup_coordinator"], now=utcnow())
    db.commit()
    assert plans.claim(db, skurup.id, from_status=PlanStatus.QUEUED)
    db.commit()  # as the runner claims it: running, and nothing of it written until it is saved
    db.expire_all()

    def meanwhile(built, **options):
        made = solver.solve(built, **options)
        with app.app_context(), new_session() as other:
            coordinator = other.get(type(w["ystad_coordinator"]), w["ystad_coordinator"].id)
            plans.plan_day(other, day=w["monday"], by=coordinator, now=utcnow(), seconds=1,
                           vehicle_ids=[ystad_van.id], iterations=ITERATIONS)
            other.commit()
        return made

    plans.run_plan(db, db.get(RoutePlan, skurup.id), by=w["skurup_coordinator"], now=utcnow(),
                   iterations=ITERATIONS, solve=meanwhile)
    db.commit()
    db.expire_all()
    assert db.get(RoutePlan, skurup.id).status == PlanStatus.FAILED.value
    job = jobs_of(db, request)["delivery"]
    assert db.scalar(select(func.count()).select_from(PlannedStop).where(col(PlannedStop.job_id) == job.id)) == 2


def test_only_coordinators_plan_and_only_with_their_vehicles(db, w):
    theirs = vehicle(db, w, by="trelleborg_coordinator", depot_site_id=w["trelleborg_site"].id)
    with pytest.raises(NotAllowed):
        plans.plan_day(db, day=w["monday"], by=w["ystad_admin"], now=utcnow(), seconds=1)
    with pytest.raises(DomainError):
        plans.plan_day(db, day=w["monday"], by=w["ystad_coordinator"], now=utcnow(), seconds=1,
                       vehicle_ids=[theirs.id])


# --- The driver ---------------------------------------------------------------------------------

def approved_loan(app, db, w):
    request = ask(db, w)
    with app.app_context():
        loans.approve(db, request, by=w["manager"], now=utcnow())
        db.commit()
    return request


def test_the_driver_drives_a_route_and_loans_and_reports_follow(app, db, factory, w):
    driver = factory.user(w["ystad"], Role.DRIVER)
    van = vehicle(db, w)
    request = approved_loan(app, db, w)
    other = manual(db, w, w["depot"], factory.site(w["ystad"], "Bortom", latitude=55.50, longitude=13.95),
                   volume=1.2)
    made = plan(db, w)
    [route] = driving.routes_for(db, driver, day=w["monday"])
    assert (route[0].plan_id, route[1].id) == (made.id, van.id)
    view = plans.route_view(db, route[0])
    with app.app_context():
        for stop, _, _ in view.stops:
            completed = driving.report_done(db, db.get(PlannedStop, stop.id), by=driver, now=on_the_day(w))
            db.commit()
    assert completed
    db.expire_all()
    loan = db.get(LoanRequest, request.id)
    assert loan.status == RequestStatus.HANDED_OVER.value
    assert loan.handover_method == HandoverMethod.TRANSPORT.value and loan.handover_confirmed_by_owner_at
    # The owner's facility manager hears that their pieces left, as news: the driver confirmed for them.
    owners_news = db.scalars(select(Notification.message).where(Notification.user_id == w["manager"].id,
                                                                Notification.url == f"/loans/{request.id}")).all()
    assert "“%(listing)s” is handed over by transport." in owners_news
    assert "“%(listing)s” is noted as handed over: please confirm." not in owners_news
    delivery = jobs_of(db, request)["delivery"]
    assert delivery.status == JobStatus.DONE.value and db.get(TransportJob, other.id).status == JobStatus.DONE.value
    assert db.get(PlannedRoute, route[0].id).status == RouteStatus.COMPLETED.value
    [event] = events_of(db, subject_type=driving.ROUTE_SUBJECT, subject_id=route[0].id)
    assert event.name == TRANSPORT_COMPLETED and event.municipality_id == w["ystad"].id
    payload = event.payload
    assert payload["km"] == pytest.approx(route[0].distance_m / 1000)
    assert payload["co2e_kg"] == pytest.approx(payload["km"] * van.co2e_kg_per_km, abs=1e-3)
    assert payload["method"] == driving.METHOD and payload["factor_source"] == van.co2e_source
    assert payload["kg_co2e_per_km"] == van.co2e_kg_per_km  # the factor itself, for the reports to name
    [share] = payload["attributions"]  # the manual job serves no request
    assert share["request_id"] == request.id and 0 < share["km"] < payload["km"]


def picked_up(app, db, w, driver):
    """A loan's day planned with one van, its pickup reported by the driver (committed: the
    loans' handover event reaches logistics' receivers); the request and the delivery stop."""
    vehicle(db, w)
    request = approved_loan(app, db, w)
    plan(db, w)
    [(route, _)] = driving.routes_for(db, driver, day=w["monday"])
    (pickup, _, _), (delivery, _, _) = plans.route_view(db, route).stops[:2]
    with app.app_context():
        driving.report_done(db, pickup, by=driver, now=on_the_day(w))
        db.commit()
    return request, delivery


def test_the_pickup_by_the_jobs_own_route_is_no_change_to_its_plan(app, db, factory, w):
    """The driver's pickup hands the pieces over in loans; that handover, made by the job's own
    route, neither tells its coordinators that the job is no longer needed nor marks it changed:
    the job is done when its delivery is."""
    driver = factory.user(w["ystad"], Role.DRIVER)
    request, delivery = picked_up(app, db, w, driver)
    db.expire_all()
    assert db.get(LoanRequest, request.id).status == RequestStatus.HANDED_OVER.value
    job = jobs_of(db, request)["delivery"]
    assert (job.status, job.changed_after_planning) == (JobStatus.PLANNED.value, False)
    with app.app_context():
        driving.report_done(db, db.get(PlannedStop, delivery.id), by=driver, now=on_the_day(w, 10))
        db.commit()
    job = jobs_of(db, request)["delivery"]
    assert (job.status, job.changed_after_planning) == (JobStatus.DONE.value, False)
    told = db.scalars(select(Notification)).all()
    assert not [n.message for n in told if "no longer needed" in n.message]


def test_the_driver_s_register_extract_says_the_stops_they_reported_in_words(app, client, auth, db, factory, w):
    driver = factory.user(w["ystad"], Role.DRIVER)
    request, delivery = picked_up(app, db, w, driver)
    with app.app_context():
        driving.report_failed(db, db.get(PlannedStop, delivery.id), reason=FailureReason.NOBODY_THERE, note="",
                              by=driver, now=on_the_day(w, 10))
        db.commit()
    goods = jobs_of(db, request)["delivery"].goods
    auth.login(driver)
    stops = client.get("/account/personal-data.json").get_json()["sections"]["route_stops"]
    assert [(s["goods"], s["action"], s["action_code"], s["status"], s["failure_reason"]) for s in stops] == [
        (goods, "Lämna", "delivery", "Misslyckat", "Ingen på plats"), (goods, "Hämta", "pickup", "Klar", None)]


def test_stops_are_reported_on_the_routes_day_and_a_delivery_after_its_pickup(app, db, factory, w):
    driver = factory.user(w["ystad"], Role.DRIVER)
    vehicle(db, w)
    approved_loan(app, db, w)
    plan(db, w)
    [(route, _)] = driving.routes_for(db, driver, day=w["monday"])
    (pickup, _, _), (delivery, _, _) = plans.route_view(db, route).stops
    the_evening_before = datetime.combine(w["monday"] - timedelta(days=1), time(23, 30), tzinfo=SWEDEN)
    with app.app_context():
        for report in (lambda: driving.report_done(db, pickup, by=driver, now=the_evening_before),
                       lambda: driving.report_failed(db, pickup, reason=FailureReason.CLOSED, note="", by=driver,
                                                     now=the_evening_before)):
            with pytest.raises(Conflict) as refused:
                report()
            db.rollback()
            assert refused.value.params == {"day": w["monday"].isoformat()}
            assert "report its stops on that day" in str(refused.value)
        with pytest.raises(Conflict) as refused:
            driving.report_done(db, db.get(PlannedStop, delivery.id), by=driver, now=on_the_day(w))
        db.rollback()
        assert "Report the pickup first" in str(refused.value)
        db.expire_all()
        assert [s.status for s in db.scalars(select(PlannedStop))] == ["pending", "pending"]
        assert db.get(PlannedRoute, route.id).status == RouteStatus.PLANNED.value
        driving.report_done(db, db.get(PlannedStop, pickup.id), by=driver, now=on_the_day(w, 0))
        assert driving.report_done(db, db.get(PlannedStop, delivery.id), by=driver, now=on_the_day(w))
        db.commit()


def test_attributions_add_up_to_the_route(db):
    legs, back = [1000, 0, 3000, 2000], 4000
    stops = [(1, "pickup", 100), (2, "pickup", 300), (1, "delivery", 100), (2, "delivery", 300)]
    shares = driving.attribute(legs, stops, back_m=back, kg_per_km=0.25)
    assert sum(s.km for s in shares) == pytest.approx(10.0, abs=0.002)
    assert sum(s.co2e_kg for s in shares) == pytest.approx(2.5, abs=0.002)
    # The leg both were on board: 3000 m by volume, 750 and 2250; then 2000 m job 2's alone.
    carried = {1: 750, 2: 2250 + 2000}
    empty = 1000 + 4000
    for share in shares:
        expected = carried[share.job_id] + empty * carried[share.job_id] / 5000
        assert share.km == pytest.approx(expected / 1000, abs=0.001)


def test_a_failed_stop_sends_the_job_back_to_its_coordinators(app, db, factory, w):
    driver = factory.user(w["ystad"], Role.DRIVER)
    vehicle(db, w)
    request = approved_loan(app, db, w)
    plan(db, w)
    [(route, _)] = driving.routes_for(db, driver, day=w["monday"])
    first = plans.route_view(db, route).stops[0][0]
    with app.app_context():
        with pytest.raises(DomainError):
            driving.report_failed(db, first, reason=FailureReason.OTHER, note=" ", by=driver, now=on_the_day(w))
        db.rollback()
        completed = driving.report_failed(db, db.get(PlannedStop, first.id), reason=FailureReason.NOBODY_THERE,
                                          note="", by=driver, now=on_the_day(w))
        db.commit()
    assert completed, "the delivery fails with its pickup: nothing is left"
    db.expire_all()
    job = jobs_of(db, request)["delivery"]
    assert (job.status, job.changed_after_planning) == (JobStatus.FAILED.value, True)
    assert db.get(LoanRequest, request.id).status == RequestStatus.APPROVED.value
    told = db.scalars(select(Notification).where(col(Notification.user_id) == w["ystad_coordinator"].id)).all()
    assert any("could not carry" in n.message for n in told)
    [event] = events_of(db, subject_type=driving.ROUTE_SUBJECT, subject_id=route.id)
    assert event.payload["attributions"] == []


def failed_transport(app, db, factory, w, *, request=None, reason=FailureReason.CLOSED,
                     note="Grinden låst, ingen svarar"):
    """A loan's day (its request approved now unless given) planned with the van, whose driver
    reports its pickup failed (and with it the delivery); the request and its delivery job, failed."""
    driver = factory.user(w["ystad"], Role.DRIVER)
    if not db.scalars(select(Vehicle)).first():
        vehicle(db, w)
    request = request or approved_loan(app, db, w)
    plan(db, w)
    [(route, _)] = driving.routes_for(db, driver, day=w["monday"])
    first = plans.route_view(db, route).stops[0][0]
    with app.app_context():
        driving.report_failed(db, first, reason=reason, note=note, by=driver, now=on_the_day(w))
        db.commit()
    db.expire_all()
    return request, jobs_of(db, request)["delivery"]


def told(db, user):
    db.expire_all()
    return db.scalars(select(Notification).where(col(Notification.user_id) == user.id)
                      .order_by(col(Notification.id))).all()


def in_english(app, notification):
    from flask_babel import force_locale

    from sharing.accounts.labels import notification_text
    with app.test_request_context(), force_locale("en"):
        return notification_text(notification)


def test_a_failed_stop_tells_its_coordinators_the_reason_and_keeps_the_note_on_the_job(app, db, factory, w, mailbox):
    """The driver's note may name people: it stays on the stop, which the retention scrubs, and
    is read on the job's page; no notice or mail copies it."""
    w["ystad_coordinator"].locale = "en"
    db.add(w["ystad_coordinator"])
    db.commit()
    request, job = failed_transport(app, db, factory, w)
    assert jobs.last_failure(db, job).failure_reason == FailureReason.CLOSED.value
    assert jobs.last_failure(db, job).failure_note == "Grinden låst, ingen svarar"
    day = w["monday"].isoformat()
    said = f"The driver could not carry “Konferensstolar” on {day} (reason: Closed): plan it again."
    for coordinator in (w["ystad_coordinator"], w["skurup_coordinator"]):
        [notice] = told(db, coordinator)
        assert in_english(app, notice) == said and notice.url == f"/logistics/jobs/{job.id}"
        assert "Grinden" not in repr(notice.params)
    [mail] = [m for m in mailbox.messages if m["To"] == w["ystad_coordinator"].email]
    assert said in " ".join(mail.get_content().split()) and "Grinden" not in mail.get_content()
    # It goes when what was written for the driver goes: NOTES_KEPT after the route's day.
    assert driving.clear_old_failure_notes(db, today=w["monday"] + jobs.NOTES_KEPT) == 0
    noted = db.scalar(select(func.count()).select_from(PlannedStop).where(PlannedStop.failure_note != ""))
    assert noted == 2  # the pickup, and the delivery that failed with it
    assert driving.clear_old_failure_notes(db, today=w["monday"] + jobs.NOTES_KEPT + timedelta(days=1)) == noted
    db.commit()
    assert jobs.last_failure(db, job).failure_note == "" and jobs.last_failure(db, job).failure_reason == "closed"


def test_the_people_of_the_request_are_told_the_transport_failed_and_when_it_is_planned_again(
        app, client, auth, db, factory, w, mailbox):
    from sharing.accounts.mail_preferences.rules import choose
    from sharing.loans import mail_kinds
    from sharing.loans.reminders.notices import DELIVERY_SOON
    from sharing.logistics.jobs import notices

    employee, manager = w["employee"], w["manager"]
    employee.locale = "en"
    db.add(employee)
    request = approved_loan(app, db, w)
    # The reminder of the day before: it comes tomorrow.
    from sharing.accounts import notifications
    notifications.notify(db, user_id=employee.id, message=DELIVERY_SOON[0], params={"listing": "Konferensstolar",
                         "day": w["monday"].isoformat()}, url=f"/loans/{request.id}", now=utcnow())
    choose(db, manager.id, mailed=[kind for kind in ("loans.decided",)], now=utcnow())  # no handover mail
    db.commit()
    mailbox.messages.clear()
    request, job = failed_transport(app, db, factory, w, request=request)
    day = w["monday"].isoformat()
    for user in (employee, manager):
        notice = told(db, user)[-1]
        assert (notice.message, notice.url) == (notices.REQUEST_FAILED, f"/loans/{request.id}")
        assert notice.params["reason"] == {"msgid": "Closed", "context": "stop failure"}
    assert in_english(app, told(db, employee)[-1]) == (
        f"The transport of “Konferensstolar” on {day} could not be carried out (reason: Closed). "
        "It will be planned again: you will be told the new day.")
    assert "Grinden" not in str(told(db, employee)[-1].params), "the driver's note is for the coordinators"
    soon = [n for n in told(db, employee) if n.message == DELIVERY_SOON[0]]
    assert soon and all(n.read_at is not None for n in soon), "it no longer comes tomorrow"
    mailed = {m["To"]: m for m in mailbox.messages}
    assert employee.email in mailed and manager.email not in mailed, "the manager keeps handover mail off"
    body = " ".join(mailed[employee.email].get_content().split())
    assert "could not be carried out (reason: Closed)" in body and f"/loans/{request.id}" in body
    assert mail_kinds.HANDOVER  # the kind those told choose by
    auth.login(employee)
    page = " ".join(client.get(f"/loans/{request.id}").get_data(as_text=True).split())
    assert f"The transport of “Konferensstolar” on {day} could not be carried out (reason: Closed)." in page

    tuesday = w["monday"] + timedelta(days=1)
    coordinator = w["skurup_coordinator"]  # the requester's end plans it again
    with app.app_context():
        jobs.plan_again(db, db.get(TransportJob, job.id), day=tuesday, by=coordinator, now=on_the_day(w))
        db.commit()
    notice = told(db, employee)[-1]
    assert notice.message == notices.REQUEST_PLANNED_AGAIN
    assert in_english(app, notice) == (f"The transport of “Konferensstolar” that could not be carried out is "
                                       f"planned again, for {tuesday.isoformat()}.")
    assert told(db, manager)[-1].message == notices.REQUEST_PLANNED_AGAIN
    page = " ".join(client.get(f"/loans/{request.id}").get_data(as_text=True).split())
    assert f"is planned again, for {tuesday.isoformat()}." in page and "(reason: Closed)" not in page


def test_a_coordinator_of_either_end_plans_a_failed_job_again_on_a_day_to_come(app, db, factory, w):
    request, job = failed_transport(app, db, factory, w)
    now = on_the_day(w)
    wednesday = w["monday"] + timedelta(days=2)
    with pytest.raises(NotVisible):
        jobs.plan_again(db, job, day=wednesday, by=w["trelleborg_coordinator"], now=now)
    with pytest.raises(DomainError) as refused:
        jobs.plan_again(db, job, day=w["monday"] - timedelta(days=1), by=w["ystad_coordinator"], now=now)
    assert refused.value.field == "day"
    with pytest.raises(DomainError) as refused:  # the loan ends on Thursday: its delivery is no later
        jobs.plan_again(db, job, day=w["monday"] + timedelta(days=4), by=w["ystad_coordinator"], now=now)
    assert refused.value.field == "day"
    db.rollback()
    # Once the loan's last day has passed, no day is left: the job's page says what to do instead.
    after_the_loan = on_the_day(w) + timedelta(days=5)
    with pytest.raises(Conflict, match="last day has passed"):
        jobs.plan_again(db, job, day=w["monday"] + timedelta(days=6), by=w["ystad_coordinator"], now=after_the_loan)
    db.rollback()
    jobs.plan_again(db, db.get(TransportJob, job.id), day=wednesday, by=w["skurup_coordinator"], now=now)
    db.commit()
    db.expire_all()
    job = db.get(TransportJob, job.id)
    assert (job.status, job.day, job.changed_after_planning) == (JobStatus.OPEN.value, wednesday, False)
    last = events_of(db, subject_type="logistics.transport_job", subject_id=job.id)[-1]
    assert last.name == "logistics.transport_job.reopened" and last.actor_id == w["skurup_coordinator"].id
    assert last.payload["from"] == "failed"
    assert last.payload["changes"] == {"day": [w["monday"].isoformat(), wednesday.isoformat()]}
    with pytest.raises(Conflict):  # open now: planned again once
        jobs.plan_again(db, job, day=wednesday, by=w["ystad_coordinator"], now=now)
    db.rollback()
    # The request's events do not take it back to its first day, gone by.
    with app.app_context():
        loans.extend(db, db.get(LoanRequest, request.id), last_day=w["monday"] + timedelta(days=5),
                     by=w["employee"], now=now)
        db.commit()
    db.expire_all()
    assert db.get(TransportJob, job.id).day == wednesday


def test_a_failed_return_moved_with_its_loan_is_told_as_planned_again(app, db, factory, w):
    """The return's pickup failed; the borrower then extends the loan, which takes the return to
    its new last day: the people of the request hear that it is planned again, for that day."""
    from sharing.logistics.jobs import notices

    driver = factory.user(w["ystad"], Role.DRIVER)
    vehicle(db, w)
    request = ask(db, w, days=1)  # delivered and fetched back the same Monday
    with app.app_context():
        loans.approve(db, request, by=w["manager"], now=utcnow())
        db.commit()
    plan(db, w)
    back = jobs_of(db, request)["return"]
    [(route, _)] = driving.routes_for(db, driver, day=w["monday"])
    with app.app_context():
        for stop, _, _ in plans.route_view(db, route).stops:
            stop = db.get(PlannedStop, stop.id)
            if stop.job_id == back.id and stop.action == "pickup":
                driving.report_failed(db, stop, reason=FailureReason.NOBODY_THERE, note="", by=driver,
                                      now=on_the_day(w))
            elif stop.job_id != back.id:
                driving.report_done(db, stop, by=driver, now=on_the_day(w))
            db.commit()
    db.expire_all()
    assert jobs_of(db, request)["return"].status == JobStatus.FAILED.value
    later = w["monday"] + timedelta(days=2)
    with app.app_context():
        loans.extend(db, db.get(LoanRequest, request.id), last_day=later, by=w["employee"], now=on_the_day(w, 15))
        db.commit()
    db.expire_all()
    assert (jobs_of(db, request)["return"].status, jobs_of(db, request)["return"].day) == (JobStatus.OPEN.value, later)
    for user in (w["employee"], w["manager"]):
        notice = told(db, user)[-1]
        assert (notice.message, notice.params["day"]) == (notices.REQUEST_PLANNED_AGAIN, later.isoformat()), user


def test_only_the_vehicles_drivers_report_its_stops(app, db, factory, w):
    vehicle(db, w)
    approved_loan(app, db, w)
    plan(db, w)
    skurup_driver = factory.user(w["skurup"], Role.DRIVER)
    assert driving.routes_for(db, skurup_driver, day=w["monday"]) == []
    stop = db.scalars(select(PlannedStop)).first()
    with pytest.raises(NotVisible):
        driving.report_done(db, stop, by=skurup_driver, now=utcnow())
    with pytest.raises(NotAllowed):
        driving.routes_for(db, w["ystad_coordinator"], day=w["monday"])


def test_a_coordinator_plans_on_the_page_and_the_driver_reports_on_theirs(app, client, auth, db, factory, w):
    from tests.conftest import Auth, csrf_token
    van = vehicle(db, w)
    manual(db, w, w["depot"], factory.site(w["ystad"], "Bortom", latitude=55.50, longitude=13.95))
    auth.login(w["ystad_coordinator"])
    # A day is planned the working day before: the form offers the next weekday.
    tomorrow = today_in_sweden(utcnow()) + timedelta(days=1)
    offered = tomorrow + timedelta(days=max(0, 7 - tomorrow.weekday()) if tomorrow.weekday() >= 5 else 0)
    assert f'name="day" required value="{offered.isoformat()}"' in client.get("/logistics/plans/").get_data(
        as_text=True)
    token = csrf_token(client, "/logistics/plans/")
    response = client.post("/logistics/plans/", data={"csrf_token": token, "day": w["monday"].isoformat(),
                                                      "vehicle_ids": [str(van.id)], "seconds": "1"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'role="status"' in page and "Bortom" in page and "Skåpbilen" in page
    assert client.post("/logistics/plans/", data={"csrf_token": token, "day": "", "seconds": "1"}).status_code == 422
    driver = factory.user(w["ystad"], Role.DRIVER)
    client = app.test_client()
    Auth(client).login(driver)
    [(route, _)] = driving.routes_for(db, driver, day=w["monday"])
    # A day without routes leads to the next day with the municipality's routes (none of another's)
    the_day_before = (w["monday"] - timedelta(days=1)).isoformat()
    page = client.get(f"/logistics/driver/?day={the_day_before}").get_data(as_text=True)
    assert f'href="/logistics/driver/?day={w["monday"].isoformat()}"' in page
    other = app.test_client()
    Auth(other).login(factory.user(w["skurup"], Role.DRIVER))
    assert f'href="/logistics/driver/?day={w["monday"].isoformat()}"' not in other.get(
        f"/logistics/driver/?day={the_day_before}").get_data(as_text=True)
    token = csrf_token(client, f"/logistics/driver/routes/{route.id}")
    the_day_comes(db, route.plan_id)
    for stop, _, _ in plans.route_view(db, route).stops:
        assert client.post(f"/logistics/driver/stops/{stop.id}/done", data={"csrf_token": token}).status_code == 302
    db.expire_all()
    assert db.get(PlannedRoute, route.id).status == RouteStatus.COMPLETED.value
    # The coordinator's plan now says what each stop came to, and offers no pins for a day driven.
    plan_page = auth.client.get(f"/logistics/plans/{route.plan_id}").get_data(as_text=True)
    assert ">Rapporterat<" in plan_page and ">Lås till fordon<" not in plan_page
    assert len(re.findall(r"<td[^>]*>Klar</td>", plan_page)) == len(plans.route_view(db, route).stops)


def test_a_driver_on_a_plan_replaced_meanwhile_is_led_to_the_day_s_new_routes(app, client, auth, db, factory, w):
    """The driver opened the route before the day was planned again: its page and its reports
    lead to the day's routes as they are now, saying why (not "not found"); the API answers 409."""
    from tests.conftest import csrf_token
    driver = factory.user(w["ystad"], Role.DRIVER)
    vehicle(db, w)
    approved_loan(app, db, w)
    plan(db, w)
    [(route, _)] = driving.routes_for(db, driver, day=w["monday"])
    first = plans.route_view(db, route).stops[0][0]
    auth.login(driver)
    token = csrf_token(client, f"/logistics/driver/routes/{route.id}")
    plan(db, w)  # planned again, before any report
    day_page = f"/logistics/driver/?day={w['monday'].isoformat()}"
    for request_it in (lambda: client.get(f"/logistics/driver/routes/{route.id}"),
                lambda: client.post(f"/logistics/driver/stops/{first.id}/done", data={"csrf_token": token}),
                lambda: client.post(f"/logistics/driver/stops/{first.id}/failed",
                                    data={"csrf_token": token, "reason": "closed"})):
        answer = request_it()
        assert (answer.status_code, answer.headers["Location"]) == (302, day_page)
        assert "Dagen har planerats om" in client.get(day_page).get_data(as_text=True)
    from tests.test_api import PREFIX, bearer, create_token
    answer = app.test_client().post(f"{PREFIX}/driver/stops/{first.id}/done", headers=bearer(create_token(client)))
    assert answer.status_code == 409 and "planned again" in answer.get_json()["detail"]
    db.expire_all()
    assert db.get(PlannedStop, first.id).status == StopStatus.PENDING.value


def test_the_driver_is_offered_the_reasons_a_stop_fails_in_swedish(app, client, auth, db, factory, w):
    """"Closed" as a reason a stop failed is the site closed ("Stängt"), not a status ("Avslutad")."""
    driver = factory.user(w["ystad"], Role.DRIVER)
    vehicle(db, w)
    approved_loan(app, db, w)
    plan(db, w)
    [(route, _)] = driving.routes_for(db, driver, day=w["monday"])
    auth.login(driver)
    the_day_comes(db, route.plan_id)  # reasons are offered on the route's day
    page = client.get(f"/logistics/driver/routes/{route.id}").get_data(as_text=True)
    reasons = re.findall(r'<label for="reason-\d+-(\w+)">([^<]+)</label>', page)
    assert dict(reasons) == {"nobody_there": "Ingen på plats", "closed": "Stängt", "wrong_address": "Fel adress",
                             "damaged": "Skadat eller inte som beskrivet",
                             "partly_there": "Bara några av exemplaren på plats", "other": "Annat"}


def a_route_in_english(app, db, factory, w):
    """A loan's day planned with the van, and its driver, who reads English."""
    driver = factory.user(w["ystad"], Role.DRIVER)
    driver.locale = "en"
    db.add(driver)
    vehicle(db, w)
    approved_loan(app, db, w)
    plan(db, w)
    [(route, _)] = driving.routes_for(db, driver, day=w["monday"])
    return driver, route


def test_before_its_day_a_route_offers_no_reports_and_says_when_they_are_made(app, client, auth, db, factory, w):
    driver, route = a_route_in_english(app, db, factory, w)
    auth.login(driver)
    page = " ".join(client.get(f"/logistics/driver/routes/{route.id}").get_data(as_text=True).split())
    day = w["monday"].isoformat()
    assert f'Skåpbilen, <span class="nowrap">{day}</span></h1>' in page
    assert (f'You report the stops on the route\'s day, <span class="nowrap">{day}</span>: then you can mark each '
            "one done or failed.") in page.replace("&#39;", "'")
    assert "/done" not in page and "/failed" not in page
    the_day_comes(db, route.plan_id)
    page = client.get(f"/logistics/driver/routes/{route.id}").get_data(as_text=True)
    assert "/done" in page and "You report the stops" not in page


def test_after_a_report_the_driver_is_back_at_the_stop_with_its_message(app, client, auth, db, factory, w):
    from tests.conftest import csrf_token
    driver, route = a_route_in_english(app, db, factory, w)
    the_day_comes(db, route.plan_id)
    auth.login(driver)
    token = csrf_token(client, f"/logistics/driver/routes/{route.id}")
    first, second = (stop for stop, _, _ in plans.route_view(db, route).stops[:2])
    answer = client.post(f"/logistics/driver/stops/{first.id}/done", data={"csrf_token": token})
    assert answer.headers["Location"] == f"/logistics/driver/routes/{route.id}?at={first.id}#stop-{first.id}"
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    at_stop = page[page.index(f'<li id="stop-{first.id}" tabindex="-1"'):page.index(f'<li id="stop-{second.id}"')]
    assert 'role="status"' in at_stop and "The stop is done." in at_stop
    assert page.count("The stop is done.") == 1, "shown at the stop, not at the page's top too"
    refused = client.post(f"/logistics/driver/stops/{second.id}/failed", data={"csrf_token": token})
    assert refused.headers["Location"].endswith(f"?at={second.id}#stop-{second.id}")
    page = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "Choose what went wrong." in page[page.index(f'<li id="stop-{second.id}"'):]


def test_a_day_whose_route_has_started_is_not_planned_again_and_the_page_says_why(app, client, auth, db, factory,
                                                                                  w):
    from tests.conftest import csrf_token
    driver = factory.user(w["ystad"], Role.DRIVER)
    van = vehicle(db, w)
    approved_loan(app, db, w)
    made = plan(db, w)
    waiting = plans.request_plan(db, day=w["monday"], vehicle_ids=[van.id], seconds=1, seed=0,
                                 by=w["ystad_coordinator"], now=utcnow())  # asked for before the route started
    db.commit()
    [(route, _)] = driving.routes_for(db, driver, day=w["monday"])
    with app.app_context():
        driving.report_done(db, plans.route_view(db, route).stops[0][0], by=driver, now=on_the_day(w))
        db.commit()
    plans.run_plan(db, waiting, by=w["ystad_coordinator"], now=utcnow(), iterations=ITERATIONS)
    db.commit()
    assert waiting.status == PlanStatus.FAILED.value and waiting.error == plans.STARTED
    with pytest.raises(Conflict):
        plans.request_plan(db, day=w["monday"], vehicle_ids=[van.id], seconds=1, seed=0, by=w["ystad_coordinator"],
                           now=utcnow())
    db.rollback()
    auth.login(w["ystad_coordinator"])
    said = "En av rutterna i planen för den dagen har redan påbörjats: dagen kan inte planeras igen."
    for shown in (waiting, made):
        page = client.get(f"/logistics/plans/{shown.id}").get_data(as_text=True)
        assert "Planera dagen igen" not in page
    assert f"Planen kunde inte göras: {said}" in client.get(f"/logistics/plans/{waiting.id}").get_data(as_text=True)
    token = csrf_token(client, "/logistics/plans/")
    answer = client.post(f"/logistics/plans/{made.id}/replan", data={"csrf_token": token}, follow_redirects=True)
    assert said in answer.get_data(as_text=True)
    answer = client.post("/logistics/plans/", data={"csrf_token": token, "day": w["monday"].isoformat(),
                                                    "vehicle_ids": [str(van.id)], "seconds": "1"})
    assert answer.status_code == 422 and said in answer.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(RoutePlan)) == 2


def until_blocked_or_done(engine, thread):
    """Wait while the thread runs until it waits for a lock another transaction holds (or ends).
    PostgreSQL shows the wait; SQLite does not (its writer sleeps in the busy handler): there the
    thread is given a moment to get to it."""
    if engine.dialect.name != "postgresql":
        thread.join(0.5)
        return
    waiting = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                   " AND wait_event_type = 'Lock'")
    deadline = monotonic() + 60
    while thread.is_alive() and monotonic() < deadline:
        with engine.connect() as connection:  # a transaction of its own: the activity is read anew
            if connection.scalar(waiting):
                return
        sleep(0.01)


def in_thread(app, work):
    """Run ``work(session)`` on a thread, in a session of its own, committed; returns the thread
    and what it raised (filled in once it has ended)."""
    from sharing.db import new_session
    raised = []

    def run():
        try:
            with app.app_context(), new_session() as session:
                work(session)
                session.commit()
        except Exception as error:  # noqa: BLE001 - the test reads it
            raised.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, raised


@pytest.mark.parametrize("again_with", ["van", "bike"])
def test_a_first_report_before_the_day_is_planned_again_keeps_the_plan_in_force(app, db, factory, w, again_with):
    """The driver's first report is made, not yet committed, when a plan of the day asked for
    earlier is saved: the saving waits for the report, sees the route started, and fails. The
    new plan takes the job again (the same van) or leaves it (a cargo bike too small for it)."""
    from sharing.accounts.models import User
    from sharing.logistics.planning import solver
    driver = factory.user(w["ystad"], Role.DRIVER)
    chosen = {"van": vehicle(db, w), "bike": vehicle(db, w, name="Lådcykeln", volume_m3=0.2, payload_kg=100)}
    manual(db, w, w["depot"], w["school"])
    made = plan(db, w, vehicle_ids=[chosen["van"].id])
    waiting = plans.request_plan(db, day=w["monday"], vehicle_ids=[chosen[again_with].id], seconds=1, seed=0,
                                 by=w["ystad_coordinator"], now=utcnow())
    db.commit()
    assert plans.claim(db, waiting.id, from_status=PlanStatus.QUEUED)
    db.commit()  # as the runner claims it: nothing of it is written again until it is saved
    [(route, _)] = driving.routes_for(db, driver, day=w["monday"])
    first = plans.route_view(db, route).stops[0][0]
    solved = threading.Event()

    def solve(built, **options):
        made = solver.solve(built, **options)
        solved.set()  # what is left is the saving
        return made

    def plan_again(session):
        plans.run_plan(session, session.get_one(RoutePlan, waiting.id),
                       by=session.get_one(User, w["ystad_coordinator"].id), now=utcnow(), iterations=ITERATIONS,
                       solve=solve)

    with app.app_context():
        driving.report_done(db, driving.stop_to_report(db, driver, first.id), by=driver, now=on_the_day(w))
        thread, raised = in_thread(app, plan_again)
        assert solved.wait(60)
        until_blocked_or_done(db.get_bind(), thread)
        db.commit()
    thread.join(60)
    assert not thread.is_alive() and not raised
    db.expire_all()
    assert db.get(RoutePlan, waiting.id).status == PlanStatus.FAILED.value
    assert db.get(RoutePlan, waiting.id).error == plans.STARTED
    assert db.get(RoutePlan, made.id).status == PlanStatus.DONE.value
    assert db.get(PlannedRoute, route.id).status == RouteStatus.STARTED.value


def test_a_first_report_while_the_day_is_planned_again_is_refused_once_it_is(app, db, factory, w):
    """The day is planned again, not yet committed, when the driver reports the first stop of
    the plan it replaces: the report waits for the planning, finds its route's plan no longer
    in force, and is refused as a report made after it would be."""
    from sharing.accounts.models import User
    driver = factory.user(w["ystad"], Role.DRIVER)
    vehicle(db, w)
    manual(db, w, w["depot"], w["school"])
    made = plan(db, w)
    [(route, _)] = driving.routes_for(db, driver, day=w["monday"])
    first = plans.route_view(db, route).stops[0][0]

    def report(session):
        by = session.get_one(User, driver.id)
        driving.report_done(session, driving.stop_to_report(session, by, first.id), by=by, now=on_the_day(w))

    again = plans.plan_day(db, day=w["monday"], by=w["ystad_coordinator"], now=utcnow(), seconds=1,
                           iterations=ITERATIONS)
    assert again.status == PlanStatus.DONE.value
    thread, raised = in_thread(app, report)
    until_blocked_or_done(db.get_bind(), thread)
    db.commit()
    thread.join(60)
    assert not thread.is_alive()
    assert [type(error) for error in raised] == [driving.Replanned]
    db.expire_all()
    assert db.get(RoutePlan, made.id).status == PlanStatus.REPLACED.value
    assert db.get(PlannedRoute, route.id).status == RouteStatus.PLANNED.value
    assert db.get(PlannedStop, first.id).status == StopStatus.PENDING.value


def test_a_day_gone_by_is_offered_no_planning_again(app, db, w):
    vehicle(db, w)
    approved_loan(app, db, w)
    made = plan(db, w)
    assert plans.can_plan_again(db, made, today=w["monday"])
    assert not plans.can_plan_again(db, made, today=w["monday"] + timedelta(days=1))


def test_a_plan_being_made_is_followed_by_a_script_and_a_polite_status_not_a_refresh(app, client, auth, db, w):
    van = vehicle(db, w)
    waiting = plans.request_plan(db, day=w["monday"], vehicle_ids=[van.id], seconds=1, seed=0,
                                 by=w["ystad_coordinator"], now=utcnow())
    db.commit()
    auth.login(w["ystad_coordinator"])
    page = client.get(f"/logistics/plans/{waiting.id}").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in page  # WCAG 2.2.1: no page reloads itself
    assert f'data-progress-status="/logistics/plans/{waiting.id}/status"' in page
    assert '<progress id="plan-progress" max="100" value="0">' in page and '<label for="plan-progress"' in page
    assert 'role="status" aria-live="polite" data-progress-announce' in page
    without_script = f'<a href="/logistics/plans/{waiting.id}">Se hur långt planeringen har kommit</a>'
    assert without_script in page
    assert '<script src="/static/js/progress.js" defer></script>' in page and "<script>" not in page
    with client.get("/static/js/progress.js") as script:
        assert script.status_code == 200 and "data-progress-status" in script.get_data(as_text=True)
    assert client.get(f"/logistics/plans/{waiting.id}/status").get_json() == {
        "status": "queued", "progress": 0, "done": 0, "total": 100, "label": "Väntar på att planeras",
        "finished": False, "text": "0 %", "announce": "Väntar på att planeras: 0 %"}
    plans.run_plan(db, waiting, by=w["ystad_coordinator"], now=utcnow(), iterations=ITERATIONS)
    db.commit()
    assert client.get(f"/logistics/plans/{waiting.id}/status").get_json()["finished"] is True
    page = client.get(f"/logistics/plans/{waiting.id}").get_data(as_text=True)
    assert "progress.js" not in page and 'role="status"' in page
    other = app.test_client()
    from tests.conftest import Auth
    Auth(other).login(w["trelleborg_coordinator"])
    assert other.get(f"/logistics/plans/{waiting.id}/status").status_code == 404


def test_plans_left_behind_are_planned_or_failed_by_the_job(app, db, w):
    """The logistics-plans job: a plan queued and never started is planned; one running far
    past its time (its process stopped) is failed; a plan just asked for is left to its runner."""

    from sharing.logistics.plans import runner
    van = vehicle(db, w)
    manual(db, w, w["depot"], w["trelleborg_site"])
    long_ago = utcnow() - runner.LEFT_BEHIND - timedelta(minutes=5)

    def asked(**fields):
        made = plans.request_plan(db, day=w["monday"], vehicle_ids=[van.id], seconds=1, seed=0,
                                  by=w["ystad_coordinator"], now=utcnow())
        for name, value in fields.items():
            setattr(made, name, value)
        db.add(made)
        db.commit()
        return made.id

    queued = asked(created_at=long_ago)
    stopped = asked(status=PlanStatus.RUNNING.value, started_at=long_ago, created_at=long_ago)
    fresh = asked()
    with app.app_context():
        runner.pick_up_left_behind()
    db.expire_all()
    assert db.get(RoutePlan, queued).status == PlanStatus.DONE.value
    assert db.get(RoutePlan, stopped).status == PlanStatus.FAILED.value
    assert "stopped" in db.get(RoutePlan, stopped).error
    assert db.get(RoutePlan, fresh).status == PlanStatus.QUEUED.value
