"""A facility manager imports an inventory in a real Chromium: template, preview, progress, done.

The file is long enough that the import is still running when its page first shows, so the
page's script (no inline script: the Content-Security-Policy forbids it) must follow it to
the end by itself.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from .conftest import DEMO_PASSWORD, assert_accessible

pytestmark = pytest.mark.browser
MANAGER = "lokalforsorjning@ystad.example"
ROWS = 3000
# Big work gets time to match (ms): reading and checking 3,000 rows, then writing them, and the
# pages that list them, on a loaded 2-core machine and on PostgreSQL. Unloaded they take seconds.
CHECK_TIMEOUT = 120_000
IMPORT_TIMEOUT = 300_000


def test_a_facility_manager_imports_an_inventory(new_page: Callable[..., Page]) -> None:
    page = new_page(accept_downloads=True)
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto("/login")
    page.get_by_label("E-postadress").fill(MANAGER)
    page.get_by_label("Lösenord").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Våra annonser").click()
    page.get_by_role("link", name="Importera från fil").click()
    expect(page.get_by_role("heading", name="Importera annonser från fil", level=1)).to_be_visible()
    assert_accessible(page)

    with page.expect_download() as download:
        page.get_by_role("link", name="Mall som CSV (semikolonseparerad)").click()
    template = download.value.path().read_bytes().decode("utf-8-sig")
    header, example = list(csv.reader(io.StringIO(template), delimiter=";"))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(header)
    for n in range(1, ROWS + 1):
        writer.writerow([f"Kontorsstol nr {n}", *example[1:]])
    writer.writerow(["", *example[1:]])  # one row without a title: nothing may be imported
    page.get_by_label("Fil (.xlsx eller .csv)").set_input_files(
        files=[{"name": "inventarie.csv", "mimeType": "text/csv", "buffer": out.getvalue().encode("utf-8-sig")}])
    page.get_by_role("button", name="Kontrollera filen").click(timeout=CHECK_TIMEOUT)
    expect(page.get_by_role("alert")).to_contain_text("Ingenting importerades", timeout=CHECK_TIMEOUT)
    expect(page.get_by_role("cell", name="Fyll i den här kolumnen.")).to_be_visible()
    assert_accessible(page)

    out.seek(0)
    good = "".join(out.getvalue().splitlines(keepends=True)[:-1])
    page.get_by_label("Fil (.xlsx eller .csv)").set_input_files(
        files=[{"name": "inventarie.csv", "mimeType": "text/csv", "buffer": good.encode("utf-8-sig")}])
    page.get_by_role("button", name="Kontrollera filen").click(timeout=CHECK_TIMEOUT)
    expect(page.get_by_text(f"Alla {ROWS} rader är korrekta")).to_be_visible(timeout=CHECK_TIMEOUT)
    assert_accessible(page)

    page.get_by_label("Publicera annonserna direkt").check()
    page.get_by_role("button", name=f"Importera {ROWS} annonser").click(timeout=CHECK_TIMEOUT)
    progress = page.get_by_role("progressbar", name="Annonserna importeras …")
    expect(progress).to_be_visible()
    assert_accessible(page)
    # The script follows the import and reloads the page when it is done.
    expect(page.get_by_role("status")).to_contain_text(  # the number grouped as Swedish writes it: "3 000"
        re.compile(rf"Skapade annonser: {ROWS // 1000}\s{ROWS % 1000:03d}\."), timeout=IMPORT_TIMEOUT)
    expect(page.get_by_role("link", name="Kontorsstol nr 1", exact=True)).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Gå till våra annonser").click(timeout=CHECK_TIMEOUT)
    expect(page).to_have_url(re.compile(r"/catalog/mine$"), timeout=CHECK_TIMEOUT)
    expect(page.get_by_role("link", name=f"Kontorsstol nr {ROWS}", exact=True)).to_be_visible(timeout=CHECK_TIMEOUT)
    assert problems == [], problems  # a script refused by the Content-Security-Policy would show here
