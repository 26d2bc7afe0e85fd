"""A search by relevance or newest first ranks a bounded set of candidates, the newest matches
(rules._candidates), in Python with the databases' own tests. Whatever the words, filters and
page, while the matches are within the bound it must find, count and order exactly what the
database's ORDER BY over every match does; beyond it, the best of the newest, exact matches first."""

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from sharing.accounts.models import Municipality, Role
from sharing.catalog.categories.models import ResourceKind
from sharing.catalog.listings import cards
from sharing.catalog.listings import rules as listings
from sharing.catalog.listings import search as search
from sharing.catalog.listings.models import Condition, Listing, Visibility
from sharing.clock import utcnow
from tests.conftest import statements_on

TITLES = ["Stol", "Kontorsstol, svart", "Stolsdyna", "Bord med stol", "Stolar i ek", "Konferensbord ek",
          "Skrivbord", "Bord", "Matsalsbord och stolar", "Ekbord", "Kontorsstolar", "Pall", "Lekbord",
          "Stol stol", "Bordslampa", "Hurts", "Stolpe", "Gammal stol", "Bord ek stol", "Soffa"]
QUERIES = ["stol", "stolar", "bord", "bord stol", "ek", "stol ek bord", "kontorsstil", "stolr", "", "pall", "x"]
FILTERS = [{}, {"kind": ResourceKind.THING}, {"conditions": [Condition.GOOD, Condition.FAIR]},
           {"offers": ["give_away"]}, {"offers": ["lend", "swap"]}]


@pytest.fixture
def broad(factory):
    """Listings of two municipalities with words that rank in every way, published a minute apart."""
    ystad, skurup = factory.municipality("Ystad", "1286"), factory.municipality("Skurup", "1264")
    things = factory.category("Möbler", kind=ResourceKind.THING)
    rooms = factory.category("Lokaler", kind=ResourceKind.PLACE)
    managers = {m.id: factory.user(m, Role.FACILITY_MANAGER) for m in (ystad, skurup)}
    sites = {m.id: factory.site(m) for m in (ystad, skurup)}
    started = utcnow() - timedelta(days=1)
    conditions = list(Condition)
    for n, title in enumerate(TITLES * 2):
        owner = (ystad, skurup)[n % 2]
        room = n % 7 == 3
        factory.listing(site=sites[owner.id], by=managers[owner.id], category=rooms if room else things,
                        kind=ResourceKind.PLACE if room else ResourceKind.THING,
                        condition=None if room else conditions[n % len(conditions)], title=title,
                        description="Från förrådet" if n % 3 else "", lend=True, give_away=not room and n % 2 == 0,
                        swap=not room and n % 4 == 1,
                        visibility=Visibility.OWN_MUNICIPALITY if n % 5 == 0 else Visibility.PARTNERS,
                        published=True, now=started + timedelta(minutes=n))
    return factory.user(ystad)


def found(db, viewer, **filters):
    page = listings.find(db, viewer=viewer, filters=listings.Filters(per_page=4, **filters))
    return [item.id for item in page.items], page.total, page.more


def every_match(db, found):
    """The ids of every listing a search matches, in no order (the oracle's set)."""
    return db.scalars(found.select(Listing.id)).all()


def sorted_by_the_database(db, viewer, **asked):
    """What ``found`` gives, from one ORDER BY over every match (rules._all_at_once)."""
    filters = listings.Filters(per_page=4, **asked)
    matching = listings._matching(db, viewer, filters)
    every = listings._all_at_once(db, matching, filters.sort, 10**6, every_match(db, matching))
    start = (filters.page - 1) * filters.per_page
    return every[start:start + filters.per_page], len(every), False


@pytest.mark.parametrize("sort", ["relevance", "newest", "title"])
def test_candidates_find_count_and_order_what_the_database_sorts(db, broad, sort):
    compared = 0
    for q in QUERIES:
        for chosen in FILTERS:
            for page in (1, 2, 4):
                asked = dict(q=q, sort=sort, page=page, **chosen)
                expected = sorted_by_the_database(db, broad, **asked)
                assert found(db, broad, **asked) == expected, asked
                compared += bool(expected[0])
    assert compared > 60  # most of them found something to compare


def test_beyond_the_count_limit_the_newest_matches_are_ranked(db, broad, monkeypatch):
    monkeypatch.setattr(listings, "COUNT_LIMIT", 6)
    page = listings.find(db, viewer=broad, filters=listings.Filters(q="stol", per_page=100))
    assert (page.total, page.more) == (6, True)
    newest = listings.find(db, viewer=broad, filters=listings.Filters(q="stol", sort="newest", per_page=100)).items
    assert {item.id for item in page.items} == {item.id for item in newest}  # the same six, ranked
    matching = listings._matching(db, broad, listings.Filters(q="stol"))
    every = listings._all_at_once(db, matching, "relevance", 100, every_match(db, matching))
    ranked = [item.id for item in page.items]
    assert ranked == [i for i in every if i in set(ranked)]  # in the order of relevance
    assert ranked != [item.id for item in newest]


def test_beyond_the_count_limit_exact_matches_come_before_newer_mistyped_ones(db, factory, monkeypatch):
    ystad = factory.municipality("Ystad", "1286")
    manager, site = factory.user(ystad, Role.FACILITY_MANAGER), factory.site(ystad)
    things = factory.category("Möbler", kind=ResourceKind.THING)
    started = utcnow() - timedelta(days=1)
    for n, title in enumerate(["Skrivbord"] * 3 + ["Skrivbrod"] * 5):  # the mistyped ones newer
        factory.listing(site=site, by=manager, category=things, title=title, published=True,
                        now=started + timedelta(minutes=n))
    monkeypatch.setattr(listings, "COUNT_LIMIT", 4)
    for sort in ("relevance", "newest", "title"):
        page = listings.find(db, viewer=factory.user(ystad), filters=listings.Filters(q="skrivbord", sort=sort))
        assert [item.title for item in page.items] == ["Skrivbord"] * 3 + ["Skrivbrod"], sort
        assert page.more


def test_a_filter_asked_twice_is_asked_once(db, broad):
    """A place name of the municipality filtered by already, or an offer ticked twice."""
    municipality = db.get(Municipality, broad.municipality_id)
    once = found(db, broad, q="stol")
    assert once[1] > 0
    assert found(db, broad, q=f"stol {municipality.name}", municipality_id=municipality.id) == found(
        db, broad, q="stol", municipality_id=municipality.id)
    assert found(db, broad, q="stol", offers=["lend", "lend"]) == once


def test_newest_first_is_the_order_of_first_publication(db, broad):
    ids, total, _ = found(db, broad, q="bord", sort="newest")
    every = listings.find(db, viewer=broad, filters=listings.Filters(q="bord", sort="title", per_page=100)).items
    assert total == len(every) > 4
    newest = sorted(every, key=lambda listing: (listing.published_at, listing.id), reverse=True)
    assert ids == [listing.id for listing in newest[:4]]


def test_a_short_word_is_found_at_the_start_of_a_word_only(db, broad):
    every = listings.find(db, viewer=broad, filters=listings.Filters(q="ek", per_page=100)).items
    assert {"Stolar i ek", "Ekbord", "Bord ek stol"} <= {listing.title for listing in every}
    assert "Lekbord" not in {listing.title for listing in every}  # "ek" only inside a word


def test_the_index_holds_each_listing_s_filters_as_the_search_asks_for_them(db, broad):
    dialect = db.get_bind().dialect.name
    held = {"sqlite": "SELECT id, search_fts_facets FROM listing",  # the migrations' SQL
            "postgresql": "SELECT id, split_part(search_fts_body, ' | ', 1) FROM listing"}[dialect]
    facets = dict(db.execute(text(held)).all())
    for listing in db.scalars(select(Listing)):
        expected = [(search.FACET_KIND, search.KIND_CODES[listing.kind]),
                    (search.FACET_CONDITION, search.CONDITION_CODES.get(listing.condition or "", 0)),
                    (search.FACET_MUNICIPALITY, listing.municipality_id),
                    (search.FACET_CATEGORY, listing.category_id)]
        expected += [(search.FACET_OFFER, code) for offer, code in search.OFFER_CODES.items()
                     if getattr(listing, offer)]
        # In field order, as PostgreSQL's patterns ask for them; as kept results test a changed listing.
        assert facets[listing.id].split() == [search.facet(field, value, dialect) for field, value in expected]
        assert set(expected) == search.facets_of(listing.kind, listing.condition, listing.municipality_id,
                                                 listing.category_id, listing.lend, listing.give_away, listing.swap)


def test_postgresql_words_and_filters_are_one_pattern_of_one_column(db, broad):
    """PostgreSQL's planner estimates a search's words and filters together only when one
    pattern of one column asks for both: for a word no room holds, no walk of the whole table."""
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL's plans only")
    filters = listings.Filters(q="soffa", kind=ResourceKind.PLACE, offers=["lend"])
    query = listings._matching(db, broad, filters).select(Listing.id, newest_first=True)
    sql = str(query.compile(db.get_bind(), compile_kwargs={"literal_binds": True})).replace("%%", "%")
    kind = search.facet(search.FACET_KIND, search.KIND_CODES["place"], "postgresql")
    lent = search.facet(search.FACET_OFFER, search.OFFER_CODES["lend"], "postgresql")
    (stem,) = search.query_terms("soffa")
    assert f"search_fts_body LIKE '%{kind}%{lent}%|%{stem}%'" in sql
    assert listings.find(db, viewer=broad, filters=filters).items == []
    things = listings.Filters(q="soffa", kind=ResourceKind.THING, offers=["lend"])
    assert [listing.title for listing in listings.find(db, viewer=broad, filters=things).items] == ["Soffa"] * 2


def test_postgresql_asks_a_term_s_spellings_and_the_filters_apart(db, broad):
    """A term with alternatives would make a pattern for each spelling under each filter's
    value: the filters are then a pattern of their own, and the search finds what it did."""
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL's plans only")
    asked = dict(q="kontorsstil", conditions=[Condition.AS_NEW, Condition.VERY_GOOD], sort="newest")
    matching = listings._matching(db, broad, listings.Filters(**asked))
    assert len(matching.alternatives[matching.terms[0]]) >= 1  # kontorsstol, and more
    query = matching.select(Listing.id, newest_first=True)
    sql = str(query.compile(db.get_bind(), compile_kwargs={"literal_binds": True})).replace("%%", "%")
    as_new, very_good = (search.facet(search.FACET_CONDITION, search.CONDITION_CODES[c.value], "postgresql")
                         for c in (Condition.AS_NEW, Condition.VERY_GOOD))
    assert f"search_fts_body LIKE '%{as_new}%|%'" in sql and f"search_fts_body LIKE '%{very_good}%|%'" in sql
    assert f"LIKE '%|%{matching.terms[0]}%'" in sql and f"%{as_new}%|%{matching.terms[0]}" not in sql
    filtered = listings.find(db, viewer=broad, filters=listings.Filters(per_page=100, **asked)).items
    every = listings.find(db, viewer=broad, filters=listings.Filters(
        per_page=100, q="kontorsstil", sort="newest")).items
    assert [item.id for item in filtered] == [
        item.id for item in every if item.condition in (Condition.AS_NEW, Condition.VERY_GOOD)]
    assert {item.title for item in filtered} == {"Kontorsstol, svart", "Kontorsstolar"}


def test_postgresql_asks_the_vocabulary_in_one_statement_however_many_keys(db, broad):
    """A mistyped word is looked up under hundreds of keys, as many as its mendings: as a list,
    each count was a statement of its own, parsed anew by psycopg and by the server."""
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL's statements only")
    sent: list = []
    with statements_on(db.get_bind(), sent) as statements:
        found = [search.alternatives(db, search.query_terms(q), q) for q in ("kontorsstil", "stolr", "bordd", "ek")]
    asked = [(statement, parameters) for statement, parameters in zip(statements, sent)
             if "search_word_variant" in statement]
    assert "kontorsstol" in found[0].fallback["kontorsstil"]  # mended, under hundreds of keys
    counts = {len(parameters["keys"]) if "keys" in parameters else len(parameters) for _statement, parameters in asked}
    assert len(counts) > 2
    assert len({statement for statement, _parameters in asked}) == 1


def test_postgresql_plans_a_search_for_its_words(db, broad):
    """A prepared statement's plan for any word walks the publication index end to end for a
    rare word: a search's words are written into its statements, each planned for them, and
    nothing else of the transaction is asked to plan anew."""
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL's plans only")
    sent: list = []
    with statements_on(db.get_bind(), sent) as statements:
        for words in ("stol", "kontorsstol", "ek"):
            listings.find(db, viewer=broad, filters=listings.Filters(q=words))
            listings.map_points(db, viewer=broad, filters=listings.Filters(q=words))  # the map's search too
            assert db.scalar(text("SHOW plan_cache_mode")) == "auto"
            db.commit()
    asked = [(statement, parameters) for statement, parameters in zip(statements, sent)
             if "search_fts_body" in statement]
    searched = " ".join(statement for statement, _parameters in asked)
    for pattern in ("%|%stol%", "%|%kontorsstol%", "%|% ek%"):  # as psycopg is sent a percent sign
        assert f"LIKE '{pattern.replace('%', '%%')}'" in searched
    assert not [value for _statement, parameters in asked for value in parameters.values()
                if isinstance(value, str) and "%" in value]


def test_sqlite_reads_a_searchs_candidates_from_the_index_alone(db, broad):
    """SQLite joins each listing its search index finds by an index that also holds what the
    reader may find and the title a candidate is ranked by: the listing's row is not read for them
    (SQLite defers reading it until a column the index lacks is asked for)."""
    if db.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite's plans only")
    found = listings._matching(db, broad, listings.Filters(q="stol"))
    query = found.select(Listing.id, Listing.search_title, exact=True, newest_first=True).limit(10)
    sql = str(query.compile(db.get_bind(), compile_kwargs={"literal_binds": True}))
    plan = " / ".join(row[-1] for row in db.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
    assert "SEARCH listing USING INDEX ix_listing_search_fts_order (search_fts_order=? AND status=?)" in plan, plan
    held = [row[2] for row in db.execute(text("PRAGMA index_info(ix_listing_search_fts_order)"))]
    assert held == ["search_fts_order", "status", "visibility", "municipality_id", "search_title"]
    assert [row[1] for row in db.execute(query)][:2] == ["bord ek stol", "gammal stol"]


def test_a_search_sees_its_sessions_changes_not_yet_written(db, broad):
    """The candidates and cards are read on the connection, past the ORM: what the session has
    changed and not yet written goes first, as the ORM's own reads would have it."""
    newest = listings.find(db, viewer=broad, filters=listings.Filters(per_page=4)).items[0]
    newest.status = "withdrawn"
    newest.title = "Ändrad men inte skriven"
    assert newest.id not in [item.id for item in listings.find(db, viewer=broad, filters=listings.Filters()).items]
    assert [card.title for card in cards.read(db, [newest.id], locale="sv")] == ["Ändrad men inte skriven"]
