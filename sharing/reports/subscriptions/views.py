"""Subscribing to the monthly report, and unsubscribing, from the dashboard's form."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from sharing.access import allow
from sharing.clock import utcnow
from sharing.db import db_session
from sharing.errors import DomainError
from sharing.i18n import N_
from sharing.reports.subscriptions import rules
from sharing.web.arguments import MAX_ID
from sharing.web.forms import refusal

blueprint = Blueprint("report_subscriptions", __name__, url_prefix="/reports/subscription",
                      template_folder="templates")
BACK = "reports.dashboard"


def _chosen_categories() -> list[int] | None:
    values = request.form.getlist("category")
    if not all(v.isascii() and v.isdigit() and 1 <= int(v) <= MAX_ID for v in values):
        return None
    return [int(v) for v in values]


@blueprint.post("/")
@allow(*rules.SUBSCRIBERS)
def subscribe() -> ResponseReturnValue:
    chosen = _chosen_categories()
    try:
        if chosen is None:
            raise DomainError(N_("Choose categories from the list."), field="categories")
        rules.subscribe(db_session, category_ids=chosen, by=current_user, now=utcnow())
    except DomainError as error:
        db_session.rollback()
        flash(refusal(error), "error")
        return redirect(url_for(BACK, _anchor="subscription"))
    db_session.commit()
    flash(_("You get your municipality's reuse report by e-mail on the first working day of each month, "
            "from next month on."), "success")
    return redirect(url_for(BACK, _anchor="subscription"))


@blueprint.post("/cancel")
@allow(*rules.SUBSCRIBERS)
def unsubscribe() -> ResponseReturnValue:
    if rules.unsubscribe(db_session, by=current_user):
        db_session.commit()
        flash(_("You no longer get the monthly reuse report."), "success")
    return redirect(url_for(BACK, _anchor="subscription"))
