"""Tables on a phone's 390 px: the administrators' user list and audit trail, the requests, the
wanted items, the transport jobs and one's own listings turn each row into a card of labelled
lines (nothing scrolls sideways, not even in a box of its own), and the requests' dates stay
whole, never broken at their hyphens ("2026-12-" above "06")."""

from __future__ import annotations

import os
import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from .conftest import assert_accessible
from .test_journeys import log_in

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
ISO_DATE = r"\d{4}-\d{2}-\d{2}"
# Where a test run keeps its screenshots for a person to look at (none unless asked for).
SCREENSHOTS = os.environ.get("SHARING_SCREENSHOT_DIR")


def screenshot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


def test_the_user_list_is_a_card_per_person_on_a_phone(new_page: Callable[..., Page]) -> None:
    page = new_page(**PHONE)
    page.goto("/login")
    log_in(page, "admin@ystad.example")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.goto("/admin/")  # an administrator's first page: their municipality's users
    users = page.get_by_role("table", name="Användare i Ystad")
    expect(users).to_contain_text("admin@ystad.example")
    screenshot(page, "users-390")

    width = page.evaluate("() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    assert width["inner"] == 390 and width["scroll"] <= 390, f"the user list scrolls sideways on a phone: {width}"
    # Nor in a box of its own: no part of the list is wider than the screen or than its box (the
    # header row, there for screen readers, is clipped to a pixel: as .visually-hidden is).
    too_wide = users.evaluate("""table => {
        const box = table.closest(".table-scroll") || table;
        const shown = [box, ...box.querySelectorAll("*")]
            .filter(element => !element.closest("thead, .visually-hidden"));
        const wide = shown.filter(element => {
            const rect = element.getBoundingClientRect();
            return rect.width > 0 && (rect.left < 0 || rect.right > window.innerWidth);
        });
        return {box: [box.scrollWidth, box.clientWidth], wide: wide.map(element => element.outerHTML.slice(0, 80))};
    }""")
    assert too_wide["wide"] == [] and too_wide["box"][0] <= too_wide["box"][1], too_wide
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
    page = new_page(**PHONE)
    page.goto("/login")
    log_in(page, "medarbetare@skurup.example")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
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
    page = new_page(**PHONE)
    page.goto("/login")
    log_in(page, user)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
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
