"""Reminders sent: one row per request, kind and day, which is what makes each go out once.

No `from __future__ import annotations` here: SQLModel resolves types at runtime.
"""

from datetime import date, datetime
from typing import Optional

from sqlalchemy import Column, ForeignKey, Integer, UniqueConstraint
from sqlmodel import AutoString, Field, SQLModel

from sharing.db import UTCDateTime


class LoanReminder(SQLModel, table=True):
    """A reminder of one kind about one request's day, sent at ``sent_at`` (in the same transaction).

    ``day`` is the day the reminder is about (a handover's first day, a loan's last day): a loan
    extended to a new last day is reminded of that one too, once."""

    __tablename__ = "loan_reminder"
    __table_args__ = (UniqueConstraint("request_id", "kind", "day"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    # Indexed by the unique constraint, whose first column it is.
    request_id: int = Field(sa_column=Column(Integer, ForeignKey("loan_request.id", ondelete="CASCADE"),
                                             nullable=False))
    kind: str = Field(sa_type=AutoString(length=24))
    day: date
    sent_at: datetime = Field(sa_type=UTCDateTime)
