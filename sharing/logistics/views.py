"""Logistics' own pages: where the menu's entry leads, and a municipality's choice to plan its
transport jointly with the partners."""

from __future__ import annotations

import logging

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from sharing.access import allow
from sharing.accounts.models import Role
from sharing.clock import utcnow
from sharing.db import db_session
from sharing.logistics.coordination import rules as coordination
from sharing.logistics.coordination.forms import JointPlanningForm
from sharing.logistics.jobs.rules import municipality_names

blueprint = Blueprint("logistics", __name__, url_prefix="/logistics", template_folder="templates")
log = logging.getLogger("sharing.logistics")


@blueprint.get("/")
@allow(Role.TRANSPORT_COORDINATOR, Role.MUNICIPALITY_ADMIN)
def index() -> Response:
    """Coordinators start at the jobs, administrators at the vehicles."""
    if coordination.is_coordinator(current_user):
        return redirect(url_for("transport_jobs.index"))
    return redirect(url_for("vehicles.index"))


@blueprint.route("/joint-planning", methods=["GET", "POST"])
@allow(Role.MUNICIPALITY_ADMIN)
def joint_planning() -> ResponseReturnValue:
    form = JointPlanningForm()
    if form.validate_on_submit():
        joined = form.joined.data == "joint"
        if coordination.set_joint_planning(db_session, joined=joined, by=current_user, now=utcnow()):
            db_session.commit()
            log.info("municipality %s %s joint transport planning (user %s)", current_user.municipality_id,
                     "joined" if joined else "left", current_user.id)
        flash(_("Your municipality plans its transport jointly with the partners that do.") if joined
              else _("Your municipality plans its transport on its own."), "success")
        return redirect(url_for(".joint_planning"))
    joint = coordination.joint_planners(db_session)
    if form.joined.data is None:
        form.joined.data = "joint" if current_user.municipality_id in joint else "own"
    page = render_template("logistics/joint_planning.html", form=form,
                           members=sorted(municipality_names(db_session, joint).values()))
    return page, 422 if form.errors else 200
