"""Proposed corrections of a category's figures in a real Chromium, with axe-core on every page:
Ystad's sustainability officer proposes a lower CO2e figure for office chairs with its source;
the system administrator finds it waiting, and accepts it as a new version of the figures."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from .conftest import assert_accessible
from .test_journeys import log_in

pytestmark = pytest.mark.browser


def test_an_officer_proposes_and_the_system_admin_accepts(new_page: Callable[..., Page]) -> None:
    officer = new_page()
    officer.goto("/login")
    log_in(officer, "hallbarhet@ystad.example")
    officer.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Kategorier").click()
    officer.get_by_role("link", name="Kontorsstol", exact=True).first.click()
    officer.get_by_role("link", name="Föreslå en rättelse av värdena").click()
    expect(officer.get_by_role("heading", name=re.compile("Föreslå en rättelse"), level=1)).to_be_visible()
    assert_accessible(officer)

    officer.get_by_role("button", name="Skicka förslaget").click()
    expect(officer.get_by_role("alert")).to_contain_text("Varför värdena bör ändras")
    assert_accessible(officer)
    officer.get_by_label("CO2e för ett exemplar (kg)").fill("85")
    officer.get_by_label("Källa", exact=True).fill("Kinnarps, EPD S-P-01234 (2024)")
    officer.get_by_label("Källans webbadress").fill("https://www.environdec.com/library/epd1234")
    officer.get_by_label("Varför värdena bör ändras").fill("Tillverkarens nya EPD ger lägre utsläpp.")
    officer.get_by_role("button", name="Skicka förslaget").click()
    expect(officer).to_have_url(re.compile(r"/catalog/categories/proposals/\d+$"))
    expect(officer.get_by_role("status")).to_contain_text("Ditt förslag är skickat")
    expect(officer.get_by_text("väntar på beslut", exact=True)).to_be_visible()
    assert_accessible(officer)
    officer.get_by_role("link", name="Föreslagna rättelser").click()
    expect(officer.get_by_role("heading", name="Dina förslag", level=2)).to_be_visible()
    assert_accessible(officer)

    admin = new_page()
    admin.goto("/login")
    log_in(admin, "systemadmin@ystad.example")
    admin.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Kategorier").click()
    admin.get_by_role("link", name="1 föreslagen rättelse väntar på beslut").click()
    expect(admin.get_by_role("heading", name="Väntar på beslut (1)", level=2)).to_be_visible()
    assert_accessible(admin)
    admin.get_by_role("link", name=re.compile(r"^Förslag \d+$")).click()
    expect(admin.get_by_role("columnheader", name="Den nya versionen om förslaget godkänns")).to_be_visible()
    assert_accessible(admin)
    admin.get_by_role("button", name="Avslå förslaget").click()  # without a reason: told to give one
    expect(admin.get_by_role("alert")).to_contain_text("Varför förslaget avslås")
    assert_accessible(admin)
    admin.get_by_role("button", name="Godkänn som en ny version").click()
    expect(admin.get_by_role("status")).to_contain_text("Förslaget är godkänt")
    expect(admin.get_by_role("link", name=re.compile(r"^Version \d+ av värdena$"))).to_be_visible()
    assert_accessible(admin)

    officer.goto("/notifications")
    expect(officer.get_by_text(re.compile("Ditt förslag till rättelse av värdena för ”Kontorsstol” är godkänt"))
           ).to_be_visible()
