"""A fixture of reuse events whose totals were computed by hand (see ``EXPECTED``), made
through the loans' own rules and logistics' event, and written to the ledger by its receiver.

Categories (factors in force since before the events):
- Kontorsstol: 15 kg, 4 500 kr, 100 kg CO2e of a new piece (production; displacement 0,5 → 50 kg)
- Soffa: 45 kg, 12 000 kr, 55 kg CO2e net saving per reuse (as it stands)
- Hylla: 30 kg, 2 500 kr, no CO2e figure (WRAP by weight: 1,45 kg per kg → 43,5 kg)

Events, all in 2025:
1. Take-over, Ystad → Trelleborg, 4 office chairs: 60 kg, 18 000 kr, 200 kg CO2e.
2. Swap, Trelleborg's 2 sofas ↔ Skurup's 3 shelves: sofas Trelleborg → Skurup: 90 kg, 24 000 kr,
   110 kg; shelves Skurup → Trelleborg: 90 kg, 7 500 kr, 130,5 kg.
3. Loan, Skurup → Trelleborg, 5 chairs for 120 days (counts): 75 kg, 22 500 kr, 250 kg.
4. Loan, Ystad → Trelleborg, 2 chairs for 10 days (does not count): 2 pieces, 0 kg avoided, 0 kr, 0 kg.
5. Transport: a route carrying requests 1 and 3: 3,25 kg and 1,5 kg CO2e (12,4 + 6,1 km).

Totals (all municipalities): pieces reused 4+2+3+5 = 14 and 2 shared on the short loan; waste
avoided 60+90+90+75 = 315 kg; purchase avoided 18 000 + 24 000 + 7 500 + 22 500 = 72 000 kr;
gross CO2e 200 + 110 + 130,5 + 250 = 690,5 kg; transport 4,75 kg; net 685,75 kg.
Received by Trelleborg: pieces reused 4+3+5 = 12 and 2 shared; 60+90+75 = 225 kg; 48 000 kr; gross 580,5 kg; transport
4,75 kg; net 575,75 kg.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sharing import events
from sharing.accounts.models import Role
from sharing.catalog.categories.models import Co2eKind
from sharing.loans.requests import rules as loans
from sharing.loans.requests.models import HandoverMethod, RequestKind
from sharing.loans.requests.rules import RequestDetails
from sharing.logistics.plans import driving
from sharing.reports.ledger.rules import TRANSPORT_COMPLETED

EXPECTED = {"pieces": 14, "shared_pieces": 2, "waste_avoided_g": 315_000, "purchase_avoided_sek_ore": 7_200_000,
            "co2e_avoided_g": 690_500, "transport_co2e_g": 4_750, "net_co2e_g": 685_750}
EXPECTED_TRELLEBORG = {"pieces": 12, "shared_pieces": 2, "waste_avoided_g": 225_000,
                       "purchase_avoided_sek_ore": 4_800_000, "co2e_avoided_g": 580_500, "transport_co2e_g": 4_750,
                       "net_co2e_g": 575_750}
YEAR = 2025


def build(factory, app, year: int = YEAR) -> dict:  # type: ignore[no-untyped-def]
    """The municipalities, people and events (in ``year``: by default 2025, as above); returns
    what tests refer to."""
    db = factory.session
    factors_from = datetime(year - 1, 1, 1, tzinfo=timezone.utc)

    def at(month: int, day: int, hour: int = 10) -> datetime:
        return datetime(year, month, day, hour, tzinfo=timezone.utc)

    ystad, skurup = factory.municipality("Ystad", "1286"), factory.municipality("Skurup", "1264")
    trelleborg = factory.municipality("Trelleborg", "1287")
    sites = {m.name: factory.site(m) for m in (ystad, skurup, trelleborg)}
    units = {m.name: factory.unit(m, f"{m.name}s förvaltning") for m in (ystad, skurup, trelleborg)}
    managers = {m.name: factory.manager(m) for m in (ystad, skurup, trelleborg)}
    employees = {m.name: factory.user(m, Role.EMPLOYEE, unit=units[m.name]) for m in (ystad, skurup, trelleborg)}
    officer = factory.user(trelleborg, Role.SUSTAINABILITY_OFFICER, unit=units["Trelleborg"])
    furniture = factory.category("Möbler", name_en="Furniture")
    chair = factory.category("Kontorsstol", name_en="Office chair", parent=furniture, weight_kg=15,
                             new_price_sek=4500, co2e_new_kg=100, source="EPD NEPD-467-327-EN", now=factors_from)
    sofa = factory.category("Soffa", name_en="Sofa", parent=furniture)
    factory.figures(sofa, weight_kg=45, new_price_sek=12000, co2e_new_kg=55, co2e_kind=Co2eKind.NET_SAVING,
                    source="WRAP, Benefits of Reuse", now=factors_from)
    shelf = factory.category("Hylla", name_en="Shelf", parent=furniture, weight_kg=30, new_price_sek=2500,
                             source="Egen uppskattning", now=factors_from)

    def listing(municipality: str, category, quantity: int, **offers):  # type: ignore[no-untyped-def]
        return factory.listing_published(site=sites[municipality], category=category, by=managers[municipality],
                                         quantity=quantity, now=factors_from, **offers)

    def ask(listing_, kind: RequestKind, quantity: int, by: str, first: date, last: date | None, now: datetime,
            **extra):  # type: ignore[no-untyped-def]
        request = loans.ask(db, listing_id=listing_.id, by=employees[by], now=now, details=RequestDetails(
            kind=kind, quantity=quantity, first_day=first, last_day=last, delivery_site_id=sites[by].id, **extra))
        return request

    def through(request, owner: str, requester: str, handed: datetime, back: datetime | None = None):  # type: ignore[no-untyped-def]
        if request.status == "requested":
            loans.approve(db, request, by=managers[owner], now=handed - timedelta(days=1))
        loans.hand_over(db, request, condition=None, method=HandoverMethod.TRANSPORT, by=managers[owner], now=handed)
        loans.confirm(db, request, by=employees[requester], now=handed)
        if back is not None:
            loans.take_back(db, request, condition=None, remarks="", damage="", by=managers[owner], now=back)
            loans.confirm(db, request, by=employees[requester], now=back)
        db.commit()
        return request

    chairs_ystad = listing("Ystad", chair, 10, lend=True, give_away=True)
    taken = through(ask(chairs_ystad, RequestKind.TAKE_OVER, 4, "Trelleborg", date(year, 3, 3), None, at(3, 1)),
                    "Ystad", "Trelleborg", at(3, 3))
    sofas = listing("Trelleborg", sofa, 2, swap=True)
    shelves = listing("Skurup", shelf, 3, swap=True)
    swap = ask(sofas, RequestKind.SWAP, 2, "Skurup", date(year, 4, 10), None, at(4, 1),
               offered_listing_id=shelves.id, offered_quantity=3)
    swapped = through(swap, "Trelleborg", "Skurup", at(4, 10))
    chairs_skurup = listing("Skurup", chair, 8, lend=True)
    long_loan = through(ask(chairs_skurup, RequestKind.BORROW, 5, "Trelleborg", date(year, 5, 5), date(year, 9, 1),
                            at(5, 1)), "Skurup", "Trelleborg", at(5, 5), at(9, 1))
    short_loan = through(ask(chairs_ystad, RequestKind.BORROW, 2, "Trelleborg", date(year, 6, 2), date(year, 6, 11),
                             at(6, 1)), "Ystad", "Trelleborg", at(6, 2), at(6, 11))
    route = events.record(db, TRANSPORT_COMPLETED, subject_type="logistics.route", subject_id=7, now=at(9, 2),
                          municipality_id=trelleborg.id, payload={
                              "route_id": 7, "day": f"{year}-09-02", "km": 18.5, "co2e_kg": 4.75,
                              "factor_source": "HBEFA 4.2, lätt lastbil diesel", "kg_co2e_per_km": 0.25561,
                              "method": driving.METHOD,
                              "attributions": [{"request_id": taken.id, "km": 12.4, "co2e_kg": 3.25},
                                               {"request_id": long_loan.id, "km": 6.1, "co2e_kg": 1.5}]})
    db.commit()
    dispatch(app)
    return {"ystad": ystad, "skurup": skurup, "trelleborg": trelleborg, "officer": officer, "taken": taken,
            "swapped": swapped, "long_loan": long_loan, "short_loan": short_loan, "route_event_id": route.id,
            "chair": chair, "sofa": sofa, "shelf": shelf, "furniture": furniture, "units": units,
            "system_admin": factory.user(ystad, Role.SYSTEM_ADMIN)}


def dispatch(app) -> int:  # type: ignore[no-untyped-def]
    """Hand every pending delivery to its receiver, as the dispatch job does."""
    with app.app_context():
        return events.dispatch_due(app.extensions["sharing.engine"], now=datetime.now(timezone.utc)
                                   + timedelta(days=1))
