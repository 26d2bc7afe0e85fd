"""Loans: asking for what the catalog lists, to borrow, take over or swap, and each request's
life from asking to closing. One folder a feature:

- ``requests/``: requests, their status machines, handovers, returns, threads and notices;
- ``auto_approval/``: a municipality's rules for approving requests at once;
- ``queue/``: a listing's queue, for when too few pieces are free; the next in line is told when
  pieces come free (nothing is booked for them);
- ``calendar_feed/``: each user's loans as an iCalendar feed at a secret address, for calendar apps;
- ``reminders/``: reminders of coming and missed days, each sent once, and overdue loans;
- ``mail_kinds.py``: the kinds of loans' notices users choose to get by e-mail or not;
- ``retention.py``: how long what people wrote, photographed and queued for is kept, and the
  ``loan-retention`` job that deletes it then;
- ``events.py``: the names of the events loans record.

Loans hold and free a listing's pieces only through the catalog's rules (``catalog.holds``)
and tell higher domains (logistics, reports) by recorded events.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from sharing.accounts.models import Role
from sharing.accounts.personal_data.rules import contribute
from sharing.catalog.listings.views import add_called_off_count, add_listing_panel
from sharing.cli import add_demo_loader
from sharing.jobs import Job, add_job
from sharing.loans import demo, labels, mail_kinds, personal_data, retention
from sharing.loans.auto_approval import views as auto_approval_views
from sharing.loans.calendar_feed import views as calendar_feed_views
from sharing.loans.queue import notices as queue_notices
from sharing.loans.queue import views as queue_views
from sharing.loans.reminders import rules as reminders_rules
from sharing.loans.reminders import runner as reminders
from sharing.loans.requests import notices
from sharing.loans.requests import rules as requests
from sharing.loans.requests import views as request_views
from sharing.loans.requests.labels import (
    KIND_LABELS,
    METHOD_DONE_LABELS,
    METHOD_LABELS,
    REQUEST_STATUS_LABELS,
    period_between,
    period_markup,
)
from sharing.web.nav import add_nav_item, add_shortcut, add_waiting_work
from sharing.web.templating import add_template_helpers


def init_app(app: Flask) -> None:
    app.register_blueprint(request_views.blueprint)
    app.register_blueprint(auto_approval_views.blueprint)
    app.register_blueprint(queue_views.blueprint)
    app.register_blueprint(calendar_feed_views.blueprint)
    add_listing_panel(app, request_views.ask_panel)
    add_listing_panel(app, queue_views.queue_panel)
    add_called_off_count(app, requests.called_off_with_listing)
    add_template_helpers(app, names={"kind_labels_of_requests": KIND_LABELS,
                                     "request_status_labels": REQUEST_STATUS_LABELS, "method_labels": METHOD_LABELS,
                                     "method_done_labels": METHOD_DONE_LABELS, "period_between": period_between},
                         filters={"period": period_markup})
    add_nav_item(app, _l("Requests"), "loans.index", section=("loans.",))
    add_shortcut(app, _l("Requests"), "loans.index",
                 _l("Borrowing, swaps and take-overs: how far each request has come, and what comes next."),
                 roles=(Role.EMPLOYEE, Role.FACILITY_MANAGER))  # who asks and who decides
    add_waiting_work(app, lambda session, user, now: requests.awaiting_decision(
        session, municipality_id=user.municipality_id), lambda count: ngettext(
        "%(num)d request waits for your decision.", "%(num)d requests wait for your decision.", count),
        "loans.index", roles=(Role.FACILITY_MANAGER,), show="incoming")
    add_waiting_work(app, lambda session, user, now: reminders_rules.due_back(
        session, requester_id=user.id, now=now), lambda count: ngettext(
        "%(num)d loan is due back within %(days)d days or overdue.",
        "%(num)d loans are due back within %(days)d days or overdue.", count, days=reminders_rules.DUE_SOON_DAYS),
        "loans.index", show="ours")
    notices.register()
    labels.describe_events()
    contribute("loans", extract=personal_data.extract, erase=personal_data.erase, sections=labels.PERSONAL_DATA)
    add_demo_loader(app, demo.load)
    queue_notices.register()
    mail_kinds.register()
    add_job(app, Job("loan-reminders", reminders.run, timedelta(minutes=15)))
    add_job(app, Job("loan-retention", retention.run, timedelta(days=1)))
