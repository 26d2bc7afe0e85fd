"""Vehicles: their figures checked, the published CO2e per km of their fuel unless they have their
own, and who sees, plans with and changes which."""

from datetime import time

import pytest

from sharing.clock import utcnow
from sharing.errors import DomainError, NotAllowed, NotVisible
from sharing.events import events_of
from sharing.logistics import events
from sharing.logistics.coordination import rules as coordination
from sharing.logistics.vehicles import factors
from sharing.logistics.vehicles import rules as vehicles
from sharing.logistics.vehicles.models import FuelKind
from tests.conftest import csrf_token
from tests.logistics import build, vehicle


@pytest.fixture
def w(factory):
    return build(factory)


def test_a_vehicle_without_a_figure_of_its_own_gets_the_published_one_for_its_fuel(db, w):
    van = vehicle(db, w, registration="abc123")
    assert (van.municipality_id, van.registration, van.fuel, van.active, van.shared) == (
        w["ystad"].id, "ABC 123", "diesel", True, False)
    assert van.co2e_kg_per_km == 0.25561
    assert van.co2e_source.startswith("DESNZ") and "conversion factors 2025" in van.co2e_source
    assert "Average (up to 3.5 tonnes), Diesel: 0,25561 kg CO2e per fordonskilometer" in van.co2e_source
    [saved] = events_of(db, subject_type=events.VEHICLE_SUBJECT, subject_id=van.id)
    assert (saved.name, saved.payload["created"], saved.actor_id) == (
        events.VEHICLE_SAVED, True, w["ystad_coordinator"].id)


def test_every_published_figure_names_its_source_and_some_fuels_have_none():
    for fuel, factor in factors.DEFAULT_FACTORS.items():
        assert 0 < factor.kg_per_km < 1 and "DESNZ" in factor.source and len(factor.source) <= vehicles.SOURCE_MAX
        assert str(factor.kg_per_km).replace(".", ",") in factor.source, fuel
    # The vehicle form names these two as the fuels without a published figure.
    assert {fuel for fuel in FuelKind if factors.default_factor(fuel) is None} == {FuelKind.HVO100, FuelKind.BIOGAS}


def test_a_fuel_without_a_published_figure_needs_the_vehicle_s_own_with_its_source(db, w):
    with pytest.raises(DomainError) as refused:
        vehicle(db, w, fuel=FuelKind.HVO100)
    assert refused.value.field == "co2e_kg_per_km"
    db.rollback()
    with pytest.raises(DomainError) as refused:
        vehicle(db, w, fuel=FuelKind.HVO100, co2e_kg_per_km=0.05)
    assert refused.value.field == "co2e_source"
    db.rollback()
    van = vehicle(db, w, fuel=FuelKind.HVO100, co2e_kg_per_km=0.05, co2e_source="  Leverantörens uppgift 2025  ")
    assert (van.co2e_kg_per_km, van.co2e_source) == (0.05, "Leverantörens uppgift 2025")


def test_changing_the_fuel_changes_a_published_figure_but_never_one_of_the_vehicle_s_own(db, w):
    van = vehicle(db, w)
    details = vehicles.details_of(van)
    details.fuel = FuelKind.ELECTRICITY  # the form sends the old fuel's figure and source back unchanged
    vehicles.save_vehicle(db, details=details, by=w["ystad_coordinator"], now=utcnow(), vehicle=van)
    assert (van.fuel, van.co2e_kg_per_km) == ("electricity", 0.06976) and "Battery Electric" in van.co2e_source
    details = vehicles.details_of(van)
    details.co2e_kg_per_km, details.co2e_source = 0.01, "Vår egen mätning"
    vehicles.save_vehicle(db, details=details, by=w["ystad_coordinator"], now=utcnow(), vehicle=van)
    details.fuel = FuelKind.DIESEL
    vehicles.save_vehicle(db, details=details, by=w["ystad_coordinator"], now=utcnow(), vehicle=van)
    db.commit()
    assert (van.fuel, van.co2e_kg_per_km, van.co2e_source) == ("diesel", 0.01, "Vår egen mätning")
    changed = events_of(db, subject_type=events.VEHICLE_SUBJECT, subject_id=van.id)[-1]
    assert changed.payload["changes"] == {"fuel": ["electricity", "diesel"]}


def test_what_was_changed_of_a_vehicle_reads_by_its_form_s_names(client, auth, db, w):
    van = vehicle(db, w)
    details = vehicles.details_of(van)
    details.name, details.payload_kg = "Lilla bussen", 450
    vehicles.save_vehicle(db, details=details, by=w["ystad_coordinator"], now=utcnow(), vehicle=van)
    db.commit()
    auth.login(w["ystad_coordinator"])  # in the audit trail's words, as in the register extract
    for language, changed in (("sv", "Ändrat: Namn, Lastförmåga (kg)"), ("en", "Changed: Name, Payload (kg)")):
        client.post("/language", data={"language": language, "csrf_token": csrf_token(client, "/")})
        entries = client.get("/account/personal-data.json").get_json()["sections"]["audit_entries"]
        [saved] = [e for e in entries if e["event_code"] == events.VEHICLE_SAVED and not e["payload_code"]["created"]]
        assert saved["payload"].splitlines()[-1] == changed


@pytest.mark.parametrize(("overrides", "field"), [
    ({"name": " "}, "name"),
    ({"volume_m3": 0}, "volume_m3"),
    ({"volume_m3": float("inf")}, "volume_m3"),
    ({"payload_kg": 0}, "payload_kg"),
    ({"depot_site_id": "school"}, "depot_site_id"),  # another municipality's site
    ({"shift_start": time(16), "shift_end": time(7)}, "shift_end"),
    ({"cost_per_km": -1}, "cost_per_km"),
    ({"co2e_kg_per_km": 9, "co2e_source": "Gissning"}, "co2e_kg_per_km"),
    ({"registration": "AB 1234"}, "registration"),
])
def test_a_vehicle_is_checked(db, w, overrides, field):
    values = {name: w[value].id if value == "school" else value for name, value in overrides.items()}
    with pytest.raises(DomainError) as refused:
        vehicle(db, w, **values)
    assert refused.value.field == field


def test_names_are_unique_within_a_municipality_and_registrations_everywhere(db, w):
    vehicle(db, w, registration="ABC 123")
    with pytest.raises(DomainError, match="already has a vehicle named"):
        vehicle(db, w, registration="XYZ 999")
    db.rollback()
    with pytest.raises(DomainError, match="ABC 123"):
        vehicle(db, w, by="skurup_coordinator", depot_site_id=w["school"].id, registration="abc 123")
    db.rollback()
    other = vehicle(db, w, by="skurup_coordinator", depot_site_id=w["school"].id)  # the same name, elsewhere
    assert other.municipality_id == w["skurup"].id


def test_a_coordinator_plans_with_their_own_those_planned_jointly_and_those_shared(db, w):
    own = vehicle(db, w)
    shared = vehicle(db, w, by="skurup_coordinator", name="Delad", depot_site_id=w["school"].id, shared=True)
    private = vehicle(db, w, by="skurup_coordinator", name="Egen", depot_site_id=w["school"].id)
    ystad = w["ystad_coordinator"]
    assert [v.id for v in vehicles.vehicles_for(db, ystad)] == [own.id, shared.id]
    with pytest.raises(NotVisible):
        vehicles.vehicle_to_see(db, ystad, private.id)
    with pytest.raises(NotAllowed):  # seen, but another's to change
        vehicles.vehicle_to_edit(db, ystad, shared.id)
    # A shared vehicle taken out of use is no longer for others to plan with.
    vehicles.set_active(db, shared, active=False, by=w["skurup_coordinator"], now=utcnow())
    db.commit()
    assert [v.id for v in vehicles.vehicles_for(db, ystad)] == [own.id]
    # Planning jointly: the other's vehicles in use are planned with too.
    for admin in (w["ystad_admin"], w["trelleborg_admin"]):
        coordination.set_joint_planning(db, joined=True, by=admin, now=utcnow())
    db.commit()
    assert [v.id for v in vehicles.vehicles_for(db, ystad)] == [own.id]  # Skurup does not plan jointly
    trelleborg_van = vehicle(db, w, by="trelleborg_coordinator", name="Flyttbilen",
                             depot_site_id=w["trelleborg_site"].id)
    assert [v.id for v in vehicles.vehicles_for(db, ystad)] == [own.id, trelleborg_van.id]
    assert vehicles.vehicle_to_see(db, ystad, trelleborg_van.id).id == trelleborg_van.id


def test_administrators_keep_their_municipality_s_vehicles_and_see_no_others(db, w):
    own = vehicle(db, w, by="ystad_admin")
    shared = vehicle(db, w, by="skurup_coordinator", name="Delad", depot_site_id=w["school"].id, shared=True)
    admin = w["ystad_admin"]
    assert [v.id for v in vehicles.vehicles_for(db, admin)] == [own.id]
    with pytest.raises(NotVisible):
        vehicles.vehicle_to_see(db, admin, shared.id)
    assert vehicles.set_active(db, own, active=False, by=admin, now=utcnow())
    assert not vehicles.set_active(db, own, active=False, by=admin, now=utcnow())  # already so
    db.commit()
    assert [v.id for v in vehicles.vehicles_for(db, admin)] == [own.id], "their own, out of use too"
    assert vehicles.vehicles_for(db, admin, active_only=True) == []
    assert [e.name for e in events_of(db, subject_type=events.VEHICLE_SUBJECT, subject_id=own.id)] == [
        events.VEHICLE_SAVED, events.VEHICLE_DEACTIVATED]
    with pytest.raises(NotAllowed):
        vehicle(db, w, by="ystad_employee")


def test_joint_planning_is_chosen_by_a_municipality_s_administrators(db, w):
    with pytest.raises(NotAllowed):
        coordination.set_joint_planning(db, joined=True, by=w["ystad_coordinator"], now=utcnow())
    assert coordination.set_joint_planning(db, joined=True, by=w["ystad_admin"], now=utcnow())
    assert not coordination.set_joint_planning(db, joined=True, by=w["ystad_admin"], now=utcnow())
    db.commit()
    assert coordination.joint_planners(db) == {w["ystad"].id}
    assert coordination.scope_of(db, w["ystad_coordinator"]) == {w["ystad"].id}
    assert coordination.set_joint_planning(db, joined=False, by=w["ystad_admin"], now=utcnow())
    db.commit()
    assert coordination.joint_planners(db) == frozenset()
    assert [e.name for e in events_of(db, subject_type=events.JOINT_PLANNING_SUBJECT, subject_id=w["ystad"].id)] == [
        events.JOINT_PLANNING_JOINED, events.JOINT_PLANNING_LEFT]
