"""What people read of logistics' codes, and how its events read in the audit trail, in the
reader's language."""

from __future__ import annotations

from flask import url_for
from flask_babel import format_decimal, lazy_pgettext, pgettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlmodel import Session, col

from sharing.accounts.models import Actor
from sharing.accounts.personal_data.rules import Section, labelled
from sharing.events import DomainEvent, describe, describe_subject
from sharing.logistics import events
from sharing.logistics.jobs.models import JobKind, JobStatus, LoadSource
from sharing.logistics.planning.problem import StopAction, UnservedReason
from sharing.logistics.plans import driving
from sharing.logistics.plans.models import FailureReason, PlanStatus, StopStatus
from sharing.logistics.vehicles import rules as vehicles
from sharing.logistics.vehicles.models import FuelKind, Vehicle
from sharing.typed import id_of

UNSERVED_LABELS = {
    UnservedReason.TOO_BIG: _l("Too big for every vehicle"),
    UnservedReason.WINDOW_UNREACHABLE: _l("No vehicle reaches it within the opening hours"),
    UnservedReason.NO_CAPACITY_LEFT: _l("No room left on the vehicles this day"),
    "closed": _l("A site is closed that day"),
    "other_plan": _l("Already planned by another municipality"),
}
FAILURE_LABELS = {
    FailureReason.NOBODY_THERE: _l("Nobody there"),
    FailureReason.CLOSED: lazy_pgettext("stop failure", "Closed"),  # the site was closed: not a status
    FailureReason.WRONG_ADDRESS: _l("Wrong address"),
    FailureReason.DAMAGED: _l("Damaged, or not as described"),
    FailureReason.PARTLY_THERE: _l("Only some of the pieces there"),
    FailureReason.OTHER: _l("Other"),
}
# The same, as msgids and their contexts: a notice keeps a reason so (``notifications.term``). Said
# twice, as the extractor reads only literal calls.
FAILURE_TERMS: dict[FailureReason, tuple[str, str | None]] = {
    FailureReason.NOBODY_THERE: ("Nobody there", None),
    FailureReason.CLOSED: ("Closed", "stop failure"),
    FailureReason.WRONG_ADDRESS: ("Wrong address", None),
    FailureReason.DAMAGED: ("Damaged, or not as described", None),
    FailureReason.PARTLY_THERE: ("Only some of the pieces there", None),
    FailureReason.OTHER: ("Other", None),
}
# A stop as the driver's route says it.
STOP_ACTION_LABELS = {StopAction.PICKUP: _l("Pick up"), StopAction.DELIVERY: _l("Deliver")}
STOP_STATUS_LABELS = {StopStatus.DONE: _l("Done"), StopStatus.FAILED: _l("Failed")}
PLAN_STATUS_LABELS = {
    PlanStatus.QUEUED: _l("Waiting to be planned"),
    PlanStatus.RUNNING: _l("Planning"),
    PlanStatus.DONE: _l("Planned"),
    PlanStatus.FAILED: _l("Failed"),
    PlanStatus.REPLACED: _l("Replaced by a later plan"),
}
JOB_KIND_LABELS = {
    JobKind.DELIVERY: _l("Delivery"),
    JobKind.RETURN: _l("Return of a loan"),
    JobKind.EXCHANGE: _l("Swap: the pieces offered"),
    JobKind.MANUAL: _l("Added by hand"),
}
JOB_STATUS_LABELS = {
    JobStatus.OPEN: _l("To be planned"),
    JobStatus.PLANNED: _l("Planned"),
    JobStatus.DONE: _l("Carried out"),
    JobStatus.FAILED: _l("Failed"),
    JobStatus.CANCELLED: _l("Called off"),
}
LOAD_SOURCE_LABELS = {
    LoadSource.LISTING: _l("from the listing"),
    LoadSource.CATEGORY: _l("estimated from the category"),
    LoadSource.UNKNOWN: _l("unknown: the listing and its category give no figure"),
    LoadSource.ENTERED: _l("as entered"),
}
FUEL_LABELS = {
    FuelKind.DIESEL: _l("Diesel"),
    FuelKind.HVO100: _l("HVO100"),
    FuelKind.PETROL: _l("Petrol"),
    FuelKind.ELECTRICITY: _l("Electricity"),
    FuelKind.PLUG_IN_HYBRID: _l("Plug-in hybrid"),
    FuelKind.BIOGAS: _l("Biogas"),
    FuelKind.NATURAL_GAS: _l("Natural gas (CNG)"),
}


# A vehicle's fields as its form names them, for what a saved vehicle's event says was changed.
VEHICLE_FIELD_LABELS = {
    "name": _l("Name"), "registration": _l("Registration number"),
    "shared": _l("Shared with the partner municipalities"), "volume_m3": _l("Load volume (m³)"),
    "payload_kg": _l("Payload (kg)"), "depot_site_id": _l("Depot"),
    "shift_start": _l("Shift starts"), "shift_end": _l("Shift ends"), "cost_per_km": _l("Cost per km (kr)"),
    "fuel": _l("Runs on"), "co2e_kg_per_km": _l("CO2e per km (kg)"), "co2e_source": _l("Source of the CO2e figure"),
    "active": _l("In use"),
}


def seconds_clock(seconds: int) -> str:
    """Seconds from midnight as a time of day: 27000 -> 07:30."""
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


GROUP = _l("Logistics")
EVENT_LABELS = {
    events.JOB_CREATED: _l("A transport job was made"),
    events.JOB_CHANGED: _l("A transport job was changed"),
    events.JOB_PLANNED: _l("A transport job was planned"),
    events.JOB_REOPENED: _l("A transport job was opened to plan again"),
    events.JOB_DONE: _l("A transport job was done"),
    events.JOB_FAILED: _l("A transport job failed"),
    events.JOB_CANCELLED: _l("A transport job was cancelled"),
    events.VEHICLE_SAVED: _l("A vehicle was saved"),
    events.VEHICLE_DEACTIVATED: _l("A vehicle was taken out of use"),
    events.VEHICLE_REACTIVATED: _l("A vehicle was taken into use again"),
    events.JOINT_PLANNING_JOINED: _l("The municipality joined the joint transport planning"),
    events.JOINT_PLANNING_LEFT: _l("The municipality left the joint transport planning"),
    driving.ROUTE_COMPLETED: _l("A route was driven to its end"),
}


def _number(value: object) -> str:
    """A figure of a payload as the pages write it (1 200), or a dash where there is none."""
    return format_decimal(value) if isinstance(value, (int, float)) else "–"


def _job(session: Session, event: DomainEvent) -> list[tuple[str, str]]:
    payload = event.payload
    kinds: dict[str, object] = {kind.value: label for kind, label in JOB_KIND_LABELS.items()}
    statuses: dict[str, object] = {status.value: label for status, label in JOB_STATUS_LABELS.items()}
    shown = [(_("Kind"), str(kinds.get(str(payload.get("kind")), payload.get("kind")))),
             (_("Day"), str(payload.get("day", ""))),
             (_("Load"), _("%(litres)s litres, %(kg)s kg", litres=_number(payload.get("volume_l")),
                           kg=_number(payload.get("weight_kg"))))]
    if payload.get("request_id"):
        shown.append((_("Request"), _("request %(id)s", id=payload["request_id"])))
    if payload.get("from") in statuses:
        shown.append((_("Status"), f"{statuses[payload['from']]} → {statuses.get(str(payload.get('status')), '')}"))
    day = payload.get("changes", {}).get("day")
    if day:
        shown.append((_("Day"), f"{day[0]} → {day[1]}"))
    if payload.get("changed_after_planning"):
        shown.append((_("Planned"), _("Changed after it was planned: its coordinators were told")))
    return shown


def _vehicle(session: Session, event: DomainEvent) -> list[tuple[str, str]]:
    shown = [(_("Vehicle"), str(event.payload.get("name", "")))]
    changes = event.payload.get("changes") or {}
    if changes:
        named = ", ".join(str(VEHICLE_FIELD_LABELS.get(name, name)) for name in changes)
        shown.append((pgettext("what", "Changed"), named))
    return shown


def _route(session: Session, event: DomainEvent) -> list[tuple[str, str]]:
    payload = event.payload
    shown = [(_("Day"), str(payload.get("day", "")))]
    if isinstance(payload.get("km"), (int, float)):
        shown.append((_("Distance driven"), _("%(km)s km", km=format_decimal(payload["km"]))))
    if isinstance(payload.get("co2e_kg"), (int, float)):
        shown.append((_("Emissions"), _("%(kg)s kg CO2e", kg=format_decimal(payload["co2e_kg"]))))
    return shown


def _opens_vehicles(session: Session, reader: Actor, ids: set[int]) -> set[int]:
    # A vehicle's page is where it is changed.
    return {id_of(vehicle) for vehicle in session.scalars(select(Vehicle).where(col(Vehicle.id).in_(ids)))
            if vehicles.can_edit(reader, vehicle)}


def describe_events() -> None:
    for name, label in EVENT_LABELS.items():
        details = _job if name.startswith(events.JOB_SUBJECT) else _vehicle if name.startswith(
            events.VEHICLE_SUBJECT) else _route if name == driving.ROUTE_COMPLETED else None
        describe(name, label, group=GROUP, details=details)
    describe_subject(events.JOB_SUBJECT, _l("Transport job"))
    describe_subject(events.VEHICLE_SUBJECT, _l("Vehicle"), link=lambda id_: url_for("vehicles.edit", vehicle_id=id_),
                     opens=_opens_vehicles)
    describe_subject(events.JOINT_PLANNING_SUBJECT, _l("Joint transport planning"))
    describe_subject(driving.ROUTE_SUBJECT, _l("Route"))


PERSONAL_DATA = {
    "transport_jobs": Section(_l("Transport jobs you added"), {
        "id": _l("Number"), "kind": _l("Kind"), "status": _l("Status"), "goods": _l("What is carried"),
        "quantity": _l("Pieces"), "day": _l("Day"), "notes": _l("Notes for the driver"), "created_at": _l("Created")},
        {"kind": labelled("kind", JOB_KIND_LABELS), "status": labelled("status", JOB_STATUS_LABELS)}),
    "route_stops": Section(_l("Stops you reported as a driver"), {
        "job_id": _l("Transport job"), "goods": _l("What is carried"), "action": _l("Stop"), "status": _l("Status"),
        "failure_reason": _l("Why it was not done"), "failure_note": _l("Note"), "done_at": _l("Reported")},
        {"action": labelled("action", STOP_ACTION_LABELS), "status": labelled("status", STOP_STATUS_LABELS),
         "failure_reason": labelled("failure_reason", FAILURE_LABELS)}),
}
