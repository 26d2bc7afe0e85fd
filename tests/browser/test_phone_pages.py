"""Pages a role opens from the menu, on a phone's 390 px: nothing scrolls the whole page sideways,
and axe-core finds nothing serious (a table wider than the screen scrolls in a focusable box).
The administrators' user list, a card per person there, is in test_phone_tables."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from .conftest import assert_accessible
from .test_journeys import log_in

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def page_width(page: Page) -> dict[str, int]:
    return page.evaluate("() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")


def test_requests_and_account_fit_a_phone(new_page: Callable[..., Page]) -> None:
    page = new_page(**PHONE)
    page.goto("/login")
    log_in(page, "medarbetare@skurup.example")
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    page.goto("/loans/?state=all")
    expect(page.get_by_role("table", name="Förfrågningar")).to_be_visible()
    width = page_width(page)
    assert width["inner"] == 390 and width["scroll"] <= 390, f"the requests scroll sideways on a phone: {width}"
    assert_accessible(page)

    page.goto("/account")
    # Named as people know it (Chromium says it is Chrome), and as short: the table fits the phone.
    sessions = page.get_by_role("table", name="Dina sessioner")
    expect(sessions.get_by_role("cell").first).to_contain_text("Chrome")
    expect(sessions).not_to_contain_text("Mozilla")
    width = page_width(page)
    assert width["scroll"] <= 390, f"the account page scrolls sideways on a phone: {width}"
    assert_accessible(page)


def test_a_checkbox_help_goes_below_its_label(new_page: Callable[..., Page]) -> None:
    page = new_page(**PHONE)
    page.goto("/login")
    log_in(page, "medarbetare@skurup.example")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.goto("/catalog/?q=konferensstolar")
    page.get_by_role("link", name="Konferensstolar, stapelbara").click()
    label = page.locator("label[for=transport_needed]").bounding_box()
    help_text = page.locator("#transport_needed-help").bounding_box()
    assert label and help_text
    assert help_text["y"] >= label["y"] + label["height"] - 1, (label, help_text)


def test_a_heading_of_a_long_swedish_compound_wraps_on_a_phone(new_page: Callable[..., Page]) -> None:
    """A name the service is given ("Barn- och utbildningsförvaltningen") heads its page: at a
    phone's width its longest word breaks rather than push the page sideways."""
    page = new_page(**PHONE)
    page.goto("/login")
    log_in(page, "admin@ystad.example")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.goto("/admin/")
    page.get_by_role("link", name="Enheter").first.click()
    page.get_by_role("link", name="Barn- och utbildningsförvaltningen").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Barn- och utbildningsförvaltningen")
    width = page_width(page)
    assert width["scroll"] <= 390, f"a unit's page scrolls sideways on a phone: {width}"
