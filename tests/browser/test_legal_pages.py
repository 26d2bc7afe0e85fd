"""The accessibility statement and the privacy notice, reached from the footer without signing
in, on a phone: axe-core finds nothing serious, and nothing is wider than the screen."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from .conftest import LiveServer, assert_accessible

pytestmark = pytest.mark.browser


def test_the_legal_pages_are_public_and_accessible(new_page: Callable[..., Page], live_server: LiveServer) -> None:
    page = new_page(viewport={"width": 390, "height": 800}, is_mobile=True, has_touch=True)
    page.goto("/")
    footer = page.get_by_role("contentinfo")
    footer.get_by_role("link", name="Tillgänglighetsredogörelse").click()
    expect(page.get_by_role("heading", name="Tillgänglighetsredogörelse", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="delning@ystad.example")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(page)
    footer.get_by_role("link", name="Personuppgifter").click()
    expect(page.get_by_role("heading", name="Så hanterar vi dina personuppgifter", level=1)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(page)
