"""Transport through the pages: coordinators' jobs and vehicles, confined to their role and to the
municipalities they plan for, in Swedish, with every change behind a CSRF token."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from sharing.accounts.models import Role, User
from sharing.clock import today_in_sweden, utcnow
from sharing.loans.requests import rules as loans
from sharing.loans.requests.models import LoanRequest
from sharing.logistics.coordination.models import JointPlanning
from sharing.logistics.jobs import rules as jobs
from sharing.logistics.jobs.models import JobStatus, TransportJob
from sharing.logistics.vehicles.models import Vehicle
from tests.conftest import csrf_token
from tests.logistics import ask, build, jobs_of, vehicle


@pytest.fixture
def w(factory):
    return build(factory)


def approved(app, db, w, **kwargs):
    request = ask(db, w, **kwargs)
    with app.app_context():
        loans.approve(db, request, by=w["manager"], now=utcnow())
        db.commit()
    return jobs_of(db, request)


def post(client, path, **data):
    return client.post(path, data={"csrf_token": csrf_token(client, "/"), **data})


def test_the_menu_leads_coordinators_to_their_jobs_and_administrators_to_the_vehicles(client, auth, w):
    auth.login(w["ystad_coordinator"])
    page = client.get("/").get_data(as_text=True)
    assert '<a href="/logistics/"' in page and ">Transport</a>" in page
    assert client.get("/logistics/").headers["Location"].endswith("/logistics/jobs/")
    auth.logout()
    auth.login(w["ystad_admin"])
    assert client.get("/logistics/").headers["Location"].endswith("/logistics/vehicles/")
    assert client.get("/logistics/jobs/").status_code == 403
    auth.logout()
    auth.login(w["ystad_employee"])
    assert '<a href="/logistics/"' not in client.get("/").get_data(as_text=True)
    for path in ("/logistics/", "/logistics/jobs/", "/logistics/vehicles/"):
        assert client.get(path).status_code == 403, path


def test_a_coordinator_lists_the_jobs_with_their_sites_loads_and_windows(app, client, auth, db, w):
    approved(app, db, w)
    approved(app, db, w, first=w["monday"] + timedelta(days=4), days=1)  # a Friday: the school is closed
    auth.login(w["skurup_coordinator"])
    page = client.get("/logistics/jobs/").get_data(as_text=True)
    assert "4 transportuppdrag från och med i dag" in page
    assert page.count("Kommunförrådet Ystad (Ystad)") == 4 and "Rydsgårds skola (Skurup)" in page
    assert "1\u00a0200 liter, 22 kg" in page or "1 200 liter, 22 kg" in page
    assert "Hämtning: 07:00–16:00" in page and "Leverans: 07:30–12:00, 13:00–15:30" in page
    assert "Stängt den dagen" in page and "Att planera" in page and "Leverans" in page
    # One day, and only what is planned: none yet.
    on_monday = client.get(f"/logistics/jobs/?day={w['monday'].isoformat()}").get_data(as_text=True)
    assert f"1 transportuppdrag den {w['monday'].isoformat()}" in on_monday
    planned = client.get("/logistics/jobs/?state=planned").get_data(as_text=True)
    assert "0 transportuppdrag från och med i dag" in planned
    # A hand-edited address never fails.
    assert client.get("/logistics/jobs/?day=2026-13-45&state=nonsense&municipality_id=x&page=0").status_code == 200
    auth.logout()
    auth.login(w["trelleborg_coordinator"])  # Trelleborg plans on its own: none of these are theirs
    page = client.get("/logistics/jobs/").get_data(as_text=True)
    assert "0 transportuppdrag från och med i dag" in page
    job = db.scalars(select(TransportJob)).first()
    assert client.get(f"/logistics/jobs/{job.id}").status_code == 404
    assert post(client, f"/logistics/jobs/{job.id}/notes", notes="Hej").status_code == 404


def test_a_job_s_page_shows_its_stops_and_history_and_its_notes_are_kept(app, client, auth, db, w):
    delivery = approved(app, db, w)["delivery"]
    auth.login(w["ystad_coordinator"])
    page = client.get(f"/logistics/jobs/{delivery.id}").get_data(as_text=True)
    assert "Transport av ”Konferensstolar”" in page and "Öppet den dagen: 07:00–16:00" in page
    assert "från annonsen" in page and "Ett transportuppdrag skapades" in page
    assert f'href="/loans/{delivery.request_id}"' not in page, "the request is not theirs to see"
    assert "Ställ in transportuppdraget" not in page, "a request's job ends with its request"
    response = post(client, f"/logistics/jobs/{delivery.id}/notes", notes="Ring på vid lastkajen")
    assert response.status_code == 302
    db.refresh(delivery)
    assert delivery.notes == "Ring på vid lastkajen"
    response = post(client, f"/logistics/jobs/{delivery.id}/notes", notes="x" * (jobs.NOTES_MAX + 1))
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'class="error-summary"' in page
    assert f"Håll anteckningarna under {jobs.NOTES_MAX} tecken." in page or "Fältet får" in page


def test_a_job_changed_after_planning_is_marked_until_its_coordinator_has_seen_it(app, client, auth, db, w):
    delivery = approved(app, db, w)["delivery"]
    jobs.set_status(db, delivery, JobStatus.PLANNED, by=w["ystad_coordinator"], now=utcnow())
    db.commit()
    with app.app_context():
        loans.cancel(db, db.get(LoanRequest, delivery.request_id), by=w["employee"], now=utcnow())
        db.commit()
    auth.login(w["ystad_coordinator"])
    listed = client.get("/logistics/jobs/?state=all&changed=y").get_data(as_text=True)
    assert "1 transportuppdrag från och med i dag" in listed and "Ändrat efter planering" in listed
    page = client.get(f"/logistics/jobs/{delivery.id}").get_data(as_text=True)
    assert "Ändrat efter att det planerats." in page and "Ett transportuppdrag ställdes in" in page
    assert client.post(f"/logistics/jobs/{delivery.id}/seen").status_code == 400, "no CSRF token: refused"
    assert post(client, f"/logistics/jobs/{delivery.id}/seen").status_code == 302
    db.refresh(delivery)
    assert delivery.changed_after_planning is False
    told = client.get("/notifications/").get_data(as_text=True)
    assert "Den planerade transporten av ”Konferensstolar”" in told


def test_a_coordinator_adds_a_job_by_hand_is_told_what_to_correct_and_cancels_it(client, auth, db, w):
    auth.login(w["ystad_coordinator"])
    form = client.get("/logistics/jobs/new").get_data(as_text=True)
    assert '<optgroup label="Skurup">' in form and "Rydsgårds skola" in form
    data = {"pickup_site_id": w["depot"].id, "delivery_site_id": w["depot"].id, "day": w["monday"].isoformat(),
            "goods": "Whiteboardtavlor", "quantity": "2", "volume_m3": "0,7", "weight_kg": "30"}
    refused = post(client, "/logistics/jobs/new", **data)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'class="error-summary"' in page
    assert "Leverera till en annan fastighet än den där det hämtas." in page
    response = post(client, "/logistics/jobs/new", **{**data, "delivery_site_id": w["trelleborg_site"].id})
    assert response.status_code == 302
    job_id = int(re.search(r"/logistics/jobs/(\d+)$", response.headers["Location"]).group(1))
    job = db.get(TransportJob, job_id)
    assert (job.kind, job.volume_l, job.weight_kg, job.day) == ("manual", 700, 30, w["monday"])
    assert client.post(f"/logistics/jobs/{job_id}/cancel").status_code == 400, "no CSRF token: refused"
    db.refresh(job)
    assert job.status == "open"
    assert post(client, f"/logistics/jobs/{job_id}/cancel").status_code == 302
    db.refresh(job)
    assert job.status == "cancelled"
    again = post(client, f"/logistics/jobs/{job_id}/cancel")
    assert again.status_code == 302
    assert "kan inte bli" in client.get(again.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_a_job_or_a_plan_far_in_the_past_or_future_is_refused_on_the_form(client, auth, db, w, day):
    van = vehicle(db, w)
    auth.login(w["ystad_coordinator"])
    said = ("Dagen får inte ha passerat." if day < "2000" else
            f"Välj en dag senast {(today_in_sweden(utcnow()) + jobs.FURTHEST_AHEAD).isoformat()}.")
    response = post(client, "/logistics/jobs/new", pickup_site_id=w["depot"].id, delivery_site_id=w["school"].id,
                    day=day, goods="Stolar", quantity="1", volume_m3="1", weight_kg="10")
    assert response.status_code == 422 and said in response.get_data(as_text=True)
    response = post(client, "/logistics/plans/", day=day, vehicle_ids=str(van.id), seconds="1")
    assert response.status_code == 422 and said in response.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(TransportJob)) == 0


def test_a_job_by_hand_must_touch_a_municipality_the_coordinator_plans_for(client, auth, w):
    auth.login(w["trelleborg_coordinator"])
    response = post(client, "/logistics/jobs/new", pickup_site_id=w["depot"].id, delivery_site_id=w["school"].id,
                    day=w["monday"].isoformat(), goods="Stolar", quantity="1", volume_m3="1", weight_kg="10")
    assert response.status_code == 422
    assert "Hämta eller leverera vid en fastighet i en kommun du planerar för." in response.get_data(as_text=True)


def test_vehicles_are_added_and_changed_in_swedish_numbers_and_taken_out_of_use(client, auth, db, w):
    auth.login(w["ystad_admin"])
    form = client.get("/logistics/vehicles/new").get_data(as_text=True)
    assert "Publicerad CO2e per km" in form and "DESNZ" in form and "Diesel: 0,25561 kg CO2e per km." in form
    assert "För skåpbilar som går på HVO100 eller biogas finns ingen publicerad siffra per km" in form
    data = {"name": "Elskåpbilen", "registration": "del101", "volume_m3": "10,8", "payload_kg": "950",
            "depot_site_id": w["depot"].id, "shift_start": "07:00", "shift_end": "16:00", "cost_per_km": "4,5",
            "fuel": "hvo100"}
    refused = post(client, "/logistics/vehicles/new", **data)
    assert refused.status_code == 422
    assert "För skåpbilar med det här drivmedlet finns ingen publicerad siffra per km" in refused.get_data(as_text=True)
    assert post(client, "/logistics/vehicles/new", **{**data, "fuel": "electricity"}).status_code == 302
    van = db.scalars(select(Vehicle)).one()
    assert (van.registration, van.volume_m3, van.cost_per_km, van.co2e_kg_per_km) == ("DEL 101", 10.8, 4.5, 0.06976)
    listed = client.get("/logistics/vehicles/").get_data(as_text=True)
    assert "Elskåpbilen" in listed and "10,8 m³, 950 kg" in listed and "07:00–16:00" in listed
    edit = client.get(f"/logistics/vehicles/{van.id}").get_data(as_text=True)
    assert 'value="10,8"' in edit
    assert post(client, f"/logistics/vehicles/{van.id}", **{**data, "fuel": "electricity", "shared": "y",
                                                             "name": "Elbilen"}).status_code == 302
    db.refresh(van)
    assert (van.name, van.shared) == ("Elbilen", True)
    assert client.post(f"/logistics/vehicles/{van.id}/active", data={"active": "0"}).status_code == 400
    assert post(client, f"/logistics/vehicles/{van.id}/active", active="0").status_code == 302
    db.refresh(van)
    assert van.active is False


def test_another_municipality_s_vehicle_is_seen_if_shared_but_never_changed(client, auth, db, w):
    shared = vehicle(db, w, by="skurup_coordinator", name="Delad", depot_site_id=w["school"].id, shared=True)
    private = vehicle(db, w, by="skurup_coordinator", name="Egen", depot_site_id=w["school"].id)
    auth.login(w["ystad_coordinator"])
    listed = client.get("/logistics/vehicles/").get_data(as_text=True)
    assert "Delad" in listed and "Egen" not in listed and f"/logistics/vehicles/{shared.id}" not in listed
    assert client.get(f"/logistics/vehicles/{shared.id}").status_code == 403
    assert post(client, f"/logistics/vehicles/{shared.id}/active", active="0").status_code == 403
    assert client.get(f"/logistics/vehicles/{private.id}").status_code == 404
    db.refresh(shared)
    assert shared.active


def test_a_municipality_admin_grants_the_coordinator_role_and_chooses_joint_planning(client, auth, db, w):
    person = w["ystad_employee"]
    auth.login(w["ystad_admin"])
    form = client.get(f"/admin/municipalities/{w['ystad'].id}/users/{person.id}").get_data(as_text=True)
    assert "Transportsamordnare" in form
    response = post(client, f"/admin/municipalities/{w['ystad'].id}/users/{person.id}", name=person.name,
                    roles=["employee", "transport_coordinator"], active="y")
    assert response.status_code == 302
    db.expire_all()
    assert db.get(User, person.id).roles == {Role.EMPLOYEE, Role.TRANSPORT_COORDINATOR}
    page = client.get("/logistics/joint-planning").get_data(as_text=True)
    assert "Ingen kommun planerar gemensamt ännu." in page
    assert post(client, "/logistics/joint-planning", joined="joint").status_code == 302
    assert db.get(JointPlanning, w["ystad"].id) is not None
    assert "Planerar gemensamt nu: Ystad." in client.get("/logistics/joint-planning").get_data(as_text=True)
    assert post(client, "/logistics/joint-planning", joined="nonsense").status_code == 422


def test_today_s_jobs_are_listed_from_today_on(client, auth, db, w):
    job = jobs.add_manual_job(db, by=w["ystad_coordinator"], now=utcnow(), details=jobs.ManualJobDetails(
        pickup_site_id=w["depot"].id, delivery_site_id=w["school"].id, day=today_in_sweden(utcnow()),
        goods="Skrivbord", volume_m3=1.2, weight_kg=40))
    db.commit()
    auth.login(w["ystad_coordinator"])
    assert f"/logistics/jobs/{job.id}" in client.get("/logistics/jobs/").get_data(as_text=True)



def test_a_failed_job_s_page_says_why_and_its_coordinator_plans_it_again(app, client, auth, db, factory, w):
    from tests.test_logistics_plans import failed_transport
    _, job = failed_transport(app, db, factory, w, note="Grinden låst")
    coordinator = w["skurup_coordinator"]  # the requester's end
    coordinator.locale = "en"
    db.add(coordinator)
    db.commit()
    auth.login(coordinator)
    page = client.get(f"/logistics/jobs/{job.id}").get_data(as_text=True)
    assert "<dt>Reason</dt><dd>Closed</dd>" in page and "<dd>Grinden låst</dd>" in page
    assert "A transport job failed (Closed)" in page
    assert f'action="/logistics/jobs/{job.id}/plan-again"' in page
    later = (today_in_sweden(utcnow()) + timedelta(days=2)).isoformat()
    assert client.post(f"/logistics/jobs/{job.id}/plan-again", data={"day": later}).status_code == 400, \
        "no CSRF token: refused"
    past = post(client, f"/logistics/jobs/{job.id}/plan-again",
                day=(today_in_sweden(utcnow()) - timedelta(days=1)).isoformat())
    assert past.status_code == 422 and 'class="error-summary"' in past.get_data(as_text=True)
    db.refresh(job)
    assert job.status == JobStatus.FAILED.value
    response = post(client, f"/logistics/jobs/{job.id}/plan-again", day=later)
    assert response.status_code == 302
    db.refresh(job)
    assert (job.status, job.day.isoformat()) == (JobStatus.OPEN.value, later)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"The transport job is open to plan on {later}." in page and "plan-again" not in page
    auth.logout()
    auth.login(w["trelleborg_coordinator"])
    assert post(client, f"/logistics/jobs/{job.id}/plan-again", day=later).status_code == 404
