"""What every export of a selection holds: its entries as rows, read in batches (the database
streams them), the totals summed as the rows go by (exactly: grams and öre are integers), and
the factor versions the entries used. Every cell of text goes through ``safe_cell``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from sharing.catalog.categories.models import CategoryFactor
from sharing.exports import safe_cell
from sharing.reports.dashboard.rules import Selection, Totals, conditions, with_categories
from sharing.reports.ledger.models import EntryKind, FactorKind, ReuseEntry
from sharing.reports.ledger.rules import kg_per_km
from sharing.reports.names import Names

BATCH = 2000
COLUMNS = ("entry", "event", "day", "kind", "reverses", "reason", "category", "listing", "request",
           "from_municipality", "from_unit", "to_municipality", "to_unit", "pieces", "shared_pieces", "weight_kg",
           "counts_as_purchase",
           "waste_avoided_kg", "purchase_avoided_sek", "co2e_avoided_kg", "transport_co2e_kg", "net_co2e_kg",
           "factor_kind", "factor_version", "displacement_rate", "factor_source")
GHG_NOTE = ("Avoided emissions are estimates, reported beside and never subtracted from the municipality's own "
            "emission inventory (the GHG Protocol treats avoided emissions separately).")
GHG_NOTE_SV = ("Undvikna utsläpp är uppskattningar och redovisas bredvid, aldrig avdragna från, kommunens egen "
               "utsläppsinventering (GHG-protokollet redovisar undvikna utsläpp separat).")


def ghg_note(language: str) -> str:
    """The note on avoided emissions in the export's language."""
    return GHG_NOTE_SV if language == "sv" else GHG_NOTE


def kg(grams: int) -> Decimal:
    return Decimal(grams) / 1000


def sek(ore: int) -> Decimal:
    return Decimal(ore) / 100


@dataclass
class RunningTotals:
    """Sums of the rows written so far."""

    pieces: int = 0
    shared_pieces: int = 0
    waste_avoided_g: int = 0
    purchase_avoided_sek_ore: int = 0
    co2e_avoided_g: int = 0
    transport_co2e_g: int = 0
    entries: int = 0
    factor_ids: set[int] = field(default_factory=set)
    # The factors no category version holds: each transport's kg CO2e per km (and whether it is
    # the exact one) by its source; and whether any figure was estimated by weight.
    transport_factors: dict[str, set[tuple[float, bool]]] = field(default_factory=dict)
    estimated_by_weight: bool = False

    def add(self, entry: Any) -> None:
        reused, shared = pieces(entry)
        self.pieces += reused
        self.shared_pieces += shared
        self.waste_avoided_g += entry.waste_avoided_g
        self.purchase_avoided_sek_ore += entry.purchase_avoided_sek_ore
        self.co2e_avoided_g += entry.co2e_avoided_g
        self.transport_co2e_g += entry.transport_co2e_g
        self.entries += 1
        if entry.factor_id is not None:
            self.factor_ids.add(entry.factor_id)
        if entry.factor_kind == FactorKind.TRANSPORT:
            figure, exact = kg_per_km(entry)
            if figure is not None:
                self.transport_factors.setdefault(entry.factor_source, set()).add((figure, exact))
        self.estimated_by_weight |= entry.factor_kind == FactorKind.WEIGHT_ESTIMATE

    def totals(self) -> Totals:
        return Totals(self.pieces, self.shared_pieces, self.waste_avoided_g, self.purchase_avoided_sek_ore,
                      self.co2e_avoided_g, self.transport_co2e_g, self.entries)


def pieces(entry: Any) -> tuple[int, int]:
    """An entry's pieces as (reused, shared on a short loan), as the dashboard counts them."""
    return (entry.quantity, 0) if entry.counts_as_purchase else (0, entry.quantity)


def counts_as_purchase(entry: Any) -> bool | None:
    """Whether the entry's pieces count as a purchase avoided; None (an empty cell) for a
    transport, which moves no pieces and so is neither."""
    return None if entry.kind == EntryKind.TRANSPORT else entry.counts_as_purchase


def entry_rows(session: Session, selection: Selection) -> Iterator[Any]:
    """The selection's entries, oldest first, read in batches from a streaming result."""
    selection = with_categories(session, selection)
    statement = (select(*(getattr(ReuseEntry, name) for name in ReuseEntry.model_fields))
                 .where(*conditions(selection)).order_by(col(ReuseEntry.day), col(ReuseEntry.id)))
    result = session.execute(statement.execution_options(yield_per=BATCH))
    try:
        yield from result
    finally:
        result.close()


def exact(value: int, scale: int) -> Decimal:
    """An amount in kg or kronor from grams or öre, exactly (CSV: the text is the ledger's figure)."""
    return Decimal(value) / scale


def nearest(value: int, scale: int) -> float:
    """The same amount as the nearest double (a spreadsheet keeps no other number); the division
    of two integers is correctly rounded, so this is the number the exact figure's text reads as."""
    return value / scale


def row_values(entry: Any, names: Names, kind_label: dict[str, str], amount: Callable[[int, int], Any] = exact,
               factor_kind_label: dict[str, str] | None = None,
               source_label: Callable[[str], str] = str) -> list[Any]:
    """An entry's cells: text through ``safe_cell``, numbers, dates and truth values as they are
    (the labels, in the export's language, given by the caller)."""
    permille = entry.displacement_permille
    factor_kind = (factor_kind_label or {}).get(entry.factor_kind or "", entry.factor_kind or "")
    return [
        entry.id, entry.event_id, entry.day, safe_cell(kind_label.get(entry.kind, entry.kind)), entry.reverses_id,
        safe_cell(entry.reason), safe_cell(names.category(entry.category_id)), entry.listing_id, entry.request_id,
        safe_cell(names.municipality(entry.from_municipality_id)), safe_cell(names.unit(entry.from_unit_id)),
        safe_cell(names.municipality(entry.to_municipality_id)), safe_cell(names.unit(entry.to_unit_id)),
        *pieces(entry), amount(entry.weight_g, 1000), counts_as_purchase(entry), amount(entry.waste_avoided_g, 1000),
        amount(entry.purchase_avoided_sek_ore, 100), amount(entry.co2e_avoided_g, 1000),
        amount(entry.transport_co2e_g, 1000), amount(entry.co2e_avoided_g - entry.transport_co2e_g, 1000),
        safe_cell(factor_kind), entry.factor_version,
        amount(permille, 1000) if permille is not None else None, safe_cell(source_label(entry.factor_source))]


def total_values(totals: Totals, label: str = "TOTAL") -> list[Any]:
    values: list[Any] = [None] * len(COLUMNS)
    values[0] = safe_cell(label)
    values[COLUMNS.index("pieces")] = totals.pieces
    values[COLUMNS.index("shared_pieces")] = totals.shared_pieces
    values[COLUMNS.index("waste_avoided_kg")] = kg(totals.waste_avoided_g)
    values[COLUMNS.index("purchase_avoided_sek")] = sek(totals.purchase_avoided_sek_ore)
    values[COLUMNS.index("co2e_avoided_kg")] = kg(totals.co2e_avoided_g)
    values[COLUMNS.index("transport_co2e_kg")] = kg(totals.transport_co2e_g)
    values[COLUMNS.index("net_co2e_kg")] = kg(totals.net_co2e_g)
    return values


def factors_used(session: Session, factor_ids: set[int]) -> list[CategoryFactor]:
    if not factor_ids:
        return []
    return list(session.scalars(select(CategoryFactor).where(col(CategoryFactor.id).in_(sorted(factor_ids)))
                                .order_by(col(CategoryFactor.category_id), col(CategoryFactor.version))))
