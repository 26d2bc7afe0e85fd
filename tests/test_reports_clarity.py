"""The reports say what they count and of what: pieces reused (a purchase avoided) apart from
pieces shared on short loans, as the methodology says, on the page, in the tables and in every
export; why a row can show transport without pieces.

New messages are asserted in English (the officer reads English) until they are translated."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook

from sharing.reports.labels import whole
from tests import reports_fixture
from tests.pdf import pdf_text
from tests.reports_fixture import EXPECTED
from tests.test_reports_dashboard import YEAR, csv_rows, text


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
    return re.findall(r"<td[^>]*>(?:<a [^>]*>)?([^<]*)", row.group(1))


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
    header, entries, total = rows[0], rows[1:-3], rows[-3]
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


def test_every_export_names_its_selection_in_its_title_and_file_name(client, english):
    skurup, ystad, chair = english["skurup"].id, english["ystad"].id, english["chair"].id
    response = client.get(f"/reports/export.pdf?{YEAR}&municipality={skurup}")
    assert 'filename="reuse-report-skurup-2025-01-01-2025-12-31.pdf"' in response.headers["Content-Disposition"]
    shown = pdf_text(response.get_data())
    assert shown.startswith("Reuse report: Skurup Period: 2025-01-01 – 2025-12-31 Receiving municipalities: Skurup ")

    both = f"{YEAR}&municipality={skurup}&municipality={ystad}&category={chair}"
    response = client.get(f"/reports/export.csv?{both}")
    assert "reuse-report-ystad-skurup-office-chair-2025-01-01-2025-12-31.csv" in \
        response.headers["Content-Disposition"]
    last = csv_rows(response, delimiter=",")[-1]
    assert last == ["Reuse report: Ystad and Skurup; Office chair", "2025-01-01 – 2025-12-31",
                    "Receiving municipalities: Ystad and Skurup", "Categories: Office chair"]
    response = client.get(f"/reports/export.xlsx?{both}")
    assert "reuse-report-ystad-skurup-office-chair-2025-01-01-2025-12-31.xlsx" in \
        response.headers["Content-Disposition"]
    summary = list(load_workbook(io.BytesIO(response.get_data()))["Summary"].values)
    assert summary[0][0] == "Reuse report: Ystad and Skurup; Office chair"
    assert ("Receiving municipalities", "Ystad and Skurup") in [tuple(row[:2]) for row in summary]

    everything = client.get(f"/reports/export.csv?{YEAR}")  # no selection: every municipality, said so
    assert "reuse-report-2025-01-01-2025-12-31.csv" in everything.headers["Content-Disposition"]
    assert csv_rows(everything, delimiter=",")[-1][2] == "Receiving municipalities: All municipalities"


def test_a_swedish_file_name_names_the_selection_too(client, auth, world):
    auth.login(world["officer"])
    response = client.get(f"/reports/export.pdf?{YEAR}&municipality={world['skurup'].id}")
    assert 'filename="aterbruk-skurup-2025-01-01-2025-12-31.pdf"' in response.headers["Content-Disposition"]
    shown = pdf_text(response.get_data())
    assert "Återbruksrapport: Skurup Period: 2025-01-01" in shown  # the title names Skurup
    assert "Mottagande kommuner: Skurup" in shown


def test_the_page_says_whose_reuse_it_shows_and_its_period_links_keep_the_selection(client, english):
    skurup, chair = english["skurup"].id, english["chair"].id
    page = text(client.get(f"/reports/?{YEAR}&municipality={skurup}&category={chair}"))
    assert "Estimated avoided emissions, purchases and waste of what Skurup reused, 2025-01-01 to 2025-12-31." in page
    assert "Categories: Office chair." in page and "what the municipalities reused" not in page
    last_year = re.search(r'<a href="([^"]*)">Last year</a>', page).group(1)
    assert f"municipality={skurup}" in last_year and f"category={chair}" in last_year
    assert re.search(r"from=\d{4}-01-01&amp;to=\d{4}-12-31", last_year)
    everyone = text(client.get(f"/reports/?{YEAR}"))
    assert "of what the municipalities reused" in everyone


@pytest.mark.parametrize(("amount", "scale", "shown"), [
    (690_500, 1000, 691), (4_750, 1000, 5), (1_500, 1000, 2), (-2_840, 1000, -3), (-2_500, 1000, -3),
    (-400, 1000, 0), (0, 1000, 0), (7_200_049, 100, 72_000), (7_200_050, 100, 72_001)])
def test_a_report_rounds_halves_away_from_zero_and_never_shows_minus_zero(amount, scale, shown):
    value = whole(amount, scale)
    assert value == shown and str(value) != "-0"


def test_one_term_for_purchases_avoided_and_whole_figures_where_people_read_them(client, english):
    page = text(client.get(f"/reports/?{YEAR}"))
    assert 'class="figure">72,000\u00a0SEK</span> purchases avoided' in page and "new purchases" not in page
    assert "rounded to whole numbers on the page and in the PDF report" in page
    entries = text(client.get(f"/reports/entries?{YEAR}"))
    assert ("14 pieces reused, 686 kg CO2e avoided net (691 kg gross, 5 kg transport), 72,000\u00a0SEK in "
            "purchases avoided.") in entries
    methodology = text(client.get("/reports/methodology"))
    assert "Purchases avoided are the category's price of a new piece" in methodology
    assert "new purchase" not in methodology.lower()
    shown = pdf_text(client.get(f"/reports/export.pdf?{YEAR}").get_data())
    assert "Gross CO2e (kg) 691 Transport CO2e (kg) 5 Net CO2e (kg) 686 " in shown
    assert "rounded to whole numbers" in shown and "new purchase" not in shown.lower()
    # The exports keep the ledger's exact figures: 690.5 kg, not 691
    rows = csv_rows(client.get(f"/reports/export.csv?{YEAR}"), delimiter=",")
    assert rows[-3][rows[0].index("Gross CO2e (kg)")] == "690.5"


def test_a_reader_of_english_gets_every_export_in_english_with_english_conventions(client, db, english):
    """The officer chose English once (kept with them, not only in a session's cookie)."""
    response = client.get(f"/reports/export.pdf?{YEAR}")
    assert "reuse-report-2025-01-01-2025-12-31.pdf" in response.headers["Content-Disposition"]
    shown = pdf_text(response.get_data())
    for swedish in ("Återbruksrapport", "Nyckeltal", "Värde", "exemplar", "Undvikna", "Mottagande", "kr "):
        assert swedish not in shown, swedish
    assert "Measure Value" in shown and "Purchases avoided (SEK) 72,000 " in shown and b"/Lang (en)" in \
        response.get_data()

    rows = csv_rows(client.get(f"/reports/export.csv?{YEAR}"), delimiter=",")  # commas, a decimal point
    header, entries = rows[0], rows[1:-3]
    assert header[:4] == ["Entry", "Event", "Day", "Kind"]
    assert "130.5" in [r[header.index("Gross CO2e (kg)")] for r in entries]
    # The ledger's own words of a figure estimated by weight read in English; the catalog's stay as written
    shelves = [r[header.index("Source")] for r in entries if r[header.index("Category")] == "Shelf"]
    assert shelves and all(s == "Estimate by weight: 1.45 kg CO2e saved per kg reused (WRAP, Benefits of Reuse - "
                           "domestic furniture). Egen uppskattning" for s in shelves)

    book = load_workbook(io.BytesIO(client.get(f"/reports/export.xlsx?{YEAR}").get_data()))
    assert book.sheetnames == ["Entries", "Summary", "Methodology", "Factors"]
    texts = " ".join(str(cell) for sheet in book for row in sheet.values for cell in row if isinstance(cell, str))
    for swedish in ("Uppskattning utifrån", "Summa", "Återbruksrapport", "Undvikna", "Mottagande"):
        assert swedish not in texts, swedish

    methodology = text(client.get("/reports/methodology"))
    assert "(WRAP, Benefits of Reuse - domestic furniture)" in methodology and "Uppskattning" not in methodology
