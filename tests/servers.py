"""The app served as in production (gunicorn, several worker processes) on a test's database,
and signed-in HTTP clients for it: for what only separate processes racing can show."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class HttpClient:
    """A browser-like client: cookies, and the CSRF token read from a page."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  _NoRedirects())

    def get(self, path: str) -> tuple[int, str]:
        return self._open(urllib.request.Request(self.base + path))

    def post(self, path: str, data: dict[str, object]) -> tuple[int, str]:
        body = urllib.parse.urlencode({k: str(v) for k, v in data.items()}).encode()
        return self._open(urllib.request.Request(self.base + path, data=body))

    def post_json(self, path: str, body: object, headers: dict[str, str]) -> tuple[int, str]:
        """An API call: a JSON body, and headers of its own (a bearer token)."""
        return self._open(urllib.request.Request(self.base + path, data=json.dumps(body).encode(), method="POST",
                                                 headers={"Content-Type": "application/json", **headers}))

    def _open(self, request: urllib.request.Request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:  # 3xx (not followed) and 4xx/5xx: answers too
            return error.code, error.read().decode()

    def csrf_token(self, path: str = "/login") -> str:
        _, page = self.get(path)
        found = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
        assert found, f"no CSRF token on {path}"
        return found.group(1)

    def login(self, email: str, password: str) -> None:
        status, _ = self.post("/login", {"email": email, "password": password, "csrf_token": self.csrf_token()})
        assert status == 302, f"could not log in as {email}: {status}"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def gunicorn(database_url: str, folder: Path, *, workers: int = 4, threads: int = 4) -> Iterator[str]:
    """Serve the app on the database with gunicorn; yields its base URL. Its mail and its log
    go to ``folder`` (the log is shown if it fails to start)."""
    port = _free_port()
    log = folder / "gunicorn.log"
    env = {**os.environ, "SHARING_ENV": "production", "SHARING_DATABASE_URL": database_url,
           "SHARING_SECRET_KEY": secrets.token_hex(32), "SHARING_SECURE_COOKIES": "false",
           "SHARING_LOG_LEVEL": "WARNING", "SHARING_MFA_REQUIRED_ROLES": "", "SHARING_MAIL_BACKEND": "outbox",
           "SHARING_MAIL_OUTBOX_DIR": str(folder / "outbox"), "SHARING_INSTANCE_PATH": str(folder),
           "SHARING_LOGIN_MAX_FAILURES_PER_ADDRESS": "100000",
           "SHARING_GEOCODER": "none"}  # production settings, but no request to a geocoder
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}",
             "--workers", str(workers), "--threads", str(threads), "wsgi:app"],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn stopped: {log.read_text()}")
            try:
                if HttpClient(base).get("/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("gunicorn did not start")
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
