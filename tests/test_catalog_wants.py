"""Wanted items (efterlysningar): the rules, matching against listings, telling the poster once
(in the service and by mail), the pages and the API."""

import re
import socket
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from sharing.accounts import demo as accounts_demo
from sharing.accounts.auth import signed_in_user
from sharing.accounts.models import Notification, Role
from sharing.catalog import demo as catalog_demo
from sharing.catalog.listings import rules as listings
from sharing.catalog.listings.models import Condition, Listing, ListingStatus
from sharing.catalog.wants import rules as wants
from sharing.catalog.wants.models import Want, WantMatch
from sharing.catalog.wants.rules import WantDetails
from sharing.clock import today_in_sweden, utcnow
from sharing.errors import DomainError
from tests.conftest import csrf_token, statements_on

PREFIX = "/api/v1"


@pytest.fixture
def s(factory):
    """Ystad and Skurup, a small category tree, and people of each role that matters here."""
    ystad = factory.municipality("Ystad", "1286")
    skurup = factory.municipality("Skurup", "1264")
    furniture = factory.category("Möbler", name_en="Furniture")
    seating = factory.category("Sittmöbler", name_en="Seating", parent=furniture)
    office_chair = factory.category("Kontorsstol", name_en="Office chair", parent=seating)
    tables = factory.category("Bord", name_en="Tables", parent=furniture)
    school, library = factory.unit(ystad, "Östra skolan"), factory.unit(ystad, "Biblioteket")
    skurup_school = factory.unit(skurup, "Rydsgårds skola")
    people = {
        "teacher": factory.user(ystad, Role.EMPLOYEE, unit=school),
        "colleague": factory.user(ystad, Role.EMPLOYEE, unit=school),
        "librarian": factory.user(ystad, Role.EMPLOYEE, unit=library),
        "manager": factory.user(ystad, Role.FACILITY_MANAGER),
        "skurup_teacher": factory.user(skurup, Role.EMPLOYEE, unit=skurup_school),
        "skurup_manager": factory.user(skurup, Role.FACILITY_MANAGER),
        "no_unit": factory.user(ystad, Role.EMPLOYEE),
    }
    return {"ystad": ystad, "skurup": skurup, "furniture": furniture, "seating": seating,
            "office_chair": office_chair, "tables": tables, "site": factory.site(ystad),
            "skurup_site": factory.site(skurup), **people}


def post(db, s, who="teacher", **details):
    want = wants.post_want(db, details=WantDetails(**details), by=s[who], now=utcnow())
    db.commit()
    return want


def publish(factory, s, title="Kontorsstolar, svarta", category="office_chair", manager="manager", site="site",
            **overrides):
    values = dict(title=title, condition=Condition.GOOD, quantity=4, lend=True)
    return factory.listing_published(site=s[site], category=s[category], by=s[manager], **{**values, **overrides})


def met(db, listing):
    return [w.words or w.category_id for w in wants.match_listing(db, listing=listing, now=utcnow())]


# --- Rules ---------------------------------------------------------------------------------

def test_a_want_belongs_to_its_posters_unit_and_keeps_its_search_stems(db, s):
    want = post(db, s, words="  Kontorsstolar   med armstöd ", quantity=6)
    assert (want.municipality_id, want.unit_id, want.posted_by_id) == (s["ystad"].id, s["teacher"].unit_id,
                                                                       s["teacher"].id)
    assert want.words == "Kontorsstolar med armstöd"
    assert want.search_words == "kontorsstol armstöd"  # "med" asks for nothing
    assert want.status == "open" and want.quantity == 6


@pytest.mark.parametrize("details, field", [
    ({}, "words"),
    ({"words": " ... !! "}, "words"),
    ({"words": "en två tre fyra fem sex sju åtta nio"}, "words"),
    ({"words": "stol", "category_id": 999999}, "category_id"),
    ({"words": "stol", "quantity": 0}, "quantity"),
    ({"words": "stol", "needed_by": "yesterday"}, "needed_by"),
])
def test_invalid_wants_are_refused_on_the_field_and_nothing_is_saved(db, s, details, field):
    if details.get("needed_by") == "yesterday":
        details["needed_by"] = today_in_sweden(utcnow()) - timedelta(days=1)
    with pytest.raises(DomainError) as refused:
        post(db, s, **details)
    assert refused.value.field == field
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Want)) == 0


def test_a_category_alone_is_enough(db, s):
    want = post(db, s, category_id=s["seating"].id)
    assert want.words == "" and want.search_words == "" and wants.label(want) == "Sittmöbler"


def test_posting_needs_a_unit(db, s):
    with pytest.raises(DomainError, match="no unit"):
        post(db, s, who="no_unit", words="stol")
    assert not wants.can_post(s["no_unit"]) and wants.can_post(s["teacher"])


def test_who_sees_changes_and_closes_a_want(db, s):
    want = post(db, s, words="kontorsstol")
    sees = {name for name in ("teacher", "colleague", "librarian", "manager", "skurup_teacher", "skurup_manager")
            if wants.can_see(s[name], want)}
    # The unit, the municipality's facility managers, and (while open) every partner's facility managers.
    assert sees == {"teacher", "colleague", "manager", "skurup_manager"}
    assert [n for n in sees if wants.can_edit(s[n], want)] == ["teacher"]
    assert {n for n in sees if wants.can_close(s[n], want)} == {"teacher", "manager"}
    for outsider in ("colleague", "skurup_manager"):
        with pytest.raises(DomainError):
            wants.edit_want(db, want=want, details=WantDetails(words="kapad"), by=s[outsider], now=utcnow())
    with pytest.raises(DomainError):
        wants.close_want(db, want=want, outcome=wants.WantStatus.WITHDRAWN, by=s["skurup_manager"], now=utcnow())
    assert want.status == "open" and want.words == "kontorsstol"

    wants.close_want(db, want=want, outcome=wants.WantStatus.FULFILLED, by=s["manager"], now=utcnow())
    db.commit()
    assert (want.status, want.closed_by_id) == ("fulfilled", s["manager"].id)
    assert not wants.can_see(s["skurup_manager"], want), "another municipality sees only open wants"
    with pytest.raises(DomainError):  # closed is closed
        wants.close_want(db, want=want, outcome=wants.WantStatus.WITHDRAWN, by=s["teacher"], now=utcnow())
    with pytest.raises(DomainError):
        wants.edit_want(db, want=want, details=WantDetails(words="stol"), by=s["teacher"], now=utcnow())


def test_a_want_closed_by_many_at_once_is_closed_once(app, db, s, factory):
    want = post(db, s, words="kontorsstol")
    closers = [s["teacher"], s["manager"], *(factory.manager(s["ystad"]) for _ in range(4))]
    actors = [signed_in_user(db, closer.id) for closer in closers]
    db.commit()
    engine = app.extensions["sharing.engine"]
    all_read = threading.Barrier(len(actors))
    results: dict[int, str] = {}

    def close(actor):
        with Session(bind=engine) as own:
            mine = own.get(Want, want.id)
            assert mine is not None and mine.status == "open"
            all_read.wait()  # every one of them has read it open before any closes it
            try:
                wants.close_want(own, want=mine, outcome=wants.WantStatus.FULFILLED, by=actor, now=utcnow())
                own.commit()
                results[actor.id] = "closed"
            except DomainError as error:
                own.rollback()
                results[actor.id] = error.message

    threads = [threading.Thread(target=close, args=(actor,)) for actor in actors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == len(actors)
    winners = [user_id for user_id, result in results.items() if result == "closed"]
    assert len(winners) == 1, results
    assert set(results.values()) == {"closed", "This wanted item is already closed."}
    db.expire_all()
    closed = db.get(Want, want.id)
    assert (closed.status, closed.closed_by_id) == ("fulfilled", winners[0])


def test_the_list_shows_each_viewer_what_is_shared_with_them(db, s):
    school_want = post(db, s, words="kontorsstol")
    post(db, s, who="librarian", words="bokhylla")
    skurup_want = post(db, s, who="skurup_teacher", words="whiteboard")
    closed = post(db, s, who="skurup_teacher", words="projektor")
    wants.close_want(db, want=closed, outcome=wants.WantStatus.WITHDRAWN, by=s["skurup_teacher"], now=utcnow())
    db.commit()

    def found(viewer, **filters):
        page = wants.find_wants(db, viewer=s[viewer], filters=wants.WantFilters(**filters), now=utcnow())
        return sorted(w.words for w in page.items)

    assert found("colleague") == ["kontorsstol"]
    assert found("manager") == ["bokhylla", "kontorsstol", "whiteboard"]
    assert found("manager", municipality_id=s["skurup"].id) == ["whiteboard"]
    assert found("manager", state="closed") == []
    assert found("skurup_teacher", state="all") == ["projektor", "whiteboard"]
    assert found("skurup_manager", state="closed") == ["projektor"]
    assert school_want.id and skurup_want.id


def test_an_expired_want_is_not_open(db, s):
    want = post(db, s, words="kontorsstol", needed_by=today_in_sweden(utcnow()))
    tomorrow = utcnow() + timedelta(days=1)
    assert not wants.is_expired(want, today=today_in_sweden(utcnow()))
    assert wants.is_expired(want, today=today_in_sweden(tomorrow))
    page = wants.find_wants(db, viewer=s["teacher"], filters=wants.WantFilters(state="expired"), now=tomorrow)
    assert [w.id for w in page.items] == [want.id]
    page = wants.find_wants(db, viewer=s["teacher"], filters=wants.WantFilters(), now=tomorrow)
    assert page.items == []


# --- Matching --------------------------------------------------------------------------------

def test_words_match_swedish_inflections_and_compounds(db, s, factory):
    post(db, s, words="kontorsstol")
    post(db, s, words="stol")
    post(db, s, words="kontorsstol röd")  # every word must be found
    post(db, s, words="skrivbord")
    listing = publish(factory, s, "Kontorsstolar, svarta")
    assert sorted(met(db, listing)) == ["kontorsstol", "stol"]


def test_the_want_category_or_any_category_above_the_listing_matches(db, s, factory):
    post(db, s, category_id=s["furniture"].id)
    post(db, s, words="stol", category_id=s["seating"].id)
    post(db, s, words="stol", category_id=s["office_chair"].id)
    post(db, s, words="stol", category_id=s["tables"].id)
    listing = publish(factory, s, "Kontorsstolar, svarta")
    assert sorted(met(db, listing), key=str) == sorted([s["furniture"].id, "stol", "stol"], key=str)
    matched = db.scalars(select(Want.category_id).join(WantMatch, WantMatch.want_id == Want.id)).all()
    assert s["tables"].id not in matched


def test_a_listing_for_its_own_municipality_only_meets_that_municipalitys_wants(db, s, factory):
    post(db, s, words="kontorsstol")
    post(db, s, who="skurup_teacher", words="kontorsstol")
    own = publish(factory, s, visibility="own")
    assert [w.municipality_id for w in wants.match_listing(db, listing=own, now=utcnow())] == [s["ystad"].id]
    shared = publish(factory, s, "Kontorsstol, grå")
    # Both wants are met; Ystad's poster, told of a match a moment ago, hears again tomorrow at the earliest.
    told = wants.match_listing(db, listing=shared, now=utcnow())
    assert [w.municipality_id for w in told] == [s["skurup"].id]
    assert db.scalar(select(func.count()).select_from(WantMatch).where(WantMatch.listing_id == shared.id)) == 2
    tomorrow = publish(factory, s, "Kontorsstol, blå")
    assert len(wants.match_listing(db, listing=tomorrow, now=utcnow() + timedelta(days=1, minutes=1))) == 2


def test_closed_expired_and_unpublished_are_not_matched(db, s, factory):
    closed = post(db, s, words="kontorsstol")
    wants.close_want(db, want=closed, outcome=wants.WantStatus.WITHDRAWN, by=s["teacher"], now=utcnow())
    expiring = post(db, s, words="kontorsstol", needed_by=today_in_sweden(utcnow()))
    db.commit()
    listing = publish(factory, s)
    later = utcnow() + timedelta(days=2)
    assert wants.match_listing(db, listing=listing, now=later) == []
    assert expiring.status == "open"
    draft = factory.listing(site=s["site"], category=s["office_chair"], by=s["manager"], title="Kontorsstol",
                            condition=Condition.GOOD, lend=True)
    assert wants.match_listing(db, listing=draft, now=utcnow()) == []


def test_a_pair_is_matched_once(db, s, factory):
    post(db, s, words="kontorsstol")
    listing = publish(factory, s)
    assert len(wants.match_listing(db, listing=listing, now=utcnow())) == 1
    db.commit()
    assert wants.match_listing(db, listing=listing, now=utcnow()) == []


def test_listings_already_there_are_recorded_with_a_new_want_without_telling(db, s, app, mailbox, factory):
    listing = publish(factory, s)
    publish(factory, s, "Skrivbord", category="tables")
    want = post(db, s, words="kontorsstolar")
    assert [m.listing_id for m in db.scalars(select(WantMatch))] == [listing.id]
    assert db.scalar(select(WantMatch.notified_at)) is None
    assert [x.id for x in db.scalars(wants.matching_query(db, want=want, viewer=s["teacher"]))] == [listing.id]
    # Publishing it again tells nobody: the poster saw it with the want.
    with app.test_request_context():
        listings.set_status(db, listing=listing, to=ListingStatus.DRAFT, by=s["manager"], now=utcnow())
        listings.set_status(db, listing=listing, to=ListingStatus.PUBLISHED, by=s["manager"], now=utcnow())
        db.commit()  # its events are dispatched: the receiver finds nothing new to tell
    assert mailbox.messages == []
    # Changed words: the page shows what meets them now.
    wants.edit_want(db, want=want, details=WantDetails(words="skrivbord"), by=s["teacher"], now=utcnow())
    db.commit()
    assert [x.title for x in db.scalars(wants.matching_query(db, want=want, viewer=s["teacher"]))] == ["Skrivbord"]


# --- Telling the poster, through the pages ----------------------------------------------------

def listing_form(s, **overrides):
    data = {"kind": "thing", "title": "Kontorsstolar, svarta", "category_id": str(s["office_chair"].id),
            "site_id": str(s["site"].id), "condition": "good", "quantity": "10", "lend": "y",
            "visibility": "partners", "description": "Tio likadana stolar."}
    return {**data, **overrides}


def list_and_publish(client, auth, s, manager="manager"):
    auth.login(s[manager])
    response = client.post("/catalog/new", data={**listing_form(s), "csrf_token": csrf_token(client, "/catalog/new")})
    listing_id = int(re.search(r"/catalog/(\d+)", response.headers["Location"]).group(1))
    response = client.post(f"/catalog/{listing_id}/status",
                           data={"status": "published", "csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302
    return listing_id


def test_a_published_listing_that_matches_tells_the_poster_once_in_swedish(client, auth, db, s, mailbox):
    skurup_want = post(db, s, who="skurup_teacher", words="kontorsstol")
    post(db, s, who="librarian", words="bokhylla")
    listing_id = list_and_publish(client, auth, s)

    assert len(mailbox.messages) == 1
    mail = mailbox.messages[0]
    assert mail["To"] == s["skurup_teacher"].email
    assert mail["Subject"] == "En annons matchar din efterlysning"
    body = mail.get_content()
    assert "Kontorsstolar, svarta (Ystad)" in body and "matchar din efterlysning ”kontorsstol”" in body
    assert mailbox.link(mail) == f"http://delning.test/catalog/{listing_id}"
    assert f"http://delning.test/wants/{skurup_want.id}" in body
    notification = db.scalars(select(Notification)).one()
    assert (notification.user_id, notification.url) == (s["skurup_teacher"].id, f"/catalog/{listing_id}")

    # Editing it again, or unpublishing and publishing it again, tells nobody a second time.
    token = csrf_token(client, f"/catalog/{listing_id}/edit")
    client.post(f"/catalog/{listing_id}/edit", data={**listing_form(s, quantity="8"), "csrf_token": token})
    for status in ("draft", "published"):
        client.post(f"/catalog/{listing_id}/status", data={"status": status, "csrf_token": token})
    assert len(mailbox.messages) == 1
    assert db.scalar(select(func.count()).select_from(Notification)) == 1
    assert db.scalar(select(func.count()).select_from(WantMatch)) == 1


def test_an_edit_that_makes_a_listing_match_tells_the_poster(client, auth, db, s, mailbox):
    post(db, s, words="kontorsstol", category_id=s["seating"].id)
    auth.login(s["manager"])
    token = csrf_token(client, "/catalog/new")
    response = client.post("/catalog/new", data={**listing_form(s, title="Stolar", category_id=str(s["tables"].id)),
                                                 "csrf_token": token})
    listing_id = int(re.search(r"/catalog/(\d+)", response.headers["Location"]).group(1))
    client.post(f"/catalog/{listing_id}/status", data={"status": "published", "csrf_token": token})
    assert mailbox.messages == []
    client.post(f"/catalog/{listing_id}/edit", data={**listing_form(s, title="Kontorsstolar"), "csrf_token": token})
    assert [m["To"] for m in mailbox.messages] == [s["teacher"].email]


def test_the_mail_reads_in_the_posters_language(client, auth, db, s, mailbox):
    s["skurup_teacher"].locale = "en"
    db.add(s["skurup_teacher"])
    db.commit()
    post(db, s, who="skurup_teacher", words="kontorsstol")
    list_and_publish(client, auth, s)
    assert mailbox.messages[0]["Subject"] == "A listing matches your wanted item"


def test_a_mail_that_cannot_be_sent_does_not_stop_the_listing(app, client, auth, db, s, mailbox):
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    app.config["MAIL_PORT"] = closed_port
    post(db, s, who="skurup_teacher", words="kontorsstol")
    listing_id = list_and_publish(client, auth, s)
    assert db.get(Listing, listing_id).status == "published"
    assert mailbox.messages == []
    assert db.scalar(select(Notification.user_id)) == s["skurup_teacher"].id, "told in the service all the same"


def test_publishing_through_the_api_tells_the_poster_too(client, auth, db, s, mailbox, factory):
    post(db, s, who="skurup_teacher", words="kontorsstol")
    listing = factory.listing(site=s["site"], category=s["office_chair"], by=s["manager"], title="Kontorsstol",
                              condition=Condition.GOOD, lend=True)
    auth.login(s["manager"])
    response = client.post(f"{PREFIX}/listings/{listing.id}/status", json={"status": "published"},
                           headers={"X-CSRFToken": csrf_token(client, "/")})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert [m["To"] for m in mailbox.messages] == [s["skurup_teacher"].email]


# --- Pages ------------------------------------------------------------------------------------

def test_an_employee_posts_a_want_and_sees_it_with_its_matches(client, auth, db, s, factory):
    listing = publish(factory, s)
    s["rydsgard"] = factory.site(s["skurup"], locality="Rydsgård")
    partners = publish(factory, s, title="Kontorsstol med nackstöd", manager="skurup_manager", site="rydsgard")
    auth.login(s["teacher"])
    page = client.get("/wants/").get_data(as_text=True)
    assert "Efterlys något" in page
    token = csrf_token(client, "/wants/new")
    response = client.post("/wants/new", data={"words": "kontorsstol", "category_id": "", "quantity": "6",
                                               "needed_by": "", "description": "Till lärarrummet.",
                                               "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Till lärarrummet." in detail and "6 st" in detail
    assert f"/catalog/{listing.id}" in detail and "Kontorsstolar, svarta" in detail
    assert f"/catalog/{partners.id}" in detail
    # Each card says where it stands, as in search results.
    places = re.findall(r'<p class="card-place">([^<]*)</p>', detail)
    assert sorted(places) == ["Skurup · Rydsgård", "Ystad · Ystad"], places
    assert "/catalog/?q=kontorsstol" in detail  # the search, prefilled
    assert "kontorsstol" in client.get("/wants/").get_data(as_text=True)


def test_an_english_reader_sees_the_categories_english_names(client, auth, db, s):
    want = post(db, s, words="", category_id=s["office_chair"].id)
    s["teacher"].locale = "en"
    db.add(s["teacher"])
    db.commit()
    auth.login(s["teacher"])
    for path in ("/wants/", f"/wants/{want.id}"):
        page = client.get(path).get_data(as_text=True)
        assert "Office chair" in page and "Kontorsstol" not in page, path
    options = re.findall(r"<option[^>]*>([^<]*)</option>", client.get("/wants/new").get_data(as_text=True))
    assert "\u2003\u2003Office chair" in options and "Furniture" in options


def test_a_bad_want_form_shows_a_swedish_error_and_saves_nothing(client, auth, db, s):
    auth.login(s["teacher"])
    token = csrf_token(client, "/wants/new")
    response = client.post("/wants/new", data={"words": "", "category_id": "", "quantity": "1",
                                               "csrf_token": token})
    assert response.status_code == 200
    assert "Skriv vad du behöver" in response.get_data(as_text=True)
    assert db.scalar(select(Want)) is None


def test_without_a_unit_the_page_says_why_no_want_can_be_posted(client, auth, s):
    auth.login(s["no_unit"])
    page = client.get("/wants/new").get_data(as_text=True)
    assert "tillhör ingen enhet" in page and 'name="words"' not in page


def test_facility_managers_see_every_partners_open_wants_and_close_their_own(client, auth, db, s):
    ystad_want = post(db, s, words="kontorsstol")
    skurup_want = post(db, s, who="skurup_teacher", words="whiteboard", category_id=s["furniture"].id)
    auth.login(s["manager"])
    page = client.get("/wants/").get_data(as_text=True)
    assert "kontorsstol" in page and "whiteboard" in page and "Rydsgårds skola, Skurup" in page
    page = client.get(f"/wants/?municipality_id={s['skurup'].id}").get_data(as_text=True)
    assert "whiteboard" in page and "kontorsstol" not in page
    detail = client.get(f"/wants/{skurup_want.id}").get_data(as_text=True)
    assert f"/catalog/?q=whiteboard&amp;category_id={s['furniture'].id}" in detail
    assert 'name="outcome"' not in detail  # not theirs to close
    token = csrf_token(client, "/")
    assert client.post(f"/wants/{skurup_want.id}/close", data={"outcome": "fulfilled",
                                                                "csrf_token": token}).status_code == 403
    assert client.get(f"/wants/{ystad_want.id}/edit").status_code == 403, "only the poster changes it"
    response = client.post(f"/wants/{ystad_want.id}/close", data={"outcome": "fulfilled", "csrf_token": token})
    assert response.status_code == 302
    db.refresh(ystad_want)
    db.refresh(skurup_want)
    assert (ystad_want.status, skurup_want.status) == ("fulfilled", "open")


def test_another_municipality_cannot_see_edit_or_close_a_want(client, auth, db, s):
    want = post(db, s, words="kontorsstol")
    auth.login(s["skurup_teacher"])
    token = csrf_token(client, "/")
    assert client.get(f"/wants/{want.id}").status_code == 404
    assert client.get(f"/wants/{want.id}/edit").status_code == 404
    assert client.post(f"/wants/{want.id}/edit", data={"words": "kapad", "quantity": "1",
                                                       "csrf_token": token}).status_code == 404
    assert client.post(f"/wants/{want.id}/close", data={"outcome": "withdrawn", "csrf_token": token}).status_code == 404
    assert "kontorsstol" not in client.get("/wants/?state=all").get_data(as_text=True)
    db.refresh(want)
    assert (want.status, want.words) == ("open", "kontorsstol")


def test_the_poster_changes_and_withdraws_a_want(client, auth, db, s):
    want = post(db, s, words="kontorsstol")
    auth.login(s["teacher"])
    token = csrf_token(client, f"/wants/{want.id}/edit")
    response = client.post(f"/wants/{want.id}/edit", data={"words": "kontorsstolar med armstöd", "quantity": "3",
                                                           "category_id": str(s["seating"].id), "csrf_token": token})
    assert response.status_code == 302
    db.refresh(want)
    assert (want.words, want.quantity, want.category_id) == ("kontorsstolar med armstöd", 3, s["seating"].id)
    assert client.post(f"/wants/{want.id}/close", data={"outcome": "nonsense", "csrf_token": token}).status_code == 400
    client.post(f"/wants/{want.id}/close", data={"outcome": "withdrawn", "csrf_token": token})
    db.refresh(want)
    assert want.status == "withdrawn"
    assert "Behövs inte längre" in client.get(f"/wants/{want.id}").get_data(as_text=True)


# --- API -------------------------------------------------------------------------------------

def test_the_api_reads_one_page_of_a_want_s_matches_not_all_of_them(app, client, auth, db, s, factory):

    listings = [publish(factory, s, title=f"Kontorsstolar {n}") for n in range(3)]
    want = post(db, s, words="kontorsstol")
    auth.login(s["teacher"])
    everyone = [x["id"] for x in client.get(f"{PREFIX}/wants/{want.id}/matches").get_json()["items"]]
    assert sorted(everyone) == sorted(listing.id for listing in listings)
    with statements_on(app.extensions["sharing.engine"]) as statements:
        body = client.get(f"{PREFIX}/wants/{want.id}/matches?per_page=2&page=2").get_json()
    assert (body["total"], [x["id"] for x in body["items"]]) == (3, everyone[2:])
    read = [statement for statement in statements if "want_match" in statement and "count(" not in statement]
    assert read and all("LIMIT" in statement for statement in read), read


def test_the_api_posts_reads_changes_and_closes_wants(client, auth, db, s, factory):
    listing = publish(factory, s)
    auth.login(s["teacher"])
    headers = {"X-CSRFToken": csrf_token(client, "/")}
    response = client.post(f"{PREFIX}/wants", json={"words": "kontorsstol", "quantity": 2}, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    created = response.get_json()
    assert (created["words"], created["status"], created["expired"], created["unit_id"]) == (
        "kontorsstol", "open", False, s["teacher"].unit_id)
    want_id = created["id"]
    assert client.get(f"{PREFIX}/wants/{want_id}").get_json()["quantity"] == 2
    assert [x["id"] for x in client.get(f"{PREFIX}/wants/{want_id}/matches").get_json()["items"]] == [listing.id]
    body = client.get(f"{PREFIX}/wants?mine=true").get_json()
    assert (body["total"], body["items"][0]["id"]) == (1, want_id)

    response = client.post(f"{PREFIX}/wants", json={"words": "", "quantity": 1}, headers=headers)
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "words"
    # A body that is no object concerns no field: null, as a refusal of the request as a whole
    response = client.post(f"{PREFIX}/wants", json=["stol"], headers=headers)
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] is None
    assert client.post(f"{PREFIX}/wants", json={"words": "stol", "quantity": 0},
                       headers=headers).status_code == 422
    assert client.get(f"{PREFIX}/wants?state=nonsense").status_code == 400

    response = client.put(f"{PREFIX}/wants/{want_id}", json={"words": "stol", "quantity": 5}, headers=headers)
    assert response.status_code == 200 and response.get_json()["words"] == "stol"
    response = client.post(f"{PREFIX}/wants/{want_id}/close", json={"outcome": "fulfilled"}, headers=headers)
    assert response.status_code == 200 and response.get_json()["status"] == "fulfilled"
    response = client.post(f"{PREFIX}/wants/{want_id}/close", json={"outcome": "withdrawn"}, headers=headers)
    assert response.status_code == 422


def test_the_api_keeps_wants_within_what_is_shared(client, auth, db, s):
    want = post(db, s, words="kontorsstol")
    auth.login(s["skurup_manager"])
    headers = {"X-CSRFToken": csrf_token(client, "/")}
    assert client.get(f"{PREFIX}/wants/{want.id}").status_code == 200, "an open want is shared with partners"
    assert client.put(f"{PREFIX}/wants/{want.id}", json={"words": "kapad"}, headers=headers).status_code == 403
    assert client.post(f"{PREFIX}/wants/{want.id}/close", json={"outcome": "withdrawn"},
                       headers=headers).status_code == 403
    auth.logout()
    auth.login(s["skurup_teacher"])
    assert client.get(f"{PREFIX}/wants/{want.id}").status_code == 404
    assert client.get(f"{PREFIX}/wants").get_json()["total"] == 0
    db.refresh(want)
    assert (want.status, want.words) == ("open", "kontorsstol")


def test_wants_are_in_the_openapi_document(client):
    paths = client.get(f"{PREFIX}/openapi.json").get_json()["paths"]
    assert {"get", "post"} <= set(paths["/wants"])
    assert {"get", "put"} <= set(paths["/wants/{want_id}"])
    assert "post" in paths["/wants/{want_id}/close"]
    assert "get" in paths["/notifications"]


# --- Demo data ----------------------------------------------------------------------------------

def test_the_demo_wants_load_once(db, app):
    with app.app_context():
        accounts_demo.load(db)
        catalog_demo.load(db, count=40)
        assert catalog_demo.load_wants(db) == {"wanted items": len(catalog_demo.DEMO_WANTS)}
        assert catalog_demo.load_wants(db) == {"wanted items": 0}
        db.commit()
    assert db.scalar(select(func.count()).select_from(Want).where(Want.status == "open")) == len(
        catalog_demo.DEMO_WANTS)

