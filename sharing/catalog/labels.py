"""How the catalog's events read in the audit trail, in the reader's language: what happened,
to what, and what of each event's payload to show. ``describe_events`` tells the core
(``sharing.events.describe``), so the trail shows them without importing the catalog."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import url_for
from flask_babel import format_decimal, get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlmodel import Session, col

from sharing.accounts.audit import person_of
from sharing.accounts.labels import named
from sharing.accounts.models import Actor, Site
from sharing.accounts.personal_data.rules import Section, labelled
from sharing.catalog import events
from sharing.catalog.categories.labels import CO2E_KIND_LABELS, FIGURE_LABELS, KIND_LABELS, PROPOSAL_STATUS_LABELS
from sharing.catalog.categories.models import Category
from sharing.catalog.categories.rules import category_name
from sharing.catalog.listings import rules as listings
from sharing.catalog.listings.labels import CONDITION_LABELS, FIELD_LABELS, STATUS_LABELS, VISIBILITY_LABELS
from sharing.catalog.listings.models import Listing
from sharing.catalog.wants import rules as wants
from sharing.catalog.wants.labels import WANT_STATUS_LABELS
from sharing.catalog.wants.models import Want
from sharing.events import DomainEvent, describe, describe_subject
from sharing.typed import id_of

GROUP = _l("Catalog")
EVENT_LABELS = {
    events.LISTING_SAVED: _l("The listing was saved"),
    events.LISTING_STATUS["published"]: _l("The listing was published"),
    events.LISTING_STATUS["draft"]: _l("The listing was made a draft"),
    events.LISTING_STATUS["reserved"]: _l("The listing was reserved"),
    events.LISTING_STATUS["on_loan"]: _l("The listing was lent out"),
    events.LISTING_STATUS["handed_over"]: _l("The listing was handed over"),
    events.LISTING_STATUS["withdrawn"]: _l("The listing was withdrawn"),
    events.LISTING_PHOTOS_CHANGED: _l("The listing's photos were changed"),
    events.LISTING_TRANSFERRED: _l("Pieces passed to a new owner for good"),
    events.LISTINGS_IMPORTED: _l("Listings were imported from a file"),
    events.WANT_MATCHED: _l("Listings matched a wanted item"),
    events.FIGURES_PROPOSED: _l("A correction of a category's figures was proposed"),
    events.FIGURES_PROPOSAL_ACCEPTED: _l("A proposed correction of figures was accepted"),
    events.FIGURES_PROPOSAL_DECLINED: _l("A proposed correction of figures was declined"),
}
PHOTO_CHANGE_LABELS = {
    "added": _l("added"),
    "removed": _l("removed"),
    "moved": _l("put in a new order"),
    "described": _l("described"),
}
CHANGE = "{} → {}"
# The fields whose values are codes with labels of their own.
CODE_LABELS: dict[str, Mapping[Any, object]] = {"condition": CONDITION_LABELS, "visibility": VISIBILITY_LABELS,
                                                "kind": KIND_LABELS}


def _yes_no(value: object) -> str:
    return _("Yes") if value else _("No")


def _value(session: Session, event: DomainEvent, field: str, value: Any) -> str:
    """A listing field's value as a person reads it (the payload keeps codes and ids)."""
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return _yes_no(value)
    labels = CODE_LABELS.get(field)
    if labels is not None:
        return str(labels.get(value, value))
    if field == "category_id":
        category = session.get(Category, value)
        return category_name(category, str(get_locale())) if category is not None else str(value)
    if field == "site_id":
        site = session.get(Site, value)
        return site.name if site is not None else str(value)
    if field == "contact_user_id":
        return named(person_of(session, value))
    if isinstance(value, float):
        return format_decimal(value)
    return str(value)


def listing_named(session: Session, listing_id: object) -> str:
    """A listing an event's payload holds by id, as people know it: its title with its number
    (the number alone if it is gone)."""
    listing = session.get(Listing, listing_id) if isinstance(listing_id, int) else None
    if listing is None:
        return _("listing %(id)s", id=listing_id)
    return _("“%(title)s”, listing %(id)s", title=listing.title, id=listing_id)


def _saved(session: Session, event: DomainEvent) -> list[tuple[str, str]]:
    payload = event.payload
    if payload.get("created"):
        shown = [(_("New listing"), str(STATUS_LABELS.get(payload.get("status", ""), payload.get("status"))))]
        if payload.get("copied_from"):
            shown.append((_("Copied from"), listing_named(session, payload["copied_from"])))
        return shown
    return [(str(FIELD_LABELS.get(field, field)),
             CHANGE.format(_value(session, event, field, before), _value(session, event, field, after)))
            for field, (before, after) in payload.get("changes", {}).items()]


def _status(session: Session, event: DomainEvent) -> list[tuple[str, str]]:
    before, after = event.payload["from"], event.payload["to"]
    return [(_("Status"), CHANGE.format(STATUS_LABELS.get(before, before), STATUS_LABELS.get(after, after)))]


def _photos(session: Session, event: DomainEvent) -> list[tuple[str, str]]:
    change, count = event.payload["change"], int(event.payload["photos"])
    return [(_("Photos"), str(PHOTO_CHANGE_LABELS.get(change, change))),
            (_("Photos now"), ngettext("%(num)d photo", "%(num)d photos", count))]


def _listings(count: int) -> str:
    return ngettext("%(num)d listing", "%(num)d listings", count)


def _imported(session: Session, event: DomainEvent) -> list[tuple[str, str]]:
    return [(_("Listings"), _listings(len(event.payload["listing_ids"]))),
            (_("Published"), _yes_no(event.payload.get("published")))]


def _matched(session: Session, event: DomainEvent) -> list[tuple[str, str]]:
    return [(_("Listings"), _listings(len(event.payload["listing_ids"]))),
            (_("The poster was told"), _yes_no(event.payload.get("told")))]


def _transferred(session: Session, event: DomainEvent) -> list[tuple[str, str]]:
    payload = event.payload
    return [(_("Pieces"), str(payload["quantity"])),
            (_("From listing"), listing_named(session, payload["from_listing_id"])),
            (_("To listing"), listing_named(session, payload["to_listing_id"]))]


def _proposal(session: Session, event: DomainEvent) -> list[tuple[str, str]]:
    payload = event.payload
    category = session.get(Category, payload.get("category_id"))
    shown = [(_("Category"), category_name(category, str(get_locale())) if category is not None
              else str(payload.get("category_id")))]
    if "figures" in payload:
        shown.append((_("Figures proposed"), ", ".join(str(FIGURE_LABELS.get(f, f)) for f in payload["figures"])))
    if "version" in payload:
        shown.append((_("New version"), str(payload["version"])))
    return shown


DETAILS = {
    events.LISTING_SAVED: _saved,
    **{name: _status for name in events.LISTING_STATUS.values()},
    events.LISTING_PHOTOS_CHANGED: _photos,
    events.LISTING_TRANSFERRED: _transferred,
    events.LISTINGS_IMPORTED: _imported,
    events.WANT_MATCHED: _matched,
    events.FIGURES_PROPOSED: _proposal,
    events.FIGURES_PROPOSAL_ACCEPTED: _proposal,
    events.FIGURES_PROPOSAL_DECLINED: _proposal,
}


def _opens_listings(session: Session, reader: Actor, ids: set[int]) -> set[int]:
    return {id_of(listing) for listing in session.scalars(select(Listing).where(col(Listing.id).in_(ids)))
            if listings.can_see(reader, listing)}


def _opens_wants(session: Session, reader: Actor, ids: set[int]) -> set[int]:
    return {id_of(want) for want in session.scalars(select(Want).where(col(Want.id).in_(ids)))
            if wants.can_see(reader, want)}


def describe_events() -> None:
    """Tell the core how the catalog's events and subjects read."""
    for name, label in EVENT_LABELS.items():
        describe(name, label, group=GROUP, details=DETAILS.get(name))
    describe_subject("listing", _l("Listing"), link=lambda id_: url_for("catalog.detail", listing_id=id_),
                     opens=_opens_listings)
    describe_subject("want", _l("Wanted item"), link=lambda id_: url_for("wants.detail", want_id=id_),
                     opens=_opens_wants)
    describe_subject("listing_import", _l("Import of listings"))
    # No link: the municipality's administrators who read the trail may not open proposals.
    describe_subject("figure_proposal", _l("Proposed correction of figures"))


def _figures_proposed(session: Session, record: dict[str, Any]) -> str:
    """A proposal's figures as they read: "Vikt (kg): 12,5; ..."."""
    figures = record.get("figures") or {}
    return "; ".join(f"{FIGURE_LABELS.get(name, name)}: {format_decimal(value)}" for name, value in figures.items())


PERSONAL_DATA = {
    "listings_as_contact": Section(_l("Listings you are the contact for"), {
        "id": _l("Number"), "title": _l("Title"), "status": _l("Status"), "municipality": _l("Municipality"),
        "created_at": _l("Created")}, {"status": labelled("status", STATUS_LABELS)}),
    "wanted_items": Section(_l("Wanted items you posted"), {
        "id": _l("Number"), "words": _l("Words"), "description": _l("Description"), "quantity": _l("How many"),
        "needed_by": _l("Needed by"), "status": _l("Status"), "created_at": _l("Created"),
        "closed_at": _l("Closed")}, {"status": labelled("status", WANT_STATUS_LABELS)}),
    "figure_proposals": Section(_l("Corrections of category figures you proposed"), {
        "id": _l("Number"), "category": _l("Category"), "figures": _l("Figures proposed"),
        "co2e_kind": _l("What the CO2e figure is"), "citation": _l("Source"),
        "url": _l("Web address of the source"), "reason": _l("Why"), "status": _l("Status"),
        "created_at": _l("Proposed"), "decided_at": _l("Decided"), "decline_reason": _l("Why it was declined")},
        {"status": labelled("status", PROPOSAL_STATUS_LABELS), "figures": _figures_proposed,
         "co2e_kind": labelled("co2e_kind", CO2E_KIND_LABELS)}),
}
