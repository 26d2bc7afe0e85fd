"""Vehicles: who may see and change them, their figures checked, and what the planner needs of one.

A municipality's transport coordinators and administrators keep its vehicles. A coordinator
plans with their own municipality's vehicles, with those of every municipality that plans
jointly with theirs (``coordination.rules``), and with every vehicle a partner marks as shared.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields
from datetime import datetime, time
from typing import Any

from sqlalchemy import and_, or_, select
from sqlmodel import Session, col

from sharing.accounts.models import Actor, Role, Site
from sharing.errors import DomainError, NotAllowed, NotVisible
from sharing.events import record
from sharing.i18n import N_
from sharing.logistics import events
from sharing.logistics.coordination import rules as coordination
from sharing.logistics.planning import problem
from sharing.logistics.vehicles.factors import default_factor
from sharing.logistics.vehicles.models import FuelKind, Vehicle
from sharing.typed import id_of

NAME_MAX, SOURCE_MAX = 100, 500
MAX_VOLUME_M3 = 100.0  # the largest lorry's load space is well under
MAX_PAYLOAD_KG = 40_000
MAX_COST_PER_KM = 1000.0
MAX_CO2E_KG_PER_KM = 5.0
# A Swedish registration number: three letters, two digits and a digit or a letter ("ABC 123", "ABC 12D").
REGISTRATION = re.compile(r"([A-Z]{3})\s*(\d{2}[A-Z0-9])")


@dataclass
class VehicleDetails:
    """What a coordinator or administrator enters (types and lengths checked by the form or the API)."""

    name: str
    volume_m3: float
    payload_kg: int
    depot_site_id: int
    shift_start: time
    shift_end: time
    cost_per_km: float
    fuel: FuelKind
    registration: str = ""
    shared: bool = False
    # None: the published figure for the fuel (``factors``), with its source.
    co2e_kg_per_km: float | None = None
    co2e_source: str = ""
    active: bool = True


# --- Who may see and do what ---------------------------------------------------------------

def can_manage(user: Actor) -> bool:
    """Transport coordinators and municipality administrators keep their municipality's vehicles."""
    return user.has_role(Role.TRANSPORT_COORDINATOR, Role.MUNICIPALITY_ADMIN)


def can_edit(user: Actor, vehicle: Vehicle) -> bool:
    return can_manage(user) and vehicle.municipality_id == user.municipality_id


def can_see(session: Session, user: Actor, vehicle: Vehicle) -> bool:
    """Its own municipality's keepers; while it is in use, the coordinators it is planned by (its
    municipality plans jointly with theirs, or it is shared)."""
    if can_edit(user, vehicle):
        return True
    if not coordination.is_coordinator(user) or not vehicle.active:
        return False
    return vehicle.shared or vehicle.municipality_id in coordination.scope_of(session, user)


def vehicle_to_see(session: Session, user: Actor, vehicle_id: int) -> Vehicle:
    vehicle = session.get(Vehicle, vehicle_id)
    if vehicle is None or not can_see(session, user, vehicle):
        raise NotVisible(f"vehicle {vehicle_id}")
    return vehicle


def vehicle_to_edit(session: Session, user: Actor, vehicle_id: int) -> Vehicle:
    """A vehicle of the user's own municipality, for its coordinators and administrators.

    :raise NotVisible: no such vehicle the user may see; :raise NotAllowed: another's."""
    vehicle = vehicle_to_see(session, user, vehicle_id)
    if not can_edit(user, vehicle):
        raise NotAllowed(f"vehicle {vehicle_id}")
    return vehicle


def vehicles_for(session: Session, user: Actor, *, active_only: bool = False) -> list[Vehicle]:
    """The vehicles the user sees, their own municipality's first, then by municipality and name:
    all of their own (inactive ones too, unless ``active_only``), and for a coordinator the
    active ones of the municipalities they plan for and those shared."""
    own = col(Vehicle.municipality_id) == user.municipality_id
    if coordination.is_coordinator(user):
        planned_for = col(Vehicle.municipality_id).in_(sorted(coordination.scope_of(session, user)))
        seen = or_(own, and_(or_(planned_for, col(Vehicle.shared)), col(Vehicle.active)))
    else:
        seen = own
    query = select(Vehicle).where(seen)
    if active_only:
        query = query.where(col(Vehicle.active))
    found = list(session.scalars(query.order_by(col(Vehicle.municipality_id), col(Vehicle.name))))
    return sorted(found, key=lambda v: v.municipality_id != user.municipality_id)


# --- Keeping them --------------------------------------------------------------------------

def normalise_registration(text: str) -> str | None:
    """"abc123" -> "ABC 123"; empty: none."""
    text = text.strip().upper()
    if not text:
        return None
    match = REGISTRATION.fullmatch(text)
    if match is None:
        raise DomainError(N_("Write the registration number as three letters and three characters, for example "
                             "ABC 123."), field="registration")
    return f"{match[1]} {match[2]}"


def _check(session: Session, details: VehicleDetails, *, municipality_id: int, vehicle: Vehicle | None) -> None:
    name = details.name.strip()
    if not name:
        raise DomainError(N_("Give the vehicle a name."), field="name")
    if len(name) > NAME_MAX:
        raise DomainError(N_("Keep the name under %(n)d characters."), field="name", n=NAME_MAX)
    clash = session.scalar(select(Vehicle).where(col(Vehicle.municipality_id) == municipality_id,
                                                 col(Vehicle.name) == name))
    if clash is not None and clash is not vehicle:
        raise DomainError(N_("Your municipality already has a vehicle named %(name)s."), field="name", name=name)
    if not (isinstance(details.volume_m3, (int, float)) and math.isfinite(details.volume_m3)
            and 0 < details.volume_m3 <= MAX_VOLUME_M3):
        raise DomainError(N_("Give the load volume in m³, more than 0 and at most %(max)s."), field="volume_m3",
                          max=int(MAX_VOLUME_M3))
    if not 0 < details.payload_kg <= MAX_PAYLOAD_KG:
        raise DomainError(N_("Give the payload in kg, more than 0 and at most %(max)s."), field="payload_kg",
                          max=MAX_PAYLOAD_KG)
    depot = session.get(Site, details.depot_site_id)
    if depot is None or depot.municipality_id != municipality_id or not depot.active:
        raise DomainError(N_("Choose one of your municipality's sites as the depot."), field="depot_site_id")
    if details.shift_end <= details.shift_start:
        raise DomainError(N_("The shift must end after it starts."), field="shift_end")
    if not (math.isfinite(details.cost_per_km) and 0 <= details.cost_per_km <= MAX_COST_PER_KM):
        raise DomainError(N_("Give the cost per km in kronor, from 0 to %(max)s."), field="cost_per_km",
                          max=int(MAX_COST_PER_KM))


def _factor(details: VehicleDetails, vehicle: Vehicle | None) -> tuple[float, str]:
    """The vehicle's CO2e per km and its source: as given, else the published figure for its fuel.
    A vehicle whose fuel changes while it keeps the old fuel's published figure gets the new one's."""
    given, source = details.co2e_kg_per_km, details.co2e_source.strip()
    if vehicle is not None and given is not None and vehicle.fuel != details.fuel.value:
        before = default_factor(FuelKind(vehicle.fuel))
        if before is not None and (given, source) == (before.kg_per_km, before.source):
            given, source = None, ""
    if given is None:
        published = default_factor(details.fuel)
        if published is None:
            raise DomainError(N_("No figure per km is published for vans on this fuel: give your vehicle's own, "
                                 "and its source."), field="co2e_kg_per_km")
        return published.kg_per_km, published.source
    if not (math.isfinite(given) and 0 <= given <= MAX_CO2E_KG_PER_KM):
        raise DomainError(N_("Give the CO2e in kg per km, from 0 to %(max)s."), field="co2e_kg_per_km",
                          max=int(MAX_CO2E_KG_PER_KM))
    if not source:
        raise DomainError(N_("Say where the CO2e figure comes from."), field="co2e_source")
    if len(source) > SOURCE_MAX:
        raise DomainError(N_("Keep the source under %(n)d characters."), field="co2e_source", n=SOURCE_MAX)
    return given, source


def save_vehicle(session: Session, *, details: VehicleDetails, by: Actor, now: datetime,
                 vehicle: Vehicle | None = None) -> Vehicle:
    """Add a vehicle to the user's municipality, or change one of its own; nothing changes unless
    all of it is valid."""
    if not can_manage(by) or (vehicle is not None and not can_edit(by, vehicle)):
        raise NotAllowed("vehicles")
    municipality_id = by.municipality_id
    _check(session, details, municipality_id=municipality_id, vehicle=vehicle)
    registration = normalise_registration(details.registration)
    if registration is not None:
        clash = session.scalar(select(Vehicle).where(col(Vehicle.registration) == registration))
        if clash is not None and clash is not vehicle:
            raise DomainError(N_("A vehicle with registration number %(registration)s is already in the service."),
                              field="registration", registration=registration)
    co2e, source = _factor(details, vehicle)
    values: dict[str, Any] = {
        "name": details.name.strip(), "registration": registration, "shared": details.shared,
        "volume_m3": float(details.volume_m3), "payload_kg": int(details.payload_kg),
        "depot_site_id": details.depot_site_id, "shift_start": details.shift_start, "shift_end": details.shift_end,
        "cost_per_km": float(details.cost_per_km), "fuel": details.fuel.value, "co2e_kg_per_km": co2e,
        "co2e_source": source, "active": details.active}
    created = vehicle is None
    before = {} if vehicle is None else {name: getattr(vehicle, name) for name in values}
    if vehicle is None:
        vehicle = Vehicle(municipality_id=municipality_id, created_at=now, **values)
    else:
        for name, value in values.items():
            setattr(vehicle, name, value)
    vehicle.updated_at = now
    session.add(vehicle)
    session.flush()
    changes = {name: [_plain(before[name]), _plain(value)] for name, value in values.items()
               if not created and before[name] != value}
    if created or changes:
        record(session, events.VEHICLE_SAVED, subject_type=events.VEHICLE_SUBJECT, subject_id=id_of(vehicle),
               now=now, actor_id=by.id, municipality_id=municipality_id,
               payload={"name": vehicle.name, "created": created, "changes": changes})
    return vehicle


def _plain(value: object) -> object:
    return value.isoformat(timespec="minutes") if isinstance(value, time) else value


def set_active(session: Session, vehicle: Vehicle, *, active: bool, by: Actor, now: datetime) -> bool:
    """Take a vehicle out of planning (it is kept, and can come back), or back in; False if it
    already was so."""
    if not can_edit(by, vehicle):
        raise NotAllowed(f"vehicle {vehicle.id}")
    if vehicle.active == active:
        return False
    vehicle.active, vehicle.updated_at = active, now
    session.add(vehicle)
    session.flush()
    record(session, events.VEHICLE_REACTIVATED if active else events.VEHICLE_DEACTIVATED,
           subject_type=events.VEHICLE_SUBJECT, subject_id=id_of(vehicle), now=now, actor_id=by.id,
           municipality_id=vehicle.municipality_id, payload={"name": vehicle.name})
    return True


def details_of(vehicle: Vehicle) -> VehicleDetails:
    """A vehicle's details as entered (a form's or an API body's starting point)."""
    values = {f.name: getattr(vehicle, f.name) for f in fields(VehicleDetails)}
    values["fuel"] = FuelKind(vehicle.fuel)
    values["registration"] = vehicle.registration or ""
    return VehicleDetails(**values)


# --- What the planner needs ----------------------------------------------------------------

def seconds(moment: time) -> int:
    """A time of day as seconds from midnight (the planner's clock)."""
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def capacity(vehicle: Vehicle) -> tuple[int, int]:
    """What it carries in the planner's units: whole litres (rounded down, so that a load that
    fits the litres fits the vehicle) and kilograms."""
    return math.floor(round(vehicle.volume_m3 * 1000, 6)), vehicle.payload_kg


def planning_vehicle(vehicle: Vehicle, *, depot: int) -> problem.Vehicle:
    """The vehicle as the planner takes it; ``depot`` is its depot's place in the matrices."""
    return problem.Vehicle(key=str(id_of(vehicle)), depot=depot, capacity=capacity(vehicle),
                           shift=problem.Window(seconds(vehicle.shift_start), seconds(vehicle.shift_end)),
                           cost_per_km=vehicle.cost_per_km)
