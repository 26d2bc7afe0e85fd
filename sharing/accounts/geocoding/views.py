"""The places the maps draw beyond those the service ships (static/map): the localities of the
municipalities' sites."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import select
from sqlmodel import col
from werkzeug.wrappers import Response

from sharing.access import SIGNED_IN, allow
from sharing.accounts.geocoding.rules import localities_beyond_map
from sharing.accounts.models import Site
from sharing.db import db_session

blueprint = Blueprint("map", __name__, url_prefix="/map")


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
