"""Loans: asking for what the catalog lists, to borrow, take over or swap, and each request's
life from asking to closing. One folder a feature:

- ``requests/``: requests, their status machines, handovers, returns, threads and notices;
- ``reminders/``: reminders of coming and missed days, each sent once, and overdue loans;
- ``mail_kinds.py``: the kinds of loans' notices users choose to get by mail or not;
- ``events.py``: the names of the events loans record.

Loans hold and free a listing's pieces only through the catalog's rules (``catalog.holds``)
and tell higher domains (logistics, reports) by recorded events.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask_babel import lazy_gettext as _l

from sharing.catalog.listings.views import add_listing_panel
from sharing.jobs import Job, add_job
from sharing.loans import mail_kinds
from sharing.loans.reminders import runner as reminders
from sharing.loans.requests import notices
from sharing.loans.requests import views as request_views
from sharing.loans.requests.labels import KIND_LABELS, METHOD_LABELS, REQUEST_STATUS_LABELS
from sharing.web.nav import add_nav_item
from sharing.web.templating import add_template_helpers


def init_app(app: Flask) -> None:
    app.register_blueprint(request_views.blueprint)
    add_listing_panel(app, request_views.ask_panel)
    add_template_helpers(app, names={"kind_labels_of_requests": KIND_LABELS,
                                     "request_status_labels": REQUEST_STATUS_LABELS, "method_labels": METHOD_LABELS})
    add_nav_item(app, _l("Requests"), "loans.index", section=("loans.",))
    notices.register()
    mail_kinds.register()
    add_job(app, Job("loan-reminders", reminders.run, timedelta(minutes=15)))
