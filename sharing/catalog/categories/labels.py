"""How the kinds of resource, and of CO2e figures, read in the user's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from sharing.catalog.categories.models import Co2eKind, ProposalStatus, ResourceKind

KIND_LABELS = {
    ResourceKind.THING: _l("Thing (furniture, equipment, tools, IT)"),
    ResourceKind.PLACE: _l("Place (a hall, a meeting room, storage)"),
    ResourceKind.SERVICE: _l("Service or competence (hours of a specialist, a machine with its operator)"),
}

# What a CO2e figure is, in a table's cell (short) and in the form (long).
CO2E_KIND_LABELS = {
    Co2eKind.PRODUCTION: _l("new production"),
    Co2eKind.NET_SAVING: _l("net saving per reuse"),
}
CO2E_KIND_CHOICES = {
    Co2eKind.PRODUCTION: _l("The impact of producing a new piece (as an EPD gives it): reports count the share a "
                            "reuse avoids, by the displacement rate"),
    Co2eKind.NET_SAVING: _l("A published net saving per reused piece: reports use it as it stands"),
}

PROPOSAL_STATUS_LABELS = {
    ProposalStatus.OPEN: _l("waiting for a decision"),
    ProposalStatus.ACCEPTED: _l("accepted, made a new version"),
    ProposalStatus.DECLINED: _l("declined, with a reason"),
}
# The figures by name, as a proposal's summary and the audit trail name them.
FIGURE_LABELS = {
    "weight_kg": _l("Weight (kg)"),
    "volume_m3": _l("Volume (m³)"),
    "new_price_sek": _l("New price"),
    "co2e_new_kg": _l("CO2e of one piece (kg)"),
}
