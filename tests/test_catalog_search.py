"""Swedish search: what it finds, in what order, on SQLite and on PostgreSQL alike."""

import pytest
from sqlalchemy import delete, select, update

from sharing.accounts.models import Role
from sharing.catalog.listings import rules as listings
from sharing.catalog.listings import search as search
from sharing.catalog.listings.models import Listing, ListingStatus, SearchWord, SearchWordVariant
from sharing.catalog.wants.models import Want
from sharing.clock import utcnow


def test_words_and_stems_handle_swedish():
    assert search.words("Höj- och SÄNKBART skrivbord, 2 st") == ["höj", "och", "sänkbart", "skrivbord", "2", "st"]
    assert search.stems("stolarna kontorsstolar soffor lådor") == ["stol", "kontorsstol", "soff", "låd"]
    # Any text is a query: nothing is syntax.
    assert search.query_terms('"stol* AND NEAR( : -') == ["stol", "and", "near"]
    # Forms Snowball stems apart, one stem each (the listing tests below cannot tell one that
    # only holds another from a match found despite a typo).
    for forms in ("kontor kontoret kontoren", "sänkbar sänkbara sänkbart", "dator datorer datorn datorerna",
                  "cykel cyklar cykeln", "kanna kannan kannor", "matta mattan mattor", "bord bordet borden",
                  "hylla hyllan hyllor", "gardin gardiner gardinerna", "tavla tavlan tavlor", "ystad ystads",
                  "vit vitt vita", "bok boken böcker böckerna", "barnbok barnböcker", "fot foten fötter fötterna",
                  "bordsfot bordsfötter", "gardinstång gardinstänger"):
        assert len(set(search.stems(forms))) == 1, (forms, search.stems(forms))
    # The verb that looks like a plural stays the verb's (the door closes: "dörren stänger").
    assert search.stems("stänger stänga gardinstänger") == ["stäng", "stäng", "gardinstång"]
    # A short word keeps a stem that means something: "matta" is not "mat", "kanna" not "kan".
    assert search.stems("matta kanna kommun") == ["matt", "kann", "kommun"]


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


def every_match(db, found):
    """The ids of every listing a search matches, in no order (the oracle's set)."""
    return db.scalars(found.select(Listing.id)).all()


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
    # The head of a compound names the thing (kontors*stol*); its start only qualifies it (*stol*sdynor).
    assert titles(db, viewer, "stol") == ["Stol, ek", "Kontorsstol med armstöd", "Stolsdynor", "Bord med hjul"]


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


# One noun a line, in forms whose stems Snowball alone leaves apart: plurals in -or/-orer and
# -ator/-atorer, -are/-arna, -el/-lar, definite -n, -en and -et.
INFLECTED = [
    ("Dator", "datorer", "datorn", "datorerna"),
    ("Projektor", "projektorer", "projektorn"),
    ("Kopiator", "kopiatorer", "kopiatorn"),
    ("Skrivare", "skrivaren", "skrivarna"),
    ("Soffa", "soffan", "soffor", "sofforna"),
    ("Cykel", "cykeln", "cyklar"),
    ("Möbel", "möbeln", "möbler"),
    ("Bord", "bordet", "borden"),
    ("Filter", "filtret", "filtren"),
    ("Matta", "mattan", "mattor"),
    ("Kanna", "kannan", "kannor"),
    ("Dörr", "dörren", "dörrar"),
    ("Bok", "boken", "böcker", "böckerna"),
    ("Gardinstång", "gardinstänger", "gardinstängerna"),
    ("Nyckel", "nyckeln", "nycklar"),
]


# A word, and compounds it ends or starts (a stem taken too far by Snowball once more lost them).
COMPOUNDED = [
    ("matta", ["Dörrmatta"]),
    ("dynor", ["Stolsdynor, blå", "Sittdyna"]),
    ("kanna", ["Kaffekannor, 3 st", "Vattenkanna i plåt"]),
    ("kran", ["Vattenkran till köket"]),
    ("cykel", ["Cykelhjälm, barn", "Damcykel"]),
    ("nycklar", ["Nyckelskåp"]),
    ("spel", ["Spelkonsol", "Brädspel"]),
    ("kuddar", ["Soffkuddar"]),
    ("gardinerna", ["Gardiner, vita", "Rullgardin"]),
]


@pytest.mark.parametrize(("query", "compounds"), COMPOUNDED, ids=lambda value: str(value))
def test_a_word_finds_the_compounds_it_ends_or_starts_and_no_other(db, catalog, query, compounds):
    viewer, listing, _ = catalog
    for title in compounds:
        listing(title)
    others = [title for _query, titles_ in COMPOUNDED for title in titles_ if title not in compounds]
    for title in others:
        listing(title)
    assert sorted(titles(db, viewer, query)) == sorted(compounds), query


def test_a_word_found_as_typed_is_mended_into_others_only_below_a_page(db, catalog):
    viewer, listing, _ = catalog
    listing("Kaffekannor, 3 st")
    listing("Konferensbord", description="Kan delas i två")
    listing("Bildskärm 24 tum")
    assert titles(db, viewer, "skarm") == ["Bildskärm 24 tum"]  # as typed, nothing: spelled with ä, it is found
    # Found as typed, inside a word alone: what it may also have been meant as follows ("kan").
    assert titles(db, viewer, "kanna") == ["Kaffekannor, 3 st", "Konferensbord"]
    assert titles(db, viewer, "kanna", per_page=1) == ["Kaffekannor, 3 st"]  # a page of them: nothing else
    listing("Kanna i tenn")
    assert sorted(titles(db, viewer, "kanna")) == ["Kaffekannor, 3 st", "Kanna i tenn"]  # a word of the index


def test_compounds_of_one_modifier_and_different_heads_stay_apart(db, catalog):
    viewer, listing, _ = catalog
    listing("Vattenkran till köket")
    listing("Vattenkanna i plåt")
    listing("Kaffekoppar, 24 st")
    listing("Kaffekannor, 3 st")
    assert titles(db, viewer, "vattenkran") == ["Vattenkran till köket"]
    assert titles(db, viewer, "vattenkanna") == ["Vattenkanna i plåt"]
    assert titles(db, viewer, "kaffekanna") == ["Kaffekannor, 3 st"]


@pytest.mark.parametrize("forms", INFLECTED, ids=lambda forms: forms[0])
def test_a_query_in_any_form_finds_every_form(db, catalog, forms):
    viewer, listing, _ = catalog
    listed = [listing(f"{form.capitalize()} till kontoret") for form in forms]
    for query in forms:
        assert sorted(titles(db, viewer, query)) == sorted(item.title for item in listed), query


def test_a_mistyped_word_still_finds_its_listing_below_the_exact_ones(db, catalog):
    viewer, listing, _ = catalog
    listing("Kontorsstol, svart")
    listing("Stolsdyna i ull")
    listing("Fåtölj i skinn")
    listing("Bänk i ek")
    listing("Låda med lock")
    listing("Whiteboardtavla")
    for typed in ("kontorsstil", "kontrosstol", "kontorstol", "kontorsstoll"):  # changed, swapped, missing s, extra
        assert titles(db, viewer, typed) == ["Kontorsstol, svart"], typed
    assert titles(db, viewer, "stoldyna") == ["Stolsdyna i ull"]  # the linking s left out
    assert titles(db, viewer, "stolssdyna") == ["Stolsdyna i ull"]  # or doubled
    assert titles(db, viewer, "whitebordtavla") == ["Whiteboardtavla"]
    # å, ä, ö typed as a, a, o, in short words too.
    assert titles(db, viewer, "fatolj") == ["Fåtölj i skinn"]
    assert titles(db, viewer, "bank") == ["Bänk i ek"]
    assert titles(db, viewer, "lada") == ["Låda med lock"]
    # A short word is not stretched to another: "sten" is not "stol".
    assert titles(db, viewer, "sten") == []
    # The exact word first, whatever the dates: the newest listing is only a near miss.
    listing("Kontorsstil, lampa")
    assert titles(db, viewer, "kontorsstil") == ["Kontorsstil, lampa", "Kontorsstol, svart"]


def test_a_typo_in_a_words_ending_or_a_short_stem_is_forgiven_too(db, catalog):
    viewer, listing, _ = catalog
    for title in ("Lampor till kontoret", "Projektor Epson", "Stolar, svarta", "Gardiner, vita",
                  "Datorer till skolan", "Cyklar, tre", "Kopiator"):
        listing(title)
    for typed, meant in (("lampro", "Lampor till kontoret"), ("projektro", "Projektor Epson"),  # swapped
                         ("stloar", "Stolar, svarta"), ("garidner", "Gardiner, vita"), ("kopiatro", "Kopiator"),
                         ("dattorer", "Datorer till skolan"), ("datoer", "Datorer till skolan"),  # short stems
                         ("cylkar", "Cyklar, tre"), ("prjektor", "Projektor Epson"),  # a vowel missing
                         ("projektpr", "Projektor Epson"),  # or a wrong one
                         ("datoter", "Datorer till skolan"), ("cyklat", "Cyklar, tre"),  # a wrong consonant
                         ("kopiatoor", "Kopiator")):  # a letter too many
        assert titles(db, viewer, typed) == [meant], typed
    # Without å, ä, ö, inside a compound that no word of the index spells alone.
    listing("Bildskärmar, 24 tum")
    listing("Klädhängare på hjul")
    assert titles(db, viewer, "skarm") == ["Bildskärmar, 24 tum"]
    assert titles(db, viewer, "hangare") == ["Klädhängare på hjul"]
    # A word the index holds is what was meant: it is not mended.
    listing("Lampro, ett märke")
    assert titles(db, viewer, "lampro") == ["Lampro, ett märke"]


def test_only_a_word_the_vocabulary_lacks_is_mended(db, catalog):
    """Mending a word stems some 500 others: not for a word the index holds."""
    viewer, listing, _ = catalog
    listing("Datorer till skolan")
    search._mended.cache_clear()
    assert titles(db, viewer, "datorer") == ["Datorer till skolan"]
    assert search._mended.cache_info().misses == 0
    assert titles(db, viewer, "datoter") == ["Datorer till skolan"]
    assert search._mended.cache_info().misses == 1


def test_mistyped_words_matches_rank_as_the_word_meant_would_title_first(db, catalog):
    viewer, listing, _ = catalog
    listing("Projektor Epson")
    listing("Projektorduk")
    listing("Mötesrum Havet", description="Med projektor och whiteboard")  # the newest
    listing("Fåtölj i skinn")
    listing("Möbler till väntrum", description="Soffa och fåtöljer")
    assert titles(db, viewer, "projecktor") == ["Projektor Epson", "Projektorduk", "Mötesrum Havet"]
    assert titles(db, viewer, "fatolj") == ["Fåtölj i skinn", "Möbler till väntrum"]
    # For every sort that ranks them so, as the database would (rules._all_at_once).
    assert titles(db, viewer, "projecktor", sort="newest")[0] == "Mötesrum Havet"


def test_a_stem_inside_an_unrelated_word_ranks_below_the_word_itself(db, catalog):
    viewer, listing, _ = catalog
    listing("Klampor till bänk")  # "lamp" inside, by chance
    listing("Lampa, mässing")
    listing("Golvlampa")
    assert titles(db, viewer, "lampa") == ["Lampa, mässing", "Golvlampa", "Klampor till bänk"]


def test_a_place_named_in_the_words_is_a_filter_not_a_word(db, factory):
    ystad, trelleborg = factory.municipality("Ystad", "1286"), factory.municipality("Trelleborg", "1287")
    in_ystad = factory.site(ystad, locality="Ystad")
    in_anderslov = factory.site(trelleborg, locality="Anderslöv")
    in_trelleborg = factory.site(trelleborg, locality="Trelleborg")
    furniture = factory.category("Möbler")
    for site, titles_there in ((in_ystad, ["Stol, Ystad-modellen", "Bord i ek"]),
                               (in_anderslov, ["Stol i bok", "Hylla"]),
                               (in_trelleborg, ["Stol i furu"])):
        manager = factory.manager(factory.session.get(type(ystad), site.municipality_id))
        for title in titles_there:
            factory.listing(site=site, category=furniture, by=manager, title=title, published=True)
    viewer = factory.user(ystad)
    found = listings.find(db, viewer=viewer, filters=listings.Filters(q="stol anderslöv"))
    assert [item.title for item in found.items] == ["Stol i bok"]
    assert found.place is not None and found.place.name == "Anderslöv"
    # A municipality's name alone lists what is there, not everything that mentions it.
    found = listings.find(db, viewer=viewer, filters=listings.Filters(q="Trelleborg"))
    assert sorted(item.title for item in found.items) == ["Hylla", "Stol i bok", "Stol i furu"]
    assert found.place is not None and found.place.municipality_id == trelleborg.id
    assert titles(db, viewer, "stol ystad") == ["Stol, Ystad-modellen"]
    assert listings.find(db, viewer=viewer, filters=listings.Filters(q="stol")).place is None
    # As people type them: without å, ä, ö, after a preposition, with "kommun" after it.
    for typed in ("stol anderslov", "stol i Anderslöv", "stol i anderslov", "stol från Anderslöv"):
        assert titles(db, viewer, typed) == ["Stol i bok"], typed
    for typed in ("stol i Trelleborg", "stolar trelleborgs kommun", "stol Trelleborgs kommun"):
        found = listings.find(db, viewer=viewer, filters=listings.Filters(q=typed))
        assert sorted(item.title for item in found.items) == ["Stol i bok", "Stol i furu"], typed
        assert found.place is not None and found.place.municipality_id == trelleborg.id
    # Named after the eight words a search reads, a place is still the filter.
    long = "stol med fyra ben och rygg av bok eller furu, helst armstöd, gärna grön, i Trelleborg"
    found = listings.find(db, viewer=viewer, filters=listings.Filters(q=long))
    assert found.place is not None and found.place.municipality_id == trelleborg.id


def test_a_place_that_holds_no_match_is_searched_as_a_word(db, client, auth, factory):
    """A maker or a model named like a place (Höganäs pots): when nothing there matches, the
    name is one of the words, on the list and the map alike, and the page says so."""
    ystad, trelleborg = factory.municipality("Ystad", "1286"), factory.municipality("Trelleborg", "1287")
    in_ystad, in_hoganas = factory.site(ystad, locality="Ystad"), factory.site(trelleborg, locality="Höganäs")
    furniture = factory.category("Möbler")
    by_ystad, by_trelleborg = factory.manager(ystad), factory.manager(trelleborg)
    for title in ("Krukor från Höganäs", "Krukor, Trelleborgsmodellen"):
        factory.listing(site=in_ystad, category=furniture, by=by_ystad, title=title, published=True)
    factory.listing(site=in_hoganas, category=furniture, by=by_trelleborg, title="Stol i ek", published=True)
    viewer = factory.user(ystad)
    found = listings.find(db, viewer=viewer, filters=listings.Filters(q="höganäs krukor"))
    assert [item.title for item in found.items] == ["Krukor från Höganäs"]
    assert found.place is None and found.unmatched_place is not None and found.unmatched_place.name == "Höganäs"
    on_map = listings.map_points(db, viewer=viewer, filters=listings.Filters(q="höganäs krukor"))
    assert [point.site_id for point in on_map.points] == [in_ystad.id] and on_map.place is None
    assert on_map.unmatched_place is not None
    # Where something there matches, the place is the filter; where nothing matches either way,
    # the page still says it looked there; and a municipality named so is always the place.
    found = listings.find(db, viewer=viewer, filters=listings.Filters(q="stol höganäs"))
    assert [item.title for item in found.items] == ["Stol i ek"] and found.place is not None
    assert found.unmatched_place is None
    found = listings.find(db, viewer=viewer, filters=listings.Filters(q="soffa höganäs"))
    assert found.items == [] and found.place is not None and found.unmatched_place is None
    assert titles(db, viewer, "krukor trelleborg") == ["Krukor, Trelleborgsmodellen"]
    assert titles(db, viewer, "krukor trelleborgs kommun") == []

    # The page says so, and is not kept: pots that come to the place are found there at once,
    # though the municipality's name is none of their words (they stand in Höganäs).
    auth.login(viewer)
    for query, shown in (("h%C3%B6gan%C3%A4s+krukor", "Krukor från Höganäs"),
                         ("krukor+trelleborg", "Krukor, Trelleborgsmodellen")):
        page = client.get(f"/catalog/?q={query}").get_data(as_text=True)
        assert "matchar: här visas annonser var som helst som nämner namnet" in page and shown in page
    factory.listing(site=in_hoganas, category=furniture, by=by_trelleborg, title="Krukor i lera", published=True)
    page = client.get("/catalog/?q=krukor+trelleborg").get_data(as_text=True)
    assert "”Trelleborg” är en ort" in page and "Krukor i lera" in page and "Trelleborgsmodellen" not in page


def test_a_compound_written_with_a_hyphen_is_found_written_as_one_word(db, catalog):
    viewer, listing, _ = catalog
    listing("TV-bänk i ek")
    listing("Bänk till hallen")
    for typed in ("tvbänk", "tv-bänk", "TV bänk"):
        assert titles(db, viewer, typed) == ["TV-bänk i ek"], typed
    assert sorted(titles(db, viewer, "bänk")) == ["Bänk till hallen", "TV-bänk i ek"]


def test_function_words_ask_for_nothing_of_their_own(db, catalog):
    viewer, listing, _ = catalog
    listing("Soffa, tresits")
    listing("Klädhängare på hjul")
    listing("Ett bord för två")
    assert titles(db, viewer, "en soffa") == ["Soffa, tresits"]
    assert titles(db, viewer, "klädhängare med hjul") == ["Klädhängare på hjul"]
    assert titles(db, viewer, "bord till kontoret") == []  # what is not a function word is asked for
    assert titles(db, viewer, "för") == ["Ett bord för två"]  # alone, it is what is asked


def test_reindex_restems_listings_and_wants_and_fills_the_vocabulary(app, db, catalog, factory, runner):
    viewer, listing, _ = catalog
    item = listing("Datorerna i förrådet")
    want = factory.want(words="datorer")
    # As if another version had stemmed them, with no vocabulary yet.
    db.execute(update(Listing).where(Listing.id == item.id).values(search_title="datorern", search_text="datorern"))
    db.execute(update(Want).where(Want.id == want.id).values(search_words="datorer"))
    db.execute(delete(SearchWordVariant))
    db.execute(delete(SearchWord))
    db.commit()
    assert titles(db, viewer, "förrådet") == []
    result = runner.invoke(args=["catalog", "reindex"])
    assert result.exit_code == 0 and "Indexed" in result.output, result.output
    db.expire_all()
    assert db.get(Listing, item.id).search_text.startswith("dat ")
    assert db.get(Want, want.id).search_words == "dat"
    assert "förråd" in set(db.scalars(select(SearchWord.word)))
    assert titles(db, viewer, "datorn") == ["Datorerna i förrådet"]
    assert titles(db, viewer, "forradet") == ["Datorerna i förrådet"]  # found through the vocabulary


def test_the_search_page_says_when_a_place_was_taken_as_a_filter(client, auth, factory):
    trelleborg = factory.municipality("Trelleborg", "1287")
    manager = factory.manager(trelleborg)
    factory.listing(site=factory.site(trelleborg, locality="Anderslöv"), by=manager, title="Hylla", published=True)
    auth.login(factory.user(trelleborg))
    page = client.get("/catalog/?q=hylla+Anderslöv").get_data(as_text=True)
    assert "”Anderslöv” är en ort" in page and "Hylla" in page
    assert "är en ort" not in client.get("/catalog/?q=hylla").get_data(as_text=True)


def test_the_map_says_when_a_place_was_taken_as_a_filter(db, client, auth, factory):
    trelleborg = factory.municipality("Trelleborg", "1287")
    manager = factory.manager(trelleborg)
    in_anderslov = factory.site(trelleborg, "Skolan", locality="Anderslöv")
    factory.listing(site=in_anderslov, by=manager, title="Hylla", published=True)
    factory.listing(site=factory.site(trelleborg, locality="Trelleborg"), by=manager, title="Hylla, vit",
                    published=True)
    viewer = factory.user(trelleborg)
    on_map = listings.map_points(db, viewer=viewer, filters=listings.Filters(q="hylla Anderslöv"))
    assert [point.site_id for point in on_map.points] == [in_anderslov.id]
    assert on_map.place is not None and on_map.place.name == "Anderslöv"
    assert listings.map_points(db, viewer=viewer, filters=listings.Filters(q="hylla")).place is None
    auth.login(viewer)
    page = client.get("/catalog/?q=hylla+Anderslöv&view=map").get_data(as_text=True)
    assert "”Anderslöv” är en ort" in page and 'id="listing-map"' in page
    assert "är en ort" not in client.get("/catalog/?q=hylla&view=map").get_data(as_text=True)


def test_the_vocabulary_learns_a_listing_s_words_only_once_it_is_committed(db, catalog, factory):
    viewer, listing, _ = catalog
    where = factory.municipality()
    manager = factory.manager(where)
    details = listings.ListingDetails(title="Pulpet i björk", category_id=factory.category("Bord").id,
                                      site_id=factory.site(where).id, condition="good", lend=True)
    listings.save_listing(db, details=details, by=manager, now=utcnow())
    learnt = set(search.stems("Pulpet i björk")) - {"i"}
    assert not learnt & set(db.scalars(select(SearchWord.word)))  # not in the listing's own transaction
    db.rollback()
    assert not learnt & set(db.scalars(select(SearchWord.word)))
    listings.save_listing(db, details=details, by=manager, now=utcnow())
    db.commit()
    assert learnt <= set(db.scalars(select(SearchWord.word)))


@pytest.mark.parametrize("q", ["stol", "stol svart", "kontorsstil", "stolar med hjul", "bord ek", "ek", "fatolj"])
def test_matches_ranked_from_rows_already_read_come_in_the_order_the_database_sorts_them(db, catalog, q):
    """A search ranks its candidates in Python (_ranked_here), with the databases' own tests:
    the order is the one the database's ORDER BY gives, on either database."""
    viewer, listing, _ = catalog
    for title, description in [("Kontorsstil", ""), ("Stol", ""), ("Kontorsstol, svart", ""),
                               ("Stolsdyna", "svart"), ("Pallstolsben", ""), ("Bord med hjul", "Passar till en stol"),
                               ("Bord i ek", ""), ("Ekbord", "svarta ben"), ("Fåtölj", "stol för två"),
                               ("Kontorsstolar med hjul", ""), ("Skrivbord", "eken håller")]:  # the oldest first
        listing(title, description)
    for sort in ("relevance", "newest"):
        found = listings._matching(db, viewer, listings.Filters(q=q, sort=sort))
        rows, found = listings._candidates(db, found, 100)
        in_python = listings._ranked_here(rows, found, by_rank=sort == "relevance" and bool(found.terms))
        assert in_python == listings._all_at_once(db, found, sort, 100, every_match(db, found)), (q, sort)
        assert in_python  # each finds something


def test_a_term_only_in_the_words_ranks_as_the_database_ranks_it_when_the_words_are_not_read(db, catalog):
    """Without alternatives the words are not read: a term missing from the title still ranks
    as one in the words (4), not as one missing (5)."""
    viewer, listing, _ = catalog
    listing("Stolsdyna svartvit")  # older: stol 2 + svart 2
    listing("Stol", description="svart")  # newer: stol 0 + svart 4
    found = listings._matching(db, viewer, listings.Filters(q="stol svart"))
    assert not found.alternatives
    rows, found = listings._candidates(db, found, 100)
    assert [text for _, _, text in rows] == [None, None]  # exact matches: their words not read
    assert listings._ranked_here(rows, found, by_rank=True) == listings._all_at_once(
        db, found, "relevance", 100, every_match(db, found))
