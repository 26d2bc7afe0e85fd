"""The route planner on small days whose best plan is known by hand, on random days checked by
the feasibility rules, and on what it must leave out and why."""

from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np
import pytest

from sharing.logistics.planning.feasibility import violations
from sharing.logistics.planning.problem import (
    Plan,
    Problem,
    Shipment,
    StopAction,
    Unserved,
    UnservedReason,
    Vehicle,
    Window,
)
from sharing.logistics.planning.solver import solve
from tests.test_logistics_planning_feasibility import line

DAY = Window(0, 10_000)
VAN = (12_000, 1_000)  # litres, kilograms


def shipment(key: str, pickup: int, delivery: int, load: tuple[int, ...] = (100, 10), *,
             pickup_window: Window = DAY, delivery_window: Window = DAY, service_s: int = 0) -> Shipment:
    return Shipment(key=key, pickup=pickup, delivery=delivery, load=load, pickup_window=pickup_window,
                    delivery_window=delivery_window, pickup_service_s=service_s, delivery_service_s=service_s)


def van(key: str, depot: int = 0, capacity: tuple[int, ...] = VAN, shift: Window = DAY,
        cost_per_km: float = 0.0) -> Vehicle:
    return Vehicle(key=key, depot=depot, capacity=capacity, shift=shift, cost_per_km=cost_per_km)


def on_line(kilometres: tuple[float, ...], shipments: list[Shipment], vehicles: list[Vehicle],
            pinned: dict[str, str] | None = None) -> Problem:
    distance, duration = line(*kilometres)
    return Problem(distance_m=distance, duration_s=duration, shipments=shipments, vehicles=vehicles,
                   pinned=pinned or {})


def planned(problem: Problem, seconds: float = 0.3, seed: int = 0, iterations: int | None = None,
            progress: Callable[[float], None] | None = None) -> Plan:
    """Solves, and insists that the plan passes every feasibility rule."""
    plan = solve(problem, seconds=seconds, seed=seed, iterations=iterations, progress=progress)
    assert violations(problem, plan) == []
    return plan


def visits(plan: Plan) -> list[list[str]]:
    """Each route's stops as 'A+' (pickup of A) and 'A-' (its delivery)."""
    return [[stop.shipment + ("+" if stop.action is StopAction.PICKUP else "-") for stop in route.stops]
            for route in plan.routes]


def test_two_shipments_along_the_road_are_served_in_one_sweep():
    # Depot at km 0; A goes km 1 -> 2, B km 3 -> 4: out once along the road and back, 8 km.
    problem = on_line((0, 1, 2, 3, 4), [shipment("A", 1, 2), shipment("B", 3, 4)], [van("v1")])
    plan = planned(problem)
    assert visits(plan) == [["A+", "A-", "B+", "B-"]]
    assert plan.distance_m == 8000
    assert plan.unserved == ()


def test_nested_shipments_ride_together_when_the_van_has_room():
    # A km 1 -> 4 and B km 2 -> 3: both picked up on the way out, both aboard from km 2 on
    # (B delivered on the way out or back alike): 8 km.
    problem = on_line((0, 1, 2, 3, 4), [shipment("A", 1, 4), shipment("B", 2, 3)], [van("v1")])
    plan = planned(problem)
    assert visits(plan)[0][:2] == ["A+", "B+"]
    assert plan.distance_m == 8000


def test_nested_shipments_go_one_after_the_other_when_only_one_fits():
    # Each weighs 600 kg of the van's 1000: A out to km 4, then B on the way back (1+3+2+1+3 = 10 km)
    # beats B first (2+1+2+3+4 = 12 km).
    heavy = (100, 600)
    problem = on_line((0, 1, 2, 3, 4), [shipment("A", 1, 4, heavy), shipment("B", 2, 3, heavy)], [van("v1")])
    plan = planned(problem)
    assert visits(plan) == [["A+", "A-", "B+", "B-"]]
    assert plan.distance_m == 10_000


def test_the_weight_dimension_splits_two_loads_over_two_vans():
    # Both from km 5 back to km 1; together 1200 kg, so one van would need two trips (18 km,
    # 1800 s), which its 1500 s shift does not allow: each van takes one (10 km each).
    heavy = (100, 600)
    shift = Window(0, 1500)
    problem = on_line((0, 1, 5), [shipment("A", 2, 1, heavy), shipment("B", 2, 1, heavy)],
                      [van("v1", shift=shift), van("v2", shift=shift)])
    plan = planned(problem)
    assert sorted(len(route.stops) for route in plan.routes) == [2, 2]
    assert plan.distance_m == 20_000
    assert plan.unserved == ()


def test_times_come_from_the_matrix_with_waiting_and_a_late_departure():
    # A from km 2 (window opens at 1000 s) to km 3, with 60 s of service at each end.
    problem = on_line((0, 2, 3), [shipment("A", 1, 2, pickup_window=Window(1000, 2000), service_s=60)],
                      [van("v1", shift=Window(0, 5000))])
    route = planned(problem).routes[0]
    pickup, delivery = route.stops
    # Leaves as late as costs nothing: 200 s before the window opens, instead of waiting there.
    assert route.departure_s == 800
    assert (pickup.arrival_s, pickup.start_s, pickup.end_s) == (1000, 1000, 1060)
    assert (delivery.arrival_s, delivery.start_s, delivery.end_s) == (1160, 1160, 1220)
    assert route.return_s == 1520
    assert route.distance_m == 6000


def test_a_stop_waits_for_its_window_when_leaving_later_would_miss_another():
    # A's pickup at km 1 must start by 200 s; B's at km 2 opens only at 1000 s: the van waits there.
    problem = on_line((0, 1, 2, 3), [shipment("A", 1, 3, pickup_window=Window(0, 200)),
                                     shipment("B", 2, 3, pickup_window=Window(1000, 2000))], [van("v1")])
    plan = planned(problem)
    assert visits(plan) == [["A+", "B+", "A-", "B-"]] or visits(plan) == [["A+", "B+", "B-", "A-"]]
    pickup_b = plan.routes[0].stops[1]
    assert pickup_b.arrival_s < pickup_b.start_s == 1000


def test_each_vehicle_starts_and_ends_at_its_own_depot():
    # Depots at km 0 and km 10; A near the first, B near the second.
    problem = on_line((0, 10, 1, 2, 8, 9), [shipment("A", 2, 3), shipment("B", 4, 5)],
                      [van("west", depot=0), van("east", depot=1)])
    plan = planned(problem)
    assert {route.vehicle: [s.shipment for s in route.stops] for route in plan.routes} == {
        "west": ["A", "A"], "east": ["B", "B"]}
    assert plan.distance_m == 4000 + 4000


def test_too_big_for_every_vehicle():
    problem = on_line((0, 1, 2), [shipment("piano", 1, 2, (500, 1200)), shipment("chair", 1, 2)],
                      [van("v1"), van("v2", capacity=(20_000, 1_100))])
    plan = planned(problem)
    assert plan.unserved == (Unserved("piano", UnservedReason.TOO_BIG),)
    assert visits(plan) == [["chair+", "chair-"]]


def test_too_big_for_one_vehicle_goes_on_the_other():
    problem = on_line((0, 1, 2), [shipment("sofa", 1, 2, (14_000, 80))],
                      [van("small"), van("large", capacity=(20_000, 1_000))])
    plan = planned(problem)
    assert [route.vehicle for route in plan.routes] == ["large"]


def test_window_unreachable_even_alone():
    # The pickup window closes at 50 s; km 1 is 100 s from the depot.
    closed_early = shipment("early", 1, 2, pickup_window=Window(0, 50))
    # The delivery can be made, but not back at the depot before the shift ends at 1000 s.
    too_far = shipment("far", 1, 3, delivery_window=Window(0, 9000))
    problem = on_line((0, 1, 2, 6), [closed_early, too_far, shipment("fine", 1, 2)],
                      [van("v1", shift=Window(0, 1000))])
    plan = planned(problem)
    assert plan.unserved == (Unserved("early", UnservedReason.WINDOW_UNREACHABLE),
                             Unserved("far", UnservedReason.WINDOW_UNREACHABLE))


def test_no_capacity_left_when_each_fits_alone_but_not_both():
    # Two 600 kg loads from km 5 to km 1, one van whose shift allows one trip: one is left.
    heavy = (100, 600)
    problem = on_line((0, 1, 5), [shipment("A", 2, 1, heavy), shipment("B", 2, 1, heavy)],
                      [van("v1", shift=Window(0, 1500))])
    plan = planned(problem)
    assert len(plan.routes[0].stops) == 2
    assert [u.reason for u in plan.unserved] == [UnservedReason.NO_CAPACITY_LEFT]


def test_a_pinned_shipment_goes_on_its_vehicle_even_when_another_is_nearer():
    # "west" would serve A (near km 0) for 4 km; pinned to "east" (depot at km 10) it costs 20 km.
    shipments = [shipment("A", 2, 3), shipment("B", 4, 5)]
    vehicles = [van("west", depot=0), van("east", depot=1)]
    free = planned(on_line((0, 10, 1, 2, 8, 9), shipments, vehicles))
    assert {r.vehicle: r.stops[0].shipment for r in free.routes} == {"west": "A", "east": "B"}
    problem = on_line((0, 10, 1, 2, 8, 9), shipments, vehicles, pinned={"A": "east"})
    plan = planned(problem)
    # East serves both in one sweep out to km 1 and back (18 km), rather than A alone (18 km) while
    # west serves B (18 km).
    assert [route.vehicle for route in plan.routes] == ["east"]
    assert plan.distance_m == 18_000
    assert [v.code for v in violations(problem, free)] == ["pin_ignored"]


def test_pins_tell_identical_vans_apart():
    # Two vans alike in all but their pins: each pinned shipment on its own van.
    problem = on_line((0, 1, 2, 3), [shipment("A", 1, 2), shipment("B", 2, 3), shipment("C", 1, 3)],
                      [van("v1"), van("v2")], pinned={"A": "v2", "B": "v1"})
    plan = planned(problem)
    on = {stop.shipment: route.vehicle for route in plan.routes for stop in route.stops}
    assert (on["A"], on["B"]) == ("v2", "v1")


def test_a_pin_to_a_vehicle_too_small_or_too_far_leaves_the_shipment_out_with_that_reason():
    shipments = [shipment("big", 1, 2, (100, 900)), shipment("late", 1, 2, pickup_window=Window(0, 150))]
    vehicles = [van("near", depot=0), van("small", depot=0, capacity=(12_000, 500)),
                van("far", depot=3)]
    problem = on_line((0, 1, 2, 20), shipments, vehicles, pinned={"big": "small", "late": "far"})
    plan = planned(problem)
    assert plan.unserved == (Unserved("big", UnservedReason.TOO_BIG),
                             Unserved("late", UnservedReason.WINDOW_UNREACHABLE))


def test_among_interchangeable_vans_the_cheaper_per_km_drives_the_longer_route():
    # On either side of the depot: the far load's round trip is 20 km (2000 s), the near one's 4 km;
    # one van would need 24 km (2400 s), longer than the shift.
    problem = on_line((0, -1, -2, 9, 10), [shipment("near", 1, 2), shipment("far", 3, 4)],
                      [van("dear", cost_per_km=9.0, shift=Window(0, 2100)),
                       van("cheap", cost_per_km=4.0, shift=Window(0, 2100))])
    plan = planned(problem)
    assert {r.vehicle: r.stops[0].shipment for r in plan.routes} == {"cheap": "far", "dear": "near"}


def test_of_two_vans_at_one_depot_the_cheaper_per_km_carries_what_either_could():
    # Unlike vans (their capacities differ), the same road for either: the electric one is cheaper
    # (and cleaner) per km, and carries it, whichever order the vans are given in.
    for vans in ([van("diesel", capacity=(12_000, 1_000), cost_per_km=7.0),
                  van("electric", capacity=(10_800, 800), cost_per_km=4.5)],
                 [van("electric", capacity=(10_800, 800), cost_per_km=4.5),
                  van("diesel", capacity=(12_000, 1_000), cost_per_km=7.0)]):
        plan = planned(on_line((0, 5, 9), [shipment("chairs", 1, 2)], vans))
        assert [route.vehicle for route in plan.routes] == ["electric"]


def test_a_longer_route_is_worth_it_only_when_it_costs_less():
    # The cheap van's depot is 2 km further off: 4 km more for half the price per km is cheaper.
    problem = on_line((0, 2, 5, 9), [shipment("chairs", 2, 3)],
                      [van("near", depot=1, cost_per_km=8.0), van("far", depot=0, cost_per_km=4.0)])
    assert [route.vehicle for route in planned(problem).routes] == ["far"]


def random_day(seed: int, shipments: int = 18, vehicles: int = 3) -> Problem:
    """A tight random day: places on a 20 km square, narrow windows, loads near the capacity."""
    rng = random.Random(seed)
    points = np.array([[rng.uniform(0, 20_000), rng.uniform(0, 20_000)] for _ in range(2 * shipments + 3)])
    distance = np.rint(np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1))).astype(np.int64)
    duration = distance // 12  # 43 km/h
    jobs = []
    for n in range(shipments):
        opens = rng.randrange(8, 14) * 3600
        wide = rng.choice([3600, 2 * 3600, 8 * 3600])
        jobs.append(Shipment(
            key=f"s{n}", pickup=3 + 2 * n, delivery=4 + 2 * n,
            load=(rng.randrange(500, 7000), rng.randrange(20, 600)),
            pickup_window=Window(opens, min(opens + wide, 17 * 3600)),
            delivery_window=Window(opens, min(opens + wide + 3600, 17 * 3600)),
            pickup_service_s=rng.randrange(120, 900), delivery_service_s=rng.randrange(120, 900),
        ))
    vans = [Vehicle(key=f"van{k}", depot=k % 3, capacity=(12_000, 1_000),
                    shift=Window(7 * 3600 + 1800 * k, 15 * 3600 + 1800 * k)) for k in range(vehicles)]
    pinned = {f"s{n}": f"van{n % vehicles}" for n in range(0, shipments, 5)}
    return Problem(distance_m=distance, duration_s=duration, shipments=jobs, vehicles=vans, pinned=pinned)


@pytest.mark.parametrize("seed", range(6))
def test_random_tight_days_never_break_a_rule(seed):
    problem = random_day(seed)
    plan = planned(problem, seconds=0.4, seed=seed)
    served = {stop.shipment for route in plan.routes for stop in route.stops}
    assert len(served) + len(plan.unserved) == len(problem.shipments)
    assert served, "a day with room for something plans something"
    for key, vehicle in problem.pinned.items():
        assert all(route.vehicle == vehicle for route in plan.routes for s in route.stops if s.shipment == key)


def test_the_same_problem_and_seed_give_the_same_plan():
    problem = random_day(11, shipments=25)
    first = planned(problem, seconds=60, seed=7, iterations=300)
    again = planned(problem, seconds=60, seed=7, iterations=300)
    assert first == again
    assert first.routes


def test_progress_goes_from_0_to_1():
    heard: list[float] = []
    planned(random_day(3), seconds=0.5, progress=heard.append)
    assert heard[0] == 0.0 and heard[-1] == 1.0
    assert len(heard) >= 3, "heard now and then during the search, not only at its ends"
    assert heard == sorted(heard) and all(0 <= f <= 1 for f in heard)


def test_a_matrix_that_counts_something_for_staying_at_a_place():
    # Each place to itself is 50 m and 5 s (a turn around the block): the three stops at km 2
    # (A delivered, B picked up and delivered) count it twice.
    distance, duration = line(0, 1, 2)
    for i in range(3):
        distance[i][i], duration[i][i] = 50, 5
    problem = Problem(distance_m=distance, duration_s=duration, vehicles=[van("v1")],
                      shipments=[shipment("A", 1, 2), shipment("B", 2, 2)])
    plan = planned(problem)
    assert plan.distance_m == 4100 and visits(plan)[0][0] == "A+"


def test_nothing_to_plan():
    assert solve(on_line((0, 1), [], [van("v1")]), seconds=0.1) == Plan(routes=(), unserved=())
    nobody = solve(on_line((0, 1, 2), [shipment("A", 1, 2)], []), seconds=0.1)
    assert nobody == Plan(routes=(), unserved=(Unserved("A", UnservedReason.TOO_BIG),))


@pytest.mark.parametrize("problem", [
    on_line((0, 1, 2), [shipment("A", 1, 2)], [van("v1")], pinned={"A": "nobody"}),
    on_line((0, 1, 2), [shipment("A", 1, 2)], [van("v1")], pinned={"nothing": "v1"}),
    on_line((0, 1, 2), [shipment("A", 1, 2, (1, 2, 3))], [van("v1")]),
    on_line((0, 1, 2), [shipment("A", 1, 7)], [van("v1")]),
    on_line((0, 1, 2), [shipment("A", 1, 2), shipment("A", 2, 1)], [van("v1")]),
    Problem(distance_m=[[0, 1]], duration_s=[[0, 1]], shipments=[], vehicles=[van("v1")]),
])
def test_a_malformed_problem_is_refused(problem):
    with pytest.raises(ValueError):
        solve(problem, seconds=0.1)
