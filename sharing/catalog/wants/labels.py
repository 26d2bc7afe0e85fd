"""How a wanted item's status reads in the user's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from sharing.catalog.wants.models import WantStatus

WANT_STATUS_LABELS = {
    WantStatus.OPEN: _l("Open"),
    WantStatus.FULFILLED: _l("Fulfilled"),
    WantStatus.WITHDRAWN: _l("No longer needed"),
}
