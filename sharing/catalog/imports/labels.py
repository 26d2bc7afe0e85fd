"""How an import's status reads in the user's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from sharing.catalog.imports.models import ImportStatus

IMPORT_STATUS_LABELS = {
    ImportStatus.PENDING: _l("Checked, not started"),
    ImportStatus.RUNNING: _l("Importing"),
    ImportStatus.DONE: _l("Done"),
    ImportStatus.FAILED: _l("Failed, nothing saved"),
}
