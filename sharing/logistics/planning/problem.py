"""A day's routing problem and its plan, as plain values.

Units, chosen so that a solver works in integers without losing what matters:
- places are indices into the matrices; ``distance_m`` in metres, ``duration_s`` in seconds;
- times are seconds from midnight of the planned day (local time), windows inclusive;
- loads are a tuple of dimensions, the same for every shipment and vehicle of a problem
  (in the service: litres of volume, then kilograms of weight, each rounded up).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt

# A square matrix of whole numbers: nested sequences, or a numpy array as ``distances`` gives.
IntMatrix = Sequence[Sequence[int]] | npt.NDArray[np.integer]


@dataclass(frozen=True)
class Window:
    """From ``start`` to ``end``, in seconds from the day's midnight; both inclusive."""

    start: int
    end: int


@dataclass(frozen=True)
class Shipment:
    """Pieces to be picked up at one place and delivered to another by the same vehicle."""

    key: str  # the caller's id of the job, unique in the problem
    pickup: int
    delivery: int
    load: tuple[int, ...]
    pickup_window: Window
    delivery_window: Window
    pickup_service_s: int = 0
    delivery_service_s: int = 0


@dataclass(frozen=True)
class Vehicle:
    """A vehicle available for the day: starts and ends at its depot within its shift."""

    key: str
    depot: int
    capacity: tuple[int, ...]
    shift: Window
    cost_per_km: float = 0.0  # kronor; weighs its kilometres in the planning (solver._distance_weights)


@dataclass(frozen=True)
class Problem:
    """Everything a solver and the feasibility check need, and nothing of the database."""

    distance_m: IntMatrix
    duration_s: IntMatrix
    shipments: Sequence[Shipment]
    vehicles: Sequence[Vehicle]
    # Shipments the coordinator has pinned to a vehicle: shipment key -> vehicle key.
    pinned: dict[str, str] = field(default_factory=dict)


class StopAction(StrEnum):
    PICKUP = "pickup"
    DELIVERY = "delivery"


@dataclass(frozen=True)
class Stop:
    """One visit on a route: the service starts at ``start_s`` (after any wait) and ends at ``end_s``."""

    shipment: str
    action: StopAction
    place: int
    arrival_s: int
    start_s: int
    end_s: int


@dataclass(frozen=True)
class Route:
    """One vehicle's day: leaves its depot at ``departure_s``, back at ``return_s``."""

    vehicle: str
    stops: tuple[Stop, ...]
    departure_s: int
    return_s: int
    distance_m: int


class UnservedReason(StrEnum):
    TOO_BIG = "too_big"  # larger than every vehicle's capacity, in some dimension
    WINDOW_UNREACHABLE = "window_unreachable"  # no vehicle can reach its windows within its shift
    NO_CAPACITY_LEFT = "no_capacity_left"  # could be served alone, but not with the rest of the day


@dataclass(frozen=True)
class Unserved:
    shipment: str
    reason: UnservedReason


@dataclass(frozen=True)
class Plan:
    """The routes planned (vehicles without stops are left out) and the shipments left over."""

    routes: tuple[Route, ...]
    unserved: tuple[Unserved, ...]

    @property
    def distance_m(self) -> int:
        return sum(route.distance_m for route in self.routes)
