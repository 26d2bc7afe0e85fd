"""How the catalog's codes read in the user's language."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from sharing.catalog.categories.models import ResourceKind
from sharing.catalog.imports.models import ImportStatus
from sharing.catalog.listings.models import Condition, ListingStatus, Visibility
from sharing.catalog.wants.models import WantStatus

KIND_LABELS = {
    ResourceKind.THING: _l("Thing (furniture, equipment, tools, IT)"),
    ResourceKind.PLACE: _l("Place (a hall, a meeting room, storage)"),
    ResourceKind.SERVICE: _l("Service or competence (hours of a specialist, a machine with its operator)"),
}
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
WANT_STATUS_LABELS = {
    WantStatus.OPEN: _l("Open"),
    WantStatus.FULFILLED: _l("Fulfilled"),
    WantStatus.WITHDRAWN: _l("No longer needed"),
}
IMPORT_STATUS_LABELS = {
    ImportStatus.PENDING: _l("Checked, not started"),
    ImportStatus.RUNNING: _l("Importing"),
    ImportStatus.DONE: _l("Done"),
    ImportStatus.FAILED: _l("Failed, nothing saved"),
}
# What the catalog's templates call each of these.
TEMPLATE_LABELS = {
    "action_labels": ACTION_LABELS, "condition_labels": CONDITION_LABELS, "status_labels": STATUS_LABELS,
    "kind_labels": KIND_LABELS, "offer_labels": OFFER_LABELS, "visibility_labels": VISIBILITY_LABELS,
    "want_status_labels": WANT_STATUS_LABELS, "import_status_labels": IMPORT_STATUS_LABELS,
}
