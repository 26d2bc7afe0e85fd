"""SQLite's search index holds each word's endings (``search_index``), and a term is asked of it
as a prefix: it must find what LIKE finds in a listing's words, as the listing changes and goes."""

import random

import pytest
from sqlalchemy import select, text

from sharing.catalog.listings import rules as listings
from sharing.catalog.listings import search, search_index
from sharing.catalog.listings.models import Listing

LONG = "Kontors-stols-dyne-klädsel-tygs-prov-bok-hylle-plan"  # joined into one word of 41 letters
TITLES = ["Kontorsstol", "Stolsdyna", "Ekbord", "Skåp i ek", "Bokhylla", "Lekmatta", "TV-bänk", "Σκαμπό i björk", LONG]
# Inside words, at their ends and starts, whole words, å ä ö, a compound written with a hyphen,
# a short word at a word's start, digits, parts of a word longer than an ending (a longer part
# too), and letters the app leaves to LIKE.
PATTERNS = ["stol", "tol", "kontor", "ekbord", "dyna", "bok", "hyll", "skåp", "skap", "lekmat", "tvbänk", "bänk",
            " ek", " bo", " x", " k", "björk", "σκαμπ", "demo", "demo3", "hylleplan", "kontorsstolsdyneklädseltygsprov",
            "kontorsstolsdyneklädseltygsprovbokhylleplan", " kontorsstolsdyneklädseltygsprovbokhyll"]


@pytest.fixture
def municipality(factory):
    return factory.municipality()


@pytest.fixture
def titled(factory, municipality):
    manager, site = factory.manager(municipality), factory.site(municipality)
    return [factory.listing(site=site, by=manager, title=title, inventory_number=f"demo{n}", published=True)
            for n, title in enumerate(TITLES)]


def found_by_index(db, pattern):
    query = search.listings(db.get_bind().dialect.name, [Listing.id], [], [search.Has(pattern)], [])
    return set(db.scalars(query))


def found_by_like(db, pattern):
    return set(db.scalars(select(Listing.id).where(text("' ' || listing.search_text LIKE :pattern"))
                          .params(pattern=f"%{pattern}%")))


def test_the_index_finds_what_like_finds(db, titled):
    for pattern in PATTERNS:
        assert found_by_index(db, pattern) == found_by_like(db, pattern), pattern
    assert found_by_index(db, "stol") == {titled[0].id, titled[1].id, titled[8].id}
    assert found_by_index(db, " ek") == {titled[2].id, titled[3].id}  # at a word's start: not Lekmatta
    assert found_by_index(db, "σκαμπ") == {titled[7].id}  # not in the index's alphabet: asked by LIKE


def test_the_index_follows_a_listing_s_words_as_they_change_and_go(db, titled):
    chair, _cushion, table = titled[:3]
    chair.title = "Pall"
    listings.index(db, chair)
    db.delete(table)
    db.flush()
    for pattern in PATTERNS + ["pall", "kontorsstol"]:
        assert found_by_index(db, pattern) == found_by_like(db, pattern), pattern
    assert chair.id in found_by_index(db, "pall") and chair.id not in found_by_index(db, "kontor")
    assert not found_by_index(db, "ekbord")


def test_a_term_in_another_alphabet_is_found_by_a_search(db, factory, municipality, titled):
    page = listings.find(db, viewer=factory.user(municipality), filters=listings.Filters(q="σκαμπό"))
    assert [item.title for item in page.items] == ["Σκαμπό i björk"]


def test_a_listing_s_words_as_the_index_holds_them():
    held = search_index.word_endings("kontorsstol i ek").split()
    assert held[:3] == ["^kontorsstol", "^i", "^ek"]
    assert {"kontorsstol", "stol", "tol", "sstol"} <= set(held)
    assert "ol" not in held and "ek" not in held  # endings of three letters or more


def test_a_long_word_costs_the_index_its_length_not_its_square():
    word = "".join(random.Random(3).choices("abcdefghijklmnopqrstuvwxyzåäö", k=5000))  # a description's worth
    held = search_index.word_endings(word).split()
    assert len(held) == 1 + len(word) - 2  # the word marked, and each ending
    assert max(len(token) for token in held) == search_index.LONGEST_ENDING + 1  # the marked word, cut
    assert not search_index.answers("a" * (search_index.LONGEST_ENDING + 1))  # asked of LIKE instead
