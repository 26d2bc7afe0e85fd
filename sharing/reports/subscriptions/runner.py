"""The ``monthly-reports`` job: on the first working day of a month (and later in it, for what
is still unsent), each subscription's report of the previous month, as PDF and XLSX, by e-mail.

Each mail is built first (reading only), then queued in a transaction of its own whose first
write is the claim (``rules.claim``): two runs at once, or one run twice, mail each report once.
"""

from __future__ import annotations

import io
import logging
from datetime import datetime

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlmodel import Session

from sharing.accounts.models import Municipality, User
from sharing.clock import utcnow
from sharing.db import new_session
from sharing.mail import MAX_ATTACHMENTS_BYTES, Attachment, queue_mail
from sharing.reports.dashboard import rules as dashboard
from sharing.reports.exports import formats
from sharing.reports.exports.views import TYPES, labels, methodology
from sharing.reports.labels import file_name, month_name
from sharing.reports.ledger.receiver import ledger_rules
from sharing.reports.names import names
from sharing.reports.subscriptions import rules
from sharing.reports.subscriptions.models import ReportSubscription

log = logging.getLogger("sharing.reports")


def send_monthly_reports(*, now: datetime) -> int:
    """Mail the reports due at ``now`` that are not sent; returns how many this run queued."""
    month = rules.month_due(now)
    if month is None:
        return 0
    with new_session() as session:
        due = rules.due(session, month=month)
        session.commit()  # it only read
    sent = 0
    for subscription_id in due:
        try:
            sent += _send(subscription_id, month, now=now)
        except Exception:  # noqa: BLE001 - logged; the next run tries again, as nothing of it was kept
            log.exception("monthly report %s of subscription %s not sent", month, subscription_id)
    if sent:
        log.info("%d monthly reports of %s queued", sent, month)
    return sent


def _send(subscription_id: int, month: int, *, now: datetime) -> bool:
    with new_session() as session:
        subscription = session.get(ReportSubscription, subscription_id)
        if subscription is None or not rules.still_wanted(session, subscription):
            return False
        user = session.get(User, subscription.user_id)
        assert user is not None  # still_wanted read it
        municipality = session.get(Municipality, subscription.municipality_id)
        to, locale = user.email, user.locale or "sv"
        chosen = rules.selection(subscription, month)
        files = report_files(session, chosen, locale=locale)
        session.commit()  # it only read: the claim below is the next transaction's first write
    attached = files if sum(len(f.content) for f in files) <= MAX_ATTACHMENTS_BYTES else files[:1]
    with new_session() as session:
        if not rules.claim(session, subscription_id=subscription_id, month=month, now=now):
            session.rollback()
            return False  # sent by another run
        named = month_name(month, locale)
        queue_mail(session, to=to, subject=_l("Delningstjänsten: the reuse report of %(month)s", month=named),
                   template="reports/mail/monthly_report.txt", locale=locale, attachments=attached,
                   month=named, municipality=municipality.name if municipality else "",
                   selection=chosen.args(), spreadsheet_left_out=len(attached) < len(files))
        session.commit()
    return True


def report_files(session: Session, chosen: dashboard.Selection, *, locale: str) -> list[Attachment]:
    """The selection's PDF report and XLSX workbook, in ``locale``: the PDF first (it is small)."""
    config = current_app.config
    with current_app.test_request_context(base_url=config["SHARING_BASE_URL"]), force_locale(locale):
        found_names = names(session, locale)
        kinds, factor_kinds = labels()
        lines = methodology()
        pdf, xlsx = io.BytesIO(), io.BytesIO()
        formats.write_pdf(pdf, dashboard.figures(session, chosen), found_names, methodology=lines,
                          loan_min_days=ledger_rules().loan_min_days)
        formats.write_xlsx(xlsx, session, chosen, found_names, kinds, methodology=lines,
                           factor_kind_labels=factor_kinds)
        return [Attachment(file_name(chosen, found_names, "pdf"), TYPES["pdf"], pdf.getvalue()),
                Attachment(file_name(chosen, found_names, "xlsx"), TYPES["xlsx"], xlsx.getvalue())]


def run() -> None:
    send_monthly_reports(now=utcnow())
