"""A route's sheet for its driver, to print: the vehicle and day, the depot's departure and
return, each stop in order with its times, address, access notes and the pieces to load or
unload (each with a QR code to its listing), and a small map of the route over the municipal
borders (drawn by us from ``static/map/municipalities.geojson``: no map tiles).

``route_sheet`` gathers it (no Flask: the caller gives the listings' addresses); ``route_map``
projects it for the HTML view's SVG and the PDF's drawing alike; ``render_pdf`` makes the PDF
(reportlab, base fonts as the QR labels). Contacts: the sites hold no phone numbers, so the
sheet shows none; the access notes say how to get in (door phone, keys). No personal data.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import segno
from reportlab.graphics.shapes import Circle, Drawing, Polygon, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy import select
from sqlmodel import Session, col

from sharing.accounts.models import Actor, Site
from sharing.catalog.listings.models import Listing
from sharing.catalog.qr_labels.sheet import draw_qr, printable, qr_matrix
from sharing.errors import NotVisible
from sharing.logistics.coordination import rules as coordination
from sharing.logistics.labels import seconds_clock
from sharing.logistics.planning.problem import StopAction
from sharing.logistics.plans import driving, rules
from sharing.logistics.plans.models import PlannedRoute, PlanStatus, RoutePlan
from sharing.logistics.vehicles.models import Vehicle

MIN_SPAN_DEGREES = 0.05  # about 5 km: the least a map shows across
NEAR = 14  # map units: places closer than this share a label
LABEL_CHAR = 6.5  # map units a label's character takes (bold, 10 units high)
BORDERS = Path(__file__).resolve().parents[2] / "static" / "map" / "municipalities.geojson"


def route_to_print(session: Session, user: Actor, route_id: int) -> PlannedRoute:
    """The route's coordinators (the plan in their scope) and its drivers (the vehicle's
    municipality, the plan in force) may print its sheet."""
    route = session.get(PlannedRoute, route_id)
    if route is not None:
        plan = session.get_one(RoutePlan, route.plan_id)
        if coordination.is_coordinator(user) and rules.can_see(session, user, plan):
            return route
        if driving.can_drive(session, user, route) and plan.status == PlanStatus.DONE.value:
            return route
    raise NotVisible(f"route {route_id}")


@dataclass(frozen=True)
class Piece:
    listing_id: int | None
    title: str
    quantity: int
    inventory_number: str
    url: str  # the listing's address (the QR code's), or "" for a manual job's goods


@dataclass(frozen=True)
class SheetStop:
    position: int
    action: str  # planning.problem.StopAction
    arrival: str  # HH:MM
    start: str
    window: str  # the site's opening interval that holds the stop, "HH:MM–HH:MM", or ""
    site_name: str
    street_address: str
    postal_code: str
    locality: str
    access_notes: str
    notes: str  # the job's notes for the driver
    piece: Piece
    status: str
    latitude: float
    longitude: float

    @property
    def pickup(self) -> bool:
        return self.action == StopAction.PICKUP.value


@dataclass(frozen=True)
class RouteSheet:
    route_id: int
    vehicle: str
    registration: str
    day: date
    depot: Site
    departure: str
    return_: str
    distance_km: float
    stops: tuple[SheetStop, ...]


def route_sheet(session: Session, route: PlannedRoute, *, listing_url: Callable[[int], str]) -> RouteSheet:
    view = rules.route_view(session, route)
    plan = session.get_one(RoutePlan, route.plan_id)
    vehicle = session.get_one(Vehicle, route.vehicle_id)
    listing_ids = {entry.job.listing_id for _, entry, _ in view.stops if entry.job.listing_id is not None}
    listings = {listing.id: listing for listing in session.scalars(
        select(Listing).where(col(Listing.id).in_(sorted(listing_ids) or [0])))}
    stops = []
    for stop, entry, _ in view.stops:
        site = entry.pickup if stop.action == StopAction.PICKUP.value else entry.delivery
        window = next((w for w in site.windows if w.start <= stop.start_s <= w.end), site.window)
        listing = listings.get(entry.job.listing_id) if entry.job.listing_id is not None else None
        piece = Piece(listing_id=listing.id if listing else None, title=listing.title if listing else entry.job.goods,
                      quantity=entry.job.quantity, inventory_number=listing.inventory_number if listing else "",
                      url=listing_url(listing.id or 0) if listing else "")
        stops.append(SheetStop(
            position=stop.position, action=stop.action, arrival=seconds_clock(stop.arrival_s),
            start=seconds_clock(stop.start_s),
            window=f"{seconds_clock(window.start)}–{seconds_clock(window.end)}" if window else "",
            site_name=site.name, street_address=site.street_address, postal_code=site.postal_code,
            locality=site.locality, access_notes=site.access_notes, notes=entry.job.notes, piece=piece,
            status=stop.status, latitude=site.latitude, longitude=site.longitude))
    return RouteSheet(route_id=route.id or 0, vehicle=vehicle.name, registration=vehicle.registration or "",
                      day=plan.day, depot=session.get_one(Site, vehicle.depot_site_id),
                      departure=seconds_clock(route.departure_s), return_=seconds_clock(route.return_s),
                      distance_km=round(route.distance_m / 1000, 1), stops=tuple(stops))


# --- The map ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RouteMap:
    """The route projected onto a ``width`` × ``height`` box, y downwards (as SVG): the borders
    as closed rings, the route's places in driving order (the depot first and last), and the
    labels: each stop's number at its place ("D" the depot), those of places closer than
    ``NEAR`` together in one label ("D, 1, 6"), so none hides another."""

    width: float
    height: float
    borders: tuple[tuple[tuple[float, float], ...], ...]
    path: tuple[tuple[float, float], ...]
    marks: tuple[tuple[str, float, float], ...]  # label, x, y

    def label_width(self, label: str) -> float:
        return LABEL_CHAR * len(label) + 6

    def label_left(self, label: str, x: float) -> float:
        """Where a label's box starts: right of its place, or left of it at the map's right edge."""
        box = self.label_width(label)
        return x + 5 if x + 5 + box <= self.width else max(0.0, x - 5 - box)


@cache
def _border_rings() -> tuple[tuple[tuple[float, float], ...], ...]:
    data = json.loads(BORDERS.read_text(encoding="utf-8"))
    rings = []
    for feature in data["features"]:
        geometry = feature["geometry"]
        if feature["properties"].get("kind") != "municipality" or geometry["type"] != "MultiPolygon":
            continue
        for polygon in geometry["coordinates"]:
            rings.append(tuple((float(lon), float(lat)) for lon, lat in polygon[0]))
    return tuple(rings)


def route_map(sheet: RouteSheet, *, width: float = 360, height: float = 180, margin: float = 24) -> RouteMap:
    """The route fitted in the box, with the municipal borders around it cut at the box's edges
    (longitudes shrunk by the cosine of the latitude, so the shapes keep their proportions). A
    route within a few streets is shown as at least ``MIN_SPAN_DEGREES`` across."""
    places = [(sheet.depot.longitude, sheet.depot.latitude)] + [(s.longitude, s.latitude) for s in sheet.stops]
    west, east = min(p[0] for p in places), max(p[0] for p in places)
    south, north = min(p[1] for p in places), max(p[1] for p in places)
    shrink = math.cos(math.radians((south + north) / 2))
    span_x, span_y = max((east - west) * shrink, MIN_SPAN_DEGREES), max(north - south, MIN_SPAN_DEGREES)
    scale = min((width - 2 * margin) / span_x, (height - 2 * margin) / span_y)
    centre_x, centre_y = (west + east) / 2, (south + north) / 2

    def at(point: tuple[float, float]) -> tuple[float, float]:
        return (round(width / 2 + (point[0] - centre_x) * shrink * scale, 1),
                round(height / 2 + (centre_y - point[1]) * scale, 1))

    path = tuple(at(p) for p in [*places, places[0]])
    marks: list[tuple[list[str], float, float]] = []
    for label, (x, y) in zip(["D"] + [str(stop.position) for stop in sheet.stops], path, strict=False):
        near = next((mark for mark in marks if math.dist((mark[1], mark[2]), (x, y)) < NEAR), None)
        if near is None:
            marks.append(([label], x, y))
        else:
            near[0].append(label)
    borders = (clip(tuple(at(p) for p in ring), width, height) for ring in _border_rings())
    return RouteMap(width, height, tuple(ring for ring in borders if len(ring) >= 3), path,
                    tuple((", ".join(labels), x, y) for labels, x, y in marks))


def clip(ring: Sequence[tuple[float, float]], width: float, height: float) -> tuple[tuple[float, float], ...]:
    """The part of a polygon inside the box from (0, 0) to (width, height) (Sutherland and
    Hodgman: cut by each edge of the box in turn)."""
    points = list(ring)
    for axis, bound, low in ((0, 0.0, True), (0, width, False), (1, 0.0, True), (1, height, False)):
        def inside(point: tuple[float, float], axis: int = axis, bound: float = bound, low: bool = low) -> bool:
            return point[axis] >= bound if low else point[axis] <= bound

        def cross(a: tuple[float, float], b: tuple[float, float], axis: int = axis,
                  bound: float = bound) -> tuple[float, float]:
            t = (bound - a[axis]) / (b[axis] - a[axis])
            return (round(a[0] + t * (b[0] - a[0]), 1), round(a[1] + t * (b[1] - a[1]), 1))

        kept: list[tuple[float, float]] = []
        for index, current in enumerate(points):
            previous = points[index - 1]
            if inside(current):
                if not inside(previous):
                    kept.append(cross(previous, current))
                kept.append(current)
            elif inside(previous):
                kept.append(cross(previous, current))
        points = kept
    return tuple(points)


def qr_svg(url: str) -> str:
    """The QR code as an inline SVG element (segno's), the listing's address its content."""
    return str(segno.make(url, error="m", boost_error=True, micro=False).svg_inline(scale=2, omitsize=False))


def svg_points(points: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{x},{y}" for x, y in points)


# --- The PDF ---------------------------------------------------------------------------------------

class _QrCode(Flowable):
    def __init__(self, url: str, side: float) -> None:
        super().__init__()
        self.url, self.width, self.height = url, side, side

    def draw(self) -> None:
        draw_qr(self.canv, qr_matrix(self.url), 0, 0, self.width)


def _map_drawing(sheet: RouteSheet, *, width: float, height: float) -> Drawing:
    shown = route_map(sheet, width=width, height=height)
    drawing = Drawing(width, height)

    def flip(points: Sequence[tuple[float, float]]) -> list[float]:
        return [value for x, y in points for value in (x, height - y)]

    for ring in shown.borders:
        drawing.add(Polygon(flip(ring), strokeColor=colors.grey, fillColor=colors.HexColor("#eef2ee"),
                            strokeWidth=0.6))
    drawing.add(PolyLine(flip(shown.path), strokeColor=colors.HexColor("#1f4e8c"), strokeWidth=1.4))
    for x, y in shown.path:
        drawing.add(Circle(x, height - y, 2.5, fillColor=colors.black, strokeColor=None))
    for label, x, y in shown.marks:  # a box beside the place, as in the page's SVG
        box, left = shown.label_width(label), shown.label_left(label, x)
        frame = Rect(left, height - y - 7, box, 14)
        frame.fillColor, frame.strokeColor, frame.strokeWidth = colors.white, colors.black, 0.6
        drawing.add(frame)
        drawing.add(String(left + box / 2, height - y - 3, label, fontName="Helvetica-Bold", fontSize=9,
                           textAnchor="middle"))
    return drawing


def render_pdf(sheet: RouteSheet, *, texts: dict[str, str]) -> bytes:
    """The sheet as PDF bytes; ``texts`` holds its headings and labels, translated, and its distance
    as the reader writes numbers (without it, as Python does)."""
    styles = getSampleStyleSheet()
    out = io.BytesIO()
    title = printable(texts["title"])
    document = SimpleDocTemplate(out, pagesize=A4, title=title, author=texts["service"], leftMargin=15 * mm,
                                 rightMargin=15 * mm, topMargin=15 * mm, bottomMargin=15 * mm)

    def text(value: str, style: str = "BodyText") -> Paragraph:
        return Paragraph(escape(printable(value)), styles[style])

    depot = sheet.depot
    story: list[Flowable] = [
        text(texts["title"], "Title"),
        text(f"{texts['depot']}: {depot.name}, {depot.street_address}, {depot.postal_code} {depot.locality}"),
        text(f"{texts['departure']}: {sheet.departure}    {texts['return']}: {sheet.return_}    "
             f"{texts.get('distance', f'{sheet.distance_km:.1f}')} km"),
        Spacer(1, 4 * mm), _map_drawing(sheet, width=180 * mm, height=78 * mm), Spacer(1, 4 * mm),
    ]
    rows: list[list[Any]] = [[text(texts[h], "Heading5") for h in ("number", "time", "where", "what", "qr")]]
    for stop in sheet.stops:
        where = [text(stop.site_name, "Heading6"), text(f"{stop.street_address}, {stop.postal_code} {stop.locality}")]
        if stop.access_notes:
            where.append(text(f"{texts['access']}: {stop.access_notes}"))
        if stop.notes:
            where.append(text(f"{texts['notes']}: {stop.notes}"))
        piece = stop.piece
        what = [text(f"{texts['pickup'] if stop.pickup else texts['delivery']}: {piece.title}", "Heading6"),
                text(f"{texts['quantity']}: {piece.quantity}")]
        if piece.inventory_number:
            what.append(text(f"{texts['inventory_number']}: {piece.inventory_number}"))
        when = [text(stop.start, "Heading6"), text(f"{texts['arrival']} {stop.arrival}")]
        if stop.window:
            when.append(text(f"{texts['window']} {stop.window}"))
        rows.append([text(str(stop.position)), when, where, what, _QrCode(piece.url, 22 * mm) if piece.url else ""])
    table = Table(rows, colWidths=[10 * mm, 28 * mm, 60 * mm, 58 * mm, 24 * mm], repeatRows=1)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [table, Spacer(1, 6 * mm), text(texts["footer"])]
    document.build(story)
    return out.getvalue()
