"""How a listing's codes read in the user's language."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from sharing.catalog.listings.models import Condition, ListingStatus, Visibility

CONDITION_LABELS = {
    Condition.AS_NEW: _l("As new"),
    Condition.VERY_GOOD: _l("Very good"),
    Condition.GOOD: _l("Good, signs of use"),
    Condition.FAIR: _l("Fair, clearly worn"),
    Condition.NEEDS_REPAIR: _l("Needs repair"),
}
STATUS_LABELS: dict[str, Any] = {
    ListingStatus.DRAFT: _l("Draft"),
    ListingStatus.PUBLISHED: _l("Available"),
    ListingStatus.RESERVED: _l("Reserved"),
    ListingStatus.ON_LOAN: _l("On loan"),
    ListingStatus.HANDED_OVER: _l("Passed on"),
    ListingStatus.WITHDRAWN: _l("Withdrawn"),
}
OFFER_LABELS = {
    "lend": _l("Loan"),
    "give_away": _l("Transfer for good"),
    "swap": _l("Swap"),
}
VISIBILITY_LABELS = {
    Visibility.OWN_MUNICIPALITY: _l("My municipality only"),
    Visibility.PARTNERS: _l("All partner municipalities"),
}
# What the button says that moves a listing to a status by hand.
ACTION_LABELS = {
    ListingStatus.PUBLISHED: _l("Publish"),
    ListingStatus.DRAFT: _l("Make it a draft again"),
    ListingStatus.WITHDRAWN: _l("Withdraw"),
}
# A listing's fields as the audit trail names them when they change.
FIELD_LABELS = {
    "kind": _l("Kind"),
    "title": _l("Title"),
    "category_id": _l("Category"),
    "site_id": _l("Where it is"),
    "description": _l("Description"),
    "condition": _l("Condition"),
    "quantity": _l("Number of identical pieces"),
    "width_cm": _l("Width (cm)"),
    "depth_cm": _l("Depth (cm)"),
    "height_cm": _l("Height (cm)"),
    "weight_kg": _l("Weight per piece (kg)"),
    "volume_m3": _l("Volume per piece (m³)"),
    "inventory_number": _l("Inventory number"),
    "contact_user_id": _l("Contact"),
    "lend": _l("Loan"),
    "give_away": _l("Transfer for good"),
    "swap": _l("Swap"),
    "loan_min_days": _l("Shortest loan (days)"),
    "loan_max_days": _l("Longest loan (days)"),
    "visibility": _l("Who can see it"),
    "available_from": _l("Available from"),
}
