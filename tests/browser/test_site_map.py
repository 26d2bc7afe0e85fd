"""The site form's map picker: our own background (nothing asked of another host), a click or
Enter on the map fills the coordinates, and the place is saved as picked on the map."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from .conftest import LiveServer, assert_accessible
from .test_journeys import ADMIN, log_in

pytestmark = pytest.mark.browser
NUMBER = re.compile(r"^\d{2},\d{6}$")  # as the map writes it in Swedish


def open_new_site_form(page: Page) -> None:
    page.goto("/login")
    log_in(page, ADMIN[0])
    page.goto("/admin/")
    tabs = page.get_by_role("navigation", name=re.compile("^Administration av"))
    tabs.get_by_role("link", name="Fastigheter").click()
    page.get_by_role("link", name="Lägg till en fastighet").click()
    expect(page.get_by_role("heading", name="Lägg till en fastighet", level=1)).to_be_visible()


def test_clicking_the_map_fills_the_coordinates_and_saves_the_place_as_picked(
    new_page: Callable[..., Page], live_server: LiveServer
) -> None:
    page = new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    open_new_site_form(page)
    region = page.get_by_role("region", name="Karta för att välja var fastigheten ligger")
    expect(region).to_be_visible()
    expect(region.get_by_text("Ystad", exact=True)).to_be_visible()  # our own map, its places named
    assert region.locator(".leaflet-tile").count() == 0
    expect(page.get_by_text("Eller klicka på kartan", exact=False)).to_be_visible()
    assert_accessible(page)

    latitude, longitude = page.get_by_label("Latitud (WGS84)"), page.get_by_label("Longitud (WGS84)")
    expect(latitude).to_have_value("")
    region.click(position={"x": 200, "y": 120})
    expect(latitude).to_have_value(NUMBER)
    expect(longitude).to_have_value(NUMBER)
    expect(page.get_by_role("status").filter(has_text="Vald plats")).to_contain_text(latitude.input_value())
    expect(region.get_by_role("button", name="Fastighetens plats (dra för att flytta den)")).to_be_visible()
    assert_accessible(page)
    picked = (latitude.input_value(), longitude.input_value())

    page.get_by_label("Namn", exact=True).fill("Kartans förråd")
    page.get_by_label("Gatuadress").fill("Industrigatan 4")
    page.get_by_label("Postnummer").fill("271 39")
    page.get_by_label("Ort", exact=True).fill("Glemmingebro")  # a village the map we ship does not name
    page.get_by_role("button", name="Spara").click()
    expect(page.get_by_text("Fastigheten är sparad.")).to_be_visible()
    page.get_by_role("link", name="Kartans förråd").click()
    expect(page.get_by_text("Valt på kartan")).to_be_visible()
    expect(page.get_by_label("Latitud (WGS84)")).to_have_value(picked[0].rstrip("0"))
    expect(page.get_by_label("Longitud (WGS84)")).to_have_value(picked[1].rstrip("0"))
    # The map now names the village where its site stands, as it names the towns it ships.
    expect(page.get_by_role("region", name="Karta för att välja var fastigheten ligger")
           .get_by_text("Glemmingebro", exact=True)).to_be_visible()
    assert requested and all(url.startswith(live_server.url + "/") for url in requested), requested


def test_with_the_keyboard_enter_picks_the_maps_centre_and_typing_moves_the_marker(
    new_page: Callable[..., Page], live_server: LiveServer
) -> None:
    page = new_page(viewport={"width": 390, "height": 844})  # a phone
    open_new_site_form(page)
    region = page.get_by_role("region", name="Karta för att välja var fastigheten ligger")
    latitude = page.get_by_label("Latitud (WGS84)")
    region.focus()
    page.keyboard.press("Enter")
    expect(latitude).to_have_value(NUMBER)
    marker = region.get_by_role("button", name="Fastighetens plats (dra för att flytta den)")
    expect(marker).to_be_visible()
    before = marker.bounding_box()

    # Typed coordinates move the marker (and are saved as typed).
    latitude.fill("55,43")
    page.get_by_label("Longitud (WGS84)").fill("13,9")
    expect(marker).not_to_have_attribute("style", re.compile(r"^$"))
    assert marker.bounding_box() != before
    assert_accessible(page)
