"""Listings: the rules (what a listing must hold, its lifecycle, who changes it) and the views."""

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from sharing.accounts.auth import create_api_token
from sharing.accounts.models import Municipality, Role
from sharing.catalog.categories.models import ResourceKind
from sharing.catalog.events import LISTING_PUBLISHED, LISTING_SAVED, LISTING_STATUS
from sharing.catalog.listings import rules as listings
from sharing.catalog.listings.models import Condition, Listing, ListingDetails, ListingStatus, Visibility
from sharing.clock import utcnow
from sharing.errors import DomainError, NotAllowed, NotVisible
from sharing.events import events_of
from tests.conftest import PASSWORD, csrf_token, fieldset


@pytest.fixture
def setting(factory):
    ystad = factory.municipality("Ystad", "1286")
    skurup = factory.municipality("Skurup", "1264")
    return {
        "ystad": ystad, "skurup": skurup,
        "chairs": factory.category("Kontorsstol", name_en="Office chair", weight_kg=15, volume_m3=0.5,
                                   new_price_sek=3000, co2e_new_kg=100, source="Test source"),
        "hall": factory.category("Samlingslokal", name_en="Assembly hall", kind="place"),
        "site": factory.site(ystad), "skurup_site": factory.site(skurup),
        "manager": factory.user(ystad, Role.FACILITY_MANAGER),
        "employee": factory.user(ystad, Role.EMPLOYEE),
        "skurup_manager": factory.user(skurup, Role.FACILITY_MANAGER),
        "skurup_employee": factory.user(skurup, Role.EMPLOYEE),
    }


def chairs(s, **overrides):
    values = dict(kind=ResourceKind.THING, title="Kontorsstolar", category_id=s["chairs"].id,
                  site_id=s["site"].id, condition=Condition.GOOD, quantity=10, lend=True, give_away=True)
    return ListingDetails(**{**values, **overrides})


def draft(factory, s, *, site=None, **overrides):
    """Ystad's chairs as a draft, saved by its facility manager (what chairs() holds, by the factory)."""
    values = dict(title="Kontorsstolar", condition=Condition.GOOD, quantity=10, lend=True, give_away=True)
    return factory.listing(site=site or s["site"], category=s["chairs"], by=s["manager"], **{**values, **overrides})


def published(factory, s, **overrides):
    return draft(factory, s, published=True, **overrides)


def test_a_new_listing_is_a_draft_whose_figures_left_empty_are_shown_as_its_categorys(db, setting, client, auth):
    listing = listings.save_listing(db, details=chairs(setting), by=setting["manager"], now=utcnow())
    assert listing.status == ListingStatus.DRAFT
    assert listing.municipality_id == setting["ystad"].id
    # Not entered, not copied: the category's typical figure stands in, and says so.
    assert (listing.weight_kg, listing.volume_m3) == (None, None)
    own = listings.save_listing(db, details=chairs(setting, weight_kg=9.5), by=setting["manager"], now=utcnow())
    db.commit()
    assert own.weight_kg == 9.5
    auth.login(setting["manager"])
    page = " ".join(client.get(f"/catalog/{listing.id}").get_data(as_text=True).split())
    assert "<dt>Vikt per styck</dt><dd>omkring 15 kg, typiskt för kategorin</dd>" in page
    assert "<dt>Volym per styck</dt><dd>omkring 0,5 m³, typiskt för kategorin</dd>" in page
    page = " ".join(client.get(f"/catalog/{own.id}").get_data(as_text=True).split())
    assert "<dt>Vikt per styck</dt><dd>9,5 kg</dd>" in page


@pytest.mark.parametrize("overrides, field", [
    ({"title": "  "}, "title"),
    ({"lend": False, "give_away": False}, "lend"),
    ({"condition": None}, "condition"),
    ({"loan_min_days": 30, "loan_max_days": 7}, "loan_min_days"),
    ({"kind": ResourceKind.PLACE}, "category_id"),
])
def test_invalid_listings_are_refused_on_the_field(db, setting, overrides, field):
    with pytest.raises(DomainError) as refused:
        listings.save_listing(db, details=chairs(setting, **overrides), by=setting["manager"], now=utcnow())
    assert refused.value.field == field


def test_places_are_booked_not_handed_over(db, setting):
    details = ListingDetails(kind=ResourceKind.PLACE, title="Aulan", category_id=setting["hall"].id,
                             site_id=setting["site"].id, give_away=True)
    with pytest.raises(DomainError):
        listings.save_listing(db, details=details, by=setting["manager"], now=utcnow())
    details.give_away, details.lend = False, True
    hall = listings.save_listing(db, details=details, by=setting["manager"], now=utcnow())
    assert hall.condition is None and hall.weight_kg is None


def test_only_the_owning_municipalitys_facility_managers_change_a_listing(db, setting):
    listing = listings.save_listing(db, details=chairs(setting), by=setting["manager"], now=utcnow())
    for outsider in (setting["employee"], setting["skurup_manager"]):
        with pytest.raises(DomainError):
            listings.save_listing(db, details=chairs(setting, title="Kapad"), by=outsider, now=utcnow(),
                                  listing=listing)
        with pytest.raises(DomainError):
            listings.set_status(db, listing=listing, to=ListingStatus.PUBLISHED, by=outsider, now=utcnow())
    with pytest.raises(DomainError):  # another municipality's site
        listings.save_listing(db, details=chairs(setting, site_id=setting["skurup_site"].id),
                              by=setting["manager"], now=utcnow())


def test_the_lifecycle_refuses_illegal_steps(db, setting):
    listing = listings.save_listing(db, details=chairs(setting), by=setting["manager"], now=utcnow())
    manager = setting["manager"]
    assert listings.manual_steps(listing) == [ListingStatus.PUBLISHED]
    with pytest.raises(DomainError):  # a draft is simply not published: only what was published is withdrawn
        listings.set_status(db, listing=listing, to=ListingStatus.WITHDRAWN, by=manager, now=utcnow())
    assert listing.status == ListingStatus.DRAFT
    listings.set_status(db, listing=listing, to=ListingStatus.PUBLISHED, by=manager, now=utcnow())
    assert listings.manual_steps(listing) == [ListingStatus.DRAFT, ListingStatus.WITHDRAWN]
    assert listing.published_at is not None
    listings.change_status(db, listing, ListingStatus.HANDED_OVER, by=manager, now=utcnow())
    with pytest.raises(DomainError):
        listings.change_status(db, listing, ListingStatus.PUBLISHED, by=manager, now=utcnow())
    with pytest.raises(DomainError):
        listings.save_listing(db, details=chairs(setting), by=manager, now=utcnow(), listing=listing)
    with pytest.raises(DomainError):  # reservations, not edits, make a listing reserved
        listings.set_status(db, listing=listing, to=ListingStatus.RESERVED, by=manager, now=utcnow())


def test_duplicate_makes_a_draft_copy(db, setting, factory):
    listing = published(factory, setting)
    copy = listings.duplicate(db, listing=listing, by=setting["manager"], now=utcnow())
    assert copy.id != listing.id and copy.status == ListingStatus.DRAFT and copy.title == listing.title
    assert copy.search_text == listing.search_text


def test_a_changed_listing_records_what_changed_from_what_to_what(db, setting, factory):
    listing = draft(factory, setting, description="Tio stolar.")
    other_site = factory.site(setting["ystad"], name="Västra skolan")
    listings.save_listing(db, details=chairs(setting, title="Kontorsstolar, svarta", quantity=8,
                                             condition=Condition.FAIR, site_id=other_site.id,
                                             description="Åtta stolar. " + "Lite slitna. " * 20),
                          by=setting["manager"], now=utcnow(), listing=listing)
    db.commit()
    saved = events_of(db, subject_type="listing", subject_id=listing.id)[-1]
    assert saved.name == LISTING_SAVED and saved.payload["created"] is False
    changes = saved.payload["changes"]
    assert {name: changes[name] for name in ("title", "quantity", "condition", "site_id")} == {
        "title": ["Kontorsstolar", "Kontorsstolar, svarta"], "quantity": [10, 8], "condition": ["good", "fair"],
        "site_id": [setting["site"].id, other_site.id]}
    # A long text is kept by its start: the listing holds the rest.
    before, after = changes["description"]
    assert before == "Tio stolar." and after.startswith("Åtta stolar. Lite slitna.") and after.endswith("…")
    assert len(after) == listings.CHANGED_TEXT_KEPT
    assert set(changes) == {"title", "quantity", "condition", "site_id", "description"}
    # Saved again as it is: nothing changed, and the event says so.
    listings.save_listing(db, details=listings.details_of(listing), by=setting["manager"], now=utcnow(),
                          listing=listing)
    db.commit()
    assert events_of(db, subject_type="listing", subject_id=listing.id)[-1].payload["changes"] == {}


def test_visibility_own_municipality_or_partners(db, setting, factory):
    mine = published(factory, setting, title="Egen stol", visibility="own")
    published(factory, setting, title="Delad stol")

    def found(viewer):
        return sorted(i.title for i in listings.find(db, viewer=viewer, filters=listings.Filters(q="stol")).items)

    assert found(setting["employee"]) == ["Delad stol", "Egen stol"]
    assert found(setting["skurup_employee"]) == ["Delad stol"]
    assert not listings.can_see(setting["skurup_employee"], mine)


# --- Views ---------------------------------------------------------------------------

def form_data(s, **overrides):
    data = {"kind": "thing", "title": "Kontorsstolar, svarta", "category_id": str(s["chairs"].id),
            "site_id": str(s["site"].id), "condition": "good", "quantity": "10", "lend": "y",
            "visibility": "partners", "description": "Tio likadana stolar."}
    return {**data, **overrides}


def test_a_facility_manager_lists_publishes_and_another_municipality_finds_it(app, client, auth, setting, db):
    auth.login(setting["manager"])
    token = csrf_token(client, "/catalog/new")
    response = client.post("/catalog/new", data={**form_data(setting), "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    listing_id = int(re.search(r"/catalog/(\d+)", response.headers["Location"]).group(1))
    response = client.post(f"/catalog/{listing_id}/status", data={"status": "published",
                                                                   "csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302
    auth.logout()
    auth.login(setting["skurup_employee"])
    page = client.get("/catalog/?q=stol").get_data(as_text=True)
    assert "Kontorsstolar, svarta" in page
    detail = client.get(f"/catalog/{listing_id}")
    assert detail.status_code == 200 and "Tio likadana stolar." in detail.get_data(as_text=True)
    # Not theirs to change.
    assert client.get(f"/catalog/{listing_id}/edit").status_code == 403
    # What happened is on record, for the audit trail and for whoever listens.
    trail = events_of(db, subject_type="listing", subject_id=listing_id)
    assert [(e.name, e.actor_id, e.municipality_id, e.payload) for e in trail] == [
        (LISTING_SAVED, setting["manager"].id, setting["ystad"].id, {"created": True, "status": "draft"}),
        (LISTING_PUBLISHED, setting["manager"].id, setting["ystad"].id, {"from": "draft", "to": "published"}),
    ]


def test_a_bad_listing_form_shows_the_error_and_saves_nothing(client, auth, setting, db):
    auth.login(setting["manager"])
    token = csrf_token(client, "/catalog/new")
    response = client.post("/catalog/new", data={**form_data(setting, lend=""), "csrf_token": token})
    assert response.status_code == 200
    assert "Välj minst ett sätt att dela" in response.get_data(as_text=True)
    assert db.scalar(select(Listing)) is None


@pytest.mark.parametrize("condition, saved", [(None, True), ("", True), ("bogus", False)])
def test_a_place_needs_no_condition_and_nothing_takes_a_made_up_one(client, auth, setting, db, factory, condition,
                                                                    saved):
    room = factory.category("Mötesrum", kind="place")
    auth.login(setting["manager"])
    data = {**form_data(setting, kind="place", category_id=str(room.id)),
            "csrf_token": csrf_token(client, "/catalog/new")}
    if condition is None:
        del data["condition"]  # a script's post, without the field at all
    else:
        data["condition"] = condition
    response = client.post("/catalog/new", data=data)
    assert (response.status_code == 302) == saved, response.get_data(as_text=True)[-3000:]
    assert (db.scalar(select(func.count()).select_from(Listing)) == 1) == saved


def test_an_empty_listing_form_tells_everything_missing_at_once(client, auth, setting, db):
    """Not the title, category and site first, and the condition and the ways to share it only once
    those are right: a thing needs all five, and the first answer says so."""
    auth.login(setting["manager"])
    token = csrf_token(client, "/catalog/new")
    response = client.post("/catalog/new", data={"kind": "thing", "quantity": "1", "visibility": "partners",
                                                  "loan_min_days": "30", "loan_max_days": "5", "csrf_token": token})
    page = response.get_data(as_text=True)
    for told in ("Välj en kategori.", "Välj var den finns.", "Välj skick.", "Välj minst ett sätt att dela"):
        assert told in page, told
    response = client.post("/catalog/new", data={**form_data(setting, loan_min_days="30", loan_max_days="5"),
                                                  "csrf_token": token})
    assert "Det kortaste lånet kan inte vara längre än det längsta." in response.get_data(as_text=True)
    assert db.scalar(select(Listing)) is None


def test_every_rule_a_listing_breaks_is_told_at_once_on_the_form_and_in_the_api(client, auth, setting, db):
    """The form's own checks pass; the rules then find two fields wrong, and say both."""
    wrong = {"kind": "place", "give_away": True}  # filed under chairs, and a place given away
    auth.login(setting["manager"])
    response = client.post("/catalog/new", data={**form_data(setting, kind="place", give_away="y", lend=""),
                                                  "csrf_token": csrf_token(client, "/catalog/new")})
    page = " ".join(response.get_data(as_text=True).split())
    assert "Kategorin passar inte resursens slag" in page
    assert "Lokaler och tjänster kan bara bokas för en tid" in page
    auth.logout()

    now = utcnow()
    _, raw = create_api_token(db, user=setting["manager"], name="Both", password=PASSWORD, now=now,
                              expires_at=now + timedelta(days=1), max_lifetime=timedelta(days=365))
    db.commit()
    body = {"title": "Kontorsstolar", "category_id": setting["chairs"].id, "site_id": setting["site"].id,
            "condition": "good", "quantity": 10, **wrong}
    response = client.post("/api/v1/listings", json=body, headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 422
    assert [error["field"] for error in response.get_json(force=True)["errors"]] == ["category_id", "lend"]
    assert db.scalar(select(func.count()).select_from(Listing)) == 0


@pytest.mark.parametrize("field", ["kind", "visibility"])
def test_a_radio_groups_error_is_in_its_fieldset_where_the_summary_links(client, auth, setting, db, field):
    auth.login(setting["manager"])
    token = csrf_token(client, "/catalog/new")
    response = client.post("/catalog/new", data={**form_data(setting, **{field: "bogus"}), "csrf_token": token})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and db.scalar(select(Listing)) is None
    assert f'href="#{field}"' in html
    group = fieldset(html, field)
    assert f'id="{field}-error"' in group
    radios = re.findall(r'<input[^>]*type="radio"[^>]*>', group)
    assert radios and all(f'aria-describedby="{field}-error"' in radio for radio in radios)


@pytest.mark.parametrize(("locale", "name", "other"), [("en", "Office chair", "Kontorsstol"),
                                                       ("sv", "Kontorsstol", "Office chair")])
def test_categories_are_named_in_the_readers_language(client, auth, setting, db, factory, locale, name, other):
    listing = published(factory, setting, title="Svarta stolar")
    reader = setting["skurup_employee"]
    reader.locale = locale
    db.add(reader)
    db.commit()
    auth.login(reader)
    page = client.get(f"/catalog/?category_id={setting['chairs'].id}").get_data(as_text=True)
    card = re.search(r'<li class="listing-card">.*?</li>', page, re.DOTALL).group(0)
    detail = client.get(f"/catalog/{listing.id}").get_data(as_text=True)
    breadcrumb = re.search(r'<p class="breadcrumb">.*?</p>', detail, re.DOTALL).group(0)
    for shown in (card, breadcrumb):
        assert name in shown and other not in shown


def test_drafts_are_hidden_from_others(client, auth, setting, factory):
    listing = draft(factory, setting)
    auth.login(setting["skurup_manager"])
    response = client.get(f"/catalog/{listing.id}")
    assert response.status_code == 404
    # As a label's QR code leads there: why that may be, the same as for no listing at all.
    page = response.get_data(as_text=True)
    assert "Annonsen finns inte i katalogen" in page and "Den kan vara ett utkast" in page
    assert listing.title not in page
    none = client.get("/catalog/999999")
    assert none.status_code == 404 and "Annonsen finns inte i katalogen" in none.get_data(as_text=True)
    token = csrf_token(client, "/")
    response = client.post(f"/catalog/{listing.id}/status", data={"status": "published", "csrf_token": token})
    assert response.status_code == 404


def test_filters_are_in_the_url(client, auth, setting, factory):
    for title, condition in (("Stol som ny", "as_new"), ("Sliten stol", "fair")):
        published(factory, setting, title=title, condition=Condition(condition))
    auth.login(setting["employee"])
    page = client.get("/catalog/?q=stol&condition=as_new").get_data(as_text=True)
    assert "Stol som ny" in page and "Sliten stol" not in page
    page = client.get(f"/catalog/?category_id={setting['hall'].id}").get_data(as_text=True)
    assert "Stol som ny" not in page


def test_the_map_groups_matching_listings_by_site(db, setting, factory):
    other_site = factory.site(setting["ystad"], "Ystads gymnasium")
    for n in range(7):
        published(factory, setting, title=f"Pinnstol {n}")
    published(factory, setting, title="Skrivbord", site=other_site)
    published(factory, setting, title="Pinnstol hemlig", visibility=Visibility.OWN_MUNICIPALITY)

    points = listings.map_points(db, viewer=setting["skurup_employee"], filters=listings.Filters(q="pinnstol"),
                                 per_site=5).points
    assert [(p.site_id, p.count) for p in points] == [(setting["site"].id, 7)]
    assert [title for _, title in points[0].listings] == [f"Pinnstol {n}" for n in (6, 5, 4, 3, 2)]
    everything = listings.map_points(db, viewer=setting["employee"], filters=listings.Filters()).points
    assert sorted(p.count for p in everything) == [1, 8]


def test_the_map_page_shows_the_same_search_on_our_own_map(factory, app, client, auth, setting, db):
    published(factory, setting, title="Pinnstol")
    published(factory, setting, title="Bokhylla")
    auth.login(setting["skurup_employee"])
    response = client.get("/catalog/?q=pinnstol&view=map")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "Pinnstol" in page and "Bokhylla" not in page
    assert 'id="listing-map-points"' in page and "leaflet.js" in page
    # By default no tile server: no third party, in the page or in what the page may load.
    assert 'data-tiles=""' in page and 'data-background="/static/map/municipalities.geojson"' in page
    assert "img-src 'self' data:;" in response.headers["Content-Security-Policy"]
    assert "openstreetmap" not in page and "http" not in response.headers["Content-Security-Policy"]
    # The links between list and map keep the search.
    assert 'href="/catalog/?view=map&amp;q=pinnstol"' in page or 'href="/catalog/?q=pinnstol&amp;view=map"' in page


def test_the_map_page_allows_a_configured_tile_server_and_only_there(factory, app, client, auth, setting, db):
    published(factory, setting, title="Pinnstol")
    app.config["MAP_TILE_URL"] = "https://{s}.kartor.ystad.example/{z}/{x}/{y}.png"
    auth.login(setting["skurup_employee"])
    response = client.get("/catalog/?q=pinnstol&view=map")
    assert "img-src 'self' data: https://*.kartor.ystad.example;" in response.headers["Content-Security-Policy"]
    assert 'data-tiles="https://{s}.kartor.ystad.example/{z}/{x}/{y}.png"' in response.get_data(as_text=True)
    listing_page = client.get("/catalog/?q=pinnstol")
    assert "kartor.ystad.example" not in listing_page.headers["Content-Security-Policy"]


def test_the_shipped_map_holds_every_municipality_of_skane_and_the_founders_localities(client):
    with client.get("/static/map/municipalities.geojson") as response:
        assert response.status_code == 200
        features = json.loads(response.get_data())["features"]
    borders = {f["properties"]["code"]: f["geometry"] for f in features if f["properties"]["kind"] == "municipality"}
    # A municipality of Skåne that joins finds its own area on the map (its sites are placed there).
    assert len(borders) == 33 and all(code.startswith("12") for code in borders)
    assert {"1286", "1264", "1287", "1265", "1280"} <= set(borders)  # the founders, Sjöbo, Malmö
    assert all(geometry["type"] in {"Polygon", "MultiPolygon"} for geometry in borders.values())
    localities = {f["properties"]["name"]: f["geometry"]["coordinates"] for f in features
                  if f["properties"]["kind"] == "locality"}
    assert {"Anderslöv", "Smygehamn", "Klagstorp", "Rydsgård", "Skivarp", "Slimminge", "Löderup", "Köpingebro",
            "Hedeskoga"} <= set(localities)
    # Where domain knowledge puts them: Trelleborg west of Skurup west of Ystad, all on the south coast.
    assert localities["Trelleborg"][0] < localities["Skurup"][0] < localities["Ystad"][0]
    assert all(55.3 < lat < 55.6 and 13.0 < lng < 14.3 for lng, lat in localities.values())


def test_repeated_filters_survive_paging(factory, client, auth, setting, db):
    for n in range(26):
        published(factory, setting, title=f"Stol {n}", condition=Condition.GOOD if n % 2 else Condition.AS_NEW)
    auth.login(setting["employee"])
    page = client.get("/catalog/?condition=good&condition=as_new&per_page=24").get_data(as_text=True)
    assert "condition=good&amp;condition=as_new" in page.replace("condition=as_new&amp;condition=good",
                                                               "condition=good&amp;condition=as_new")


def test_a_broad_search_is_counted_up_to_a_limit(factory, db, setting, monkeypatch):
    monkeypatch.setattr(listings, "COUNT_LIMIT", 3)
    for n in range(5):
        published(factory, setting, title=f"Stol {n}")
    found = listings.find(db, viewer=setting["employee"], filters=listings.Filters(q="stol", per_page=2, page=2))
    assert (found.total, found.more, found.pages) == (3, True, 2)
    assert [listing.title for listing in found.items] == ["Stol 2"]  # the count says 3: no 4th
    narrow = listings.find(db, viewer=setting["employee"], filters=listings.Filters(q="stol 4"))
    assert (narrow.total, narrow.more) == (1, False)


def test_a_broad_search_says_it_put_in_order_the_newest(factory, client, auth, setting, monkeypatch):
    monkeypatch.setattr(listings, "COUNT_LIMIT", 3)
    for n in range(5):
        published(factory, setting, title=f"Stol {'ABCDE'[n]}")
    auth.login(setting["employee"])
    best = "De bästa träffarna bland de 3 nyaste visas först."
    assert best in client.get("/catalog/?q=stol").get_data(as_text=True)
    by_title = client.get("/catalog/?q=stol&sort=title").get_data(as_text=True)
    assert "Sorterade efter rubrik bland de 3 nyaste." in by_title and best not in by_title
    for other in ("/catalog/?q=stol&sort=newest", "/catalog/?q=stol+a"):  # as the newest come, or few
        page = client.get(other).get_data(as_text=True)
        assert "bland de 3 nyaste" not in page, other


def test_a_broad_search_by_title_sorts_the_newest(factory, db, setting, monkeypatch):
    monkeypatch.setattr(listings, "COUNT_LIMIT", 3)
    for letter in "ABCDE":  # E the newest
        published(factory, setting, title=f"Stol {letter}")
    found = listings.find(db, viewer=setting["employee"], filters=listings.Filters(q="stol", sort="title"))
    assert [listing.title for listing in found.items] == ["Stol C", "Stol D", "Stol E"]
    assert (found.total, found.more) == (3, True)
    monkeypatch.setattr(listings, "COUNT_LIMIT", 10)
    found = listings.find(db, viewer=setting["employee"], filters=listings.Filters(q="stol", sort="title"))
    assert [listing.title for listing in found.items] == ["Stol A", "Stol B", "Stol C", "Stol D", "Stol E"]


def test_a_search_that_only_read_commits(factory, client, auth, setting, app):
    """As every request that only read (PostgreSQL's prepared statements outlive a commit, not
    a rollback): planning the search for its words is no write."""
    published(factory, setting, title="Stol")
    auth.login(setting["employee"])
    endings: list[str] = []
    engine = app.extensions["sharing.engine"]

    def ended(how):
        return lambda _connection: endings.append(how)

    commit, rollback = ended("commit"), ended("rollback")
    event.listen(engine, "commit", commit)
    event.listen(engine, "rollback", rollback)
    try:
        for path in ("/catalog/?q=stol", "/catalog/?q=stol&sort=title", "/catalog/?q=stol&view=map"):
            endings.clear()
            assert client.get(path).status_code == 200, path
            assert "rollback" not in endings and "commit" in endings, (path, endings)
    finally:
        event.remove(engine, "commit", commit)
        event.remove(engine, "rollback", rollback)


def test_our_listings_are_filtered_and_paged(client, auth, setting, db, factory):
    for n in range(3):
        published(factory, setting, title=f"Bokhylla {n}")
    draft(factory, setting, title="Pall i utkast")
    auth.login(setting["manager"])
    page = client.get("/catalog/mine?status=draft").get_data(as_text=True)
    assert "Pall i utkast" in page and "Bokhylla" not in page
    page = client.get("/catalog/mine?q=bokhylla").get_data(as_text=True)
    assert "Bokhylla 2" in page and "Pall i utkast" not in page
    found = listings.owned(db, municipality_id=setting["ystad"].id, per_page=2, page=2)
    assert (found.total, found.pages, len(found.items)) == (4, 2, 2)
    assert "Nothing" not in client.get("/catalog/mine?status=bogus").get_data(as_text=True)


def test_a_page_past_the_last_says_so_and_leads_to_the_first(client, auth, setting, factory):
    for n in range(2):
        published(factory, setting, title=f"Bokhylla {n}")
    auth.login(setting["manager"])
    for path, first in (("/catalog/?q=bokhylla&page=9", "/catalog/?q=bokhylla"),
                        ("/catalog/mine?q=bokhylla&page=9", "/catalog/mine?q=bokhylla")):
        page = client.get(path).get_data(as_text=True)
        assert "Det finns ingen sida 9 bland träffarna." in page, path
        assert f'<a href="{first}">Gå till första sidan</a>' in page, path
        assert "Inga annonser matchade" not in page, path
    # A search that finds nothing says what to try.
    page = client.get("/catalog/?q=zzyzx").get_data(as_text=True)
    assert "Inga annonser matchade sökningen. Prova färre eller andra ord, eller färre filter." in page


def test_available_for_a_period(factory, client, auth, setting, db):
    from datetime import date

    published(factory, setting, title="Stol nu")
    published(factory, setting, title="Stol sedan", available_from=date(2031, 3, 1))
    auth.login(setting["employee"])
    page = client.get("/catalog/?q=stol&available_from=2031-01-10&available_until=2031-01-20").get_data(as_text=True)
    assert "Stol nu" in page and "Stol sedan" not in page
    page = client.get("/catalog/?q=stol&available_from=2031-03-02").get_data(as_text=True)
    assert "Stol nu" in page and "Stol sedan" in page
    page = client.get("/catalog/?q=stol&available_from=2031-03-02&available_until=2031-03-01").get_data(as_text=True)
    assert "Periodens slut kommer före dess början: välj ett slut" in page
    api = client.get("/api/v1/listings?q=stol&available_from=2031-01-10").get_json()
    assert [item["title"] for item in api["items"]] == ["Stol nu"]
    assert client.get("/api/v1/listings?available_from=10/1").status_code == 400


@pytest.mark.parametrize("bad", ["20310110", "2031-W02-5", "2031W025", "2031-1-10", "2031-01-10T00:00",
                                 "2031-13-01", "٢٠٣١-٠١-١٠", "2031-01-10\n"])
def test_the_api_takes_dates_as_yyyy_mm_dd_only(client, auth, setting, bad):
    auth.login(setting["employee"])
    for name in ("available_from", "available_until"):
        response = client.get("/api/v1/listings", query_string={name: bad})
        assert (response.status_code, response.mimetype) == (400, "application/problem+json"), (name, bad)
        assert response.get_json()["detail"] == f"'{name}' must be a date (YYYY-MM-DD)."
    assert client.get("/api/v1/listings", query_string={"available_from": "2031-01-10"}).status_code == 200


def test_the_api_document_says_dates_are_yyyy_mm_dd(client):
    parameters = client.get("/api/v1/openapi.json").get_json()["paths"]["/listings"]["get"]["parameters"]
    documented = {p["name"]: p["schema"] for p in parameters}
    for name in ("available_from", "available_until"):
        assert documented[name]["format"] == "date" and "YYYY-MM-DD" in documented[name]["description"]
        assert re.search(documented[name]["pattern"], "2031-01-10")
        assert not re.search(documented[name]["pattern"], "20310110")


@pytest.mark.parametrize("query", [
    "kind=bogus", "condition=bogus", "view=map&kind=bogus", "page=99999999999999999999", "page=%C2%B2",
    "category_id=99999999999999999999", "near_site_id=99999999999999999999", "endpoint=x", "_anchor=x",
    "_external=1&q=stol", "category_id=abc", "municipality_id=abc&near_site_id=x1",
])
def test_odd_addresses_are_searches_not_errors(factory, client, auth, setting, db, query):
    published(factory, setting, title="Stol")
    auth.login(setting["employee"])
    response = client.get(f"/catalog/?{query}")
    assert response.status_code == 200
    assert "ceorce" not in response.get_data(as_text=True)  # an id it cannot read is no filter, not WTForms' words
    assert "http://" not in response.get_data(as_text=True).split("<main", 1)[1].split("</main>")[0]
    assert client.get(f"/catalog/mine?{query}").status_code in (200, 403)


def test_the_api_refuses_figures_no_report_could_add_up(client, auth, setting, db):
    auth.login(setting["manager"])
    token = csrf_token(client, "/")
    base = {"kind": "thing", "title": "Stol", "category_id": setting["chairs"].id, "site_id": setting["site"].id,
            "condition": "good", "lend": True}
    for figures, field in (({"weight_kg": 1e309}, "weight_kg"), ({"width_cm": 10**20}, "width_cm"),
                           ({"loan_min_days": 999_999}, "loan_min_days"), ({"quantity": 10**9}, "quantity")):
        response = client.post("/api/v1/listings", json={**base, **figures}, headers={"X-CSRFToken": token})
        assert response.status_code in (400, 422), (figures, response.get_json())
        assert response.get_data(as_text=True).count("Infinity") == 0
    assert db.scalar(select(func.count()).select_from(Listing)) == 0


def test_the_api_withdraws_only_published_listings(client, auth, db, setting, factory):
    unpublished, shown = draft(factory, setting), published(factory, setting)
    auth.login(setting["manager"])
    headers = {"X-CSRFToken": csrf_token(client, "/")}
    response = client.post(f"/api/v1/listings/{unpublished.id}/status", json={"status": "withdrawn"}, headers=headers)
    assert (response.status_code, response.mimetype) == (422, "application/problem+json")
    assert response.get_json()["status"] == 422 and "withdrawn" in response.get_json()["detail"]
    db.refresh(unpublished)
    assert unpublished.status == ListingStatus.DRAFT
    response = client.post(f"/api/v1/listings/{shown.id}/status", json={"status": "withdrawn"}, headers=headers)
    assert response.status_code == 200 and response.get_json()["status"] == "withdrawn"
    response = client.post(f"/api/v1/listings/{shown.id}/status", json={"status": "draft"}, headers=headers)
    assert response.status_code == 200 and response.get_json()["status"] == "draft"


def test_reserved_listings_are_moved_by_loans_not_by_hand(db, setting, factory):
    listing = published(factory, setting, title="Stol", status=ListingStatus.RESERVED)
    assert listings.manual_steps(listing) == []
    with pytest.raises(DomainError):
        listings.set_status(db, listing=listing, to=ListingStatus.PUBLISHED, by=setting["manager"], now=utcnow())


def test_publishing_checks_the_listing_again(db, setting, factory):
    listing = draft(factory, setting)
    setting["site"].active = False
    db.commit()
    with pytest.raises(DomainError) as refused:
        listings.set_status(db, listing=listing, to=ListingStatus.PUBLISHED, by=setting["manager"], now=utcnow())
    assert refused.value.field == "site_id"


def test_publishing_tells_every_rule_the_listing_breaks_on_its_page_and_in_the_api(client, auth, db, setting,
                                                                                      factory):
    """Its site closed and its contact left since it was saved: both are told, in one round."""
    contact = factory.user(setting["ystad"], Role.FACILITY_MANAGER)
    listing = draft(factory, setting, contact_user_id=contact.id)
    setting["site"].active = contact.active = False
    setting["manager"].locale = "en"
    db.commit()
    auth.login(setting["manager"])
    response = client.post(f"/catalog/{listing.id}/status", follow_redirects=True,
                           data={"status": "published", "csrf_token": csrf_token(client, f"/catalog/{listing.id}")})
    flash = re.search(r'<div class="flash flash-error">(.*?)</div>', response.get_data(as_text=True), re.DOTALL)
    assert flash is not None, "no refusal flashed"
    assert "The listing cannot be published until you have corrected this:" in flash.group(1)
    assert re.findall(r"<li>(.*?)</li>", flash.group(1)) == [
        "Choose one of your municipality&#39;s sites.",
        "Choose a contact among your municipality&#39;s facility managers.",
    ]

    response = client.post(f"/api/v1/listings/{listing.id}/status", json={"status": "published"},
                           headers={"X-CSRFToken": csrf_token(client, "/")})
    assert response.status_code == 422
    assert [(error["field"], error["message"]) for error in response.get_json()["errors"]] == [
        ("site_id", "Choose one of your municipality's sites."),
        ("contact_user_id", "Choose a contact among your municipality's facility managers."),
    ]
    db.refresh(listing)
    assert listing.status == ListingStatus.DRAFT


def test_the_api_tells_a_refusal_that_concerns_no_field_too(client, auth, db, setting, factory):
    """A refusal of the request as a whole is in ``errors`` (field null), as the document says."""
    listing = draft(factory, setting)
    auth.login(setting["manager"])
    response = client.post(f"/api/v1/listings/{listing.id}/status", json={"status": "withdrawn"},
                           headers={"X-CSRFToken": csrf_token(client, "/")})
    assert response.status_code == 422
    body = response.get_json()
    assert body["errors"] == [{"field": None, "message": body["detail"]}] and "withdrawn" in body["detail"]
    document = client.get("/api/v1/openapi.json").get_json()
    entry = document["components"]["schemas"]["Problem"]["properties"]["errors"]["items"]
    assert entry["properties"]["field"]["type"] == ["string", "null"] and entry["required"] == ["field", "message"]


def test_one_access_helper_answers_for_pages_and_api_alike(client, auth, db, setting):
    draft = listings.save_listing(db, details=chairs(setting), by=setting["manager"], now=utcnow())
    shown = listings.save_listing(db, details=chairs(setting), by=setting["manager"], now=utcnow())
    listings.set_status(db, listing=shown, to=ListingStatus.PUBLISHED, by=setting["manager"], now=utcnow())
    db.commit()
    outsider = setting["skurup_manager"]
    with pytest.raises(NotVisible):
        listings.listing_to_see(db, outsider, draft.id)  # another municipality's draft
    with pytest.raises(NotVisible):
        listings.listing_to_see(db, outsider, 10**9)
    assert listings.listing_to_see(db, outsider, shown.id) is shown
    with pytest.raises(NotAllowed):
        listings.listing_to_manage(db, outsider, shown.id)
    assert listings.listing_to_manage(db, setting["manager"], draft.id) is draft

    auth.login(outsider)
    assert client.get(f"/catalog/{draft.id}").status_code == 404
    assert client.get(f"/catalog/{shown.id}/edit").status_code == 403
    api_hidden = client.get(f"/api/v1/listings/{draft.id}")
    api_forbidden = client.put(f"/api/v1/listings/{shown.id}", json={},
                               headers={"X-CSRFToken": csrf_token(client, "/")})
    assert (api_hidden.status_code, api_hidden.mimetype) == (404, "application/problem+json")
    assert (api_forbidden.status_code, api_forbidden.mimetype) == (403, "application/problem+json")


def test_every_status_a_listing_reaches_has_its_event_name():
    assert {status: LISTING_STATUS[status] for status in ListingStatus} == {
        status: f"catalog.listing.{status.value}" for status in ListingStatus}


@pytest.mark.parametrize("locale, says, never, sofa_says", [
    ("sv", "Att tillverka ett nytt exemplar av det här slaget orsakar omkring 100 kg CO2e (uppskattning).", "causes",
     "Att återbruka ett exemplar av det här slaget sparar omkring 55 kg CO2e (publicerad nettobesparing)."),
    ("en", "Producing a new piece of this kind causes about 100 kg CO2e (estimate).", "orsakar",
     "Reusing a piece of this kind saves about 55 kg CO2e (published net saving)."),
])
def test_a_listing_says_what_its_climate_figure_is_in_the_readers_language(
        client, auth, setting, db, factory, locale, says, never, sofa_says):
    from sharing.catalog.categories.models import Category
    from sharing.catalog.categories.rules import load_reference_categories
    load_reference_categories(db)
    db.commit()
    chair_category = db.scalar(select(Category).where(Category.slug == "mobler/sittmobler/kontorsstol"))
    sofa_category = db.scalar(select(Category).where(Category.slug == "mobler/sittmobler/soffa"))
    chair = factory.listing_published(site=setting["site"], category=chair_category, by=setting["manager"])
    sofa = factory.listing_published(site=setting["site"], category=sofa_category, by=setting["manager"])
    reader = setting["employee"]
    reader.locale = locale
    db.add(reader)
    db.commit()
    auth.login(reader)
    page = " ".join(client.get(f"/catalog/{chair.id}").get_data(as_text=True).split())
    assert says in page and never not in page
    assert "Rekomo, EPD NEPD-467-327-EN (2016)" in page
    for unfinished in ("citing", "ersätt med", "))"):
        assert unfinished not in page
    # The sofa's published figure is a saving of reuse: shown as one, never as the impact of a new sofa.
    page = " ".join(client.get(f"/catalog/{sofa.id}").get_data(as_text=True).split())
    assert sofa_says in page and "WRAP" in page
    assert "orsakar" not in page and "causes" not in page


def test_cards_say_where_and_how_far_and_keep_a_picture_without_photos(client, auth, setting, db, factory):
    ystad = db.get(Municipality, setting["site"].municipality_id)
    far = factory.site(ystad, locality="Löderup", latitude=55.43, longitude=13.98)  # about 10 km east
    published(factory, setting, title="Stolar nära")
    published(factory, setting, title="Stolar långt bort", site=far)
    auth.login(setting["employee"])
    page = client.get(f"/catalog/?q=stolar&sort=distance&near_site_id={setting['site'].id}").get_data(as_text=True)
    cards = re.findall(r'<li class="listing-card">.*?</li>', page, re.DOTALL)
    texts = [" ".join(re.sub(r"<[^>]+>", " ", card).split()) for card in cards]
    assert "Stolar nära" in texts[0] and "Ystad · Ystad · 0 km bort" in texts[0]
    assert "Stolar långt bort" in texts[1] and "Ystad · Löderup · 10,1 km bort" in texts[1]
    assert all('class="card-photo card-placeholder"' in card for card in cards)
    # Sorted otherwise, no distance is claimed.
    page = client.get(f"/catalog/?q=stolar&near_site_id={setting['site'].id}").get_data(as_text=True)
    assert "Ystad · Löderup" in page and "km bort" not in page


def test_the_new_listing_form_makes_the_manager_choose_the_category_and_the_site(client, auth, setting, db, factory):
    factory.site(db.get(Municipality, setting["site"].municipality_id), name="Annan fastighet")
    auth.login(setting["manager"])
    page = client.get("/catalog/new").get_data(as_text=True)
    for field, blank in (("category_id", "Välj kategori …"), ("site_id", "Välj var den finns …")):
        select_html = re.search(rf'<select[^>]*name="{field}".*?</select>', page, re.DOTALL).group(0)
        assert re.search(rf'<option selected value="">{blank}</option>', select_html), select_html
        assert select_html.count("selected") == 1
    token = csrf_token(client, "/catalog/new")
    response = client.post("/catalog/new", data={**form_data(setting, category_id="", site_id=""), "csrf_token": token})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Välj en kategori." in page and "Välj var den finns." in page
    assert db.scalar(select(func.count()).select_from(Listing)) == 0


def test_withdrawing_asks_first_and_is_offered_only_on_published_listings(client, auth, setting, db, factory):
    unpublished = draft(factory, setting)
    shown = published(factory, setting)
    auth.login(setting["manager"])
    assert 'value="withdrawn"' not in client.get(f"/catalog/{unpublished.id}").get_data(as_text=True)
    assert f"/catalog/{unpublished.id}/withdraw" not in client.get(f"/catalog/{unpublished.id}").get_data(as_text=True)
    assert client.get(f"/catalog/{unpublished.id}/withdraw").status_code == 302
    detail = client.get(f"/catalog/{shown.id}").get_data(as_text=True)
    assert 'value="withdrawn"' not in detail  # not one click away
    assert f'href="/catalog/{shown.id}/withdraw"' in detail
    confirm = client.get(f"/catalog/{shown.id}/withdraw").get_data(as_text=True)
    assert "Ja, dra tillbaka den" in confirm and 'value="withdrawn"' in confirm
    db.refresh(shown)
    assert shown.status == ListingStatus.PUBLISHED
    token = csrf_token(client, f"/catalog/{shown.id}/withdraw")
    client.post(f"/catalog/{shown.id}/status", data={"status": "withdrawn", "csrf_token": token})
    db.refresh(shown)
    assert shown.status == ListingStatus.WITHDRAWN


@pytest.mark.parametrize("query, told", [("sort=distance", True), ("within_km=5", True), ("sort=newest", False)])
def test_a_search_by_distance_without_a_site_to_count_from_says_how_to_choose_one(client, auth, setting, query, told):
    auth.login(setting["employee"])
    page = client.get(f"/catalog/?q=stol&{query}").get_data(as_text=True)
    assert ("välj en under ”Nära”" in page) == told


def test_blank_optional_whole_numbers_are_no_error(client, auth, setting, db):
    auth.login(setting["manager"])
    response = client.post("/catalog/new", data={**form_data(setting, width_cm="", loan_min_days=" "),
                                                  "csrf_token": csrf_token(client, "/catalog/new")})
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
