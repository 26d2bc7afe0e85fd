"""Sites placed from their addresses: the geocoder asked through geopy (a stand-in for Nominatim
on this machine), its answers kept, the locality's position when it cannot answer, a clear
refusal when nothing places the address, and the site form and map that use them."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from functools import partial

import pytest
from sqlalchemy import func, select

from sharing.accounts import organisation
from sharing.accounts.geocoding.models import GeocodedAddress
from sharing.accounts.geocoding.rules import (
    FOUND_KEPT,
    LOCALITY,
    MISSED_KEPT,
    NominatimGeocoder,
    Precision,
    localities,
    localities_beyond_map,
    place,
)
from sharing.accounts.models import CoordinatesSource, Role, Site
from sharing.clock import utcnow
from sharing.errors import DomainError
from tests.conftest import csrf_token
from tests.nominatim import StandInNominatim, unreachable_url

save_site = partial(organisation.save_site, by=None)  # saved by the service, no person

YSTAD = localities()["ystad"]  # (name, latitude, longitude) on the map the service ships
STADSHUSET = (55.42915, 13.8229)
USER_AGENT = "Delningstjansten/test (+http://delning.test; drift@delning.test)"


@pytest.fixture
def nominatim():
    server = StandInNominatim()
    yield server
    server.close()


def geocoder(url: str, *, timeout: float = 5, min_delay: float = 0) -> NominatimGeocoder:
    return NominatimGeocoder(url=url, user_agent=USER_AGENT, timeout=timeout, min_delay_seconds=min_delay)


def place_stadshuset(db, service, now=None):  # type: ignore[no-untyped-def]
    return place(db, geocoder=service, street_address="Stora Östergatan 31", postal_code="271 80",
                 locality="Ystad", now=now or utcnow())


# --- The rule: place() -------------------------------------------------------------------------

def test_an_address_is_asked_for_once_and_then_kept(db, nominatim):
    nominatim.add("Stora Östergatan 31", *STADSHUSET)
    service = geocoder(nominatim.url)
    first = place_stadshuset(db, service)
    assert (first.latitude, first.longitude, first.precision, first.source) == (*STADSHUSET, Precision.EXACT,
                                                                                 "nominatim")
    asked = nominatim.asked[0]
    # A structured search in Sweden, as Nominatim's JSON, under the service's own user agent.
    assert asked.params == {"street": "Stora Östergatan 31", "postalcode": "271 80", "city": "Ystad",
                            "countrycodes": "se", "format": "json", "limit": "1"}
    assert asked.user_agent == USER_AGENT
    db.commit()

    # Case and spacing make no other address: the kept answer, and no second request.
    again = place(db, geocoder=service, street_address="stora  östergatan 31", postal_code="27180",
                  locality="YSTAD", now=utcnow() + FOUND_KEPT - timedelta(days=1))
    assert again == first
    assert len(nominatim.asked) == 1
    kept = db.get(GeocodedAddress, "stora östergatan 31|27180|ystad")
    assert (kept.latitude, kept.longitude, kept.source) == (*STADSHUSET, "nominatim")

    # Once old, it is asked again.
    place_stadshuset(db, service, now=utcnow() + FOUND_KEPT + timedelta(days=1))
    assert len(nominatim.asked) == 2


def test_an_answer_coarser_than_a_street_is_approximate(db, nominatim):
    nominatim.add("Stora Östergatan 31", 55.43, 13.82, place_rank=16)  # the town itself
    placement = place_stadshuset(db, geocoder(nominatim.url))
    assert placement.precision == Precision.APPROXIMATE and placement.approximate
    assert (placement.source, placement.locality) == ("nominatim", "Ystad")


def test_an_address_not_found_is_placed_at_its_locality_and_the_miss_is_kept_a_while(db, nominatim):
    service = geocoder(nominatim.url)
    placement = place(db, geocoder=service, street_address="Okänd väg 99", postal_code="271 80",
                      locality=" ystad ", now=utcnow())
    assert (placement.latitude, placement.longitude) == YSTAD[1:]
    assert placement.precision == Precision.APPROXIMATE
    assert (placement.source, placement.locality) == (LOCALITY, "Ystad")
    assert len(nominatim.asked) == 1
    db.commit()

    # The miss is kept: a bad address does not send a request at every save ...
    again = place(db, geocoder=service, street_address="Okänd väg 99", postal_code="271 80", locality="Ystad",
                  now=utcnow() + MISSED_KEPT - timedelta(hours=1))
    assert again == placement and len(nominatim.asked) == 1
    # ... only once it is old: the map may know the address by then.
    nominatim.add("Okänd väg 99", 55.44, 13.80)
    found = place(db, geocoder=service, street_address="Okänd väg 99", postal_code="271 80", locality="Ystad",
                  now=utcnow() + MISSED_KEPT + timedelta(hours=1))
    assert (found.latitude, found.longitude, found.precision) == (55.44, 13.80, Precision.EXACT)
    assert len(nominatim.asked) == 2


def test_a_geocoder_that_is_down_or_too_slow_gives_way_to_the_locality_at_once(db, nominatim):
    started = time.monotonic()
    down = place_stadshuset(db, geocoder(unreachable_url(), timeout=1))
    assert (down.latitude, down.longitude, down.source) == (*YSTAD[1:], LOCALITY)
    assert time.monotonic() - started < 5  # refused at once; the margin is for a loaded machine

    nominatim.delay = 30
    started = time.monotonic()
    slow = place_stadshuset(db, geocoder(nominatim.url, timeout=0.5))
    assert slow == down
    assert time.monotonic() - started < 10  # the timeout (not the service's 30 s) decides; no retries
    assert len(nominatim.asked) == 1
    # A failure is not an answer: nothing is kept, and the next save asks again.
    assert db.scalar(select(func.count()).select_from(GeocodedAddress)) == 0


def test_a_kept_answer_still_serves_while_the_geocoder_is_down(db, nominatim):
    nominatim.add("Stora Östergatan 31", *STADSHUSET)
    place_stadshuset(db, geocoder(nominatim.url))
    db.commit()
    later = place_stadshuset(db, geocoder(unreachable_url()), now=utcnow() + FOUND_KEPT + timedelta(days=1))
    assert (later.latitude, later.longitude, later.precision) == (*STADSHUSET, Precision.EXACT)


def test_without_a_geocoder_nothing_is_asked_and_the_locality_stands_in(db, nominatim):
    placement = place_stadshuset(db, None)
    assert (placement.latitude, placement.longitude, placement.precision) == (*YSTAD[1:], Precision.APPROXIMATE)
    assert nominatim.asked == []


def test_the_geocoder_is_asked_at_most_once_a_second(db, nominatim):
    service = geocoder(nominatim.url, min_delay=1)
    for street in ("Stora Östergatan 31", "Industrigatan 4"):
        place(db, geocoder=service, street_address=street, postal_code="271 80", locality="Ystad", now=utcnow())
    first, second = nominatim.asked
    assert second.at - first.at >= 0.95


def test_an_address_nothing_can_place_is_refused_with_a_way_out(db, nominatim):
    with pytest.raises(DomainError) as refused:
        place(db, geocoder=geocoder(nominatim.url), street_address="Storgatan 1", postal_code="273 30",
              locality="Tomelilla", now=utcnow())
    assert refused.value.field == "latitude"
    assert "Tomelilla" in str(refused.value) and "map" in str(refused.value)


# --- Sites: save_site places what has no coordinates ---------------------------------------

def details(**fields):  # type: ignore[no-untyped-def]
    values = dict(name="Stadshuset", street_address="Stora Östergatan 31", postal_code="27180", locality="Ystad",
                  opening_hours="mån–fre 08:00–16:30")
    return organisation.SiteDetails(**{**values, **fields})


def test_a_site_without_coordinates_is_placed_from_its_address(db, factory, nominatim):
    nominatim.add("Stora Östergatan 31", *STADSHUSET)
    site = save_site(db, municipality=factory.municipality(), details=details(),
                                  geocoder=geocoder(nominatim.url), now=utcnow())
    assert (site.latitude, site.longitude, site.coordinates_source) == (*STADSHUSET, CoordinatesSource.GEOCODED)
    assert not site.approximate


def test_a_site_the_geocoder_cannot_find_stands_at_its_locality_marked_approximate(db, factory, nominatim):
    site = save_site(db, municipality=factory.municipality(), details=details(),
                                  geocoder=geocoder(nominatim.url), now=utcnow())
    assert (site.latitude, site.longitude) == YSTAD[1:]
    assert site.coordinates_source == CoordinatesSource.APPROXIMATE and site.approximate


def test_a_site_nothing_can_place_is_not_saved(db, factory, nominatim):
    municipality = factory.municipality()
    with pytest.raises(DomainError) as refused:
        save_site(db, municipality=municipality, details=details(locality="Tomelilla"),
                               geocoder=geocoder(nominatim.url), now=utcnow())
    assert refused.value.field == "latitude"
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Site)) == 0


def test_coordinates_given_win_over_the_geocoder(db, factory, nominatim):
    nominatim.add("Stora Östergatan 31", *STADSHUSET)
    picked = save_site(
        db, municipality=factory.municipality(), geocoder=geocoder(nominatim.url), now=utcnow(),
        details=details(latitude=55.4301, longitude=13.8202, coordinates_source=CoordinatesSource.PICKED))
    assert (picked.latitude, picked.longitude, picked.coordinates_source) == (55.4301, 13.8202, "picked")
    assert nominatim.asked == []


def test_only_one_coordinate_is_refused(db, factory):
    with pytest.raises(DomainError) as refused:
        save_site(db, municipality=factory.municipality(), details=details(latitude=55.43),
                               geocoder=None, now=utcnow())
    assert refused.value.field == "longitude"


def test_a_site_is_placed_anew_when_its_address_changes_unless_its_place_was_picked(db, factory, nominatim):
    nominatim.add("Stora Östergatan 31", *STADSHUSET)
    nominatim.add("Industrigatan 4", 55.4389, 13.8441)
    service = geocoder(nominatim.url)
    municipality = factory.municipality()
    site = save_site(db, municipality=municipality, details=details(), geocoder=service, now=utcnow())
    # The form shows the coordinates it has; sent back unchanged with a new address, they are placed anew.
    moved = details(street_address="Industrigatan 4", latitude=site.latitude, longitude=site.longitude)
    save_site(db, municipality=municipality, details=moved, site=site, geocoder=service, now=utcnow())
    assert (site.latitude, site.longitude, site.coordinates_source) == (55.4389, 13.8441, "geocoded")
    # Saved again as the form shows it now: not asked again.
    asked = len(nominatim.asked)
    shown = details(street_address="Industrigatan 4", latitude=site.latitude, longitude=site.longitude)
    save_site(db, municipality=municipality, details=shown, site=site, geocoder=service, now=utcnow())
    assert len(nominatim.asked) == asked and site.coordinates_source == "geocoded"

    # A place picked on the map stays where it was put, whatever the address says.
    picked = details(street_address="Industrigatan 4", latitude=55.4391, longitude=13.8450,
                     coordinates_source=CoordinatesSource.PICKED)
    save_site(db, municipality=municipality, details=picked, site=site, geocoder=service, now=utcnow())
    back = details(latitude=55.4391, longitude=13.8450)  # the old address again, the coordinates as shown
    save_site(db, municipality=municipality, details=back, site=site, geocoder=service, now=utcnow())
    assert (site.latitude, site.longitude, site.coordinates_source) == (55.4391, 13.8450, "picked")
    assert len(nominatim.asked) == asked


def test_a_site_typed_before_geocoding_is_placed_anew_only_when_its_address_changes(db, factory, nominatim):
    nominatim.add("Industrigatan 4", 55.4389, 13.8441)
    municipality = factory.municipality()
    site = factory.site(municipality, street_address="Storgatan 1", latitude=55.43, longitude=13.82)
    assert site.coordinates_source == CoordinatesSource.TYPED
    service = geocoder(nominatim.url)
    same = details(street_address="Storgatan 1", postal_code="271 80", latitude=55.43, longitude=13.82)
    save_site(db, municipality=municipality, details=same, site=site, geocoder=service, now=utcnow())
    assert (site.latitude, site.longitude, site.coordinates_source) == (55.43, 13.82, "typed")
    assert nominatim.asked == []
    moved = details(street_address="Industrigatan 4", latitude=55.43, longitude=13.82)
    save_site(db, municipality=municipality, details=moved, site=site, geocoder=service, now=utcnow())
    assert (site.latitude, site.longitude, site.coordinates_source) == (55.4389, 13.8441, "geocoded")


def test_an_approximate_site_is_placed_again_when_saved(db, factory, nominatim):
    municipality = factory.municipality()
    service = geocoder(unreachable_url())
    site = save_site(db, municipality=municipality, details=details(), geocoder=service, now=utcnow())
    assert site.approximate
    # The geocoder is back (a failure was never kept): saving the form as shown finds the building.
    nominatim.add("Stora Östergatan 31", *STADSHUSET)
    shown = details(latitude=site.latitude, longitude=site.longitude)
    save_site(db, municipality=municipality, details=shown, site=site, geocoder=geocoder(nominatim.url),
                           now=utcnow())
    assert (site.latitude, site.longitude, site.coordinates_source) == (*STADSHUSET, "geocoded")


# --- The site form ----------------------------------------------------------------------------

FORM = {"name": "Östra förrådet", "street_address": "Industrigatan 4", "postal_code": "271 39", "locality": "Ystad",
        "latitude": "", "longitude": "", "coordinates_source": "typed", "opening_hours": "mån–fre 07:00–16:00",
        "access_notes": "Lastkaj på baksidan", "active": "y"}


@pytest.fixture
def admin_of_ystad(factory, auth):  # type: ignore[no-untyped-def]
    ystad = factory.municipality("Ystad", "1286")
    auth.login(factory.user(ystad, Role.MUNICIPALITY_ADMIN))
    return ystad


def use_stand_in(app, nominatim):  # type: ignore[no-untyped-def]
    app.config.update(GEOCODER="nominatim", GEOCODER_URL=nominatim.url, GEOCODER_TIMEOUT=2,
                      GEOCODER_MIN_DELAY_SECONDS=0)


def post(client, path, **fields):  # type: ignore[no-untyped-def]
    return client.post(path, data={**FORM, **fields, "csrf_token": csrf_token(client, path)})


def test_the_form_places_a_new_site_from_its_address(app, client, db, admin_of_ystad, nominatim):
    use_stand_in(app, nominatim)
    nominatim.add("Industrigatan 4", 55.4389, 13.8441)
    new = f"/admin/municipalities/{admin_of_ystad.id}/sites/new"
    response = post(client, new)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/municipalities/{admin_of_ystad.id}/sites")
    site = db.scalars(select(Site)).one()
    assert (site.latitude, site.longitude, site.coordinates_source) == (55.4389, 13.8441, "geocoded")
    assert nominatim.asked[0].user_agent == app.config["GEOCODER_USER_AGENT"]
    listing = client.get(f"/admin/municipalities/{admin_of_ystad.id}/sites").get_data(as_text=True)
    assert "Fastigheten är sparad, på platsen vi hittade från adressen." in listing
    assert "Ungefärligt läge" not in listing
    form = client.get(f"/admin/municipalities/{admin_of_ystad.id}/sites/{site.id}").get_data(as_text=True)
    assert "Hittat från adressen" in form
    assert 'value="55,4389"' in form and 'value="13,8441"' in form  # a decimal comma, in Swedish


def test_the_form_marks_a_site_placed_at_its_locality_as_approximate(app, client, db, admin_of_ystad, nominatim):
    use_stand_in(app, nominatim)  # which does not know the address
    new = f"/admin/municipalities/{admin_of_ystad.id}/sites/new"
    response = post(client, new)
    site = db.scalars(select(Site)).one()
    assert (site.latitude, site.longitude, site.coordinates_source) == (*YSTAD[1:], "approximate")
    # Back to the form, which says so beside the map and asks for the exact place.
    edit = f"/admin/municipalities/{admin_of_ystad.id}/sites/{site.id}"
    assert response.status_code == 302 and response.headers["Location"].endswith(edit)
    page = client.get(edit).get_data(as_text=True)
    assert "Ungefärligt läge, från orten Ystad." in page
    assert "Välj platsen på kartan" in page
    listing = client.get(f"/admin/municipalities/{admin_of_ystad.id}/sites").get_data(as_text=True)
    assert re.search(r'class="tag tag-approximate">Ungefärligt läge<', listing)


def test_the_form_refuses_an_address_nothing_can_place_and_saves_nothing(app, client, db, admin_of_ystad,
                                                                        nominatim):
    use_stand_in(app, nominatim)
    new = f"/admin/municipalities/{admin_of_ystad.id}/sites/new"
    response = post(client, new, locality="Tomelilla", postal_code="273 30")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Tomelilla" in page and "Välj platsen på kartan" in page
    assert 'href="#latitude"' in page  # the error summary leads to the coordinates
    assert db.scalar(select(func.count()).select_from(Site)) == 0


def test_the_form_keeps_a_place_picked_on_the_map_and_reads_a_decimal_comma(app, client, db, admin_of_ystad,
                                                                           nominatim):
    use_stand_in(app, nominatim)
    nominatim.add("Industrigatan 4", 55.4389, 13.8441)
    new = f"/admin/municipalities/{admin_of_ystad.id}/sites/new"
    assert post(client, new, latitude="55,43912", longitude=" 13,84477", coordinates_source="picked"
                ).status_code == 302
    site = db.scalars(select(Site)).one()
    assert (site.latitude, site.longitude, site.coordinates_source) == (55.43912, 13.84477, "picked")
    assert nominatim.asked == []
    # Typed coordinates (anything but "picked", as a page without scripts sends) are typed.
    db.commit()
    edit = f"/admin/municipalities/{admin_of_ystad.id}/sites/{site.id}"
    assert post(client, edit, latitude="55.44", longitude="13.85", coordinates_source="").status_code == 302
    db.expire_all()
    assert db.get(Site, site.id).coordinates_source == "typed"


def test_the_form_refuses_half_a_place(app, client, db, admin_of_ystad):
    new = f"/admin/municipalities/{admin_of_ystad.id}/sites/new"
    response = post(client, new, latitude="55.43")
    assert response.status_code == 400
    assert "lämna båda tomma" in response.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(Site)) == 0


def test_the_site_form_asks_no_third_party_unless_a_tile_server_is_configured(app, client, admin_of_ystad):
    new = f"/admin/municipalities/{admin_of_ystad.id}/sites/new"
    response = client.get(new)
    policy = response.headers["Content-Security-Policy"]
    assert "img-src 'self' data:;" in policy and "connect-src 'self'" in policy
    page = response.get_data(as_text=True)
    assert 'data-tiles=""' in page
    assert not re.search(r'(src|href)="(https?:)?//', page)  # every script, style and image is ours

    app.config.update(MAP_TILE_URL="https://{s}.kartor.example/{z}/{x}/{y}.png", MAP_ATTRIBUTION="© Kartor")
    response = client.get(new)
    assert "img-src 'self' data: https://*.kartor.example;" in response.headers["Content-Security-Policy"]
    assert 'data-tiles="https://{s}.kartor.example/{z}/{x}/{y}.png"' in response.get_data(as_text=True)


# --- The places the map draws beyond those it ships ----------------------------------------

def test_a_joining_municipalitys_towns_are_placed_by_its_sites_and_the_shipped_ones_are_not_repeated():
    sjobo, ystad = 7, 1
    sites = [(sjobo, "Sjöbo", 55.6312, 13.7043), (sjobo, " sjöbo ", 55.61, 13.72), (sjobo, "Sjöbo", 55.62, 13.71),
             (sjobo, "Blentarp", 55.58, 13.61), (ystad, "Ystad", 55.43, 13.82), (ystad, "YSTAD", 55.40, 13.80),
             (sjobo, "", 55.0, 13.0)]
    features = localities_beyond_map(sites)
    assert [feature["properties"] for feature in features] == [
        {"kind": "locality", "name": "Blentarp"}, {"kind": "locality", "name": "Sjöbo"}]  # as most sites spell it
    # Their middle, longitude first, to a hundredth of a degree: a town's label, not a building's place.
    assert features[1]["geometry"] == {"type": "Point", "coordinates": [13.71, 55.62]}
    [lone] = localities_beyond_map([(sjobo, "Vollsjö", 55.70317, 13.77752)])
    assert lone["geometry"]["coordinates"] == [13.78, 55.7]
    # One name in two municipalities is two places.
    assert len(localities_beyond_map([(1, "Vik", 55.6, 14.2), (2, "Vik", 56.0, 13.0)])) == 2


def test_the_maps_places_are_the_active_sites_for_signed_in_users_only(app, client, db, factory, auth):
    sjobo = factory.municipality(name="Sjöbo")
    factory.site(sjobo, locality="Sjöbo", latitude=55.63, longitude=13.70)
    factory.site(sjobo, locality="Lövestad", latitude=55.65, longitude=13.89, active=False)
    factory.site(sjobo, locality="Ystad")  # the map names it already
    assert client.get("/map/places.geojson").status_code in (302, 401)
    auth.login(factory.user(sjobo))
    response = client.get("/map/places.geojson")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert [feature["properties"]["name"] for feature in response.json["features"]] == ["Sjöbo"]
    assert "private" in response.headers["Cache-Control"]
