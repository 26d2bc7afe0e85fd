"""A driver's reports raced (a double tap, a retry, two phones): many reports of one stop at
once make it once, and the route is completed, and its transport written to the ledger, once.
Through the app as production serves it (gunicorn, several worker processes), on SQLite and
PostgreSQL alike."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from sharing.accounts.models import Role
from sharing.clock import today_in_sweden, utcnow
from sharing.events import DomainEvent
from sharing.loans.requests import rules as loans
from sharing.loans.requests.models import RequestKind
from sharing.loans.requests.rules import RequestDetails
from sharing.logistics.plans import driving
from sharing.logistics.plans import rules as plans
from sharing.logistics.plans.models import PlannedRoute, PlannedStop, RouteStatus, StopStatus
from sharing.reports.ledger.models import EntryKind, ReuseEntry
from tests.conftest import Auth
from tests.logistics import vehicle
from tests.servers import HttpClient, gunicorn
from tests.test_api import PREFIX, bearer, create_token

REPORTS = 20


@pytest.fixture
def day(app, db, factory):
    """Pieces taken over for good today, carried between two sites open at any hour, planned on
    one route, the pickup reported: only the delivery is left."""
    today = today_in_sweden(utcnow())
    ystad, skurup = factory.municipality("Ystad", "1286"), factory.municipality("Skurup", "1264")
    store = factory.site(ystad, "Förrådet")
    school = factory.site(skurup, "Skolan", locality="Skurup", latitude=55.48, longitude=13.50)
    manager = factory.manager(ystad)
    chairs = factory.listing_published(site=store, by=manager, title="Stolar", quantity=10, give_away=True,
                                       weight_kg=7.0, volume_m3=0.4)
    employee = factory.user(skurup, Role.EMPLOYEE, unit=factory.unit(skurup))
    world = {"depot": store, "ystad_coordinator": factory.user(ystad, Role.TRANSPORT_COORDINATOR)}
    van = vehicle(db, world)
    with app.app_context():
        request = loans.ask(db, listing_id=chairs.id, by=employee, now=utcnow(), details=RequestDetails(
            kind=RequestKind.TAKE_OVER, quantity=2, first_day=today, last_day=None, delivery_site_id=school.id,
            transport_needed=True))
        loans.approve(db, request, by=manager, now=utcnow())
        db.commit()
        made = plans.plan_day(db, day=today, by=world["ystad_coordinator"], now=utcnow(), seconds=1,
                              vehicle_ids=[van.id], iterations=100)
        db.commit()
    driver = factory.user(ystad, Role.DRIVER)
    [route] = plans.routes_of(db, made)
    (pickup, _, _), (last, _, _) = route.stops
    with app.app_context():
        assert not driving.report_done(db, pickup, by=driver, now=utcnow())
        db.commit()
    client = app.test_client()
    Auth(client).login(driver)
    return {"route": route.route, "last": last, "token": bearer(create_token(client))}


@pytest.mark.parametrize("outcome", ["done", "failed"])
def test_a_stop_reported_many_times_at_once_is_reported_once_and_completes_its_route_once(
        app, db, day, tmp_path, outcome):
    with gunicorn(app.config["SHARING_DATABASE_URL"], tmp_path) as base:
        client = HttpClient(base)

        def report(_):
            return client.post_json(f"{PREFIX}/driver/stops/{day['last'].id}/{outcome}",
                                    {"reason": "closed"} if outcome == "failed" else {}, day["token"])[0]

        with ThreadPoolExecutor(REPORTS) as pool:
            answers = list(pool.map(report, range(REPORTS)))
    assert sorted(answers) == [200] + [409] * (REPORTS - 1), answers
    db.expire_all()
    assert db.get(PlannedStop, day["last"].id).status == StopStatus(outcome).value
    assert db.get(PlannedRoute, day["route"].id).status == RouteStatus.COMPLETED.value
    completed = db.scalar(select(func.count()).select_from(DomainEvent).where(
        DomainEvent.name == driving.ROUTE_COMPLETED, DomainEvent.subject_id == day["route"].id))
    assert completed == 1
    if outcome == "done":
        transport = db.scalar(select(func.count()).select_from(ReuseEntry).where(
            ReuseEntry.kind == EntryKind.TRANSPORT.value))
        assert transport == 1
