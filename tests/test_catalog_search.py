"""Swedish search: what it finds, in what order, on SQLite and on PostgreSQL alike."""

import pytest

from sharing.accounts.models import Role
from sharing.catalog.listings import rules as listings
from sharing.catalog.listings import search as search
from sharing.catalog.listings.models import ListingStatus


def test_words_and_stems_handle_swedish():
    assert search.words("Höj- och SÄNKBART skrivbord, 2 st") == ["höj", "och", "sänkbart", "skrivbord", "2", "st"]
    assert search.stems("stolarna kontorsstolar soffor lådor") == ["stol", "kontorsstol", "soff", "låd"]
    # Any text is a query: nothing is syntax.
    assert search.query_terms('"stol* AND NEAR( : -') == ["stol", "and", "near"]


@pytest.fixture
def catalog(factory):
    municipality = factory.municipality("Ystad", "1286")
    site = factory.site(municipality)
    manager = factory.user(municipality, Role.FACILITY_MANAGER)
    furniture = factory.category("Möbler", name_en="Furniture")
    made = {}

    def listing(title, description="", status=ListingStatus.PUBLISHED):
        made[title] = factory.listing(site=site, category=furniture, by=manager, title=title,
                                      description=description, lend=True, status=status)
        return made[title]

    return manager, listing, made


def titles(db, viewer, q, **filters):
    page = listings.find(db, viewer=viewer, filters=listings.Filters(q=q, **filters))
    return [item.title for item in page.items]


def test_compounds_and_inflections_are_found(db, catalog):
    viewer, listing, _ = catalog
    listing("Kontorsstolar, svarta")
    listing("Skrivbord, höj- och sänkbart")
    listing("Soffa i grått tyg")
    listing("Lådor i plast")
    assert titles(db, viewer, "stol") == ["Kontorsstolar, svarta"]
    assert titles(db, viewer, "kontorsstol") == ["Kontorsstolar, svarta"]
    assert titles(db, viewer, "skrivbord") == ["Skrivbord, höj- och sänkbart"]
    assert titles(db, viewer, "Sänkbara SKRIVBORD") == ["Skrivbord, höj- och sänkbart"]
    assert titles(db, viewer, "soffor") == ["Soffa i grått tyg"]
    assert titles(db, viewer, "låda") == ["Lådor i plast"]
    assert titles(db, viewer, "sten") == []


def test_a_whole_word_in_the_title_ranks_above_a_compound_and_the_description(db, catalog):
    viewer, listing, _ = catalog
    listing("Bord med hjul", description="Passar till en stol")
    listing("Kontorsstol med armstöd")
    listing("Stol, ek")
    listing("Stolsdynor")
    assert titles(db, viewer, "stol") == ["Stol, ek", "Stolsdynor", "Kontorsstol med armstöd", "Bord med hjul"]


def test_every_word_must_match(db, catalog):
    viewer, listing, _ = catalog
    listing("Skrivbord i ek")
    listing("Matbord i ek")
    assert titles(db, viewer, "ek skrivbord") == ["Skrivbord i ek"]
    assert sorted(titles(db, viewer, "ek")) == ["Matbord i ek", "Skrivbord i ek"]  # a two-letter word works too


def test_hostile_input_is_just_text(db, catalog):
    viewer, listing, _ = catalog
    listing("Stol")
    for query in ['"', "*", "AND", "NEAR(", ":", "%", "_", "\\", "' OR 1=1 --", "stol\"*"]:
        titles(db, viewer, query)  # must not raise
    assert titles(db, viewer, "%") == [] and titles(db, viewer, "_") == []


def test_search_follows_edits(db, catalog):
    viewer, listing, made = catalog
    item = listing("Bokhylla")
    item.title = "Vitrinskåp"
    listings.index(db, item)
    db.commit()
    assert titles(db, viewer, "bokhylla") == []
    assert titles(db, viewer, "vitrinskåp") == ["Vitrinskåp"]
    db.delete(item)
    db.commit()
    assert titles(db, viewer, "vitrinskåp") == []


def test_drafts_and_withdrawn_are_not_found(db, catalog):
    viewer, listing, _ = catalog
    listing("Stol A", status=ListingStatus.DRAFT)
    listing("Stol B", status=ListingStatus.WITHDRAWN)
    listing("Stol C", status=ListingStatus.RESERVED)
    assert titles(db, viewer, "stol") == ["Stol C"]
