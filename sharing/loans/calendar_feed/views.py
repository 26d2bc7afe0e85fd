"""The calendar feed's page (make, replace or revoke one's secret address) and the feed itself,
which calendar apps fetch without a session."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from sharing.access import PUBLIC, SIGNED_IN, allow
from sharing.clock import utcnow
from sharing.db import db_session
from sharing.errors import NotVisible
from sharing.loans.calendar_feed import labels
from sharing.loans.calendar_feed import rules as feeds
from sharing.web.paths import external_url

blueprint = Blueprint("calendar_feed", __name__, url_prefix="/loans/calendar", template_folder="templates")
security_log = logging.getLogger("sharing.security")


def _page(new_secret: str | None = None) -> str:
    return render_template("loans/calendar_feed.html", feed=feeds.feed_of(db_session, user_id=current_user.id),
                           feed_url=external_url("calendar_feed.feed", secret=new_secret) if new_secret else None)


@blueprint.get("/")
@allow(SIGNED_IN)
def settings() -> str:
    return _page()


@blueprint.post("/")
@allow(SIGNED_IN)
def make() -> str:
    """A new address, shown once on the page that answers (never kept in the session or a redirect)."""
    secret = feeds.make_secret(db_session, user_id=current_user.id, now=utcnow())
    db_session.commit()
    security_log.info("calendar feed secret made: user %s", current_user.id)
    return _page(new_secret=secret)


@blueprint.post("/revoke")
@allow(SIGNED_IN)
def revoke() -> Response:
    if feeds.revoke(db_session, user_id=current_user.id):
        db_session.commit()
        security_log.info("calendar feed revoked: user %s", current_user.id)
        flash(_("The calendar address is revoked: calendar apps get nothing more from it."), "success")
    return redirect(url_for("calendar_feed.settings"))


@blueprint.get("/<secret>.ics")
@allow(PUBLIC)
def feed(secret: str) -> Response:
    """The owner's feed, in their language. An unknown and a revoked secret are the same 404.
    The request log names the route, never the path with its secret."""
    owner = feeds.owner_of(db_session, secret=secret)
    if owner is None:
        raise NotVisible("calendar feed")
    assert owner.id is not None
    locale = owner.locale if owner.locale in current_app.config["LANGUAGES"] else "sv"
    with force_locale(locale):
        body = feeds.ical(feeds.entries(db_session, owner), uid=feeds.calendar_uid(owner.id),
                          name=_("Delningstjänsten: loans"), summary=labels.summary,
                          link=lambda request_id: external_url("loans.detail", request_id=request_id))
    response = Response(body, content_type="text/calendar; charset=utf-8")
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
