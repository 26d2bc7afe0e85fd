"""Writing the reuse ledger from the lower domains' events, and correcting it.

- A completed take-over (``loans.request.transferred``) writes one entry; a swap
  (``loans.request.swapped``) two, one for each side's pieces; a closed loan
  (``loans.request.closed`` of a borrow) one, whose avoided figures count only when the loan
  rule says it replaced a purchase (``LedgerRules.loan_min_days``).
- A route logistics completed (``TRANSPORT_COMPLETED``) writes one transport entry per request
  it carried: its CO2e is netted from the avoided emissions of that request's reuse.
- An event's entries are written once: the receiver looks for them first, and the database's
  unique (event_id, line) refuses a second copy.
- Corrections reverse an entry (every figure negated, ``reverses_id`` pointing at it), once.

The figures: a piece's weight is the listing's own (else its category's); the purchase avoided
is the category's new price; the CO2e avoided is the category factor's figure in force when it
happened, by its kind: a new piece's impact times the displacement rate, or a published net
saving as it stands; without a figure, WRAP's net saving per kilogram times the weight. Waste
avoided is the weight of pieces that replaced a purchase. Everything is rounded per piece to
the gram and the öre, then multiplied: sums are exact.

Plain functions of a session: nothing here imports Flask. Reports read the lower domains'
tables and never write them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from sharing.accounts.models import Actor, Role
from sharing.catalog.categories.models import CategoryFactor, Co2eKind
from sharing.catalog.categories.rules import current_factor
from sharing.catalog.listings.models import Listing
from sharing.clock import today_in_sweden
from sharing.errors import Conflict, DomainError, NotAllowed, NotVisible
from sharing.events import DomainEvent
from sharing.i18n import N_
from sharing.loans import events as loans_events
from sharing.loans.requests.models import LoanRequest, RequestKind
from sharing.reports.ledger.models import EntryKind, FactorKind, ReuseEntry
from sharing.typed import id_of

# Logistics records this once a driver finishes a route (subject ``logistics.route``, the
# vehicle's municipality; payload: route_id, day, km, co2e_kg, factor_source, method and
# attributions [{request_id, km, co2e_kg}]). Named here, the one place reports know it, since
# reports never import logistics (it is built beside them).
TRANSPORT_COMPLETED = "logistics.route.completed"
CONSUMED = (loans_events.TRANSFERRED, loans_events.SWAPPED, loans_events.CLOSED, TRANSPORT_COMPLETED)

# No category figure: WRAP, Benefits of Reuse - domestic furniture: 1.45 t CO2e saved per tonne reused.
WEIGHT_ESTIMATE_G_PER_KG = 1450
WEIGHT_ESTIMATE_CITATION = "WRAP, Benefits of Reuse - domestic furniture"
# Kept with each entry as it stands (Swedish, as entries have always kept it); reports show it in
# the reader's language (reports.labels.own_source).
WEIGHT_ESTIMATE_SOURCE = ("Uppskattning utifrån vikten: 1,45 kg CO2e sparat per kg återbrukat "
                          f"({WEIGHT_ESTIMATE_CITATION})")
REASON_MAX = 500
REVERSED_ALREADY = N_("This entry is reversed already.")


@dataclass(frozen=True)
class LedgerRules:
    """The ledger's documented, configurable rules (SHARING_REUSE_LOAN_MIN_DAYS,
    SHARING_REUSE_DISPLACEMENT_RATE)."""

    loan_min_days: int = 90  # a loan this long or longer counts as a purchase avoided
    displacement_rate: float = 0.5  # the share of reuses that replace a new purchase

    def loan_counts(self, days: int) -> bool:
        return days >= self.loan_min_days


def month_of(day: date) -> int:
    return day.year * 100 + day.month


def loan_days(request: LoanRequest) -> int:
    """How long the loan lasted: from handover to return, else as it was asked for."""
    start = request.handed_over_at or request.starts_at
    end = request.returned_at or request.ends_at or start
    return max((today_in_sweden(end) - today_in_sweden(start)).days + 1, 1)


@dataclass(frozen=True)
class Figures:
    """The per-piece figures of one listing at one instant, and where they came from."""

    weight_g: int
    price_ore: int
    co2e_g: int
    factor: CategoryFactor | None
    factor_kind: FactorKind
    source: str
    displacement_permille: int | None


def piece_figures(session: Session, listing: Listing, *, at: datetime, rules: LedgerRules) -> Figures:
    factor = current_factor(session, listing.category_id, at)
    weight_kg = listing.weight_kg if listing.weight_kg is not None else (factor.weight_kg if factor else None)
    weight_g = round((weight_kg or 0) * 1000)
    price_ore = round((factor.new_price_sek or 0) * 100) if factor else 0
    permille = None
    if factor is not None and factor.co2e_new_kg is not None and factor.co2e_kind == Co2eKind.NET_SAVING.value:
        kind, co2e_g = FactorKind.NET_SAVING, round(factor.co2e_new_kg * 1000)
    elif factor is not None and factor.co2e_new_kg is not None:
        permille = round(rules.displacement_rate * 1000)
        kind, co2e_g = FactorKind.PRODUCTION, round(factor.co2e_new_kg * permille)
    else:
        kind, co2e_g = FactorKind.WEIGHT_ESTIMATE, round(weight_g * WEIGHT_ESTIMATE_G_PER_KG / 1000)
    source = factor.source if factor is not None else ""
    if kind == FactorKind.WEIGHT_ESTIMATE:
        source = (WEIGHT_ESTIMATE_SOURCE + (f". {source}" if source else ""))[:500]
    return Figures(weight_g, price_ore, co2e_g, factor, kind, source, permille)


def _entry(event: DomainEvent, line: int, kind: EntryKind, *, listing: Listing, quantity: int,
           figures: Figures, counts: bool, request: LoanRequest, from_municipality_id: int | None,
           to_municipality_id: int | None, from_unit_id: int | None, to_unit_id: int | None) -> ReuseEntry:
    day = today_in_sweden(event.occurred_at)
    weight = figures.weight_g * quantity
    return ReuseEntry(
        event_id=event.id, line=line, kind=kind.value, occurred_at=event.occurred_at, day=day, month=month_of(day),
        request_id=request.id, listing_id=listing.id, category_id=listing.category_id, quantity=quantity,
        from_municipality_id=from_municipality_id, from_unit_id=from_unit_id,
        to_municipality_id=to_municipality_id, to_unit_id=to_unit_id, counts_as_purchase=counts,
        weight_g=weight, waste_avoided_g=weight if counts else 0,
        purchase_avoided_sek_ore=figures.price_ore * quantity if counts else 0,
        co2e_avoided_g=figures.co2e_g * quantity if counts else 0,
        factor_id=figures.factor.id if figures.factor else None,
        factor_version=figures.factor.version if figures.factor else None,
        factor_kind=figures.factor_kind.value, factor_source=figures.source,
        displacement_permille=figures.displacement_permille)


def entries_for_event(session: Session, event: DomainEvent, *, rules: LedgerRules) -> list[ReuseEntry]:
    """The entries an event makes (none for events that are no reuse, such as a take-over's close)."""
    if event.name == TRANSPORT_COMPLETED:
        return _transport_entries(session, event)
    request = session.get(LoanRequest, event.subject_id) if event.subject_id is not None else None
    if request is None:
        return []
    listing = session.get(Listing, request.listing_id)
    if listing is None:
        return []
    to_side = dict(from_municipality_id=request.owner_municipality_id, from_unit_id=None,
                   to_municipality_id=request.requester_municipality_id, to_unit_id=request.requester_unit_id)
    quantity = int(event.payload.get("quantity", request.quantity))
    at = event.occurred_at
    if event.name == loans_events.TRANSFERRED:
        return [_entry(event, 0, EntryKind.TAKE_OVER, listing=listing, quantity=quantity, request=request,
                       figures=piece_figures(session, listing, at=at, rules=rules), counts=True, **to_side)]
    if event.name == loans_events.SWAPPED:
        made = [_entry(event, 0, EntryKind.SWAP, listing=listing, quantity=quantity, request=request,
                       figures=piece_figures(session, listing, at=at, rules=rules), counts=True, **to_side)]
        offered = session.get(Listing, request.offered_listing_id) if request.offered_listing_id else None
        if offered is not None:
            made.append(_entry(
                event, 1, EntryKind.SWAP, listing=offered, quantity=request.offered_quantity or 1, request=request,
                figures=piece_figures(session, offered, at=at, rules=rules), counts=True,
                from_municipality_id=request.requester_municipality_id, from_unit_id=request.requester_unit_id,
                to_municipality_id=request.owner_municipality_id, to_unit_id=None))
        return made
    if event.name == loans_events.CLOSED and event.payload.get("kind") == RequestKind.BORROW.value:
        return [_entry(event, 0, EntryKind.LOAN, listing=listing, quantity=quantity, request=request,
                       figures=piece_figures(session, listing, at=at, rules=rules),
                       counts=rules.loan_counts(loan_days(request)), **to_side)]
    return []


def _transport_entries(session: Session, event: DomainEvent) -> list[ReuseEntry]:
    payload: dict[str, Any] = event.payload
    try:
        day = date.fromisoformat(str(payload["day"]))
    except (KeyError, ValueError):
        day = today_in_sweden(event.occurred_at)
    source = f"{payload.get('factor_source', '')} ({payload.get('method', '')})"[:500]
    made = []
    for line, attribution in enumerate(payload.get("attributions") or []):
        request = session.get(LoanRequest, int(attribution["request_id"]))
        listing = session.get(Listing, request.listing_id) if request is not None else None
        made.append(ReuseEntry(
            event_id=event.id, line=line, kind=EntryKind.TRANSPORT.value, occurred_at=event.occurred_at, day=day,
            month=month_of(day), request_id=int(attribution["request_id"]),
            listing_id=listing.id if listing else None, category_id=listing.category_id if listing else None,
            from_municipality_id=request.owner_municipality_id if request else event.municipality_id,
            to_municipality_id=request.requester_municipality_id if request else event.municipality_id,
            to_unit_id=request.requester_unit_id if request else None,
            transport_co2e_g=round(float(attribution["co2e_kg"]) * 1000),
            distance_m=round(float(attribution["km"]) * 1000),
            factor_kind=FactorKind.TRANSPORT.value, factor_source=source,
            kg_co2e_per_km=_number(payload.get("kg_co2e_per_km"))))
    return made


def _number(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def kg_per_km(entry: ReuseEntry | Any) -> tuple[float | None, bool]:
    """A transport entry's kg CO2e per km, and whether it is exact: the vehicle's factor as the
    route applied it, or, for an entry written before routes told it, its CO2e over its distance
    (rounded by both: close, not exact)."""
    if entry.kg_co2e_per_km is not None:
        return entry.kg_co2e_per_km, True
    if entry.distance_m:
        return float((Decimal(entry.transport_co2e_g) / entry.distance_m).quantize(Decimal("0.001"))), False
    return None, False


def record_event(session: Session, event: DomainEvent, *, rules: LedgerRules) -> int:
    """Write the event's entries unless they are written already; returns how many were written now."""
    if session.scalar(select(col(ReuseEntry.id)).where(col(ReuseEntry.event_id) == event.id).limit(1)) is not None:
        return 0
    made = entries_for_event(session, event, rules=rules)
    session.add_all(made)
    session.flush()
    return len(made)


# --- Corrections -----------------------------------------------------------------------

NEGATED = ("quantity", "weight_g", "waste_avoided_g", "purchase_avoided_sek_ore", "co2e_avoided_g",
           "transport_co2e_g", "distance_m")
COPIED = ("kind", "occurred_at", "day", "month", "request_id", "listing_id", "category_id", "from_municipality_id",
          "from_unit_id", "to_municipality_id", "to_unit_id", "counts_as_purchase", "factor_id", "factor_version",
          "factor_kind", "factor_source", "displacement_permille", "kg_co2e_per_km")


def entry_to_correct(session: Session, entry_id: int, *, by: Actor) -> ReuseEntry:
    """The entry, if ``by`` may correct it: a sustainability officer of a municipality it
    concerns, or a system administrator."""
    entry = session.get(ReuseEntry, entry_id)
    if entry is None:
        raise NotVisible(f"reuse entry {entry_id}")
    if not by.has_role(Role.SYSTEM_ADMIN) and not (
            by.has_role(Role.SUSTAINABILITY_OFFICER)
            and by.municipality_id in (entry.from_municipality_id, entry.to_municipality_id)):
        raise NotAllowed(f"reuse entry {entry_id}")
    return entry


def reverse_entry(session: Session, *, entry_id: int, reason: str, by: Actor, now: datetime) -> ReuseEntry:
    """Cancel an entry by a reversing one (figures negated), kept beside it with the reason."""
    entry = entry_to_correct(session, entry_id, by=by)
    reason = reason.strip()
    if not reason:
        raise DomainError(N_("Say why the entry is reversed."), field="reason")
    if len(reason) > REASON_MAX:
        raise DomainError(N_("Keep the reason under %(n)d characters."), field="reason", n=REASON_MAX)
    if entry.reverses_id is not None:
        raise Conflict(N_("This entry is itself a correction: it cannot be reversed."))
    if session.scalar(select(col(ReuseEntry.id)).where(col(ReuseEntry.reverses_id) == entry.id)) is not None:
        raise Conflict(REVERSED_ALREADY)
    reversal = ReuseEntry(reverses_id=id_of(entry), reason=reason, created_by_id=by.id, created_at=now,
                          **{name: getattr(entry, name) for name in COPIED},
                          **{name: -getattr(entry, name) for name in NEGATED})
    try:
        with session.begin_nested():  # another reversal of it committed since the check: its unique reverses_id
            session.add(reversal)
    except IntegrityError:
        raise Conflict(REVERSED_ALREADY) from None
    return reversal
