"""The feasibility rules on a plan made by hand: none broken as it is, and each planted fault found."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sharing.logistics.planning.feasibility import violations
from sharing.logistics.planning.problem import (
    Plan,
    Problem,
    Route,
    Shipment,
    Stop,
    StopAction,
    Unserved,
    UnservedReason,
    Vehicle,
    Window,
)

PICKUP, DELIVERY = StopAction.PICKUP, StopAction.DELIVERY
SPEED = 10  # metres per second on the test lines: a kilometre is 100 s


def line(*kilometres: float) -> tuple[list[list[int]], list[list[int]]]:
    """Distance and duration matrices of places on a straight road, at these kilometres."""
    metres = [round(k * 1000) for k in kilometres]
    distance = [[abs(a - b) for b in metres] for a in metres]
    return distance, [[d // SPEED for d in row] for row in distance]


def problem(*, capacity: tuple[int, int] = (12_000, 1_000), shift: Window = Window(0, 3000),
            b_pickup: Window = Window(0, 1000), pinned: dict[str, str] | None = None) -> Problem:
    """Places at km 0 (the depot), 1, 2 and 3; A goes 1 -> 3 (600 kg), B 2 -> 3 (300 kg); 60 s of service."""
    distance, duration = line(0, 1, 2, 3)
    return Problem(
        distance_m=distance, duration_s=duration,
        shipments=[
            Shipment("A", 1, 3, (100, 600), Window(0, 1000), Window(0, 2000), 60, 60),
            Shipment("B", 2, 3, (100, 300), b_pickup, Window(0, 2000), 60, 60),
        ],
        vehicles=[Vehicle("v1", 0, capacity, shift), Vehicle("v2", 0, capacity, shift)],
        pinned=pinned or {},
    )


# v1 picks up A at km 1 (100 s away), B at km 2, delivers both at km 3, and is back at 840 s: 6 km.
A_UP = Stop("A", PICKUP, 1, 100, 100, 160)
B_UP = Stop("B", PICKUP, 2, 260, 260, 320)
A_DOWN = Stop("A", DELIVERY, 3, 420, 420, 480)
B_DOWN = Stop("B", DELIVERY, 3, 480, 480, 540)
ROUTE = Route("v1", (A_UP, B_UP, A_DOWN, B_DOWN), departure_s=0, return_s=840, distance_m=6000)
PLAN = Plan(routes=(ROUTE,), unserved=())


def codes(day: Problem, plan: Plan) -> list[str]:
    return [violation.code for violation in violations(day, plan)]


def test_the_plan_by_hand_breaks_no_rule():
    assert violations(problem(), PLAN) == []
    assert violations(problem(), Plan(routes=(), unserved=(Unserved("A", UnservedReason.NO_CAPACITY_LEFT),
                                                          Unserved("B", UnservedReason.TOO_BIG)))) == []


def test_over_capacity_in_one_dimension_names_the_route_and_stop():
    found = violations(problem(capacity=(12_000, 800)), PLAN)
    assert [v.code for v in found] == ["over_capacity"]
    assert "'v1'" in found[0].message and "stop 2" in found[0].message and "900" in found[0].message


def test_delivery_before_pickup():
    swapped = replace(ROUTE, stops=(replace(A_DOWN, arrival_s=100, start_s=100, end_s=160), B_UP,
                                    replace(A_UP, place=1), B_DOWN))
    found = codes(problem(), replace(PLAN, routes=(swapped,)))
    assert "delivery_before_pickup" in found
    assert "negative_load" in found  # a delivery of what is not aboard


def test_late_start_early_start_and_a_drive_too_fast():
    assert codes(problem(b_pickup=Window(0, 200)), PLAN) == ["too_late"]
    assert codes(problem(b_pickup=Window(300, 1000)), PLAN) == ["too_early"]
    hurried = replace(ROUTE, stops=(A_UP, replace(B_UP, arrival_s=200), A_DOWN, B_DOWN))
    assert codes(problem(), replace(PLAN, routes=(hurried,))) == ["too_fast"]
    home_early = replace(ROUTE, return_s=800)
    assert codes(problem(), replace(PLAN, routes=(home_early,))) == ["too_fast"]


def test_service_shorter_than_the_shipment_says():
    short = replace(ROUTE, stops=(A_UP, replace(B_UP, end_s=300), A_DOWN, B_DOWN))
    assert codes(problem(), replace(PLAN, routes=(short,))) == ["service_time"]


def test_outside_the_shift():
    assert codes(problem(shift=Window(0, 800)), PLAN) == ["shift"]
    assert codes(problem(shift=Window(10, 3000)), PLAN) == ["shift"]


def test_a_pair_split_over_two_vehicles():
    first = Route("v1", (A_UP, B_UP, B_DOWN), departure_s=0, return_s=840, distance_m=6000)
    second = Route("v2", (replace(A_DOWN, arrival_s=300, start_s=300, end_s=360),), departure_s=0,
                   return_s=660, distance_m=6000)
    assert "pair_split" in codes(problem(), Plan(routes=(first, second), unserved=()))


def test_a_wrong_distance():
    assert codes(problem(), replace(PLAN, routes=(replace(ROUTE, distance_m=6001),))) == ["distance"]


def test_a_stop_at_the_wrong_place():
    moved = replace(ROUTE, stops=(A_UP, replace(B_UP, place=1), A_DOWN, B_DOWN))
    assert "wrong_place" in codes(problem(), replace(PLAN, routes=(moved,)))


def test_a_pin_ignored():
    assert codes(problem(pinned={"A": "v2"}), PLAN) == ["pin_ignored"]
    assert codes(problem(pinned={"A": "v1"}), PLAN) == []


@pytest.mark.parametrize(("plan", "expected"), [
    (Plan(routes=(), unserved=(Unserved("A", UnservedReason.TOO_BIG),)), ["missing"]),
    (replace(PLAN, unserved=(Unserved("A", UnservedReason.TOO_BIG),)), ["served_and_unserved"]),
    (Plan(routes=(), unserved=(Unserved("A", UnservedReason.TOO_BIG), Unserved("A", UnservedReason.TOO_BIG),
                               Unserved("B", UnservedReason.TOO_BIG))), ["unserved_twice"]),
    (replace(PLAN, unserved=(Unserved("Z", UnservedReason.TOO_BIG),)), ["unknown_shipment"]),
    (replace(PLAN, routes=(replace(ROUTE, vehicle="v9"),)), ["unknown_vehicle"]),
])
def test_every_shipment_once(plan, expected):
    assert codes(problem(), plan) == expected


def test_a_vehicle_with_two_routes():
    first = Route("v1", (A_UP, replace(A_DOWN, arrival_s=360, start_s=360, end_s=420)), departure_s=0,
                  return_s=720, distance_m=6000)
    second = Route("v1", (B_UP, replace(B_DOWN, arrival_s=420, start_s=420, end_s=480)), departure_s=60,
                   return_s=780, distance_m=6000)
    assert codes(problem(), Plan(routes=(first, second), unserved=())) == ["vehicle_reused"]


def test_a_pickup_twice():
    twice = replace(ROUTE, stops=(A_UP, replace(A_UP, arrival_s=160, start_s=160, end_s=220), B_UP, A_DOWN, B_DOWN))
    assert "not_one_pair" in codes(problem(), replace(PLAN, routes=(twice,)))
