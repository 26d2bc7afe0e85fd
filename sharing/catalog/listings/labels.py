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
    ListingStatus.HANDED_OVER: _l("Handed over"),
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
