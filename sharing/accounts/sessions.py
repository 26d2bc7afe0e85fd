"""How Flask-Login finds the user: a server-side session named by the cookie, or an API token."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from sharing.accounts import auth
from sharing.accounts.models import User
from sharing.clock import utcnow
from sharing.db import db_session, new_session
from sharing.extensions import login_manager
from sharing.web.errors import problem
from sharing.web.i18n import language_chosen

SESSION_KEY = "sid"
log = logging.getLogger("sharing.accounts")


@login_manager.user_loader
def load_session_user(user_id: str) -> auth.SignedInUser | None:
    """The user of the live server-side session the cookie names; an ended one signs out."""
    raw = session.get(SESSION_KEY)
    if not raw or not user_id.isdigit():
        return None
    config = current_app.config
    now = utcnow()
    found = auth.user_session_for(db_session, raw)
    check = auth.check_user_session(found, now=now, idle=timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
                                    absolute=timedelta(hours=config["SESSION_ABSOLUTE_HOURS"]))
    if found is not None and check in (auth.SessionCheck.SEEN, auth.SessionCheck.EXPIRED):
        # A short session of its own: noting this must not commit (or be rolled back with)
        # whatever the request's own session is in the middle of.
        try:
            with new_session() as own:
                auth.note_session_check(own, user_session_id=found.id, check=check, now=now)
                own.commit()
        except SQLAlchemyError:  # the page need not fail for it (SQLite busy with an import, say)
            log.warning("could not note session %s as %s", found.id, check.value, exc_info=True)
    live = found if check.live else None
    g.user_session_id = live.id if live is not None else None
    user = live.user if live is not None and live.user_id == int(user_id) else None
    if user is None:  # ended, or the user can no longer sign in
        _clear_keeping_language()
        g.session_ended = True
        return None
    return user


@login_manager.request_loader
def load_token_user(req: object) -> auth.SignedInUser | None:
    """API clients send ``Authorization: Bearer <token>``, honoured by the API alone: a token
    is no way into the web pages (the account page, administration)."""
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if request.blueprint != "api" or scheme.lower() != "bearer" or not raw.strip():
        return None
    with new_session() as own:  # noting the token's last use is not the request's business
        user_id = auth.user_id_for_api_token(own, raw=raw.strip(), now=utcnow())
        own.commit()
    user = auth.signed_in_user(db_session, user_id) if user_id is not None else None
    if user is None:
        return None
    g.api_token_used = True
    return user


def _clear_keeping_language() -> None:
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale


def start_session(user: User) -> None:
    """A fresh session for a user who just proved who they are (no fixation)."""
    _clear_keeping_language()
    raw = auth.start_user_session(db_session, user=user, user_agent=request.user_agent.string, now=utcnow())
    db_session.commit()
    session[SESSION_KEY] = raw
    session.permanent = True


def end_session() -> None:
    """Log out: the server-side session ends, so a copied cookie is worthless too."""
    user_session_id = g.get("user_session_id")
    user_id = session.get("_user_id")
    if user_session_id is not None and user_id:
        auth.end_user_sessions(db_session, user_id=int(user_id), now=utcnow(), only_session_id=user_session_id)
        db_session.commit()
    logout_user()
    _clear_keeping_language()


SECOND_STEP_KEY = "second_step"
SECOND_STEP_SECONDS = 300


def begin_second_step(user: User, next_url: str | None) -> None:
    """The password was right; remember who is half-way in, for a few minutes only."""
    _clear_keeping_language()
    session[SECOND_STEP_KEY] = {"user_id": user.id, "at": utcnow().timestamp(), "next": next_url or ""}


def pending_second_step() -> tuple[int, str] | None:
    pending = session.get(SECOND_STEP_KEY)
    if not pending or utcnow().timestamp() - pending["at"] > SECOND_STEP_SECONDS:
        return None
    return pending["user_id"], pending["next"]


# What a user who must turn on two-step verification can still reach.
ENROLMENT_ENDPOINTS = {"accounts.two_step", "accounts.logout", "web.set_language", "static"}


def require_two_step_enrolment() -> Response | None:
    """Users whose role requires two-step verification turn it on before anything else."""
    required = current_app.config["MFA_REQUIRED_ROLES"]
    if (not required or not current_user.is_authenticated or current_user.two_step
            or not current_user.roles & set(required)):
        return None
    if g.get("api_token_used"):
        # A token made before the role required it, or before the requirement, is no way
        # around it: it works again once two-step verification is on.
        log.info("api token refused, two-step verification not on: user %s", current_user.id)
        return problem(403, str(_l("Your role requires two-step verification. Turn it on in the service "
                                   "before using an API token.")))
    if request.endpoint in ENROLMENT_ENDPOINTS:
        return None
    flash(_l("Your role requires two-step verification. Turn it on to continue."), "info")
    return redirect(url_for("accounts.two_step"))


@login_manager.unauthorized_handler
def unauthorized() -> Response:
    if request.path.startswith("/api/"):
        return problem(401, str(_l("Send a valid API token: Authorization: Bearer <token>.")))
    if g.get("session_ended"):
        flash(_l("Your session has ended. Please log in again."), "info")
    else:
        flash(login_manager.login_message, login_manager.login_message_category)
    # full_path ends with "?" when there is no query: the page's own address has none.
    return redirect(url_for("accounts.login", next=request.full_path.removesuffix("?") if request.method == "GET"
                            else None))


def remember_language(sender: Flask, *, user_id: int, language: str) -> None:
    """The ``language_chosen`` receiver. The cookie keeps the choice for this session whatever
    happens here."""
    try:
        with new_session() as own:
            auth.remember_language(own, user_id=user_id, language=language)
            own.commit()
    except SQLAlchemyError:  # SQLite busy with an import, say
        log.warning("could not remember the language of user %s", user_id, exc_info=True)


def init_app(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # server-side sessions do this, for every worker
    app.permanent_session_lifetime = timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"])
    app.before_request(require_two_step_enrolment)
    language_chosen.connect(remember_language)  # module-level: connecting again changes nothing
