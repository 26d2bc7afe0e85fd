"""The main journeys in a real Chromium, with axe-core on every page visited.

The browser asks for Swedish, as our users' browsers do; selectors are the accessible
names a person (or a screen reader) would use.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from .conftest import DEMO_PASSWORD, LiveServer, assert_accessible

pytestmark = pytest.mark.browser

EMPLOYEE = ("medarbetare@ystad.example", "Elin Bergkvist")
ADMIN = ("admin@ystad.example", "Anders Möllerström")


def log_in(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    page.get_by_label("E-postadress").fill(email)
    page.get_by_label("Lösenord").fill(password)
    page.get_by_role("button", name="Logga in").click()


def expect_language(page: Page, code: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", code)


def test_employee_logs_in_switches_language_and_logs_out(page: Page, live_server: LiveServer) -> None:
    page.goto("/")
    expect_language(page, "sv")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(page)

    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Logga in").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("heading", name="Logga in", level=1)).to_be_visible()
    assert_accessible(page)

    log_in(page, EMPLOYEE[0])
    expect(page).to_have_url(live_server("/"))
    expect(page.get_by_role("heading", name=f"Välkommen, {EMPLOYEE[1]}", level=1)).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Mitt konto").click()
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_role("link", name="Mitt konto")).to_have_attribute("aria-current", "page")
    assert_accessible(page)

    page.get_by_role("button", name="English").click()
    expect_language(page, "en")
    expect(page).to_have_url(re.compile(r"/account$"))  # the switch returns to the same page
    expect(page.get_by_role("button", name="Log out", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="My account")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Svenska").click()
    expect_language(page, "sv")
    expect(page.get_by_role("button", name="Logga ut", exact=True)).to_be_visible()

    page.get_by_role("button", name="Logga ut", exact=True).click()
    expect(page).to_have_url(live_server("/"))
    expect(page.get_by_role("status")).to_contain_text("Du är utloggad.")
    expect(page.get_by_role("button", name="Logga ut", exact=True)).to_have_count(0)
    expect(page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Logga in")).to_be_visible()
    assert_accessible(page)
    page.goto("/account")  # the session is really over: the account page asks for a login
    expect(page).to_have_url(re.compile(r"/login\?next="))


def test_wrong_password_is_refused_on_the_login_page(page: Page) -> None:
    page.goto("/login")
    log_in(page, "medarbetare@skurup.example", "inte-det-riktiga-lösenordet")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("status")).to_contain_text("Fel e-postadress eller lösenord.")
    expect(page.get_by_role("heading", name="Logga in", level=1)).to_be_visible()
    expect(page.get_by_role("button", name="Logga ut", exact=True)).to_have_count(0)
    assert_accessible(page)


def test_municipality_admin_opens_users_and_sites(page: Page) -> None:
    page.goto("/login")
    log_in(page, ADMIN[0])
    expect(page.get_by_role("heading", name=f"Välkommen, {ADMIN[1]}", level=1)).to_be_visible()

    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Administration").click()
    # A municipality administrator lands on the users of their own municipality.
    expect(page).to_have_url(re.compile(r"/admin/municipalities/\d+/users$"))
    expect(page.get_by_role("heading", name="Användare", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Administration")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("cell", name=EMPLOYEE[0])).to_be_visible()
    assert_accessible(page)

    tabs = page.get_by_role("navigation", name="Administration av Ystad")
    tabs.get_by_role("link", name="Användare").click()
    expect(page.get_by_role("heading", name="Användare", level=1)).to_be_visible()
    expect(tabs.get_by_role("link", name="Användare")).to_have_attribute("aria-current", "page")
    assert_accessible(page)

    tabs.get_by_role("link", name="Fastigheter").click()
    expect(page).to_have_url(re.compile(r"/admin/municipalities/\d+/sites$"))
    expect(page.get_by_role("heading", name="Fastigheter", level=1)).to_be_visible()
    expect(page.get_by_role("table")).to_be_visible()
    assert_accessible(page)


def test_front_page_fits_a_phone(new_page: Callable[..., Page]) -> None:
    page = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    width = page.evaluate("() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    assert width["inner"] == 390
    assert width["scroll"] <= width["inner"], f"the front page scrolls sideways on a phone: {width}"
    assert_accessible(page)
