"""Per-request plumbing: input no part of the service can take, security headers, a
request log line, and a bound on the messages waiting in the session."""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, g, message_flashed, request, session

from sharing.web.errors import RefusedInput

request_log = logging.getLogger("sharing.request")
# JSON nested deeper than any body of ours: refused before a parser or validator recurses into it.
MAX_JSON_DEPTH = 32
# Messages flashed wait in the session cookie for the next page to show them. A client that
# shows none (a script taking step after step) would make its cookie grow with every step,
# and every request read and write it whole: only the newest few wait.
FLASHES_KEPT = 10


def keep_few_flashes(sender: Flask, **extra: Any) -> None:
    """The ``message_flashed`` receiver: drop the oldest waiting messages beyond FLASHES_KEPT."""
    waiting = session.get("_flashes")
    if waiting is not None and len(waiting) > FLASHES_KEPT:
        session["_flashes"] = waiting[-FLASHES_KEPT:]


def refuse_unreadable_input() -> None:
    """Refuse, for every request, what no database or parser of ours can take: a NUL character
    (PostgreSQL's text cannot hold one) in the path, the query, a form or JSON, and JSON nested
    without end (Python's parser would exhaust its stack). A 400 that says why, rather than
    a 500 from deep inside a view."""
    if "\x00" in request.path or any("\x00" in key or "\x00" in value
                                       for key, value in request.args.items(multi=True)):
        raise RefusedInput("nul")
    if request.method in {"GET", "HEAD", "OPTIONS"}:
        return
    if request.mimetype in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        # A part of a multipart body may come without a name: its key is None.
        if any("\x00" in (key or "") or "\x00" in value for key, value in request.form.items(multi=True)):
            raise RefusedInput("nul")
    elif request.is_json:
        try:
            body = request.get_json(silent=True)  # kept by the request: the view reads it again for free
        except RecursionError:
            raise RefusedInput("depth") from None
        _check_json(body)


def _check_json(body: Any) -> None:
    """Walk the parsed body without recursion: its depth, and NUL in every key and string."""
    pending: list[tuple[Any, int]] = [(body, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise RefusedInput("nul")
        elif isinstance(value, (list, dict)):
            if depth > MAX_JSON_DEPTH:
                raise RefusedInput("depth")
            if isinstance(value, dict):
                pending.extend((key, depth) for key in value)
                pending.extend((item, depth + 1) for item in value.values())
            else:
                pending.extend((item, depth + 1) for item in value)



def content_security_policy(*image_origins: str, form_origins: tuple[str, ...] = ()) -> str:
    """Everything is served by us: no third-party origins at all. The configured exceptions:
    map tiles, which the page that shows a map passes as an image origin, and a municipality's
    identity provider, which the page that sends the browser there passes as a form origin."""
    images = " ".join(("'self'", "data:", *image_origins))
    forms = " ".join(("'self'", *form_origins))
    return (
        f"default-src 'self'; img-src {images}; style-src 'self'; script-src 'self'; "
        "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        f"form-action {forms}; frame-ancestors 'none'"
    )


CONTENT_SECURITY_POLICY = content_security_policy()


def tile_origin(template: str) -> str | None:
    """The origin a configured tile server's images come from (none when none is configured).
    A server that spreads its tiles over subdomains ({s}.kartor.example) is allowed all of them."""
    tiles = urlsplit(template.strip())
    if tiles.scheme not in ("http", "https") or not tiles.netloc:
        return None
    return f"{tiles.scheme}://{tiles.netloc.replace('{s}', '*')}"


def init_app(app: Flask) -> None:
    # First of all hooks, so refused requests are timed too.
    app.before_request_funcs.setdefault(None, []).insert(0, lambda: setattr(g, "request_started", time.perf_counter()))
    # Next, before access, CSRF or any view reads the input.
    app.before_request_funcs[None].insert(1, refuse_unreadable_input)
    message_flashed.connect(keep_few_flashes, app)

    @app.after_request
    def secure_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Permissions-Policy", "camera=(self), geolocation=(self), microphone=()")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config["SESSION_COOKIE_SECURE"]:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        # Pages may hold personal data: no shared caches, no back-button copies after logout.
        if request.endpoint != "static" and "Cache-Control" not in headers:
            headers["Cache-Control"] = "no-store"
        return response

    @app.after_request
    def log_request(response: Response) -> Response:
        if request.endpoint == "static" or not request_log.isEnabledFor(logging.INFO):
            return response
        started = g.get("request_started")
        elapsed_ms = (time.perf_counter() - started) * 1000 if started else -1.0
        # Only a user already loaded: logging must not load one (or touch their session).
        user = g.get("_login_user")
        user_id = user.get_id() if user is not None and user.is_authenticated else "-"
        # The route's pattern, not the path: paths can carry secrets (mailed links) and
        # characters that would forge log lines. The user's id, never a name or address.
        route = request.url_rule.rule if request.url_rule is not None else "(no route)"
        request_log.info("%s %s %s %.1fms user=%s", request.method, route, response.status_code, elapsed_ms, user_id)
        return response
