"""A loan in a real Chromium, with axe-core on every page: a Skurup employee asks to borrow 6 of
Ystad's 24 conference chairs for two weeks with transport, a Ystad facility manager approves,
the chairs are handed over and returned, both sides confirm, and each step reaches the other
side in the service and in the mail a local SMTP server received."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from sharing.clock import today_in_sweden, utcnow

from .conftest import assert_accessible
from .test_journeys import log_in

pytestmark = pytest.mark.browser
CHAIRS = "Konferensstolar, stapelbara"
EMPLOYEE, MANAGER = "medarbetare@skurup.example", "lokalforsorjning@ystad.example"


def click(page: Page, name: str) -> None:
    page.get_by_role("button", name=name).click()


def notifications(page: Page) -> str:
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name=re.compile("Notiser")).click()
    expect(page.get_by_role("heading", name="Notiser", level=1)).to_be_visible()
    assert_accessible(page)
    return page.locator("main").inner_text()


def test_a_skurup_unit_borrows_ystads_chairs_and_gives_them_back(new_page: Callable[..., Page], mailbox) -> None:
    mailbox.messages.clear()
    first = today_in_sweden(utcnow()) + timedelta(days=3)
    employee = new_page()
    employee.goto("/login")
    log_in(employee, EMPLOYEE)
    employee.goto("/catalog/?q=konferensstolar")
    employee.get_by_role("link", name=CHAIRS).first.click()
    expect(employee.get_by_role("heading", name=CHAIRS, level=1)).to_be_visible()
    expect(employee.get_by_role("table", name=re.compile("Lediga exemplar av 24"))).to_contain_text("24 lediga")
    assert_accessible(employee)

    employee.get_by_label("Låna").check()
    employee.get_by_label("Antal").fill("6")
    employee.get_by_label("Från").fill(first.isoformat())
    employee.get_by_label("Till (lån)").fill((first + timedelta(days=13)).isoformat())
    employee.get_by_label("Till vilken fastighet").select_option(index=1)
    employee.get_by_label("Transport behövs").check()
    employee.get_by_label("Meddelande (valfritt)").fill("Till skolans avslutning.")
    click(employee, "Skicka förfrågan")
    expect(employee).to_have_url(re.compile(r"/loans/\d+$"))
    expect(employee.get_by_role("status")).to_contain_text("Din förfrågan är skickad")
    expect(employee.locator("main")).to_contain_text("Väntar på beslut")
    assert_accessible(employee)
    request_url = employee.url

    manager = new_page()
    manager.goto("/login")
    log_in(manager, MANAGER)
    # The start page counts what waits for their decision, and leads there.
    manager.goto("/")
    expect(manager.get_by_role("heading", name="Väntar på dig", level=2)).to_be_visible()
    assert_accessible(manager)
    manager.get_by_role("link", name=re.compile(r"\d+ förfrågn?(an|ingar) väntar på ditt beslut")).click()
    expect(manager.get_by_role("link", name="Till oss: att besluta och lämna över")).to_have_attribute(
        "aria-current", "page")
    expect(manager.locator("main")).to_contain_text(CHAIRS)
    assert "ber om 6 av ”Konferensstolar, stapelbara”" in notifications(manager)
    manager.goto(request_url)
    expect(manager.get_by_text("Till skolans avslutning.")).to_be_visible()
    click(manager, "Godkänn")
    expect(manager.get_by_role("status")).to_contain_text("Förfrågan är godkänd")
    assert_accessible(manager)
    manager.get_by_label("Med transport").check()
    manager.get_by_label("Skick vid överlämning").select_option("very_good")
    click(manager, "Exemplaren är överlämnade")
    expect(manager.get_by_role("status")).to_contain_text("Överlämningen är noterad")

    assert "godkänd" in notifications(employee)
    employee.goto(request_url)
    click(employee, "Bekräfta överlämningen")
    expect(employee.get_by_role("status")).to_contain_text("Din bekräftelse är noterad")
    assert_accessible(employee)

    manager.goto(request_url)
    manager.get_by_label("Skick vid återlämning").select_option("good")
    manager.get_by_label("Anteckningar (valfritt)").fill("Alla sex tillbaka.")
    click(manager, "Exemplaren är tillbaka")
    expect(manager.get_by_role("status")).to_contain_text("Återlämningen är noterad")
    assert_accessible(manager)

    assert "återlämnad" in notifications(employee)
    employee.goto(request_url)
    click(employee, "Bekräfta återlämningen")
    expect(employee.locator("main")).to_contain_text("Avslutad")
    assert_accessible(employee)

    # Every step reached the other side by mail too, in Swedish, linking to the request.
    bodies = {(m["To"], m.get_content()) for m in mailbox.messages}
    path = request_url.split("/loans/")[1]
    for to, words in ((MANAGER, "ber om 6 av"), (EMPLOYEE, "är godkänd"), (EMPLOYEE, "noterad som överlämnad"),
                      (EMPLOYEE, "noterad som återlämnad")):
        assert any(to == recipient and words in body and f"/loans/{path}" in body for recipient, body in bodies), \
            (to, words, sorted(r for r, _ in bodies))


def test_cancelling_a_request_asks_once_more_first(page: Page) -> None:
    first = today_in_sweden(utcnow()) + timedelta(days=5)
    page.goto("/login")
    log_in(page, EMPLOYEE)
    page.goto("/catalog/?q=konferensstolar")
    page.get_by_role("link", name=CHAIRS).first.click()
    page.get_by_label("Låna").check()
    page.get_by_label("Antal").fill("2")
    page.get_by_label("Från").fill(first.isoformat())
    page.get_by_label("Till (lån)").fill((first + timedelta(days=2)).isoformat())
    page.get_by_label("Till vilken fastighet").select_option(index=1)
    click(page, "Skicka förfrågan")
    expect(page).to_have_url(re.compile(r"/loans/\d+$"))
    yes = page.get_by_role("button", name="Ja, återkalla förfrågan")
    expect(yes).to_be_hidden()  # one press is not enough
    page.locator("summary", has_text="Återkalla förfrågan").press("Enter")  # by keyboard
    expect(page.get_by_text("Det går inte att ångra.")).to_be_visible()
    assert_accessible(page)
    yes.click()
    expect(page.get_by_role("status")).to_contain_text("Förfrågan är återkallad")
    expect(page.locator("main")).to_contain_text("Återkallad")


def test_the_ask_form_shows_the_fields_of_the_choice_made(new_page: Callable[..., Page]) -> None:
    """A loan's last day only for a loan; a swap's offer only for a swap."""
    page = new_page()
    page.goto("/login")
    log_in(page, EMPLOYEE)
    page.goto("/catalog/?q=konferensstolar")
    page.get_by_role("link", name=CHAIRS).first.click()
    last_day = page.get_by_label("Till (lån)")
    page.get_by_label("Låna").check()
    expect(last_day).to_be_visible()
    page.get_by_label("Ta över för gott").check()
    expect(last_day).to_be_hidden()
    page.get_by_label("Låna").check()
    expect(last_day).to_be_visible()
    assert_accessible(page)

