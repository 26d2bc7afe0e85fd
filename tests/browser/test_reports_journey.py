"""Reuse statistics in a real Chromium with axe-core: a Trelleborg sustainability officer opens
the dashboard, filters to last year and to Trelleborg, drills down from a month's figure to its
entries and to the event behind one, and downloads the XLSX and the PDF. The ledger is the
reports fixture's (hand-computed totals), made through the loans' rules and written by the
ledger's receiver, in last year."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session
from werkzeug.serving import make_server

from sharing import create_app
from sharing.catalog.photos.rules import PhotoStore
from sharing.clock import today_in_sweden, utcnow
from sharing.mail import wait_for_background_mail
from tests import reports_fixture
from tests.factories import PASSWORD, Factory

from .conftest import STEP_TIMEOUT, assert_accessible
from .test_journeys import log_in

pytestmark = pytest.mark.browser
LAST_YEAR = today_in_sweden(utcnow()).year - 1


@pytest.fixture
def reports_server(browser: Browser, databases, smtp_server, tmp_path: Path) -> Iterator[tuple[str, dict]]:  # type: ignore[no-untyped-def]
    """The app on a fresh database holding the reports fixture of last year, served on 127.0.0.1."""
    app = create_app({
        "TESTING": True, "SHARING_DATABASE_URL": databases.fresh(), "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_server[0].port, "SHARING_BASE_URL": "http://delning.test",
        "SHARING_PHOTO_DIR": str(tmp_path / "photos"), "PAGE_CACHE_DIR": str(tmp_path / "page-cache"),
    })
    with Session(bind=app.extensions["sharing.engine"], expire_on_commit=False) as session:
        world = reports_fixture.build(Factory(session, photo_store=PhotoStore.from_config(app.config)), app,
                                      year=LAST_YEAR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    server.daemon_threads, server.block_on_close = False, True  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, name="reports-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", world
    finally:
        server.shutdown()
        thread.join(timeout=30)
        server.server_close()
        assert wait_for_background_mail(timeout=30)
        app.extensions["sharing.engine"].dispose()


@pytest.fixture
def officer_page(browser: Browser, reports_server) -> Iterator[Callable[[], Page]]:  # type: ignore[no-untyped-def]
    url, world = reports_server
    context = browser.new_context(base_url=url, locale="sv-SE", accept_downloads=True)
    context.set_default_timeout(STEP_TIMEOUT)
    page = context.new_page()
    page.goto("/login")
    log_in(page, world["officer"].email, PASSWORD)
    yield lambda: page
    context.close()


def test_an_officer_filters_to_last_year_drills_down_and_downloads_the_reports(officer_page) -> None:  # type: ignore[no-untyped-def]
    page: Page = officer_page()
    page.goto("/reports/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Återbruksstatistik")
    assert_accessible(page)

    page.get_by_role("link", name="Förra året").click()
    expect(page.get_by_label("Från", exact=True)).to_have_value(f"{LAST_YEAR}-01-01")
    expect(page.get_by_label("Till", exact=True)).to_have_value(f"{LAST_YEAR}-12-31")
    main = page.locator("main")
    expect(main).to_contain_text("686 kg")  # net CO2e of every municipality, kg (685,75, shown whole)
    page.get_by_label("Trelleborg", exact=True).check()
    page.get_by_role("button", name="Visa", exact=True).click()
    expect(main).to_contain_text("576 kg")  # what Trelleborg received (575,75)
    expect(main).to_contain_text("581 kg")  # gross (580,5: halves away from zero)
    assert_accessible(page)

    # March: the take-over of four office chairs from Ystad.
    page.get_by_role("row").filter(has_text=f"{LAST_YEAR}-03").get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Posterna bakom värdet")
    expect(main).to_contain_text("Övertagande")
    assert_accessible(page)
    page.get_by_role("link", name="Händelse").first.click()
    expect(page.get_by_role("heading", name="Händelsen bakom")).to_be_visible()
    expect(main).to_contain_text("EPD NEPD-467-327-EN")
    assert_accessible(page)

    page.get_by_role("link", name="Återbruksstatistik").first.click()
    page.get_by_role("link", name="Förra året").click()
    page.get_by_label("Trelleborg", exact=True).check()
    page.get_by_role("button", name="Visa", exact=True).click()
    expect(main).to_contain_text("576 kg")
    with page.expect_download() as download:
        page.get_by_role("link", name="Ladda ner XLSX").click()
    assert download.value.suggested_filename == f"aterbruk-trelleborg-{LAST_YEAR}-01-01-{LAST_YEAR}-12-31.xlsx"
    rows = list(load_workbook(io.BytesIO(download.value.path().read_bytes()))["Poster"].values)
    header, total = rows[0], rows[-1]
    assert total[0] == "Summa"
    assert total[header.index("Återbrukade exemplar")] == reports_fixture.EXPECTED_TRELLEBORG["pieces"]
    assert round(Decimal(str(total[header.index("CO2e netto (kg)")])) * 1000) == \
        reports_fixture.EXPECTED_TRELLEBORG["net_co2e_g"]
    with page.expect_download() as download:
        page.get_by_role("link", name="Ladda ner PDF").click()
    assert download.value.path().read_bytes().startswith(b"%PDF")
