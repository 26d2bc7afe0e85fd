"""The ``loan-reminders`` job: mark the loans that became overdue, then send the reminders
that are due, each in a transaction of its own (one failing never holds up the others)."""

from __future__ import annotations

import logging
from datetime import date, datetime

from sharing.clock import utcnow
from sharing.db import new_session
from sharing.loans.reminders import notices, rules
from sharing.loans.requests import rules as requests
from sharing.loans.requests.models import LoanRequest

log = logging.getLogger("sharing.loans")


def send_reminders(*, now: datetime) -> int:
    """Mark what is overdue and send what is due at ``now``; returns how many reminders this
    run sent (another run at the same time sends the rest, never the same ones)."""
    with new_session() as session:
        marked = requests.mark_overdue(session, now=now)
        session.commit()
    if marked:
        log.info("%d loans marked overdue", len(marked))
    with new_session() as session:
        due = rules.due(session, now=now)
        session.commit()  # it only read
    sent = 0
    for request_id, kind, day in due:
        try:
            sent += _send(request_id, kind, day, now=now)
        except Exception:  # noqa: BLE001 - logged; the next run tries again, as nothing of it was kept
            log.exception("reminder %s of request %s not sent", kind.value, request_id)
    if sent:
        log.info("%d loan reminders sent", sent)
    return sent


def _send(request_id: int, kind: rules.ReminderKind, day: date, *, now: datetime) -> bool:
    with new_session() as session:
        if not rules.claim(session, request_id=request_id, kind=kind, day=day, now=now):
            session.rollback()
            return False  # sent by another run
        request = session.get(LoanRequest, request_id)  # read after the claim: as committed now
        if request is None or kind not in rules.due_kinds(request, now=now) or rules.day_of(request, kind) != day:
            # Changed since it was found (returned, or extended to another day): not due after all.
            session.rollback()
            return False
        notices.remind(session, request, kind, now=now)
        session.commit()
    return True


def run() -> None:
    send_reminders(now=utcnow())
