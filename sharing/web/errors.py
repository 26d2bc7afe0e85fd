"""Error pages that leak no internals, and RFC 9457 problem+json for the API."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import BadRequest, Forbidden, HTTPException, InternalServerError, MethodNotAllowed, NotFound

from sharing.errors import NotAllowed, NotVisible

log = logging.getLogger("sharing.errors")
API_PREFIX = "/api/"


def _titles() -> dict[int, str]:
    return {
        400: _("The request could not be understood"),
        401: _("You need to log in"),
        403: _("You do not have access to this page"),
        404: _("The page could not be found"),
        405: _("That action is not possible here"),
        413: _("The file is too large"),
        429: _("Too many attempts"),
        500: _("Something went wrong on our side"),
        503: _("The service is busy right now"),
    }


def _explanations() -> dict[int, str]:
    return {
        400: _("Something in the request was wrong or has expired. Go back, reload the page and try again."),
        403: _("Your account does not have the role or the municipality this page requires. "
               "Ask your municipality's administrator if you think you should have access."),
        404: _("The address may be mistyped, or what was here has been removed."),
        405: _("Go back and use the buttons on the page."),
        413: _("Choose a smaller file and try again."),
        429: _("Wait a while and try again."),
        500: _("The error has been logged. Try again in a moment."),
        503: _("Nothing was saved. Wait a few seconds and try again."),
    }


class RefusedInput(BadRequest):
    """A request whose input no part of the service can take (see hooks.refuse_unreadable_input);
    ``reason`` is "nul" or "depth"."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason

    def detail(self) -> str:
        if self.reason == "nul":
            return _("The request contained a NUL character (a zero byte), which is not allowed. "
                     "Remove it and try again.")
        return _("The request's JSON is nested too deeply.")


def problem(status: int, detail: str | None = None, *, title: str | None = None, **extra: Any) -> Response:
    """An RFC 9457 problem+json response."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or _titles().get(status, "Error"),
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def _is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def handle_http_error(error: HTTPException) -> Response:
    status = error.code or 500
    if isinstance(error, CSRFError):
        detail = _("The form had expired or was sent from elsewhere. Reload the page and try again.")
    elif isinstance(error, RefusedInput):
        detail = error.detail()
    else:
        detail = None
    response: Response
    if _is_api_request():
        response = problem(status, detail or (error.description if status < 500 else None))
    else:
        response = Response(render_template(
            "error.html",
            status=status,
            title=_titles().get(status, error.name),
            explanation=detail or _explanations().get(status, ""),
        ), status=status, mimetype="text/html")
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        # RFC 9110: a 405 says which methods the resource does allow.
        response.headers["Allow"] = ", ".join(sorted(error.valid_methods))
    return response


def handle_unexpected_error(error: Exception) -> Response:
    # The route's pattern, as the request log has it: a path may carry a secret (a feed's, a mailed link's).
    route = request.url_rule.rule if request.url_rule is not None else "(no route)"
    log.exception("unhandled error on %s %s", request.method, route)
    return handle_http_error(InternalServerError())


BUSY_RETRY_SECONDS = 5


def handle_database_error(error: OperationalError) -> Response:
    """SQLite's one writer at a time: a write that waited its whole busy timeout for another
    (a large import, say) is told to try again, as 503 with Retry-After, never as a 500."""
    if "database is locked" not in str(error.orig):
        return handle_unexpected_error(error)
    log.warning("a write on %s %s waited too long for the database", request.method, request.path)
    if _is_api_request():
        response = problem(503, _explanations()[503])
    else:
        response = Response(render_template("error.html", status=503, title=_titles()[503],
                                            explanation=_explanations()[503]), status=503, mimetype="text/html")
    response.headers["Retry-After"] = str(BUSY_RETRY_SECONDS)
    return response


def handle_not_visible(_error: NotVisible) -> Response:
    return handle_http_error(NotFound())


def handle_not_allowed(_error: NotAllowed) -> Response:
    return handle_http_error(Forbidden())


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    # The domains' access helpers raise these, for pages and API alike.
    app.register_error_handler(NotVisible, handle_not_visible)
    app.register_error_handler(NotAllowed, handle_not_allowed)
    app.register_error_handler(OperationalError, handle_database_error)
    app.register_error_handler(Exception, handle_unexpected_error)
