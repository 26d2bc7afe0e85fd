"""The front page, the language switch and the health check."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from sharing.access import PUBLIC, allow
from sharing.clock import utcnow
from sharing.db import db_session
from sharing.typed import app_object
from sharing.web.i18n import language_chosen
from sharing.web.nav import shortcuts, waiting_work
from sharing.web.redirects import safe_next

blueprint = Blueprint("web", __name__)



@blueprint.get("/")
@allow(PUBLIC)
def index() -> str:
    # The signed-in start page's tasks are built once per set of roles (nav.shortcuts), and the
    # unread count comes with the user; the work waiting is counted anew, a query for each kind.
    if not current_user.is_authenticated:
        return render_template("index.html", shortcuts=[], waiting=[])
    return render_template("index.html", shortcuts=shortcuts(current_user),
                           waiting=waiting_work(db_session, current_user, utcnow()))


@blueprint.post("/language")
@allow(PUBLIC)
def set_language() -> Response:
    language = request.form.get("language", "")
    if language in current_app.config["LANGUAGES"]:
        session["locale"] = language
        if current_user.is_authenticated:
            language_chosen.send(app_object(), user_id=current_user.id,
                                 language=language)
    return redirect(safe_next(request.form.get("next"), url_for("web.index")))


@blueprint.get("/healthz")
@allow(PUBLIC)
def healthz() -> tuple[Response, int]:
    try:
        db_session.execute(select(1))
    except Exception:  # noqa: BLE001 - any database failure means unhealthy
        current_app.logger.exception("health check failed")
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok"), 200
