"""What the catalog tells whoever listens, without knowing them (wanted items now, loans later).

Signals are sent after the change is committed, so a receiver sees it from its own session,
and a receiver's failure cannot undo it.
"""

from __future__ import annotations

from blinker import Namespace
from flask import current_app

_signals = Namespace()

# A listing was saved or changed status (sent with ``listing_id``); receivers check what it is now.
listing_changed = _signals.signal("listing-changed")
# Many listings were saved at once, by an import (sent with ``listing_ids``).
listings_imported = _signals.signal("listings-imported")


def announce_listing_changed(listing_id: int) -> None:
    """Call after the commit that saved the listing."""
    listing_changed.send(current_app._get_current_object(), listing_id=listing_id)  # type: ignore[attr-defined]


def announce_listings_imported(listing_ids: list[int]) -> None:
    """Call after the commit that saved them."""
    listings_imported.send(current_app._get_current_object(), listing_ids=listing_ids)  # type: ignore[attr-defined]
