"""Kept search results outlive the catalog's changes that do not touch them (kept_results), by
the log of what changed (revision.changes_since), which the database's triggers write."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import delete, insert, update

from sharing.accounts.models import Role
from sharing.catalog.holds.models import Hold
from sharing.catalog.listings import revision as revision
from sharing.catalog.listings import rules as listings
from sharing.catalog.listings.kept_results import Found, still_shows
from sharing.catalog.listings.models import Condition, Listing
from sharing.catalog.listings.revision import LOGGED_BY_LISTING, Changes
from sharing.catalog.listings.rules import COUNT_LIMIT
from sharing.catalog.photos.models import ListingPhoto
from sharing.clock import utcnow
from tests.factories import Factory

STOL = (("stol",),)


@pytest.fixture
def setting(factory):
    ystad = factory.municipality("Ystad", "1286")
    chairs = factory.category("Kontorsstol", name_en="Office chair")
    return {"ystad": ystad, "chairs": chairs, "site": factory.site(ystad),
            "manager": factory.user(ystad, Role.FACILITY_MANAGER), "employee": factory.user(ystad, Role.EMPLOYEE)}


def publish(session, s, title, **overrides):
    return Factory(session).listing_published(site=s["site"], category=s["chairs"], by=s["manager"], title=title,
                                              quantity=1, lend=True, condition=Condition.GOOD, **overrides)


# --- What a page rests on, against what changed -------------------------------------------------

def test_a_change_to_a_listing_neither_matched_nor_matching_leaves_the_page_as_it_was():
    found = Found(seq=5, matched=frozenset({1, 2}), complete=True, counted=2, patterns=STOL)
    assert still_shows(found, Changes(7, {3: "bokhyll vit", 4: None}))
    assert still_shows(found, Changes(7, {}))


@pytest.mark.parametrize("changes", [
    Changes(7, {2: "bokhyll"}),  # a listing it showed changed (or left)
    Changes(7, {2: None}),  # was deleted
    Changes(7, {3: "kontorsstol svart"}),  # may now match
    Changes(7, {}, anything=True),  # a category, a site, a municipality
])
def test_a_change_that_may_touch_the_page_retires_it(changes):
    found = Found(seq=5, matched=frozenset({1, 2}), complete=True, counted=2, patterns=STOL)
    assert not still_shows(found, changes)


def test_a_search_without_words_may_match_any_listing_changed():
    found = Found(seq=5, matched=frozenset({1, 2}), complete=True, counted=2, patterns=())
    assert not still_shows(found, Changes(7, {3: "bokhyll"}))
    assert still_shows(found, Changes(7, {3: None}))  # gone, and not one of its matches


def test_mistyped_words_and_short_words_are_tested_as_the_databases_test_them():
    found = Found(seq=5, matched=frozenset(), complete=True, counted=0, patterns=(("fåtölj", "fatolj"), (" ek",)))
    assert not still_shows(found, Changes(7, {3: "fatolj ek"}))
    assert still_shows(found, Changes(7, {3: "fatolj tek"}))  # " ek" starts a word only
    assert still_shows(found, Changes(7, {3: "fåtölj"}))


def test_more_matches_than_counted_hold_while_fewer_may_have_left_than_were_counted_beyond():
    """Beyond COUNT_LIMIT the page knows only the matches up to it: each changed listing that
    cannot match now may have been one of the others, and "more than" must still hold."""
    found = Found(seq=5, matched=frozenset({1, 2}), complete=False, counted=COUNT_LIMIT + 3, patterns=STOL)
    assert still_shows(found, Changes(7, {10: "bokhyll", 11: None}))
    assert not still_shows(found, Changes(7, {10: "bokhyll", 11: None, 12: "pall"}))


def test_a_note_reads_back_as_it_was_written_and_a_damaged_one_as_none():
    found = Found(seq=5, matched=frozenset({1, 2}), complete=False, counted=1100, patterns=(("fåtölj", "fatolj"),))
    assert Found.from_note(found.note()) == found
    assert "\n" not in found.note()
    assert Found.from_note("[1, 2") is None and Found.from_note('{"seq": 1}') is None


# --- The log ------------------------------------------------------------------------------

def test_the_log_names_each_listing_a_commit_changed_by_any_means(db, setting):
    first, second = publish(db, setting, "Kontorsstol, svart"), publish(db, setting, "Bokhylla")
    start = revision.last_seq(db)
    db.execute(update(Listing).where(Listing.id == first.id).values(quantity=2))  # a bulk statement
    db.commit()
    db.execute(insert(Hold).values(listing_id=second.id, quantity=1, starts_at=utcnow(),
                                   ends_at=utcnow() + timedelta(days=2), purpose="loan", holder="test:1"))
    db.commit()
    changes = revision.changes_since(db, start)
    assert changes.last == start + 2 and not changes.anything
    assert changes.words == {first.id: first.search_text, second.id: second.search_text}
    assert revision.changes_since(db, start + 1).words == {second.id: second.search_text}

    db.execute(delete(Listing).where(Listing.id == first.id))
    db.commit()
    assert revision.changes_since(db, start + 2).words == {first.id: None}  # gone

    setting["chairs"].name = "Kontorsstolar"
    db.add(setting["chairs"])
    db.commit()
    assert revision.changes_since(db, start + 3).anything  # not a listing: anything may look otherwise


def test_a_commit_that_changes_nothing_the_search_shows_counts_nothing(db, setting, factory):
    publish(db, setting, "Kontorsstol, svart")
    start = revision.last_seq(db)
    factory.user(setting["ystad"], Role.EMPLOYEE)
    db.rollback()
    assert revision.last_seq(db) == start


def test_the_triggers_log_every_table_that_names_a_listing(db, setting):
    """Rows of exactly these tables are logged by listing: each write to one of them, in a
    statement no rule of ours sees, names its listing."""
    listing = publish(db, setting, "Kontorsstol, svart")
    assert LOGGED_BY_LISTING == {Listing.__tablename__, ListingPhoto.__tablename__, Hold.__tablename__}
    start = revision.last_seq(db)
    db.execute(insert(ListingPhoto).values(listing_id=listing.id, position=0, key="k" * 32, width=10, height=10,
                                           byte_size=10, created_at=utcnow()))
    db.commit()
    assert revision.changes_since(db, start).words == {listing.id: listing.search_text}


def test_a_read_of_the_log_cut_short_is_read_on_at_the_next_ask(db, setting, monkeypatch):
    chairs = [publish(db, setting, f"Kontorsstol {n}") for n in range(4)]
    start = revision.last_seq(db)
    assert not revision.changes_since(db, start).anything  # the log read up to here
    db.execute(update(Listing).where(Listing.id.in_([c.id for c in chairs[:3]])).values(quantity=2))
    db.commit()
    db.execute(update(Listing).where(Listing.id == chairs[3].id).values(quantity=2))
    db.commit()
    monkeypatch.setattr(revision, "ROWS_READ", 2)  # fewer than the first commit's rows
    assert revision.changes_since(db, start).anything
    assert revision.changes_since(db, start + 1).words == {chairs[3].id: chairs[3].search_text}


def test_a_page_from_beyond_what_the_log_knows_cannot_be_told_either(db, setting):
    """Too old for the log, or counted past what the database holds (restored from a backup)."""
    publish(db, setting, "Kontorsstol, svart")
    assert revision.changes_since(db, -revision.LOG_KEPT).anything
    assert revision.changes_since(db, revision.last_seq(db) + 5).anything


# --- The search page ----------------------------------------------------------------------

def kept_seqs(folder: str) -> list[int]:
    """The seq in the note of each kept list of results (see fragments.checked_fragment)."""
    seqs = []
    for name in os.listdir(folder):
        if not name.startswith("."):
            with open(os.path.join(folder, name), "rb") as f:
                text = f.read()[4 + 32 + 8:].decode()  # cachelib's expiry, then ours: a hash, an expiry
            if text.startswith("["):
                seqs.append(Found.from_note(text.partition("\n")[0]).seq)
    return seqs


def test_a_kept_page_is_served_across_changes_that_do_not_touch_it_and_searched_anew_after_one_that_does(
        app, client, auth, setting, db):
    folder = app.config["PAGE_CACHE_DIR"]
    publish(db, setting, "Kontorsstol, svart")
    shelf = publish(db, {**setting, "chairs": Factory(db).category("Bokhylla")}, "Bokhylla")
    auth.login(setting["employee"])
    assert "Kontorsstol, svart" in client.get("/catalog/?q=stol").get_data(as_text=True)
    [searched_at] = kept_seqs(folder)

    shelf.quantity = 4  # a listing the search neither shows nor can find
    db.commit()
    assert "Kontorsstol, svart" in client.get("/catalog/?q=stol").get_data(as_text=True)
    assert kept_seqs(folder) == [searched_at]  # served as kept

    details = listings.details_of(shelf)
    details.title = "Bokhylla och pall med stol"  # now it can
    listings.save_listing(db, details=details, by=setting["manager"], now=utcnow(), listing=shelf)
    db.commit()
    page = client.get("/catalog/?q=stol").get_data(as_text=True)
    assert "Bokhylla och pall med stol" in page
    assert kept_seqs(folder) != [searched_at]  # searched anew, and kept in its place
