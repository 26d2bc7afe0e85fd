"""The search page keeps its rendered results per catalog revision: every committed change to
what it shows moves the revision on, so nobody is shown a page staler than the search's lag."""

import os
import re
import time

import pytest
from markupsafe import Markup
from sqlalchemy import text, update
from sqlalchemy.orm import Session

from sharing.accounts.models import Role, Site, User
from sharing.catalog.listings import revision as revision
from sharing.catalog.listings.models import Condition, Listing, Visibility
from sharing.db import make_engine
from sharing.web.fragments import FragmentCache, code_and_settings_stamp
from tests.conftest import csrf_token
from tests.factories import Factory


@pytest.fixture
def setting(factory):
    ystad = factory.municipality("Ystad", "1286")
    skurup = factory.municipality("Skurup", "1264")
    chairs = factory.category("Kontorsstol", name_en="Office chair")
    return {"ystad": ystad, "skurup": skurup, "chairs": chairs, "site": factory.site(ystad),
            "manager": factory.user(ystad, Role.FACILITY_MANAGER), "employee": factory.user(ystad, Role.EMPLOYEE),
            "skurup_employee": factory.user(skurup, Role.EMPLOYEE)}


def publish(session, s, title, **overrides):
    """Ystad's listing, published through the listing factory in this session (another process's in one test)."""
    return Factory(session).listing_published(site=s["site"], category=s["chairs"], by=s["manager"], title=title,
                                              quantity=1, lend=True, condition=Condition.GOOD, **overrides)


def test_the_revision_moves_with_committed_catalog_changes_only(db, setting, factory):
    start = revision.current(db)
    listing = publish(db, setting, "Kontorsstol")
    after_publish = revision.current(db)
    assert after_publish != start
    listing.title = "Kontorsstol, blå"
    db.rollback()  # not committed: the catalog is as it was
    assert revision.current(db) == after_publish
    factory.user(setting["ystad"], Role.EMPLOYEE)  # nothing the search shows
    assert revision.current(db) == after_publish
    db.execute(update(Listing).where(Listing.id == listing.id).values(quantity=2))  # a bulk statement counts too
    db.commit()
    after_bulk = revision.current(db)
    assert after_bulk != after_publish
    site = db.get(Site, setting["site"].id)
    site.name = "Nytt namn"
    db.commit()
    assert revision.current(db) not in (after_publish, after_bulk)


@pytest.mark.parametrize("how", ["table", "connection", "text"])
def test_writes_past_the_orm_move_the_revision_too(db, setting, how):
    listing = publish(db, setting, "Kontorsstol")
    before = revision.current(db)
    if how == "table":
        db.execute(update(Listing.__table__).where(Listing.__table__.c.id == listing.id).values(quantity=3))
    elif how == "connection":
        db.connection().execute(update(Listing).where(Listing.id == listing.id).values(quantity=3))
    else:
        db.execute(text("UPDATE listing SET quantity = 3 WHERE id = :id"), {"id": listing.id})
        revision.note_change(db.connection())  # raw text says nothing of what it changes
    db.commit()
    assert revision.current(db) != before


def test_a_rolled_back_savepoint_does_not_forget_what_was_flushed_before_it(db, setting):
    listing = publish(db, setting, "Kontorsstol")
    before = revision.current(db)
    listing.title = "Kontorsstol, blå"
    db.flush()
    savepoint = db.begin_nested()
    savepoint.rollback()  # a try/except around an insert that may break a unique constraint, say
    db.commit()
    assert revision.current(db) != before


def test_a_change_shows_in_the_next_search_at_once(client, auth, setting, db):
    publish(db, setting, "Kontorsstol, svart")
    auth.login(setting["employee"])
    assert "Kontorsstol, svart" in client.get("/catalog/?q=stol").get_data(as_text=True)
    assert "Kontorsstol, vit" not in client.get("/catalog/?q=stol").get_data(as_text=True)
    white = publish(db, setting, "Kontorsstol, vit")
    page = client.get("/catalog/?q=stol").get_data(as_text=True)
    assert "Kontorsstol, svart" in page and "Kontorsstol, vit" in page
    auth.logout()
    auth.login(setting["manager"])
    response = client.post(f"/catalog/{white.id}/status", data={"status": "withdrawn",
                                                                 "csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302
    assert "Kontorsstol, vit" not in client.get("/catalog/?q=stol").get_data(as_text=True)


@pytest.mark.parametrize("lag", [0, 1])
def test_a_change_made_by_another_process_shows_within_the_lag(app, client, auth, setting, db, lag):
    app.config["SEARCH_LAG_SECONDS"] = lag
    auth.login(setting["employee"])
    # The lag runs from when this process last learnt the revision: the setting's own writes
    # taught it some time ago (a slow machine, a second), so it learns it anew now.
    revision.current(db, max_age=0)
    asked = time.monotonic()
    for _ in range(2):  # the second checks the kept page: the worker reads the catalog's log then
        assert "Kontorsstol, röd" not in client.get("/catalog/?q=stol").get_data(as_text=True)
    other_process = make_engine(app.config["SHARING_DATABASE_URL"])  # it draws tokens ours never hears of
    try:
        with Session(bind=other_process, expire_on_commit=False) as other:
            publish(other, {**setting, "manager": other.get(User, setting["manager"].id)}, "Kontorsstol, röd")
    finally:
        other_process.dispose()
    page = client.get("/catalog/?q=stol").get_data(as_text=True)
    if lag == 0:
        assert "Kontorsstol, röd" in page
        return
    if time.monotonic() - asked < lag:  # within the lag, the revision this worker knew still holds
        assert "Kontorsstol, röd" not in page
    time.sleep(lag * 1.2)
    assert "Kontorsstol, röd" in client.get("/catalog/?q=stol").get_data(as_text=True)


def test_kept_results_are_never_shown_to_another_municipality_or_language(client, auth, setting, db):
    publish(db, setting, "Kontorsstol för Ystad", visibility=Visibility.OWN_MUNICIPALITY)
    auth.login(setting["employee"])
    assert "Kontorsstol för Ystad" in client.get("/catalog/?q=stol").get_data(as_text=True)
    auth.logout()
    auth.login(setting["skurup_employee"])
    page = client.get("/catalog/?q=stol").get_data(as_text=True)
    assert "Kontorsstol för Ystad" not in page and "0 annonser" in page
    client.post("/language", data={"language": "en", "next": "/", "csrf_token": csrf_token(client, "/")})
    assert "0 listings" in client.get("/catalog/?q=stol").get_data(as_text=True)


def test_kept_parts_are_shared_bounded_in_number_and_expire(tmp_path):
    cache = FragmentCache(str(tmp_path), entries=2, seconds=60)
    assert cache.get_or_render("a", lambda: "<b>x</b>") == Markup("<b>x</b>")
    assert cache.get_or_render("a", lambda: "changed") == "<b>x</b>"
    other_worker = FragmentCache(str(tmp_path), entries=2, seconds=60)
    assert other_worker.get_or_render("a", lambda: "changed") == "<b>x</b>"  # rendered once for all
    for key in "bcdefghij":
        cache.get_or_render(key, lambda: "y")
    cache.prune()
    assert len(list(tmp_path.iterdir())) == 2
    short_lived = FragmentCache(str(tmp_path / "short"), entries=10, seconds=1)
    short_lived.get_or_render("a", lambda: "old")
    time.sleep(1.1)
    short_lived.prune()
    assert list((tmp_path / "short").iterdir()) == []
    assert short_lived.get_or_render("a", lambda: "new") == "new"


def test_a_part_read_from_another_worker_s_file_is_kept_no_longer_than_the_file(tmp_path):
    FragmentCache(str(tmp_path), entries=10, seconds=4).get_or_render("a", lambda: "old")
    time.sleep(2)
    other_worker = FragmentCache(str(tmp_path), entries=10, seconds=4)
    assert other_worker.get_or_render("a", lambda: "new") == "old"
    time.sleep(2.1)  # the file has expired; the memory of it too
    assert other_worker.get_or_render("a", lambda: "new") == "new"


def test_a_damaged_kept_part_is_rendered_anew(tmp_path):
    cache = FragmentCache(str(tmp_path), entries=10, seconds=60)
    cache.get_or_render("a", lambda: "<p>åäö</p>" * 100)
    (kept,) = tmp_path.iterdir()
    data = bytearray(kept.read_bytes())
    data[-200:-100] = bytes(100)  # a block lost in a crash
    kept.write_bytes(bytes(data))
    other_worker = FragmentCache(str(tmp_path), entries=10, seconds=60)  # the first keeps "a" in memory
    assert other_worker.get_or_render("a", lambda: "fresh") == "fresh"
    data = bytearray(kept.read_bytes())
    data[40] ^= 0xFF  # one byte changed
    kept.write_bytes(bytes(data))
    assert FragmentCache(str(tmp_path), entries=10, seconds=60).get_or_render("a", lambda: "again") == "again"


def test_kept_parts_do_not_outlive_the_code_or_settings_that_rendered_them(app):
    before = code_and_settings_stamp(app)
    app.config["MAP_TILE_URL"] = "https://kartor.example/{z}/{x}/{y}.png"
    assert code_and_settings_stamp(app) != before


def test_repeated_arguments_in_another_order_are_another_search(client, auth, setting, db):
    publish(db, setting, "Gul pall")
    publish(db, setting, "Grön hylla")
    auth.login(setting["employee"])
    first = client.get("/catalog/?q=pall&q=hylla").get_data(as_text=True)
    assert "Gul pall" in first and "Grön hylla" not in first  # the form reads the first q
    second = client.get("/catalog/?q=hylla&q=pall").get_data(as_text=True)
    assert "Grön hylla" in second and "Gul pall" not in second
    assert 'id="listing-map-points"' in client.get("/catalog/?view=map&view=list").get_data(as_text=True)
    page = client.get("/catalog/?view=list&view=map").get_data(as_text=True)
    assert 'class="listing-grid"' in page and 'id="listing-map-points"' not in page


def test_each_search_shows_its_own_words_and_filters(client, auth, setting, db):
    publish(db, setting, "Kontorsstol")
    auth.login(setting["employee"])
    client.get("/catalog/?q=stol&condition=good")
    page = client.get("/catalog/?q=bord&condition=good").get_data(as_text=True)
    assert 'value="bord"' in page and 'value="stol"' not in page  # the words are not kept with the filters
    assert re.search(r'<input[^>]*checked[^>]*value="good"|<input[^>]*value="good"[^>]*checked', page)
    page = client.get("/catalog/?q=bord&condition=fair").get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*value="fair"|<input[^>]*value="fair"[^>]*checked', page)
    assert not re.search(r'<input[^>]*checked[^>]*value="good"|<input[^>]*value="good"[^>]*checked', page)


def results_part(page: str) -> str:
    """The kept part of a search page: from its heading to the end of its main content."""
    return page[page.index("<h1>"):page.index("</main>")]


@pytest.mark.parametrize("first", ["manager", "employee"])
def test_a_kept_search_is_the_same_for_every_role_of_a_municipality(app, client, auth, setting, db, first):
    """Whatever one role's search leaves kept, another role of the same municipality gets what a
    fresh rendering would show it: nothing role-dependent may enter a kept part (loans will add
    actions to cards; they belong outside it)."""
    publish(db, setting, "Kontorsstol, svart")
    Factory(db).listing(site=setting["site"], category=setting["chairs"], by=setting["manager"],
                        title="Kontorsstol, utkast")  # a draft: the manager's own, found by nobody
    second = "employee" if first == "manager" else "manager"
    auth.login(setting[first])
    client.get("/catalog/?q=stol")
    auth.logout()
    auth.login(setting[second])
    kept = results_part(client.get("/catalog/?q=stol").get_data(as_text=True))
    fragments = app.extensions.pop("sharing.fragments")  # now nothing is kept: rendered for this reader
    try:
        fresh = results_part(client.get("/catalog/?q=stol").get_data(as_text=True))
    finally:
        app.extensions["sharing.fragments"] = fragments
    assert kept == fresh
    assert "Kontorsstol, svart" in kept and "utkast" not in kept


def test_the_filter_panel_outlives_listing_changes_and_follows_its_choices(app, client, auth, setting, db):
    """Listings change many times a second; the panel's choices (categories, municipalities,
    the reader's sites) rarely do: it is kept across the first and renewed by the second."""
    folder = app.config["PAGE_CACHE_DIR"]

    def kept() -> int:
        return len([name for name in os.listdir(folder) if not name.startswith(".")])

    publish(db, setting, "Kontorsstol, svart")
    auth.login(setting["employee"])
    client.get("/catalog/?q=stol&kind=thing")
    assert kept() == 2  # the results, and the filter panel within them
    publish(db, setting, "Kontorsstol, vit")  # a new match: the kept results retire
    page = client.get("/catalog/?q=stol&kind=thing").get_data(as_text=True)
    assert "Kontorsstol, vit" in page and kept() == 2  # new results in the old ones' place, the same panel
    setting["chairs"].name = "Kontorsstolar och pallar"
    db.add(setting["chairs"])
    db.commit()
    page = client.get("/catalog/?q=stol&kind=thing").get_data(as_text=True)
    assert "Kontorsstolar och pallar" in page and kept() == 3  # the panel's choices changed: rendered anew
