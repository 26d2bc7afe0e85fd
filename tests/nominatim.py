"""A stand-in for the external geocoding service: a real HTTP server on 127.0.0.1 that answers
Nominatim's /search as Nominatim does (a JSON list of places) for the streets a test gives it,
and counts what it was asked. It can also be slow. Tests point the app's geocoder at it; the
real Nominatim is never asked by a test."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Asked:
    params: dict[str, str]
    user_agent: str
    at: float  # time.monotonic() when it arrived


class StandInNominatim:
    def __init__(self) -> None:
        self.places: dict[str, dict[str, Any]] = {}  # by street, case-folded
        self.asked: list[Asked] = []
        self.delay = 0.0  # seconds before answering (a slow service)
        self._released = threading.Event()  # ends a slow answer early when the server closes
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802  (http.server's name)
                url = urlsplit(self.path)
                params = dict(parse_qsl(url.query))
                stand_in.asked.append(Asked(params, self.headers.get("User-Agent", ""), time.monotonic()))
                if stand_in.delay:
                    stand_in._released.wait(stand_in.delay)
                if url.path != "/search":
                    self._send(404, {"error": "not found"})
                    return
                found = stand_in.places.get(params.get("street", "").casefold())
                self._send(200, [found] if found else [])

            def _send(self, status: int, body: object) -> None:
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the geocoder gave up waiting, as it should

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  (the base class's name)
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="stand-in-nominatim", daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def add(self, street: str, latitude: float, longitude: float, *, place_rank: int = 30) -> None:
        """Nominatim knows the street address: answer with a place of this rank (30: a house)."""
        self.places[street.casefold()] = {
            "place_id": len(self.places) + 1, "licence": "Data © OpenStreetMap contributors, ODbL 1.0.",
            "osm_type": "way", "osm_id": 1000 + len(self.places), "lat": str(latitude), "lon": str(longitude),
            "class": "building", "type": "yes", "place_rank": place_rank, "importance": 0.1,
            "addresstype": "building", "name": "", "display_name": f"{street}, Sverige",
            "boundingbox": [str(latitude - 0.0001), str(latitude + 0.0001), str(longitude - 0.0001),
                            str(longitude + 0.0001)],
        }

    def close(self) -> None:
        self._released.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def unreachable_url() -> str:
    """An address where nothing listens: the service is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
