"""The accessibility statement and the privacy notice.

Each is a whole document per language (legal text reads as one piece, and is reviewed as
one), in templates/legal/<page>_<language>.html. The periods the privacy notice states come
from the code that enforces them, so the page cannot drift from what is done.
"""

from __future__ import annotations

from datetime import date

from babel.lists import format_list
from flask import Blueprint, current_app, render_template
from flask_babel import get_locale
from sqlalchemy import select
from sqlmodel import col

from sharing.access import PUBLIC, allow
from sharing.accounts import LOGIN_ATTEMPTS_KEPT, SESSIONS_KEPT, SSO_REFUSALS_KEPT, notifications
from sharing.accounts.models import Municipality
from sharing.api import idempotency
from sharing.catalog.imports.rules import PENDING_KEPT
from sharing.db import db_session
from sharing.loans import retention as loan_retention
from sharing.logistics.jobs.rules import NOTES_KEPT

blueprint = Blueprint("legal", __name__, template_folder="templates")

# When the accessibility statement was drawn up, and last reviewed (update with each review).
STATEMENT_DRAWN_UP = date(2026, 12, 3)
STATEMENT_REVIEWED = date(2026, 12, 3)


def _language() -> str:
    return "sv" if str(get_locale()) == "sv" else "en"


def _municipalities() -> list[Municipality]:
    return list(db_session.scalars(select(Municipality).where(col(Municipality.active)).order_by(Municipality.name)))


@blueprint.get("/accessibility")
@allow(PUBLIC)
def accessibility() -> str:
    municipalities = _municipalities()
    return render_template("legal/accessibility.html", language=_language(), municipalities=municipalities,
                           members=format_list([m.name for m in municipalities], locale=_language()),
                           drawn_up=STATEMENT_DRAWN_UP, reviewed=STATEMENT_REVIEWED)


@blueprint.get("/privacy")
@allow(PUBLIC)
def privacy() -> str:
    config = current_app.config
    return render_template(
        "legal/privacy.html", language=_language(), municipalities=_municipalities(),
        login_attempt_hours=int(LOGIN_ATTEMPTS_KEPT.total_seconds() // 3600),
        session_days=SESSIONS_KEPT.days, notification_days=notifications.RETENTION.days,
        notification_read_days=notifications.READ_RETENTION.days, sso_refusal_days=SSO_REFUSALS_KEPT.days,
        known_address_days=config["LOGIN_KNOWN_ADDRESS_DAYS"],
        import_hours=int(PENDING_KEPT.total_seconds() // 3600),
        idempotency_hours=int(idempotency.KEPT.total_seconds() // 3600),
        request_text_days=loan_retention.REQUEST_TEXT_KEPT.days, queue_place_days=loan_retention.QUEUE_PLACE_KEPT.days,
        transport_notes_days=NOTES_KEPT.days,
        idle_minutes=config["SESSION_IDLE_MINUTES"], absolute_hours=config["SESSION_ABSOLUTE_HOURS"],
        reset_hours=config["PASSWORD_RESET_HOURS"], invitation_days=config["INVITATION_DAYS"],
        tile_server=config["MAP_TILE_URL"])
