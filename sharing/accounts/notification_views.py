"""The user's notifications: the count in the header, the list, opening one, marking all read."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from sharing.access import SIGNED_IN, allow
from sharing.accounts import notifications
from sharing.clock import utcnow
from sharing.db import Page, db_session
from sharing.web.arguments import page_number
from sharing.web.redirects import safe_next

blueprint = Blueprint("notifications", __name__, url_prefix="/notifications", template_folder="templates")
log = logging.getLogger("sharing.accounts")
PER_PAGE = 25


def unread_notifications() -> int:
    """The header's count: called only where a page shows it (for signed-in users)."""
    if not getattr(current_user, "is_authenticated", False):
        return 0
    try:
        return current_user.unread_notification_count  # loaded with the user (see auth.user_session_for)
    except SQLAlchemyError:  # an error page must still render when the database is down
        log.exception("could not count unread notifications")
        return 0


@blueprint.get("/")
@allow(SIGNED_IN)
def index() -> str:
    number = max(1, request.args.get("page", 1, type=page_number))
    rows, total = notifications.newest(db_session, user_id=current_user.id, page=number, per_page=PER_PAGE)
    return render_template("accounts/notifications.html", page=Page(rows, total, number, PER_PAGE),
                           retention_days=notifications.RETENTION.days,
                           read_retention_days=notifications.READ_RETENTION.days)


@blueprint.post("/<int:notification_id>/open")
@allow(SIGNED_IN)
def open_notification(notification_id: int) -> Response:
    """Mark it read and go where it points (a POST: marking read changes something)."""
    notification = notifications.mark_read(db_session, user_id=current_user.id, notification_id=notification_id,
                                           now=utcnow())
    if notification is None:
        abort(404)
    db_session.commit()
    return redirect(safe_next(notification.url, url_for("notifications.index")))


@blueprint.post("/read")
@allow(SIGNED_IN)
def read_all() -> Response:
    count = notifications.mark_all_read(db_session, user_id=current_user.id, now=utcnow())
    db_session.commit()
    if count:
        flash(_("All notifications are marked as read."), "success")
    return redirect(url_for("notifications.index"))
