"""Single sign-on against a real OpenID Connect provider on 127.0.0.1 (tests/oidc_provider.py):
the app's whole path runs, over HTTP, with Authlib's client checking what the provider says."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from sqlmodel import col

from sharing.accounts import mfa, organisation
from sharing.accounts.models import Municipality, Role, User
from sharing.accounts.sso import encryption, rules
from sharing.accounts.sso.models import SsoIdentity, SsoProvider
from sharing.clock import utcnow
from sharing.events import DomainEvent
from tests.conftest import csrf_token
from tests.factories import PASSWORD
from tests.oidc_provider import Provider, new_key, serve_provider

SECRET = "klienthemlighet-for-test"


@pytest.fixture
def idp() -> Iterator[Provider]:
    with serve_provider() as provider:
        yield provider


@pytest.fixture
def skurup(app, factory, idp) -> tuple[Municipality, SsoProvider]:
    municipality = factory.municipality("Skurup", "1264")
    factory.unit(municipality, "Fastighetsavdelningen")
    admin = factory.user(municipality, Role.MUNICIPALITY_ADMIN)
    provider = rules.save_provider(factory.session, municipality=municipality, by=admin, now=utcnow(),
                                   key=encryption.fernet_key(app.config["ENCRYPTION_KEY"]),
                                   settings=rules.ProviderSettings(
        issuer=idp.issuer, client_id="delning", client_secret=SECRET, email_domains="skurup.se",
        claim="groups", mapping="skurup-fastighet: facility_manager; Fastighetsavdelningen\nskurup-bil: driver",
        password_login=True, trust_provider_mfa=False, mfa_acr_values="", enabled=True))
    factory.session.commit()
    idp.add_client("delning", SECRET, [f"http://delning.test/login/sso/{provider.id}/callback"])
    return municipality, provider


def start(client, email: str) -> str:  # type: ignore[no-untyped-def]
    """From the login page to the provider: the address of its login page."""
    offer = client.post("/login/sso", data={"email": email, "csrf_token": csrf_token(client)})
    assert offer.status_code == 200, offer.status_code
    page = offer.get_data(as_text=True)
    action = re.search(r'<form method="post" action="(/login/sso/\d+)"', page)
    assert action, page
    response = client.post(action.group(1), data={"csrf_token": csrf_token(client), "email": email})
    assert response.status_code == 302
    return response.headers["Location"]


def sign_in(client, idp: Provider, email: str, login: str):  # type: ignore[no-untyped-def]
    """The whole round: our app, the provider's login page, back to our app with a code."""
    back = idp.sign_in(start(client, email), login)
    parts = urlsplit(back)
    assert parts.path.endswith("/callback"), back
    return client.get(f"{parts.path}?{parts.query}")


def signed_in(client) -> bool:  # type: ignore[no-untyped-def]
    return client.get("/account").status_code == 200


def refused_with(client, response, words: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    page = client.get("/login").get_data(as_text=True)
    assert words in page, page
    assert not signed_in(client)


def events(db, name: str) -> list[DomainEvent]:
    db.expire_all()
    return list(db.scalars(select(DomainEvent).where(col(DomainEvent.name) == name)))


def test_the_login_page_offers_the_municipalitys_account_by_the_address(client, skurup, idp):
    response = client.post("/login/sso", data={"email": "anna@skurup.se", "csrf_token": csrf_token(client)})
    page = response.get_data(as_text=True)
    assert "Logga in med kommunens konto (Skurup)" in page
    # The button's redirect leads to the provider: the page's policy allows that form target alone.
    assert f"form-action 'self' {idp.url};" in response.headers["Content-Security-Policy"]
    other = client.post("/login/sso", data={"email": "bo@ystad.se", "csrf_token": csrf_token(client)})
    assert other.status_code == 302
    assert "ingen egen inloggning" in client.get("/login").get_data(as_text=True)


def test_first_sign_in_makes_the_account_with_the_mapped_roles_and_unit(client, db, skurup, idp):
    municipality, provider = skurup
    idp.add_person("anna", email="Anna.Andersson@skurup.se", name="Anna Andersson",
                   groups=["skurup-fastighet", "något-okänt"])
    response = sign_in(client, idp, "anna.andersson@skurup.se", "anna")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert signed_in(client)
    user = db.scalar(select(User).where(col(User.email) == "anna.andersson@skurup.se"))
    assert user is not None and user.municipality_id == municipality.id and user.name == "Anna Andersson"
    assert user.roles == {Role.EMPLOYEE, Role.FACILITY_MANAGER}
    assert user.unit is not None and user.unit.name == "Fastighetsavdelningen"
    assert user.password_hash is None  # no password: the provider vouches for them
    assert db.scalar(select(SsoIdentity).where(col(SsoIdentity.user_id) == user.id)).subject == (
        idp.people["anna"].claims["sub"])
    assert len(events(db, "accounts.sso.account_created")) == 1
    entries = client.get("/account/personal-data.json").get_json()["sections"]["audit_entries"]
    assert [e["payload"] for e in entries if e["event_code"] == "accounts.sso.account_created"] == [
        "Roller: Medarbetare, Lokalförvaltare"]  # the roles she got, in words


def test_later_sign_ins_update_the_name_and_the_mapped_roles_only(client, db, factory, skurup, idp):
    person = idp.add_person("bo", email="bo@skurup.se", name="Bo", groups=["skurup-fastighet"])
    sign_in(client, idp, "bo@skurup.se", "bo")
    user = db.scalar(select(User).where(col(User.email) == "bo@skurup.se"))
    # A role the mapping never gives, granted here by an administrator, stays.
    organisation.update_user(db, user=user, name=user.name, roles=[*user.roles, Role.SUSTAINABILITY_OFFICER],
                             unit_id=user.unit_id, active=True, changed_by=factory.user(None, Role.SYSTEM_ADMIN),
                             now=utcnow())
    db.commit()
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    person.claims.update(name="Bo Berg", groups=["skurup-bil"])
    assert sign_in(client, idp, "bo@skurup.se", "bo").status_code == 302
    db.expire_all()
    user = db.get(User, user.id)
    assert user.name == "Bo Berg"
    assert user.roles == {Role.EMPLOYEE, Role.DRIVER, Role.SUSTAINABILITY_OFFICER}
    assert len(events(db, "accounts.sso.signed_in")) == 1


def test_an_existing_account_with_the_same_verified_address_is_linked(client, db, factory, skurup, idp):
    municipality, _ = skurup
    existing = factory.user(municipality, Role.EMPLOYEE, email="cilla@skurup.se")
    idp.add_person("cilla", email="cilla@skurup.se", name="Cilla C")
    assert sign_in(client, idp, "cilla@skurup.se", "cilla").status_code == 302
    assert signed_in(client)
    assert db.scalar(select(SsoIdentity).where(col(SsoIdentity.user_id) == existing.id)) is not None
    assert len(events(db, "accounts.sso.account_linked")) == 1


def test_an_unverified_or_foreign_address_is_refused(client, db, factory, skurup, idp):
    idp.add_person("dan", email="dan@skurup.se", email_verified=False)
    refused_with(client, sign_in(client, idp, "dan@skurup.se", "dan"), "inte verifierad")
    idp.add_person("eva", email="eva@gmail.com")
    refused_with(client, sign_in(client, idp, "eva@skurup.se", "eva"), "eva@gmail.com")
    # An account of another municipality is never taken over by this provider.
    factory.user(factory.municipality("Ystad", "1286"), email="fia@skurup.se")
    idp.add_person("fia", email="fia@skurup.se")
    refused_with(client, sign_in(client, idp, "fia@skurup.se", "fia"), "en annan kommun")
    assert db.scalar(select(SsoIdentity)) is None
    assert len(events(db, "accounts.sso.refused")) == 3


@pytest.mark.parametrize("misbehaviour, words", [
    ({"aud": "en-annan-tjänst"}, "kunde inte verifieras"),
    ({"exp": int(time.time()) - 600, "iat": int(time.time()) - 1200}, "hade gått ut"),
    ({"iss": "http://127.0.0.1:9"}, "kunde inte verifieras"),
])
def test_an_id_token_for_another_audience_or_issuer_or_expired_is_refused(client, db, skurup, idp, misbehaviour,
                                                                           words):
    idp.add_person("gun", email="gun@skurup.se")
    idp.id_token_changes = misbehaviour
    refused_with(client, sign_in(client, idp, "gun@skurup.se", "gun"), words)
    assert db.scalar(select(User).where(col(User.email) == "gun@skurup.se")) is None
    assert len(events(db, "accounts.sso.refused")) == 1


def test_an_id_token_with_a_bad_signature_is_refused(client, db, skurup, idp):
    idp.add_person("hugo", email="hugo@skurup.se")
    # Signed with a key the provider does not publish, under the kid of one it does.
    rogue = new_key()
    idp.rogue_key = type(rogue).import_key(rogue.as_dict(private=True) | {"kid": idp.keys[0].kid})
    refused_with(client, sign_in(client, idp, "hugo@skurup.se", "hugo"), "kunde inte verifieras")
    # A key it never published at all, of a kid unknown even after fetching the keys again.
    idp.rogue_key = new_key()
    refused_with(client, sign_in(client, idp, "hugo@skurup.se", "hugo"), "kunde inte verifieras")
    assert db.scalar(select(User).where(col(User.email) == "hugo@skurup.se")) is None


def test_a_replayed_state_is_refused(app, client, db, skurup, idp):
    idp.add_person("ida", email="ida@skurup.se")
    back = idp.sign_in(start(client, "ida@skurup.se"), "ida")
    parts = urlsplit(back)
    # Someone else with the address (a leaked log, a shared link) has no such state in their session.
    stranger = app.test_client()
    refused_with(stranger, stranger.get(f"{parts.path}?{parts.query}"), "redan använts")
    assert client.get(f"{parts.path}?{parts.query}").status_code == 302
    assert signed_in(client)
    # And the owner's browser cannot use it twice.
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    refused_with(client, client.get(f"{parts.path}?{parts.query}"), "redan använts")


def test_rotated_keys_are_fetched_again(client, skurup, idp):
    idp.add_person("jan", email="jan@skurup.se")
    assert sign_in(client, idp, "jan@skurup.se", "jan").status_code == 302
    assert idp.jwks_fetches == 1
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert sign_in(client, idp, "jan@skurup.se", "jan").status_code == 302
    assert idp.jwks_fetches == 1  # the keys are kept
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    idp.rotate_keys()  # tokens are now signed with a key the app has not seen
    assert sign_in(client, idp, "jan@skurup.se", "jan").status_code == 302
    assert signed_in(client)
    assert idp.jwks_fetches == 2


def test_someone_disabled_at_the_provider_or_here_gets_no_session(client, db, factory, skurup, idp):
    person = idp.add_person("kim", email="kim@skurup.se")
    person.disabled = True
    refused_with(client, sign_in(client, idp, "kim@skurup.se", "kim"), "släppte inte in dig")
    person.disabled = False
    sign_in(client, idp, "kim@skurup.se", "kim")
    assert signed_in(client)
    user = db.scalar(select(User).where(col(User.email) == "kim@skurup.se"))
    organisation.update_user(db, user=user, name=user.name, roles=user.roles, unit_id=None, active=False,
                             changed_by=factory.user(None, Role.SYSTEM_ADMIN), now=utcnow())
    db.commit()
    assert not signed_in(client)  # the session ended at once
    refused_with(client, sign_in(client, idp, "kim@skurup.se", "kim"), "avaktiverat")


def test_password_login_can_be_switched_off(client, db, factory, skurup, idp):
    municipality, provider = skurup
    user = factory.user(municipality, email="lisa@skurup.se")
    provider.password_login = False
    db.add(provider)
    db.commit()
    response = client.post("/login", data={"email": "lisa@skurup.se", "password": "fel-eller-rätt",
                                           "csrf_token": csrf_token(client)})
    assert "Logga in med kommunens konto (Skurup)" in response.get_data(as_text=True)
    assert not signed_in(client)
    # The right password of another domain's address does not get past the municipality's setting.
    user.email = "lisa@privat.example"
    db.add(user)
    db.commit()
    response = client.post("/login", data={"email": "lisa@privat.example", "password": PASSWORD,
                                           "csrf_token": csrf_token(client)})
    assert "inte med lösenord" in response.get_data(as_text=True)
    assert not signed_in(client)


def test_two_step_is_skipped_only_when_the_provider_vouches_and_the_municipality_trusts_it(
        client, db, factory, skurup, idp):
    municipality, provider = skurup
    user = factory.user(municipality, email="mats@skurup.se")
    user.totp_secret = mfa.new_secret()
    db.add(user)
    db.commit()
    person = idp.add_person("mats", email="mats@skurup.se", amr=["pwd", "mfa"])
    response = sign_in(client, idp, "mats@skurup.se", "mats")
    assert response.headers["Location"] == "/login/code"  # not trusted yet
    assert not signed_in(client)
    provider.trust_provider_mfa = True
    db.add(provider)
    db.commit()
    client.get("/login")  # a fresh start
    person.claims["amr"] = ["pwd"]
    assert sign_in(client, idp, "mats@skurup.se", "mats").headers["Location"] == "/login/code"
    person.claims["amr"] = ["pwd", "mfa"]
    assert sign_in(client, idp, "mats@skurup.se", "mats").headers["Location"] == "/"
    assert signed_in(client)


def test_the_administrator_configures_the_provider_and_never_sees_the_secret_again(app, client, auth, db, factory,
                                                                                   idp):
    ystad = factory.municipality("Ystad", "1286")
    factory.unit(ystad, "Barn och utbildning")
    admin = factory.user(ystad, Role.MUNICIPALITY_ADMIN)
    auth.login(admin)
    path = f"/admin/municipalities/{ystad.id}/sign-in"
    blank = client.get(path)
    assert blank.status_code == 200
    # The help's example address reads as text, its placeholder not swallowed as an HTML tag.
    assert "microsoftonline.com/&lt;tenant-id&gt;/v2.0" in blank.get_data(as_text=True)
    form = {"csrf_token": csrf_token(client, path), "enabled": "y", "issuer": idp.issuer + "/",
            "client_id": "delning-ystad", "client_secret": "super-hemlig-123",
            "email_domains": "ystad.se, @Skola.Ystad.se",
            "claim": "roles", "mapping": "BoU: employee; Barn och utbildning", "password_login": "y"}
    bad = client.post(path, data={**form, "mapping": "alla: system_admin"})
    assert bad.status_code == 400 and "systemadministratör" in bad.get_data(as_text=True)
    assert "super-hemlig-123" not in bad.get_data(as_text=True)
    assert client.post(path, data=form).status_code == 302
    provider = db.scalar(select(SsoProvider).where(col(SsoProvider.municipality_id) == ystad.id))
    assert provider.issuer == idp.issuer and provider.email_domains == "skola.ystad.se,ystad.se"
    assert "super-hemlig-123" not in provider.client_secret_encrypted
    key = encryption.fernet_key(app.config["ENCRYPTION_KEY"])
    assert encryption.decrypt(provider.client_secret_encrypted, key=key) == "super-hemlig-123"
    page = client.get(path).get_data(as_text=True)
    # The saved mapping reads in the reader's words.
    assert "super-hemlig-123" not in page and "BoU: Medarbetare; Barn och utbildning" in page
    # Saved again without a secret: the stored one stays.
    assert client.post(path, data={**form, "client_secret": "", "csrf_token": csrf_token(client, path)}
                       ).status_code == 302
    db.expire_all()
    assert encryption.decrypt(db.get(SsoProvider, provider.id).client_secret_encrypted, key=key) == "super-hemlig-123"


def english(client) -> None:  # type: ignore[no-untyped-def]
    client.post("/language", data={"language": "en", "csrf_token": csrf_token(client, "/")})


@pytest.fixture
def ystad_admin(client, auth, factory):  # type: ignore[no-untyped-def]
    ystad = factory.municipality("Ystad", "1286")
    factory.unit(ystad, "Fastighetsavdelningen")
    auth.login(factory.user(ystad, Role.MUNICIPALITY_ADMIN))
    return ystad


def test_the_mapping_takes_the_roles_names_in_either_language_or_their_codes(client, db, ystad_admin, idp):
    path = f"/admin/municipalities/{ystad_admin.id}/sign-in"
    mapping = ("fastighet: LOKALFÖRVALTARE, chaufför; Fastighetsavdelningen\n"
               "bilar: Transport  coordinator, driver\nhållbarhet: hållbarhetsstrateg")
    response = client.post(path, data={
        "csrf_token": csrf_token(client, path), "enabled": "y", "issuer": idp.issuer, "client_id": "ystad",
        "client_secret": "hemligt", "email_domains": "ystad.se", "claim": "groups", "mapping": mapping})
    assert response.status_code == 302, response.get_data(as_text=True)
    provider = db.scalar(select(SsoProvider).where(col(SsoProvider.municipality_id) == ystad_admin.id))
    assert [rule["roles"] for rule in provider.mapping] == [
        ["driver", "facility_manager"], ["driver", "transport_coordinator"], ["sustainability_officer"]]
    assert "fastighet: Chaufför, Lokalförvaltare; Fastighetsavdelningen" in client.get(path).get_data(as_text=True)
    english(client)
    page = client.get(path).get_data(as_text=True)
    assert "fastighet: Driver, Facility manager; Fastighetsavdelningen" in page
    # The help's example and list are the roles' names, never their codes.
    assert "For example: fastighet: Facility manager; Fastighetsavdelningen." in page
    assert "The roles: Employee, Facility manager, Driver, Transport coordinator, Sustainability officer, " \
           "Municipality administrator." in page
    assert "facility_manager" not in page


def test_the_settings_form_tells_every_mistake_at_once_in_the_readers_words(client, db, factory, ystad_admin,
                                                                           skurup):
    english(client)
    path = f"/admin/municipalities/{ystad_admin.id}/sign-in"
    blank = client.get(path).get_data(as_text=True)
    # The examples name no other municipality.
    assert "skurup" not in blank.lower() and "kommun.se, skola.kommun.se" in blank
    response = client.post(path, data={
        "csrf_token": csrf_token(client, path), "enabled": "y", "issuer": "ftp://idp", "client_id": "ystad",
        "email_domains": "ystad.se, @@", "claim": "groups", "mapping": "alla: lokalförvaltaren"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    summary = page[page.index('class="error-summary"'):page.index("</ul>", page.index('class="error-summary"'))]
    for field, message in [("issuer", "The issuer is an https:// address"),
                           ("client_secret", "Enter the client secret the provider gave."),
                           ("email_domains", "“@@” is not an e-mail domain."),
                           ("mapping", "“lokalförvaltaren” is not a role. Use: Employee, Facility manager, Driver, "
                                       "Transport coordinator, Sustainability officer, Municipality administrator.")]:
        assert f'href="#{field}"' in summary and message in summary, (field, summary)
    assert db.scalar(select(SsoProvider).where(col(SsoProvider.municipality_id) == ystad_admin.id)) is None
    # A system administrator by name is a role, but none a provider may give: it says so.
    page = client.post(path, data={
        "csrf_token": csrf_token(client, path), "enabled": "y", "issuer": "https://idp.ystad.example",
        "client_id": "ystad", "client_secret": "hemligt", "email_domains": "ystad.se", "claim": "groups",
        "mapping": "it: System administrator"}).get_data(as_text=True)
    assert "A provider cannot make anyone a system administrator." in page and "is not a role" not in page
    assert "System administrator" not in blank  # nor offered in the help
