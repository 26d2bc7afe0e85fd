"""The reports say what they count and of what: pieces reused (a purchase avoided) apart from
pieces shared on short loans, as the methodology says, on the page, in the tables and in every
export; why a row can show transport without pieces.

New messages are asserted in English (the officer reads English) until they are translated."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook

from tests import reports_fixture
from tests.reports_fixture import EXPECTED
from tests.test_reports_dashboard import YEAR, csv_rows, pdf_text, text


@pytest.fixture
def world(app, factory):
    return reports_fixture.build(factory, app)


@pytest.fixture
def english(db, world, auth):
    world["officer"].locale = "en"  # their own choice, kept with them
    db.commit()
    auth.login(world["officer"])
    return world


def cells(page: str, row_heading: str) -> list[str]:
    """The data cells of the table row headed by ``row_heading`` (a link)."""
    row = re.search(rf">{re.escape(row_heading)}</a></th>(.*?)</tr>", page, re.DOTALL)
    assert row, row_heading
    return re.findall(r"<td>(?:<a [^>]*>)?([^<]*)", row.group(1))


def test_pieces_shared_on_short_loans_are_counted_apart_on_the_page(client, english):
    page = text(client.get(f"/reports/?{YEAR}"))
    # 4 taken over, 2 + 3 swapped, 5 on the 120-day loan; the 10-day loan's 2 chairs apart
    assert 'class="figure">14</span> pieces reused' in page
    assert 'class="figure">2</span> pieces shared on short loans' in page
    assert cells(page, "Office chair")[:2] == ["9", "2"]  # 4 + 5 reused, the short loan's 2 shared
    assert cells(page, "2025-06")[:2] == ["0", "2"]  # the short loan's month: nothing reused
    entries = text(client.get(f"/reports/entries?{YEAR}"))
    assert "14 pieces reused" in entries and "2 pieces shared on short loans, with nothing avoided." in entries


def test_every_export_counts_the_shared_pieces_apart_and_leaves_a_transport_neither(client, english):
    rows = csv_rows(client.get(f"/reports/export.csv?{YEAR}"), delimiter=",")
    header, entries, total = rows[0], rows[1:-2], rows[-2]
    column = header.index
    assert total[0] == "Total"
    assert int(total[column("Pieces reused")]) == EXPECTED["pieces"] == 14
    assert int(total[column("Pieces shared on short loans")]) == EXPECTED["shared_pieces"] == 2
    short = next(r for r in entries if r[column("Counts as a purchase avoided")] == "no")
    assert (short[column("Pieces reused")], short[column("Pieces shared on short loans")]) == ("0", "2")
    transports = [r for r in entries if r[column("Kind")] == "Transport"]
    assert transports and all(r[column("Counts as a purchase avoided")] == "" for r in transports)

    book = load_workbook(io.BytesIO(client.get(f"/reports/export.xlsx?{YEAR}").get_data()))
    summary = {row[0]: row[1] for row in book["Summary"].values if row and row[0]}
    assert summary["Pieces reused"] == 14 and summary["Pieces shared on short loans"] == 2
    sheet = list(book["Entries"].values)
    assert sheet[-1][sheet[0].index("Pieces shared on short loans")] == 2

    shown = pdf_text(client.get(f"/reports/export.pdf?{YEAR}").get_data())
    assert "Pieces reused 14 Pieces shared on short loans 2 " in shown


def test_a_row_of_transport_without_pieces_says_why(client, english):
    # From the day after the long loan closed: only the route, driven on 2 September.
    page = text(client.get("/reports/?from=2025-09-02&to=2025-12-31"))
    assert cells(page, "2025-09")[:2] == ["0", "0"]
    assert "A row can show transport CO2e without pieces reused" in page
    assert 'href="/reports/methodology#transport"' in page
    pdf = pdf_text(client.get("/reports/export.pdf?from=2025-09-02&to=2025-12-31").get_data())
    assert "A row can show transport CO2e without pieces reused" in pdf
    whole_year = text(client.get(f"/reports/?{YEAR}"))  # every row with transport has its pieces
    assert "A row can show transport CO2e without pieces reused" not in whole_year
    methodology = text(client.get("/reports/methodology"))
    assert "A transport entry is counted on the day the route was driven" in methodology
    assert "shorter than 90 days stays with the pieces shared" in methodology
