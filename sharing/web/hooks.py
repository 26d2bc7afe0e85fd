"""Per-request plumbing: security headers and a request log line."""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request

request_log = logging.getLogger("sharing.request")



def content_security_policy(*image_origins: str) -> str:
    """Everything is served by us: no third-party origins at all. Map tiles are the one
    configured exception, which the page that shows a map passes as an image origin."""
    images = " ".join(("'self'", "data:", *image_origins))
    return (
        f"default-src 'self'; img-src {images}; style-src 'self'; script-src 'self'; "
        "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


CONTENT_SECURITY_POLICY = content_security_policy()


def init_app(app: Flask) -> None:
    # First of all hooks, so refused requests are timed too.
    app.before_request_funcs.setdefault(None, []).insert(0, lambda: setattr(g, "request_started", time.perf_counter()))

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
