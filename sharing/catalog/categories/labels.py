"""How the kinds of resource read in the user's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from sharing.catalog.categories.models import ResourceKind

KIND_LABELS = {
    ResourceKind.THING: _l("Thing (furniture, equipment, tools, IT)"),
    ResourceKind.PLACE: _l("Place (a hall, a meeting room, storage)"),
    ResourceKind.SERVICE: _l("Service or competence (hours of a specialist, a machine with its operator)"),
}
