"""Where an address is.

The configured geocoder is asked through geopy (Nominatim, with its user agent, a timeout and
at most one request a second); its answers, places and misses alike, are kept in the database,
so an address is asked for once. When it finds nothing, cannot be reached or none is
configured, the locality's position on the map the service ships (static/map) stands in,
marked approximate. An address in no locality of that map is refused: the place must then be
picked on the map. Nothing here ever makes up a position.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple, Protocol
from urllib.parse import urlsplit

from geopy.adapters import URLLibAdapter
from geopy.exc import GeopyError
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import Nominatim
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from sharing.accounts.geocoding.models import GeocodedAddress
from sharing.errors import DomainError
from sharing.i18n import N_

log = logging.getLogger("sharing.accounts.geocoding")

NOMINATIM = "nominatim"
NONE = "none"
GEOCODERS = (NOMINATIM, NONE)
PUBLIC_NOMINATIM = "https://nominatim.openstreetmap.org"
# The public Nominatim's usage policy: at most one request a second, an identifying user agent.
PUBLIC_NOMINATIM_MIN_DELAY = 1.0
LOCALITY = "locality"  # a Placement's source when it is the locality's position

# How long an answer is trusted: buildings rarely move, and an address the geocoder did not find
# is asked again after a while (it may have been added to the map), not at every save.
FOUND_KEPT = timedelta(days=180)
MISSED_KEPT = timedelta(days=7)
# Nominatim ranks places from 4 (a country) to 30 (a house); 26 is a street. A coarser answer
# is a district or a town: approximate.
STREET_RANK = 26
KEY_MAX = 320
MAP_FILE = Path(__file__).resolve().parents[2] / "static" / "map" / "municipalities.geojson"


class Precision(StrEnum):
    EXACT = "exact"  # the building, or at least its street
    APPROXIMATE = "approximate"  # the locality, roughly


@dataclass(frozen=True)
class Placement:
    """Where an address is, how precisely, and who said so."""

    latitude: float
    longitude: float
    precision: Precision
    source: str  # the geocoder's name ("nominatim"), or LOCALITY
    locality: str = ""  # when approximate: the locality it stands for (as the map names it, from the map)

    @property
    def approximate(self) -> bool:
        return self.precision == Precision.APPROXIMATE


class Found(NamedTuple):
    latitude: float
    longitude: float
    precision: Precision


class Geocoder(Protocol):
    """A geocoding service: None when it knows no such address; geopy's GeopyError when it
    cannot be asked (unreachable, too slow, refusing)."""

    name: str

    def find(self, *, street_address: str, postal_code: str, locality: str) -> Found | None: ...


class NominatimGeocoder:
    """Nominatim (OpenStreetMap's, or a municipality's own): a structured search in Sweden."""

    name = NOMINATIM

    def __init__(self, *, url: str, user_agent: str, timeout: float, min_delay_seconds: float) -> None:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"not a geocoder URL: {url!r}")
        # urllib, as in production (where requests is not installed): one behaviour everywhere.
        self.service = Nominatim(user_agent=user_agent, domain=(parts.netloc + parts.path).rstrip("/"),
                                 scheme=parts.scheme, timeout=timeout, adapter_factory=URLLibAdapter)
        # One limiter for the process, shared by its threads; no retries: the locality stands in
        # at once rather than the administrator waiting.
        self.geocode = RateLimiter(self.service.geocode, min_delay_seconds=min_delay_seconds, max_retries=0,
                                   swallow_exceptions=False)

    def find(self, *, street_address: str, postal_code: str, locality: str) -> Found | None:
        query = {"street": street_address, "postalcode": postal_code, "city": locality}
        location = self.geocode(query, exactly_one=True, country_codes="se")
        if location is None:
            return None
        rank = _int(location.raw.get("place_rank")) if isinstance(location.raw, dict) else None
        precision = Precision.APPROXIMATE if rank is not None and rank < STREET_RANK else Precision.EXACT
        return Found(float(location.latitude), float(location.longitude), precision)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def geocoder_from_config(config: Mapping[str, Any]) -> Geocoder | None:
    """The geocoder the configuration names (None: none, no request ever leaves the service)."""
    if config["GEOCODER"] == NONE:
        return None
    return NominatimGeocoder(url=config["GEOCODER_URL"], user_agent=config["GEOCODER_USER_AGENT"],
                             timeout=float(config["GEOCODER_TIMEOUT"]),
                             min_delay_seconds=float(config["GEOCODER_MIN_DELAY_SECONDS"]))


# --- The localities of the service's own map -------------------------------------------------

def _normalised(text: str) -> str:
    return " ".join(text.split()).casefold()


@cache
def localities() -> dict[str, tuple[str, float, float]]:
    """The localities the service's map names (static/map), by normalised name: (name, latitude, longitude)."""
    features = json.loads(MAP_FILE.read_text(encoding="utf-8"))["features"]
    found: dict[str, tuple[str, float, float]] = {}
    for feature in features:
        if feature["properties"].get("kind") == "locality":
            longitude, latitude = feature["geometry"]["coordinates"]  # GeoJSON: longitude first
            name = feature["properties"]["name"]
            found[_normalised(name)] = (name, float(latitude), float(longitude))
    return found


def localities_beyond_map(sites: Iterable[tuple[int, str, float, float]]) -> list[dict[str, Any]]:
    """The localities of these sites (municipality id, locality, latitude, longitude) that the
    service's map does not name, as GeoJSON points in the middle of their sites: a municipality
    that joins finds its own towns on the map, placed by nothing but its own sites. Each is
    named as most of its sites spell it, and placed to a hundredth of a degree (about a
    kilometre): a town's label, which tells no one where a lone site's building stands."""
    shipped = localities()
    found: dict[tuple[int, str], list[tuple[str, float, float]]] = {}
    for municipality_id, locality, latitude, longitude in sites:
        key = _normalised(locality)
        if key and key not in shipped:
            found.setdefault((municipality_id, key), []).append((" ".join(locality.split()), latitude, longitude))
    features = []
    for (_, key), placed in sorted(found.items(), key=lambda item: item[0][1]):
        spellings = Counter(name for name, _, _ in placed)
        name = min(spellings, key=lambda spelling: (-spellings[spelling], spelling))
        latitude = round(sum(place[1] for place in placed) / len(placed), 2)
        longitude = round(sum(place[2] for place in placed) / len(placed), 2)
        features.append({"type": "Feature", "properties": {"kind": "locality", "name": name},
                         "geometry": {"type": "Point", "coordinates": [longitude, latitude]}})  # longitude first
    return features


def near_locality(locality: str) -> Placement | None:
    """The locality's position, approximate; None if the map does not know it."""
    known = localities().get(_normalised(locality))
    if known is None:
        return None
    name, latitude, longitude = known
    return Placement(latitude, longitude, Precision.APPROXIMATE, LOCALITY, locality=name)


# --- Placing an address ----------------------------------------------------------------------

def address_key(*, street_address: str, postal_code: str, locality: str) -> str:
    """The address as kept: case and spacing do not make another address."""
    key = "|".join((_normalised(street_address), re.sub(r"\D", "", postal_code), _normalised(locality)))
    if len(key) > KEY_MAX:
        raise ValueError("an address longer than a site's fields hold")
    return key


def _found(kept: GeocodedAddress) -> Found | None:
    if kept.latitude is None or kept.longitude is None:
        return None
    return Found(kept.latitude, kept.longitude, Precision(kept.precision))


def _keep(session: Session, *, key: str, found: Found | None, source: str, now: datetime) -> None:
    """Write the geocoder's answer over any earlier one (two saves at once: the later wins)."""
    values = {"address_key": key, "latitude": found.latitude if found else None,
              "longitude": found.longitude if found else None,
              "precision": (found.precision if found else Precision.EXACT).value, "source": source,
              "fetched_at": now}
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(GeocodedAddress).values(**values)
    session.execute(statement.on_conflict_do_update(
        index_elements=[col(GeocodedAddress.address_key)],
        set_={name: statement.excluded[name] for name in values if name != "address_key"}))


def place(
    session: Session, *, geocoder: Geocoder | None, street_address: str, postal_code: str, locality: str,
    now: datetime,
) -> Placement:
    """Where the address is: the geocoder's answer kept from before, while it is fresh; else the
    geocoder's answer now (kept, found or not); else the locality's position, approximate.

    A DomainError (on the field ``latitude``) when the address cannot be placed at all: the
    geocoder did not find it and its locality is not on the service's map. The answer is
    written in the session's transaction, so call this once the rest of the input is valid.
    """
    key = address_key(street_address=street_address, postal_code=postal_code, locality=locality)
    kept = session.get(GeocodedAddress, key, populate_existing=True)
    source, found = (kept.source, _found(kept)) if kept is not None else ("", None)
    fresh = kept is not None and now - kept.fetched_at < (FOUND_KEPT if found else MISSED_KEPT)
    if geocoder is not None and not fresh:
        try:
            answer = geocoder.find(street_address=street_address, postal_code=postal_code, locality=locality)
        except GeopyError as error:
            # An older answer, if one is kept, still does; else the locality stands in.
            log.warning("the geocoder %s did not answer: %s", geocoder.name, type(error).__name__)
        else:
            _keep(session, key=key, found=answer, source=geocoder.name, now=now)
            source, found = geocoder.name, answer
    if found is not None:
        return Placement(found.latitude, found.longitude, found.precision, source,
                         locality=locality.strip() if found.precision == Precision.APPROXIMATE else "")
    placement = near_locality(locality)
    if placement is None:
        raise DomainError(
            N_("We could not find the address, and %(locality)s is not a locality we know. Pick the place on "
               "the map, or enter its latitude and longitude."), field="latitude", locality=locality.strip())
    return placement
