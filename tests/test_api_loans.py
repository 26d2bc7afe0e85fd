"""The requests API: the same rules as the pages, a bad step a 409 problem."""

import io
from datetime import timedelta

import pytest
from PIL import Image

from sharing.accounts.models import Role
from sharing.clock import today_in_sweden, utcnow
from sharing.loans.requests.models import LoanRequest
from tests.conftest import Auth
from tests.factories import jpeg_bytes
from tests.test_api import PREFIX, assert_problem, bearer, create_token
from tests.test_loans_pages import jpeg_with_position, photo_files

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
    assert "Only 2 pieces" in body["detail"]
    owner = s["tokens"]["manager"]
    api.post(f"{PREFIX}/requests/{made['id']}/approve", headers=owner)
    assert "cannot become" in assert_problem(api.post(f"{PREFIX}/requests/{made['id']}/approve", headers=owner),
                                             409)["detail"]
    assert_problem(api.post(f"{PREFIX}/requests/{made['id']}/approve", headers=s["tokens"]["employee"]), 403)
    assert_problem(ask(api, s, quantity=0), 422)
    assert_problem(ask(api, s, first_day=(TODAY - timedelta(days=1)).isoformat()), 422)
    assert_problem(api.post(f"{PREFIX}/requests/{made['id']}/decline", json={"reason": ""}, headers=owner), 422)


# --- A photo at the return ------------------------------------------------------------------------

def handed_over(api, s) -> int:
    made = ask(api, s, quantity=1).get_json()
    owner = s["tokens"]["manager"]
    assert api.post(f"{PREFIX}/requests/{made['id']}/approve", headers=owner).status_code == 200
    assert api.post(f"{PREFIX}/requests/{made['id']}/handover", json={"method": "pickup"},
                    headers=owner).status_code == 200
    return made["id"]


def return_with(api, s, request_id, photo, **fields):
    data = {"condition": "needs_repair", "damage": "Ett ben är knäckt", **fields}
    if photo is not None:
        data["photo"] = (io.BytesIO(photo[0]), photo[1])
    return api.post(f"{PREFIX}/requests/{request_id}/return", data=data, content_type="multipart/form-data",
                    headers=s["tokens"]["manager"])


def test_the_return_through_the_api_may_bring_a_photo(app, api, db, s, factory):
    request_id = handed_over(api, s)
    response = return_with(api, s, request_id, (jpeg_with_position(), "skada.jpg"))
    assert response.status_code == 200, response.get_json()
    returned = response.get_json()
    assert (returned["status"], returned["return_condition"]) == ("returned", "needs_repair")
    stored = db.get(LoanRequest, request_id)
    assert stored.return_damage == "Ett ben är knäckt"
    assert (stored.return_photo_width, stored.return_photo_height) == (800, 600)
    assert "return_photo_key" not in returned
    key = stored.return_photo_key
    assert returned["return_photo"] == {
        rendition: f"http://delning.test{PREFIX}/requests/{request_id}/return-photo/{key}/{rendition}.jpg"
        for rendition in ("card", "large")}
    # Both sides see it, through the API (and the request as they read it says where).
    for side in ("manager", "employee"):
        seen = api.get(f"{PREFIX}/requests/{request_id}", headers=s["tokens"][side]).get_json()
        assert seen["return_photo"] == returned["return_photo"]
        served = api.get(returned["return_photo"]["card"].removeprefix("http://delning.test"),
                         headers=s["tokens"][side])
        assert served.status_code == 200 and served.mimetype == "image/jpeg"
        with Image.open(io.BytesIO(served.data)) as image:
            assert image.size == (400, 300) and not image.getexif()  # re-encoded: no position survives
        served.close()
    # Nobody else: as if it were not there.
    stranger = app.test_client()
    Auth(stranger).login(factory.manager(factory.municipality("Trelleborg", "1287")))
    assert_problem(api.get(returned["return_photo"]["large"].removeprefix("http://delning.test"),
                           headers=bearer(create_token(stranger))), 404)
    # A request returned without one says so.
    other = handed_over(api, s)
    plain = api.post(f"{PREFIX}/requests/{other}/return", json={"condition": "good"}, headers=s["tokens"]["manager"])
    assert plain.status_code == 200 and plain.get_json()["return_photo"] is None
    assert return_with(api, s, handed_over(api, s), None).get_json()["return_photo"] is None  # multipart, no file


@pytest.mark.parametrize("content, name, message", [
    (b"Detta ar ingen bild, bara text.", "skada.jpg", "“skada.jpg” is not a photo in JPEG, PNG or WebP format."),
    (None, "stor.jpg", "“stor.jpg” is larger than 0.1 MB. Choose a smaller photo."),
])
def test_a_refused_return_photo_through_the_api_refuses_the_return(app, api, db, s, monkeypatch, content, name,
                                                                   message):
    if content is None:  # larger than the limit the pages keep too
        monkeypatch.setitem(app.config, "SHARING_PHOTO_MAX_BYTES", 100_000)
        content = jpeg_bytes((400, 400), "red") + b"\0" * 120_000
    request_id = handed_over(api, s)
    body = assert_problem(return_with(api, s, request_id, (content, name)), 422)
    assert body["errors"] == [{"field": "photo", "message": message}]
    db.expire_all()
    kept = db.get(LoanRequest, request_id)
    assert kept.status == "handed_over" and kept.return_photo_key is None and kept.return_damage == ""
    assert photo_files(app) == []


def test_a_multipart_return_is_checked_as_the_json_one(app, api, s):
    request_id = handed_over(api, s)
    body = assert_problem(return_with(api, s, request_id, (jpeg_bytes(), "a.jpg"), condition="broken"), 422)
    assert [error["field"] for error in body["errors"]] == ["condition"]
    body = assert_problem(return_with(api, s, request_id, None, colour="red"), 422)
    assert [error["field"] for error in body["errors"]] == ["colour"]
    data = {"photo": [(io.BytesIO(jpeg_bytes()), "a.jpg"), (io.BytesIO(jpeg_bytes()), "b.jpg")],
            "other": (io.BytesIO(jpeg_bytes()), "c.jpg")}
    body = assert_problem(api.post(f"{PREFIX}/requests/{request_id}/return", data=data,
                                   content_type="multipart/form-data", headers=s["tokens"]["manager"]), 422)
    assert sorted(error["field"] for error in body["errors"]) == ["other", "photo"]
    assert_problem(api.post(f"{PREFIX}/requests/{request_id}/return", data="condition=good",
                            content_type="text/plain", headers=s["tokens"]["manager"]), 415)
    assert photo_files(app) == []


def test_the_document_offers_the_return_as_json_or_with_a_photo(api):
    document = api.get(f"{PREFIX}/openapi.json").get_json()
    operation = document["paths"]["/requests/{request_id}/return"]["post"]
    content = operation["requestBody"]["content"]
    assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/ReturnIn"}
    fields = content["multipart/form-data"]["schema"]["properties"]
    assert fields["photo"] == {"type": "string", "format": "binary", "description": fields["photo"]["description"]}
    assert set(fields) == {"condition", "remarks", "damage", "photo"}
    assert {"413", "415", "422"} <= set(operation["responses"])
    assert "return_photo" in document["components"]["schemas"]["RequestOut"]["properties"]
    photo = document["paths"]["/requests/{request_id}/return-photo/{key}/{rendition}.jpg"]["get"]
    assert photo["operationId"] == "request_return_photo"
