"""The catalog's journey: a Ystad facility manager lists ten chairs with a photo; a Skurup employee finds
them by searching "stol" and on the map. axe-core checks every page on the way."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable

import pytest
from PIL import Image
from playwright.sync_api import Page, Route, expect

from .conftest import LiveServer, assert_accessible
from .test_journeys import log_in

pytestmark = pytest.mark.browser

TITLE = "Stolar, svarta, med armstöd"


def choose_option(page: Page, label: str, option_text: str) -> None:
    """Select the option whose visible text (indented for the category tree) is option_text."""
    select = page.get_by_label(label, exact=True)
    option = select.locator("option", has_text=re.compile(rf"^\W*{re.escape(option_text)}$")).first
    select.select_option(option.get_attribute("value"))


def chair_photo() -> bytes:
    """A photo as a phone makes it: a JPEG with a location in its EXIF data."""
    image = Image.new("RGB", (1200, 900), (40, 40, 40))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (55.0, 25.0, 0.0)}  # GPS: where the photo was taken
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def list_ten_chairs(page: Page) -> None:
    page.goto("/login")
    log_in(page, "lokalforsorjning@ystad.example")
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Våra annonser").click()
    expect(page.get_by_role("heading", name="Våra annonser", level=1)).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Lägg upp något att dela").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Rubrik").fill(TITLE)
    choose_option(page, "Kategori", "Kontorsstol")
    page.get_by_label("Var den finns").select_option(label="Stadshuset, Ystad")
    page.get_by_label("Beskrivning").fill("Tio likadana kontorsstolar från ett kontor som byggts om.")
    page.get_by_label("Skick").select_option(label="Bra, bruksspår")
    page.get_by_label("Antal likadana exemplar").fill("10")
    page.get_by_label("Låna ut (eller boka, för lokaler och tjänster)").check()
    page.get_by_label("Överlåt för gott").check()
    page.get_by_label("Foton (valfritt)").set_input_files(files=[{
        "name": "stolar.jpg", "mimeType": "image/jpeg", "buffer": chair_photo()}])
    page.get_by_role("button", name="Spara").click()

    expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    expect(page.get_by_text("Annonsen är sparad som utkast")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Publicera").click()
    expect(page.get_by_text("Annonsen är nu ”Tillgänglig”")).to_be_visible()
    expect(page.get_by_text("10 st.")).to_be_visible()
    # The photo was re-encoded and is served by the app, shown with the title as its text.
    photo = page.get_by_role("img", name=TITLE).first
    expect(photo).to_be_visible()
    assert photo.evaluate("image => image.complete && image.naturalWidth > 0")
    assert_accessible(page)


def test_a_facility_manager_lists_chairs_and_another_municipality_finds_them(
    new_page: Callable[..., Page], live_server: LiveServer
) -> None:
    list_ten_chairs(new_page())

    page = new_page()
    page.goto("/login")
    log_in(page, "medarbetare@skurup.example")
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Hitta").click()
    assert_accessible(page)
    page.get_by_role("searchbox", name="Sök").fill("stol")
    page.get_by_role("button", name="Sök", exact=True).click()
    expect(page).to_have_url(re.compile(r"q=stol"))
    expect(page.get_by_role("link", name=TITLE)).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="På karta").click()
    expect(page).to_have_url(re.compile(r"view=map"))
    expect(page.get_by_role("region", name="Karta över var annonserna finns")).to_be_visible()
    expect(page.locator(".leaflet-marker-icon").first).to_be_visible()
    assert_accessible(page)
    # Beside the map, its text alternative: the places, each with its newest listings.
    page.get_by_role("link", name=TITLE).click()

    expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    expect(page.get_by_text("Ystad", exact=True)).to_be_visible()
    # The employee of another municipality sees the listing, not its management.
    expect(page.get_by_role("heading", name="Hantera")).to_have_count(0)
    assert_accessible(page)


def test_the_search_works_on_a_phone(new_page: Callable[..., Page], live_server: LiveServer) -> None:
    page = new_page(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    page.goto("/login")
    log_in(page, "medarbetare@trelleborg.example")
    page.goto("/catalog/?q=stol")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    # Nothing wider than the screen: no sideways scrolling on a phone (measured once the style
    # sheet has loaded: a heading shows before it does).
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert_accessible(page)
    page.locator(".listing-grid a").first.click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert_accessible(page)


def test_on_a_phone_the_results_come_before_the_filters(new_page: Callable[..., Page], live_server: LiveServer) -> None:
    page = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page.goto("/login")
    log_in(page, "medarbetare@trelleborg.example")
    page.goto("/catalog/?q=stol&kind=thing")
    filters = page.locator("details.filters")
    # Collapsed after a search, saying how many filters are on.
    expect(filters).not_to_have_attribute("open", re.compile(".*"))
    expect(filters.locator("summary")).to_have_text("Filter och sortering (1 aktivt filter)")
    first_card = page.locator(".listing-grid .listing-card").first
    expect(first_card).to_be_visible()
    box = first_card.bounding_box()
    assert box is not None and box["y"] < 844, box  # on the first screen, not below the filters
    # The second Tab reaches a link that moves the focus to the results.
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Hoppa till resultaten")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#results-heading")).to_be_focused()
    assert_accessible(page)
    # Opened by hand, it shows the filters.
    filters.locator("summary").click()
    expect(page.get_by_label("Kategori", exact=True)).to_be_visible()


def test_on_a_wide_screen_the_filters_are_open(new_page: Callable[..., Page], live_server: LiveServer) -> None:
    page = new_page(viewport={"width": 1280, "height": 800})
    page.goto("/login")
    log_in(page, "medarbetare@trelleborg.example")
    page.goto("/catalog/?q=stol&kind=thing")
    filters = page.locator("details.filters")
    expect(filters).to_have_attribute("open", "")
    expect(filters.locator("summary")).to_have_text("Filter och sortering (1 aktivt filter)")
    expect(page.get_by_label("Kategori", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Filtrera")).to_be_visible()
    expect(page.locator(".listing-grid .listing-card").first).to_be_visible()
    # The results are still a Tab and a link away.
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Hoppa till resultaten")).to_be_focused()
    # Closed by hand, it stays closed.
    filters.locator("summary").click()
    expect(page.get_by_label("Kategori", exact=True)).to_be_hidden()
    assert_accessible(page)


def test_a_second_click_on_save_while_the_first_is_on_its_way_sends_nothing(page: Page,
                                                                             live_server: LiveServer) -> None:
    page.goto("/login")
    log_in(page, "lokalforsorjning@ystad.example")
    page.goto("/catalog/new")
    page.get_by_label("Rubrik").fill("Dubbelklickat bord")
    choose_option(page, "Kategori", "Kontorsstol")
    page.get_by_label("Var den finns").select_option(label="Stadshuset, Ystad")
    page.get_by_label("Skick").select_option(label="Bra, bruksspår")
    page.get_by_label("Låna ut (eller boka, för lokaler och tjänster)").check()
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url) if request.method == "POST" else None)

    def slow_line(route: Route) -> None:  # the server's answer is on its way while the user clicks again
        time.sleep(0.5)
        route.continue_()

    page.route("**/catalog/new", slow_line)
    page.get_by_role("button", name="Spara").evaluate("save => { save.click(); setTimeout(() => save.click(), 50); }")
    expect(page.get_by_role("heading", name="Dubbelklickat bord", level=1)).to_be_visible()
    assert len(sent) == 1, sent
    page.goto("/catalog/mine?q=Dubbelklickat")
    expect(page.get_by_role("link", name="Dubbelklickat bord")).to_have_count(1)


def test_a_form_with_a_field_named_method_is_sent_once_too(page: Page, live_server: LiveServer) -> None:
    """A field named "method" (the hand-over's pickup or transport) hides the form's own method:
    the guard reads the attribute. Shown on a page of the app, sent to one of its addresses."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/login")
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url) if request.method == "POST" else None)

    def slow_line(route: Route) -> None:
        time.sleep(0.5)
        route.continue_()

    page.route("**/login", slow_line)
    page.evaluate("""() => {
        const form = document.createElement("form");
        form.setAttribute("method", "post");
        form.setAttribute("action", "/login");
        form.innerHTML = '<input type="radio" name="method" value="pickup" checked><button>Skicka</button>';
        document.querySelector("main").append(form);
        const send = form.querySelector("button");
        send.click();
        setTimeout(() => send.click(), 50);
    }""")
    page.wait_for_timeout(1500)  # Playwright's, which hears the requests meanwhile
    assert len(sent) == 1, sent
    assert not errors, errors
