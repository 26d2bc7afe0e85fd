"""Reports: reuse statistics and circular-economy reports, the top domain beside logistics.
One folder a feature:

- ``ledger/``: the reuse ledger, written from loans' and logistics' events by an idempotent
  receiver, append-only, corrected by reversing entries;
- ``dashboard/``: the figures of a selection (period, municipalities, units, categories),
  aggregated in SQL, as charts and tables, with the entries behind each;
- ``exports/``: CSV, XLSX and PDF, streamed;
- ``subscriptions/``: a monthly report by mail, on the first working day of the month.

Reports read the lower domains' tables and never write them; they learn what happened from
recorded events.
"""

from __future__ import annotations

from flask import Flask

from sharing.reports.ledger import receiver


def init_app(app: Flask) -> None:
    receiver.register()
