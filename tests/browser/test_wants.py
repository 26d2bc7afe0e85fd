"""Wanted items in a real Chromium, with axe-core on every page visited: an employee posts
what the unit needs, a partner municipality's facility manager finds it."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from .conftest import assert_accessible
from .test_journeys import log_in

pytestmark = pytest.mark.browser


def test_an_employee_posts_a_want_and_another_municipality_finds_it(new_page: Callable[..., Page]) -> None:
    page = new_page()
    page.goto("/login")
    log_in(page, "medarbetare@ystad.example")
    menu = page.get_by_role("navigation", name="Huvudmeny")
    menu.get_by_role("link", name="Efterlysningar").click()
    expect(page.get_by_role("heading", name="Efterlysningar", level=1)).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Efterlys något").click()
    page.get_by_role("button", name="Lägg upp efterlysningen").click()
    expect(page.get_by_role("alert")).to_contain_text("Skriv vad du behöver")
    expect(page.get_by_role("alert")).to_be_focused()  # the user is taken to what to correct
    # Each required field's asterisk stands on its label's line, not on a line of its own.
    offsets = page.evaluate("""[...document.querySelectorAll('.field > label + .required')].map(star =>
        Math.abs(star.getBoundingClientRect().top - star.previousElementSibling.getBoundingClientRect().top))""")
    assert offsets and max(offsets) < 8, offsets
    assert_accessible(page)
    page.get_by_label("Vad behöver du?").fill("Whiteboardtavla på hjul")
    page.get_by_label("Antal").fill("2")
    page.get_by_role("button", name="Lägg upp efterlysningen").click()
    expect(page).to_have_url(re.compile(r"/wants/\d+$"))
    expect(page.get_by_role("heading", name="Whiteboardtavla på hjul", level=1)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Efterlysningen är upplagd.")
    assert_accessible(page)

    menu.get_by_role("link", name="Notiser").click()
    expect(page.get_by_role("heading", name="Notiser", level=1)).to_be_visible()
    assert_accessible(page)

    manager = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    manager.goto("/login")
    log_in(manager, "lokalforsorjning@skurup.example")
    manager.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Efterlysningar").click()
    row = manager.get_by_role("row", name=re.compile("Whiteboardtavla på hjul"))
    expect(row).to_contain_text("Östra skolan, Ystad")
    assert_accessible(manager)
    width = manager.evaluate("() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    assert width["scroll"] <= width["inner"], f"the list scrolls sideways on a phone (its table may): {width}"
    row.get_by_role("link", name="Whiteboardtavla på hjul").click()
    expect(manager.get_by_role("link", name="Sök efter det bland annonserna")).to_be_visible()
    expect(manager.get_by_role("button", name=re.compile("stäng den"))).to_have_count(0)
    assert_accessible(manager)
