"""The search page keeps its rendered results per catalog revision: every committed change to
what it shows moves the revision on, so nobody is shown a stale page."""

import re

import pytest
from sqlalchemy import update

from sharing.accounts.models import Role, Site
from sharing.catalog import listings, revision
from sharing.catalog.models import Category, Condition, Listing, ListingStatus, ResourceKind, Visibility
from sharing.db import utcnow
from sharing.web.fragments import FragmentCache
from tests.conftest import csrf_token


@pytest.fixture
def setting(db, factory):
    ystad = factory.municipality("Ystad", "1286")
    skurup = factory.municipality("Skurup", "1264")
    chairs = Category(slug="kontorsstol-test", name="Kontorsstol", name_en="Office chair")
    db.add(chairs)
    db.commit()
    return {"ystad": ystad, "skurup": skurup, "chairs": chairs, "site": factory.site(ystad),
            "manager": factory.user(ystad, Role.FACILITY_MANAGER), "employee": factory.user(ystad, Role.EMPLOYEE),
            "skurup_employee": factory.user(skurup, Role.EMPLOYEE)}


def publish(db, s, title, **overrides):
    details = listings.ListingDetails(kind=ResourceKind.THING, title=title, category_id=s["chairs"].id,
                                      site_id=s["site"].id, quantity=1, lend=True,
                                      condition=Condition.GOOD, **overrides)
    listing = listings.save_listing(db, details=details, by=s["manager"], now=utcnow())
    listings.set_status(db, listing=listing, to=ListingStatus.PUBLISHED, by=s["manager"], now=utcnow())
    db.commit()
    return listing


def test_the_revision_moves_with_committed_catalog_changes_only(db, setting, factory):
    start = revision.current(db)
    listing = publish(db, setting, "Kontorsstol")
    after_publish = revision.current(db)
    assert after_publish > start
    listing.title = "Kontorsstol, blå"
    db.rollback()  # not committed: the catalog is as it was
    assert revision.current(db) == after_publish
    factory.user(setting["ystad"], Role.EMPLOYEE)  # nothing the search shows
    assert revision.current(db) == after_publish
    db.execute(update(Listing).where(Listing.id == listing.id).values(quantity=2))  # a bulk statement counts too
    db.commit()
    assert revision.current(db) == after_publish + 1
    site = db.get(Site, setting["site"].id)
    site.name = "Nytt namn"
    db.commit()
    assert revision.current(db) == after_publish + 2


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


def test_the_cache_is_bounded_in_size_and_counts_hits():
    cache = FragmentCache(max_bytes=100, seconds=60)
    assert cache.get_or_render("a", lambda: "x" * 60) == "x" * 60
    assert cache.get_or_render("a", lambda: "changed") == "x" * 60
    cache.get_or_render("b", lambda: "y" * 60)  # no room for both: the least recently used goes
    assert cache.get_or_render("a", lambda: "again") == "again"
    assert cache.get_or_render("huge", lambda: "z" * 101) == "z" * 101  # too large to keep
    assert cache.get_or_render("huge", lambda: "new") == "new"
    assert (cache.hits, cache.misses) == (1, 5)


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
