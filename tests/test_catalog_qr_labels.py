"""QR labels for listings: what a label shows, the PDF sheet, and who may print which."""

import base64
import re
import zlib
from urllib.parse import urlsplit

import pytest
import segno

from sharing.accounts.models import Role
from sharing.catalog.listings.models import Condition
from sharing.catalog.qr_labels import sheet as qr_sheet
from sharing.catalog.qr_labels.sheet import A4_70X37, TITLE_FONT, TITLE_SIZE, ListingLabel
from sharing.errors import DomainError
from tests.conftest import PASSWORD, csrf_token, fieldset

# --- Reading back what the PDF draws ------------------------------------------------------

def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", pdf))


def page_contents(pdf: bytes) -> list[str]:
    """The drawing operators of each page (reportlab compresses them with Flate in ASCII85)."""
    streams = re.findall(rb"/Filter \[ */ASCII85Decode */FlateDecode *\][^>]*>>\s*stream\r?\n(.*?)endstream", pdf,
                         re.S)
    return [zlib.decompress(base64.a85decode(stream.strip(), adobe=True)).decode("latin-1") for stream in streams]


def drawn_qr(content: str) -> set[tuple[int, int]]:
    """The dark modules (row, column) of the one QR code drawn on a page, from its rectangles."""
    rects = [tuple(map(float, found)) for found in re.findall(
        r"(-?[\d.]+) (-?[\d.]+) (-?[\d.]+) (-?[\d.]+) re", content)]
    assert rects, "no QR code drawn"
    module = min(h for _, _, _, h in rects)
    left = min(x for x, _, _, _ in rects)
    top = max(y + h for _, y, _, h in rects)
    dark = set()
    for x, y, w, _ in rects:
        row = round((top - y) / module) - 1
        first = round((x - left) / module)
        dark.update((row, column) for column in range(first, first + round(w / module)))
    return dark


def qr_of(url: str) -> set[tuple[int, int]]:
    """The dark modules of the QR code for ``url``, as the label module encodes it."""
    return {(r, c) for r, row in enumerate(segno.make(url, error="m", micro=False).matrix)
            for c, value in enumerate(row) if value}


def texts(content: str) -> list[str]:
    return [text.replace("\\(", "(").replace("\\)", ")") for text in re.findall(r"\((.*?)(?<!\\)\) Tj", content)]


# --- The label's content and the sheet, without the web ---------------------------------------

def label(**overrides) -> ListingLabel:
    values = dict(listing_id=42, title="Kontorsstol", inventory_number="INV-2024-0042",
                  url="https://delning.example/catalog/42")
    return ListingLabel(**{**values, **overrides})


def test_a_label_shows_title_inventory_number_municipality_and_listing_number():
    content = qr_sheet.label_content(label(title="Skrivbord, höj- och sänkbart"), municipality="Ystad")
    assert content.url == "https://delning.example/catalog/42"
    assert " ".join(content.title_lines) == "Skrivbord, höj- och sänkbart"
    assert content.inventory_line == "Inv.nr INV-2024-0042"
    assert content.municipality_line == "Ystad"
    assert content.number_line == "Annons nr 42"


def test_a_listing_without_inventory_number_gets_no_inventory_line():
    content = qr_sheet.label_content(label(inventory_number="  "), municipality="Skurup",
                                       captions=qr_sheet.Captions("Inv. no.", "Listing no."))
    assert content.inventory_line == ""
    assert content.number_line == "Listing no. 42"


def test_a_long_title_is_wrapped_to_the_label_and_cut_with_an_ellipsis():
    title = "Kontorsstol svart med armstöd, nackstöd och hjul för hårda golv, väl använd men hel och ren"
    content = qr_sheet.label_content(label(title=title), municipality="Trelleborg")
    width = qr_sheet._text_width(A4_70X37)
    assert len(content.title_lines) == qr_sheet.TITLE_LINES
    assert all(qr_sheet.stringWidth(line, TITLE_FONT, TITLE_SIZE) <= width for line in content.title_lines)
    assert content.title_lines[0].startswith("Kontorsstol") and content.title_lines[-1].endswith("…")
    # A word longer than a line is split rather than running off the label.
    long_word = qr_sheet.label_content(label(title="Skrivbordsstolsarmstödsöverdragsfabrikantföreningen"),
                                         municipality="Ystad")
    assert len(long_word.title_lines) > 1
    assert all(qr_sheet.stringWidth(line, TITLE_FONT, TITLE_SIZE) <= width for line in long_word.title_lines)


def test_letters_the_pdf_fonts_lack_lose_their_accent_rather_than_print_as_boxes():
    assert qr_sheet.printable("Bänk åäö ÅÄÖ é ü") == "Bänk åäö ÅÄÖ é ü"
    assert qr_sheet.printable("Łódź ő 椅子") == "Lódz o ??"


def test_the_pdf_has_one_page_per_sheet_and_starts_where_asked():
    one = qr_sheet.render([label()], municipality="Ystad")
    assert one.startswith(b"%PDF-") and one.rstrip().endswith(b"%%EOF")
    assert page_count(one) == 1
    full_sheet = qr_sheet.render([label(copies=24)], municipality="Ystad")
    assert page_count(full_sheet) == 1
    assert texts(page_contents(full_sheet)[0]).count("Annons nr 42") == 24
    # Started at label 10 of a used sheet: 15 fit on it, the other 5 go on a second one.
    offset = qr_sheet.render([label(copies=20)], municipality="Ystad", start=10)
    first, second = page_contents(offset)
    assert (texts(first).count("Annons nr 42"), texts(second).count("Annons nr 42")) == (15, 5)


def test_the_qr_code_drawn_is_the_code_of_the_listings_address():
    url = "https://delning.ystad.se/catalog/4711"
    [content] = page_contents(qr_sheet.render([label(url=url)], municipality="Ystad"))
    assert drawn_qr(content) == qr_of(url)
    assert drawn_qr(content) != qr_of("https://delning.ystad.se/catalog/4712")


def test_the_first_label_sits_at_the_top_left_of_the_sheet_and_the_last_at_the_bottom_right():
    assert A4_70X37.label_origin(0) == pytest.approx((0, (297 - 0.5 - 37) * 72 / 25.4))
    assert A4_70X37.label_origin(23) == pytest.approx((140 * 72 / 25.4, 0.5 * 72 / 25.4))


@pytest.mark.parametrize("start", [0, 25])
def test_a_start_outside_the_sheet_is_refused(start):
    with pytest.raises(DomainError) as refused:
        qr_sheet.render([label()], municipality="Ystad", start=start)
    assert refused.value.field == "start"


def test_too_many_labels_at_once_are_refused():
    with pytest.raises(DomainError) as refused:
        qr_sheet.render([label(copies=qr_sheet.MAX_LABELS), label(listing_id=43)], municipality="Ystad")
    assert refused.value.field == "copies"


# --- Printing from the web -------------------------------------------------------------------

@pytest.fixture
def setting(factory):
    ystad = factory.municipality("Ystad", "1286")
    skurup = factory.municipality("Skurup", "1264")
    chairs = factory.category("Kontorsstol", name_en="Office chair")
    site = factory.site(ystad)
    manager = factory.user(ystad, Role.FACILITY_MANAGER)

    def listing(title, *, quantity=1, inventory_number="", publish=True, municipality_manager=manager, site=site):
        return factory.listing(site=site, category=chairs, by=municipality_manager, title=title,
                               condition=Condition.GOOD, quantity=quantity, lend=True,
                               inventory_number=inventory_number, published=publish)

    skurup_manager = factory.user(skurup, Role.FACILITY_MANAGER)
    return {
        "manager": manager, "employee": factory.user(ystad, Role.EMPLOYEE), "skurup_manager": skurup_manager,
        "chairs": listing("Kontorsstolar", quantity=10, inventory_number="YS-1001"),
        "tables": listing("Konferensbord ek", quantity=2),
        "draft": listing("Hyllor", publish=False),
        "skurup_listing": listing("Soffa", municipality_manager=skurup_manager, site=factory.site(skurup)),
    }


def test_a_facility_manager_prints_the_label_of_a_listing(app, client, auth, setting):
    chairs = setting["chairs"]
    auth.login(setting["manager"])
    page = client.get(f"/catalog/labels?listing={chairs.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Kontorsstolar" in html and "YS-1001" in html and f'name="listing" value="{chairs.id}"' in html

    response = client.get(f"/catalog/labels.pdf?listing={chairs.id}&copies=one&start=1")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'inline; filename="etiketter-annons-{chairs.id}.pdf"'
    assert response.headers["Cache-Control"] == "no-store"
    [content] = page_contents(response.data)
    assert {"Kontorsstolar", "Inv.nr YS-1001", "Ystad", f"Annons nr {chairs.id}"} <= set(texts(content))
    assert drawn_qr(content) == qr_of(f"http://delning.test/catalog/{chairs.id}")


def test_the_qr_code_holds_the_configured_base_url_not_the_requests_host(app, client, auth, setting):
    # Requests come to http://delning.test; the labels must carry the public address, path prefix and all.
    app.config["SHARING_BASE_URL"] = "https://delning.example.se/tjanst"
    listing_id = setting["tables"].id
    auth.login(setting["manager"])
    response = client.get(f"/catalog/labels.pdf?listing={listing_id}")
    assert response.status_code == 200
    [content] = page_contents(response.data)
    assert drawn_qr(content) == qr_of(f"https://delning.example.se/tjanst/catalog/{listing_id}")
    assert "Inv.nr" not in " ".join(texts(content))  # the tables have no inventory number


def test_a_batch_prints_the_chosen_listings_once_or_once_per_piece(client, auth, setting):
    chairs, tables = setting["chairs"], setting["tables"]
    auth.login(setting["manager"])
    mine = client.get("/catalog/mine").get_data(as_text=True)
    assert f'name="listing" value="{chairs.id}"' in mine and 'action="/catalog/labels"' in mine

    once = client.get(f"/catalog/labels.pdf?listing={chairs.id}&listing={tables.id}&listing={chairs.id}")
    assert once.status_code == 200 and once.headers["Content-Disposition"].startswith('inline; filename="etiketter-')
    [content] = page_contents(once.data)
    assert (texts(content).count(f"Annons nr {chairs.id}"), texts(content).count(f"Annons nr {tables.id}")) == (1, 1)

    per_piece = client.get(f"/catalog/labels.pdf?listing={chairs.id}&listing={tables.id}&copies=piece&start=20")
    assert per_piece.status_code == 200
    pages = page_contents(per_piece.data)
    assert len(pages) == page_count(per_piece.data) == 2  # 12 labels from label 20: 5 on the first sheet
    assert [texts(page).count(f"Annons nr {chairs.id}") for page in pages] == [5, 5]
    assert [texts(page).count(f"Annons nr {tables.id}") for page in pages] == [0, 2]


def test_an_empty_selection_is_sent_back_with_a_message(client, auth, setting):
    auth.login(setting["manager"])
    for path in ("/catalog/labels", "/catalog/labels.pdf", "/catalog/labels.pdf?listing=&listing=x"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith("/catalog/mine"), path
        assert "Välj minst en annons att skriva ut etiketter för." in client.get("/catalog/mine").get_data(as_text=True)


@pytest.mark.parametrize("start", ["0", "25", "x"])
def test_a_start_outside_the_sheet_is_shown_on_the_field(client, auth, setting, start):
    auth.login(setting["manager"])
    response = client.get(f"/catalog/labels.pdf?listing={setting['chairs'].id}&start={start}")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert 'id="start-error"' in html and 'aria-invalid="true"' in html


def test_an_unknown_number_of_copies_is_shown_in_its_fieldset(client, auth, setting):
    auth.login(setting["manager"])
    response = client.get(f"/catalog/labels.pdf?listing={setting['chairs'].id}&copies=all")
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert 'href="#copies"' in html
    group = fieldset(html, "copies")
    assert 'id="copies-error"' in group and group.count('aria-describedby="copies-error"') == 2


def test_too_many_labels_are_refused_on_the_field(db, client, auth, setting):
    chairs = setting["chairs"]
    chairs.quantity = qr_sheet.MAX_LABELS + 1
    db.add(chairs)
    db.commit()
    auth.login(setting["manager"])
    response = client.get(f"/catalog/labels.pdf?listing={chairs.id}&copies=piece")
    assert response.mimetype == "text/html"
    assert f"Det blir {qr_sheet.MAX_LABELS + 1} etiketter" in response.get_data(as_text=True)
    assert client.get(f"/catalog/labels.pdf?listing={chairs.id}&copies=one").mimetype == "application/pdf"


def test_an_employee_cannot_print_labels(client, auth, setting):
    chairs = setting["chairs"]
    auth.login(setting["employee"])
    for path in (f"/catalog/labels?listing={chairs.id}", f"/catalog/labels.pdf?listing={chairs.id}"):
        assert client.get(path).status_code == 403, path
    assert "/catalog/labels" not in client.get(f"/catalog/{chairs.id}").get_data(as_text=True)


def test_another_municipalitys_manager_cannot_print_our_listings(client, auth, setting):
    auth.login(setting["skurup_manager"])
    chairs, draft, own = setting["chairs"], setting["draft"], setting["skurup_listing"]
    for endpoint in ("/catalog/labels", "/catalog/labels.pdf"):
        # Published to partners: seen, but not theirs to label. A draft: not even seen.
        assert client.get(f"{endpoint}?listing={chairs.id}").status_code == 403
        assert client.get(f"{endpoint}?listing={draft.id}").status_code == 404
        assert client.get(f"{endpoint}?listing={own.id}&listing={chairs.id}").status_code == 403
        assert client.get(f"{endpoint}?listing=999999").status_code == 404
    assert client.get(f"/catalog/labels.pdf?listing={own.id}").mimetype == "application/pdf"


def test_scanning_a_label_leads_through_the_login_back_to_the_listing_and_its_actions(client, setting):
    chairs = setting["chairs"]
    link = f"http://delning.test/catalog/{chairs.id}"  # what the QR code holds
    response = client.get(urlsplit(link).path)
    assert response.status_code == 302
    login_page = response.headers["Location"]
    assert login_page.startswith("/login?next=")
    token = csrf_token(client, login_page)
    next_value = re.search(r'name="next" type="hidden" value="([^"]*)"',
                           client.get(login_page).get_data(as_text=True)).group(1)
    signed_in = client.post("/login", data={"email": setting["manager"].email, "password": PASSWORD,
                                            "next": next_value, "csrf_token": token})
    assert signed_in.status_code == 302 and signed_in.headers["Location"].rstrip("?") == f"/catalog/{chairs.id}"
    page = client.get(signed_in.headers["Location"]).get_data(as_text=True)
    assert "Hantera" in page and f"/catalog/{chairs.id}/edit" in page and f"/catalog/labels?listing={chairs.id}" in page
