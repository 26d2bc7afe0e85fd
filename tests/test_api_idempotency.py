"""The Idempotency-Key header: a retried request changes nothing twice, and what a request did
is kept only with its answer."""

from __future__ import annotations

import io
import json
import threading
from datetime import timedelta

import pytest
from flask import Response
from sqlalchemy import func, select, update

from sharing.access import SIGNED_IN, allow
from sharing.accounts.auth import create_api_token
from sharing.accounts.models import Role
from sharing.api.idempotency import ApiIdempotency
from sharing.catalog.listings.models import Listing
from sharing.catalog.photos.models import ListingPhoto
from sharing.catalog.wants.models import Want
from sharing.clock import utcnow
from tests.factories import PASSWORD, jpeg_bytes

PREFIX = "/api/v1"
PROBLEM = "application/problem+json"
KEY = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"


@pytest.fixture
def s(factory):
    ystad = factory.municipality("Ystad", "1286")
    unit = factory.unit(ystad)
    return {
        "ystad": ystad, "site": factory.site(ystad),
        "chairs": factory.category("Kontorsstol", name_en="Office chair", weight_kg=15, co2e_new_kg=100),
        "manager": factory.user(ystad, Role.FACILITY_MANAGER, Role.EMPLOYEE, unit=unit),
        "colleague": factory.user(ystad, Role.FACILITY_MANAGER, Role.EMPLOYEE, unit=unit),
    }


def headers_of(db, user, key: str | None = None) -> dict[str, str]:
    now = utcnow()
    _, raw = create_api_token(db, user=user, name="Idempotency", password=PASSWORD, now=now,
                              expires_at=now + timedelta(days=30), max_lifetime=timedelta(days=365))
    db.commit()
    headers = {"Authorization": f"Bearer {raw}"}
    if key is not None:
        headers[KEY] = key
    return headers


def chairs(s, **overrides) -> dict:
    return {"kind": "thing", "title": "Kontorsstolar", "category_id": s["chairs"].id, "site_id": s["site"].id,
            "condition": "good", "quantity": 10, "lend": True, **overrides}


def count(db, model) -> int:
    found = db.scalar(select(func.count()).select_from(model)) or 0
    db.commit()  # end the read transaction
    return found


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status
    return body


# --- Replays ------------------------------------------------------------------------------------

def test_a_retried_post_creates_one_listing_and_gets_the_same_answer(client, db, s):
    headers = headers_of(db, s["manager"], key="4f1c2c0e-8b8a-4a55-9d0e-5b3f2d3f1a77")
    first = client.post(f"{PREFIX}/listings", json=chairs(s), headers=headers)
    assert first.status_code == 201, first.get_json()
    assert REPLAYED not in first.headers

    again = client.post(f"{PREFIX}/listings", json=chairs(s), headers=headers)
    assert again.status_code == 201
    assert again.headers[REPLAYED] == "true"
    assert again.get_data() == first.get_data()
    assert again.mimetype == "application/json"
    # The draft's form of the key, a structured-field string, names the same key.
    quoted = client.post(f"{PREFIX}/listings", json=chairs(s),
                         headers={**headers, KEY: '"4f1c2c0e-8b8a-4a55-9d0e-5b3f2d3f1a77"'})
    assert (quoted.status_code, quoted.headers.get(REPLAYED)) == (201, "true")
    # The same body written otherwise (key order, spacing) is the same request.
    reordered = client.post(f"{PREFIX}/listings", data=json.dumps(dict(reversed(chairs(s).items())), indent=2),
                            headers={**headers, "Content-Type": "application/json"})
    assert (reordered.status_code, reordered.headers.get(REPLAYED)) == (201, "true")
    assert count(db, Listing) == 1


def test_a_client_error_is_kept_and_given_again(client, db, s):
    headers = headers_of(db, s["manager"], key="bad-listing")
    first = assert_problem(client.post(f"{PREFIX}/listings", json=chairs(s, quantity=0), headers=headers), 422)
    again = client.post(f"{PREFIX}/listings", json=chairs(s, quantity=0), headers=headers)
    assert again.headers[REPLAYED] == "true"
    assert assert_problem(again, 422) == first
    assert count(db, Listing) == 0


def test_a_retried_photo_upload_adds_the_photo_once(client, db, s, factory):
    listing = factory.listing(site=s["site"], category=s["chairs"], by=s["manager"])
    headers = headers_of(db, s["manager"], key="photo-1")
    image = jpeg_bytes()
    answers = [client.post(f"{PREFIX}/listings/{listing.id}/photos", headers=headers,
                           data={"photos": (io.BytesIO(image), "stol.jpg"), "alt_text": "En stol"})
               for _ in range(2)]  # each with a boundary of its own, as clients send them
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[1].headers[REPLAYED] == "true" and answers[1].get_json() == answers[0].get_json()
    assert count(db, ListingPhoto) == 1


def test_requests_without_a_key_run_each_time(client, db, s):
    headers = headers_of(db, s["manager"])
    for _ in range(2):
        response = client.post(f"{PREFIX}/listings", json=chairs(s), headers=headers)
        assert response.status_code == 201 and REPLAYED not in response.headers
    assert count(db, Listing) == 2
    # A key on a request that changes nothing is of no concern.
    listing_id = response.get_json()["id"]
    assert client.get(f"{PREFIX}/listings/{listing_id}", headers={**headers, KEY: ""}).status_code == 200


# --- Refusals -----------------------------------------------------------------------------------

def test_the_same_key_for_another_request_is_a_422(client, db, s):
    headers = headers_of(db, s["manager"], key="one-key")
    assert client.post(f"{PREFIX}/listings", json=chairs(s), headers=headers).status_code == 201
    body = assert_problem(client.post(f"{PREFIX}/listings", json=chairs(s, title="Skrivbord"), headers=headers), 422)
    assert KEY in body["detail"]
    assert_problem(client.post(f"{PREFIX}/wants", json={"words": "stol"}, headers=headers), 422)
    assert_problem(client.post(f"{PREFIX}/listings?x=1", json=chairs(s), headers=headers), 422)
    assert count(db, Listing) == 1 and count(db, Want) == 0


@pytest.mark.parametrize("key", ["", '""', " ", "x" * 256, f'"{"x" * 256}"', "nyckel-ö", '"open', "a\tb"])
def test_an_empty_long_or_odd_key_is_a_400(client, db, s, key):
    body = assert_problem(client.post(f"{PREFIX}/listings", json=chairs(s), headers=headers_of(db, s["manager"], key)),
                          400)
    assert KEY in body["detail"]
    assert count(db, Listing) == 0


def test_the_longest_key_is_taken(client, db, s):
    headers = headers_of(db, s["manager"], key="k" * 255)
    assert client.post(f"{PREFIX}/listings", json=chairs(s), headers=headers).status_code == 201
    assert client.post(f"{PREFIX}/listings", json=chairs(s), headers=headers).headers[REPLAYED] == "true"


def test_two_users_with_the_same_key_do_not_collide(client, db, s):
    created = {}
    for user in (s["manager"], s["colleague"]):
        headers = headers_of(db, user, key="same")
        response = client.post(f"{PREFIX}/listings", json=chairs(s), headers=headers)
        assert response.status_code == 201 and REPLAYED not in response.headers
        created[user.id] = (headers, response.get_json()["id"])
    assert count(db, Listing) == 2
    for headers, listing_id in created.values():  # each one's retry gets their own answer
        again = client.post(f"{PREFIX}/listings", json=chairs(s), headers=headers)
        assert (again.headers[REPLAYED], again.get_json()["id"]) == ("true", listing_id)
    assert count(db, Listing) == 2


# --- At the same moment -------------------------------------------------------------------------

def test_identical_requests_at_once_create_one_listing(app, db, s):
    headers = headers_of(db, s["manager"], key="at-once")
    clients = [app.test_client() for _ in range(8)]
    start = threading.Barrier(len(clients))
    answers: list[Response] = []

    def send(client) -> None:
        start.wait()
        answers.append(client.post(f"{PREFIX}/listings", json=chairs(s), headers=headers))

    threads = [threading.Thread(target=send, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == len(clients)
    assert {a.status_code for a in answers} <= {201, 409}, [a.get_data(as_text=True) for a in answers]
    created = [a for a in answers if a.status_code == 201 and REPLAYED not in a.headers]
    assert len(created) == 1
    assert all(a.get_data() == created[0].get_data() for a in answers if a.status_code == 201)
    assert all(a.headers["Retry-After"] for a in answers if a.status_code == 409)
    assert count(db, Listing) == 1


class SlowView:
    """An API route that posts a wanted item as POST /wants does, its first run waiting first
    until the test lets it go; ``then_fail`` makes it fail after the view has committed."""

    def __init__(self, app, then_fail: bool = False) -> None:
        self.started, self.go_on = threading.Event(), threading.Event()
        self.runs = 0
        post_want = app.view_functions["api.create_want"]

        @allow(SIGNED_IN)
        def slow_want() -> Response:
            self.runs += 1
            if self.runs == 1:
                self.started.set()
                assert self.go_on.wait(timeout=30)
            response = post_want()
            if then_fail:
                raise RuntimeError("the process failed after the commit")
            return response

        app.add_url_rule(f"{PREFIX}/slow-wants", endpoint="api.slow_want", view_func=slow_want, methods=["POST"])


def test_a_repeat_while_the_first_runs_is_a_409_and_its_answer_comes_after(app, db, s):
    view = SlowView(app)
    headers = headers_of(db, s["manager"], key="slow")
    answers: list[Response] = []
    first = threading.Thread(target=lambda: answers.append(
        app.test_client().post(f"{PREFIX}/slow-wants", json={"words": "stol"}, headers=headers)))
    first.start()
    assert view.started.wait(timeout=30)
    client = app.test_client()
    running = assert_problem(client.post(f"{PREFIX}/slow-wants", json={"words": "stol"}, headers=headers), 409)
    assert KEY in running["detail"]
    assert_problem(client.post(f"{PREFIX}/slow-wants", json={"words": "bord"}, headers=headers), 422)
    view.go_on.set()
    first.join()
    assert answers[0].status_code == 201
    again = client.post(f"{PREFIX}/slow-wants", json={"words": "stol"}, headers=headers)
    assert (again.status_code, again.headers[REPLAYED], again.get_data()) == (201, "true", answers[0].get_data())
    assert view.runs == 1 and count(db, Want) == 1


def test_a_claim_abandoned_past_its_lease_is_taken_over_and_the_late_request_keeps_nothing(app, db, s):
    view = SlowView(app)
    headers = headers_of(db, s["manager"], key="abandoned")
    answers: list[Response] = []
    first = threading.Thread(target=lambda: answers.append(
        app.test_client().post(f"{PREFIX}/slow-wants", json={"words": "stol"}, headers=headers)))
    first.start()
    assert view.started.wait(timeout=30)
    # As if its process had died long ago: the claim is older than its lease.
    db.execute(update(ApiIdempotency).values(started_at=utcnow() - timedelta(hours=1)))
    db.commit()
    retry = app.test_client().post(f"{PREFIX}/slow-wants", json={"words": "stol"}, headers=headers)
    view.go_on.set()  # and the first request, still alive after all, goes on
    first.join()
    assert retry.status_code == 201 and REPLAYED not in retry.headers
    late = assert_problem(answers[0], 409)
    assert "nothing of it was kept" in late["detail"]
    assert view.runs == 2 and count(db, Want) == 1
    again = app.test_client().post(f"{PREFIX}/slow-wants", json={"words": "stol"}, headers=headers)
    assert again.get_data() == retry.get_data() and again.headers[REPLAYED] == "true"


def test_work_is_kept_only_with_its_answer(app, db, s):
    view = SlowView(app, then_fail=True)
    view.go_on.set()  # no waiting
    headers = headers_of(db, s["manager"], key="fails")
    for run in (1, 2):  # a server error keeps nothing: the retry runs anew
        assert_problem(app.test_client().post(f"{PREFIX}/slow-wants", json={"words": "stol"}, headers=headers), 500)
        assert view.runs == run
        assert count(db, Want) == 0, "the view committed, but its answer was an error: nothing is kept"
        assert count(db, ApiIdempotency) == 0


# --- Expiry -------------------------------------------------------------------------------------

def test_keys_expire_after_a_day_and_the_job_purges_them(client, db, s, runner):
    headers = headers_of(db, s["manager"], key="daily")
    assert client.post(f"{PREFIX}/listings", json=chairs(s), headers=headers).status_code == 201
    kept = db.scalars(select(ApiIdempotency)).one()
    assert timedelta(hours=23) < kept.expires_at - utcnow() <= timedelta(hours=24)
    db.commit()

    def expire() -> None:
        db.execute(update(ApiIdempotency).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.commit()

    expire()  # past its day, not yet purged: as if it were not there
    again = client.post(f"{PREFIX}/listings", json=chairs(s), headers=headers)
    assert again.status_code == 201 and REPLAYED not in again.headers
    assert count(db, Listing) == 2
    expire()
    assert client.post(f"{PREFIX}/listings", json=chairs(s), headers={**headers, KEY: "fresh"}).status_code == 201
    result = runner.invoke(args=["jobs", "once", "purge-idempotency-keys"])
    assert result.exit_code == 0, result.output
    assert db.scalars(select(ApiIdempotency.key)).all() == ["fresh"]


# --- The document -------------------------------------------------------------------------------

def test_every_operation_that_changes_something_takes_the_key(client):
    document = client.get(f"{PREFIX}/openapi.json").get_json()
    parameter = document["components"]["parameters"]["IdempotencyKey"]
    assert (parameter["name"], parameter["in"], parameter["schema"]["maxLength"]) == (KEY, "header", 255)
    changing = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            takes_key = {"$ref": "#/components/parameters/IdempotencyKey"} in operation.get("parameters", [])
            assert takes_key == (method != "get"), (method, path)
            if takes_key:
                changing += 1
                assert {"400", "409", "422"} <= set(operation["responses"]), (method, path)
    assert changing >= 6
