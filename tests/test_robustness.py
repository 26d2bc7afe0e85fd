"""Input the service cannot use is refused with a 4xx, never a 500: ids the databases cannot
hold, NUL characters, numbers that are not numbers, JSON nested without end."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from sharing.accounts.auth import create_api_token
from sharing.accounts.models import Role, Unit
from sharing.catalog.listings.models import Listing
from sharing.clock import utcnow
from tests.conftest import csrf_token
from tests.factories import PASSWORD

PREFIX = "/api/v1"
PROBLEM = "application/problem+json"
# Above PostgreSQL's integer, and above SQLite's (and PostgreSQL's bigint) 64-bit integer.
HUGE_IDS = [2**31, 2**63]
INT_PARAMETER = re.compile(r"<int:(\w+)>")


@pytest.fixture
def admin(factory, auth):
    """A signed-in system admin: every route is open to them."""
    user = factory.user(factory.municipality(), Role.SYSTEM_ADMIN, Role.MUNICIPALITY_ADMIN,
                        Role.FACILITY_MANAGER)
    assert auth.login(user).status_code == 302
    return user


def api_token(app, db, user) -> str:
    """A personal API token, made by the accounts rules as the account page does."""
    now = utcnow()
    _, raw = create_api_token(db, user=user, name="Robustness", password=PASSWORD, now=now,
                              expires_at=now + timedelta(days=30), max_lifetime=timedelta(days=365))
    db.commit()
    return raw


@pytest.fixture
def api_client(app):
    """A client with no session cookie: what it may do, its token alone allows."""
    return app.test_client()


# --- 1. Ids the databases cannot hold -----------------------------------------------------------


@pytest.mark.parametrize("huge", HUGE_IDS)
def test_a_huge_id_in_any_route_is_not_found(app, client, admin, huge):
    rules = [rule for rule in app.url_map.iter_rules() if INT_PARAMETER.search(rule.rule)]
    assert len(rules) > 30
    answers = {}
    for rule in rules:
        path = INT_PARAMETER.sub(str(huge), rule.rule)
        method = "GET" if "GET" in (rule.methods or ()) else sorted((rule.methods or set()) - {"OPTIONS"})[0]
        answers[f"{method} {rule.rule}"] = client.open(path, method=method).status_code
    assert {route: status for route, status in answers.items() if status != 404} == {}


@pytest.mark.parametrize("huge", HUGE_IDS)
def test_a_huge_id_in_an_api_body_is_a_422_problem(app, api_client, db, factory, huge):
    manager = factory.manager(factory.municipality())
    headers = {"Authorization": f"Bearer {api_token(app, db, manager)}"}
    site = factory.site(factory._municipality_of(manager.municipality_id))
    category = factory.category()
    bodies = {
        "/listings": [{"title": "Stol", "category_id": huge, "site_id": site.id, "lend": True},
                      {"title": "Stol", "category_id": category.id, "site_id": huge, "lend": True},
                      {"title": "Stol", "category_id": category.id, "site_id": site.id, "lend": True,
                       "contact_user_id": huge}],
        "/wants": [{"words": "stol", "category_id": huge}],
    }
    for path, sent in bodies.items():
        for body in sent:
            response = api_client.post(PREFIX + path, json=body, headers=headers)
            assert response.status_code == 422, (path, body, response.get_data(as_text=True))
            assert response.mimetype == PROBLEM


@pytest.mark.parametrize("huge", HUGE_IDS)
def test_a_huge_id_chosen_in_an_admin_form_is_refused_on_the_form(client, admin, db, huge):
    municipality_id = admin.municipality_id
    pages = {
        f"/admin/municipalities/{municipality_id}/users/new": {
            "name": "Ny Person", "email": "ny.person@example.org", "roles": "employee", "unit_id": str(huge)},
        f"/admin/municipalities/{municipality_id}/units/new": {"name": "Ny enhet", "parent_id": str(huge)},
    }
    for page, data in pages.items():
        response = client.post(page, data={**data, "csrf_token": csrf_token(client, page)})
        assert response.status_code == 200, (page, response.status_code)  # the form again, with its error
    assert db.scalars(select(Unit).where(Unit.name == "Ny enhet")).first() is None


def test_a_huge_parent_id_in_the_new_category_address_is_ignored(client, admin, huge=2**63):
    assert client.get(f"/catalog/categories/new?parent_id={huge}").status_code == 200
    assert client.get("/catalog/categories/new?parent_id=²").status_code == 200


# --- 2. NUL characters --------------------------------------------------------------------------

NUL_MESSAGE = "NUL-tecken"


def test_a_nul_character_is_refused_at_the_edge_before_and_after_sign_in(app, client, api_client, db, factory):
    user = factory.manager(factory.municipality())
    # Before sign-in: the login form, with a valid CSRF token so only the NUL is wrong.
    response = client.post("/login", data={"email": f"{user.email}\x00", "password": PASSWORD,
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 400
    assert NUL_MESSAGE in response.get_data(as_text=True)  # Swedish first
    assert client.get("/").status_code == 200  # and nobody signed in
    assert "/logout" not in client.get("/").get_data(as_text=True)

    # A search in the query string, signed in.
    assert client.post("/login", data={"email": user.email, "password": PASSWORD,
                                       "csrf_token": csrf_token(client)}).status_code == 302
    response = client.get("/catalog/?q=stol%00")
    assert response.status_code == 400
    assert NUL_MESSAGE in response.get_data(as_text=True)

    # An API body, and an API query.
    headers = {"Authorization": f"Bearer {api_token(app, db, user)}"}
    response = api_client.post(f"{PREFIX}/wants", json={"words": "stol\x00"}, headers=headers)
    assert response.status_code == 400 and response.mimetype == PROBLEM
    assert "NUL" in response.get_json()["detail"]
    response = api_client.post(f"{PREFIX}/wants", json={"words": "stol", "description\x00": ""}, headers=headers)
    assert response.status_code == 400 and response.mimetype == PROBLEM
    assert api_client.get(f"{PREFIX}/listings?q=%00", headers=headers).status_code == 400
    # Nothing was written.
    assert api_client.get(f"{PREFIX}/wants?state=all", headers=headers).get_json()["total"] == 0


# --- 3. Numbers that are not numbers, JSON without end ------------------------------------------


@pytest.mark.parametrize("depth", [33, 10_000])
def test_deeply_nested_json_is_a_400_problem(app, api_client, db, factory, depth):
    user = factory.manager(factory.municipality())
    headers = {"Authorization": f"Bearer {api_token(app, db, user)}", "Content-Type": "application/json"}
    for body in ("[" * depth + "]" * depth, '{"words": ' + "[" * depth + "]" * depth + "}"):
        response = api_client.post(f"{PREFIX}/wants", data=body, headers=headers)
        assert response.status_code == 400, response.get_data(as_text=True)
        assert response.mimetype == PROBLEM
        assert "djupt" in response.get_json()["detail"]


@pytest.mark.parametrize("weight", ["sNaN", "NaN", "-sNaN", "Infinity", "-inf"])
def test_a_weight_that_is_not_a_number_is_refused_in_the_listing_form(client, auth, factory, db, weight):
    municipality = factory.municipality()
    manager = factory.manager(municipality)
    site, category = factory.site(municipality), factory.category()
    assert auth.login(manager).status_code == 302
    data = {"kind": "thing", "title": "Kontorsstol", "category_id": str(category.id), "site_id": str(site.id),
            "condition": "good", "quantity": "1", "lend": "y", "visibility": "partners"}
    for field in ("weight_kg", "volume_m3"):
        response = client.post("/catalog/new", data={**data, field: weight,
                                                     "csrf_token": csrf_token(client, "/catalog/new")})
        assert response.status_code == 200, (field, response.status_code)  # the form again, with its error
        assert "Inte ett tal" in response.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(Listing)) == 0


def test_a_weight_with_a_decimal_comma_is_read_as_written(client, auth, factory, db):
    """A text field, not a number field: a browser set to English drops the comma of "0,25" from a
    number field, and 25 kg would be saved for 0.25."""
    municipality = factory.municipality()
    manager = factory.manager(municipality)
    site, category = factory.site(municipality), factory.category()
    assert auth.login(manager).status_code == 302
    page = client.get("/catalog/new").get_data(as_text=True)
    assert re.search(r'<input[^>]*name="weight_kg"[^>]*type="text"|<input[^>]*type="text"[^>]*name="weight_kg"', page)
    response = client.post("/catalog/new", data={
        "kind": "thing", "title": "Kontorsstol", "category_id": str(category.id), "site_id": str(site.id),
        "condition": "good", "quantity": "1", "lend": "y", "visibility": "partners", "weight_kg": "1 200,5",
        "volume_m3": "0,25", "csrf_token": csrf_token(client, "/catalog/new")})
    assert response.status_code == 302
    listing = db.scalar(select(Listing))
    assert (listing.weight_kg, listing.volume_m3) == (1200.5, 0.25)
