"""How the ledger's codes read, and the units reports speak in (grams to kilograms, öre to kronor)."""

from __future__ import annotations

from datetime import date
from typing import Any

from babel.dates import format_date
from babel.lists import format_list
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlmodel import Session

from sharing.accounts import audit
from sharing.accounts.personal_data.rules import Section, labelled
from sharing.catalog.categories.models import Category
from sharing.catalog.categories.rules import category_name
from sharing.events import DomainEvent, subject_label
from sharing.exports import safe_cell
from sharing.reports.dashboard.rules import Selection
from sharing.reports.exports.rules import COLUMNS
from sharing.reports.ledger.models import EntryKind, FactorKind
from sharing.reports.ledger.rules import WEIGHT_ESTIMATE_CITATION, WEIGHT_ESTIMATE_SOURCE
from sharing.reports.names import Names
from sharing.text import slugify

ENTRY_KIND_LABELS = {
    EntryKind.TAKE_OVER: _l("Take-over"),
    EntryKind.SWAP: _l("Swap"),
    EntryKind.LOAN: _l("Loan"),
    EntryKind.TRANSPORT: _l("Transport"),
}
FACTOR_KIND_LABELS = {
    FactorKind.PRODUCTION: _l("new production × displacement rate"),
    FactorKind.NET_SAVING: _l("published net saving per reuse"),
    FactorKind.WEIGHT_ESTIMATE: _l("estimate by weight"),
    FactorKind.TRANSPORT: _l("transport"),
}

# How logistics shared a route's CO2e among the requests it carried: the method its event names
# (logistics.plans.driving.METHOD), which the ledger keeps after the factor's source.
TRANSPORT_METHOD_LABELS = {
    "load-distance share": _l("shared out by load and distance"),
    "distance": _l("shared out by distance"),
}


# The ledger's own source of a figure estimated by weight, which it keeps as it stands
# (ledger.rules.WEIGHT_ESTIMATE_SOURCE): shown in the reader's language. Sources from the catalog
# are data, shown as they were written.
WEIGHT_ESTIMATE = _l("Estimate by weight: 1.45 kg CO2e saved per kg reused (%(citation)s)",
                     citation=WEIGHT_ESTIMATE_CITATION)


def own_source(source: str) -> str:
    """An entry's source with the ledger's own words in the reader's language (the catalog's
    source after them, if any, as it stands)."""
    if source.startswith(WEIGHT_ESTIMATE_SOURCE):
        return str(WEIGHT_ESTIMATE) + source[len(WEIGHT_ESTIMATE_SOURCE):]
    return source


def transport_source(source: str) -> tuple[str, str | None]:
    """A transport entry's source as the ledger keeps it ("HBEFA 4.2 (load-distance share)"): the
    factor's own source and, for a method we know, how it was shared out, in the reader's
    language; anything else as it stands."""
    for method, label in TRANSPORT_METHOD_LABELS.items():
        if source.endswith(f" ({method})"):
            return source[:-len(method) - 3], str(label)
    return source, None


def shown_source(source: str) -> str:
    """The source of an entry's figures in one line, in the reader's language."""
    own, method = transport_source(own_source(source))
    return f"{own} ({method})" if method else own


def event_details(session: Session, event: DomainEvent) -> list[tuple[str, str]]:
    """What the event's payload says, as its domain describes it (``events.describe``), in the
    reader's language, as the audit trail says it: never the payload as it is stored."""
    return audit.event_details(session, event)


def event_subject(event: DomainEvent) -> str:
    """What the event concerns, as its domain names it: "Rutt 7", "Förfrågan 4"."""
    subject = subject_label(event.subject_type)
    name = str(subject.label) if subject else event.subject_type
    return f"{name} {event.subject_id}" if event.subject_id is not None else name


def kg(grams: int | None) -> float:
    """Grams as kilograms, for showing (the ledger keeps grams)."""
    return (grams or 0) / 1000


def sek(ore: int | None) -> float:
    return (ore or 0) / 100


def whole(amount: int | None, scale: int) -> int:
    """Grams or öre as whole kilograms or kronor, halves away from zero (as people round; never
    -0): the figures a report's reader reads. The exact ones are in the CSV and the XLSX."""
    units, rest = divmod(abs(amount or 0), scale)
    rounded = units + (1 if 2 * rest >= scale else 0)
    return -rounded if (amount or 0) < 0 else rounded


def whole_kg(grams: int | None) -> int:
    return whole(grams, 1000)


def whole_sek(ore: int | None) -> int:
    return whole(ore, 100)


def month_day(month: int) -> str:
    """yyyymm as yyyy-mm."""
    return f"{month // 100}-{month % 100:02d}"


def month_name(month: int, locale: str) -> str:
    """yyyymm as people write it: "november 2026", "November 2026"."""
    return format_date(date(month // 100, month % 100, 1), "LLLL y", locale=locale)


def _categories(session: Session, record: dict[str, Any]) -> str:
    """The report's categories by their names (none chosen: all of them)."""
    ids = [int(n) for n in str(record.get("category_ids") or "").split(",") if n.strip().isdigit()]
    if not ids:
        return _("All categories")
    found = (session.get(Category, id_) for id_ in ids)
    return ", ".join(category_name(category, str(get_locale())) for category in found if category is not None)


PERSONAL_DATA = {
    "report_subscription": Section(_l("Your monthly report by e-mail"), {
        "municipality": _l("Municipality"), "category_ids": _l("Categories"),
        "created_at": _l("Created"), "updated_at": _l("Changed")}, {"category_ids": _categories}),
    "reuse_corrections": Section(_l("Corrections of the reuse statistics you made"), {
        "id": _l("Number"), "reverses": _l("Reverses entry"), "kind": _l("Kind"), "day": _l("Day"),
        "reason": _l("Why"), "created_at": _l("Created")}, {"kind": labelled("kind", ENTRY_KIND_LABELS)}),
}


# An export's columns' headers (exports.rules.COLUMNS), in the export's language (the reader's).
COLUMN_HEADERS = {
    "entry": _l("Entry"), "event": _l("Event"), "day": _l("Day"), "kind": _l("Kind"), "reverses": _l("Reverses"),
    "reason": _l("Reason of the correction"), "category": _l("Category"), "listing": _l("Listing"),
    "request": _l("Request"), "from_municipality": _l("From municipality"), "from_unit": _l("From unit"),
    "to_municipality": _l("To municipality"), "to_unit": _l("To unit"), "pieces": _l("Pieces reused"),
    "shared_pieces": _l("Pieces shared on short loans"),
    "weight_kg": _l("Weight (kg)"), "counts_as_purchase": _l("Counts as a purchase avoided"),
    "waste_avoided_kg": _l("Waste avoided (kg)"), "purchase_avoided_sek": _l("Purchases avoided (SEK)"),
    "co2e_avoided_kg": _l("Gross CO2e (kg)"), "transport_co2e_kg": _l("Transport CO2e (kg)"),
    "net_co2e_kg": _l("Net CO2e (kg)"), "factor_kind": _l("CO2e figure of"), "factor_version": _l("Factor version"),
    "displacement_rate": _l("Displacement rate"), "factor_source": _l("Source"),
}


def _listed(items: list[str]) -> str:
    """Names as a list in the reader's language: "Skurup och Ystad", "Skurup and Ystad"."""
    return format_list(items, locale=str(get_locale())) if items else ""


def receivers(selection: Selection, names: Names) -> str:
    """Who received what the selection counts, by name ("" for every municipality): the units
    chosen (they are the narrower), else the municipalities."""
    if selection.unit_ids:
        return _listed([names.unit(id_) for id_ in selection.unit_ids])
    return _listed([names.municipality(id_) for id_ in selection.municipality_ids])


def selection_lines(selection: Selection, names: Names) -> list[tuple[str, str]]:
    """What the selection holds beside its period, as (what, which) in the reader's language: the
    receiving municipalities always (none chosen: all), every other filter when it is chosen."""
    chosen = [names.municipality(id_) for id_ in selection.municipality_ids]
    lines = [(_("Receiving municipalities"), _listed(chosen) or _("All municipalities"))]
    for label, values in ((_("Receiving units"), [names.unit(id_) for id_ in selection.unit_ids]),
                          (_("Categories"), [names.category(id_) for id_ in selection.category_ids])):
        if values:
            lines.append((label, _listed(values)))
    for label, value in ((_("Month"), month_day(selection.month) if selection.month else None),
                         (_("Category"), names.category(selection.category_id) if selection.category_id else None),
                         (_("From municipality"), names.municipality(selection.from_municipality_id)
                          if selection.from_municipality_id else None),
                         (_("To municipality"), names.municipality(selection.to_municipality_id)
                          if selection.to_municipality_id else None)):
        if value:
            lines.append((label, value))
    return lines


def report_title(selection: Selection, names: Names) -> str:
    """The report's title, naming its selection: "Reuse report: Skurup; Office chair"."""
    return _("Reuse report: %(selection)s", selection="; ".join(value for _label, value in
                                                                selection_lines(selection, names)))


def period(selection: Selection) -> str:
    return f"{selection.first_day.isoformat()} – {selection.last_day.isoformat()}"


# A file's name starts with what it is, in the reader's language (ASCII: a header's file name).
FILE_PREFIXES = {"sv": "aterbruk", "en": "reuse-report"}
FILE_NAME_SELECTION_MAX = 60  # characters of the selection's names in a file name


def file_name(selection: Selection, names: Names, extension: str) -> str:
    """The export's file name: what it is, the selection's names (those chosen, as in the title;
    cut at a word if long) and the period: aterbruk-skurup-2026-01-01-2026-12-06.pdf."""
    chosen = [*(names.municipality(id_) for id_ in selection.municipality_ids),
              *(names.unit(id_) for id_ in selection.unit_ids),
              *(names.category(id_) for id_ in selection.category_ids),
              month_day(selection.month) if selection.month else "",
              names.category(selection.category_id) if selection.category_id else "",
              names.municipality(selection.from_municipality_id) if selection.from_municipality_id else "",
              names.municipality(selection.to_municipality_id) if selection.to_municipality_id else ""]
    words = slugify(" ".join(chosen))  # every municipality (none chosen): none named, as before
    if len(words) > FILE_NAME_SELECTION_MAX:
        words = words[:FILE_NAME_SELECTION_MAX + 1].rsplit("-", 1)[0]
    prefix = FILE_PREFIXES.get(str(get_locale()), FILE_PREFIXES["en"])
    parts = [prefix, words, selection.first_day.isoformat(), selection.last_day.isoformat()]
    return "-".join(part for part in parts if part) + f".{extension}"


def headers() -> list[str]:
    """The header row of an export, in the language in force: text, so through ``safe_cell`` as well."""
    return [safe_cell(str(COLUMN_HEADERS[name])) for name in COLUMNS]
