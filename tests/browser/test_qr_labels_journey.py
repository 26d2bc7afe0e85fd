"""A facility manager prints QR labels for listings, in a real Chromium with axe-core."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import assert_accessible
from .test_journeys import log_in

pytestmark = pytest.mark.browser


def test_facility_manager_prints_labels_for_chosen_listings(page: Page) -> None:
    page.goto("/login")
    log_in(page, "lokalforsorjning@ystad.example")
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Våra annonser").click()
    expect(page.get_by_role("heading", name="Våra annonser", level=1)).to_be_visible()
    assert_accessible(page)

    # Nothing ticked: sent back with a message.
    page.get_by_role("button", name="Skriv ut QR-etiketter för de valda").click()
    expect(page.get_by_role("status")).to_contain_text("Välj minst en annons att skriva ut etiketter för.")

    boxes = page.get_by_role("checkbox", name=re.compile("^Välj "))
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.get_by_role("button", name="Skriv ut QR-etiketter för de valda").click()
    expect(page.get_by_role("heading", name="Skriv ut QR-etiketter", level=1)).to_be_visible()
    expect(page.get_by_role("table", name="Valda annonser").get_by_role("row")).to_have_count(3)
    assert_accessible(page)

    page.get_by_label("En för varje exemplar (lika många som antalet)").check()
    page.get_by_label("Börja på etikett").fill("30")
    page.get_by_role("button", name="Skapa PDF:en").click()
    expect(page.get_by_role("alert")).to_contain_text("Börja på etikett")
    assert_accessible(page)

    # A radio group's error: the summary's link leads to the group, which says it to each choice.
    page.goto(page.url.replace("copies=piece", "copies=all"))
    page.get_by_role("alert").get_by_role("link", name=re.compile("^Hur många etiketter")).click()
    assert page.url.endswith("#copies")
    group = page.get_by_role("group", name="Hur många etiketter")
    expect(group).to_contain_text("Inte ett giltigt val")
    expect(group.get_by_role("radio").first).to_have_accessible_description(re.compile("Inte ett giltigt val"))
    assert_accessible(page)
    page.get_by_label("En för varje exemplar (lika många som antalet)").check()

    page.get_by_label("Börja på etikett").fill("5")
    with page.expect_response(re.compile(r"/catalog/labels\.pdf\?")) as answer:
        page.get_by_role("button", name="Skapa PDF:en").click()
    response = answer.value
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    # Chromium shows the PDF in its viewer; the file itself is fetched again to read it.
    assert page.request.get(response.url).body().startswith(b"%PDF-")
