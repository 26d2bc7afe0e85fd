"""Single sign-on in a real Chromium, with axe-core on our pages: Skurup's administrator sets up
the municipality's identity provider (a real OpenID Connect provider on 127.0.0.1), and a new
Skurup employee signs in there for the first time, lands with the roles and unit the mapping
gives, and asks to borrow Ystad's conference chairs."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from sharing.clock import today_in_sweden, utcnow
from tests.oidc_provider import Provider, serve_provider

from .conftest import assert_accessible
from .test_journeys import log_in

pytestmark = pytest.mark.browser
CHAIRS = "Konferensstolar, stapelbara"


@pytest.fixture
def idp() -> Iterator[Provider]:
    with serve_provider() as provider:
        yield provider


def test_a_new_skurup_employee_signs_in_with_skurups_account_and_borrows(new_page: Callable[..., Page],
                                                                          idp: Provider) -> None:
    admin = new_page()
    admin.goto("/login")
    log_in(admin, "admin@skurup.example")
    admin.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Administration").click()
    admin.get_by_role("link", name="Inloggning", exact=True).click()
    expect(admin.get_by_role("heading", name="Inloggning med kommunens konto", level=1)).to_be_visible()
    assert_accessible(admin)
    admin.get_by_label("Utfärdare (issuer)").fill(idp.issuer)
    admin.get_by_label("Klient-id").fill("delningstjansten")
    admin.get_by_label("Klienthemlighet").fill("skurups-hemlighet-123")
    admin.get_by_label("E-postdomäner").fill("skurup.example")
    admin.get_by_label("Koppling till roller och enheter").fill("skurup-skola: employee; Prästamosseskolan")
    admin.get_by_role("button", name="Spara").click()
    expect(admin.get_by_role("status")).to_contain_text("Inloggningsinställningarna är sparade")
    assert "skurups-hemlighet-123" not in admin.content()
    callback = admin.locator("main code").inner_text()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/login/sso/\d+/callback", callback), callback
    idp.add_client("delningstjansten", "skurups-hemlighet-123", [callback])
    idp.add_person("nora", email="nora.nilsson@skurup.example", name="Nora Nilsson", groups=["skurup-skola"])

    nora = new_page()
    nora.goto("/login")
    nora.get_by_label("E-postadress").fill("nora.nilsson@skurup.example")
    nora.get_by_role("button", name="Använd kommunens konto").click()
    expect(nora.get_by_role("heading", name="Logga in med kommunens konto (Skurup)", level=1)).to_be_visible()
    assert_accessible(nora)
    nora.get_by_role("button", name="Logga in med kommunens konto (Skurup)").click()
    # The provider's own login page.
    expect(nora.get_by_role("heading", name="Logga in hos leverantören")).to_be_visible()
    nora.get_by_label("Användarnamn").fill("nora")
    nora.get_by_role("button", name="Logga in").click()
    expect(nora.get_by_role("button", name="Logga ut")).to_be_visible()
    nora.goto("/account")
    expect(nora.locator("main")).to_contain_text("Nora Nilsson")
    expect(nora.locator("main")).to_contain_text("Medarbetare")

    first = today_in_sweden(utcnow()) + timedelta(days=3)
    nora.goto("/catalog/?q=konferensstolar")
    nora.get_by_role("link", name=CHAIRS).first.click()
    expect(nora.get_by_role("heading", name=CHAIRS, level=1)).to_be_visible()
    nora.get_by_label("Låna").check()
    nora.get_by_label("Antal").fill("2")
    nora.get_by_label("Från").fill(first.isoformat())
    nora.get_by_label("Till (lån)").fill((first + timedelta(days=6)).isoformat())
    nora.get_by_label("Till vilken fastighet").select_option(index=1)
    nora.get_by_role("button", name="Skicka förfrågan").click()
    expect(nora).to_have_url(re.compile(r"/loans/\d+$"))
    expect(nora.get_by_role("status")).to_contain_text("Din förfrågan är skickad")
    expect(nora.locator("main")).to_contain_text("Prästamosseskolan")
    assert_accessible(nora)
