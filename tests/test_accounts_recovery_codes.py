"""Recovery codes for two-step verification: ten single-use codes, shown once, kept as hashes,
usable instead of the app's code at sign-in, made anew on request (the old ones void)."""

import hashlib

import pyotp
import pytest
from sqlalchemy import func, select

from sharing.accounts import mfa
from sharing.accounts.models import RecoveryCode, Role, User
from sharing.clock import utcnow
from sharing.errors import DomainError
from sharing.events import DomainEvent
from tests.conftest import PASSWORD, csrf_token
from tests.test_accounts_two_step import recovery_codes, shown_key


def turn_on(client, auth, db, user) -> list[str]:
    """Sign the user in and turn two-step verification on through the pages; the codes shown."""
    auth.login(user)
    page = client.get("/account/two-step").get_data(as_text=True)
    secret = shown_key(page)
    response = client.post("/account/two-step", data={"code": pyotp.TOTP(secret).now(),
                                                      "csrf_token": csrf_token(client, "/account/two-step")})
    assert response.status_code == 200
    return recovery_codes(response.get_data(as_text=True))


def second_step_with(client, code: str):
    """From the password's success: the recovery-code page, and the code posted there."""
    assert client.get("/login/recovery-code").status_code == 200
    return client.post("/login/recovery-code",
                       data={"code": code, "csrf_token": csrf_token(client, "/login/recovery-code")})


def count(db, user) -> int:
    return db.scalar(select(func.count()).select_from(RecoveryCode).where(RecoveryCode.user_id == user.id))


def test_ten_codes_are_shown_once_and_only_their_hashes_are_kept(client, auth, factory, db):
    user = factory.user(factory.municipality())
    codes = turn_on(client, auth, db, user)
    assert len(codes) == len(set(codes)) == 10
    rows = db.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)).all()
    digests = {row.code_hash for row in rows}
    assert digests == {hashlib.sha256(f"{user.id}:{code.replace('-', '')}".encode()).hexdigest() for code in codes}
    for code in codes:  # no code in any form is stored
        assert all(code.replace("-", "") not in row.code_hash and code not in row.code_hash for row in rows)
    # Never shown again: not on the two-step page, nor on the account page, which says how many are left.
    two_step = client.get("/account/two-step").get_data(as_text=True)
    account = client.get("/account").get_data(as_text=True)
    assert not any(code in two_step or code in account for code in codes)
    assert "Du har 10 återställningskoder kvar" in two_step and "Du har 10 återställningskoder kvar" in account


def test_sign_in_with_a_recovery_code_works_once_and_is_in_the_trail(client, auth, factory, db, mailbox):
    user = factory.user(factory.municipality())
    codes = turn_on(client, auth, db, user)
    auth.logout()
    assert auth.login(user).headers["Location"].endswith("/login/code")
    assert "/login/recovery-code" in client.get("/login/code").get_data(as_text=True)
    response = second_step_with(client, codes[0].upper().replace("-", " "))  # as people type it
    assert response.status_code == 302
    page = client.get("/account").get_data(as_text=True)
    assert response.status_code == 302 and "Du använde en återställningskod. Du har 9 kvar." in page
    assert count(db, user) == 9
    assert mailbox.messages[-1]["Subject"] == "En återställningskod har använts"
    event = db.scalars(select(DomainEvent).where(DomainEvent.name == mfa.RECOVERY_CODE_USED)).one()
    assert (event.actor_id, event.subject_id, event.municipality_id, event.payload) == (
        user.id, user.id, user.municipality_id, {"left": 9})

    auth.logout()
    auth.login(user)
    response = second_step_with(client, codes[0])  # the same code again
    assert response.status_code == 200 and "Återställningskoden är fel eller har redan använts." in \
        response.get_data(as_text=True)
    assert client.get("/account").status_code == 302  # not in
    assert second_step_with(client, codes[1]).status_code == 302
    assert count(db, user) == 8


def test_a_recovery_code_needs_the_password_first(client, factory, db):
    user = factory.user(factory.municipality())
    user.totp_secret = pyotp.random_base32()
    db.commit()
    codes = mfa.make_recovery_codes(db, user=user, now=utcnow())
    db.commit()
    response = client.post("/login/recovery-code", data={"code": codes[0], "csrf_token": csrf_token(client)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert count(db, user) == 10


def test_new_codes_void_the_old_ones_and_need_the_password(client, auth, factory, db):
    user = factory.user(factory.municipality())
    old = turn_on(client, auth, db, user)
    token = csrf_token(client, "/account/two-step")
    refused = client.post("/account/two-step/recovery-codes",
                          data={"codes-current_password": "fel", "csrf_token": token})
    assert refused.status_code == 400 and "Det nuvarande lösenordet är fel." in refused.get_data(as_text=True)
    response = client.post("/account/two-step/recovery-codes",
                           data={"codes-current_password": PASSWORD, "csrf_token": token})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    new = recovery_codes(response.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    assert count(db, user) == 10
    auth.logout()
    auth.login(user)
    assert second_step_with(client, old[0]).status_code == 200  # void
    assert second_step_with(client, new[0]).status_code == 302


def test_few_codes_left_are_told(client, auth, factory, db):
    user = factory.user(factory.municipality())
    codes = turn_on(client, auth, db, user)
    db.expire_all()  # two-step verification was turned on through the pages
    record = db.get(User, user.id)
    for code in codes[:6]:
        mfa.use_recovery_code(db, user=record, code=code, now=utcnow())
    db.commit()
    assert "Du har 4 återställningskoder kvar" in client.get("/account").get_data(as_text=True)
    mfa.use_recovery_code(db, user=record, code=codes[6], now=utcnow())
    db.commit()
    account = client.get("/account").get_data(as_text=True)
    assert "Du har 3 återställningskoder kvar" in account and "innan de tar slut" in account
    auth.logout()
    auth.login(user)
    second_step_with(client, codes[7])
    assert "Du har 2 kvar: gör nya under Mitt konto → Tvåstegsverifiering." in \
        client.get("/account").get_data(as_text=True)


def test_recovery_codes_are_throttled_as_the_app_s_codes(app, client, auth, factory, db):
    user = factory.user(factory.municipality())
    codes = turn_on(client, auth, db, user)
    auth.logout()
    auth.login(user)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert second_step_with(client, "aaaa-bbbb-cccc").status_code == 200
    assert second_step_with(client, codes[0]).status_code == 429  # even a right one, for now
    assert count(db, user) == 10  # and it is not spent


def test_turning_off_or_an_admin_s_reset_discards_the_codes(client, auth, factory, db):
    municipality = factory.municipality()
    user = factory.user(municipality)
    turn_on(client, auth, db, user)
    assert count(db, user) == 10
    auth.logout()
    auth.login(factory.user(municipality, Role.MUNICIPALITY_ADMIN))
    response = client.post(f"/admin/municipalities/{municipality.id}/users/{user.id}/reset-two-step",
                           data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302
    assert count(db, user) == 0

    other = factory.user(municipality)
    other.totp_secret = pyotp.random_base32()
    db.commit()
    mfa.make_recovery_codes(db, user=other, now=utcnow())
    mfa.disable(db, user=other, password=PASSWORD, code=pyotp.TOTP(other.totp_secret).now(), now=utcnow())
    db.commit()
    assert count(db, other) == 0


def test_rules_refuse_codes_without_two_step_and_each_code_of_one_user_only(db, factory):
    user, other = factory.user(factory.municipality()), factory.user(factory.municipality())
    with pytest.raises(DomainError):
        mfa.make_recovery_codes(db, user=user, now=utcnow())
    for person in (user, other):
        person.totp_secret = pyotp.random_base32()
    codes = mfa.make_recovery_codes(db, user=user, now=utcnow())
    with pytest.raises(DomainError):  # another user's code is no code of theirs
        mfa.use_recovery_code(db, user=other, code=codes[0], now=utcnow())
    assert mfa.use_recovery_code(db, user=user, code=codes[0], now=utcnow()) == 9
    assert mfa.is_recovery_code(codes[1]) and not mfa.is_recovery_code("123 456")
