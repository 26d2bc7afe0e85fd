"""The running app's geocoder: built once a process from its configuration, so that one rate
limiter spaces the requests of all its threads (each worker process keeps its own)."""

from __future__ import annotations

from flask import current_app

from sharing.accounts.geocoding.rules import Geocoder, geocoder_from_config

SETTINGS = ("GEOCODER", "GEOCODER_URL", "GEOCODER_USER_AGENT", "GEOCODER_TIMEOUT", "GEOCODER_MIN_DELAY_SECONDS")
KEPT = "sharing.geocoder"


def configured_geocoder() -> Geocoder | None:
    """The configured geocoder, or None when none is (no request then leaves the service)."""
    settings = tuple(current_app.config[name] for name in SETTINGS)
    kept = current_app.extensions.get(KEPT)
    if kept is None or kept[0] != settings:  # built anew only when a test changes the settings
        kept = current_app.extensions[KEPT] = (settings, geocoder_from_config(current_app.config))
    return kept[1]
