"""Transport in a real Chromium on a phone's screen, with axe-core on every page visited: a
transport coordinator finds the demo's jobs (made from approved requests' events), adds one by
hand after being told what to correct, and looks over the vehicles."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from sharing.clock import today_in_sweden, utcnow
from sharing.logistics.demo import next_working_day

from .conftest import assert_accessible
from .test_journeys import log_in

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def assert_no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    assert width["scroll"] <= width["inner"], f"the page scrolls sideways on a phone: {width}"


def test_a_coordinator_plans_transport_on_a_phone(new_page: Callable[..., Page]) -> None:
    page = new_page(**PHONE)
    page.goto("/login")
    log_in(page, "samordnare@ystad.example")
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Transport").click()
    expect(page).to_have_url(re.compile(r"/logistics/jobs/$"))
    expect(page.get_by_role("heading", name="Transport", level=1)).to_be_visible()
    day = next_working_day(today_in_sweden(utcnow())).isoformat()
    # The demo's approved requests with transport made their jobs: on the next working day, among others.
    first = page.get_by_role("row").filter(has_text=day).first
    expect(first).to_contain_text("Hämtning:")
    assert_accessible(page)
    assert_no_sideways_scroll(page)

    page.get_by_label("Dag", exact=True).fill(day)
    page.get_by_role("button", name="Filtrera").click()
    expect(page.get_by_role("heading", name=re.compile(f"transportuppdrag den {day}"))).to_be_visible()
    page.get_by_role("table").get_by_role("link").first.click()
    expect(page.get_by_role("heading", name=re.compile("^Transport av ”"), level=1)).to_be_visible()
    expect(page.get_by_text("Öppet den dagen:").first).to_be_visible()
    assert_accessible(page)
    assert_no_sideways_scroll(page)

    page.get_by_role("link", name="Transportuppdrag").first.click()
    page.get_by_role("link", name="Lägg till ett transportuppdrag").click()
    page.get_by_role("button", name="Lägg till uppdraget").click()
    expect(page.get_by_role("alert")).to_contain_text("Välj var det ska hämtas.")
    expect(page.get_by_role("alert")).to_be_focused()
    assert_accessible(page)
    page.get_by_label("Hämta vid").select_option(label="Kommunförrådet Ystad")
    page.get_by_label("Leverera till").select_option(label="Pilevallskolan")
    page.get_by_label("Dag", exact=True).fill(day)
    page.get_by_label("Vad som körs").fill("Två whiteboardtavlor")
    page.get_by_label("Volym (m³)").fill("0,5")
    page.get_by_label("Vikt (kg)").fill("24")
    page.get_by_role("button", name="Lägg till uppdraget").click()
    expect(page).to_have_url(re.compile(r"/logistics/jobs/\d+$"))
    expect(page.get_by_role("status")).to_contain_text("Transportuppdraget är tillagt")
    expect(page.get_by_text("500 liter, 24 kg")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Transportuppdrag").first.click()
    page.get_by_role("navigation", name="Transport").get_by_role("link", name="Fordon").click()
    expect(page.get_by_role("row", name=re.compile("Elskåpbilen"))).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Kommunförrådets skåpbil"))).to_contain_text("delas med partnerna")
    assert_accessible(page)
    assert_no_sideways_scroll(page)
    page.get_by_role("link", name="Lägg till ett fordon").click()
    page.get_by_label("Namn").fill("HVO-bilen")
    page.get_by_label("Lastvolym (m³)").fill("9,5")
    page.get_by_label("Lastförmåga (kg)").fill("900")
    page.get_by_label("Depå").select_option(label="Tekniska depån")
    page.get_by_label("Arbetspasset börjar").fill("07:00")
    page.get_by_label("Arbetspasset slutar").fill("15:30")
    page.get_by_label("Kostnad per km (kr)").fill("6,5")
    page.get_by_label("Drivmedel").select_option(label="HVO100")
    page.get_by_role("button", name="Spara fordonet").click()
    expect(page.get_by_role("alert")).to_contain_text("ingen publicerad siffra per km")
    assert_accessible(page)
    page.get_by_label("CO2e per km (kg, valfritt)").fill("0,04")
    page.get_by_label("Källa till CO2e-siffran").fill("Leverantörens uppgift om HVO100, 2025")
    page.get_by_role("button", name="Spara fordonet").click()
    expect(page.get_by_role("row", name=re.compile("HVO-bilen"))).to_contain_text("0,04 kg CO2e")
