"""A day's transport from plan to handover in a real Chromium, axe-core on every page: a
transport coordinator plans the next working day from the demo's approved requests with
transport, opens the plan and its route sheet (the PDF too), and a driver on a phone marks
the stops done; the loan then shows as handed over to its requester."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import update
from sqlmodel import col

from sharing.clock import today_in_sweden, utcnow
from sharing.db import make_engine
from sharing.logistics.demo import next_working_day
from sharing.logistics.plans.models import RoutePlan

from .conftest import LiveServer, assert_accessible
from .test_journeys import log_in
from .test_logistics_journey import PHONE, assert_no_sideways_scroll

pytestmark = pytest.mark.browser


def the_day_comes(live_server: LiveServer, day: str) -> str:
    """The planned day has come: its plans move to today, when their drivers may report the
    stops (never before the day); returns today."""
    today = today_in_sweden(utcnow())
    engine = make_engine(live_server.database_url)
    with engine.begin() as connection:
        connection.execute(update(RoutePlan).where(col(RoutePlan.day) == date.fromisoformat(day)).values(day=today))
    engine.dispose()
    return today.isoformat()


def plan_with_van_2(page: Page, day: str) -> None:
    """Ystad's coordinator plans the day with one of Ystad's own vans (its driver drives the route)."""
    page.goto("/login")
    log_in(page, "samordnare@ystad.example")
    page.goto("/logistics/plans/")
    page.get_by_label("Dag", exact=True).fill(day)
    for box in page.get_by_role("checkbox").all():
        box.uncheck()
    page.get_by_label("Skåpbil 2").check()
    page.get_by_text("Fler inställningar").click()
    page.get_by_label("Planeringstid (sekunder)").fill("2")
    page.get_by_role("button", name="Planera dagen").click()


def test_a_day_is_planned_printed_and_driven(new_page: Callable[..., Page], live_server: LiveServer) -> None:
    day = next_working_day(today_in_sweden(utcnow())).isoformat()
    page = new_page()
    plan_with_van_2(page, day)
    expect(page).to_have_url(re.compile(r"/logistics/plans/\d+$"))
    sheet_link = page.get_by_role("link", name="Körlista för Skåpbil 2")
    expect(sheet_link).to_be_visible(timeout=60_000)  # the page updates itself until the plan is made
    expect(page.get_by_role("table", name="Stopp för Skåpbil 2").get_by_role("row").nth(1)).to_contain_text("Hämta")
    assert_accessible(page)
    on_a_phone = new_page(**PHONE)  # the plan on a phone: its stop tables scroll, not the page
    on_a_phone.goto("/login")
    log_in(on_a_phone, "samordnare@ystad.example")
    on_a_phone.goto(page.url)
    expect(on_a_phone.get_by_role("link", name="Körlista för Skåpbil 2")).to_be_visible()
    assert_no_sideways_scroll(on_a_phone)
    on_a_phone.close()

    sheet_link.click()
    expect(page.get_by_role("heading", name=re.compile("^Körlista: Skåpbil 2"), level=1)).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("Karta över rutten"))).to_be_visible()
    stops = page.locator(".sheet-stops > li")
    assert stops.count() >= 2
    expect(stops.first).to_contain_text("Hämta")
    assert_accessible(page)
    pdf_url = page.get_by_role("link", name="Körlistan som PDF").get_attribute("href")
    assert pdf_url
    pdf = page.request.get(pdf_url)
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    page.close()

    day = the_day_comes(live_server, day)
    phone = new_page(**PHONE)
    phone.goto("/login")
    log_in(phone, "chauffor@ystad.example")
    phone.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Min rutt").click()
    phone.get_by_label("Dag", exact=True).fill(day)
    phone.get_by_role("button", name="Visa").click()
    assert_accessible(phone)
    assert_no_sideways_scroll(phone)
    phone.get_by_role("link", name=re.compile("^Skåpbil 2")).click()
    expect(phone.get_by_role("link", name="Körlista att skriva ut")).to_be_visible()
    assert_accessible(phone)
    assert_no_sideways_scroll(phone)
    while phone.get_by_role("button", name="Klar").count():
        phone.get_by_role("button", name="Klar").first.click()
        expect(phone.get_by_role("status")).to_contain_text(re.compile("Stoppet är klart|Rutten är klar"))
    expect(phone.get_by_role("status")).to_contain_text("Rutten är klar")
    assert_accessible(phone)
    phone.close()

    requester = new_page()
    requester.goto("/login")
    log_in(requester, "medarbetare@trelleborg.example")  # borrows Ystad's pieces, carried on the route
    requester.goto("/loans/")
    row = requester.get_by_role("row").filter(has_text="Överlämnad").first
    expect(row).to_be_visible()
    row.get_by_role("link").first.click()
    expect(requester).to_have_url(re.compile(r"/loans/\d+$"))
    expect(requester.get_by_text("Överlämnad").first).to_be_visible()
    assert_accessible(requester)


def test_the_plan_fits_a_phone_s_width_and_the_driver_goes_on_from_the_stop_reported(
        new_page: Callable[..., Page], live_server: LiveServer) -> None:
    """A plan's page at 390 px, without a phone's emulation (which hides overflow the page has):
    its tables scroll in their boxes, nothing of them widens the page, and each box is named apart
    from its section. A driver's report leads back to its stop, focused, with its message there."""
    from .conftest import _axe

    day = next_working_day(today_in_sweden(utcnow())).isoformat()
    page = new_page(viewport={"width": 390, "height": 844})
    plan_with_van_2(page, day)
    expect(page.get_by_role("link", name="Körlista för Skåpbil 2")).to_be_visible(timeout=60_000)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the plan scrolls sideways: {width} px"
    landmarks = [v for v in _axe.run(page).response["violations"] if v["id"] == "landmark-unique"]
    assert landmarks == [], landmarks
    page.close()

    day = the_day_comes(live_server, day)
    phone = new_page(**PHONE)
    phone.goto("/login")
    log_in(phone, "chauffor@ystad.example")
    phone.goto(f"/logistics/driver/?day={day}")
    phone.get_by_role("link", name=re.compile("^Skåpbil 2")).click()
    stops = phone.locator("ol.stops > li")
    assert stops.count() >= 2
    first_id, second_id = stops.nth(0).get_attribute("id"), stops.nth(1).get_attribute("id")
    stops.nth(0).get_by_role("button", name="Klar").click()
    expect(phone).to_have_url(re.compile(rf"#{first_id}$"))
    expect(phone.locator(f"#{first_id}")).to_be_focused()
    second = phone.locator(f"#{second_id}")
    second.get_by_role("button", name="Klar").click()
    expect(phone).to_have_url(re.compile(rf"#{second_id}$"))
    expect(second).to_be_focused()
    expect(second.get_by_role("status")).to_contain_text(re.compile("Stoppet är klart|Rutten är klar"))
    assert phone.evaluate("() => window.scrollY") > 0, "not back at the page's top"
    assert_accessible(phone)
    phone.close()
