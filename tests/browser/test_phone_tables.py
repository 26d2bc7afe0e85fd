"""Tables on a phone's 390 px: the administrators' user list and audit trail, the requests, the
wanted items, the transport jobs, one's own listings and the other lists of many columns turn
each row into a card of labelled lines (nothing scrolls sideways, not even in a box of its own),
the reports' tables of figures keep their main columns and fit, and the requests' dates stay
whole, never broken at their hyphens ("2026-12-" above "06")."""

from __future__ import annotations

import os
import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlmodel import Session, select

from sharing.accounts.models import User
from sharing.catalog.categories.models import Category
from sharing.catalog.categories.proposals import ProposedFigures, propose
from sharing.catalog.listings.models import Listing
from sharing.clock import today_in_sweden, utcnow
from sharing.loans.queue.models import QueueEntry

from .conftest import LiveServer, assert_accessible
from .test_journeys import log_in

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def on_a_phone(new_page: Callable[..., Page], email: str) -> Page:
    """A phone's page, signed in as this user."""
    page = new_page(**PHONE)
    page.goto("/login")
    log_in(page, email)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    return page
ISO_DATE = r"\d{4}-\d{2}-\d{2}"
# Where a test run keeps its screenshots for a person to look at (none unless asked for).
SCREENSHOTS = os.environ.get("SHARING_SCREENSHOT_DIR")


def screenshot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


# What of a table, and of the box it scrolls in, is wider than the box or lies beyond the screen
# (the header row, there for screen readers, is clipped to a pixel: as .visually-hidden is).
TOO_WIDE = """table => {
    const box = table.closest(".table-scroll") || table;
    const shown = [box, ...box.querySelectorAll("*")]
        .filter(element => !element.closest("thead, .visually-hidden"));
    const wide = shown.filter(element => {
        const rect = element.getBoundingClientRect();
        return rect.width > 0 && (rect.left < 0 || rect.right > window.innerWidth);
    });
    return {box: [box.scrollWidth, box.clientWidth], wide: wide.map(element => element.outerHTML.slice(0, 80))};
}"""


def assert_fits_a_phone(page: Page, table: Locator) -> None:
    """Neither the page nor the table's box scrolls sideways, nothing of the table beyond the screen."""
    # Measured once its style sheet applies: a table found in the page as it is parsed may be laid
    # out without it on a busy machine, wider than any phone.
    page.wait_for_load_state("load")
    width = page.evaluate("() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    assert width["inner"] == 390 and width["scroll"] <= 390, f"{page.url} scrolls sideways on a phone: {width}"
    too_wide = table.evaluate(TOO_WIDE)
    assert too_wide["wide"] == [] and too_wide["box"][0] <= too_wide["box"][1], (page.url, too_wide)


def assert_caption_across(table: Locator) -> None:
    """A caption shown above the cards spans them, not squeezed into a column a word wide."""
    widths = table.evaluate(
        "table => [table.caption.getBoundingClientRect().width, table.tBodies[0].getBoundingClientRect().width]")
    assert widths[0] >= widths[1] - 1, f"the caption is narrower than its cards: {widths}"


def assert_cards(table: Locator, first_label: str) -> None:
    """Each row a card: its first line says its column's name, shown and not said again."""
    first = table.locator("tbody tr").first.locator("td, th").first
    assert first.evaluate("cell => getComputedStyle(cell, '::before').content") == f'"{first_label}" / ""'


def test_the_user_list_is_a_card_per_person_on_a_phone(new_page: Callable[..., Page]) -> None:
    page = on_a_phone(new_page, "admin@ystad.example")
    page.goto("/admin/")  # an administrator's first page: their municipality's users
    users = page.get_by_role("table", name="Användare i Ystad")
    expect(users).to_contain_text("admin@ystad.example")
    screenshot(page, "users-390")

    # Nor in a box of its own: no part of the list is wider than the screen or than its box.
    assert_fits_a_phone(page, users)
    expect(page.get_by_role("region", name="Användare i Ystad")).to_have_count(0)  # nothing to scroll

    # Each value says what it is: the column's header stands beside it.
    first = users.locator("tbody tr").first
    labels = first.locator("td").evaluate_all(
        "cells => cells.map(cell => getComputedStyle(cell, '::before').content)")
    # Shown, not said (alternative text ""): the header is said already.
    assert labels == [f'"{label}" / ""' for label in ("Namn", "E-postadress", "Enhet", "Roller", "Status")], labels
    assert_accessible(page)

    # A wide screen keeps the table: its header row shown, its cells without labels of their own.
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(users.get_by_role("columnheader", name="E-postadress")).to_be_visible()
    assert first.locator("td").first.evaluate("cell => getComputedStyle(cell, '::before').content") == "none"


def test_the_requests_are_a_card_each_with_whole_dates_on_a_phone(new_page: Callable[..., Page]) -> None:
    page = on_a_phone(new_page, "medarbetare@skurup.example")
    page.goto("/loans/?state=all")
    requests = page.get_by_role("table", name="Förfrågningar")
    expect(requests).to_be_visible()
    screenshot(page, "requests-390")

    width = page.evaluate("() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    assert width["inner"] == 390 and width["scroll"] <= 390, f"the requests scroll sideways on a phone: {width}"
    # Every ISO date in the table, found in its text nodes, is laid out on one line.
    dates = requests.evaluate("""(table, pattern) => {
        const found = [];
        const walker = document.createTreeWalker(table.tBodies[0], NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (const match of node.data.matchAll(new RegExp(pattern, "g"))) {
                const range = document.createRange();
                range.setStart(node, match.index);
                range.setEnd(node, match.index + match[0].length);
                const lines = new Set([...range.getClientRects()].map(rect => Math.round(rect.top)));
                found.push({date: match[0], lines: lines.size});
            }
        }
        return found;
    }""", ISO_DATE)
    assert len(dates) >= 2, f"the demo's requests show no dates: {dates}"
    broken = [d for d in dates if d["lines"] != 1]
    assert not broken, f"dates broken across lines on a phone: {broken}"
    # Each request a card, nothing in a box to scroll sideways, each line under its column's name.
    box = requests.evaluate("table => [table.parentElement.scrollWidth, table.parentElement.clientWidth]")
    assert box[0] <= box[1], f"the requests scroll sideways in their box: {box}"
    first = requests.locator("tbody tr").first.locator("td").first
    assert first.evaluate("cell => getComputedStyle(cell, '::before').content") == '"Annons" / ""'
    assert_accessible(page)


@pytest.mark.parametrize(("user", "path", "table", "first_label"), [
    ("medarbetare@skurup.example", "/wants/", r"^\d+ efterlysningar$", "Vad"),
    ("samordnare@ystad.example", "/logistics/jobs/", r"^\d+ transportuppdrag från och med i dag$", "Dag"),
    ("admin@ystad.example", "Händelselogg", r"^\d+ händelser$", "När"),  # a tab of the administration
    ("lokalforsorjning@ystad.example", "/catalog/mine", r"^Vår kommuns annonser$", "Välj"),
])
def test_lists_of_many_columns_are_a_card_a_row_on_a_phone(
        new_page: Callable[..., Page], user: str, path: str, table: str, first_label: str) -> None:
    page = on_a_phone(new_page, user)
    if path.startswith("/"):
        page.goto(path)
    else:
        page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Administration").click()
        page.get_by_role("link", name=path).click()
    rows = page.get_by_role("table", name=re.compile(table))
    expect(rows).to_be_visible()
    box = rows.evaluate("table => [table.parentElement.scrollWidth, table.parentElement.clientWidth]")
    assert box[0] <= box[1], f"{path} scrolls sideways in its box: {box}"
    first = rows.locator("tbody tr").first.locator("td").first
    assert first.evaluate("cell => getComputedStyle(cell, '::before').content") == f'"{first_label}" / ""'
    # Still a table to a screen reader (WebKit drops it with the display), each cell named by its
    # content alone: its column's header is said already, the label beside it is only shown.
    assert first.get_attribute("role") == "cell" and rows.get_attribute("role") == "table"
    own = first.evaluate(  # what the cell holds, without the label shown before it
        "cell => (cell.querySelector('[aria-label]')?.getAttribute('aria-label') || cell.innerText).trim()")
    expect(first).to_have_accessible_name(own)
    # A filter's checkbox has its label beside it, however long (wrapping there), not below it.
    below = page.evaluate("""() => [...document.querySelectorAll('.field-check')].filter(field => {
        const box = field.querySelector('input').getBoundingClientRect();
        const label = field.querySelector('label').getBoundingClientRect();
        return label.left < box.right || label.top >= box.bottom;
    }).map(field => field.textContent.trim())""")
    assert not below, f"labels below their checkbox: {below}"
    assert_accessible(page)


@pytest.mark.parametrize(("user", "steps", "table", "first_label"), [
    ("systemadmin@ystad.example", ["/catalog/categories"], r"^Kategorier under Möbler ", "Kategori"),
    ("systemadmin@ystad.example", ["/catalog/categories", "Kontorsstol"], r"^Versioner av värdena för ", "Version"),
    ("systemadmin@ystad.example", ["/admin/municipalities"], r"^Anslutna kommuner$", "Namn"),
    ("admin@ystad.example", ["Fastigheter"], r"^Fastigheter i Ystad$", "Namn"),  # tabs of the administration
    ("admin@ystad.example", ["Enheter"], r"^Enheter i Ystad$", "Namn"),
    ("samordnare@ystad.example", ["/logistics/vehicles/"], r"^Fordon$", "Fordon"),
    ("hallbarhet@ystad.example", ["/reports/entries"], r"^Liggarens poster", "Post"),
    ("medarbetare@skurup.example", ["/account"], r"^Dina sessioner$", "Webbläsare"),
])
def test_the_other_lists_are_a_card_a_row_on_a_phone(
        new_page: Callable[..., Page], user: str, steps: list[str], table: str, first_label: str) -> None:
    page = on_a_phone(new_page, user)
    for step in steps:
        if step.startswith("/"):
            page.goto(step)
        elif step in ("Fastigheter", "Enheter"):
            page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Administration").click()
            page.get_by_role("link", name=step, exact=True).click()
        else:
            page.get_by_role("link", name=step, exact=True).first.click()
    rows = page.get_by_role("table", name=re.compile(table)).first
    expect(rows).to_be_visible()
    assert_fits_a_phone(page, rows)
    assert_cards(rows, first_label)
    assert_accessible(page)


def test_the_reports_figures_fit_a_phone(new_page: Callable[..., Page]) -> None:
    """A card per row would part the figures one compares down a column: the tables of figures
    keep their main columns on a phone, say where the others are, and fit."""
    page = on_a_phone(new_page, "hallbarhet@ystad.example")
    page.goto("/reports/")
    for name in ("Värden per månad", "Värden per kategori", "Flöden mellan kommunerna"):
        figures = page.get_by_role("table", name=name)
        expect(figures.get_by_role("columnheader", name="Återbrukade exemplar")).to_be_visible()
        assert_fits_a_phone(page, figures)
    expect(page.get_by_text("På en mobil visar tabellerna de viktigaste värdena")).to_be_visible()
    assert_accessible(page)
    page.set_viewport_size({"width": 1280, "height": 800})  # a wide screen shows every figure
    months = page.get_by_role("table", name="Värden per månad")
    expect(months.get_by_role("columnheader", name="CO2e brutto (kg)")).to_be_visible()
    expect(page.get_by_text("På en mobil visar tabellerna de viktigaste värdena")).to_be_hidden()


def test_an_import_and_the_rules_are_a_card_a_row_on_a_phone(new_page: Callable[..., Page]) -> None:
    """A facility manager on a phone: the errors of a file, what a file would list, the recent
    imports and the rules approving requests at once, each a card per row."""
    page = on_a_phone(new_page, "lokalforsorjning@ystad.example")
    page.goto("/catalog/import")
    header = "Rubrik;Kategori;Skick;Antal;Plats;Utlåning"
    title = "Konferensbord i ek med plats för tolv personer och kabelgenomföring"
    row = f"{title};Möbler > Sittmöbler > Kontorsstol;Bra, bruksspår;2;Hedeskoga förskola;ja"
    name = "inventarie-lansstyrelsens-kontor-vaning-tre-konferensrum-och-matsal.csv"
    untitled = row.removeprefix(title)  # a row without a title: its errors, nothing imported
    for text in (f"{header}\n{row}\n{untitled}\n", f"{header}\n{row}\n"):
        page.get_by_label("Fil (.xlsx eller .csv)").set_input_files(
            files=[{"name": name, "mimeType": "text/csv", "buffer": text.encode("utf-8-sig")}])
        page.get_by_role("button", name="Kontrollera filen").click()
        if untitled in text.splitlines():
            errors = page.get_by_role("table", name="Fel i filen")
            expect(errors).to_be_visible()
            assert_fits_a_phone(page, errors)
            assert_cards(errors, "Rad")
            assert_caption_across(errors)
            assert_accessible(page)
    listed = page.get_by_role("table", name="Det här läggs upp")
    expect(listed).to_contain_text(title)
    assert_fits_a_phone(page, listed)
    assert_cards(listed, "Rad")
    assert_caption_across(listed)
    assert_accessible(page)
    page.goto("/catalog/import")
    recent = page.get_by_role("table", name="Senaste importer")
    expect(recent).to_contain_text(name)
    assert_fits_a_phone(page, recent)
    assert_cards(recent, "Fil")

    page.goto("/loans/auto-approval/")
    page.get_by_role("button", name="Lägg till regeln").click()
    rules = page.get_by_role("table", name="Regler")
    expect(rules).to_be_visible()
    assert_fits_a_phone(page, rules)
    assert_cards(rules, "Förfrågningar om att")
    assert_accessible(page)


def test_queue_places_and_proposals_are_a_card_a_row_on_a_phone(
        new_page: Callable[..., Page], live_server: LiveServer) -> None:
    """An employee's queue places and a sustainability officer's proposal (made here, as the
    demo has neither), on a phone; the officer's proposal compares its figures in cards too."""
    assert live_server.app is not None
    now = utcnow()
    with Session(bind=live_server.app.extensions["sharing.engine"], expire_on_commit=False) as session:
        employee = session.exec(select(User).where(User.email == "medarbetare@skurup.example")).one()
        officer = session.exec(select(User).where(User.email == "hallbarhet@ystad.example")).one()
        listing = session.exec(select(Listing).where(Listing.lend).order_by(Listing.id)).first()
        chair = session.exec(select(Category).where(Category.name == "Kontorsstol")).one()
        assert employee.id and listing and listing.id
        session.add(QueueEntry(listing_id=listing.id, user_id=employee.id, unit_id=employee.unit_id,
                               municipality_id=employee.municipality_id, quantity=1,
                               first_day=today_in_sweden(now), last_day=None))
        propose(session, category=chair, figures=ProposedFigures(co2e_new_kg=85.0),
                citation="Kinnarps, EPD S-P-01234 (2024)", url="https://www.environdec.com/library/epd1234",
                reason="Tillverkarens nya EPD ger lägre utsläpp.", by=officer, now=now)
        session.commit()

    page = on_a_phone(new_page, "medarbetare@skurup.example")
    page.goto("/loans/queue/")
    places = page.get_by_role("table", name="Dina köplatser")
    expect(places).to_contain_text(listing.title)
    assert_fits_a_phone(page, places)
    assert_cards(places, "Annons")
    assert_accessible(page)

    officer_page = on_a_phone(new_page, "hallbarhet@ystad.example")
    officer_page.goto("/catalog/categories/proposals")
    mine = officer_page.get_by_role("table", name="Dina förslag, det senaste först")
    expect(mine).to_be_visible()
    assert_fits_a_phone(officer_page, mine)
    assert_cards(mine, "Förslag")
    assert_accessible(officer_page)
    mine.get_by_role("link").first.click()
    figures = officer_page.get_by_role("table", name="De föreslagna värdena bredvid dem som används nu")
    expect(figures).to_be_visible()
    assert_fits_a_phone(officer_page, figures)
    assert_cards(figures, "Värde")
    assert_accessible(officer_page)
