"""Reports' part of a person's data (see accounts/personal_data): the corrections of the reuse
ledger they made. Erasing them changes no entry's figures, nor which entries there are: the
ledger names units and municipalities, and counts exactly as before. Only where someone named
them in a correction's reason is the name (or address) replaced."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from sharing.accounts.models import Actor
from sharing.accounts.personal_data.rules import Records, bounded, mentions_of
from sharing.reports.ledger.models import ReuseEntry


def extract(session: Session, *, user_id: int) -> dict[str, Records]:
    corrections = session.scalars(bounded(select(ReuseEntry).where(col(ReuseEntry.created_by_id) == user_id)
                                          .order_by(col(ReuseEntry.created_at).desc())))
    return {"reuse_corrections": [{"id": entry.id, "reverses": entry.reverses_id, "kind": entry.kind,
                                   "day": entry.day, "reason": entry.reason, "created_at": entry.created_at}
                                  for entry in corrections]}


def erase(session: Session, *, user_id: int, by: Actor, now: datetime) -> None:
    mentions = mentions_of(session, user_id)
    for entry in session.scalars(select(ReuseEntry).where(mentions.found_in(ReuseEntry.reason))).all():
        entry.reason = mentions.scrub(entry.reason)[:500]
        session.add(entry)
