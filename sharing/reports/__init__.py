"""Reports: reuse statistics and circular-economy reports, the top domain beside logistics.
One folder a feature:

- ``ledger/``: the reuse ledger, written from loans' and logistics' events by an idempotent
  receiver, append-only, corrected by reversing entries;
- ``dashboard/``: the figures of a selection (period, municipalities, units, categories),
  aggregated in SQL, as charts and tables, with the entries behind each;
- ``exports/``: CSV, XLSX and PDF, streamed;
- ``subscriptions/``: a monthly report by e-mail, on the first working day of the month.

Reports read the lower domains' tables and never write them; they learn what happened from
recorded events.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask_babel import lazy_gettext as _l

from sharing.accounts.personal_data.rules import contribute
from sharing.cli import add_demo_loader
from sharing.jobs import Job, add_job
from sharing.reports import demo, labels, personal_data
from sharing.reports.dashboard import views as dashboard_views
from sharing.reports.exports import views as export_views  # noqa: F401  (its routes join the blueprint)
from sharing.reports.ledger import receiver
from sharing.reports.subscriptions import runner as subscriptions_runner
from sharing.reports.subscriptions import views as subscription_views
from sharing.web.nav import add_nav_item, add_shortcut
from sharing.web.templating import add_template_helpers


def init_app(app: Flask) -> None:
    receiver.register()
    contribute("reports", extract=personal_data.extract, erase=personal_data.erase, sections=labels.PERSONAL_DATA)
    app.register_blueprint(dashboard_views.blueprint)
    app.register_blueprint(subscription_views.blueprint)
    add_template_helpers(app, names={"entry_kind_labels": labels.ENTRY_KIND_LABELS,
                                     "factor_kind_labels": labels.FACTOR_KIND_LABELS, "kg": labels.kg,
                                     "sek": labels.sek, "whole_kg": labels.whole_kg, "whole_sek": labels.whole_sek,
                                     "month_day": labels.month_day})
    add_nav_item(app, _l("Reuse statistics"), "reports.dashboard", section=("reports.",))
    add_shortcut(app, _l("Reuse statistics"), "reports.dashboard",
                 _l("CO2e, waste and money that reuse saved, each figure with its source, and exports for reporting."))
    add_demo_loader(app, demo.load)
    # Hourly: the first working day's reports go out from seven, Swedish time.
    add_job(app, Job("monthly-reports", subscriptions_runner.run, timedelta(hours=1)))
