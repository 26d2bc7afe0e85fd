"""Two-step verification (TOTP): turning it on, logging in with it, replay, reset, required roles."""

import html
import re
from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import pytest

from sharing.accounts import mfa
from sharing.accounts.models import Role, User
from sharing.clock import utcnow
from sharing.errors import DomainError
from tests.conftest import PASSWORD, csrf_token


def code_at(secret, when):
    return pyotp.TOTP(secret).at(when)


def enrol(client, db, user):
    page = client.get("/account/two-step").get_data(as_text=True)
    secret = shown_key(page)
    assert "<svg" in page
    response = client.post("/account/two-step", data={"code": pyotp.TOTP(secret).now(),
                                                      "csrf_token": csrf_token(client, "/account/two-step")})
    # On: the recovery codes are shown, this once.
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert len(recovery_codes(response.get_data(as_text=True))) == 10
    db.expire_all()
    assert db.get(User, user.id).totp_secret == secret
    return secret


def shown_key(page: str) -> str:
    """The key as copied from the page: its groups of four, and no spaces between them."""
    shown = re.search(r'<code class="token key">(.*?)</code>', page).group(1)
    groups = re.findall(r"<span>([A-Z2-7]{4})</span>", shown)
    assert re.sub(r"<[^>]+>", "", shown) == "".join(groups) and len(groups) == 8
    return "".join(groups)


def recovery_codes(page: str) -> list[str]:
    return re.findall(r"<li><code>([0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4})</code></li>", page)


def test_turn_on_then_log_in_with_a_code(client, auth, factory, db, mailbox):
    user = factory.user(factory.municipality())
    auth.login(user)
    secret = enrol(client, db, user)
    assert mailbox.messages[-1]["Subject"] == "Tvåstegsverifiering är på"
    auth.logout()
    response = auth.login(user)
    assert response.headers["Location"].endswith("/login/code")
    assert client.get("/account").status_code == 302  # not in yet
    token = csrf_token(client, "/login/code")
    # The enrolment used up the current step; the next one (one step of drift) is accepted.
    later = utcnow() + timedelta(seconds=30)
    response = client.post("/login/code", data={"code": code_at(secret, later), "csrf_token": token})
    assert response.status_code == 302
    assert client.get("/account").status_code == 200


def test_second_step_refuses_wrong_and_replayed_codes(client, auth, factory, db):
    user = factory.user(factory.municipality())
    secret = pyotp.random_base32()
    user.totp_secret = secret
    db.commit()
    response = auth.login(user)
    assert response.headers["Location"].endswith("/login/code")
    token = csrf_token(client, "/login/code")
    response = client.post("/login/code", data={"code": "000000", "csrf_token": token})
    assert "Koden är fel" in response.get_data(as_text=True)
    code = pyotp.TOTP(secret).now()
    assert client.post("/login/code", data={"code": code, "csrf_token": token}).status_code == 302
    assert client.get("/account").status_code == 200
    auth.logout()
    auth.login(user)
    response = client.post("/login/code", data={"code": code, "csrf_token": csrf_token(client, "/login/code")})
    assert response.status_code == 200 and "Koden är fel" in response.get_data(as_text=True)


def test_the_second_step_cannot_be_skipped(client, factory, db):
    user = factory.user(factory.municipality())
    user.totp_secret = pyotp.random_base32()
    db.commit()
    response = client.get("/login/code")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")


def test_codes_are_throttled(app, client, auth, factory, db):
    user = factory.user(factory.municipality())
    user.totp_secret = pyotp.random_base32()
    db.commit()
    auth.login(user)
    token = csrf_token(client, "/login/code")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        client.post("/login/code", data={"code": "000000", "csrf_token": token})
    response = client.post("/login/code", data={"code": pyotp.TOTP(user.totp_secret).now(), "csrf_token": token})
    assert response.status_code == 429


def test_rules_accept_one_step_of_drift_and_nothing_more(db, factory):
    user = factory.user(factory.municipality())
    secret = pyotp.random_base32()
    now = utcnow()
    with pytest.raises(DomainError):
        mfa.enable(db, user=user, secret=secret, code=code_at(secret, now - timedelta(seconds=95)), now=now)
    mfa.enable(db, user=user, secret=secret, code=code_at(secret, now - timedelta(seconds=30)), now=now)
    assert user.totp_secret == secret
    mfa.verify(db, user=user, code=code_at(secret, now), now=now)
    with pytest.raises(DomainError):  # the same step again: a replay
        mfa.verify(db, user=user, code=code_at(secret, now), now=now)


def test_turning_off_needs_password_and_code(client, auth, factory, db):
    user = factory.user(factory.municipality())
    auth.login(user)
    secret = enrol(client, db, user)
    token = csrf_token(client, "/account/two-step")
    later = utcnow() + timedelta(seconds=30)
    response = client.post("/account/two-step/off", data={"current_password": "fel", "code": code_at(secret, later),
                                                         "csrf_token": token})
    assert response.status_code == 400
    response = client.post("/account/two-step/off", data={"current_password": PASSWORD,
                                                         "code": code_at(secret, later), "csrf_token": token})
    assert response.status_code == 302
    db.expire_all()
    assert db.get(User, user.id).totp_secret is None


def test_admin_resets_two_step_for_a_user_of_their_municipality_only(client, auth, factory, db):
    ystad, skurup = factory.municipality(), factory.municipality()
    admin = factory.user(ystad, Role.MUNICIPALITY_ADMIN)
    mine, theirs = factory.user(ystad), factory.user(skurup)
    for user in (mine, theirs):
        user.totp_secret = pyotp.random_base32()
    db.commit()
    auth.login(admin)
    token = csrf_token(client, "/")
    response = client.post(f"/admin/municipalities/{ystad.id}/users/{mine.id}/reset-two-step",
                           data={"csrf_token": token})
    assert response.status_code == 302
    assert client.post(f"/admin/municipalities/{skurup.id}/users/{theirs.id}/reset-two-step",
                       data={"csrf_token": token}).status_code == 403
    assert client.post(f"/admin/municipalities/{ystad.id}/users/{theirs.id}/reset-two-step",
                       data={"csrf_token": token}).status_code == 404
    db.expire_all()
    assert db.get(User, mine.id).totp_secret is None
    assert db.get(User, theirs.id).totp_secret is not None


def test_required_roles_must_enrol_before_anything_else(app, client, auth, factory, db):
    app.config["MFA_REQUIRED_ROLES"] = ("municipality_admin",)
    municipality = factory.municipality()
    admin = factory.user(municipality, Role.MUNICIPALITY_ADMIN)
    auth.login(admin)
    response = client.get(f"/admin/municipalities/{municipality.id}/users")
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/two-step")
    enrol(client, db, admin)
    assert client.get(f"/admin/municipalities/{municipality.id}/users").status_code == 200
    # An employee is not asked.
    auth.logout()
    auth.login(factory.user(municipality))
    assert client.get("/account").status_code == 200


def test_on_the_phone_the_app_opens_from_a_link_with_the_key_shown_in_groups(client, auth, factory, db):
    user = factory.user(factory.municipality(), email="anna@ystad.example")
    auth.login(user)
    client.post("/language", data={"language": "en", "csrf_token": csrf_token(client, "/")})
    page = client.get("/account/two-step").get_data(as_text=True)
    key = shown_key(page)
    link = re.search(r'<a href="(otpauth://[^"]+)">Open in the authenticator app</a>', page)
    assert link, page
    uri = urlsplit(html.unescape(link.group(1)))
    assert uri.netloc == "totp" and unquote(uri.path) == "/Delningstjänsten:anna@ystad.example"
    assert parse_qs(uri.query)["secret"] == [key] and parse_qs(uri.query)["issuer"] == ["Delningstjänsten"]
    # The key the app took from the link is the one turned on.
    response = client.post("/account/two-step", data={"code": pyotp.TOTP(key).now(),
                                                      "csrf_token": csrf_token(client, "/account/two-step")})
    assert response.status_code == 200
    db.expire_all()
    assert db.get(User, user.id).totp_secret == key
