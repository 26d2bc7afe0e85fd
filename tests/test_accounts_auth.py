"""Signing in and out, throttling, sessions, password reset and invitations (views)."""

import re
import socket
import time
from datetime import timedelta

import pyotp
from sqlalchemy import func, select

from sharing.accounts.auth import purge_expired
from sharing.accounts.models import AccountToken, KnownLoginAddress, LoginAttempt, Role, Site, User, UserSession
from sharing.accounts.personal_data import rules as personal_data
from sharing.clock import utcnow
from sharing.jobs import schedule
from sharing.mail import QueuedMail
from tests.conftest import PASSWORD, Auth, csrf_token


def test_login_and_logout(client, auth, factory):
    user = factory.user(factory.municipality())
    response = auth.login(user)
    assert response.status_code == 302
    assert user.name in client.get("/").get_data(as_text=True)
    auth.logout()
    assert client.get("/account").status_code == 302


def test_login_is_case_insensitive_on_the_address(client, auth, factory):
    factory.user(factory.municipality(), email="anna@ystad.example")
    assert auth.login("  Anna@Ystad.Example ").status_code == 302


def test_wrong_password_says_no_more_than_that(client, auth, factory):
    user = factory.user(factory.municipality())
    for email in (user.email, "nobody@nowhere.example"):
        response = auth.login(email, "fel-lösenord")
        assert response.status_code == 200
        assert "Fel e-postadress eller lösenord." in response.get_data(as_text=True)


def test_login_goes_on_to_a_local_next_page_only(client, factory):
    user = factory.user(factory.municipality())
    token = csrf_token(client)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token,
                                           "next": "/account"})
    assert response.headers["Location"].endswith("/account")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    token = csrf_token(client)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token,
                                           "next": "//evil.example/"})
    assert "evil" not in response.headers["Location"]


def test_a_page_asked_signed_out_is_where_signing_in_leads(client):
    """The page's own address, its query kept, and no stray "?" when it has none."""
    assert client.get("/account").headers["Location"] == "/login?next=/account"
    assert client.get("/catalog/?q=stol").headers["Location"] == "/login?next=/catalog/?q%3Dstol"


def test_a_throttled_sign_in_says_how_long_is_left_to_wait(db):
    """Until the oldest attempt that keeps the count at the limit leaves the window, in whole
    minutes rounded up: not the whole window whatever is left of it."""
    import pytest

    from sharing.accounts import auth
    from sharing.accounts.models import AttemptKind
    limits = auth.Limits(per_account_and_address=3, per_account=20, per_address=50, window=timedelta(minutes=15))
    now = utcnow()

    def waited(*minutes_ago: float) -> str:
        db.execute(LoginAttempt.__table__.delete())
        for ago in minutes_ago:
            auth.record_attempt(db, kind=AttemptKind.LOGIN, email="a@b.example", address="203.0.113.1",
                                now=now - timedelta(minutes=ago))
        db.flush()
        with pytest.raises(auth.LoginThrottled) as refused:
            auth.check_throttle(db, kind=AttemptKind.LOGIN, email="a@b.example", address="203.0.113.1", now=now,
                                limits=limits)
        return str(refused.value)

    assert waited(14.5, 10, 2) == "Too many attempts. Wait 1 minute and try again."
    assert waited(5, 4, 3) == "Too many attempts. Wait 10 minutes and try again."
    assert waited(14, 9.5, 6, 1) == "Too many attempts. Wait 6 minutes and try again."  # the second oldest


def test_throttling_after_repeated_failures(app, client, auth, factory, db):
    user = factory.user(factory.municipality())
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        auth.login(user, "fel-lösenord")
    # Even the right password is refused now from here, and says why...
    response = auth.login(user)
    assert response.status_code == 429
    assert "För många försök" in response.get_data(as_text=True)
    # ...but the real user elsewhere is not locked out by someone guessing.
    elsewhere = app.test_client()
    response = elsewhere.post("/login", data={"email": user.email, "password": PASSWORD,
                                              "csrf_token": csrf_token(elsewhere)},
                              environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert response.status_code == 302
    # Once the window has passed, the right password works again.
    for attempt in db.scalars(select(LoginAttempt)):
        attempt.attempted_at = utcnow() - timedelta(minutes=app.config["LOGIN_WINDOW_MINUTES"] + 1)
    db.commit()
    assert auth.login(user).status_code == 302
    assert db.scalar(select(func.count()).select_from(LoginAttempt)) == 0


def test_a_stranger_guessing_from_many_addresses_cannot_lock_the_owner_out(app, client, auth, factory, db):
    user = factory.user(factory.municipality())
    assert auth.login(user).status_code == 302  # the owner's usual address (the test client's)
    auth.logout()

    def login_from(address, password):
        other = app.test_client()
        return other.post("/login", data={"email": user.email, "password": password,
                                          "csrf_token": csrf_token(other)}, environ_base={"REMOTE_ADDR": address})

    # Enough failures for the per-account limit, from addresses each below its own limit.
    per_address = app.config["LOGIN_MAX_FAILURES"] - 1
    for n in range(-(-app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] // per_address)):
        for _ in range(per_address):
            assert login_from(f"198.51.100.{n}", "fel-lösenord").status_code == 200
    # The stranger, from yet another address, is throttled even with the right password...
    assert login_from("203.0.113.9", PASSWORD).status_code == 429
    # ...while the owner, from where they signed in before, is not.
    assert auth.login(user).status_code == 302
    assert user.name in client.get("/").get_data(as_text=True)
    # Only a keyed hash of the address is kept, never the address itself.
    stored = db.scalars(select(KnownLoginAddress.address_hash)).all()
    assert len(stored) == 1 and "127.0.0.1" not in stored[0]


def test_known_addresses_are_forgotten_after_their_retention(app, client, auth, factory, db):
    user = factory.user(factory.municipality())
    auth.login(user)
    purge_account_data_later = utcnow() + timedelta(days=app.config["LOGIN_KNOWN_ADDRESS_DAYS"] + 1)
    purge_expired(db, now=purge_account_data_later, attempts_older_than=timedelta(days=1),
                  sessions_older_than=timedelta(days=30),
                  addresses_older_than=timedelta(days=app.config["LOGIN_KNOWN_ADDRESS_DAYS"]))
    db.commit()
    assert db.scalar(select(func.count()).select_from(KnownLoginAddress)) == 0


def test_deactivated_user_is_logged_out_at_once(client, auth, factory, db):
    user = factory.user(factory.municipality())
    auth.login(user)
    assert client.get("/account").status_code == 200
    user.active = False
    db.commit()
    assert client.get("/account").status_code == 302


def test_changing_password_ends_other_sessions(app, client, auth, factory, mailbox):
    user = factory.user(factory.municipality())
    other_device = app.test_client()
    auth.login(user)
    other_device.post("/login", data={"email": user.email, "password": PASSWORD,
                                      "csrf_token": csrf_token(other_device)})
    assert other_device.get("/account").status_code == 200
    new_password = "en-helt-annan-fras-om-ostkaka"
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "password": new_password, "csrf_token": csrf_token(client, "/account")})
    assert response.status_code == 302
    assert client.get("/account").status_code == 200  # this session lives on
    assert other_device.get("/account").status_code == 302  # the other is over
    assert mailbox.messages[-1]["Subject"] == "Ditt lösenord har ändrats"


def test_weak_or_wrong_passwords_are_refused_on_change(client, auth, factory):
    user = factory.user(factory.municipality())
    auth.login(user)
    token = csrf_token(client, "/account")
    response = client.post("/account/password", data={"current_password": PASSWORD, "password": "kort",
                                                      "csrf_token": token})
    assert response.status_code == 400
    assert "minst 12 tecken" in response.get_data(as_text=True)
    response = client.post("/account/password", data={"current_password": PASSWORD, "password": "password1234",
                                                      "csrf_token": token})
    assert "för lätt att gissa" in response.get_data(as_text=True)
    response = client.post("/account/password", data={"current_password": "fel", "csrf_token": token,
                                                      "password": "en-helt-annan-fras-om-ostkaka"})
    assert "nuvarande lösenordet är fel" in response.get_data(as_text=True)


def test_the_current_password_is_refused_as_the_new_one(app, client, auth, factory, db, mailbox):
    user = factory.user(factory.municipality())
    other_device = app.test_client()
    Auth(other_device).login(user)
    auth.login(user)
    sent = len(mailbox.messages)
    response = client.post("/account/password", data={"current_password": PASSWORD, "password": PASSWORD,
                                                      "csrf_token": csrf_token(client, "/account")})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert '<p class="error" id="password-error"><span class="visually-hidden">Fel:</span> Det nya lösenordet är ' \
           'detsamma som det nuvarande. Välj ett annat.</p>' in html
    assert "Ditt lösenord är bytt" not in html and len(mailbox.messages) == sent
    assert other_device.get("/account").status_code == 200  # nothing changed, no one logged out


def test_idle_session_expires(app, client, auth, factory, db):
    user = factory.user(factory.municipality())
    auth.login(user)
    assert client.get("/account").status_code == 200
    for user_session in db.scalars(select(UserSession)):
        user_session.last_seen_at -= timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1)
    db.commit()
    response = client.get("/account")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "Din session har avslutats" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_copied_cookie_is_worthless_after_logout(app, client, auth, factory):
    user = factory.user(factory.municipality())
    auth.login(user)
    stolen = client.get_cookie("sharing_session", domain="delning.test").value
    auth.logout()
    thief = app.test_client()
    thief.set_cookie("sharing_session", stolen, domain="delning.test")
    assert thief.get("/account").status_code == 302


def test_user_can_log_out_their_other_sessions(app, client, auth, factory):
    user = factory.user(factory.municipality())
    other_device = app.test_client()
    Auth(other_device).login(user)
    auth.login(user)
    page = client.get("/account").get_data(as_text=True)
    assert "den här sessionen" in page
    # A stolen session alone cannot throw its owner out: the password is asked again.
    refused = client.post("/account/sessions/end-others",
                          data={"csrf_token": csrf_token(client, "/account"), "sessions-current_password": "fel"})
    assert refused.status_code == 400 and "Det nuvarande lösenordet är fel." in refused.get_data(as_text=True)
    assert other_device.get("/account").status_code == 200
    client.post("/account/sessions/end-others",
                data={"csrf_token": csrf_token(client, "/account"), "sessions-current_password": PASSWORD})
    assert client.get("/account").status_code == 200
    assert other_device.get("/account").status_code == 302


def test_password_reset_by_mail(client, auth, factory, mailbox, db):
    user = factory.user(factory.municipality())
    token = csrf_token(client, "/password/forgot")
    response = client.post("/password/forgot", data={"email": user.email, "csrf_token": token})
    assert response.status_code == 302
    assert len(mailbox.messages) == 1
    message = mailbox.messages[0]
    assert message["To"] == user.email
    assert message["Subject"] == "Återställ ditt lösenord"
    path = mailbox.open_link(client, message)
    new_password = "syrenbersån-vid-havet-2026"
    response = client.post(path, data={"password": new_password, "csrf_token": csrf_token(client, path)})
    assert response.status_code == 302
    assert mailbox.messages[-1]["Subject"] == "Ditt lösenord har ändrats"
    assert auth.login(user, new_password).status_code == 302
    auth.logout()
    # The link works once only.
    response = client.get(mailbox.open_link(client, message))
    assert response.status_code == 302 and "/password/forgot" in response.headers["Location"]


def test_password_reset_for_unknown_address_sends_nothing_and_says_the_same(client, mailbox):
    token = csrf_token(client, "/password/forgot")
    response = client.post("/password/forgot", data={"email": "ingen@ystad.example", "csrf_token": token},
                           follow_redirects=True)
    assert "på väg" in response.get_data(as_text=True)
    assert mailbox.messages == []


def test_expired_reset_link_is_refused(client, factory, mailbox, db):
    user = factory.user(factory.municipality())
    client.post("/password/forgot", data={"email": user.email, "csrf_token": csrf_token(client, "/password/forgot")})
    path = mailbox.open_link(client, mailbox.messages[0])
    for token in db.scalars(select(AccountToken)):
        token.expires_at = utcnow() - timedelta(seconds=1)
    db.commit()
    response = client.post(path, data={"password": "syrenbersån-vid-havet-2026", "csrf_token": csrf_token(client)})
    assert response.status_code == 302 and "/password/forgot" in response.headers["Location"]


def test_admin_invites_a_user_who_sets_a_password(app, client, auth, factory, mailbox, db):
    municipality = factory.municipality("Skurup", "1264")
    unit = factory.unit(municipality, "Vaktmästeriet")
    admin = factory.user(municipality, Role.MUNICIPALITY_ADMIN)
    auth.login(admin)
    path = f"/admin/municipalities/{municipality.id}/users/new"
    response = client.post(path, data={
        "name": "Karin Nilsson", "email": "Karin.Nilsson@skurup.example", "unit_id": str(unit.id),
        "roles": ["facility_manager", "employee"], "csrf_token": csrf_token(client, path)})
    assert response.status_code == 302, response.get_data(as_text=True)
    told = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "En inbjudan skickas till karin.nilsson@skurup.example." in told
    invited = db.scalar(select(User).where(User.email == "karin.nilsson@skurup.example"))
    assert invited.roles == {Role.FACILITY_MANAGER, Role.EMPLOYEE}
    assert invited.unit_id == unit.id and invited.password_hash is None
    message = mailbox.messages[-1]
    assert message["To"] == "karin.nilsson@skurup.example"
    auth.logout()
    link_path = mailbox.open_link(client, message)
    response = client.post(link_path, data={"password": "gul-cykel-under-kastanjen",
                                            "csrf_token": csrf_token(client, link_path)})
    assert response.status_code == 302
    assert auth.login("karin.nilsson@skurup.example", "gul-cykel-under-kastanjen").status_code == 302


def test_municipality_admin_cannot_make_a_system_admin(client, auth, factory, db):
    municipality = factory.municipality()
    admin = factory.user(municipality, Role.MUNICIPALITY_ADMIN)
    auth.login(admin)
    path = f"/admin/municipalities/{municipality.id}/users/new"
    response = client.post(path, data={"name": "X", "email": "x@test.example", "roles": ["system_admin"],
                                       "csrf_token": csrf_token(client, path)})
    assert response.status_code == 200
    assert db.scalar(select(User).where(User.email == "x@test.example")) is None


def test_mailed_links_ignore_the_host_header(app, client, factory, mailbox):
    app.config["SERVER_NAME"] = None  # as in production: any Host header reaches the app
    user = factory.user(factory.municipality())
    evil = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    page = client.get("/password/forgot", headers=evil).get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    response = client.post("/password/forgot", data={"email": user.email, "csrf_token": token}, headers=evil)
    assert response.status_code == 302
    link = mailbox.link(mailbox.messages[-1])
    assert link.startswith("http://delning.test/password/reset/"), link


def test_mailed_secrets_stay_out_of_the_request_log(client, factory, mailbox, caplog):
    user = factory.user(factory.municipality())
    client.post("/password/forgot", data={"email": user.email, "csrf_token": csrf_token(client, "/password/forgot")})
    secret = mailbox.link(mailbox.messages[-1]).rsplit("/", 1)[1]
    with caplog.at_level("INFO", logger="sharing.request"):
        mailbox.open_link(client, mailbox.messages[-1])
    assert "/password/reset/<token>" in caplog.text
    assert secret not in caplog.text


def test_reset_mails_are_rate_limited(client, factory, mailbox):
    user = factory.user(factory.municipality())
    token = csrf_token(client, "/password/forgot")
    statuses = [client.post("/password/forgot", data={"email": user.email, "csrf_token": token}).status_code
                for _ in range(5)]
    assert statuses[:3] == [302, 302, 302] and statuses[3] == 429
    assert len(mailbox.messages) == 3


def test_a_broken_mail_server_gives_the_same_answer(app, client, factory, mailbox):
    user = factory.user(factory.municipality())
    app.config["MAIL_PORT"] = 9  # nothing listens there
    token = csrf_token(client, "/password/forgot")
    known = client.post("/password/forgot", data={"email": user.email, "csrf_token": token})
    unknown = client.post("/password/forgot", data={"email": "ingen@x.example", "csrf_token": token})
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]


def test_someone_who_lost_their_invitation_gets_a_new_one_by_asking_for_a_password(client, auth, factory,
                                                                                      mailbox, db):
    municipality = factory.municipality()
    invited = factory.user(municipality, password=None)
    client.post("/password/forgot", data={"email": invited.email, "csrf_token": csrf_token(client, "/password/forgot")})
    message = mailbox.messages[-1]
    assert "/invitation/" in mailbox.link(message)
    path = mailbox.open_link(client, message)
    page = client.get(path).get_data(as_text=True)
    # Whose account it is, for the person and for their password manager.
    assert f"För kontot {invited.email}." in page
    assert f'name="username" autocomplete="username" value="{invited.email}"' in page
    assert 'href="/privacy">Så hanterar tjänsten dina personuppgifter</a>' in page
    client.post(path, data={"password": "gul-cykel-under-kastanjen", "csrf_token": csrf_token(client, path)})
    assert auth.login(invited, "gul-cykel-under-kastanjen").status_code == 302


def test_admin_sends_an_invitation_again(client, auth, factory, mailbox):
    municipality = factory.municipality()
    invited = factory.user(municipality, password=None)
    joined = factory.user(municipality)
    auth.login(factory.user(municipality, Role.MUNICIPALITY_ADMIN))
    base = f"/admin/municipalities/{municipality.id}/users"
    token = csrf_token(client, "/")
    response = client.post(f"{base}/{invited.id}/invite-again", data={"csrf_token": token})
    assert response.status_code == 302
    assert f"En ny inbjudan skickas till {invited.email}." in client.get(response.headers["Location"]).get_data(
        as_text=True)
    assert mailbox.messages[-1]["To"] == invited.email
    count = len(mailbox.messages)
    client.post(f"{base}/{joined.id}/invite-again", data={"csrf_token": token})
    assert len(mailbox.messages) == count  # nothing to re-send to someone who has joined


def test_admin_logs_a_user_out_everywhere(app, client, auth, factory):
    municipality = factory.municipality()
    user = factory.user(municipality)
    device = app.test_client()
    Auth(device).login(user)
    auth.login(factory.user(municipality, Role.MUNICIPALITY_ADMIN))
    client.post(f"/admin/municipalities/{municipality.id}/users/{user.id}/end-sessions",
                data={"csrf_token": csrf_token(client, "/")})
    assert device.get("/account").status_code == 302


def test_a_municipality_admin_can_neither_log_out_nor_change_the_system_admin(app, client, auth, factory, db):
    municipality = factory.municipality()
    system_admin = factory.user(municipality, Role.SYSTEM_ADMIN, name="Sara Systemsson")
    device = app.test_client()
    Auth(device).login(system_admin)
    auth.login(factory.user(municipality, Role.MUNICIPALITY_ADMIN))
    base = f"/admin/municipalities/{municipality.id}/users/{system_admin.id}"
    page = client.get(base).get_data(as_text=True)
    assert "Bara en systemadministratör kan ändra en systemadministratörs konto." in page
    assert "end-sessions" not in page and "/erase" not in page and 'name="roles"' not in page
    token = csrf_token(client, "/")
    for path, data in (("/end-sessions", {}), ("/reset-two-step", {}), ("/invite-again", {}),
                       ("", {"name": "X", "roles": "employee", "active": "y"})):
        assert client.post(base + path, data={"csrf_token": token, **data}).status_code == 403, path
    assert device.get("/account").status_code == 200  # still logged in
    db.refresh(system_admin)
    assert system_admin.name == "Sara Systemsson"


def test_renaming_to_a_taken_name_is_a_form_error_not_a_crash(client, auth, factory):
    ystad = factory.municipality("Ystad", "1286")
    factory.municipality("Skurup", "1264")
    auth.login(factory.user(ystad, Role.SYSTEM_ADMIN))
    path = f"/admin/municipalities/{ystad.id}/settings"
    response = client.post(path, data={"name": "Skurup", "csrf_token": csrf_token(client, path)})
    assert response.status_code == 200
    assert "Det finns redan en ansluten kommun som heter Skurup" in response.get_data(as_text=True)


def test_a_municipality_s_admin_sees_its_name_as_a_fact_not_as_a_required_field_they_cannot_change(
        client, auth, factory, db):
    ystad = factory.municipality("Ystad", "1286")
    auth.login(factory.user(ystad, Role.MUNICIPALITY_ADMIN))
    path = f"/admin/municipalities/{ystad.id}/settings"
    page = client.get(path).get_data(as_text=True)
    assert 'name="name"' not in page and "<dt>Namn</dt><dd>Ystad</dd>" in page
    response = client.post(path, data={"name": "Ystad stad", "contact_email": "kontakt@ystad.example",
                                       "csrf_token": csrf_token(client, path)})
    assert response.status_code == 302
    db.refresh(ystad)
    assert (ystad.name, ystad.contact_email) == ("Ystad", "kontakt@ystad.example")  # the name stays


def test_a_site_form_tells_a_bad_postal_code_and_bad_opening_hours_at_once(client, auth, factory, db):
    ystad = factory.municipality("Ystad", "1286")
    auth.login(factory.user(ystad, Role.MUNICIPALITY_ADMIN))
    new = f"/admin/municipalities/{ystad.id}/sites/new"
    response = client.post(new, data={
        "name": "Östra förrådet", "street_address": "Industrigatan 4", "postal_code": "abc", "locality": "Ystad",
        "latitude": "55.43", "longitude": "13.83", "opening_hours": "mån–fre 16:00–07:00", "access_notes": "",
        "active": "y", "csrf_token": csrf_token(client, new)})
    page = response.get_data(as_text=True)
    assert 'id="postal_code-error"' in page and 'id="opening_hours-error"' in page
    assert db.scalar(select(func.count()).select_from(Site)) == 0


def test_a_site_form_sent_without_its_opening_hours_is_refused_not_a_crash(client, auth, factory, db):
    ystad = factory.municipality("Ystad", "1286")
    auth.login(factory.user(ystad, Role.MUNICIPALITY_ADMIN))
    new = f"/admin/municipalities/{ystad.id}/sites/new"
    fields = {"name": "Östra förrådet", "street_address": "Industrigatan 4", "postal_code": "271 39",
              "locality": "Ystad", "latitude": "55.43", "longitude": "13.83",
              "opening_hours": "mån–fre 07:00–16:00", "access_notes": "Lastkaj på baksidan", "active": "y"}
    without = {name: value for name, value in fields.items() if name != "opening_hours"}
    response = client.post(new, data={**without, "csrf_token": csrf_token(client, new)})
    assert response.status_code == 400
    assert "saknades i formuläret" in response.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(Site)) == 0

    assert client.post(new, data={**fields, "csrf_token": csrf_token(client, new)}).status_code == 302
    site = db.scalars(select(Site)).one()
    db.commit()
    edit = f"/admin/municipalities/{ystad.id}/sites/{site.id}"
    response = client.post(edit, data={**without, "locality": "Ystad C", "csrf_token": csrf_token(client, edit)})
    assert response.status_code == 400
    assert "saknades i formuläret" in response.get_data(as_text=True)
    db.expire_all()
    kept = db.get(Site, site.id)
    assert kept.locality == "Ystad" and len(kept.opening_hours) == 5, "nothing changed, the hours are kept"


def test_a_site_s_opening_hours_read_in_the_reader_s_language(client, auth, factory, db):
    ystad = factory.municipality("Ystad", "1286")
    auth.login(factory.user(ystad, Role.MUNICIPALITY_ADMIN))
    new = f"/admin/municipalities/{ystad.id}/sites/new"
    fields = {"name": "Östra förrådet", "street_address": "Industrigatan 4", "postal_code": "271 39",
              "locality": "Ystad", "latitude": "55.43", "longitude": "13.83",
              "opening_hours": "mån–fre 07:00–16:00, lör 10:00–13:00", "access_notes": "", "active": "y"}
    assert client.post(new, data={**fields, "csrf_token": csrf_token(client, new)}).status_code == 302
    site = db.scalars(select(Site)).one()
    listed, edit = f"/admin/municipalities/{ystad.id}/sites", f"/admin/municipalities/{ystad.id}/sites/{site.id}"
    assert "mån–fre 07:00–16:00, lör 10:00–13:00" in client.get(listed).get_data(as_text=True)

    client.post("/language", data={"language": "en", "csrf_token": csrf_token(client, "/")})
    english = "Mon–Fri 07:00–16:00, Sat 10:00–13:00"
    page = client.get(listed).get_data(as_text=True)
    assert english in page and "mån" not in page
    form = client.get(edit).get_data(as_text=True)
    assert f'value="{english}"' in form and "mån" not in form
    # The form sent back as it was filled keeps the hours as they were.
    response = client.post(edit, data={**fields, "opening_hours": english, "csrf_token": csrf_token(client, edit)})
    assert response.status_code == 302
    db.expire_all()
    assert [(h.weekday, f"{h.opens:%H:%M}", f"{h.closes:%H:%M}") for h in db.get(Site, site.id).opening_hours] == [
        *((day, "07:00", "16:00") for day in range(5)), (5, "10:00", "13:00")]
    refused = client.post(edit, data={**fields, "opening_hours": "Mon 08:00–12:00, Mon 11:00–13:00",
                                      "csrf_token": csrf_token(client, edit)}).get_data(as_text=True)
    assert "Two opening intervals on Monday overlap." in refused


def test_forgot_password_answers_at_once_and_a_failed_mail_is_sent_by_the_job(app, client, factory, mailbox, db):
    user = factory.user(factory.municipality())
    real_port = app.config["MAIL_PORT"]
    token = csrf_token(client, "/password/forgot")
    with socket.socket() as silent:  # a mail server that takes the connection and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        app.config["MAIL_PORT"] = silent.getsockname()[1]
        for email in (user.email, "ingen@x.example"):
            started = time.monotonic()
            response = client.post("/password/forgot", data={"email": email, "csrf_token": token})
            assert response.status_code == 302
            assert time.monotonic() - started < 5, "the request waited for the mail server"
        assert db.scalar(select(func.count()).select_from(QueuedMail)) == 1, "the reset mail is queued, not lost"
    assert mailbox.messages == []  # the background attempt failed when the server went away
    queued = db.scalars(select(QueuedMail).execution_options(populate_existing=True)).one()
    assert queued.attempts == 1 and queued.next_attempt_at > utcnow()
    queued.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.commit()

    app.config["MAIL_PORT"] = real_port
    job = next(job for job in schedule(app) if job.name == "send-queued-mail")
    with app.app_context():
        job.run()
    assert [message["Subject"] for message in mailbox.messages] == ["Återställ ditt lösenord"]
    assert "/password/reset/" in mailbox.link(mailbox.messages[0])
    assert db.scalar(select(func.count()).select_from(QueuedMail)) == 0, "a sent message is not kept"
    with app.app_context():
        job.run()
    assert len(mailbox.messages) == 1, "sent once"


def test_an_admin_s_invitation_is_queued_not_waited_for_and_the_job_sends_what_failed(app, client, auth, factory,
                                                                                        mailbox, db):
    municipality = factory.municipality()
    auth.login(factory.user(municipality, Role.MUNICIPALITY_ADMIN))
    path = f"/admin/municipalities/{municipality.id}/users/new"
    token = csrf_token(client, path)
    invited = factory.user(municipality, password=None)
    real_port = app.config["MAIL_PORT"]
    with socket.socket() as silent:  # a mail server that takes the connection and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        app.config["MAIL_PORT"] = silent.getsockname()[1]
        started = time.monotonic()
        response = client.post(path, data={"name": "Karin Nilsson", "email": "karin@test.example",
                                           "roles": ["employee"], "csrf_token": token})
        assert response.status_code == 302, response.get_data(as_text=True)
        response = client.post(f"/admin/municipalities/{municipality.id}/users/{invited.id}/invite-again",
                               data={"csrf_token": token})
        assert response.status_code == 302
        assert time.monotonic() - started < 5, "the admin waited for the mail server"
        assert db.scalar(select(func.count()).select_from(QueuedMail)) == 2, "both invitations are queued, not lost"
    assert mailbox.messages == []  # the attempts after the responses failed when the server went away
    for queued in db.scalars(select(QueuedMail).execution_options(populate_existing=True)):
        assert queued.attempts == 1
        queued.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.commit()

    app.config["MAIL_PORT"] = real_port
    job = next(job for job in schedule(app) if job.name == "send-queued-mail")
    with app.app_context():
        job.run()
    assert sorted(message["To"] for message in mailbox.messages) == sorted(["karin@test.example", invited.email])
    assert all("/invitation/" in mailbox.link(message) for message in mailbox.messages)
    assert db.scalar(select(func.count()).select_from(QueuedMail)) == 0


def test_logging_out_everywhere_and_resetting_two_step_ask_first(app, client, auth, factory, db):
    municipality = factory.municipality()
    user = factory.user(municipality, name="Kalle Kollega")
    device = app.test_client()
    Auth(device).login(user)
    user.totp_secret = pyotp.random_base32()  # turned on since
    db.commit()
    auth.login(factory.user(municipality, Role.MUNICIPALITY_ADMIN))
    base = f"/admin/municipalities/{municipality.id}/users/{user.id}"
    page = client.get(base).get_data(as_text=True)
    # Links to a question of its own, no button that acts at once.
    assert f'href="{base}/end-sessions"' in page and f'href="{base}/reset-two-step"' in page
    assert f'action="{base}/end-sessions"' not in page and f'action="{base}/reset-two-step"' not in page
    for path, question, yes in (
            ("/end-sessions", "Vill du logga ut Kalle Kollega överallt?", "Ja, logga ut överallt"),
            ("/reset-two-step", "Vill du återställa tvåstegsverifieringen för Kalle Kollega?", "Ja, återställ den")):
        asked = client.get(base + path)
        assert asked.status_code == 200
        html = asked.get_data(as_text=True)
        assert f"<h1>{question}</h1>" in html
        assert re.search(rf'<form method="post" action="{base}{path}">\s*<input type="hidden" name="csrf_token"'
                         rf'[^>]*>\s*<button type="submit" class="button">{yes}</button>', html)
        assert f'href="{base}">Nej, gå tillbaka</a>' in html
    assert device.get("/account").status_code == 200  # asking changed nothing
    db.refresh(user)
    assert user.totp_secret is not None
    token = csrf_token(client, "/")
    assert client.post(base + "/end-sessions", data={"csrf_token": token}).status_code == 302
    assert device.get("/account").status_code == 302
    assert client.post(base + "/reset-two-step", data={"csrf_token": token}).status_code == 302
    db.refresh(user)
    assert user.totp_secret is None
    # With nothing to reset, the question is not asked.
    assert client.get(base + "/reset-two-step").headers["Location"].endswith(base)


def test_a_municipality_admin_is_not_asked_about_the_system_admin(client, auth, factory):
    municipality = factory.municipality()
    system_admin = factory.user(municipality, Role.SYSTEM_ADMIN)
    auth.login(factory.user(municipality, Role.MUNICIPALITY_ADMIN))
    base = f"/admin/municipalities/{municipality.id}/users/{system_admin.id}"
    for path in ("/end-sessions", "/reset-two-step"):
        assert client.get(base + path).status_code == 403


def test_an_admin_is_not_offered_erasing_themself_and_their_own_deactivation_is_refused_on_aktiv(
        client, auth, factory, db):
    municipality = factory.municipality()
    admin = factory.user(municipality, Role.MUNICIPALITY_ADMIN, name="Anna Admin")
    colleague = factory.user(municipality, name="Kalle Kollega")
    auth.login(admin)
    own = f"/admin/municipalities/{municipality.id}/users/{admin.id}"
    page = client.get(own).get_data(as_text=True)
    assert "Radera Anna Admin" not in page and f"{own}/erase" not in page
    assert "Radera Kalle Kollega" in client.get(
        f"/admin/municipalities/{municipality.id}/users/{colleague.id}").get_data(as_text=True)
    # Reached anyway: sent back, and the rule still refuses a form sent.
    response = client.get(f"{own}/erase")
    assert response.status_code == 302 and response.headers["Location"].endswith(own)
    refused = client.post(f"{own}/erase", data={"name": "Anna Admin", "csrf_token": csrf_token(client, own)})
    assert "Du kan inte radera dig själv." in refused.get_data(as_text=True)
    db.refresh(admin)
    assert admin.erased_at is None

    token = csrf_token(client, own)
    html = client.post(own, data={"name": "Anna Admin", "roles": ["municipality_admin"],
                                  "csrf_token": token}).get_data(as_text=True)  # no "active"
    assert '<p class="error" id="active-error"><span class="visually-hidden">Fel:</span> Du kan inte inaktivera ' \
           'dig själv. Be en annan administratör.</p>' in html
    assert 'id="roles-error"' not in html
    html = client.post(own, data={"name": "Anna Admin", "roles": ["employee"], "active": "y",
                                  "csrf_token": token}).get_data(as_text=True)
    assert 'id="roles-error"><span class="visually-hidden">Fel:</span> Du kan inte ta bort din egen ' \
           'administratörsroll.' in html
    db.refresh(admin)
    assert admin.active and Role.MUNICIPALITY_ADMIN in admin.roles


def test_the_user_list_leaves_the_erased_out_unless_asked_and_never_shows_their_placeholder_address(
        client, auth, factory, db):
    municipality = factory.municipality()
    admin = factory.user(municipality, Role.MUNICIPALITY_ADMIN, name="Anna Admin")
    kept = factory.user(municipality, name="Kalle Kollega")
    gone = factory.user(municipality, name="Lämnad Person")
    personal_data.erase_user(db, user=gone, by=admin, now=utcnow())
    db.commit()
    auth.login(admin)
    base = f"/admin/municipalities/{municipality.id}/users"
    page = client.get(base).get_data(as_text=True)
    assert "Kalle Kollega" in page and kept.email in page
    assert "Borttagen användare" not in page and "@invalid" not in page
    assert f'<a href="{base}?erased=1">Visa 1 raderad person</a>' in page
    page = client.get(base, query_string={"erased": "1"}).get_data(as_text=True)
    erased_row = re.search(rf'<tr>\s*<td[^>]*><a href="{base}/{gone.id}">Borttagen användare</a></td>(.*?)</tr>',
                           page, re.DOTALL)
    assert erased_row and re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", erased_row.group(1))).split() == [
        "–", "–", "Raderad"]
    assert "@invalid" not in page and f'<a href="{base}">Dölj de raderade personerna</a>' in page


def field_errors(html):
    return {field: re.sub(r"<[^>]+>", "", message).replace("Fel:", "").strip()
            for field, message in re.findall(r'<p class="error" id="([a-z_]+)-error">(.*?)</p>', html, re.DOTALL)}


def test_the_new_user_form_tells_every_wrong_field_in_one_round(client, auth, factory, db):
    municipality = factory.municipality()
    admin = factory.user(municipality, Role.MUNICIPALITY_ADMIN)
    taken = factory.user(municipality)
    auth.login(admin)
    path = f"/admin/municipalities/{municipality.id}/users/new"
    token = csrf_token(client, path)
    empty = field_errors(client.post(path, data={"csrf_token": token}).get_data(as_text=True))
    assert set(empty) == {"name", "email", "roles"} and empty["roles"] == "Välj minst en roll."
    html = client.post(path, data={"name": "   ", "email": taken.email, "csrf_token": token}).get_data(as_text=True)
    assert field_errors(html) == {"name": "Skriv personens namn.",
                                  "email": "Det finns redan en användare med den e-postadressen.",
                                  "roles": "Välj minst en roll."}
    assert html.count('<li><a href="#') == 3  # the summary at the top lists all three
    invalid_email = field_errors(client.post(path, data={"name": "   ", "email": "inte-en-adress", "roles": "employee",
                                                         "csrf_token": token}).get_data(as_text=True))
    assert set(invalid_email) == {"name", "email"}
    assert db.scalar(select(func.count()).select_from(User)) == 2
    # Changing a person: the same, every wrong field at once, and nothing saved.
    path = f"/admin/municipalities/{municipality.id}/users/{taken.id}"
    html = client.post(path, data={"name": "   ", "active": "y", "csrf_token": token}).get_data(as_text=True)
    assert field_errors(html) == {"name": "Skriv personens namn.", "roles": "Välj minst en roll."}
    db.expire_all()
    assert db.get(User, taken.id).name.strip() and db.get(User, taken.id).roles
