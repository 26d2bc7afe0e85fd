"""Requests through the pages: asking from a listing's page, deciding, handing over and
taking back, each side told in the service and by mail (a real SMTP server)."""

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask import template_rendered
from PIL import ExifTags, Image
from sqlalchemy import select

from sharing.accounts.models import Municipality, Notification, Role, Site
from sharing.clock import today_in_sweden, utcnow
from sharing.events import events_of
from sharing.loans import events
from sharing.loans.requests.models import LoanRequest
from tests.conftest import csrf_token, statements_on
from tests.factories import jpeg_bytes
from tests.pdf import pdf_text

TODAY = today_in_sweden(utcnow())


@pytest.fixture
def s(factory):
    ystad, skurup = factory.municipality("Ystad", "1286"), factory.municipality("Skurup", "1264")
    ystad_site = factory.site(ystad, name="Ystads stadshus")
    skurup_site = factory.site(skurup, name="Skurups skola", locality="Skurup")
    manager = factory.manager(ystad, name="Vera Vaktmästare", unit=factory.unit(ystad, "Lokalförsörjning"))
    chairs = factory.listing_published(site=ystad_site, by=manager, title="Konferensstolar", quantity=24, lend=True)
    employee = factory.user(skurup, Role.EMPLOYEE, unit=factory.unit(skurup, "Skurups skola, kök"), name="Sam Skurup")
    return {"manager": manager, "chairs": chairs, "employee": employee, "skurup_site": skurup_site}


def ask(client, s, quantity=6, first=TODAY + timedelta(days=2), last=TODAY + timedelta(days=15)):
    return client.post(f"/loans/ask/{s['chairs'].id}", data={
        "csrf_token": csrf_token(client, f"/catalog/{s['chairs'].id}"), "kind": "borrow", "quantity": quantity,
        "first_day": first.isoformat(), "last_day": last.isoformat(), "delivery_site_id": s["skurup_site"].id,
        "transport_needed": "y", "message": "Till skolans avslutning"})


def step(client, request_id, action, **fields):
    return client.post(f"/loans/{request_id}/{action}",
                       data={"csrf_token": csrf_token(client, f"/loans/{request_id}"), **fields})


def test_a_loan_from_the_listing_page_to_its_close(client, auth, db, s, mailbox):
    auth.login(s["employee"])
    page = client.get(f"/catalog/{s['chairs'].id}").get_data(as_text=True)
    assert "Låna" in page and "Skicka förfrågan" in page  # the form, in Swedish
    assert "24 lediga" in page  # the calendar, before anything is booked
    response = ask(client, s)
    assert response.status_code == 302
    request_id = int(response.headers["Location"].rsplit("/", 1)[1])
    listing_page = client.get(f"/catalog/{s['chairs'].id}").get_data(as_text=True)
    assert "18 lediga" in listing_page
    assert ">Lån, 6 st.: Väntar på beslut<" in listing_page  # the request named by what it is, the form by what to do
    assert ">Lån<" in client.get("/loans/").get_data(as_text=True)

    # The owner's facility manager is told, in the service and by mail, in Swedish.
    told = db.scalars(select(Notification).where(Notification.user_id == s["manager"].id)).all()
    assert len(told) == 1 and told[0].url == f"/loans/{request_id}"
    assert [m["To"] for m in mailbox.messages] == [s["manager"].email]
    assert "ber om 6 av ”Konferensstolar”" in mailbox.messages[0].get_content()
    # Which request of several, told apart in the subject and the mail's lines on it.
    assert mailbox.messages[0]["Subject"] == "Ny förfrågan: Konferensstolar"
    assert "Förfrågan: Lån, 6 st., " in mailbox.messages[0].get_content()  # what it is: a noun
    assert "Skickad av: Skurups skola, kök, Skurup" in mailbox.messages[0].get_content()
    # Where it goes and how, and that they wrote (what they wrote stays in the service).
    assert "Till: Skurups skola, transport behövs" in mailbox.messages[0].get_content()
    assert "Den som frågade skrev ett meddelande med förfrågan: läs det där." in mailbox.messages[0].get_content()
    assert "Till skolans avslutning" not in mailbox.messages[0].get_content()
    assert mailbox.link(mailbox.messages[0]) == f"http://delning.test/loans/{request_id}"

    auth.logout()
    auth.login(s["manager"])
    # A facility manager's list opens on what others ask of them; what they asked for is a tab away.
    assert "Konferensstolar" in client.get("/loans/").get_data(as_text=True)
    assert "Konferensstolar" in client.get("/loans/?show=incoming").get_data(as_text=True)
    assert "Konferensstolar" not in client.get("/loans/?show=ours").get_data(as_text=True)
    assert step(client, request_id, "approve").status_code == 302
    assert step(client, request_id, "handover", method="transport", condition="good").status_code == 302
    auth.logout()
    auth.login(s["employee"])
    page = client.get(f"/loans/{request_id}").get_data(as_text=True)
    assert "Bekräfta överlämningen" in page
    assert step(client, request_id, "confirm").status_code == 302
    auth.logout()
    auth.login(s["manager"])
    assert step(client, request_id, "return", condition="good", remarks="", damage="").status_code == 302
    auth.logout()
    auth.login(s["employee"])
    assert step(client, request_id, "confirm").status_code == 302
    db.expire_all()
    assert db.get(LoanRequest, request_id).status == "closed"
    subjects = [m.get_content() for m in mailbox.messages if m["To"] == s["employee"].email]
    assert any("godkänd" in body for body in subjects) and any("återlämnad" in body for body in subjects)


def test_asking_for_more_than_is_free_says_so_in_swedish_and_keeps_the_form(client, auth, db, s):
    auth.login(s["employee"])
    assert ask(client, s, quantity=20).status_code == 302
    response = ask(client, s, quantity=5)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Bara 4 exemplar är lediga de dagarna." in page
    assert 'value="Till skolans avslutning"' in page or "Till skolans avslutning</textarea>" in page
    assert db.scalar(select(LoanRequest.id).where(LoanRequest.quantity == 5)) is None


def test_an_ask_wrong_in_several_fields_is_told_every_one_at_once(client, auth, db, s):
    auth.login(s["employee"])
    response = ask(client, s, quantity=30, first=TODAY - timedelta(days=5), last=TODAY - timedelta(days=16))
    page = response.get_data(as_text=True)
    for told in ("Annonsen har bara 24 exemplar.", "Första dagen får inte ha passerat.",
                 "Sista dagen får inte vara före den första."):
        assert told in page, told
    assert db.scalar(select(LoanRequest.id)) is None


def test_asking_for_no_piece_is_told_in_the_listings_terms(client, auth, db, s):
    auth.login(s["employee"])
    page = ask(client, s, quantity=0).get_data(as_text=True)
    assert "Be om minst ett exemplar." in page
    assert "100 000" not in page  # no bound of any listing's
    assert db.scalar(select(LoanRequest.id)) is None


def test_the_ask_page_shows_whole_weeks_under_their_numbers_as_the_listing_page_does(client, auth, s):
    auth.login(s["employee"])
    week = TODAY.isocalendar()[1]
    for path in (f"/catalog/{s['chairs'].id}", f"/loans/ask/{s['chairs'].id}"):
        page = client.get(path).get_data(as_text=True)
        table = page.split('class="availability-calendar"', 1)[1]
        weeks = re.findall(r'<th scope="row">(\d+)</th>', table)
        assert weeks[0] == str(week) and len(weeks) == 6  # the same six weeks on both pages, whatever the day
        assert re.search(r'<abbr title="(\w+)"', table).group(1) == "måndag"


def test_the_ask_forms_blank_fields_are_rendered_once_and_follow_the_sites(app, client, auth, db, factory, s):
    """Listings of one kind and offers have the same blank form on their pages: its fields are
    rendered once for the reader's language and municipality, and a new site shows at once."""
    tables = factory.listing_published(site=db.get(Site, s["chairs"].site_id),
                                       by=s["manager"], title="Bord", quantity=3, lend=True)
    rendered: list[str] = []
    auth.login(s["employee"])
    with template_rendered.connected_to(lambda sender, template, context, **extra: rendered.append(template.name),
                                        app):
        first = client.get(f"/catalog/{s['chairs'].id}").get_data(as_text=True)
        second = client.get(f"/catalog/{tables.id}").get_data(as_text=True)
        assert rendered.count("loans/_ask_field_list.html") == 1
        assert "Skurups skola" in first and "Skurups skola" in second and "Skicka förfrågan" in second
        assert f'action="/loans/ask/{tables.id}"' in second and csrf_token(client, f"/catalog/{tables.id}")
        factory.site(db.get(Municipality, s["employee"].municipality_id), name="Skurups bibliotek")
        third = client.get(f"/catalog/{tables.id}").get_data(as_text=True)
        assert "Skurups bibliotek" in third and rendered.count("loans/_ask_field_list.html") == 2


def test_a_listing_page_reads_the_database_a_bounded_number_of_times(app, client, auth, s):
    """However many days its calendar shows and however many holds the listing has: the
    signed-in user, the listing, its place with its municipality, contact and count of loans
    (one read), its category's line and figures, its holds (once, for the calendar and the
    queue), its transfers, photos, and what loans add."""
    auth.login(s["employee"])
    for n in range(12):
        first = TODAY + timedelta(days=2 * n + 1)
        assert ask(client, s, quantity=2, first=first, last=first).status_code == 302
    with statements_on(app.extensions["sharing.engine"]) as statements:
        page = client.get(f"/catalog/{s['chairs'].id}").get_data(as_text=True)
    assert "22 lediga" in page
    assert len([statement for statement in statements if "FROM listing_hold" in statement]) == 2  # calendar, loans
    assert len(statements) <= 11, "\n".join(statements)


def test_a_decline_needs_a_reason_and_frees_the_pieces(client, auth, db, s, mailbox):
    auth.login(s["employee"])
    request_id = int(ask(client, s, quantity=24).headers["Location"].rsplit("/", 1)[1])
    auth.logout()
    auth.login(s["manager"])
    # The reason is asked under a heading of its own, not as if it belonged to the approval.
    assert "<h3>Avslå förfrågan</h3>" in client.get(f"/loans/{request_id}").get_data(as_text=True)
    refused = step(client, request_id, "decline", reason="")
    assert refused.status_code == 422 and "error-summary" in refused.get_data(as_text=True)
    assert step(client, request_id, "decline", reason="Vi behöver dem själva").status_code == 302
    declined = mailbox.messages[-1]
    assert declined["To"] == s["employee"].email and declined["Subject"] == "Avslagen: Konferensstolar"
    assert "Skälet som angavs: Vi behöver dem själva" in declined.get_content()
    page = client.get(f"/catalog/{s['chairs'].id}").get_data(as_text=True)
    assert "24 lediga" in page and not re.search(r">\s*0 lediga", page)


def test_an_extension_refused_is_told_at_its_new_last_day(client, auth, db, s):
    auth.login(s["employee"])
    last = TODAY + timedelta(days=15)
    request_id = int(ask(client, s, quantity=6, last=last).headers["Location"].rsplit("/", 1)[1])
    auth.logout()
    auth.login(s["manager"])
    assert step(client, request_id, "approve").status_code == 302
    auth.logout()
    auth.login(s["employee"])
    refused = step(client, request_id, "extend", last_day=last.isoformat())  # not later than it is
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "error-summary" in page
    assert re.search(r'<p class="error" id="[\w-]*last_day-error">.*måste vara senare', page)


def test_the_requester_cannot_decide_and_a_stranger_sees_nothing(client, auth, factory, s):
    auth.login(s["employee"])
    request_id = int(ask(client, s).headers["Location"].rsplit("/", 1)[1])
    assert step(client, request_id, "approve").status_code == 403  # not a facility manager at all
    auth.logout()
    auth.login(factory.manager(factory.municipality("Trelleborg", "1287")))
    assert client.get(f"/loans/{request_id}").status_code == 404
    assert step(client, request_id, "approve").status_code == 404


def test_a_take_over_gives_both_sides_a_transfer_document(client, auth, db, s):
    auth.login(s["employee"])
    response = client.post(f"/loans/ask/{s['chairs'].id}", data={
        "csrf_token": csrf_token(client, f"/catalog/{s['chairs'].id}"), "kind": "take_over", "quantity": 4,
        "first_day": (TODAY + timedelta(days=1)).isoformat(), "delivery_site_id": s["skurup_site"].id})
    assert response.status_code == 422  # the chairs are lent, not given away
    s["chairs"].give_away = True
    db.commit()
    response = client.post(f"/loans/ask/{s['chairs'].id}", data={
        "csrf_token": csrf_token(client, f"/catalog/{s['chairs'].id}"), "kind": "take_over", "quantity": 4,
        "first_day": (TODAY + timedelta(days=1)).isoformat(), "delivery_site_id": s["skurup_site"].id})
    request_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert client.get(f"/loans/{request_id}/transfer.pdf").status_code == 404  # nothing has passed yet
    auth.logout()
    auth.login(s["manager"])
    step(client, request_id, "approve")
    # For good, and a day before they asked for it: the page says so, and asks for a confirmation.
    page = " ".join(client.get(f"/loans/{request_id}").get_data(as_text=True).split())
    assert f"Förfrågan gäller exemplaren från {(TODAY + timedelta(days=1)).isoformat()}" in page
    refused = step(client, request_id, "handover", method="pickup", condition="good")
    assert refused.status_code == 422
    assert "Bekräfta att exemplaren blir den mottagande sidans för gott." in refused.get_data(as_text=True)
    assert step(client, request_id, "handover", method="pickup", condition="good", for_good="y").status_code == 302
    page = " ".join(client.get(f"/loans/{request_id}").get_data(as_text=True).split())
    assert "Överlåtelsehandling (PDF)" in page
    assert "Hämtades av den som frågade" in page  # a step taken, in the past tense
    assert "Meddelandena och anteckningarna från stegen raderas" in page and "återlämningen" not in page
    for user in (s["manager"], s["employee"]):
        auth.logout()
        auth.login(user)
        document = client.get(f"/loans/{request_id}/transfer.pdf")
        assert document.status_code == 200 and document.mimetype == "application/pdf"
        assert document.data.startswith(b"%PDF")
    # Each side by its unit: the giver's, whose facility manager signs, and the asker's.
    shown = pdf_text(document.data)
    assert "Enhet: Lokalförsörjning" in shown and "Enhet: Skurups skola, kök" in shown and "Enhet: –" not in shown
    # The listing's page tells where its pieces went.
    auth.logout()
    auth.login(s["manager"])
    page = client.get(f"/catalog/{s['chairs'].id}").get_data(as_text=True)
    assert "4 exemplar gick för gott till Skurup." in page


def test_a_request_says_when_in_days_not_midnights(client, auth, s):
    auth.login(s["employee"])
    first, last = TODAY + timedelta(days=2), TODAY + timedelta(days=15)
    request_id = int(ask(client, s, first=first, last=last).headers["Location"].rsplit("/", 1)[1])
    page = client.get(f"/loans/{request_id}").get_data(as_text=True)
    text = re.sub(r"<[^>]+>", "", page)  # each date is a <time> of its own, kept whole on a phone
    assert f"{first.isoformat()} till {last.isoformat()}" in text and "00:00" not in page
    assert f'<time class="nowrap" datetime="{first.isoformat()}">{first.isoformat()}</time>' in page


def approved(client, auth, s) -> int:
    """A loan asked for and approved through the pages; the owner's manager signed in."""
    auth.login(s["employee"])
    request_id = int(ask(client, s).headers["Location"].rsplit("/", 1)[1])
    auth.logout()
    auth.login(s["manager"])
    assert step(client, request_id, "approve").status_code == 302
    return request_id


def test_a_handover_in_a_condition_the_service_does_not_know_is_refused_and_changes_nothing(client, auth, db, s):
    """The condition is a form choice: one the service does not know is a 400, as at the return,
    never a 500, and the request stays approved."""
    request_id = approved(client, auth, s)
    assert step(client, request_id, "handover", method="pickup", condition="brand_new").status_code == 400
    db.expire_all()
    request = db.get(LoanRequest, request_id)
    assert request.status == "approved" and request.handed_over_at is None


# --- A photo at the return ---------------------------------------------------------------------------

def handed_over(client, auth, s) -> int:
    """A loan asked for, approved and handed over through the pages; the owner's manager signed in."""
    request_id = approved(client, auth, s)
    assert step(client, request_id, "handover", method="pickup", condition="good").status_code == 302
    return request_id


def take_back(client, request_id, photo: tuple[bytes, str] | None = None, **fields):
    data = {"csrf_token": csrf_token(client, f"/loans/{request_id}"), "condition": "needs_repair", "remarks": "",
            "damage": "Ett ben är knäckt", **fields}
    if photo is not None:
        data["photo"] = (io.BytesIO(photo[0]), photo[1])
    return client.post(f"/loans/{request_id}/return", data=data, content_type="multipart/form-data")


def photo_files(app) -> list[Path]:
    root = Path(app.config["SHARING_PHOTO_DIR"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def jpeg_with_position(size=(800, 600)) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.GPSInfo] = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (55.0, 25.0, 47.0)}
    out = io.BytesIO()
    Image.new("RGB", size, "firebrick").save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_a_return_photo_is_shown_to_both_sides_and_to_no_one_else(app, client, auth, db, factory, s):
    request_id = handed_over(client, auth, s)
    response = take_back(client, request_id, photo=(jpeg_with_position(), "skada.jpg"))
    assert response.status_code == 302
    db.expire_all()
    returned = db.get(LoanRequest, request_id)
    assert returned.status == "returned" and returned.return_damage == "Ett ben är knäckt"
    assert re.fullmatch(r"[0-9a-f]{32}", returned.return_photo_key)
    assert (returned.return_photo_width, returned.return_photo_height) == (800, 600)
    [event] = [e for e in events_of(db, subject_type=events.SUBJECT, subject_id=request_id)
               if e.name == events.RETURNED]
    assert event.payload["photo"] is True
    key = returned.return_photo_key
    card, large = (f"/loans/{request_id}/return-photo/{key}/{rendition}.jpg" for rendition in ("card", "large"))

    for viewer in (s["manager"], s["employee"]):
        auth.logout()
        auth.login(viewer)
        page = client.get(f"/loans/{request_id}").get_data(as_text=True)
        assert f'src="{card}"' in page and 'alt="Foto vid återlämningen"' in page and f'href="{large}"' in page
        assert 'width="400" height="300"' in page
        for url, size in ((card, (400, 300)), (large, (800, 600))):
            served = client.get(url)
            assert served.status_code == 200 and served.mimetype == "image/jpeg"
            assert "private" in served.headers["Cache-Control"]
            with Image.open(io.BytesIO(served.data)) as image:
                assert image.size == size and not image.getexif()  # re-encoded: no position survives
            served.close()
        assert client.get(f"/loans/{request_id}/return-photo/{'0' * 32}/card.jpg").status_code == 404
        assert client.get(f"/loans/{request_id}/return-photo/{key}/original.jpg").status_code == 404

    auth.logout()
    auth.login(factory.manager(factory.municipality("Trelleborg", "1287")))
    assert client.get(card).status_code == 404 and client.get(large).status_code == 404
    auth.logout()
    assert "/login" in client.get(card).headers["Location"]
    # Not the catalog's photo address either: that serves listings' photos only.
    auth.login(s["employee"])
    assert client.get(f"/catalog/photos/{key}/card.jpg").status_code == 404


@pytest.mark.parametrize("content, name, message", [
    (b"Detta ar ingen bild, bara text.", "skada.jpg", "”skada.jpg” är inte ett foto i formatet JPEG, PNG eller WebP."),
    (None, "stor.jpg", "”stor.jpg” är större än 0.1 MB. Välj ett mindre foto."),
])
def test_a_refused_return_photo_saves_nothing_of_the_return(app, client, auth, db, s, monkeypatch, content, name,
                                                              message):
    if content is None:  # larger than the limit
        monkeypatch.setitem(app.config, "SHARING_PHOTO_MAX_BYTES", 100_000)
        content = jpeg_bytes((400, 400), "red") + b"\0" * 120_000
    request_id = handed_over(client, auth, s)
    response = take_back(client, request_id, photo=(content, name))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="photo-error"' in page and message in page
    assert "error-summary" in page and "Ett ben är knäckt" in page  # the form is kept
    db.expire_all()
    kept = db.get(LoanRequest, request_id)
    assert kept.status == "handed_over" and kept.returned_at is None and kept.return_photo_key is None
    assert kept.return_damage == "" and kept.return_condition is None
    assert events.RETURNED not in [e.name for e in events_of(db, subject_type=events.SUBJECT, subject_id=request_id)]
    assert photo_files(app) == []


def test_a_return_without_a_photo_is_noted_as_before(app, client, auth, db, s):
    request_id = handed_over(client, auth, s)
    form = client.get(f"/loans/{request_id}").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in form and 'name="photo"' in form and "Foto (valfritt)" in form
    assert take_back(client, request_id).status_code == 302  # multipart, no file chosen
    db.expire_all()
    returned = db.get(LoanRequest, request_id)
    assert returned.status == "returned" and returned.return_photo_key is None
    assert returned.return_damage == "Ett ben är knäckt"
    page = client.get(f"/loans/{request_id}").get_data(as_text=True)
    assert "Ett ben är knäckt" in page and "Foto vid återlämningen" not in page and "/return-photo/" not in page
    assert photo_files(app) == []


def test_a_step_out_of_turn_is_refused_in_swedish_words(client, auth, s):
    auth.login(s["employee"])
    request_id = int(ask(client, s).headers["Location"].rsplit("/", 1)[1])
    auth.logout()
    auth.login(s["manager"])
    step(client, request_id, "approve")
    page = client.get(step(client, request_id, "approve").headers["Location"]).get_data(as_text=True)
    assert "En förfrågan som är ”godkänd” kan inte bli ”godkänd”. Ladda om sidan" in page


def test_withdrawing_says_first_how_many_requests_it_calls_off(client, auth, db, s):
    auth.login(s["manager"])
    assert "förfrågan" not in client.get(f"/catalog/{s['chairs'].id}/withdraw").get_data(as_text=True)
    auth.logout()
    auth.login(s["employee"])
    ask(client, s, quantity=2)
    ask(client, s, quantity=3, first=TODAY + timedelta(days=20), last=TODAY + timedelta(days=22))
    auth.logout()
    auth.login(s["manager"])
    page = client.get(f"/catalog/{s['chairs'].id}/withdraw").get_data(as_text=True)
    assert "2 förfrågningar håller exemplar som inte lämnats över än" in page


def test_withdrawing_counts_no_swap_that_offers_its_pieces_for_another_listing(client, auth, db, s, factory):
    from sharing.loans.requests import rules as loans
    from sharing.loans.requests.models import RequestKind
    from sharing.loans.requests.rules import RequestDetails

    s["chairs"].swap = True
    tables = factory.listing_published(site=s["skurup_site"], by=factory.manager(s["employee"].municipality),
                                       title="Bord", quantity=3, swap=True, lend=False)
    db.commit()
    loans.ask(db, listing_id=tables.id, by=s["manager"], now=utcnow(), details=RequestDetails(
        kind=RequestKind.SWAP, quantity=1, first_day=TODAY + timedelta(days=2), last_day=None,
        delivery_site_id=s["chairs"].site_id, transport_needed=False, message="",
        offered_listing_id=s["chairs"].id, offered_quantity=2))
    db.commit()
    auth.login(s["manager"])
    # The swap holds two of the chairs, but withdrawing them does not call it off: it stays open.
    assert "förfrågan" not in client.get(f"/catalog/{s['chairs'].id}/withdraw").get_data(as_text=True)


def test_a_request_called_off_by_withdrawing_says_so_and_offers_no_steps(client, auth, db, s):
    auth.login(s["employee"])
    request_id = int(ask(client, s, quantity=2).headers["Location"].rsplit("/", 1)[1])
    assert "Vad du kan göra" in client.get(f"/loans/{request_id}").get_data(as_text=True)  # cancel, for one
    auth.logout()
    auth.login(s["manager"])
    response = client.post(f"/catalog/{s['chairs'].id}/status", data={
        "status": "withdrawn", "csrf_token": csrf_token(client, f"/catalog/{s['chairs'].id}/withdraw")})
    assert response.status_code == 302
    auth.logout()
    auth.login(s["employee"])
    page = client.get(f"/loans/{request_id}").get_data(as_text=True)
    decided = page.split("<dt>Beslutad</dt>", 1)[1].split("</dd>", 1)[0]
    assert decided.endswith(": Annonsen drogs tillbaka.") and "–" not in decided  # decided by no one
    assert "Vad du kan göra" not in page


def test_switching_language_after_a_refusal_never_goes_to_an_address_that_answers_only_forms(client, auth, db, s):
    auth.login(s["employee"])
    request_id = int(ask(client, s, quantity=2).headers["Location"].rsplit("/", 1)[1])
    auth.logout()
    auth.login(s["manager"])
    token = csrf_token(client, f"/loans/{request_id}")

    def refused_from(page: str) -> str:
        response = client.post(f"/loans/{request_id}/decline", data={"csrf_token": token, "reason": ""},
                               headers={"Referer": f"http://delning.test{page}"})
        assert response.status_code == 422  # the form again, a reason missing
        switch = response.get_data(as_text=True).split('class="language-switch"', 1)[1]
        return re.search(r'name="next" value="([^"]*)"', switch).group(1)

    assert refused_from(f"/loans/{request_id}") == f"/loans/{request_id}"  # the page the form was on
    assert refused_from(f"/loans/{request_id}/decline") == ""  # refused twice: not there, the front page


@pytest.mark.parametrize("quantity", ["2.5", "två"])
def test_a_quantity_that_is_no_whole_number_is_told_so_once(client, auth, s, quantity):
    auth.login(s["employee"])
    page = ask(client, s, quantity=quantity).get_data(as_text=True)
    error = re.search(r'<p class="error" id="quantity-error">(.*?)</p>', page, re.S).group(1)
    assert "heltal" in error and "mellan" not in error, error  # not also "between 1 and ..."


def test_a_return_s_notes_and_damage_each_read_as_their_own_line(client, auth, s):
    request_id = handed_over(client, auth, s)
    assert take_back(client, request_id, remarks="Torkade av dem", damage="Ett ben är knäckt").status_code == 302
    html = client.get(f"/loans/{request_id}").get_data(as_text=True)
    returned = re.search(r"<dt>Återlämnad</dt>\s*<dd>(.*?)</dd>", html, re.DOTALL)
    assert returned is not None
    lines = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", line)).strip()
             for line in re.split(r"<br>", returned.group(1))]
    # Neither what the manager wrote runs on into the next sentence ("knäckt Ännu inte bekräftad").
    assert "Anteckningar: Torkade av dem" in lines and "Skador: Ett ben är knäckt" in lines


def test_the_return_s_one_photo_is_spoken_of_as_one(client, auth, s):
    request_id = handed_over(client, auth, s)
    html = client.get(f"/loans/{request_id}").get_data(as_text=True)
    assert "Foto (valfritt)" in html
    assert "ta fotot med kameran" in html and "i filen tas bort" in html and "fotona" not in html


def test_the_start_page_counts_the_work_waiting_for_each_side(client, auth, db, s, factory):
    auth.login(s["employee"])
    assert "Väntar på dig" not in client.get("/").get_data(as_text=True)
    soon = int(ask(client, s, quantity=2, first=TODAY, last=TODAY + timedelta(days=3)).headers["Location"]
               .rsplit("/", 1)[1])
    later = int(ask(client, s, quantity=2, first=TODAY, last=TODAY + timedelta(days=4)).headers["Location"]
                .rsplit("/", 1)[1])
    auth.logout()
    # Another municipality's facility manager decides none of them.
    auth.login(factory.manager(db.get(Municipality, s["employee"].municipality_id), name="Sigge Skurup"))
    assert "Väntar på dig" not in client.get("/").get_data(as_text=True)
    auth.logout()
    auth.login(s["manager"])
    page = client.get("/").get_data(as_text=True)
    assert "Väntar på dig" in page
    assert '<a href="/loans/?show=incoming">2 förfrågningar väntar på ditt beslut.</a>' in page
    # What waits for a decision comes first in the list the count leads to, the last changed or not.
    assert step(client, soon, "approve").status_code == 302
    assert "1 förfrågan väntar på ditt beslut." in client.get("/").get_data(as_text=True)
    listed = client.get("/loans/?show=incoming").get_data(as_text=True)
    assert listed.index(f'href="/loans/{later}"') < listed.index(f'href="/loans/{soon}"')
    assert step(client, later, "approve").status_code == 302
    for request_id in (soon, later):
        assert step(client, request_id, "handover", method="pickup", condition="good").status_code == 302
    assert "Väntar på dig" not in client.get("/").get_data(as_text=True)  # decided: nothing waits
    auth.logout()
    auth.login(s["employee"])
    # The loan whose last day is three days away is due soon; the one a day later not yet.
    page = client.get("/").get_data(as_text=True)
    assert '<a href="/loans/?show=ours">1 lån ska lämnas tillbaka inom 3 dagar eller är redan försenat.</a>' in page
    # The list it leads to shows the loans out first, the soonest due back first.
    listed = client.get("/loans/?show=ours").get_data(as_text=True)
    assert listed.index(f'href="/loans/{soon}"') < listed.index(f'href="/loans/{later}"')
