"""The distance-matrix providers: straight lines against geopy's geodesic, and the OSRM client
against a small HTTP server answering as an OSRM table service does."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from geopy.distance import geodesic

from sharing.logistics.planning.distances import DistanceMatrix, DistanceMatrixError, Osrm, StraightLine

# The demo's stores and a few far places: Ystad, Skurup, Trelleborg, Löderup, Slimminge; Lund, Stockholm.
PLACES = [(55.4426, 13.8278), (55.4721, 13.5164), (55.3896, 13.1554), (55.3869, 14.1124), (55.5432, 13.5191),
          (55.7047, 13.1910), (59.3293, 18.0686)]


def test_straight_lines_are_within_half_a_percent_of_the_geodesic():
    matrices = StraightLine(detour_factor=1.0).between(PLACES)
    for i, a in enumerate(PLACES):
        for j, b in enumerate(PLACES):
            if i != j:
                exact = geodesic(a, b).meters
                assert abs(matrices.distance_m[i, j] - exact) <= 0.005 * exact, (a, b)
    assert (np.diag(matrices.distance_m) == 0).all()
    assert (matrices.distance_m == matrices.distance_m.T).all()


def test_the_detour_factor_lengthens_and_the_speed_times():
    straight = StraightLine(detour_factor=1.0, speed_kmh=36).between(PLACES[:3])
    road = StraightLine(detour_factor=1.3, speed_kmh=36).between(PLACES[:3])
    assert road.distance_m.dtype == road.duration_s.dtype == np.int64
    assert np.abs(road.distance_m - 1.3 * straight.distance_m).max() <= 1
    assert np.abs(road.duration_s - road.distance_m / 10).max() <= 1  # 36 km/h is 10 m/s


def test_no_points_no_matrix():
    assert StraightLine().between([]).distance_m.shape == (0, 0)


def metres(a: tuple[float, float], b: tuple[float, float]) -> int:
    """The test server's road distance: a made-up but asymmetric rule, so blocks cannot be mixed up."""
    return round(abs(a[0] - b[0]) * 111_000 + abs(a[1] - b[1]) * 63_000 + (500 if a[0] < b[0] else 0))


class FakeOsrm(BaseHTTPRequestHandler):
    """Answers ``/table/v1/driving/lon,lat;...`` as OSRM does, or as ``server.answer`` says."""

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        self.server.requests.append(self.path)  # type: ignore[attr-defined]
        answer: Callable[[FakeOsrm], None] | None = self.server.answer  # type: ignore[attr-defined]
        if answer is not None:
            answer(self)
            return
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        prefix = "/table/v1/driving/"
        assert url.path.startswith(prefix) and query["annotations"] == ["distance,duration"]
        points = [tuple(float(v) for v in pair.split(",")[::-1]) for pair in url.path[len(prefix):].split(";")]
        sources = [int(i) for i in query["sources"][0].split(";")] if "sources" in query else range(len(points))
        targets = [int(i) for i in query["destinations"][0].split(";")] if "destinations" in query else \
            range(len(points))
        distances = [[metres(points[s], points[t]) + 0.4 for t in targets] for s in sources]
        self.reply(200, {"code": "Ok", "distances": distances,
                         "durations": [[d / 12.5 for d in row] for row in distances]})

    def reply(self, status: int, body: object, raw: bytes | None = None) -> None:
        data = raw if raw is not None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:  # quiet
        pass


@pytest.fixture
def osrm() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOsrm)
    server.requests = []  # type: ignore[attr-defined]
    server.answer = None  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def table_url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/table/v1/driving/"


def test_osrm_gives_whole_metres_and_seconds_in_the_points_order(osrm):
    provider: DistanceMatrix = Osrm(table_url(osrm), timeout_s=5)
    matrices = provider.between(PLACES[:4])
    expected = np.array([[metres(a, b) for b in PLACES[:4]] for a in PLACES[:4]])
    assert (matrices.distance_m == expected).all()  # 0.4 m rounded away
    assert (matrices.duration_s == np.rint((expected + 0.4) / 12.5)).all()
    assert len(osrm.requests) == 1 and "13.827800,55.442600" in osrm.requests[0]  # longitude first


def test_osrm_matrices_larger_than_the_servers_limit_come_in_blocks(osrm):
    matrices = Osrm(table_url(osrm), max_locations=3).between(PLACES)
    expected = np.array([[metres(a, b) for b in PLACES] for a in PLACES])
    assert (matrices.distance_m == expected).all()
    assert len(osrm.requests) == 9  # 3 x 3 blocks of at most 3 sources and 3 destinations
    for path in osrm.requests:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
        if "sources" in query:
            assert len(query["sources"][0].split(";")) <= 3 and len(query["destinations"][0].split(";")) <= 3


def refuse(handler: FakeOsrm) -> None:
    handler.reply(400, {"code": "TooBig", "message": "Too many table coordinates"})


def unreachable(handler: FakeOsrm) -> None:
    handler.reply(200, {"code": "Ok", "distances": [[0, None], [1, 0]], "durations": [[0, None], [1, 0]]})


def not_json(handler: FakeOsrm) -> None:
    handler.reply(200, None, raw=b"<html>proxy error</html>")


def wrong_shape(handler: FakeOsrm) -> None:
    handler.reply(200, {"code": "Ok", "distances": [[0]], "durations": [[0]]})


def no_route(handler: FakeOsrm) -> None:
    handler.reply(200, {"code": "NoTable", "message": "No table found"})


def slow(handler: FakeOsrm) -> None:
    time.sleep(1.0)
    try:
        handler.reply(200, {"code": "Ok", "distances": [[0, 1], [1, 0]], "durations": [[0, 1], [1, 0]]})
    except (BrokenPipeError, ConnectionResetError):  # the client has given up, as it should
        pass


@pytest.mark.parametrize(("answer", "says"), [
    (refuse, "HTTP 400: Too many table coordinates"),
    (unreachable, "no route between some of the points"),
    (not_json, "not JSON"),
    (wrong_shape, "not a 2x2 matrix"),
    (no_route, "NoTable"),
    (slow, "could not be reached"),
])
def test_osrm_failures_raise_our_own_error(osrm, answer, says):
    osrm.answer = answer
    with pytest.raises(DistanceMatrixError, match=says):
        Osrm(table_url(osrm), timeout_s=0.3).between(PLACES[:2])


def test_osrm_not_listening_raises_our_own_error():
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(DistanceMatrixError, match="could not be reached"):
        Osrm(f"http://127.0.0.1:{port}/table/v1/driving", timeout_s=1).between(PLACES[:2])
