"""The JSON API: its OpenAPI document, token authentication, problem+json errors, pagination."""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from openapi_spec_validator import validate
from sqlalchemy import select

from sharing.accounts.models import ApiToken, OpeningHours, Role
from sharing.clock import utcnow
from tests.conftest import PASSWORD, csrf_token

PREFIX = "/api/v1"
PROBLEM = "application/problem+json"
TOKEN_ON_PAGE = re.compile(r'<code class="token">(dt_[^<\s]+)</code>')
RULE_PARAMETER = re.compile(r"<(?:[a-z]+:)?(\w+)>")


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api(app):
    """A client with no session cookie: what it can do, its token alone allows."""
    return app.test_client()


def create_token(client, name: str = "Integration") -> str:
    """Create an API token through the account page, as a signed-in user would."""
    response = client.post("/account/tokens", data={"name": name, "current_password": PASSWORD,
                                                    "csrf_token": csrf_token(client, "/account")})
    assert response.status_code == 200, response.get_data(as_text=True)
    html = response.get_data(as_text=True)
    shown = TOKEN_ON_PAGE.findall(html)
    assert len(shown) == 1, "the new token must be shown exactly once"
    raw = shown[0]
    assert html.count(raw) == 1
    return raw


def token_row(db, user, name: str = "Integration") -> ApiToken:
    query = select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.name == name)
    # populate_existing: read what the app wrote, not what this session remembers.
    token = db.scalars(query.execution_options(populate_existing=True)).one()
    db.commit()  # end the read transaction
    return token


# --- The OpenAPI document -----------------------------------------------------------------------


def test_openapi_document_is_public_and_valid(api, app):
    response = api.get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    document = response.get_json()
    validate(document)  # raises if the document is not valid OpenAPI
    assert document["openapi"].startswith("3.1")
    paths = document["paths"]
    for path in ("/me", "/municipalities", "/municipalities/{municipality_id}/sites",
                 "/municipalities/{municipality_id}/units"):
        assert "get" in paths.get(path, {}), f"{path} is not documented"
    assert paths["/openapi.json"]["get"]["security"] == [], "the document itself is public"
    sites = paths["/municipalities/{municipality_id}/sites"]["get"]
    names = {(p["name"], p["in"]) for p in sites["parameters"]}
    assert {("municipality_id", "path"), ("page", "query"), ("per_page", "query")} <= names


def test_every_api_route_is_documented(api, app):
    paths = api.get(f"{PREFIX}/openapi.json").get_json()["paths"]
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")]
    assert len(rules) >= 5
    missing = []
    for rule in rules:
        assert rule.rule.startswith(PREFIX)
        path = RULE_PARAMETER.sub(r"{\1}", rule.rule[len(PREFIX):])
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if method.lower() not in paths.get(path, {}):
                missing.append(f"{method} {rule.rule} ({rule.endpoint})")
    assert missing == [], f"API routes missing from the OpenAPI document: {missing}"


# --- Authentication -----------------------------------------------------------------------------


def test_without_a_token_the_api_answers_401_problem(api):
    body = assert_problem(api.get(f"{PREFIX}/me"), 401)
    assert "Bearer" in body.get("detail", "")


def test_a_token_created_in_the_ui_authenticates_its_user(client, auth, api, factory, db):
    municipality = factory.municipality(name="Ystad", code="1286")
    user = factory.user(municipality, Role.EMPLOYEE, Role.DRIVER)
    assert auth.login(user).status_code == 302
    raw = create_token(client)
    assert raw not in client.get("/account").get_data(as_text=True), "the token is shown only once"
    assert token_row(db, user).token_hash != raw, "only a hash of the token may be stored"

    response = api.get(f"{PREFIX}/me", headers=bearer(raw))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {
        "id": user.id, "name": user.name, "email": user.email, "unit_id": None,
        "roles": ["driver", "employee"],
        "municipality": {"id": municipality.id, "code": "1286", "name": "Ystad", "slug": municipality.slug},
    }
    # The token works on its own: no session cookie was set by using it.
    assert api.get(f"{PREFIX}/me").status_code == 401

    assert_problem(api.get(f"{PREFIX}/me", headers=bearer(raw + "x")), 401)
    assert_problem(api.get(f"{PREFIX}/me", headers=bearer("dt_" + "A" * 43)), 401)
    assert_problem(api.get(f"{PREFIX}/me", headers={"Authorization": f"Basic {raw}"}), 401)


def test_a_revoked_token_stops_working(client, auth, api, factory, db):
    user = factory.user(factory.municipality())
    auth.login(user)
    raw = create_token(client)
    assert api.get(f"{PREFIX}/me", headers=bearer(raw)).status_code == 200
    token = token_row(db, user)

    response = client.post(f"/account/tokens/{token.id}/revoke", data={"csrf_token": csrf_token(client, "/account")})
    assert response.status_code == 302
    assert token_row(db, user).revoked_at is not None
    assert_problem(api.get(f"{PREFIX}/me", headers=bearer(raw)), 401)


def test_an_expired_token_stops_working(client, auth, api, factory, db):
    user = factory.user(factory.municipality())
    auth.login(user)
    raw = create_token(client)
    assert api.get(f"{PREFIX}/me", headers=bearer(raw)).status_code == 200

    token = token_row(db, user)
    token.expires_at = utcnow() - timedelta(minutes=1)
    db.add(token)
    db.commit()
    assert_problem(api.get(f"{PREFIX}/me", headers=bearer(raw)), 401)


def test_a_token_is_refused_until_its_user_turns_on_the_two_step_their_role_requires(
        app, client, auth, api, factory, db):
    user = factory.user(factory.municipality(), Role.MUNICIPALITY_ADMIN)
    auth.login(user)
    raw = create_token(client)  # made before two-step verification was required
    assert api.get(f"{PREFIX}/me", headers=bearer(raw)).status_code == 200
    app.config["MFA_REQUIRED_ROLES"] = ("municipality_admin",)
    body = assert_problem(api.get(f"{PREFIX}/me", headers=bearer(raw)), 403)
    assert "tvåstegsverifiering" in body["detail"]
    assert_problem(api.get(f"{PREFIX}/municipalities", headers=bearer(raw)), 403)
    user.totp_secret = pyotp.random_base32()
    db.add(user)
    db.commit()
    assert api.get(f"{PREFIX}/me", headers=bearer(raw)).status_code == 200


def test_another_user_cannot_revoke_my_token(client, auth, api, app, factory, db):
    municipality = factory.municipality()
    owner = factory.user(municipality)
    intruder = factory.user(municipality, Role.MUNICIPALITY_ADMIN)
    auth.login(owner)
    raw = create_token(client)
    token = token_row(db, owner)

    other = app.test_client()
    other.post("/login", data={"email": intruder.email, "password": "korrekt-häst-batteri-häftstift",
                               "csrf_token": csrf_token(other)})
    assert other.get("/account").status_code == 200, "the intruder is signed in"
    other.post(f"/account/tokens/{token.id}/revoke", data={"csrf_token": csrf_token(other, "/account")})

    assert token_row(db, owner).revoked_at is None
    assert api.get(f"{PREFIX}/me", headers=bearer(raw)).get_json()["id"] == owner.id


# --- Pagination ---------------------------------------------------------------------------------


def link_header(response) -> dict[str, dict[str, list[str]]]:
    """rel -> query of the linked URL, from an RFC 8288 Link header."""
    links = {}
    for part in response.headers.get("Link", "").split(","):
        found = re.fullmatch(r'\s*<([^>]+)>\s*;\s*rel="(\w+)"\s*', part)
        if found:
            url = urlsplit(found.group(1))
            assert url.path == f"{PREFIX}/municipalities"
            links[found.group(2)] = parse_qs(url.query)
    return links


def test_municipalities_are_paginated(client, auth, factory):
    names = ["Alfa", "Beta", "Gamma", "Delta", "Epsilon"]
    municipalities = [factory.municipality(name=name) for name in names]
    auth.login(factory.user(municipalities[0]))

    response = client.get(f"{PREFIX}/municipalities?per_page=2&page=2")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["page"], body["per_page"], body["total"]) == (2, 2, 5)
    assert [m["name"] for m in body["items"]] == ["Delta", "Epsilon"]  # by name: Alfa Beta | Delta Epsilon | Gamma
    assert set(body["items"][0]) == {"id", "code", "name", "slug"}
    links = link_header(response)
    assert set(links) == {"prev", "next"}
    assert (links["prev"]["page"], links["prev"]["per_page"]) == (["1"], ["2"])
    assert (links["next"]["page"], links["next"]["per_page"]) == (["3"], ["2"])

    last = client.get(f"{PREFIX}/municipalities?per_page=2&page=3")
    assert [m["name"] for m in last.get_json()["items"]] == ["Gamma"]
    assert set(link_header(last)) == {"prev"}

    first = client.get(f"{PREFIX}/municipalities")
    assert (first.get_json()["page"], first.get_json()["total"], len(first.get_json()["items"])) == (1, 5, 5)
    assert "Link" not in first.headers


@pytest.mark.parametrize("query", ["per_page=0", "per_page=500", "page=abc", "page=0", "page=-1"])
def test_bad_pagination_is_a_400_problem(client, auth, factory, query):
    auth.login(factory.user(factory.municipality()))
    body = assert_problem(client.get(f"{PREFIX}/municipalities?{query}"), 400)
    assert query.split("=")[0] in body["detail"]


# --- Sites ----------------------------------------------------------------------------------------


def test_sites_of_an_unknown_municipality_is_a_404_problem(client, auth, factory):
    auth.login(factory.user(factory.municipality()))
    assert_problem(client.get(f"{PREFIX}/municipalities/999999/sites"), 404)
    assert_problem(client.get(f"{PREFIX}/municipalities/999999/units"), 404)


def test_units_and_sites_are_for_the_municipalitys_own_people(client, auth, factory):
    ystad, skurup = factory.municipality(), factory.municipality()
    factory.site(skurup)
    auth.login(factory.user(ystad))
    assert_problem(client.get(f"{PREFIX}/municipalities/{skurup.id}/sites"), 403)
    assert_problem(client.get(f"{PREFIX}/municipalities/{skurup.id}/units"), 403)
    auth.logout()
    auth.login(factory.user(ystad, Role.SYSTEM_ADMIN))
    assert client.get(f"{PREFIX}/municipalities/{skurup.id}/sites").get_json()["total"] == 1


def test_an_api_token_opens_no_web_page(client, auth, api, factory):
    user = factory.user(factory.municipality(), Role.MUNICIPALITY_ADMIN)
    auth.login(user)
    raw = create_token(client)
    response = api.get("/account", headers=bearer(raw))
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert api.get(f"/admin/municipalities/{user.municipality_id}/users", headers=bearer(raw)).status_code == 302


def test_creating_a_token_asks_for_the_password_and_caps_its_lifetime(client, auth, factory):
    auth.login(factory.user(factory.municipality()))
    token = csrf_token(client, "/account")
    response = client.post("/account/tokens", data={"name": "x", "current_password": "fel", "csrf_token": token})
    assert response.status_code == 400 and "nuvarande lösenordet är fel" in response.get_data(as_text=True)
    far = (date.today() + timedelta(days=400)).isoformat()
    response = client.post("/account/tokens", data={"name": "x", "current_password": PASSWORD,
                                                    "expires_on": far, "csrf_token": token})
    assert response.status_code == 400 and "365 dagar" in response.get_data(as_text=True)


def test_a_password_reset_revokes_every_token(client, auth, api, factory, mailbox):
    user = factory.user(factory.municipality())
    auth.login(user)
    raw = create_token(client)
    auth.logout()
    client.post("/password/forgot", data={"email": user.email, "csrf_token": csrf_token(client, "/password/forgot")})
    path = mailbox.open_link(client, mailbox.messages[-1])
    client.post(path, data={"password": "syrenbersån-vid-havet-2026", "csrf_token": csrf_token(client, path)})
    assert api.get(f"{PREFIX}/me", headers=bearer(raw)).status_code == 401


def test_sites_include_their_opening_hours(client, auth, factory, db):
    municipality, elsewhere = factory.municipality(), factory.municipality()
    site = factory.site(municipality, name="Centralförrådet")
    db.add_all([OpeningHours(site_id=site.id, weekday=2, opens=time(13), closes=time(16, 30)),
                OpeningHours(site_id=site.id, weekday=0, opens=time(8), closes=time(12))])
    db.commit()
    factory.site(elsewhere, name="Någon annanstans")
    auth.login(factory.user(municipality))

    response = client.get(f"{PREFIX}/municipalities/{municipality.id}/sites")
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 1
    [item] = body["items"]
    assert (item["id"], item["name"], item["municipality_id"]) == (site.id, "Centralförrådet", municipality.id)
    assert item["opening_hours"] == [
        {"weekday": 0, "opens": "08:00:00", "closes": "12:00:00"},
        {"weekday": 2, "opens": "13:00:00", "closes": "16:30:00"},
    ]


def test_sites_say_how_their_coordinates_were_set(client, auth, factory):
    municipality = factory.municipality()
    factory.site(municipality, name="Förrådet", latitude=55.4389, longitude=13.8441)
    factory.site(municipality, name="Ute i Skivarp", locality="Skivarp", latitude=55.423, longitude=13.567,
                 coordinates_source="approximate")
    auth.login(factory.user(municipality))
    items = client.get(f"{PREFIX}/municipalities/{municipality.id}/sites").get_json()["items"]
    assert [(i["name"], i["latitude"], i["longitude"], i["coordinates_source"], i["approximate"]) for i in items] == [
        ("Förrådet", 55.4389, 13.8441, "typed", False), ("Ute i Skivarp", 55.423, 13.567, "approximate", True)]
    schema = client.get(f"{PREFIX}/openapi.json").get_json()["components"]["schemas"]
    assert schema["CoordinatesSource"]["enum"] == ["geocoded", "approximate", "picked", "typed"]
    assert {"coordinates_source", "approximate"} <= set(schema["SiteOut"]["required"])
