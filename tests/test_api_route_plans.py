"""The route plans' API: a coordinator plans a day and reads the plan with its routes and
stops; a driver lists the day's routes and reports stops done or failed, the loans following;
each under the pages' rules, refusals as problem bodies."""

import pytest

from sharing.accounts.models import Role
from sharing.clock import utcnow
from sharing.loans.requests import rules as loans
from sharing.loans.requests.models import LoanRequest, RequestStatus
from tests.conftest import Auth
from tests.logistics import ask, build, the_day_comes, vehicle
from tests.test_api import PREFIX, assert_problem, bearer, create_token


@pytest.fixture
def api(app):
    return app.test_client()


@pytest.fixture
def w(app, factory):
    world = build(factory)
    world["ystad_driver"] = factory.user(world["ystad"], Role.DRIVER)
    world["skurup_driver"] = factory.user(world["skurup"], Role.DRIVER)
    world["tokens"] = {}
    for name in ("ystad_coordinator", "trelleborg_coordinator", "ystad_driver", "skurup_driver", "employee"):
        client = app.test_client()
        Auth(client).login(world[name])
        world["tokens"][name] = bearer(create_token(client))
    return world


def planned(app, api, db, w):
    van = vehicle(db, w)
    request = ask(db, w)
    with app.app_context():
        loans.approve(db, request, by=w["manager"], now=utcnow())
        db.commit()
    # With an Idempotency-Key, whose commit waits for the answer: the plan is made after it all the same.
    response = api.post(f"{PREFIX}/route-plans", headers={**w["tokens"]["ystad_coordinator"],
                                                          "Idempotency-Key": "plan-monday"},
                        json={"day": w["monday"].isoformat(), "seconds": 1})
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["status"] == "queued"
    made = api.get(f"{PREFIX}/route-plans/{response.get_json()['id']}", headers=w["tokens"]["ystad_coordinator"])
    return van, request, made.get_json()


def test_a_coordinator_plans_a_day_and_reads_its_routes_and_stops(app, api, db, w):
    van, request, made = planned(app, api, db, w)
    assert made["status"] == "done", "in tests the planning runs at once, once the request is answered"
    assert made["vehicle_ids"] == [van.id] and made["day"] == w["monday"].isoformat()
    [route] = made["routes"]
    assert route["vehicle_name"] == "Skåpbilen"
    assert [(s["position"], s["action"]) for s in route["stops"]] == [(1, "pickup"), (2, "delivery")]
    assert route["stops"][0]["request_id"] == request.id and route["stops"][1]["site_name"] == "Rydsgårds skola"
    assert route["stops"][0]["load_after_l"] > 0 and route["stops"][1]["load_after_l"] == 0
    token = w["tokens"]["ystad_coordinator"]
    listed = api.get(f"{PREFIX}/route-plans", headers=token).get_json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == made["id"]
    # Another municipality's coordinator: not found; nor in their list.
    other = w["tokens"]["trelleborg_coordinator"]
    assert_problem(api.get(f"{PREFIX}/route-plans/{made['id']}", headers=other), 404)
    assert api.get(f"{PREFIX}/route-plans", headers=other).get_json()["total"] == 0
    assert_problem(api.get(f"{PREFIX}/route-plans", headers=w["tokens"]["employee"]), 403)


def test_planning_refuses_what_the_page_refuses(app, api, db, w):
    vehicle(db, w)
    token = w["tokens"]["ystad_coordinator"]
    day = w["monday"].isoformat()
    assert_problem(api.post(f"{PREFIX}/route-plans", headers=token, json={"day": day, "vehicle_ids": [999]}), 422)
    assert_problem(api.post(f"{PREFIX}/route-plans", headers=token, json={"day": day, "seconds": 61}), 422)
    assert_problem(api.post(f"{PREFIX}/route-plans", headers=w["tokens"]["trelleborg_coordinator"],
                            json={"day": day}), 422)  # no vehicles of their own


def test_a_driver_reports_the_stops_and_the_loan_is_handed_over(app, api, db, w):
    _, request, made = planned(app, api, db, w)
    token = w["tokens"]["ystad_driver"]
    day = w["monday"].isoformat()
    [route] = api.get(f"{PREFIX}/driver/routes?day={day}", headers=token).get_json()["items"]
    assert route["id"] == made["routes"][0]["id"]
    assert api.get(f"{PREFIX}/driver/routes", headers=token).get_json()["total"] == 0, "today: none"
    pickup, delivery = route["stops"]
    # Another municipality's driver does not see the route.
    skurup = w["tokens"]["skurup_driver"]
    assert api.get(f"{PREFIX}/driver/routes?day={day}", headers=skurup).get_json()["total"] == 0
    assert_problem(api.post(f"{PREFIX}/driver/stops/{pickup['id']}/done", headers=skurup), 404)
    # Not before the route's day; nor a delivery before its pickup.
    early = api.post(f"{PREFIX}/driver/stops/{pickup['id']}/done", headers=token)
    assert_problem(early, 409)
    assert day in early.get_json()["detail"]
    the_day_comes(db, made["id"])
    assert_problem(api.post(f"{PREFIX}/driver/stops/{delivery['id']}/done", headers=token), 409)

    after = api.post(f"{PREFIX}/driver/stops/{pickup['id']}/done", headers=token).get_json()
    assert after["status"] == "started" and after["stops"][0]["status"] == "done"
    db.expire_all()
    assert db.get(LoanRequest, request.id).status == RequestStatus.HANDED_OVER.value
    assert_problem(api.post(f"{PREFIX}/driver/stops/{pickup['id']}/done", headers=token), 409)
    assert_problem(api.post(f"{PREFIX}/driver/stops/{delivery['id']}/failed", headers=token,
                            json={"reason": "other"}), 422)
    after = api.post(f"{PREFIX}/driver/stops/{delivery['id']}/failed", headers=token,
                     json={"reason": "nobody_there", "note": "Ingen öppnade"}).get_json()
    assert after["status"] == "completed"
    assert after["stops"][1]["status"] == "failed" and after["stops"][1]["failure_reason"] == "nobody_there"
    assert_problem(api.get(f"{PREFIX}/driver/routes", headers=w["tokens"]["ystad_coordinator"]), 403)
