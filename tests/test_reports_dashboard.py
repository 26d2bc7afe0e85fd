"""The dashboard and every export show exactly the hand-computed totals of the fixture; figures
link down to their entries and events; the selection travels in the URL; exports are safe."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from sharing.clock import utcnow
from sharing.reports.ledger import rules as ledger
from sharing.reports.ledger.models import ReuseEntry
from tests import reports_fixture
from tests.conftest import csrf_token
from tests.pdf import pdf_text
from tests.reports_fixture import EXPECTED, EXPECTED_TRELLEBORG

YEAR = "from=2025-01-01&to=2025-12-31"


@pytest.fixture
def world(app, factory):
    return reports_fixture.build(factory, app)


def text(response):
    """The page with its runs of ASCII white space as one space (non-breaking spaces kept)."""
    return re.sub(r"[ \t\r\n]+", " ", response.get_data(as_text=True))


def test_the_dashboard_shows_the_hand_computed_totals_and_links_down(client, auth, db, world):
    auth.login(world["officer"])
    page = text(client.get(f"/reports/?{YEAR}"))
    assert 'class="figure">14</span> återbrukade exemplar' in page  # the short loan's 2 chairs apart
    # Whole kilograms and kronor, halves up (690,5 → 691), alike in the cards, tables and charts
    for shown in ("315", "72\u00a0000\u00a0kr", "691", "5", "686"):
        assert f'class="figure">{shown}</span>' in page, shown
    kilograms = re.findall(r'class="figure">([^<]+)</span> kg', page)
    assert kilograms and all(re.fullmatch(r"[\d\u00a0]+", figure) for figure in kilograms), kilograms
    assert ",00" not in page and ",50" not in page and ",75" not in page
    assert "<svg" in page and "<title id=\"chart-months-title\">" in page and "<desc" in page
    links = re.findall(r'href="(/reports/entries\?[^"]*)"', page)
    assert any("month=202503" in link and "from=2025-01-01" in link for link in links)
    # Trelleborg alone: the selection is in the URL.
    mine = text(client.get(f"/reports/?{YEAR}&municipality={world['trelleborg'].id}"))
    assert 'class="figure">576</span>' in mine and 'class="figure">581</span>' in mine
    assert f'value="{world["trelleborg"].id}" checked' in mine
    # The figure of March: the take-over and its transport, each entry with its event.
    entries = text(client.get(f"/reports/entries?{YEAR}&month=202503"))
    assert "Övertagande" in entries and "Händelse" in entries
    entry = db.scalars(select(ReuseEntry).where(ReuseEntry.kind == "take_over")).one()
    assert f'href="/reports/entries/{entry.id}"' in entries
    detail = text(client.get(f"/reports/entries/{entry.id}"))
    assert f"{entry.event_id}:" in detail and "EPD NEPD-467-327-EN" in detail


def test_a_reversal_from_the_entry_page_is_counted_against_it(client, auth, db, world):
    auth.login(world["officer"])
    entry = db.scalars(select(ReuseEntry).where(ReuseEntry.kind == "take_over")).one()
    token = csrf_token(client, f"/reports/entries/{entry.id}")
    response = client.post(f"/reports/entries/{entry.id}/reverse", data={"csrf_token": token, "reason": "Fel"})
    assert response.status_code == 302
    page = text(client.get(f"/reports/?{YEAR}"))
    assert 'class="figure">10</span> återbrukade exemplar' in page and 'class="figure">486</span>' in page


def _decimal(value):
    return Decimal(str(value))


SV = {"pieces": "Återbrukade exemplar", "waste_avoided_kg": "Undvikt avfall (kg)",
      "co2e_avoided_kg": "CO2e brutto (kg)", "transport_co2e_kg": "CO2e för transport (kg)",
      "net_co2e_kg": "CO2e netto (kg)",
      "purchase_avoided_sek": "Undvikna inköp (kr)"}


def csv_rows(response, delimiter=";"):
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte order mark: Excel reads å, ä, ö
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=delimiter))


def test_every_export_holds_exactly_the_hand_computed_totals(client, auth, world):
    auth.login(world["officer"])
    response = client.get(f"/reports/export.csv?{YEAR}")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = csv_rows(response)
    header, entries, total = rows[0], rows[1:-3], rows[-3]  # then the note and what the file is of
    column = header.index

    def number(text):
        return Decimal(text.replace(",", "."))

    assert total[0] == "Summa" and len(entries) == 7
    pieces = SV["pieces"]
    assert int(total[column(pieces)]) == EXPECTED["pieces"] == sum(int(r[column(pieces)]) for r in entries)
    for name, key, scale in (("waste_avoided_kg", "waste_avoided_g", 1000), ("co2e_avoided_kg", "co2e_avoided_g", 1000),
                             ("transport_co2e_kg", "transport_co2e_g", 1000), ("net_co2e_kg", "net_co2e_g", 1000),
                             ("purchase_avoided_sek", "purchase_avoided_sek_ore", 100)):
        assert number(total[column(SV[name])]) * scale == EXPECTED[key], name
        assert sum(number(r[column(SV[name])]) for r in entries) * scale == EXPECTED[key], name
    assert "GHG" in rows[-2][0]

    response = client.get(f"/reports/export.xlsx?{YEAR}&municipality={world['trelleborg'].id}")
    book = load_workbook(io.BytesIO(response.get_data()))
    assert {"Poster", "Sammanfattning", "Metod", "Faktorer"} <= set(book.sheetnames)
    sheet_rows = list(book["Poster"].values)
    header, total = sheet_rows[0], sheet_rows[-1]
    assert total[0] == "Summa"
    assert total[header.index("CO2e netto (kg)")] * 1000 == pytest.approx(EXPECTED_TRELLEBORG["net_co2e_g"],
                                                                          abs=1e-6)
    assert round(_decimal(total[header.index("Undvikna inköp (kr)")]) * 100) == \
        EXPECTED_TRELLEBORG["purchase_avoided_sek_ore"]
    assert total[header.index(SV["pieces"])] == EXPECTED_TRELLEBORG["pieces"]
    factors = list(book["Faktorer"].values)
    assert any("EPD NEPD-467-327-EN" in str(row) for row in factors)
    # A version's first day is a date, as the entries' days are, not text.
    valid_from = factors[0].index("Gäller från")
    assert all(isinstance(row[valid_from], datetime) for row in factors[1:] if isinstance(row[0], int))
    # The ledger's own factors too: the vehicle's kg per km as its route applied it, and the
    # estimate by weight.
    others = factors[[row[0] for row in factors].index("Andra faktorer") + 1:]
    assert [row[:3] for row in others] == [("Transport", 0.25561, "kg CO2e per km"),
                                           ("Uppskattning utifrån vikten", 1.45, "kg CO2e per återbrukat kg")]
    assert others[0][3] == "HBEFA 4.2, lätt lastbil diesel" and "WRAP" in others[1][3]
    assert any("GHG" in str(row) for row in book["Metod"].values)

    response = client.get(f"/reports/export.pdf?{YEAR}")
    assert response.status_code == 200 and response.get_data().startswith(b"%PDF")


def test_the_csv_and_the_workbook_speak_the_readers_language(client, auth, db, world):
    entry = db.scalars(select(ReuseEntry).where(ReuseEntry.kind == "take_over")).one()
    ledger.reverse_entry(db, entry_id=entry.id, reason="Stolarna kom aldrig fram", by=world["officer"],
                         now=utcnow())
    db.commit()
    auth.login(world["officer"])
    rows = csv_rows(client.get(f"/reports/export.csv?{YEAR}"))
    header, entries = rows[0], rows[1:-3]
    assert header[:6] == ["Post", "Händelse", "Dag", "Slag", "Återför", "Skäl till rättelsen"]
    assert "Räknas som undvikt inköp" in header and "counts_as_purchase" not in header
    counts = {r[header.index("Slag")]: set() for r in entries}
    for r in entries:
        counts[r[header.index("Slag")]].add(r[header.index("Räknas som undvikt inköp")])
    assert counts.pop("Transport") == {""}  # a transport is no purchase avoided, nor none
    assert set().union(*counts.values()) == {"ja", "nej"}
    reversal = next(r for r in entries if r[header.index("Återför")] == str(entry.id))
    assert reversal[header.index("Skäl till rättelsen")] == "Stolarna kom aldrig fram"
    assert reversal[header.index("CO2e brutto (kg)")] == "-200"
    assert "130,5" in [r[header.index("CO2e brutto (kg)")] for r in entries]
    assert "nyproduktion × ersättningsgrad" in [r[header.index("CO2e-värdet avser")] for r in entries]
    assert rows[-2][0].startswith("Undvikna utsläpp är uppskattningar")

    book = load_workbook(io.BytesIO(client.get(f"/reports/export.xlsx?{YEAR}").get_data()))
    poster = list(book["Poster"].values)
    assert list(poster[0][:6]) == ["Post", "Händelse", "Dag", "Slag", "Återför", "Skäl till rättelsen"]
    assert "Stolarna kom aldrig fram" in [row[5] for row in poster]
    method = " ".join(str(row[0]) for row in book["Metod"].values)
    assert "Undvikna utsläpp" in method and "Avoided emissions" not in method
    assert "ersättningsgraden 0,5" in method

    client.post("/language", data={"language": "en", "csrf_token": csrf_token(client, "/")})
    rows = csv_rows(client.get(f"/reports/export.csv?{YEAR}"), delimiter=",")
    header, entries = rows[0], rows[1:-3]
    assert header[:6] == ["Entry", "Event", "Day", "Kind", "Reverses", "Reason of the correction"]
    assert {r[header.index("Counts as a purchase avoided")] for r in entries} == {"yes", "no", ""}
    assert "130.5" in [r[header.index("Gross CO2e (kg)")] for r in entries]
    assert rows[-3][0] == "Total" and rows[-2][0].startswith("Avoided emissions are estimates")
    method = " ".join(str(row[0]) for row in load_workbook(io.BytesIO(
        client.get(f"/reports/export.xlsx?{YEAR}").get_data()))["Methodology"].values)
    assert "Avoided emissions" in method and "Undvikna utsläpp" not in method and "rate 0.5" in method


def test_exports_never_start_a_formula(client, auth, db, world):
    entry = db.scalars(select(ReuseEntry).where(ReuseEntry.kind == "take_over")).one()
    ledger.reverse_entry(db, entry_id=entry.id, reason='@SUM(1+1)*cmd|" /C calc"!A0', by=world["officer"],
                         now=utcnow())
    reversal = db.scalars(select(ReuseEntry).where(ReuseEntry.reverses_id == entry.id)).one()
    db.execute(ReuseEntry.__table__.update().where(ReuseEntry.__table__.c.id == reversal.id)
               .values(factor_source='=HYPERLINK("https://evil.example","x")'))
    db.commit()
    auth.login(world["officer"])
    body = client.get(f"/reports/export.csv?{YEAR}").get_data().decode("utf-8-sig")
    assert "'=HYPERLINK" in body and ';=HYPERLINK' not in body and ';"=HYPERLINK' not in body
    assert "'@SUM" in body and ';@SUM' not in body and ';"@SUM' not in body

    data = client.get(f"/reports/export.xlsx?{YEAR}").get_data()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:  # no formula anywhere in the workbook
        assert not any("<f>" in archive.read(name).decode() for name in archive.namelist() if name.endswith(".xml"))
    cells = [cell for sheet in load_workbook(io.BytesIO(data)) for row in sheet.iter_rows() for cell in row]
    values = [cell.value for cell in cells]
    assert '\'=HYPERLINK("https://evil.example","x")' in values and '\'@SUM(1+1)*cmd|" /C calc"!A0' in values
    assert all(cell.data_type != "f" for cell in cells)


def test_the_english_pdf_is_english_throughout(client, auth, world):
    auth.login(world["officer"])
    client.post("/language", data={"language": "en", "csrf_token": csrf_token(client, "/")})
    data = client.get(f"/reports/export.pdf?{YEAR}").get_data()
    shown = pdf_text(data)
    assert "Avoided emissions are estimates" in shown and "Undvikna utsläpp" not in shown
    assert "Measure Value" in shown and "Waste avoided (kg) 315 " in shown
    assert "Purchases avoided (SEK) 72,000 " in shown and "Net CO2e (kg) 686 " in shown
    assert "rate 0.5;" in shown
    assert b"/Lang (en)" in data


def test_the_pdf_shows_the_hand_computed_totals(client, auth, world):
    auth.login(world["officer"])
    shown = pdf_text(client.get(f"/reports/export.pdf?{YEAR}").get_data())
    assert "Nyckeltal Värde" in shown and "Värde Värde" not in shown
    for label, figure in (("exemplar", "14"), ("avfall (kg)", "315"), ("inköp (kr)", "72 000"),
                          ("CO2e brutto (kg)", "691"), ("transport (kg)", "5"), ("CO2e netto (kg)", "686")):
        assert f"{label} {figure} " in shown, (label, figure)
    # Each month and category with its waste and purchases avoided, as the dashboard's tables.
    assert "Undvikt avfall (kg) Undvikna inköp (kr) CO2e för transport (kg) CO2e netto (kg) 2025-01" in shown
    assert "2025-03 4 0 60 18 000 0 200 " in shown and "Kontorsstol 9 2 135 40 500 5 445 " in shown
    trelleborg = pdf_text(client.get(f"/reports/export.pdf?{YEAR}&municipality={world['trelleborg'].id}").get_data())
    for label, figure in (("exemplar", "12"), ("avfall (kg)", "225"), ("inköp (kr)", "48 000"),
                          ("CO2e brutto (kg)", "581"), ("CO2e netto (kg)", "576")):
        assert f"{label} {figure} " in trelleborg, (label, figure)


def test_the_pdf_of_a_long_period_fits_its_pages_by_year(client, auth, world):
    auth.login(world["officer"])
    for period in ("from=2021-01-01&to=2025-12-31", "from=2006-01-01&to=2025-12-31"):
        response = client.get(f"/reports/export.pdf?{period}")
        assert response.status_code == 200, period
        shown = pdf_text(response.get_data())
        assert "Undvikna CO2e netto per år (kg)" in shown and "2025 " in shown and "2025-03" not in shown
    shown = pdf_text(client.get(f"/reports/export.pdf?{YEAR}").get_data())  # a year: month by month
    assert "2025-03" in shown and "per månad" in shown


def test_the_dashboard_of_a_long_period_shows_it_by_year_each_year_leading_to_its_own(client, auth, world):
    auth.login(world["officer"])
    page = text(client.get(f"/reports/?from=2021-03-01&to=2025-12-31&municipality={world['trelleborg'].id}"))
    assert "Undvikna CO2e netto per år (kg)" in page and "per månad" not in page
    years = re.findall(r'<th scope="row"><a href="([^"]+)"[^>]*>(\d{4})</a></th>', page)
    assert [year for _link, year in years] == ["2021", "2022", "2023", "2024", "2025"]
    first, last = years[0][0].replace("&amp;", "&"), years[-1][0].replace("&amp;", "&")
    assert first.startswith("/reports/?") and "from=2021-03-01" in first and "to=2021-12-31" in first
    assert f"municipality={world['trelleborg'].id}" in first  # the selection kept
    assert "from=2025-01-01" in last and "to=2025-12-31" in last
    assert 'class="figure">576</span>' in text(client.get(last))  # Trelleborg's 2025
    two_years = text(client.get("/reports/?from=2024-01-01&to=2025-12-31"))  # 24 months: by month
    assert "per månad" in two_years and "month=202503" in two_years


def test_a_period_longer_than_the_longest_is_cut_to_it_in_exports(client, auth, world):
    auth.login(world["officer"])
    response = client.get("/reports/export.pdf?from=0001-01-01&to=2025-12-31")
    assert response.status_code == 200
    assert 'filename="aterbruk-2006-01-01-2025-12-31.pdf"' in response.headers["Content-Disposition"]
    response = client.get("/reports/export.csv?from=9999-12-31&to=2025-01-01")
    assert response.status_code == 200 and "aterbruk-2025-01-01-2044-12-31.csv" in \
        response.headers["Content-Disposition"]


def test_the_dashboard_says_what_of_the_address_it_could_not_take(client, auth, world):
    auth.login(world["officer"])
    swapped = text(client.get("/reports/?from=2025-12-31&to=2025-01-01"))
    assert "Perioden slutade innan den började: den visas från 2025-01-01 till 2025-12-31." in swapped
    assert 'name="from" value="2025-01-01"' in swapped and 'class="figure">686</span>' in swapped
    unreadable = text(client.get("/reports/?from=2025-13-45&to=x"))
    assert "”2025-13-45” är inget datum: perioden börjar" in unreadable
    assert "”x” är inget datum: perioden slutar" in unreadable
    unknown = text(client.get(f"/reports/?{YEAR}&municipality=999&municipality={world['trelleborg'].id}"
                              "&category=abc"))
    assert "Det finns ingen kommun ”999”: den ingår inte i urvalet." in unknown
    assert "Det finns ingen kategori ”abc”: den ingår inte i urvalet." in unknown
    assert 'class="figure">576</span>' in unknown  # Trelleborg's figures, the unknown one left out
    links = re.findall(r'href="(/reports/[^"]*)"', unknown)  # nor carried into the links
    assert links and not any("municipality=999" in link for link in links)
    plain = text(client.get(f"/reports/?{YEAR}"))
    assert 'id="selection-notices"' not in plain


def test_a_period_longer_than_the_longest_is_cut_and_said_on_the_page(client, auth, world):
    auth.login(world["officer"])
    response = client.get("/reports/?from=9999-12-31&to=2025-01-01")
    page = text(response)
    assert response.status_code == 200 and len(response.get_data()) < 1_000_000
    assert "En period är högst 20 år: den visas från 2025-01-01 till 2044-12-31." in page
    page = text(client.get("/reports/?from=0001-01-01&to=2025-12-31"))
    assert "En period är högst 20 år: den visas från 2006-01-01 till 2025-12-31." in page
    assert 'name="from" value="2006-01-01"' in page and 'class="figure">686</span>' in page
    entries = text(client.get("/reports/entries?from=0001-01-01&to=2025-12-31"))
    assert "En period är högst 20 år" in entries


def test_a_page_number_out_of_range_shows_the_first_page(client, auth, world):
    auth.login(world["officer"])
    for page in ("9223372036854775808", "99999999999", "-1", "x"):
        response = client.get(f"/reports/entries?{YEAR}&page={page}")
        assert response.status_code == 200, page
        assert "Övertagande" in text(response), page


def test_an_entry_and_its_event_read_in_words_not_as_stored(client, auth, db, world):
    auth.login(world["officer"])
    transport = db.scalars(select(ReuseEntry).where(ReuseEntry.kind == "transport",
                                                    ReuseEntry.request_id == world["taken"].id)).one()
    page = text(client.get(f"/reports/entries/{transport.id}"))
    assert "Källa</dt><dd>HBEFA 4.2, lätt lastbil diesel</dd>" in page
    assert "Ruttens CO2e</dt><dd>Fördelat efter last och sträcka</dd>" in page
    assert "Gäller</dt><dd>Rutt 7</dd>" in page and "Körd sträcka</dt><dd>18,5 km</dd>" in page
    for stored in ("logistics.route", "load-distance", "attributions", "request_id", "<code>"):
        assert stored not in page, stored
    for moot in ("<dt>Antal</dt>", "Räknas som undvikt inköp", "Undvikt avfall"):  # a transport moves no pieces
        assert moot not in page, moot
    assert "CO2e för transport (kg)</dt><dd>3,25 (12,40 km)</dd>" in page
    assert "Faktor</dt><dd>transport, 0,25561 kg CO2e per km</dd>" in page  # the vehicle's, as the route applied it
    # An entry written before routes told their factor: its CO2e over its distance, said to be so.
    transport.kg_co2e_per_km = None
    db.commit()
    page = text(client.get(f"/reports/entries/{transport.id}"))
    assert "Faktor</dt><dd>transport, omkring 0,262 kg CO2e per km (postens CO2e delat med dess sträcka)</dd>" in page

    take_over = db.scalars(select(ReuseEntry).where(ReuseEntry.kind == "take_over")).one()
    page = text(client.get(f"/reports/entries/{take_over.id}"))
    assert "<dt>Antal</dt><dd>4</dd>" in page and "Räknas som undvikt inköp</dt><dd>ja</dd>" in page
    assert f"Gäller</dt><dd>Förfrågan {world['taken'].id}</dd>" in page and "<code>" not in page
    assert "Ruttens CO2e" not in page

    rows = csv_rows(client.get(f"/reports/export.csv?{YEAR}"))
    sources = [row[rows[0].index("Källa")] for row in rows[1:-3]]
    assert "HBEFA 4.2, lätt lastbil diesel (fördelat efter last och sträcka)" in sources


def test_units_of_one_name_are_listed_by_their_municipality(db, factory):
    from sharing.reports.names import names

    # Made in the order the names would not have them.
    for municipality in (factory.municipality("Ystad", "1286"), factory.municipality("Skurup", "1264"),
                         factory.municipality("Sjöbo", "1265")):
        factory.unit(municipality, "Lokalförsörjning")
    found = names(db, "sv")
    listed = [(found.municipalities[municipality_id], name) for municipality_id, name in found.units.values()
              if name == "Lokalförsörjning"]
    assert listed == [("Sjöbo", "Lokalförsörjning"), ("Skurup", "Lokalförsörjning"), ("Ystad", "Lokalförsörjning")]
