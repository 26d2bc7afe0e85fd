"""Demo transport: a vehicle or two per municipality, Ystad and Skurup planning jointly, and a
few approved requests with transport on the next working day, so that the demo coordinators
find jobs to plan. Each is made through the rules of its own domain, once (nothing is made when
any vehicle exists); the jobs themselves arise from the requests' events, after the commit, as
they do in the service."""

from __future__ import annotations

from datetime import date, time, timedelta

from sqlalchemy import func, select
from sqlmodel import Session, col

from sharing.accounts.models import Municipality, Site, User
from sharing.catalog.demo import DEMO_MARK
from sharing.catalog.listings.models import Listing, ListingStatus
from sharing.clock import today_in_sweden, utcnow
from sharing.errors import DomainError
from sharing.loans.demo import working_day
from sharing.loans.requests import rules as loans
from sharing.loans.requests.models import RequestKind
from sharing.logistics.coordination import rules as coordination
from sharing.logistics.vehicles import rules as vehicles
from sharing.logistics.vehicles.models import FuelKind, Vehicle

# (municipality, name, registration, shared, m³, kg, depot, shift, kr per km, fuel)
DEMO_VEHICLES = [
    ("Ystad", "Elskåpbilen", "DEL 101", False, 10.8, 950, "Tekniska depån", (time(7), time(16)), 4.5,
     FuelKind.ELECTRICITY),
    ("Ystad", "Skåpbil 2", "DEL 102", False, 12.0, 1200, "Tekniska depån", (time(7), time(15, 30)), 7.0,
     FuelKind.DIESEL),
    ("Skurup", "Kommunförrådets skåpbil", "DEL 201", True, 13.4, 1150, "Kommunförrådet och återbruksförrådet",
     (time(6, 30), time(15)), 7.5, FuelKind.DIESEL),
    ("Trelleborg", "Flyttbilen", "DEL 301", False, 17.0, 1000, "Driftdepå Anderslöv", (time(6, 30), time(15)),
     8.5, FuelKind.DIESEL),
]
JOINT = ("Ystad", "Skurup")
# (requester's e-mail, the owner's municipality, kind, how many, days of a loan)
DEMO_TRANSPORTS = [
    ("medarbetare@trelleborg.example", "Ystad", RequestKind.BORROW, 2, 14),
    ("medarbetare@ystad.example", "Skurup", RequestKind.TAKE_OVER, 1, None),
    ("medarbetare@skurup.example", "Trelleborg", RequestKind.BORROW, 1, 5),
]


def next_working_day(today: date) -> date:
    """Tomorrow, or the Monday after it if it falls on a weekend: the sites are open then."""
    return working_day(today + timedelta(days=1))


def _user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(col(User.email) == email))


def load(session: Session) -> dict[str, int]:
    if session.scalar(select(func.count()).select_from(Vehicle)):
        return {"vehicles": 0, "requests with transport": 0}
    now = utcnow()
    municipalities = {m.name: m for m in session.scalars(select(Municipality))}
    made = 0
    for name, vehicle, registration, shared, volume, payload, depot, (start, end), cost, fuel in DEMO_VEHICLES:
        keeper = _user(session, f"samordnare@{name.lower()}.example")
        site = session.scalar(select(Site).where(col(Site.municipality_id) == (municipalities[name].id
                                                                                if name in municipalities else 0),
                                                 col(Site.name) == depot))
        if keeper is None or site is None:
            continue
        vehicles.save_vehicle(session, by=keeper, now=now, details=vehicles.VehicleDetails(
            name=vehicle, registration=registration, shared=shared, volume_m3=volume, payload_kg=payload,
            depot_site_id=site.id or 0, shift_start=start, shift_end=end, cost_per_km=cost, fuel=fuel))
        made += 1
    for name in JOINT:
        admin = _user(session, f"admin@{name.lower()}.example")
        if admin is not None:
            coordination.set_joint_planning(session, joined=True, by=admin, now=now)
    day = next_working_day(today_in_sweden(now))
    asked = 0
    for email, owner, kind, quantity, days in DEMO_TRANSPORTS:
        requester = _user(session, email)
        manager = _user(session, f"lokalforsorjning@{owner.lower()}.example")
        offer = {RequestKind.BORROW: Listing.lend, RequestKind.TAKE_OVER: Listing.give_away}[kind]
        listing = session.scalar(
            select(Listing).join(Municipality, col(Municipality.id) == Listing.municipality_id)
            .where(col(Municipality.name) == owner, col(offer), col(Listing.kind) == "thing",
                   col(Listing.status) == ListingStatus.PUBLISHED.value, col(Listing.quantity) >= quantity,
                   col(Listing.inventory_number).like(f"{DEMO_MARK}0%"))
            .order_by(col(Listing.id).desc()))
        site = session.scalar(select(Site).where(col(Site.municipality_id) == (requester.municipality_id
                                                                               if requester else 0))
                              .order_by(col(Site.id)))
        if requester is None or manager is None or listing is None or site is None:
            continue
        details = loans.RequestDetails(kind=kind, quantity=quantity, first_day=day,
                                       last_day=working_day(day + timedelta(days=days - 1), earlier=True)
                                       if days else None,
                                       delivery_site_id=site.id or 0, transport_needed=True,
                                       message="Kan ni köra ut det till oss den dagen?")
        try:
            with session.begin_nested():
                # asked a few hours ago and approved since, as a coordinator would find them
                request = loans.ask(session, listing_id=listing.id or 0, details=details, by=requester,
                                    now=now - timedelta(hours=3))
                if request.status == "requested":
                    loans.approve(session, request, by=manager, now=now - timedelta(hours=2))
        except DomainError:
            continue  # a listing whose rules the demo's dates do not fit: leave it out
        asked += 1
    return {"vehicles": made, "requests with transport": asked}
