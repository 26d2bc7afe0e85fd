"""The logistics API: transport jobs and vehicles under the same rules as the pages, with what a
planner needs in each job (its load and its sites' windows that day), documented, and refusals
as problem bodies."""

from datetime import timedelta

import pytest

from sharing.clock import today_in_sweden, utcnow
from sharing.loans.requests import rules as loans
from sharing.logistics.jobs import rules as jobs
from tests.conftest import Auth
from tests.logistics import ask, build, jobs_of, vehicle
from tests.test_api import PREFIX, assert_problem, bearer, create_token


@pytest.fixture
def api(app):
    """A client with no session cookie: what it can do, its token alone allows."""
    return app.test_client()


@pytest.fixture
def w(app, factory):
    world = build(factory)
    world["tokens"] = {}
    for name in ("ystad_coordinator", "trelleborg_coordinator", "ystad_admin", "employee"):
        client = app.test_client()
        Auth(client).login(world[name])
        world["tokens"][name] = bearer(create_token(client))
    return world


def test_a_coordinator_reads_the_jobs_with_their_loads_and_windows(app, api, db, w):
    request = ask(db, w)
    with app.app_context():
        loans.approve(db, request, by=w["manager"], now=utcnow())
        db.commit()
    delivery = jobs_of(db, request)["delivery"]
    token = w["tokens"]["ystad_coordinator"]
    listed = api.get(f"{PREFIX}/transport-jobs", headers=token).get_json()
    assert listed["total"] == 2 and [job["kind"] for job in listed["items"]] == ["delivery", "return"]
    one = api.get(f"{PREFIX}/transport-jobs/{delivery.id}", headers=token).get_json()
    assert one == listed["items"][0]
    assert (one["status"], one["request_id"], one["day"], one["volume_l"], one["weight_kg"], one["load_source"]) == (
        "open", request.id, w["monday"].isoformat(), 1200, 22, "listing")
    assert one["pickup"]["site_id"] == w["depot"].id and one["pickup"]["closed"] is False
    assert one["pickup"]["windows"] == [{"start_s": 7 * 3600, "end_s": 16 * 3600}]
    assert one["delivery"]["windows"] == [{"start_s": 27000, "end_s": 43200}, {"start_s": 46800, "end_s": 55800}]
    on_day = api.get(f"{PREFIX}/transport-jobs?day={w['monday'].isoformat()}&state=open", headers=token).get_json()
    assert [job["id"] for job in on_day["items"]] == [delivery.id]
    assert api.get(f"{PREFIX}/transport-jobs?state=done", headers=token).get_json()["total"] == 0
    assert_problem(api.get(f"{PREFIX}/transport-jobs?state=soon", headers=token), 400)
    assert_problem(api.get(f"{PREFIX}/transport-jobs?day=2026-02-30", headers=token), 400)
    # The other coordinators' municipality plans on its own: not theirs to see.
    other = w["tokens"]["trelleborg_coordinator"]
    assert api.get(f"{PREFIX}/transport-jobs", headers=other).get_json()["total"] == 0
    assert_problem(api.get(f"{PREFIX}/transport-jobs/{delivery.id}", headers=other), 404)
    assert_problem(api.post(f"{PREFIX}/transport-jobs/{delivery.id}/cancel", headers=other), 404)
    # A request's job ends with its request.
    assert_problem(api.post(f"{PREFIX}/transport-jobs/{delivery.id}/cancel", headers=token), 409)


def test_only_coordinators_use_the_jobs_and_administrators_the_vehicles(api, db, w):
    for name in ("ystad_admin", "employee"):
        assert_problem(api.get(f"{PREFIX}/transport-jobs", headers=w["tokens"][name]), 403)
    assert_problem(api.get(f"{PREFIX}/vehicles", headers=w["tokens"]["employee"]), 403)
    assert api.get(f"{PREFIX}/vehicles", headers=w["tokens"]["ystad_admin"]).status_code == 200
    assert_problem(api.get(f"{PREFIX}/transport-jobs"), 401)


def test_a_job_added_by_hand_through_the_api_and_cancelled(api, db, w):
    token = w["tokens"]["ystad_coordinator"]
    body = {"pickup_site_id": w["depot"].id, "delivery_site_id": w["trelleborg_site"].id,
            "day": w["monday"].isoformat(), "goods": "Whiteboardtavlor", "quantity": 2, "volume_m3": 0.7,
            "weight_kg": 29.5, "notes": "Porten på baksidan"}
    made = api.post(f"{PREFIX}/transport-jobs", json=body, headers=token)
    assert made.status_code == 201, made.get_json()
    job = made.get_json()
    assert (job["kind"], job["status"], job["request_id"], job["volume_l"], job["weight_kg"]) == (
        "manual", "open", None, 700, 30)
    assert job["delivery"]["windows"] == [{"start_s": 0, "end_s": 86399}]  # no hours on record: any time
    cancelled = api.post(f"{PREFIX}/transport-jobs/{job['id']}/cancel", headers=token).get_json()
    assert cancelled["status"] == "cancelled"
    assert_problem(api.post(f"{PREFIX}/transport-jobs/{job['id']}/cancel", headers=token), 409)
    past = {**body, "day": (today_in_sweden(utcnow()) - timedelta(days=1)).isoformat()}
    refused = assert_problem(api.post(f"{PREFIX}/transport-jobs", json=past, headers=token), 422)
    assert refused["errors"] == [{"field": "day", "message": "The day must not be in the past."}]
    last = (today_in_sweden(utcnow()) + jobs.FURTHEST_AHEAD).isoformat()
    for day, said in (("0001-01-01", "The day must not be in the past."),
                      ("9999-12-31", f"Choose a day no later than {last}.")):
        refused = assert_problem(api.post(f"{PREFIX}/transport-jobs", json={**body, "day": day}, headers=token), 422)
        assert refused["errors"] == [{"field": "day", "message": said}]
        refused = assert_problem(api.post(f"{PREFIX}/route-plans", json={"day": day}, headers=token), 422)
        assert refused["errors"] == [{"field": "day", "message": said}]
    assert api.post(f"{PREFIX}/transport-jobs", json={**body, "day": last}, headers=token).status_code == 201
    assert_problem(api.post(f"{PREFIX}/transport-jobs", json={**body, "volume_m3": 0}, headers=token), 422)
    assert_problem(api.post(f"{PREFIX}/transport-jobs", json={**body, "extra": 1}, headers=token), 422)
    elsewhere = {**body, "pickup_site_id": w["school"].id}  # Skurup to Trelleborg: not Ystad's to plan
    refused = assert_problem(api.post(f"{PREFIX}/transport-jobs", json=elsewhere,
                                      headers=w["tokens"]["ystad_coordinator"]), 422)
    assert refused["errors"][0]["field"] == "pickup_site_id"


def test_vehicles_through_the_api(api, db, w):
    token = w["tokens"]["ystad_admin"]
    body = {"name": "Elskåpbilen", "registration": "del101", "volume_m3": 10.8, "payload_kg": 950,
            "depot_site_id": w["depot"].id, "shift_start": "07:00", "shift_end": "16:00", "cost_per_km": 4.5,
            "fuel": "electricity"}
    made = api.post(f"{PREFIX}/vehicles", json=body, headers=token)
    assert made.status_code == 201, made.get_json()
    van = made.get_json()
    assert (van["registration"], van["co2e_kg_per_km"], van["shift_start"], van["active"]) == (
        "DEL 101", 0.06976, "07:00", True)
    assert "Battery Electric Vehicle" in van["co2e_source"]
    replaced = api.put(f"{PREFIX}/vehicles/{van['id']}", json={**body, "active": False, "shared": True},
                       headers=token).get_json()
    assert (replaced["active"], replaced["shared"]) == (False, True)
    assert api.get(f"{PREFIX}/vehicles/{van['id']}", headers=token).get_json() == replaced
    refused = assert_problem(api.post(f"{PREFIX}/vehicles", json={**body, "name": "HVO-bilen", "registration": "",
                                                                  "fuel": "hvo100"}, headers=token), 422)
    assert refused["errors"][0]["field"] == "co2e_kg_per_km"
    assert_problem(api.post(f"{PREFIX}/vehicles", json={**body, "name": "Bil", "registration": "",
                                                        "shift_end": "06:00"}, headers=token), 422)
    # Another municipality's vehicle: seen while shared and in use, never replaced.
    shared = vehicle(db, w, by="trelleborg_coordinator", name="Flyttbilen", depot_site_id=w["trelleborg_site"].id,
                     shared=True)
    coordinator = w["tokens"]["ystad_coordinator"]
    listed = api.get(f"{PREFIX}/vehicles", headers=coordinator).get_json()
    assert [v["name"] for v in listed["items"]] == ["Elskåpbilen", "Flyttbilen"]
    assert_problem(api.put(f"{PREFIX}/vehicles/{shared.id}", json=body, headers=coordinator), 403)
    assert_problem(api.get(f"{PREFIX}/vehicles/{shared.id}", headers=token), 404)  # an admin sees their own only


def test_the_document_describes_transport_jobs_and_vehicles(api):
    document = api.get(f"{PREFIX}/openapi.json").get_json()
    paths = document["paths"]
    assert {"get", "post"} <= set(paths["/transport-jobs"]) and "get" in paths["/transport-jobs/{job_id}"]
    assert {"get", "put"} <= set(paths["/vehicles/{vehicle_id}"]) and {"get", "post"} <= set(paths["/vehicles"])
    for schema in ("ManualJobIn", "RoutePlanIn"):
        day = document["components"]["schemas"][schema]["properties"]["day"]
        assert (day["type"], day["format"], day["pattern"]) == ("string", "date", "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
    job = document["components"]["schemas"]["TransportJobOut"]
    assert {"volume_l", "weight_kg", "pickup", "delivery", "day", "changed_after_planning"} <= set(job["properties"])
    assert "Access: transport_coordinator." == paths["/transport-jobs"]["get"]["description"]
    assert paths["/transport-jobs/{job_id}"]["get"]["parameters"][0]["schema"]["maximum"] == 2**31 - 1
