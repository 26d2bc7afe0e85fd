"""Checks a plan against its problem, rule by rule, written apart from the solver: a plan is
stored only when nothing is found, whichever code made it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sharing.logistics.planning.problem import Plan, Problem, Route, Shipment, Stop, StopAction, Vehicle, Window


@dataclass(frozen=True)
class Violation:
    """One broken rule: a stable ``code`` for programs, and a ``message`` naming the route and stop."""

    code: str
    message: str


def violations(problem: Problem, plan: Plan) -> list[Violation]:
    """Every rule ``plan`` breaks for ``problem``; an empty list when the plan can be driven as it says."""
    shipments = {s.key: s for s in problem.shipments}
    vehicles = {v.key: v for v in problem.vehicles}
    found: list[Violation] = []
    found += _accounting(problem, plan, shipments)
    for count, key in ((n, k) for k, n in Counter(r.vehicle for r in plan.routes).items() if n > 1):
        found.append(Violation("vehicle_reused", f"Vehicle {key!r} has {count} routes; it drives at most one."))
    for route in plan.routes:
        vehicle = vehicles.get(route.vehicle)
        if vehicle is None:
            found.append(Violation("unknown_vehicle", f"Route of {route.vehicle!r}: no such vehicle in the problem."))
            continue
        found += _route(problem, vehicle, route, shipments)
    return found


def _accounting(problem: Problem, plan: Plan, shipments: dict[str, Shipment]) -> list[Violation]:
    """Each shipment served once (both its stops on one route, pickup first) or listed unserved once."""
    found: list[Violation] = []
    stops: dict[str, list[tuple[str, int, StopAction]]] = {}
    for route in plan.routes:
        for position, stop in enumerate(route.stops, start=1):
            stops.setdefault(stop.shipment, []).append((route.vehicle, position, stop.action))
    unserved = Counter(u.shipment for u in plan.unserved)
    for key in sorted((set(stops) | set(unserved)) - set(shipments)):
        found.append(Violation("unknown_shipment", f"Shipment {key!r} is in the plan but not in the problem."))
    for key in shipments:
        visits = stops.get(key, [])
        if unserved[key] > 1:
            found.append(Violation("unserved_twice", f"Shipment {key!r} is listed {unserved[key]} times as unserved."))
        if not visits:
            if not unserved[key]:
                found.append(Violation("missing", f"Shipment {key!r} is neither on a route nor listed as unserved."))
            continue
        if unserved[key]:
            found.append(Violation("served_and_unserved", f"Shipment {key!r} is on a route and listed as unserved."))
        pickups = [v for v in visits if v[2] is StopAction.PICKUP]
        deliveries = [v for v in visits if v[2] is StopAction.DELIVERY]
        if len(pickups) != 1 or len(deliveries) != 1:
            found.append(Violation("not_one_pair", f"Shipment {key!r} has {len(pickups)} pickup(s) and "
                                                   f"{len(deliveries)} deliver(y/ies); it needs one of each."))
            continue
        (pickup_vehicle, pickup_at, _), (delivery_vehicle, delivery_at, _) = pickups[0], deliveries[0]
        if pickup_vehicle != delivery_vehicle:
            found.append(Violation("pair_split", f"Shipment {key!r} is picked up by {pickup_vehicle!r} "
                                                 f"but delivered by {delivery_vehicle!r}."))
        elif delivery_at < pickup_at:
            found.append(Violation("delivery_before_pickup", f"Route of {pickup_vehicle!r}: shipment {key!r} is "
                                                             f"delivered at stop {delivery_at} before its pickup "
                                                             f"at stop {pickup_at}."))
        pinned = problem.pinned.get(key)
        if pinned is not None and pickup_vehicle != pinned:
            found.append(Violation("pin_ignored", f"Shipment {key!r} is pinned to {pinned!r} "
                                                  f"but planned on {pickup_vehicle!r}."))
    return found


def _route(problem: Problem, vehicle: Vehicle, route: Route, shipments: dict[str, Shipment]) -> list[Violation]:
    """The route's places, loads, times and distance, stop by stop."""
    found: list[Violation] = []
    name = f"Route of {vehicle.key!r}"
    load = [0] * len(vehicle.capacity)
    at, free_at = vehicle.depot, route.departure_s
    distance = 0
    if route.departure_s < vehicle.shift.start:
        found.append(Violation("shift", f"{name} leaves its depot at {_clock(route.departure_s)}, "
                                        f"before the shift starts at {_clock(vehicle.shift.start)}."))
    for position, stop in enumerate(route.stops, start=1):
        where = f"{name}, stop {position} ({stop.action.value} of {stop.shipment!r})"
        shipment = shipments.get(stop.shipment)
        if shipment is None:
            continue  # reported once by the accounting
        place, window, service, sign = _expected(shipment, stop)
        if stop.place != place:
            found.append(Violation("wrong_place", f"{where} is at place {stop.place}, not the shipment's {place}."))
        stop_place = stop.place if 0 <= stop.place < len(problem.distance_m) else place  # go on from a place known
        distance += int(problem.distance_m[at][stop_place])
        earliest = free_at + int(problem.duration_s[at][stop_place])
        if stop.arrival_s < earliest:
            found.append(Violation("too_fast", f"{where} arrives at {_clock(stop.arrival_s)}; the drive from the "
                                               f"previous place ends at {_clock(earliest)} at the earliest."))
        if stop.start_s < max(stop.arrival_s, window.start):
            found.append(Violation("too_early", f"{where} starts at {_clock(stop.start_s)}, before the arrival or "
                                                f"the window's opening at {_clock(window.start)}."))
        if stop.start_s > window.end:
            found.append(Violation("too_late", f"{where} starts at {_clock(stop.start_s)}, after the window "
                                               f"closes at {_clock(window.end)}."))
        if stop.end_s != stop.start_s + service:
            found.append(Violation("service_time", f"{where} ends at {_clock(stop.end_s)}; its {service} s of "
                                                   f"service from {_clock(stop.start_s)} end at "
                                                   f"{_clock(stop.start_s + service)}."))
        if len(shipment.load) != len(load):
            found.append(Violation("load_dimensions", f"{where}: the load has {len(shipment.load)} dimensions, "
                                                      f"the vehicle's capacity {len(load)}."))
        else:
            for dimension, amount in enumerate(shipment.load):
                load[dimension] += sign * amount
                if load[dimension] > vehicle.capacity[dimension]:
                    found.append(Violation("over_capacity", f"{where}: load {load[dimension]} exceeds the "
                                                            f"capacity {vehicle.capacity[dimension]} in "
                                                            f"dimension {dimension + 1}."))
                elif load[dimension] < 0:
                    found.append(Violation("negative_load", f"{where}: load {load[dimension]} below zero in "
                                                            f"dimension {dimension + 1}."))
        at, free_at = stop_place, stop.end_s
    distance += int(problem.distance_m[at][vehicle.depot])
    back = free_at + int(problem.duration_s[at][vehicle.depot])
    if route.return_s < back:
        found.append(Violation("too_fast", f"{name} is back at {_clock(route.return_s)}; the drive back ends at "
                                           f"{_clock(back)} at the earliest."))
    if route.return_s > vehicle.shift.end:
        found.append(Violation("shift", f"{name} is back at {_clock(route.return_s)}, after the shift ends at "
                                        f"{_clock(vehicle.shift.end)}."))
    if route.distance_m != distance:
        found.append(Violation("distance", f"{name} says {route.distance_m} m; its legs in the matrix add up "
                                           f"to {distance} m."))
    return found


def _expected(shipment: Shipment, stop: Stop) -> tuple[int, Window, int, int]:
    """The place, window and service of the stop's side of the shipment, and the load's sign there."""
    if stop.action is StopAction.PICKUP:
        return shipment.pickup, shipment.pickup_window, shipment.pickup_service_s, 1
    return shipment.delivery, shipment.delivery_window, shipment.delivery_service_s, -1


def _clock(seconds: int) -> str:
    """Seconds from midnight as the day's time, ``H:MM:SS`` (past 24 h when a day runs over)."""
    hours, rest = divmod(seconds, 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
