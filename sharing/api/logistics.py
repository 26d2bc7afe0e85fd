"""API of logistics, under the same rules as the pages: transport jobs for the coordinators who
plan them (the list, one job, a job added by hand, cancelling it), and vehicles for coordinators
and municipality administrators (the list, one, adding one, replacing one of their own).

A job carries what a planner needs: its load in whole litres and kilograms, and each end's
opening windows on the job's day, in seconds from that day's midnight (none: closed that day)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any

from flask import Response, request
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from sharing.access import allow
from sharing.accounts.models import Role
from sharing.api import blueprint
from sharing.api.common import (
    DATE_PATTERN,
    ProblemError,
    date_arg,
    int_arg,
    one,
    page_args,
    page_response,
    parse_body,
    refused,
)
from sharing.api.openapi import ID_SCHEMA, documented
from sharing.catalog.listings.models import MAX_QUANTITY
from sharing.clock import today_in_sweden, utcnow
from sharing.db import RecordId, db_session
from sharing.errors import DomainError
from sharing.logistics.jobs import rules as jobs
from sharing.logistics.jobs.models import JobKind, JobStatus, LoadSource
from sharing.logistics.vehicles import rules as vehicles
from sharing.logistics.vehicles.models import FuelKind, Vehicle
from sharing.web.errors import problem

# A time of day on the clock, local (Swedish) time: 07:30. (OpenAPI's "time" format is RFC 3339's,
# which carries a zone: a shift is no instant.)
ClockTime = Annotated[time, PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str), WithJsonSchema(
    {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$", "description": "Local (Swedish) time, HH:MM"})]
COORDINATOR = Role.TRANSPORT_COORDINATOR
VEHICLE_KEEPERS = (Role.TRANSPORT_COORDINATOR, Role.MUNICIPALITY_ADMIN)
CONFLICT = {409: "The job's status does not allow it, or it is a request's (which ends with its request)"}


class WindowOut(BaseModel):
    start_s: int = Field(description="Seconds from the day's midnight (local time), inclusive")
    end_s: int = Field(description="Seconds from the day's midnight (local time), inclusive")


class StopOut(BaseModel):
    site_id: int
    municipality_id: int
    name: str
    street_address: str
    postal_code: str
    locality: str
    latitude: float
    longitude: float
    access_notes: str
    windows: list[WindowOut] = Field(description="The site's opening intervals on the job's day; none: closed")
    closed: bool = Field(description="The site is closed on the job's day: the job cannot be served then")


class TransportJobOut(BaseModel):
    id: int
    kind: JobKind
    status: JobStatus
    request_id: int | None = Field(description="The request it serves; none for a job added by hand")
    listing_id: int | None
    quantity: int
    goods: str = Field(description="What is carried: the listing's title, or the coordinator's words")
    volume_l: int = Field(description="Litres, rounded up")
    weight_kg: int = Field(description="Kilograms, rounded up")
    load_source: LoadSource
    day: date
    pickup: StopOut
    delivery: StopOut
    notes: str
    changed_after_planning: bool = Field(description="It changed (cancelled, moved, no longer needed) while planned")
    created_at: datetime
    updated_at: datetime


def _stop(stop: jobs.Stop) -> StopOut:
    return StopOut(site_id=stop.site_id, municipality_id=stop.municipality_id, name=stop.name,
                   street_address=stop.street_address, postal_code=stop.postal_code, locality=stop.locality,
                   latitude=stop.latitude, longitude=stop.longitude, access_notes=stop.access_notes,
                   windows=[WindowOut(start_s=w.start, end_s=w.end) for w in stop.windows], closed=stop.closed)


def _job(entry: jobs.ScheduledJob) -> TransportJobOut:
    job = entry.job
    return TransportJobOut(
        id=job.id or 0, kind=JobKind(job.kind), status=JobStatus(job.status), request_id=job.request_id,
        listing_id=job.listing_id, quantity=job.quantity, goods=job.goods, volume_l=job.volume_l,
        weight_kg=job.weight_kg, load_source=LoadSource(job.load_source), day=job.day, pickup=_stop(entry.pickup),
        delivery=_stop(entry.delivery), notes=job.notes, changed_after_planning=job.changed_after_planning,
        created_at=job.created_at, updated_at=job.updated_at)


class ManualJobIn(BaseModel):
    """A transport job added by hand, between any two sites of the partners, one of them in a
    municipality you plan for."""

    model_config = ConfigDict(extra="forbid")

    pickup_site_id: RecordId
    delivery_site_id: RecordId
    day: date = Field(description="Not past (in Sweden), at most about two years ahead",
                      json_schema_extra={"format": "date", "pattern": DATE_PATTERN})
    goods: str = Field(min_length=1, max_length=jobs.GOODS_MAX)
    quantity: int = Field(default=1, ge=1, le=MAX_QUANTITY)
    volume_m3: float = Field(gt=0, le=jobs.MAX_VOLUME_M3, description="All of it together; stored as litres")
    weight_kg: float = Field(gt=0, le=jobs.MAX_WEIGHT_KG, description="All of it together")
    notes: str = Field(default="", max_length=jobs.NOTES_MAX, description="For the driver; no personal data "
                                                                           "beyond whom to ask for")


JOB_PARAMETERS: dict[str, dict[str, Any]] = {
    "day": {"type": "string", "format": "date", "pattern": DATE_PATTERN,
            "description": "One day; without it, every day from today on"},
    "state": {"type": "string", "enum": list(jobs.STATES), "default": "active",
              "description": "active: open or planned; or one status; or all"},
    "municipality_id": {**ID_SCHEMA, "description": "One of the municipalities you plan for"},
}



@blueprint.get("/transport-jobs")
@allow(COORDINATOR)
@documented("The transport jobs you plan for (transport coordinators), by day", tag="logistics",
            response=TransportJobOut, paginated=True, query=JOB_PARAMETERS)
def find_transport_jobs() -> Response:
    page, per_page = page_args()
    state = request.args.get("state", "active")
    if state not in jobs.STATES:
        raise ProblemError(problem(400, f"'state' must be one of: {', '.join(jobs.STATES)}."))
    day = date_arg("day")
    found = jobs.find_jobs(db_session, by=current_user, filters=jobs.JobFilters(
        day=day, from_day=None if day else today_in_sweden(utcnow()), state=state,
        municipality_id=int_arg("municipality_id"), page=page, per_page=per_page))
    return page_response([_job(entry) for entry in found.items], total=found.total, page=page, per_page=per_page,
                         schema=TransportJobOut)


@blueprint.get("/transport-jobs/<int:job_id>")
@allow(COORDINATOR)
@documented("One transport job (the coordinators who plan for either end)", tag="logistics",
            response=TransportJobOut)
def get_transport_job(job_id: int) -> Response:
    [entry] = jobs.scheduled(db_session, [jobs.job_to_see(db_session, current_user, job_id)])
    return one(_job(entry), TransportJobOut)


@blueprint.post("/transport-jobs")
@allow(COORDINATOR)
@documented("Add a transport job by hand (transport coordinators)", tag="logistics", response=TransportJobOut,
            body=ManualJobIn, status=201)
def create_transport_job() -> Response:
    body = parse_body(ManualJobIn)
    try:
        job = jobs.add_manual_job(db_session, details=jobs.ManualJobDetails(**body.model_dump()), by=current_user,
                                  now=utcnow())
    except DomainError as error:
        db_session.rollback()
        raise refused(error) from None
    db_session.commit()
    [entry] = jobs.scheduled(db_session, [job])
    return one(_job(entry), TransportJobOut, status=201)


@blueprint.post("/transport-jobs/<int:job_id>/cancel")
@allow(COORDINATOR)
@documented("Cancel a transport job added by hand; a request's jobs end with the request", tag="logistics",
            response=TransportJobOut, responses=CONFLICT)
def cancel_transport_job(job_id: int) -> Response:
    job = jobs.job_to_see(db_session, current_user, job_id)
    try:
        jobs.cancel_job(db_session, job, by=current_user, now=utcnow())
    except DomainError as error:
        db_session.rollback()
        raise refused(error) from None
    db_session.commit()
    [entry] = jobs.scheduled(db_session, [job])
    return one(_job(entry), TransportJobOut)


# --- Vehicles -----------------------------------------------------------------------------------

class VehicleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    municipality_id: int
    name: str
    registration: str | None
    shared: bool = Field(description="The coordinators of every partner municipality may plan with it")
    volume_m3: float
    payload_kg: int
    depot_site_id: int
    shift_start: ClockTime
    shift_end: ClockTime
    cost_per_km: float = Field(description="Kronor")
    fuel: FuelKind
    co2e_kg_per_km: float
    co2e_source: str
    active: bool
    created_at: datetime
    updated_at: datetime


class VehicleIn(BaseModel):
    """A vehicle of your municipality. Without ``co2e_kg_per_km`` it gets the figure published for
    an average van on its fuel, with that figure's source (none is published for HVO100 or
    biogas: give the vehicle's own, with ``co2e_source``)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=vehicles.NAME_MAX)
    registration: str = Field(default="", max_length=10, description="A Swedish registration number, or empty")
    shared: bool = False
    volume_m3: float = Field(gt=0, le=vehicles.MAX_VOLUME_M3)
    payload_kg: int = Field(ge=1, le=vehicles.MAX_PAYLOAD_KG)
    depot_site_id: RecordId = Field(description="One of your municipality's sites")
    shift_start: ClockTime
    shift_end: ClockTime
    cost_per_km: float = Field(ge=0, le=vehicles.MAX_COST_PER_KM)
    fuel: FuelKind
    co2e_kg_per_km: float | None = Field(default=None, ge=0, le=vehicles.MAX_CO2E_KG_PER_KM)
    co2e_source: str = Field(default="", max_length=vehicles.SOURCE_MAX)
    active: bool = True


def _details(body: VehicleIn) -> vehicles.VehicleDetails:
    values = body.model_dump()
    values["shift_start"], values["shift_end"] = body.shift_start.replace(tzinfo=None), body.shift_end.replace(
        tzinfo=None)
    return vehicles.VehicleDetails(**values)


def _saved(vehicle: Vehicle | None, body: VehicleIn, status: int) -> Response:
    try:
        saved = vehicles.save_vehicle(db_session, details=_details(body), by=current_user, now=utcnow(),
                                      vehicle=vehicle)
    except DomainError as error:
        db_session.rollback()
        raise refused(error) from None
    db_session.commit()
    return one(saved, VehicleOut, status=status)


@blueprint.get("/vehicles")
@allow(*VEHICLE_KEEPERS)
@documented("The vehicles you see: your municipality's, and for coordinators the active ones they may plan "
            "with (of the municipalities planning jointly with theirs, and those shared)", tag="logistics",
            response=VehicleOut, paginated=True)
def find_vehicles() -> Response:
    page, per_page = page_args()
    found = vehicles.vehicles_for(db_session, current_user)
    return page_response(found[(page - 1) * per_page:page * per_page], total=len(found), page=page,
                         per_page=per_page, schema=VehicleOut)


@blueprint.get("/vehicles/<int:vehicle_id>")
@allow(*VEHICLE_KEEPERS)
@documented("One vehicle", tag="logistics", response=VehicleOut)
def get_vehicle(vehicle_id: int) -> Response:
    return one(vehicles.vehicle_to_see(db_session, current_user, vehicle_id), VehicleOut)


@blueprint.post("/vehicles")
@allow(*VEHICLE_KEEPERS)
@documented("Add a vehicle to your municipality", tag="logistics", response=VehicleOut, body=VehicleIn, status=201)
def create_vehicle() -> Response:
    return _saved(None, parse_body(VehicleIn), 201)


@blueprint.put("/vehicles/<int:vehicle_id>")
@allow(*VEHICLE_KEEPERS)
@documented("Replace one of your municipality's vehicles (``active`` false takes it out of use)", tag="logistics",
            response=VehicleOut, body=VehicleIn)
def replace_vehicle(vehicle_id: int) -> Response:
    vehicle = vehicles.vehicle_to_edit(db_session, current_user, vehicle_id)
    body = parse_body(VehicleIn)
    return _saved(vehicle, body, 200)
