"""A person's data in a real Chromium, with axe-core on every page: on a phone, an employee turns
on two-step verification and gets her recovery codes, and downloads her register extract; then
her municipality's administrator erases her."""

from __future__ import annotations

import re
from collections.abc import Callable

import pyotp
import pytest
from playwright.sync_api import Page, expect

from .conftest import assert_accessible
from .test_journeys import log_in

pytestmark = pytest.mark.browser

EMPLOYEE = ("medarbetare@skurup.example", "Linnea Olofsdotter")
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def test_codes_extract_and_erasure(new_page: Callable[..., Page]) -> None:
    page = new_page(**PHONE)
    page.goto("/login")
    log_in(page, EMPLOYEE[0])
    page.goto("/account")
    page.get_by_role("link", name="Ändra tvåstegsverifiering").click()
    # On the phone itself, a link hands the key to the app; the key reads in groups of four,
    # and copies without spaces.
    expect(page.locator('a[href^="otpauth://totp/"]')).to_be_visible()
    secret = page.locator("code.token").inner_text()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret
    assert_accessible(page)
    page.get_by_label("Kod från din app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Slå på tvåstegsverifiering").click()
    expect(page.get_by_role("heading", name="Dina återställningskoder", level=1)).to_be_visible()
    expect(page.get_by_role("list", name="Återställningskoder").get_by_role("listitem")).to_have_count(10)
    assert re.fullmatch(r"([0-9a-z]{4}-){2}[0-9a-z]{4}(\n([0-9a-z]{4}-){2}[0-9a-z]{4}){9}",
                        page.get_by_label("Alla koder (för att kopiera)").input_value())
    assert_accessible(page)
    page.get_by_role("link", name="Jag har sparat dem: tillbaka till mitt konto").click()
    expect(page.get_by_text("Du har 10 återställningskoder kvar")).to_be_visible()

    page.get_by_role("link", name="Ladda ner dina personuppgifter").click()
    expect(page.get_by_role("heading", name="Dina personuppgifter", level=1)).to_be_visible()
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Ladda ner som PDF (för att läsa)").click()
    assert re.fullmatch(r"registerutdrag-\d{4}-\d\d-\d\d\.pdf", download.value.suggested_filename)

    admin = new_page()
    admin.goto("/login")
    log_in(admin, "admin@skurup.example")
    admin.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Administration").click()
    admin.get_by_role("link", name=EMPLOYEE[1]).click()
    admin.get_by_role("link", name=f"Radera {EMPLOYEE[1]}").click()
    expect(admin.get_by_role("heading", name=f"Radera {EMPLOYEE[1]}", level=1)).to_be_visible()
    assert_accessible(admin)
    admin.get_by_label("Personens namn").fill(EMPLOYEE[1])
    admin.get_by_role("button", name="Radera för gott").click()
    expect(admin.get_by_role("status")).to_contain_text("Personen är raderad")
    expect(admin.get_by_text("Borttagen användare")).to_have_count(0)  # the list leaves the erased out...
    admin.get_by_role("link", name="Visa 1 raderad person").click()  # ...unless asked
    expect(admin.get_by_role("row", name=re.compile("Borttagen användare")).get_by_role("cell", name="Raderad")
           ).to_be_visible()
    expect(admin.get_by_text(EMPLOYEE[1])).to_have_count(0)
    assert_accessible(admin)

    page.reload()  # her session ended with her
    expect(page).to_have_url(re.compile(r"/login"))
