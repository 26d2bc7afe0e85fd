"""The one distance-matrix interface, and its providers: straight lines on the globe, or an OSRM server.

Points are ``(latitude, longitude)`` pairs in degrees, as the sites store them. A provider answers
with whole metres and whole seconds, the units a ``Problem`` takes.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

# The mean radius of the earth (IUGG), the haversine formula's usual sphere.
EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class Matrices:
    """From every point to every point: ``distance_m[i, j]`` metres and ``duration_s[i, j]`` seconds."""

    distance_m: npt.NDArray[np.int64]
    duration_s: npt.NDArray[np.int64]


class DistanceMatrixError(Exception):
    """A provider could not give the matrices (service unreachable, or an answer it cannot read)."""


class DistanceMatrix(Protocol):
    """Gives the distance and travel-time matrices between points."""

    def between(self, points: Sequence[tuple[float, float]]) -> Matrices:
        """The matrices between ``points`` (latitude, longitude), in their order."""
        ...


@dataclass(frozen=True)
class StraightLine:
    """The great-circle distance, lengthened by a detour factor; time from an assumed average speed.

    Published measures of road-network circuity (road distance over straight-line distance)
    are about 1.3 for trips of this length; 50 km/h is a van's average between town streets
    (30-50 km/h) and the country roads between the three towns (70-80 km/h).
    """

    detour_factor: float = 1.3
    speed_kmh: float = 50.0

    def between(self, points: Sequence[tuple[float, float]]) -> Matrices:
        """The matrices between ``points``, all pairs at once with numpy (haversine)."""
        if self.detour_factor <= 0 or self.speed_kmh <= 0:
            raise ValueError("detour_factor and speed_kmh must be positive")
        coordinates = np.radians(np.asarray(points, dtype=np.float64).reshape(-1, 2))
        latitude, longitude = coordinates[:, 0:1], coordinates[:, 1:2]
        half_chord = (np.sin((latitude - latitude.T) / 2) ** 2
                      + np.cos(latitude) * np.cos(latitude.T) * np.sin((longitude - longitude.T) / 2) ** 2)
        metres = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(half_chord, 0.0, 1.0))) * self.detour_factor
        seconds = metres / (self.speed_kmh / 3.6)
        return Matrices(np.rint(metres).astype(np.int64), np.rint(seconds).astype(np.int64))


@dataclass(frozen=True)
class Osrm:
    """An OSRM routing server's table service: road distances and driving times.

    ``table_url`` is the service up to its profile, e.g. ``http://osrm.internal:5000/table/v1/driving``.
    A server answers at most ``max_locations`` sources times as many destinations at once (OSRM's
    ``--max-table-size``, 100 by default), so a larger matrix is asked for in blocks.
    """

    table_url: str
    timeout_s: float = 10.0
    max_locations: int = 100

    def between(self, points: Sequence[tuple[float, float]]) -> Matrices:
        """The matrices between ``points``, from as many table requests as the server's limit needs."""
        count = len(points)
        distance = np.zeros((count, count), dtype=np.int64)
        duration = np.zeros((count, count), dtype=np.int64)
        blocks = [range(start, min(start + self.max_locations, count)) for start in range(0, count, self.max_locations)]
        for sources in blocks:
            for destinations in blocks:
                block_distance, block_duration = self._table(points, sources, destinations)
                distance[sources.start:sources.stop, destinations.start:destinations.stop] = block_distance
                duration[sources.start:sources.stop, destinations.start:destinations.stop] = block_duration
        return Matrices(distance, duration)

    def _table(self, points: Sequence[tuple[float, float]], sources: range,
               destinations: range) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        # One request naming each point once: a diagonal block's sources are its destinations.
        same = sources == destinations
        asked = list(sources) if same else [*sources, *destinations]
        coordinates = ";".join(f"{longitude:.6f},{latitude:.6f}" for latitude, longitude in (points[i] for i in asked))
        query = "annotations=distance,duration"
        if not same:
            query += ("&sources=" + ";".join(str(i) for i in range(len(sources)))
                      + "&destinations=" + ";".join(str(i) for i in range(len(sources), len(asked))))
        url = f"{self.table_url.rstrip('/')}/{coordinates}?{query}"
        try:
            with urllib.request.urlopen(url, timeout=self.timeout_s) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as error:  # OSRM says what is wrong in a JSON body
            raise DistanceMatrixError(f"OSRM answered HTTP {error.code}: {_message(error)}") from error
        except (urllib.error.URLError, OSError) as error:  # unreachable, refused, timed out
            raise DistanceMatrixError(f"OSRM could not be reached at {self.table_url}: {error}") from error
        except ValueError as error:
            raise DistanceMatrixError("OSRM's answer is not JSON") from error
        if not isinstance(answer, dict) or answer.get("code") != "Ok":
            code = answer.get("code") if isinstance(answer, dict) else None
            raise DistanceMatrixError(f"OSRM refused the table: {code}")
        shape = (len(sources), len(destinations))
        return _whole(answer, "distances", shape), _whole(answer, "durations", shape)


def _whole(answer: dict[str, object], name: str, shape: tuple[int, int]) -> npt.NDArray[np.int64]:
    """One of the answer's matrices, rounded to whole units; an unroutable pair (null) is an error."""
    try:
        values = np.asarray(answer.get(name), dtype=np.float64)  # null (no route) becomes NaN
    except (TypeError, ValueError) as error:
        raise DistanceMatrixError(f"OSRM's {name} are not a matrix of numbers") from error
    if values.shape != shape:
        raise DistanceMatrixError(f"OSRM's {name} are not a {shape[0]}x{shape[1]} matrix")
    if np.isnan(values).any():
        raise DistanceMatrixError(f"OSRM found no route between some of the points (null {name})")
    if not np.isfinite(values).all() or (values < 0).any():
        raise DistanceMatrixError(f"OSRM's {name} are not all finite and non-negative")
    return np.rint(values).astype(np.int64)


def _message(error: urllib.error.HTTPError) -> str:
    """The ``message`` of an OSRM error body, else the HTTP reason."""
    try:
        body = json.loads(error.read())
        return str(body.get("message") or body.get("code"))
    except (ValueError, AttributeError, OSError):
        return str(error.reason)
