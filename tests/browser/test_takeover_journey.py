"""Taking over for good and swapping, in a real Chromium with axe-core: a Trelleborg unit takes
over 4 of Ystad's 24 chairs (the listing splits, and both sides get the transfer document),
and a Skurup facility manager swaps one of Skurup's listings for one of Trelleborg's."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import text

from sharing.clock import today_in_sweden, utcnow
from sharing.db import make_engine

from .conftest import LiveServer, assert_accessible
from .test_journeys import log_in

pytestmark = pytest.mark.browser
CHAIRS = "Konferensstolar, stapelbara"


def signed_in(new_page: Callable[..., Page], email: str) -> Page:
    page = new_page()
    page.goto("/login")
    log_in(page, email)
    return page


def test_a_unit_takes_over_some_chairs_and_both_sides_get_the_transfer_document(
        new_page: Callable[..., Page]) -> None:
    first = today_in_sweden(utcnow()) + timedelta(days=2)
    receiver = signed_in(new_page, "medarbetare@trelleborg.example")
    receiver.goto("/catalog/?q=konferensstolar")
    receiver.get_by_role("link", name=CHAIRS).first.click()
    receiver.get_by_label("Ta över för gott").check()
    receiver.get_by_label("Antal").fill("4")
    receiver.get_by_label("Från").fill(first.isoformat())
    receiver.get_by_label("Till vilken fastighet").select_option(index=1)
    receiver.get_by_role("button", name="Skicka förfrågan").click()
    expect(receiver).to_have_url(re.compile(r"/loans/\d+$"))
    expect(receiver.locator("main")).to_contain_text("För gott")
    assert_accessible(receiver)
    request_url = receiver.url

    giver = signed_in(new_page, "lokalforsorjning@ystad.example")
    giver.goto(request_url)
    giver.get_by_role("button", name="Godkänn").click()
    giver.get_by_label("Hämtas av den som frågade").check()
    giver.get_by_label("Jag bekräftar: exemplaren blir den mottagande sidans för gott").check()  # it cannot be undone
    giver.get_by_role("button", name="Exemplaren är överlämnade för gott").click()
    expect(giver.get_by_role("status")).to_contain_text("Överlämningen är noterad")
    assert_accessible(giver)
    with giver.expect_download() as download:
        giver.get_by_role("link", name="Överlåtelsehandling (PDF)").click()
    assert download.value.suggested_filename.endswith(".pdf")
    # What is left in Ystad: 20 chairs.
    giver.get_by_role("link", name=CHAIRS).click()
    expect(giver.locator("main")).to_contain_text("20 st.")
    assert_accessible(giver)

    receiver.goto(request_url)
    receiver.get_by_role("button", name="Bekräfta överlämningen").click()
    expect(receiver.locator("main")).to_contain_text("Avslutad")
    with receiver.expect_download() as download:
        receiver.get_by_role("link", name="Överlåtelsehandling (PDF)").click()
    assert download.value.path().read_bytes().startswith(b"%PDF")
    assert_accessible(receiver)


def test_a_swap_passes_both_listings(new_page: Callable[..., Page], live_server: LiveServer) -> None:
    url = live_server.database_url
    engine = make_engine(url)  # as the app connects: SQLite's search index calls the app's function
    with engine.begin() as connection:  # two demo listings, one of each, offered for swapping
        mine, theirs = [connection.execute(text(
            "SELECT l.id FROM listing l JOIN municipality m ON m.id = l.municipality_id WHERE m.name = :name "
            "AND l.kind = 'thing' AND l.status = 'published' AND l.visibility = 'partners' ORDER BY l.id LIMIT 1"),
            {"name": name}).scalar_one() for name in ("Skurup", "Trelleborg")]
        connection.execute(text("UPDATE listing SET swap = :yes, quantity = 2 WHERE id IN (:a, :b)"),
                           {"yes": True, "a": mine, "b": theirs})
    engine.dispose()
    first = today_in_sweden(utcnow()) + timedelta(days=2)
    asker = signed_in(new_page, "lokalforsorjning@skurup.example")
    asker.goto(f"/catalog/{theirs}")
    asker.get_by_role("link", name="Föreslå ett byte mot en av din kommuns annonser").click()
    expect(asker.get_by_label("Byta", exact=True)).to_be_checked()
    asker.get_by_label("Antal", exact=True).fill("1")
    asker.get_by_label("Från").fill(first.isoformat())
    asker.get_by_label("Till vilken fastighet").select_option(index=1)
    asker.get_by_label("Erbjuds i utbyte (byten)").select_option(str(mine))
    asker.get_by_label("Hur många av dem (byten)").fill("1")
    asker.get_by_role("button", name="Skicka förfrågan").click()
    expect(asker).to_have_url(re.compile(r"/loans/\d+$"))
    assert_accessible(asker)
    request_url = asker.url

    owner = signed_in(new_page, "lokalforsorjning@trelleborg.example")
    owner.goto(request_url)
    owner.get_by_role("button", name="Godkänn").click()
    owner.get_by_label("Jag bekräftar: exemplaren blir den mottagande sidans för gott").check()
    owner.get_by_role("button", name="Exemplaren är överlämnade för gott").click()
    expect(owner.get_by_role("link", name="Överlåtelsehandling (PDF)")).to_be_visible()
    asker.goto(request_url)
    asker.get_by_role("button", name="Bekräfta överlämningen").click()
    expect(asker.locator("main")).to_contain_text("Avslutad")
    engine = make_engine(url)
    with engine.connect() as connection:
        moved = connection.execute(text("SELECT from_listing_id, quantity FROM listing_transfer WHERE reference = :r"),
                                   {"r": f"loans.request:{request_url.rsplit('/', 1)[1]}"}).all()
    engine.dispose()
    assert sorted(moved) == sorted([(mine, 1), (theirs, 1)])
