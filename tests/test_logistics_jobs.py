"""Transport jobs: made from the events of approved requests that need transport, following their
request as it changes, added by coordinators, and read on their day as the planner needs them."""

from datetime import time, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from sharing.accounts import audit
from sharing.accounts.models import Notification, Role
from sharing.clock import today_in_sweden, utcnow
from sharing.errors import Conflict, DomainError, NotAllowed, NotVisible
from sharing.events import DomainEvent, events_of
from sharing.loans import events as loans_events
from sharing.loans.requests import rules as loans
from sharing.loans.requests.models import HandoverMethod, RequestKind
from sharing.logistics import events
from sharing.logistics.coordination import rules as coordination
from sharing.logistics.jobs import notices
from sharing.logistics.jobs import rules as jobs
from sharing.logistics.jobs.models import JobKind, JobStatus, LoadSource, TransportJob
from sharing.logistics.planning.problem import Shipment, Window
from sharing.logistics.vehicles import rules as vehicles
from tests.logistics import ask, build, jobs_of, vehicle

OPEN, PLANNED, DONE, CANCELLED = JobStatus.OPEN.value, JobStatus.PLANNED.value, JobStatus.DONE.value, \
    JobStatus.CANCELLED.value


@pytest.fixture
def w(factory):
    return build(factory)


def approve(app, db, w, request):
    """The owner's manager approves; the events go to their receivers once committed."""
    with app.app_context():
        loans.approve(db, request, by=w["manager"], now=utcnow())
        db.commit()


def plan(db, job, w):
    jobs.set_status(db, db.get(TransportJob, job.id), JobStatus.PLANNED, by=w["ystad_coordinator"], now=utcnow())
    db.commit()


def notified(db, user):
    db.expire_all()
    mine = select(Notification).where(Notification.user_id == user.id)
    return [(n.message, n.params, n.url) for n in db.scalars(mine)]


def test_an_approved_loan_with_transport_gets_its_delivery_and_its_return(app, db, w):
    request = ask(db, w)
    assert jobs_of(db, request) == {}, "nothing while it is only asked for"
    approve(app, db, w, request)
    found = jobs_of(db, request)
    assert set(found) == {"delivery", "return"}
    delivery, back = found["delivery"], found["return"]
    assert (delivery.day, delivery.pickup_site_id, delivery.delivery_site_id) == (
        w["monday"], w["depot"].id, w["school"].id)
    assert (delivery.pickup_municipality_id, delivery.delivery_municipality_id) == (w["ystad"].id, w["skurup"].id)
    assert (back.day, back.pickup_site_id, back.delivery_site_id) == (
        w["monday"] + timedelta(days=3), w["school"].id, w["depot"].id)
    for job in (delivery, back):
        # 3 pieces of 0.4 m³ and 7.3 kg: 1200 litres (not 1201, whatever floats say) and 21.9 kg, rounded up.
        assert (job.status, job.quantity, job.volume_l, job.weight_kg, job.load_source, job.goods) == (
            OPEN, 3, 1200, 22, LoadSource.LISTING.value, "Konferensstolar")
        assert (job.listing_id, job.changed_after_planning, job.created_by_id) == (w["chairs"].id, False, None)
        assert [e.name for e in events_of(db, subject_type=events.JOB_SUBJECT, subject_id=job.id)] == [
            events.JOB_CREATED]
    with app.test_request_context(headers={"Accept-Language": "sv"}):  # as the audit trail says it
        [made] = events_of(db, subject_type=events.JOB_SUBJECT, subject_id=delivery.id)
        assert ("Last", "1\u00a0200 liter, 22 kg") in audit.event_details(db, made)


def test_a_request_without_transport_gets_no_jobs(app, db, w):
    request = ask(db, w, transport=False)
    approve(app, db, w, request)
    assert jobs_of(db, request) == {}


def test_a_take_over_is_delivered_and_a_swap_brings_the_offered_pieces_back(app, db, factory, w):
    take_over = ask(db, w, kind=RequestKind.TAKE_OVER, quantity=1)
    approve(app, db, w, take_over)
    assert set(jobs_of(db, take_over)) == {"delivery"}
    shelves = factory.listing_published(site=w["school"], by=w["skurup_manager"], title="Bokhyllor", quantity=4,
                                        swap=True, weight_kg=20, volume_m3=0.6)
    swap = ask(db, w, kind=RequestKind.SWAP, quantity=2, offered_listing_id=shelves.id, offered_quantity=2)
    approve(app, db, w, swap)
    found = jobs_of(db, swap)
    assert set(found) == {"delivery", "exchange"}
    exchange = found["exchange"]
    assert (exchange.pickup_site_id, exchange.delivery_site_id, exchange.day) == (
        w["school"].id, w["depot"].id, w["monday"])
    assert (exchange.listing_id, exchange.quantity, exchange.volume_l, exchange.weight_kg, exchange.goods) == (
        shelves.id, 2, 1200, 40, "Bokhyllor")


def test_a_listing_without_figures_takes_its_category_s_and_without_those_the_load_is_unknown(app, db, factory, w):
    shelves = factory.category("Hylla")  # no figures yet: the listing is saved without any
    listing = factory.listing_published(site=w["depot"], by=w["manager"], category=shelves, title="Hyllor",
                                        quantity=10, lend=True)
    assert (listing.volume_m3, listing.weight_kg) == (None, None)
    unknown = ask(db, w, listing_id=listing.id, quantity=2)
    approve(app, db, w, unknown)
    assert {(j.volume_l, j.weight_kg, j.load_source) for j in jobs_of(db, unknown).values()} == {
        (0, 0, LoadSource.UNKNOWN.value)}
    factory.figures(shelves, weight_kg=12.5, volume_m3=0.35, now=utcnow() - timedelta(minutes=1))
    estimated = ask(db, w, listing_id=listing.id, quantity=3)
    approve(app, db, w, estimated)
    assert {(j.volume_l, j.weight_kg, j.load_source) for j in jobs_of(db, estimated).values()} == {
        (1050, 38, LoadSource.CATEGORY.value)}


def test_each_job_on_its_day_has_its_sites_opening_windows_and_says_when_a_site_is_closed(app, db, w):
    on_monday = ask(db, w)
    on_friday = ask(db, w, first=w["monday"] + timedelta(days=4), days=1)
    for request in (on_monday, on_friday):
        approve(app, db, w, request)
    monday, friday = jobs_of(db, on_monday)["delivery"], jobs_of(db, on_friday)["delivery"]
    entry, closed = jobs.scheduled(db, [monday, friday])
    assert entry.pickup.windows == (Window(7 * 3600, 16 * 3600),)
    # The school's two intervals, earliest first; the planner takes the longest.
    assert entry.delivery.windows == (Window(7 * 3600 + 1800, 12 * 3600), Window(13 * 3600, 15 * 3600 + 1800))
    assert entry.delivery.window == Window(7 * 3600 + 1800, 12 * 3600)
    assert not entry.closed
    assert jobs.shipment_of(entry, pickup=3, delivery=5, pickup_service_s=600) == Shipment(
        key=str(monday.id), pickup=3, delivery=5, load=(1200, 22), pickup_window=Window(25200, 57600),
        delivery_window=Window(27000, 43200), pickup_service_s=600)
    # Fridays the school is closed: the job says so, and is no shipment (it is listed unserved).
    assert closed.delivery.windows == () and closed.delivery.closed and closed.closed
    assert jobs.shipment_of(closed, pickup=3, delivery=5) is None


def test_a_site_without_opening_hours_on_record_takes_deliveries_all_day(db, w):
    saturday = w["monday"] + timedelta(days=5)
    job = jobs.add_manual_job(db, details=manual(w, day=saturday), by=w["ystad_coordinator"], now=utcnow())
    [entry] = jobs.scheduled(db, [job])
    assert entry.delivery.windows == (Window(0, 24 * 3600 - 1),) and not entry.delivery.closed
    assert entry.pickup.closed, "Ystad's depot is closed on Saturdays"


def test_a_cancelled_request_cancels_its_open_jobs_quietly_and_its_planned_ones_are_told(app, db, w, mailbox):
    request = ask(db, w)
    approve(app, db, w, request)
    plan(db, jobs_of(db, request)["delivery"], w)
    with app.app_context():
        loans.cancel(db, request, by=w["employee"], now=utcnow())
        db.commit()
    found = jobs_of(db, request)
    assert {kind: job.status for kind, job in found.items()} == {"delivery": CANCELLED, "return": CANCELLED}
    assert (found["delivery"].changed_after_planning, found["return"].changed_after_planning) == (True, False)
    assert [e.name for e in events_of(db, subject_type=events.JOB_SUBJECT, subject_id=found["delivery"].id)] == [
        events.JOB_CREATED, events.JOB_PLANNED, events.JOB_CANCELLED]
    # The coordinators of both ends are told of the planned one, once; others are not.
    day = w["monday"].isoformat()
    for coordinator in (w["ystad_coordinator"], w["skurup_coordinator"]):
        assert notified(db, coordinator) == [(notices.TOLD[events.JOB_CANCELLED],
                                              {"goods": "Konferensstolar", "day": day, "from": day, "to": day},
                                              f"/logistics/jobs/{found['delivery'].id}")]
    assert notified(db, w["trelleborg_coordinator"]) == []
    told = {m["To"]: m for m in mailbox.messages if "planerad transport" in m["Subject"]}
    assert set(told) == {w["ystad_coordinator"].email, w["skurup_coordinator"].email}
    body = told[w["ystad_coordinator"].email].get_content()
    assert f"Den planerade transporten av ”Konferensstolar” den {day} är inställd." in body
    assert f"http://delning.test/logistics/jobs/{found['delivery'].id}" in body


def test_a_declined_request_makes_no_jobs(app, db, w):
    request = ask(db, w)
    with app.app_context():
        loans.decline(db, request, reason="Behövs själva", by=w["manager"], now=utcnow())
        db.commit()
    assert jobs_of(db, request) == {}


def test_an_extended_loan_moves_its_return_and_a_planned_return_is_open_again_and_told(app, db, w, mailbox):
    request = ask(db, w)
    approve(app, db, w, request)
    back = jobs_of(db, request)["return"]
    sunday = w["monday"] + timedelta(days=6)
    with app.app_context():
        loans.extend(db, request, last_day=w["monday"] + timedelta(days=5), by=w["employee"], now=utcnow())
        db.commit()
    moved = jobs_of(db, request)["return"]
    assert (moved.id, moved.day, moved.status, moved.changed_after_planning) == (
        back.id, w["monday"] + timedelta(days=5), OPEN, False)
    assert jobs_of(db, request)["delivery"].day == w["monday"], "the delivery stays"
    plan(db, moved, w)
    with app.app_context():
        loans.extend(db, db.get(type(request), request.id), last_day=sunday, by=w["employee"], now=utcnow())
        db.commit()
    moved = jobs_of(db, request)["return"]
    assert (moved.day, moved.status, moved.changed_after_planning) == (sunday, OPEN, True)
    [changed, *_] = reversed(events_of(db, subject_type=events.JOB_SUBJECT, subject_id=moved.id))
    assert changed.name == events.JOB_CHANGED
    assert changed.payload["changes"] == {"day": [(w["monday"] + timedelta(days=5)).isoformat(), sunday.isoformat()]}
    [(message, params, _url)] = notified(db, w["ystad_coordinator"])
    assert message == notices.TOLD[events.JOB_CHANGED]
    assert (params["from"], params["to"]) == ((w["monday"] + timedelta(days=5)).isoformat(), sunday.isoformat())


def test_an_event_handled_twice_or_late_makes_nothing_twice(app, db, w):
    request = ask(db, w)
    approve(app, db, w, request)
    first = {kind: job.id for kind, job in jobs_of(db, request).items()}
    approved = db.scalars(select(DomainEvent).where(DomainEvent.name == loans_events.APPROVED,
                                                    DomainEvent.subject_id == request.id)).one()
    with app.app_context():
        notices.follow(db, approved)  # handed to the receiver once more
        db.commit()
    assert {kind: job.id for kind, job in jobs_of(db, request).items()} == first
    assert db.scalar(select(func.count()).select_from(TransportJob)) == 2
    # And the database holds it so: a second delivery for one request is refused.
    db.add(TransportJob(kind=JobKind.DELIVERY.value, request_id=request.id, goods="Dubbel",
                        pickup_site_id=w["depot"].id, delivery_site_id=w["school"].id,
                        pickup_municipality_id=w["ystad"].id, delivery_municipality_id=w["skurup"].id,
                        day=w["monday"]))
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()


def test_a_request_followed_only_once_handed_over_gets_its_return_but_no_delivery(db, w):
    """Its approval's event handled late (a receiver retried after the handover): the pieces are
    already there, so only the loan's return is still to be carried."""
    request = ask(db, w)
    loans.approve(db, request, by=w["manager"], now=utcnow())  # outside the app: no receiver runs yet
    loans.hand_over(db, request, condition=None, method=HandoverMethod.PICKUP, by=w["manager"], now=utcnow())
    db.commit()
    made = jobs.follow_request(db, request_id=request.id, now=utcnow())
    db.commit()
    assert [job.kind for job in made] == ["return"] and set(jobs_of(db, request)) == {"return"}


def test_the_loans_own_handover_and_return_mark_the_jobs_done(app, db, w):
    request = ask(db, w, first=today_in_sweden(utcnow()))
    approve(app, db, w, request)
    plan(db, jobs_of(db, request)["delivery"], w)
    with app.app_context():  # handed over on its day, by the transport: as planned, nobody is told
        loans.hand_over(db, request, condition=None, method=HandoverMethod.TRANSPORT, by=w["manager"], now=utcnow())
        db.commit()
    found = jobs_of(db, request)
    assert (found["delivery"].status, found["delivery"].changed_after_planning, found["return"].status) == (
        DONE, False, OPEN)
    with app.app_context():
        loans.take_back(db, request, condition=None, remarks="", damage="", by=w["manager"], now=utcnow())
        db.commit()
    assert jobs_of(db, request)["return"].status == DONE
    assert notified(db, w["ystad_coordinator"]) == []


def test_a_planned_delivery_the_requester_fetched_is_no_longer_needed_and_told(app, db, w):
    request = ask(db, w)
    approve(app, db, w, request)
    plan(db, jobs_of(db, request)["delivery"], w)
    with app.app_context():
        loans.hand_over(db, request, condition=None, method=HandoverMethod.PICKUP, by=w["manager"], now=utcnow())
        db.commit()
    delivery = jobs_of(db, request)["delivery"]
    assert (delivery.status, delivery.changed_after_planning) == (DONE, True)
    [(message, params, url)] = notified(db, w["skurup_coordinator"])
    assert message == notices.TOLD[events.JOB_DONE] and url == f"/logistics/jobs/{delivery.id}"


# --- Coordinators' own jobs, and who sees what --------------------------------------------------

def manual(w, **overrides):
    values = dict(pickup_site_id=w["depot"].id, delivery_site_id=w["trelleborg_site"].id, day=w["monday"],
                  goods="Två whiteboardtavlor", volume_m3=0.35, weight_kg=24.2, quantity=2, notes="Ring på porten")
    return jobs.ManualJobDetails(**{**values, **overrides})


def test_a_coordinator_adds_a_job_by_hand_and_cancels_it(db, w):
    job = jobs.add_manual_job(db, details=manual(w), by=w["ystad_coordinator"], now=utcnow())
    db.commit()
    assert (job.kind, job.status, job.request_id, job.volume_l, job.weight_kg, job.load_source) == (
        "manual", OPEN, None, 350, 25, "entered")
    assert (job.pickup_municipality_id, job.delivery_municipality_id, job.created_by_id, job.notes) == (
        w["ystad"].id, w["trelleborg"].id, w["ystad_coordinator"].id, "Ring på porten")
    jobs.cancel_job(db, job, by=w["trelleborg_coordinator"], now=utcnow())  # the other end's coordinator may
    db.commit()
    assert job.status == CANCELLED
    with pytest.raises(Conflict):
        jobs.cancel_job(db, job, by=w["ystad_coordinator"], now=utcnow())


def test_a_coordinator_planning_jointly_carries_a_job_by_hand_but_only_its_ends_cancel_it(db, w, factory):
    # From Ystad to Trelleborg
    job = jobs.add_manual_job(db, details=manual(w), by=w["trelleborg_coordinator"], now=utcnow())
    skurup_admin = factory.user(w["skurup"], Role.MUNICIPALITY_ADMIN)
    for admin in (w["ystad_admin"], skurup_admin):  # Skurup plans jointly with Ystad
        coordination.set_joint_planning(db, joined=True, by=admin, now=utcnow())
    db.commit()
    skurup = w["skurup_coordinator"]
    assert jobs.job_to_see(db, skurup, job.id).id == job.id
    with pytest.raises(NotAllowed):
        jobs.cancel_job(db, job, by=skurup, now=utcnow())
    db.rollback()
    assert db.get(TransportJob, job.id).status == OPEN
    jobs.cancel_job(db, job, by=w["ystad_coordinator"], now=utcnow())  # an end's coordinator may
    db.commit()
    assert job.status == CANCELLED


def test_a_coordinator_planning_jointly_cancels_a_job_they_added_between_two_other_municipalities(db, w, factory):
    skurup_admin = factory.user(w["skurup"], Role.MUNICIPALITY_ADMIN)
    for admin in (w["ystad_admin"], skurup_admin):  # Skurup plans jointly with Ystad
        coordination.set_joint_planning(db, joined=True, by=admin, now=utcnow())
    db.commit()
    skurup = w["skurup_coordinator"]
    # From Ystad to Trelleborg: one end a municipality Skurup's coordinator plans for
    job = jobs.add_manual_job(db, details=manual(w), by=skurup, now=utcnow())
    db.commit()
    jobs.cancel_job(db, job, by=skurup, now=utcnow())  # what they may add, they may take back
    db.commit()
    assert job.status == CANCELLED


def test_the_other_end_is_told_of_a_planned_job_cancelled_as_of_when_it_was_cancelled(app, db, w):
    planned, cancelled = (utcnow().replace(microsecond=0) - timedelta(hours=hours) for hours in (2, 1))
    with app.app_context():  # each commit hands its events to their receivers
        job = jobs.add_manual_job(db, details=manual(w), by=w["ystad_coordinator"], now=planned)
        jobs.set_status(db, job, JobStatus.PLANNED, by=w["ystad_coordinator"], now=planned)
        db.commit()
        jobs.cancel_job(db, job, by=w["ystad_coordinator"], now=cancelled)
        db.commit()
    db.expire_all()
    told = db.scalars(select(Notification).where(Notification.user_id == w["trelleborg_coordinator"].id)).all()
    assert [(n.message, n.created_at) for n in told] == [(notices.TOLD[events.JOB_CANCELLED], cancelled)]


@pytest.mark.parametrize(("overrides", "field"), [
    ({"delivery_site_id": "depot"}, "delivery_site_id"),
    ({"day": -1}, "day"),
    ({"goods": "  "}, "goods"),
    ({"volume_m3": 0.0}, "volume_m3"),
    ({"weight_kg": float("nan")}, "weight_kg"),
    ({"pickup_site_id": "school", "delivery_site_id": "trelleborg_site"}, "pickup_site_id"),
    ({"pickup_site_id": 10**6}, "pickup_site_id"),
])
def test_a_job_by_hand_is_checked(db, w, overrides, field):
    values = {name: w[value].id if isinstance(value, str) and value in w else value
              for name, value in overrides.items()}
    if values.get("day") == -1:
        values["day"] = today_in_sweden(utcnow()) - timedelta(days=1)
    with pytest.raises(DomainError) as refused:
        jobs.add_manual_job(db, details=manual(w, **values), by=w["ystad_coordinator"], now=utcnow())
    assert refused.value.field == field


def test_only_coordinators_add_jobs_and_a_request_s_job_ends_with_its_request(app, db, w):
    with pytest.raises(NotAllowed):
        jobs.add_manual_job(db, details=manual(w), by=w["ystad_admin"], now=utcnow())
    request = ask(db, w)
    approve(app, db, w, request)
    with pytest.raises(Conflict):
        jobs.cancel_job(db, jobs_of(db, request)["delivery"], by=w["ystad_coordinator"], now=utcnow())


def test_a_coordinator_sees_the_jobs_of_their_municipality_and_of_those_planning_jointly(app, db, w):
    request = ask(db, w)  # Ystad to Skurup
    approve(app, db, w, request)
    delivery = jobs_of(db, request)["delivery"]
    trelleborg = w["trelleborg_coordinator"]
    assert jobs.job_to_see(db, w["skurup_coordinator"], delivery.id).id == delivery.id
    with pytest.raises(NotVisible):
        jobs.job_to_see(db, trelleborg, delivery.id)
    with pytest.raises(NotVisible):  # an employee of an end's municipality sees no jobs
        jobs.job_to_see(db, w["ystad_employee"], delivery.id)
    assert jobs.jobs_for_day(db, day=w["monday"], by=trelleborg) == []
    coordination.set_joint_planning(db, joined=True, by=w["ystad_admin"], now=utcnow())
    db.commit()
    with pytest.raises(NotVisible):  # Ystad alone plans jointly: Trelleborg still plans on its own
        jobs.job_to_see(db, trelleborg, delivery.id)
    coordination.set_joint_planning(db, joined=True, by=w["trelleborg_admin"], now=utcnow())
    db.commit()
    assert jobs.job_to_see(db, trelleborg, delivery.id).id == delivery.id
    day = jobs.jobs_for_day(db, day=w["monday"], by=trelleborg)
    assert [entry.job.id for entry in day] == [delivery.id]
    found = jobs.find_jobs(db, by=trelleborg, filters=jobs.JobFilters(from_day=w["monday"]))
    assert {entry.job.kind for entry in found.items} == {"delivery", "return"} and found.total == 2
    # One municipality of those they plan for: Ystad's are these; Skurup plans on its own.
    for municipality, total in ((w["ystad"], 2), (w["skurup"], 0)):
        assert jobs.find_jobs(db, by=trelleborg, filters=jobs.JobFilters(municipality_id=municipality.id)).total \
            == total
    # And those told of a change are the coordinators of every municipality planning jointly.
    told = {user.id for user in jobs.coordinators_told(db, delivery)}
    assert told == {w["ystad_coordinator"].id, w["skurup_coordinator"].id, trelleborg.id}
    with pytest.raises(NotAllowed):
        jobs.find_jobs(db, by=w["ystad_admin"], filters=jobs.JobFilters())


def test_a_job_moves_on_by_its_status_machine_and_two_steps_at_once_are_one(app, db, w):
    job = jobs.add_manual_job(db, details=manual(w), by=w["ystad_coordinator"], now=utcnow())
    db.commit()
    jobs.set_status(db, job, JobStatus.PLANNED, by=w["ystad_coordinator"], now=utcnow())
    jobs.set_status(db, job, JobStatus.FAILED, by=w["ystad_coordinator"], now=utcnow())
    jobs.set_status(db, job, JobStatus.OPEN, by=w["ystad_coordinator"], now=utcnow())
    db.commit()
    with pytest.raises(Conflict):
        jobs.set_status(db, job, JobStatus.FAILED, by=w["ystad_coordinator"], now=utcnow())
    with Session(bind=app.extensions["sharing.engine"], expire_on_commit=False) as other:
        seen_by_other = other.get(TransportJob, job.id)  # both read it open
        jobs.set_status(db, job, JobStatus.PLANNED, by=w["ystad_coordinator"], now=utcnow())
        db.commit()
        with pytest.raises(Conflict, match="meanwhile"):
            jobs.set_status(other, seen_by_other, JobStatus.CANCELLED, by=w["trelleborg_coordinator"], now=utcnow())
    assert [e.name for e in events_of(db, subject_type=events.JOB_SUBJECT, subject_id=job.id)] == [
        events.JOB_CREATED, events.JOB_PLANNED, events.JOB_FAILED, events.JOB_REOPENED, events.JOB_PLANNED]


def test_what_was_written_for_the_driver_goes_a_while_after_the_day(db, w):
    job = jobs.add_manual_job(db, details=manual(w), by=w["ystad_coordinator"], now=utcnow())
    db.commit()
    assert jobs.clear_old_notes(db, today=w["monday"] + jobs.NOTES_KEPT) == 0
    assert jobs.clear_old_notes(db, today=w["monday"] + jobs.NOTES_KEPT + timedelta(days=1)) == 1
    db.commit()
    db.refresh(job)
    assert job.notes == ""


def test_a_vehicle_is_what_the_planner_takes(db, w):
    van = vehicle(db, w, volume_m3=10.8, payload_kg=950, shift_start=time(6, 30), shift_end=time(15))
    assert vehicles.capacity(van) == (10800, 950)
    planned = vehicles.planning_vehicle(van, depot=0)
    assert (planned.key, planned.depot, planned.capacity, planned.shift, planned.cost_per_km) == (
        str(van.id), 0, (10800, 950), Window(6 * 3600 + 1800, 15 * 3600), 7.5)


def test_the_privacy_notice_states_how_long_notes_for_drivers_are_kept(client):
    page = client.get("/privacy").get_data(as_text=True)
    assert ("Anteckningar till chauffören i ett transportuppdrag, och chaufförens anteckning om ett stopp som inte "
            f"blev av, raderas {jobs.NOTES_KEPT.days} dagar efter dagen") in page


def test_the_drivers_of_a_job_s_municipalities_report_it_done_or_failed_and_nothing_else(db, factory, w):
    job = jobs.add_manual_job(db, details=manual(w), by=w["ystad_coordinator"], now=utcnow())  # Ystad to Trelleborg
    jobs.set_status(db, job, JobStatus.PLANNED, by=w["ystad_coordinator"], now=utcnow())
    db.commit()
    driver = factory.user(w["trelleborg"], Role.DRIVER)
    with pytest.raises(NotAllowed):
        jobs.set_status(db, job, JobStatus.OPEN, by=driver, now=utcnow())
    for stranger in (factory.user(w["skurup"], Role.DRIVER), w["ystad_employee"], w["skurup_coordinator"]):
        with pytest.raises(NotVisible):
            jobs.set_status(db, job, JobStatus.DONE, by=stranger, now=utcnow())
    jobs.set_status(db, job, JobStatus.FAILED, by=driver, now=utcnow())
    db.commit()
    assert job.status == JobStatus.FAILED.value
