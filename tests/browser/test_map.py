"""The catalog's map without a tile server: our own simplified map of the three municipalities,
nothing asked of any other host, clusters named for screen readers, popups closed by Escape."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from .conftest import LiveServer, assert_accessible
from .test_journeys import log_in

pytestmark = pytest.mark.browser


def test_the_map_draws_our_own_background_and_asks_no_one_else(
    new_page: Callable[..., Page], live_server: LiveServer
) -> None:
    page = new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto("/login")
    log_in(page, "medarbetare@skurup.example")
    page.goto("/catalog/?view=map")
    region = page.get_by_role("region", name="Karta över var annonserna finns")
    expect(region).to_be_visible()
    # The borders of Skåne's municipalities, drawn as vector paths, and the founders' localities named.
    # Skåne's 33 borders, the 12 places we ship, and Abbekås, which only a site of the demo places.
    expect(region.locator(".leaflet-overlay-pane svg path")).to_have_count(46)
    expect(region.get_by_text("Anderslöv", exact=True)).to_be_visible()
    expect(region.get_by_text("Abbekås", exact=True)).to_be_visible()
    expect(region.get_by_text("Förenklad karta", exact=False)).to_be_visible()
    assert region.locator(".leaflet-tile").count() == 0
    # A place's name lies over the markers' shadows, which would blur it, and under the markers.
    layers = page.evaluate("""() => ['shadow', 'places', 'marker'].map(
        name => Number(getComputedStyle(document.querySelector('.leaflet-' + name + '-pane')).zIndex))""")
    assert layers[0] < layers[1] < layers[2], layers
    # Clusters are buttons named by what they hold, not by a bare number.
    page.get_by_role("button", name="Zooma ut").click()
    page.get_by_role("button", name="Zooma ut").click()
    expect(region.get_by_role("button", name=re.compile(r"^\d+ annonser i "))).not_to_have_count(0)
    assert_accessible(page)
    assert requested and all(url.startswith(live_server.url + "/") for url in requested), requested


def test_escape_closes_a_popup_and_gives_the_focus_back(new_page: Callable[..., Page], live_server: LiveServer) -> None:
    page = new_page()
    page.goto("/login")
    log_in(page, "medarbetare@trelleborg.example")
    page.goto("/catalog/?view=map")
    region = page.get_by_role("region", name="Karta över var annonserna finns")
    marker = region.locator(".leaflet-marker-icon:not(.marker-cluster)").first
    marker.focus()
    page.keyboard.press("Enter")
    popup = region.locator(".leaflet-popup")
    expect(popup).to_be_visible()
    expect(popup.get_by_role("link").first).to_be_focused()
    # Leaflet fades a popup in: axe reads the colours once it is fully shown, not half transparent.
    expect(popup).to_have_css("opacity", "1")
    assert_accessible(page)
    page.keyboard.press("Escape")
    expect(popup).to_have_count(0)
    expect(marker).to_be_focused()


def test_the_zoom_buttons_come_before_the_markers_by_keyboard(
    new_page: Callable[..., Page], live_server: LiveServer
) -> None:
    page = new_page()
    page.goto("/login")
    log_in(page, "medarbetare@ystad.example")
    page.goto("/catalog/?view=map")
    region = page.get_by_role("region", name="Karta över var annonserna finns")
    expect(region.locator(".leaflet-marker-icon").first).to_be_visible()
    region.focus()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Zooma in")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Zooma ut")).to_be_focused()
    # Every control (the source of the map too) before every marker.
    assert page.evaluate("""() => {
        const last = [...document.querySelectorAll('.leaflet-control a')].pop();
        const marker = document.querySelector('.leaflet-marker-icon');
        return Boolean(last.compareDocumentPosition(marker) & Node.DOCUMENT_POSITION_FOLLOWING);
    }""")


def test_a_locality_a_municipality_typed_is_named_as_text_never_read_as_markup(
    new_page: Callable[..., Page], live_server: LiveServer
) -> None:
    """The places beyond the map we ship are named as a municipality's administrator typed them:
    what they typed is shown as it stands, for every partner's users, never made part of the page."""
    assert live_server.app is not None
    from sqlmodel import Session, select

    from sharing.accounts.models import Municipality, Site

    typed = '<b class="injected">Sjöbo</b>'
    with Session(bind=live_server.app.extensions["sharing.engine"]) as session:
        ystad = session.exec(select(Municipality).where(Municipality.name == "Ystad")).one()
        session.add(Site(municipality_id=ystad.id, name="Förrådet", street_address="Storgatan 1", postal_code="275 30",
                         locality=typed, latitude=55.62, longitude=13.71))
        session.commit()
    page = new_page()
    page.goto("/login")
    log_in(page, "medarbetare@skurup.example")
    page.goto("/catalog/?view=map")
    region = page.get_by_role("region", name="Karta över var annonserna finns")
    expect(region.get_by_text("Abbekås", exact=True)).to_be_visible()  # the places beyond the map are drawn
    expect(region.locator(".injected")).to_have_count(0)
    expect(region.get_by_text(typed, exact=True)).to_be_visible()
