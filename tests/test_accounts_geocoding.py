"""Sites placed from their addresses: the geocoder asked through geopy (a stand-in for Nominatim
on this machine), its answers kept, the locality's position when it cannot answer, a clear
refusal when nothing places the address, and the site form and map that use them."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from sharing.accounts.geocoding.models import GeocodedAddress
from sharing.accounts.geocoding.rules import (
    FOUND_KEPT,
    LOCALITY,
    MISSED_KEPT,
    NominatimGeocoder,
    Precision,
    localities,
    place,
)
from sharing.clock import utcnow
from sharing.errors import DomainError
from tests.nominatim import StandInNominatim, unreachable_url

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
    assert time.monotonic() - started < 1

    nominatim.delay = 30
    started = time.monotonic()
    slow = place_stadshuset(db, geocoder(nominatim.url, timeout=0.5))
    assert slow == down
    assert time.monotonic() - started < 3  # the timeout, not the service, decides; no retries
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
