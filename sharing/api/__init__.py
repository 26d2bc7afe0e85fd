"""The JSON API under /api/v1: token or session authentication, problem+json errors.

Each domain's endpoints live in a module here and call that domain's rules; no domain
imports the API.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request

from sharing.access import PUBLIC, allow
from sharing.api.common import ProblemError
from sharing.api.openapi import build_document, documented
from sharing.extensions import csrf

PREFIX = "/api/v1"
VERSION = "1.0.0"
blueprint = Blueprint("api", __name__, url_prefix=PREFIX)


@blueprint.before_request
def protect_session_writes() -> None:
    # A token in a header cannot be sent by another site; a session cookie can. So writes
    # made with the browser's session need the CSRF token, writes with an API token do not.
    if request.method not in {"GET", "HEAD", "OPTIONS"} and not g.get("api_token_used"):
        csrf.protect()


@blueprint.errorhandler(ProblemError)
def answer_problem(error: ProblemError) -> Response:
    return error.response


@blueprint.get("/openapi.json")
@allow(PUBLIC)
@documented("This OpenAPI document", tag="meta")
def openapi_document() -> Response:
    document = current_app.extensions.get("sharing.openapi")
    if document is None:
        document = build_document(current_app, blueprint="api", prefix=PREFIX,
                                  title="Delningstjänsten API", version=VERSION)
        current_app.extensions["sharing.openapi"] = document
    return jsonify(document)


def init_app(app: Flask) -> None:
    from sharing.api import accounts, catalog, idempotency, loans, logistics, notifications, plans, reports, wants  # noqa: F401  (they register their routes and hooks)

    idempotency.init_app(app)
    csrf.exempt(blueprint)
    app.register_blueprint(blueprint)
