"""Plans a day with PyVRP's iterated local search: pickup-delivery pairs, several load dimensions,
time windows, and each vehicle's own depot and shift; what is minimised is the distance driven,
each vehicle's kilometres weighted by what one costs it (``_distance_weights``).

What no vehicle could ever serve (too big, or windows out of reach even alone) is decided here
first, from the matrices; every other shipment is optional to the solver, with a prize above
what serving it could cost, so a day too full still gets a plan, with the shipments the search
finds room for. The times of the returned stops are computed here from the matrices.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyvrp

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
)

# The search time the app gives a day's planning: a day of 120 requests is planned well within 5 s.
APP_SECONDS = 3.0
# How often, at most, ``progress`` hears from a running search.
PROGRESS_INTERVAL_S = 0.2
# Late acceptance compares a candidate with the solution this many iterations back. PyVRP's 300
# suits searches of many thousand iterations; a day of 120 requests gets about a thousand in the
# app's seconds, and 20 made those plans some 8 % shorter (bench/routing.py), the same on Li & Lim.
HISTORY_LENGTH = 20


def solve(problem: Problem, *, seconds: float, seed: int = 0,
          progress: Callable[[float], None] | None = None, iterations: int | None = None) -> Plan:
    """Plan ``problem`` within about ``seconds`` of search (and at most ``iterations``, if given).

    The same problem and seed give the same plan whenever the search ends by ``iterations``
    rather than by the clock; a search cut short by the clock depends on the machine's speed.
    ``progress`` is called now and then with the fraction of the time (or budget) used, from 0 to 1.
    Raises ``ValueError`` for a malformed problem (matrix shape, load dimensions, unknown pins).
    """
    distance, duration = _matrices(problem)
    _check(problem, len(distance))
    unserved: dict[str, UnservedReason] = {}
    plannable: list[Shipment] = []
    for shipment in problem.shipments:
        reason = _unservable(problem, shipment, duration)
        if reason is None:
            plannable.append(shipment)
        else:
            unserved[shipment.key] = reason
    routes: list[Route] = []
    if plannable:
        model = _Model(problem, plannable, distance, duration)
        stop = _Stop(seconds, iterations, progress)
        if progress is not None:
            progress(0.0)
        params = pyvrp.SolveParams(ils=pyvrp.IteratedLocalSearchParams(history_length=HISTORY_LENGTH))
        result = pyvrp.solve(model.data, stop, seed=seed, collect_stats=False, display=False, params=params)
        routes = model.routes(result.best)
    if progress is not None:
        progress(1.0)
    served = {visit.shipment for route in routes for visit in route.stops}
    for shipment in plannable:
        if shipment.key not in served:
            unserved[shipment.key] = UnservedReason.NO_CAPACITY_LEFT
    order = {vehicle.key: index for index, vehicle in enumerate(problem.vehicles)}
    return Plan(
        routes=tuple(sorted(routes, key=lambda route: order[route.vehicle])),
        unserved=tuple(Unserved(s.key, unserved[s.key]) for s in problem.shipments if s.key in unserved),
    )


def _matrices(problem: Problem) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    distance = np.asarray(problem.distance_m, dtype=np.int64)
    duration = np.asarray(problem.duration_s, dtype=np.int64)
    if distance.ndim != 2 or distance.shape[0] != distance.shape[1] or distance.shape != duration.shape:
        raise ValueError("distance_m and duration_s must be square matrices of the same size")
    if (distance < 0).any() or (duration < 0).any():
        raise ValueError("distances and durations must not be negative")
    return distance, duration


def _check(problem: Problem, places: int) -> None:
    """Refuses what would be a caller's mistake, before any search."""
    dimensions = {len(s.load) for s in problem.shipments} | {len(v.capacity) for v in problem.vehicles}
    if len(dimensions) > 1:
        raise ValueError("every load and capacity must have the same dimensions")
    for keys in ([s.key for s in problem.shipments], [v.key for v in problem.vehicles]):
        if len(set(keys)) != len(keys):
            raise ValueError("shipment keys and vehicle keys must be unique")
    used = [p for s in problem.shipments for p in (s.pickup, s.delivery)] + [v.depot for v in problem.vehicles]
    if any(not 0 <= place < places for place in used):
        raise ValueError("a place is outside the matrices")
    shipments = {s.key for s in problem.shipments}
    vehicles = {v.key for v in problem.vehicles}
    for shipment, vehicle in problem.pinned.items():
        if shipment not in shipments or vehicle not in vehicles:
            raise ValueError(f"pin of {shipment!r} to {vehicle!r} names an unknown shipment or vehicle")


def _unservable(problem: Problem, shipment: Shipment, duration: npt.NDArray[np.int64]) -> UnservedReason | None:
    """Why no vehicle (the pinned one, if pinned) could serve ``shipment`` even alone; None if one could."""
    pinned = problem.pinned.get(shipment.key)
    candidates = [v for v in problem.vehicles if pinned is None or v.key == pinned]
    fitting = [v for v in candidates if all(load <= cap for load, cap in zip(shipment.load, v.capacity, strict=True))]
    if not fitting:
        return UnservedReason.TOO_BIG
    if not any(_alone_in_time(vehicle, shipment, duration) for vehicle in fitting):
        return UnservedReason.WINDOW_UNREACHABLE
    return None


def _alone_in_time(vehicle: Vehicle, shipment: Shipment, duration: npt.NDArray[np.int64]) -> bool:
    """Whether ``vehicle`` can go depot, pickup, delivery, depot within the windows and its shift."""
    pickup = max(vehicle.shift.start + int(duration[vehicle.depot, shipment.pickup]), shipment.pickup_window.start)
    if pickup > shipment.pickup_window.end:
        return False
    delivery = max(pickup + shipment.pickup_service_s + int(duration[shipment.pickup, shipment.delivery]),
                   shipment.delivery_window.start)
    if delivery > shipment.delivery_window.end:
        return False
    back = delivery + shipment.delivery_service_s + int(duration[shipment.delivery, vehicle.depot])
    return back <= vehicle.shift.end


class _Stop:
    """PyVRP's stopping criterion: the time limit or the iteration budget, telling ``progress`` on the way."""

    def __init__(self, seconds: float, iterations: int | None, progress: Callable[[float], None] | None) -> None:
        self.seconds = max(seconds, 0.0)
        self.iterations = iterations
        self.progress = progress
        self.started = time.perf_counter()
        self.reported = self.started
        self.calls = 0

    def __call__(self, best_cost: int) -> bool:
        now = time.perf_counter()
        elapsed = now - self.started
        if self.progress is not None and now - self.reported >= PROGRESS_INTERVAL_S:
            self.reported = now
            done = elapsed / self.seconds if self.seconds else 1.0
            if self.iterations:  # whichever ends the search first: the budget, or the clock
                done = max(done, self.calls / self.iterations)
            self.progress(min(done, 1.0))
        self.calls += 1  # called once before each iteration
        return elapsed >= self.seconds or (self.iterations is not None and self.calls > self.iterations)


@dataclass(frozen=True)
class _Group:
    """Vehicles PyVRP may treat as one type: same depot, capacity, shift and pins (none)."""

    depot: int
    capacity: tuple[int, ...]
    shift: tuple[int, int]
    profile: int
    weight: int  # what a metre costs it (``_distance_weights``)


# The dearest vehicle's metre counts at most this many times the cheapest's: a cost per km
# mistyped tenfold must not keep a vehicle off every route.
MAX_WEIGHT_RATIO = 10


def _distance_weights(vehicles: Sequence[Vehicle]) -> dict[str, int]:
    """What a metre costs each vehicle, relative to the cheapest (100): of two that could drive a
    route alike, the cheaper per km gets it (an electric van before a diesel one at the same
    depot), and a longer route is worth it only when it costs less. A vehicle whose cost is not
    known counts as the dearest known; none known, every metre counts alike."""
    known = [v.cost_per_km for v in vehicles if v.cost_per_km > 0]
    if not known:
        return {v.key: 1 for v in vehicles}
    cheapest, dearest = min(known), max(known)
    return {v.key: round(100 * min((v.cost_per_km if v.cost_per_km > 0 else dearest) / cheapest, MAX_WEIGHT_RATIO))
            for v in vehicles}


class _Model:
    """The problem as PyVRP's data, and PyVRP's solution back as our routes.

    Every pickup and delivery gets its own location, so that a pinned shipment's can be made
    unreachable (an edge longer than any shift) in the routing profile of every other vehicle.
    """

    def __init__(self, problem: Problem, shipments: Sequence[Shipment],
                 distance: npt.NDArray[np.int64], duration: npt.NDArray[np.int64]) -> None:
        self.problem = problem
        self.shipments = shipments
        self.distance = distance
        self.duration = duration
        depots = sorted({v.depot for v in problem.vehicles})
        depot_index = {place: index for index, place in enumerate(depots)}
        places = np.array(depots + [s.pickup for s in shipments] + [s.delivery for s in shipments], dtype=np.intp)
        local_distance = distance[np.ix_(places, places)]
        local_duration = duration[np.ix_(places, places)]
        # A location to itself is no edge to PyVRP (which insists on zero); between two stops at
        # one place the matrix's own value stays, as the feasibility check counts it.
        np.fill_diagonal(local_distance, 0)
        np.fill_diagonal(local_duration, 0)

        # Profile 0 keeps every pinned shipment out; each vehicle with pins has a profile letting its own in.
        first = len(depots)
        pinned_to: dict[str, list[int]] = {}
        for index, shipment in enumerate(shipments):
            if (pin := problem.pinned.get(shipment.key)) is not None:
                pinned_to.setdefault(pin, []).append(index)
        all_pinned = [i for indices in pinned_to.values() for i in indices]
        pin_profiles = {vehicle: n + 1 for n, vehicle in enumerate(sorted(pinned_to))}
        # Above what inserting a pickup and a delivery into any route can add (each at most two
        # edges in place of one): a shipment that fits somewhere is always worth serving. (A prize
        # above a whole plan's distance would rank the count served strictly first, but made each
        # search iteration several times slower, and so the plans worse within the time.)
        weights = _distance_weights(problem.vehicles)
        prize = 4 * int(local_distance.max()) * max(weights.values()) + 1
        # Longer than any shift, and dearer than a shipment's prize: a closed edge is never worth it.
        far_duration = int(max(v.shift.end for v in problem.vehicles)) + int(local_duration.max()) + 1
        far_distance = 2 * prize
        distances = [local_distance]
        durations = [local_duration]
        for key in sorted(pinned_to):
            own = set(pinned_to[key])
            closed = [i for i in all_pinned if i not in own]
            distances.append(_closed(local_distance, first, len(shipments), closed, far_distance))
            durations.append(_closed(local_duration, first, len(shipments), closed, far_duration))
        if all_pinned:
            distances[0] = _closed(local_distance, first, len(shipments), all_pinned, far_distance)
            durations[0] = _closed(local_duration, first, len(shipments), all_pinned, far_duration)

        self.groups: dict[_Group, list[Vehicle]] = {}
        for vehicle in problem.vehicles:
            group = _Group(vehicle.depot, tuple(vehicle.capacity), (vehicle.shift.start, vehicle.shift.end),
                           pin_profiles.get(vehicle.key, 0), weights[vehicle.key])
            self.groups.setdefault(group, []).append(vehicle)
        self.types = list(self.groups)
        self.data = pyvrp.ProblemData(
            locations=[pyvrp.Location(0, 0) for _ in places],  # coordinates unused: matrices given
            clients=[],
            depots=[pyvrp.Depot(location=depot_index[place]) for place in depots],
            vehicle_types=[
                pyvrp.VehicleType(
                    num_available=len(self.groups[group]), capacity=list(group.capacity),
                    start_depot=depot_index[group.depot], end_depot=depot_index[group.depot],
                    tw_early=group.shift[0], tw_late=group.shift[1], profile=group.profile,
                    unit_distance_cost=group.weight,
                )
                for group in self.types
            ],
            distance_matrices=distances,  # type: ignore[arg-type]  # PyVRP's stub: ndarray[int], no array matches
            duration_matrices=durations,  # type: ignore[arg-type]  # (the same stub)
            shipments=[
                pyvrp.Shipment(
                    pickup_location=first + index, delivery_location=first + len(shipments) + index,
                    pickup_tw_early=s.pickup_window.start, pickup_tw_late=s.pickup_window.end,
                    pickup_service_duration=s.pickup_service_s,
                    delivery_tw_early=s.delivery_window.start, delivery_tw_late=s.delivery_window.end,
                    delivery_service_duration=s.delivery_service_s,
                    amount=list(s.load), prize=prize, required=False, name=s.key,
                )
                for index, s in enumerate(shipments)
            ],
        )

    def routes(self, solution: pyvrp.Solution) -> list[Route]:
        """Our routes of PyVRP's solution; a route PyVRP itself finds infeasible is left out."""
        by_type: dict[int, list[pyvrp.Route]] = {}
        for found in solution.routes():
            if found.is_feasible():  # the best solution may be infeasible when the time was too short
                by_type.setdefault(found.vehicle_type(), []).append(found)
        routes: list[Route] = []
        for type_index, found_routes in by_type.items():
            # Among interchangeable vehicles, the cheaper per km drives the longer route.
            vehicles = sorted(self.groups[self.types[type_index]], key=lambda v: v.cost_per_km)
            found_routes.sort(key=lambda r: -r.distance())
            for vehicle, found in zip(vehicles, found_routes, strict=False):
                visits = [(self.shipments[a.idx], StopAction.PICKUP if a.is_pickup() else StopAction.DELIVERY)
                          for a in found if a.is_shipment()]
                routes.append(_timed(vehicle, visits, self.distance, self.duration))
        return routes


def _closed(matrix: npt.NDArray[np.int64], first: int, count: int, closed: list[int],
            far: int) -> npt.NDArray[np.int64]:
    """``matrix`` with the pickups and deliveries of shipments ``closed`` out of reach."""
    result = matrix.copy()
    locations = [first + i for i in closed] + [first + count + i for i in closed]
    result[locations, :] = far
    result[:, locations] = far
    result[locations, locations] = 0
    return result


def _timed(vehicle: Vehicle, visits: Sequence[tuple[Shipment, StopAction]],
           distance: npt.NDArray[np.int64], duration: npt.NDArray[np.int64]) -> Route:
    """The route's stops timed from the matrices: leave as late as costs no time, wait when early."""
    places = [s.pickup if action is StopAction.PICKUP else s.delivery for s, action in visits]
    windows = [s.pickup_window if action is StopAction.PICKUP else s.delivery_window for s, action in visits]
    services = [s.pickup_service_s if action is StopAction.PICKUP else s.delivery_service_s for s, action in visits]
    legs = [vehicle.depot, *places, vehicle.depot]
    travel = [int(duration[a, b]) for a, b in zip(legs, legs[1:], strict=False)]

    def schedule(departure: int) -> tuple[list[tuple[int, int]], int]:
        times: list[tuple[int, int]] = []
        now = departure
        for leg, window, service in zip(travel, windows, services, strict=False):
            arrival = now + leg
            start = max(arrival, window.start)
            times.append((arrival, start))
            now = start + service
        return times, now + travel[-1]

    earliest, _ = schedule(vehicle.shift.start)
    # Leaving later by d delays stop i by max(0, d - waits up to i): take the largest d that
    # neither ends the day later nor misses a window.
    waited = 0
    delay: int | None = None
    for (arrival, start), window in zip(earliest, windows, strict=True):
        waited += start - arrival
        room = window.end - start + waited
        delay = room if delay is None else min(delay, room)
    delay = max(0, min(waited, delay if delay is not None else 0))
    times, back = schedule(vehicle.shift.start + delay)
    stops = tuple(
        Stop(shipment=s.key, action=action, place=place, arrival_s=arrival, start_s=start, end_s=start + service)
        for (s, action), place, (arrival, start), service in zip(visits, places, times, services, strict=True)
    )
    return Route(
        vehicle=vehicle.key, stops=stops, departure_s=vehicle.shift.start + delay, return_s=back,
        distance_m=sum(int(distance[a, b]) for a, b in zip(legs, legs[1:], strict=False)),
    )
