"""A route's sheet: the HTML print view and the PDF show the vehicle, the day, the depot's
times and each stop in order with its address, pieces and QR code; a map of the route over
the municipal borders; only the route's coordinators and drivers see it."""

import re

import pytest

from sharing.accounts.models import Role
from sharing.clock import utcnow
from sharing.loans.requests import rules as loans
from sharing.logistics.jobs import rules as jobs
from sharing.logistics.plans import rules as plans
from sharing.logistics.plans import sheet as route_sheets
from tests.conftest import Auth
from tests.logistics import ask, build, vehicle


@pytest.fixture
def w(factory):
    return build(factory)


def planned(app, db, factory, w):
    """A loan of Ystad's chairs to Skurup's school, approved, and a manual job in Ystad:
    planned for the one van."""
    w["depot"].access_notes = "Lastkaj på baksidan, ring på porttelefonen"
    db.add(w["depot"])
    w["chairs"].inventory_number = "YS-4711"
    db.add(w["chairs"])
    db.commit()
    van = vehicle(db, w)
    request = ask(db, w)
    with app.app_context():
        loans.approve(db, request, by=w["manager"], now=utcnow())
        db.commit()
    far = factory.site(w["ystad"], "Österportskolan", street_address="Österportstorg 3", postal_code="271 41",
                       latitude=55.44, longitude=13.84)
    jobs.add_manual_job(db, by=w["ystad_coordinator"], now=utcnow(), details=jobs.ManualJobDetails(
        pickup_site_id=w["depot"].id, delivery_site_id=far.id, day=w["monday"], goods="Whiteboards",
        volume_m3=0.5, weight_kg=30, notes="Bär in till aulan"))
    db.commit()
    made = plans.plan_day(db, day=w["monday"], by=w["ystad_coordinator"], now=utcnow(), seconds=5, iterations=200)
    db.commit()
    [view] = plans.routes_of(db, made)
    return made, view, van


def test_the_sheet_shows_the_stops_in_order_with_addresses_pieces_and_codes(app, client, db, factory, w):
    made, view, van = planned(app, db, factory, w)
    Auth(client).login(w["ystad_coordinator"])
    plan_page = client.get(f"/logistics/plans/{made.id}").get_data(as_text=True)
    assert f"/logistics/routes/{view.route.id}/sheet" in plan_page
    assert f"/logistics/routes/{view.route.id}/sheet.pdf" in plan_page
    response = client.get(f"/logistics/routes/{view.route.id}/sheet")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Skåpbilen" in page and w["monday"].isoformat() in page and "Kommunförrådet Ystad" in page
    # Each stop in the planned order, with its time, address and the pieces.
    positions = []
    for stop, entry, _ in view.stops:
        site = entry.pickup if stop.action == "pickup" else entry.delivery
        marker = f'id="sheet-stop-{stop.position}"'
        assert marker in page
        start = page.index(marker)
        section = page[start:page.index("</li>", start)]
        assert site.name in section and site.postal_code in section and site.street_address in section
        assert f"{stop.start_s // 3600:02d}:{stop.start_s % 3600 // 60:02d}" in section
        positions.append(start)
        if entry.job.listing_id == w["chairs"].id:
            assert "Konferensstolar (3 st.)" in section and "YS-4711" in section
            assert f"/catalog/{w['chairs'].id}" in section or f"listings/{w['chairs'].id}" in section
            assert "<svg" in section, "the piece's QR code"
        else:
            assert "Whiteboards" in section and "Bär in till aulan" in section
    assert positions == sorted(positions)
    assert "Lastkaj på baksidan" in page, "the site's access notes"
    # The map: the borders and the route joined in order, drawn inline (no tiles).
    assert 'role="img"' in page and "<polygon" in page and "<polyline" in page
    assert "tile" not in page.lower()


def test_the_pdf_opens_and_holds_the_stops(app, client, db, factory, w):
    made, view, _ = planned(app, db, factory, w)
    driver = factory.user(w["ystad"], Role.DRIVER)
    Auth(client).login(driver)
    assert f"/logistics/routes/{view.route.id}/sheet" in client.get(
        f"/logistics/driver/routes/{view.route.id}").get_data(as_text=True)
    response = client.get(f"/logistics/routes/{view.route.id}/sheet.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    body = response.get_data()
    assert body.startswith(b"%PDF") and b"ReportLab" in body and body.rstrip().endswith(b"%%EOF")
    assert response.headers["Cache-Control"] == "no-store"


def test_the_map_fits_the_route_and_borders_in_its_box(app, db, factory, w):
    _, view, _ = planned(app, db, factory, w)
    sheet = route_sheets.route_sheet(db, view.route, listing_url=lambda listing_id: f"https://x/{listing_id}")
    shown = route_sheets.route_map(sheet, width=600, height=300)
    assert shown.borders, "the borders around the route, cut at the map's edge"
    assert len(shown.path) == len(sheet.stops) + 2, "from the depot and back"
    assert shown.path[0] == shown.path[-1]
    # Every stop labelled once; places close together share one label.
    labels = [part for label, _, _ in shown.marks for part in label.split(", ")]
    assert sorted(labels) == sorted(["D"] + [str(s.position) for s in sheet.stops])
    for label, x, _ in shown.marks:
        assert 0 <= shown.label_left(label, x) <= shown.label_left(label, x) + shown.label_width(label) <= 600
    for (_, x1, y1), (_, x2, y2) in zip(shown.marks, shown.marks[1:], strict=False):
        assert abs(x1 - x2) + abs(y1 - y2) >= route_sheets.NEAR / 2
    for x, y in [*shown.path, *(p for ring in shown.borders for p in ring)]:
        assert 0 <= x <= 600 and 0 <= y <= 300
    # A polygon cut at the box: a square across the corner keeps its inside part.
    corner = route_sheets.clip(((-10, -10), (10, -10), (10, 10), (-10, 10)), 100, 100)
    assert set(corner) == {(0, 0), (10, 0), (10, 10), (0, 10)}
    pdf = route_sheets.render_pdf(sheet, texts={key: key for key in (
        "title", "service", "depot", "departure", "return", "number", "time", "where", "what", "qr", "access",
        "notes", "pickup", "delivery", "quantity", "inventory_number", "arrival", "window", "footer")})
    assert pdf.startswith(b"%PDF")


def test_only_the_routes_coordinators_and_drivers_see_the_sheet(app, client, db, factory, w):
    _, view, _ = planned(app, db, factory, w)
    url = f"/logistics/routes/{view.route.id}/sheet"
    outsiders = [w["trelleborg_coordinator"], factory.user(w["skurup"], Role.DRIVER),
                 factory.user(w["trelleborg"], Role.DRIVER)]
    for user in outsiders:
        other = app.test_client()
        Auth(other).login(user)
        assert other.get(url).status_code == 404, user.email
        assert other.get(url + ".pdf").status_code == 404, user.email
    employee = app.test_client()
    Auth(employee).login(w["employee"])
    assert employee.get(url).status_code == 403
    assert client.get(url).status_code == 302, "anonymous: to the login page"
    assert client.get("/logistics/routes/999999/sheet").status_code == 302


def test_distances_and_emissions_read_with_a_swedish_decimal_comma(app, client, db, factory, w):
    made, view, _ = planned(app, db, factory, w)
    km = f"{view.route.distance_m / 1000:.1f}".replace(".", ",")
    co2e = f"{view.route.co2e_kg:.1f}".replace(".", ",")
    Auth(client).login(w["ystad_coordinator"])
    plan_page = client.get(f"/logistics/plans/{made.id}").get_data(as_text=True)
    assert f"{km} km, {co2e} kg CO2e" in plan_page
    sheet_page = client.get(f"/logistics/routes/{view.route.id}/sheet").get_data(as_text=True)
    assert f"({km} km)" in sheet_page
    assert not re.search(r"\d\.\d km", plan_page + sheet_page)
