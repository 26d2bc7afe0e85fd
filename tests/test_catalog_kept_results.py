"""Kept search results outlive the catalog's changes that do not touch them (kept_results), by
the log of what changed (revision.changes_since), which the database's triggers write."""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.orm import Session

from sharing.accounts.models import Role
from sharing.catalog.holds.models import Hold
from sharing.catalog.listings import kept_results
from sharing.catalog.listings import revision as revision
from sharing.catalog.listings import rules as listings
from sharing.catalog.listings import search as search
from sharing.catalog.listings.kept_results import Found, still_shows
from sharing.catalog.listings.models import CatalogChange, Condition, Listing
from sharing.catalog.listings.revision import LOGGED_BY_LISTING, Changes, Standing
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

def page(matched=(1, 2), *, patterns=STOL, keys=(), facets=(), reader=None, oldest=None) -> Found:
    return Found(seq=5, token=55, matched=frozenset(matched), patterns=patterns,
                 keys=keys or tuple(() for _ in patterns), facets=facets, reader_municipality_id=reader, oldest=oldest)


def standing(*, status="published", shared=True, municipality=1, kind="thing", offers=("lend",)) -> Standing:
    return Standing(status, shared, municipality, search.facets_of(kind, "good", municipality, 7, "lend" in offers,
                                                                   "give_away" in offers, "swap" in offers))


def test_a_change_to_a_listing_neither_matched_nor_matching_leaves_the_page_as_it_was():
    assert still_shows(page(), Changes(7, {3: "bokhyll vit", 4: None}))
    assert still_shows(page(), Changes(7, {}))


@pytest.mark.parametrize("changes", [
    Changes(7, {2: "bokhyll"}),  # a listing it showed changed (or left)
    Changes(7, {2: None}),  # was deleted
    Changes(7, {3: "kontorsstol svart"}),  # may now match
    Changes(7, {}, anything=True),  # a category, a site, a municipality
])
def test_a_change_that_may_touch_the_page_retires_it(changes):
    assert not still_shows(page(), changes)


ROOMS = ((search.FACET_KIND, (search.KIND_CODES["place"],)),)


@pytest.mark.parametrize("changed", [
    standing(kind="thing"),  # not of the kind asked for
    standing(kind="place", status="draft"),  # not to be found
    standing(kind="place", shared=False, municipality=2),  # kept to another municipality
])
def test_a_changed_listing_the_search_cannot_find_whatever_its_words_leaves_the_page(changed):
    found = page(facets=ROOMS, reader=1)
    assert still_shows(found, Changes(7, {3: "stol"}, standing={3: changed}))
    assert not still_shows(found, Changes(7, {3: "stol"}))  # not known how it stands: it may match


@pytest.mark.parametrize("changed", [
    standing(kind="place"),
    standing(kind="place", shared=False, municipality=1, status="on_loan"),  # the reader's own, lent out
])
def test_a_changed_listing_the_search_can_find_may_join_the_page(changed):
    found = page(facets=ROOMS, reader=1)
    assert not still_shows(found, Changes(7, {3: "stol"}, standing={3: changed}))
    assert still_shows(found, Changes(7, {3: "bokhyll"}, standing={3: changed}))  # not its words
    either = page(facets=((search.FACET_OFFER, (1, 3)),), reader=1)  # lent or swapped
    assert not still_shows(either, Changes(7, {3: "stol"}, standing={3: standing(offers=("swap",))}))
    assert still_shows(either, Changes(7, {3: "stol"}, standing={3: standing(offers=("give_away",))}))


def test_a_changed_listing_nobody_may_find_may_still_teach_the_vocabulary_a_word_meant():
    """Every listing's words are learnt: a draft's word one edit from a mistyped term becomes an
    alternative, which other listings may hold."""
    terms = ["skrivbort"]
    found = page((), patterns=search.term_patterns(terms, {}), keys=search.term_keys(terms, "skrivbort", terms),
                 facets=ROOMS, reader=1)
    draft = standing(kind="thing", status="draft", shared=False, municipality=2)
    assert not still_shows(found, Changes(7, {3: "skrivbord"}, standing={3: draft}))
    assert still_shows(found, Changes(7, {3: "bokhyll"}, standing={3: draft}))
    # The term itself: learnt, it takes back the words its typing was mended to (search._edited).
    assert not still_shows(found, Changes(7, {3: "skrivbort"}, standing={3: draft}))
    known = page((), patterns=search.term_patterns(terms, {}), keys=search.term_keys(terms, "skrivbort", ()),
                 facets=ROOMS, reader=1)
    assert still_shows(known, Changes(7, {3: "skrivbort"}, standing={3: draft}))  # known already: nothing mended


def test_a_search_without_words_may_match_any_listing_changed():
    assert not still_shows(page(patterns=()), Changes(7, {3: "bokhyll"}))
    assert still_shows(page(patterns=()), Changes(7, {3: None}))  # gone, and not one of its matches


def test_mistyped_words_and_short_words_are_tested_as_the_databases_test_them():
    found = page((), patterns=(("fåtölj", "fatolj"), (" ek",)))
    assert not still_shows(found, Changes(7, {3: "fatolj ek"}))
    assert still_shows(found, Changes(7, {3: "fatolj tek"}))  # " ek" starts a word only
    assert still_shows(found, Changes(7, {3: "fåtölj"}))


def test_a_word_the_vocabulary_will_offer_for_a_term_may_match():
    """A new listing's word one edit from a mistyped term becomes an alternative once learnt:
    the page's patterns do not hold it, the term's keys do."""
    terms = search.query_terms("kontorsstil")
    found = page((), patterns=search.term_patterns(terms, {}), keys=search.term_keys(terms, "kontorsstil"))
    assert not still_shows(found, Changes(7, {3: "kontorsstol bokhyll"}))
    assert still_shows(found, Changes(7, {3: "skrivbord bokhyll"}))
    # A short term is offered only its own letters with å, ä, ö: not a word one letter longer.
    short = page((), patterns=search.term_patterns(["bord"], {}), keys=search.term_keys(["bord"], "bord"))
    assert still_shows(short, Changes(7, {3: "borst"}))
    assert not still_shows(short, Changes(7, {3: "börd"}))


def test_more_than_the_count_limit_holds_while_every_match_read_stands():
    """A page of more matches than it counts read one more than it ranks: any number of changes
    to listings it did not read cannot make that fewer (one it read that changed retires it)."""
    found = page(matched=range(1, COUNT_LIMIT + 2))
    assert still_shows(found, Changes(7, {n: None for n in range(COUNT_LIMIT + 2, 2 * COUNT_LIMIT)}))
    assert not still_shows(found, Changes(7, {COUNT_LIMIT + 1: None}))


def test_a_note_reads_back_as_it_was_written_and_a_damaged_one_as_none():
    found = page(patterns=(("fåtölj", "fatolj"),), keys=(("fatolj", "atolj"),),
                 facets=((search.FACET_KIND, (1,)), (search.FACET_CONDITION, (1, 2))), reader=3, oldest=1_700_000_000)
    assert Found.from_note(found.note()) == found
    assert "\n" not in found.note()
    assert Found.from_note("[1, 2") is None and Found.from_note('{"seq": 1}') is None


# --- The log ------------------------------------------------------------------------------

def test_the_log_names_each_listing_a_commit_changed_by_any_means(db, setting):
    first, second = publish(db, setting, "Kontorsstol, svart"), publish(db, setting, "Bokhylla")
    start = revision.now(db)
    db.execute(update(Listing).where(Listing.id == first.id).values(quantity=2))  # a bulk statement
    db.commit()
    after_update = revision.now(db)
    db.execute(insert(Hold).values(listing_id=second.id, quantity=1, starts_at=utcnow(),
                                   ends_at=utcnow() + timedelta(days=2), purpose="loan", holder="test:1"))
    db.commit()
    after_hold = revision.now(db)
    changes = revision.changes_since(db, start)
    assert changes.last == start.seq + 2 and not changes.anything
    assert changes.words == {first.id: first.search_text, second.id: second.search_text}
    assert changes.standing[first.id] == Standing("published", True, setting["ystad"].id, search.facets_of(
        "thing", "good", setting["ystad"].id, setting["chairs"].id, lend=True, give_away=False, swap=False),
        first.published_at)
    assert revision.changes_since(db, after_update).words == {second.id: second.search_text}

    db.execute(delete(Listing).where(Listing.id == first.id))
    db.commit()
    after_delete = revision.now(db)
    assert revision.changes_since(db, after_hold).words == {first.id: None}  # gone
    assert first.id not in revision.changes_since(db, after_hold).standing

    setting["chairs"].name = "Kontorsstolar"
    db.add(setting["chairs"])
    db.commit()
    assert revision.changes_since(db, after_delete).anything  # not a listing: anything may look otherwise


def test_a_commit_that_changes_nothing_the_search_shows_counts_nothing(db, setting, factory):
    publish(db, setting, "Kontorsstol, svart")
    start = revision.now(db).seq
    factory.user(setting["ystad"], Role.EMPLOYEE)
    db.rollback()
    assert revision.now(db).seq == start


def test_a_commit_that_wrote_no_listing_after_all_is_still_known_by_its_token(db, setting):
    listing = publish(db, setting, "Kontorsstol, svart")
    db.execute(update(Listing).where(Listing.id == -1).values(quantity=2))  # no row: nothing to log
    db.commit()
    at = revision.now(db)
    assert revision.changes_since(db, at) == revision.Changes(at.seq, {}, token=at.token)
    db.execute(update(Listing).where(Listing.id == listing.id).values(quantity=2))
    db.commit()
    assert revision.changes_since(db, at).words == {listing.id: listing.search_text}


def test_the_triggers_log_every_table_that_names_a_listing(db, setting):
    """Rows of exactly these tables are logged by listing: each write to one of them, in a
    statement no rule of ours sees, names its listing (both, when it moves to another)."""
    listing, other = publish(db, setting, "Kontorsstol, svart"), publish(db, setting, "Bokhylla")
    assert LOGGED_BY_LISTING == {Listing.__tablename__, ListingPhoto.__tablename__, Hold.__tablename__}
    start = revision.now(db)
    db.execute(insert(ListingPhoto).values(listing_id=listing.id, position=0, key="k" * 32, width=10, height=10,
                                           byte_size=10, created_at=utcnow()))
    db.commit()
    photo_added = revision.now(db)
    assert revision.changes_since(db, start).words == {listing.id: listing.search_text}
    db.execute(update(ListingPhoto).where(ListingPhoto.listing_id == listing.id).values(listing_id=other.id))
    db.commit()
    assert revision.changes_since(db, photo_added).words == {listing.id: listing.search_text,
                                                             other.id: other.search_text}


def test_a_read_of_the_log_cut_short_is_read_on_at_the_next_ask(db, setting, monkeypatch):
    chairs = [publish(db, setting, f"Kontorsstol {n}") for n in range(4)]
    start = revision.now(db)
    assert not revision.changes_since(db, start).anything  # the log read up to here
    db.execute(update(Listing).where(Listing.id.in_([c.id for c in chairs[:3]])).values(quantity=2))
    db.commit()
    first = revision.now(db)
    db.execute(update(Listing).where(Listing.id == chairs[3].id).values(quantity=2))
    db.commit()
    monkeypatch.setattr(revision, "ROWS_READ", 2)  # fewer than the first commit's rows
    assert revision.changes_since(db, start).anything
    assert revision.changes_since(db, first).words == {chairs[3].id: chairs[3].search_text}


def test_a_commit_of_more_listings_than_a_process_reads_one_by_one_is_logged_as_anything(db, setting, monkeypatch):
    """An import's commit is one row of the log, not thousands for every process to read."""
    monkeypatch.setattr(revision, "MAX_LISTINGS_A_COMMIT", 2)
    chairs = [publish(db, setting, f"Kontorsstol {n}") for n in range(3)]
    start = revision.now(db)
    for quantity in (2, 3):  # logged twice each: the listings are counted, not the rows
        db.execute(update(Listing).where(Listing.id.in_([c.id for c in chairs[:2]])).values(quantity=quantity))
    db.commit()
    two = revision.now(db)
    assert revision.changes_since(db, start).words == {c.id: c.search_text for c in chairs[:2]}
    db.execute(update(Listing).where(Listing.id.in_([c.id for c in chairs])).values(quantity=4))
    db.commit()
    assert revision.changes_since(db, two).anything
    assert db.execute(select(CatalogChange.listing_id).where(CatalogChange.seq == two.seq + 1)).all() == [(None,)]


def test_the_log_is_pruned_to_twice_the_commits_a_process_reads(db, setting, monkeypatch):
    monkeypatch.setattr(revision, "LOG_KEPT", 2)
    listing = publish(db, setting, "Kontorsstol, svart")
    for quantity in range(2, 8):
        db.execute(update(Listing).where(Listing.id == listing.id).values(quantity=quantity))
        db.commit()
    last = revision.now(db).seq
    revision.prune_log(db)
    db.commit()
    kept = sorted(db.scalars(select(CatalogChange.seq).distinct()))
    assert kept == list(range(last - 3, last + 1))


def test_what_the_listings_do_not_decide_is_kept_across_their_changes_and_not_across_others(db, setting):
    """The filters' choices and the place names are kept until a category, a municipality or a
    site changes: a listing's change, many a second, leaves them be."""
    made = []

    def compute() -> int:
        made.append(1)
        return len(made)

    listing = publish(db, setting, "Kontorsstol, svart")
    assert revision.kept(db, "choices", compute, max_age=0) == 1
    for quantity in (2, 3):
        listing.quantity = quantity
        db.commit()
        assert revision.kept(db, "choices", compute, max_age=0) == 1
    setting["chairs"].name = "Kontorsstolar"
    db.commit()
    assert revision.kept(db, "choices", compute, max_age=0) == 2
    assert revision.kept(db, "choices", compute, max_age=0) == 2


def test_a_page_from_beyond_what_the_log_knows_cannot_be_told_either(db, setting):
    """Too old for the log, counted past what the database holds, or under another token."""
    publish(db, setting, "Kontorsstol, svart")
    at = revision.now(db)
    assert revision.changes_since(db, revision.Revision(-revision.LOG_KEPT, 1)).anything
    assert revision.changes_since(db, revision.Revision(at.seq + 5, at.token)).anything
    assert revision.changes_since(db, revision.Revision(at.seq, at.token + 1)).anything
    assert not revision.changes_since(db, at).anything


def test_a_database_restored_from_a_backup_counts_again_under_other_tokens(app, client, auth, setting, db):
    """A restore brings the count back: a page kept before it, at a seq the restored database
    reaches again, is searched anew, and each worker reads the log again."""
    auth.login(setting["employee"])
    base = revision.now(db)
    chair = publish(db, setting, "Kontorsstol, svart")
    assert "Kontorsstol, svart" in client.get("/catalog/?q=stol").get_data(as_text=True)
    # "Restore" the backup taken at `base`: the chair never existed, the count is back.
    db.execute(text("DELETE FROM listing_hold"))
    db.execute(text("DELETE FROM listing WHERE id = :id"), {"id": chair.id})
    db.execute(text("DELETE FROM catalog_change WHERE seq > :seq OR seq IS NULL"), {"seq": base.seq})
    db.execute(text("UPDATE catalog_revision SET seq = :seq, token = :token"), {"seq": base.seq, "token": base.token})
    db.commit()
    db.expunge_all()
    publish(db, setting, "Bokhylla")  # the restored database goes on: the same seqs again
    revision.current(db, max_age=0)  # the worker learns the new token at once
    assert "Kontorsstol, svart" not in client.get("/catalog/?q=stol").get_data(as_text=True)


def test_concurrent_reads_of_the_log_keep_the_newest_words(app, db, setting):
    """Two threads read the log on at once: words read later are never replaced by words read
    earlier (one thread reads at a time)."""
    shelf = publish(db, setting, "Bokhylla")
    start = revision.now(db)
    revision.changes_since(db, start)
    db.execute(update(Listing).where(Listing.id == shelf.id).values(quantity=3))
    db.commit()
    engine = db.get_bind()
    results: list[object] = []

    def read() -> None:
        with Session(bind=engine) as other:
            results.append(revision.changes_since(other, start))

    with revision._reading:  # a reader is reading: the next waits for it
        waiting = threading.Thread(target=read)
        waiting.start()
        time.sleep(0.2)
        assert waiting.is_alive()
    waiting.join(timeout=10)
    assert results and results[0].words == {shelf.id: shelf.search_text}


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


def kept_page_of_a_chair(app, client, auth, setting, db):
    """A chair's page of results kept, and a shelf the search neither shows nor can find: the
    folder of kept pages, the shelf, and the seq the page was searched at."""
    folder = app.config["PAGE_CACHE_DIR"]
    # "stol" a word of the index: the search offers nothing for it that a new listing's words could take back.
    publish(db, setting, "Kontorsstol, svart", description="En stol att låna")
    shelf = publish(db, {**setting, "chairs": Factory(db).category("Bokhylla")}, "Bokhylla")
    auth.login(setting["employee"])
    assert "Kontorsstol, svart" in client.get("/catalog/?q=stol").get_data(as_text=True)
    [searched_at] = kept_seqs(folder)
    return folder, shelf, searched_at


def test_a_kept_page_is_served_across_changes_that_do_not_touch_it_and_searched_anew_after_one_that_does(
        app, client, auth, setting, db):
    folder, shelf, searched_at = kept_page_of_a_chair(app, client, auth, setting, db)

    shelf.quantity = 4  # a listing the search neither shows nor can find
    db.commit()
    assert "Kontorsstol, svart" in client.get("/catalog/?q=stol").get_data(as_text=True)
    assert kept_seqs(folder) == [searched_at]  # served as kept

    listings.set_status(db, listing=shelf, to=listings.S.WITHDRAWN, by=setting["manager"], now=utcnow())
    details = listings.details_of(shelf)
    details.title = "Bokhylla med stol"  # its words meet the search's, but nobody may find it
    listings.save_listing(db, details=details, by=setting["manager"], now=utcnow(), listing=shelf)
    db.commit()
    assert "Bokhylla med stol" not in client.get("/catalog/?q=stol").get_data(as_text=True)
    assert kept_seqs(folder) == [searched_at]  # served as kept
    listings.set_status(db, listing=shelf, to=listings.S.DRAFT, by=setting["manager"], now=utcnow())
    listings.set_status(db, listing=shelf, to=listings.S.PUBLISHED, by=setting["manager"], now=utcnow())
    db.commit()

    details = listings.details_of(shelf)
    details.title = "Bokhylla och pall med stol"  # now it can
    listings.save_listing(db, details=details, by=setting["manager"], now=utcnow(), listing=shelf)
    db.commit()
    page = client.get("/catalog/?q=stol").get_data(as_text=True)
    assert "Bokhylla och pall med stol" in page
    assert kept_seqs(folder) != [searched_at]  # searched anew, and kept in its place


def test_a_kept_page_is_checked_against_the_changes_since_it_was_last_found_good(
        app, client, auth, setting, db, monkeypatch):
    """Each process remembers up to which revision a kept page was found still good, and checks
    it next against the changes since alone: a page asked for all day outlives the log's window
    of commits, which otherwise would have it searched anew as too old to tell."""
    monkeypatch.setattr(revision, "LOG_KEPT", 3)
    folder, shelf, searched_at = kept_page_of_a_chair(app, client, auth, setting, db)
    for quantity in range(2, 10):  # more commits than the log's window, the page asked after each
        shelf.quantity = quantity
        db.commit()
        assert "Kontorsstol, svart" in client.get("/catalog/?q=stol").get_data(as_text=True)
    assert kept_seqs(folder) == [searched_at]  # served as kept throughout

    app.extensions["sharing.catalog.kept_checked"] = kept_results.CheckedUpTo(10)  # a process that never checked it
    client.get("/catalog/?q=stol")
    assert kept_seqs(folder) != [searched_at]  # too old to tell: searched anew


def test_what_a_process_remembers_of_kept_pages_is_bounded():
    checked = kept_results.CheckedUpTo(2)
    found = page()
    for n, note in enumerate(["a", "b", "c"]):
        checked.still_good(note, revision.Revision(10 + n, 7))
    checked.still_good("d", None)  # not known where the changes ran up to: nothing remembered
    assert checked.since("a", found) == revision.Revision(found.seq, found.token)  # forgotten first
    assert checked.since("c", found) == revision.Revision(12, 7)
    assert checked.since("d", found) == revision.Revision(found.seq, found.token)


def test_a_kept_page_of_a_mistyped_word_finds_a_listing_that_brings_the_word_meant(client, auth, setting, db):
    shelves = Factory(db).category("Bokhylla")
    publish(db, {**setting, "chairs": shelves}, "Bokhylla")
    auth.login(setting["employee"])
    assert "Kontorsstol, röd" not in client.get("/catalog/?q=kontorsstil").get_data(as_text=True)
    publish(db, {**setting, "chairs": shelves}, "Kontorsstol, röd")  # the vocabulary learns "kontorsstol"
    assert "Kontorsstol, röd" in client.get("/catalog/?q=kontorsstil").get_data(as_text=True)



def test_a_kept_page_of_more_exact_matches_than_read_outlives_changes_to_older_ones(
        app, client, auth, setting, db, monkeypatch):
    """Read newest first and cut at the count, exact matches leave the older ones beyond: a
    change to one of those (a booking, a new quantity) cannot bring it in while the newer stand,
    nor can a word the vocabulary then offers (its matches come after every exact one). A newer
    listing can still join."""
    monkeypatch.setattr(listings, "COUNT_LIMIT", 3)
    folder = app.config["PAGE_CACHE_DIR"]
    old = publish(db, setting, "Kontorsstol, gammal")
    old.published_at = utcnow() - timedelta(days=30)
    for n in range(4):  # as many as the search reads: COUNT_LIMIT, and one more
        publish(db, setting, f"Kontorsstol nr {n}")
    db.commit()
    auth.login(setting["employee"])
    assert "Kontorsstol nr 3" in client.get("/catalog/?q=stol").get_data(as_text=True)  # the 3 newest of 4 read
    [searched_at] = kept_seqs(folder)

    old.quantity = 4
    details = listings.details_of(old)
    details.description = "Med stolsdyna och kontorsstolar"  # words the vocabulary may offer, too
    listings.save_listing(db, details=details, by=setting["manager"], now=utcnow(), listing=old)
    db.commit()
    assert "Kontorsstol nr 3" in client.get("/catalog/?q=stol").get_data(as_text=True)
    assert kept_seqs(folder) == [searched_at]  # served as kept

    publish(db, setting, "Kontorsstol, ny")  # newer than every match read: it may join
    page = client.get("/catalog/?q=stol").get_data(as_text=True)
    assert "Kontorsstol, ny" in page
    assert kept_seqs(folder) != [searched_at]


def test_a_word_the_vocabulary_learns_leaves_a_page_filled_by_exact_matches(
        app, client, auth, setting, db, monkeypatch):
    """When exact matches fill what a search reads, no match of a mistyped word is read: a word
    the vocabulary learns, which may then be offered for a term, cannot change the page."""
    monkeypatch.setattr(listings, "COUNT_LIMIT", 3)
    folder = app.config["PAGE_CACHE_DIR"]
    for n in range(4):
        publish(db, setting, f"Skrivbord nr {n}")
    auth.login(setting["employee"])
    assert "Skrivbord nr 3" in client.get("/catalog/?q=skrivbord").get_data(as_text=True)
    [searched_at] = kept_seqs(folder)
    Factory(db).listing(site=setting["site"], category=setting["chairs"], by=setting["manager"], title="Skrivbort",
                        quantity=1, lend=True)  # a draft nobody finds, whose word is one edit from the term
    db.commit()
    assert "Skrivbord nr 3" in client.get("/catalog/?q=skrivbord").get_data(as_text=True)
    assert kept_seqs(folder) == [searched_at]  # served as kept


def test_an_older_listing_that_becomes_an_exact_match_retires_a_page_that_read_mistyped_matches(
        app, client, auth, setting, db, monkeypatch):
    """Had the matches read been all exact, an older listing could not join; but the newest
    ones read here hold a mistyped word, and an exact match ranks before them however old."""
    monkeypatch.setattr(listings, "COUNT_LIMIT", 3)
    folder = app.config["PAGE_CACHE_DIR"]
    old = publish(db, setting, "Bokhylla")
    old.published_at = utcnow() - timedelta(days=30)
    for title in ["Skrivbord nr 1", "Skrivbord nr 2", "Skrivbrod nr 3", "Skrivbrod nr 4", "Skrivbrod nr 5"]:
        publish(db, setting, title)  # the mistyped ones newer
    db.commit()
    auth.login(setting["employee"])
    assert "Skrivbrod nr 5" in client.get("/catalog/?q=skrivbord").get_data(as_text=True)
    [searched_at] = kept_seqs(folder)
    details = listings.details_of(old)
    details.title = "Skrivbord, gammalt"
    listings.save_listing(db, details=details, by=setting["manager"], now=utcnow(), listing=old)
    db.commit()
    assert "Skrivbord, gammalt" in client.get("/catalog/?q=skrivbord").get_data(as_text=True)
    assert kept_seqs(folder) != [searched_at]


def test_a_listing_published_in_the_last_millisecond_of_a_second_is_not_taken_for_older(
        app, client, auth, setting, db, monkeypatch):
    """SQLite's index order takes a listing's second after rounding its time to the millisecond:
    one published at x.9997 s stands in second x + 1 there, beside (and before, by its higher id)
    matches read in that second."""
    monkeypatch.setattr(listings, "COUNT_LIMIT", 2)
    folder = app.config["PAGE_CACHE_DIR"]
    second = (utcnow() - timedelta(days=1)).replace(microsecond=0)
    newest, later, early = (publish(db, setting, f"Stol {name}") for name in "ABC")
    shelf = publish(db, {**setting, "chairs": Factory(db).category("Bokhylla")}, "Bokhylla")  # the highest id
    newest.published_at = second + timedelta(seconds=5)
    later.published_at = second + timedelta(seconds=1, microseconds=200_000)
    early.published_at = second + timedelta(seconds=1, microseconds=100_000)
    shelf.published_at = second + timedelta(microseconds=999_700)
    db.commit()
    auth.login(setting["employee"])
    assert "Stol A" in client.get("/catalog/?q=stol&sort=newest").get_data(as_text=True)
    [searched_at] = kept_seqs(folder)  # on SQLite: A, then C before B (one second, by id); L beyond
    details = listings.details_of(shelf)
    details.title = "Stol L"
    listings.save_listing(db, details=details, by=setting["manager"], now=utcnow(), listing=shelf)
    db.commit()
    fresh = [item.title for item in listings.find(db, viewer=setting["employee"],
                                                   filters=listings.Filters(q="stol", sort="newest")).items]
    assert ("Stol L" in client.get("/catalog/?q=stol&sort=newest").get_data(as_text=True)) == ("Stol L" in fresh)


def test_a_listing_published_a_second_before_the_oldest_match_read_stays_beyond_it():
    published = (utcnow() - timedelta(days=3)).replace(microsecond=0)
    found = page(patterns=(("stol",),), keys=(("stol",),))
    older = Standing("published", True, 1, frozenset(), published - timedelta(seconds=1))
    same_second = Standing("published", True, 1, frozenset(), published)
    with_bound = page(patterns=(("stol",),), keys=(("stol",),), oldest=int(published.timestamp()))
    assert with_bound.read_beyond(older) and not with_bound.read_beyond(same_second)
    just_before = Standing("published", True, 1, frozenset(), published - timedelta(microseconds=300))
    assert not with_bound.read_beyond(just_before)  # SQLite rounds it into the same second
    assert still_shows(with_bound, Changes(7, {3: "kontorsstol"}, standing={3: older}))
    assert not still_shows(with_bound, Changes(7, {3: "kontorsstol"}, standing={3: same_second}))
    assert not still_shows(found, Changes(7, {3: "kontorsstol"}, standing={3: older}))  # no bound: it may join
    assert Found.from_note(with_bound.note()) == with_bound
