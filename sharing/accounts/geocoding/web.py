"""The running app's geocoder: built once a process from its configuration, so that one rate
limiter spaces the requests of all its threads (each worker process keeps its own); and the
places the map draws beyond those the service ships."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import select
from sqlmodel import col
from werkzeug.wrappers import Response

from sharing.access import SIGNED_IN, allow
from sharing.accounts.geocoding.rules import Geocoder, geocoder_from_config, localities_beyond_map
from sharing.accounts.models import Site
from sharing.db import db_session

blueprint = Blueprint("map", __name__, url_prefix="/map")

SETTINGS = ("GEOCODER", "GEOCODER_URL", "GEOCODER_USER_AGENT", "GEOCODER_TIMEOUT", "GEOCODER_MIN_DELAY_SECONDS")
KEPT = "sharing.geocoder"


def configured_geocoder() -> Geocoder | None:
    """The configured geocoder, or None when none is (no request then leaves the service)."""
    settings = tuple(current_app.config[name] for name in SETTINGS)
    kept = current_app.extensions.get(KEPT)
    if kept is None or kept[0] != settings:  # built anew only when a test changes the settings
        kept = current_app.extensions[KEPT] = (settings, geocoder_from_config(current_app.config))
    return kept[1]


@blueprint.get("/places.geojson")
@allow(SIGNED_IN)
def places() -> Response:
    """The localities of active sites that the shipped map does not name (a joining
    municipality's towns), for the maps' own background (static/js/map-background.js)."""
    sites = db_session.execute(select(col(Site.municipality_id), col(Site.locality), col(Site.latitude),
                                      col(Site.longitude)).where(col(Site.active))).all()
    response = jsonify({"type": "FeatureCollection", "features": localities_beyond_map(sites)})
    response.cache_control.private = True
    response.cache_control.max_age = 600  # a site added shows within ten minutes
    return response
