"""The ledger's receiver of domain events: ``reports.ledger`` (a stable name: it is stored with
each delivery). It runs after the recording transaction commits, in a session of its own, and
is retried until it succeeds; an event's entries are written once whoever hands it over."""

from __future__ import annotations

from flask import current_app
from sqlmodel import Session

from sharing.events import DomainEvent, add_receiver
from sharing.reports.ledger import rules

RECEIVER = "reports.ledger"


def ledger_rules() -> rules.LedgerRules:
    config = current_app.config
    return rules.LedgerRules(loan_min_days=int(config["REUSE_LOAN_MIN_DAYS"]),
                             displacement_rate=float(config["REUSE_DISPLACEMENT_RATE"]))


def handle(session: Session, event: DomainEvent) -> None:
    rules.record_event(session, event, rules=ledger_rules())


def register() -> None:
    add_receiver(RECEIVER, rules.CONSUMED, handle)
