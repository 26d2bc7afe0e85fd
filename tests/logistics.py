"""What the logistics tests share: three municipalities with sites of known opening hours, a
listing with known figures, the people who ask, decide and plan, and requests taken through
loans' own rules with their events handed to their receivers, as in the service."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from sharing.accounts.models import OpeningHours, Role, Site
from sharing.clock import today_in_sweden, utcnow
from sharing.loans.requests import rules as loans
from sharing.loans.requests.models import LoanRequest, RequestKind
from sharing.loans.requests.rules import RequestDetails
from sharing.logistics.jobs.models import TransportJob
from sharing.logistics.vehicles import rules as vehicles
from sharing.logistics.vehicles.models import FuelKind, Vehicle
from tests.factories import Factory


def next_monday(today: date | None = None) -> date:
    """The first Monday after today: the days of the tests' jobs, whose weekdays matter."""
    today = today or today_in_sweden(utcnow())
    return today + timedelta(days=7 - today.weekday())


def hours(session: Session, site: Site, *intervals: tuple[int, time, time]) -> None:
    session.add_all(OpeningHours(site_id=site.id, weekday=day, opens=opens, closes=closes)
                    for day, opens, closes in intervals)
    session.commit()


def weekdays(opens: time, closes: time, days: range = range(5)) -> list[tuple[int, time, time]]:
    return [(day, opens, closes) for day in days]


def build(factory: Factory) -> dict[str, Any]:
    db = factory.session
    ystad, skurup = factory.municipality("Ystad", "1286"), factory.municipality("Skurup", "1264")
    trelleborg = factory.municipality("Trelleborg", "1287")
    depot = factory.site(ystad, "Kommunförrådet Ystad")
    hours(db, depot, *weekdays(time(7), time(16)))
    school = factory.site(skurup, "Rydsgårds skola", locality="Skurup")
    # Open Monday to Thursday, with a break at lunch; closed on Fridays and at weekends.
    hours(db, school, *weekdays(time(7, 30), time(12), range(4)), *weekdays(time(13), time(15, 30), range(4)))
    trelleborg_site = factory.site(trelleborg, "Återbruksförrådet Hedvägen", locality="Trelleborg")  # no hours: any
    category = factory.category("Kontorsstol", weight_kg=15, volume_m3=0.5)
    manager = factory.manager(ystad)
    chairs = factory.listing_published(site=depot, by=manager, category=category, title="Konferensstolar",
                                       quantity=24, lend=True, give_away=True, swap=True, weight_kg=7.3,
                                       volume_m3=0.4)
    unit = factory.unit(skurup, "Rydsgårds skola")
    return {
        "ystad": ystad, "skurup": skurup, "trelleborg": trelleborg, "depot": depot, "school": school,
        "trelleborg_site": trelleborg_site, "category": category, "manager": manager, "chairs": chairs,
        "employee": factory.user(skurup, Role.EMPLOYEE, unit=unit),
        "skurup_manager": factory.manager(skurup),
        "ystad_coordinator": factory.user(ystad, Role.TRANSPORT_COORDINATOR),
        "skurup_coordinator": factory.user(skurup, Role.TRANSPORT_COORDINATOR),
        "trelleborg_coordinator": factory.user(trelleborg, Role.TRANSPORT_COORDINATOR),
        "ystad_admin": factory.user(ystad, Role.MUNICIPALITY_ADMIN),
        "trelleborg_admin": factory.user(trelleborg, Role.MUNICIPALITY_ADMIN),
        "ystad_employee": factory.user(ystad, Role.EMPLOYEE),
        "monday": next_monday(),
    }


def ask(db: Session, w: dict[str, Any], *, kind: RequestKind = RequestKind.BORROW, quantity: int = 3,
        first: date | None = None, days: int = 4, transport: bool = True, **overrides: Any) -> LoanRequest:
    """A request from Skurup's school for Ystad's chairs (a loan of ``days`` days), committed."""
    first = first or w["monday"]
    listing_id = overrides.pop("listing_id", w["chairs"].id)
    details = RequestDetails(kind=kind, quantity=quantity, first_day=first,
                             last_day=first + timedelta(days=days - 1) if kind == RequestKind.BORROW else None,
                             delivery_site_id=w["school"].id, transport_needed=transport, **overrides)
    request = loans.ask(db, listing_id=listing_id, details=details,
                        by=w["employee"], now=utcnow())
    db.commit()
    return request


def jobs_of(db: Session, request: LoanRequest) -> dict[str, TransportJob]:
    db.expire_all()
    return {job.kind: job for job in db.scalars(select(TransportJob).where(col(TransportJob.request_id) == request.id))}


def vehicle(db: Session, w: dict[str, Any], *, by: str = "ystad_coordinator", **overrides: Any) -> Vehicle:
    values: dict[str, Any] = dict(name="Skåpbilen", volume_m3=12.0, payload_kg=1200, depot_site_id=w["depot"].id,
                                  shift_start=time(7), shift_end=time(16), cost_per_km=7.5, fuel=FuelKind.DIESEL)
    made = vehicles.save_vehicle(db, details=vehicles.VehicleDetails(**{**values, **overrides}), by=w[by],
                                 now=utcnow())
    db.commit()
    return made


def the_day_comes(db: Session, plan_id: int) -> None:
    """Move a plan to today: its routes' day has come, and their stops may be reported through
    the pages and the API, which report at the real time (the tests plan next Monday)."""
    from sqlalchemy import update

    from sharing.logistics.plans.models import RoutePlan
    db.execute(update(RoutePlan).where(col(RoutePlan.id) == plan_id).values(day=today_in_sweden(utcnow())))
    db.commit()
