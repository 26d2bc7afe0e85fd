"""Logistics: transport jobs, the vehicles that carry them, and route planning. One folder a feature:

- ``jobs/``: transport jobs, made from the events of approved requests that need transport (the
  delivery, a loan's return, a swap's pieces in exchange) or added by a coordinator, following
  their request as it changes; each job on its day as the planner needs it;
- ``vehicles/``: vehicles, their load, depot, shift, cost and CO2e per km (``factors.py``: the
  published figures by fuel);
- ``coordination/``: who plans what: a coordinator plans for their municipality, and for every
  partner that plans jointly with it;
- ``planning/``: route planning, free of the database and of Flask;
- ``events.py``: the names of the events logistics records.

Logistics reads loans' and the catalog's tables and calls their rules, never writes them; it
hears of requests by loans' recorded events.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask_babel import lazy_gettext as _l

from sharing.accounts.personal_data.rules import contribute
from sharing.cli import add_demo_loader
from sharing.clock import today_in_sweden, utcnow
from sharing.db import new_session
from sharing.jobs import Job, add_job
from sharing.logistics import demo, labels, personal_data, views
from sharing.logistics.jobs import notices
from sharing.logistics.jobs import rules as jobs
from sharing.logistics.jobs import views as job_views
from sharing.logistics.plans import driving
from sharing.logistics.plans import runner as plan_runner
from sharing.logistics.plans import views as plan_views
from sharing.logistics.vehicles import views as vehicle_views
from sharing.web.nav import add_nav_item, add_shortcut
from sharing.web.templating import add_template_helpers


def clear_old_notes() -> None:
    """The ``logistics-retention`` job: what was written for drivers, and by them of the stops
    they could not make, goes a while after the day."""
    with new_session() as session:
        today = today_in_sweden(utcnow())
        jobs.clear_old_notes(session, today=today)
        driving.clear_old_failure_notes(session, today=today)
        session.commit()


def init_app(app: Flask) -> None:
    app.register_blueprint(views.blueprint)
    app.register_blueprint(job_views.blueprint)
    app.register_blueprint(vehicle_views.blueprint)
    app.register_blueprint(plan_views.blueprint)
    app.register_blueprint(plan_views.driver_blueprint)
    app.register_blueprint(plan_views.sheet_blueprint)
    add_template_helpers(app, names={"job_kind_labels": labels.JOB_KIND_LABELS,
                                     "job_status_labels": labels.JOB_STATUS_LABELS,
                                     "load_source_labels": labels.LOAD_SOURCE_LABELS,
                                     "fuel_labels": labels.FUEL_LABELS,
                                     "plan_status_labels": labels.PLAN_STATUS_LABELS},
                         filters={"seconds_clock": labels.seconds_clock})
    add_nav_item(app, _l("Transport"), "logistics.index", section=(
        "logistics.", "transport_jobs.", "vehicles.", "route_plans."))
    add_nav_item(app, _l("My route"), "driver.index", section=("driver.",))
    add_shortcut(app, _l("My route"), "driver.index", _l("The day's stops in order, each reported done as you go."))
    add_shortcut(app, _l("Transport"), "logistics.index",
                 _l("Transport jobs, vehicles and the routes planned for them."))
    notices.register()
    labels.describe_events()
    contribute("logistics", extract=personal_data.extract, erase=personal_data.erase, sections=labels.PERSONAL_DATA)
    add_demo_loader(app, demo.load)
    add_job(app, Job("logistics-retention", clear_old_notes, timedelta(days=1)))
    # Plans queued in a web process that stopped before planning them.
    add_job(app, Job("logistics-plans", plan_runner.pick_up_left_behind, timedelta(minutes=1)))
