"""Reports' part of a person's data (see accounts/personal_data): the corrections of the reuse
ledger they made, and their monthly report by e-mail.

Erasing them deletes the subscription (the mail was theirs), and changes no entry's figures, nor
which entries there are: the ledger names units and municipalities, and counts exactly as
before. Only where someone named them in a correction's reason is the name (or address)
replaced."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlmodel import Session, col

from sharing.accounts.models import Actor, Municipality
from sharing.accounts.personal_data.rules import Records, bounded, mentions_of
from sharing.reports.ledger.models import ReuseEntry
from sharing.reports.subscriptions.models import ReportSubscription


def extract(session: Session, *, user_id: int) -> dict[str, Records]:
    corrections = session.scalars(bounded(select(ReuseEntry).where(col(ReuseEntry.created_by_id) == user_id)
                                          .order_by(col(ReuseEntry.created_at).desc())))
    subscription = session.scalar(select(ReportSubscription).where(col(ReportSubscription.user_id) == user_id))
    municipality = session.get(Municipality, subscription.municipality_id) if subscription is not None else None
    return {"report_subscription": [{"municipality": municipality.name if municipality is not None else None,
                                     "category_ids": subscription.category_ids, "created_at": subscription.created_at,
                                     "updated_at": subscription.updated_at}] if subscription is not None else [],
            "reuse_corrections": [{"id": entry.id, "reverses": entry.reverses_id, "kind": entry.kind,
                                   "day": entry.day, "reason": entry.reason, "created_at": entry.created_at}
                                  for entry in corrections]}


def erase(session: Session, *, user_id: int, by: Actor, now: datetime) -> None:
    session.execute(delete(ReportSubscription).where(col(ReportSubscription.user_id) == user_id))
    mentions = mentions_of(session, user_id)
    for entry in session.scalars(select(ReuseEntry).where(mentions.found_in(ReuseEntry.reason))).all():
        entry.reason = mentions.scrub(entry.reason)[:500]
        session.add(entry)
