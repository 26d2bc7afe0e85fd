"""The requests API: the same rules as the pages, a bad step a 409 problem."""

from datetime import timedelta

import pytest

from sharing.accounts.models import Role
from sharing.clock import today_in_sweden, utcnow
from tests.conftest import Auth
from tests.test_api import PREFIX, assert_problem, bearer, create_token

TODAY = today_in_sweden(utcnow())


@pytest.fixture
def api(app):
    """A client with no session cookie: what it can do, its token alone allows."""
    return app.test_client()


@pytest.fixture
def s(factory, app):
    ystad, skurup = factory.municipality("Ystad", "1286"), factory.municipality("Skurup", "1264")
    manager = factory.manager(ystad)
    chairs = factory.listing_published(site=factory.site(ystad), by=manager, title="Stolar", quantity=10, lend=True)
    employee = factory.user(skurup, Role.EMPLOYEE, unit=factory.unit(skurup))
    tokens = {}
    for name, user in (("employee", employee), ("manager", manager)):
        client = app.test_client()
        Auth(client).login(user)
        tokens[name] = bearer(create_token(client))
    return {"chairs": chairs, "site": factory.site(skurup), "tokens": tokens}


def ask(api, s, quantity=4, **overrides):
    body = {"listing_id": s["chairs"].id, "kind": "borrow", "quantity": quantity,
            "first_day": (TODAY + timedelta(days=1)).isoformat(), "last_day": (TODAY + timedelta(days=7)).isoformat(),
            "delivery_site_id": s["site"].id, "transport_needed": True, "message": "Till mötet", **overrides}
    return api.post(f"{PREFIX}/requests", json=body, headers=s["tokens"]["employee"])


def test_a_loan_through_the_api(api, s):
    response = ask(api, s)
    assert response.status_code == 201, response.get_json()
    made = response.get_json()
    assert (made["status"], made["kind"], made["quantity"], made["transport_needed"]) == ("requested", "borrow", 4,
                                                                                          True)
    owner = s["tokens"]["manager"]
    listed = api.get(f"{PREFIX}/requests?show=incoming", headers=owner).get_json()
    assert [r["id"] for r in listed["items"]] == [made["id"]]
    assert api.post(f"{PREFIX}/requests/{made['id']}/approve", headers=owner).get_json()["status"] == "approved"
    handed = api.post(f"{PREFIX}/requests/{made['id']}/handover", json={"method": "transport", "condition": "good"},
                      headers=owner)
    assert handed.get_json()["status"] == "handed_over"
    assert api.post(f"{PREFIX}/requests/{made['id']}/confirm", headers=s["tokens"]["employee"]).status_code == 200
    back = api.post(f"{PREFIX}/requests/{made['id']}/return", json={"condition": "good"}, headers=owner)
    assert back.get_json()["status"] == "returned"
    closed = api.post(f"{PREFIX}/requests/{made['id']}/confirm", headers=s["tokens"]["employee"]).get_json()
    assert closed["status"] == "closed"
    thread = api.get(f"{PREFIX}/requests/{made['id']}/messages", headers=owner).get_json()
    assert [m["body"] for m in thread["items"]] == ["Till mötet"]


def test_a_bad_step_or_taken_pieces_are_409_and_bad_values_422(api, s):
    made = ask(api, s, quantity=8).get_json()
    body = assert_problem(ask(api, s, quantity=3), 409)
    assert "only 2 pieces" in body["detail"]
    owner = s["tokens"]["manager"]
    api.post(f"{PREFIX}/requests/{made['id']}/approve", headers=owner)
    assert "cannot become" in assert_problem(api.post(f"{PREFIX}/requests/{made['id']}/approve", headers=owner),
                                             409)["detail"]
    assert_problem(api.post(f"{PREFIX}/requests/{made['id']}/approve", headers=s["tokens"]["employee"]), 403)
    assert_problem(ask(api, s, quantity=0), 422)
    assert_problem(ask(api, s, first_day=(TODAY - timedelta(days=1)).isoformat()), 422)
    assert_problem(api.post(f"{PREFIX}/requests/{made['id']}/decline", json={"reason": ""}, headers=owner), 422)
