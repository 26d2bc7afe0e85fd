"""Monthly report subscriptions, and the reports mailed: one row per subscription and month,
which is what makes each go out once.

No `from __future__ import annotations` here: SQLModel resolves types at runtime.
"""

from datetime import datetime
from typing import Optional

from sqlalchemy import Column, ForeignKey, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from sharing.db import UTCDateTime


class ReportSubscription(SQLModel, table=True):
    """A user's monthly report: of their municipality (the one it was made in), of the chosen
    categories (each with everything below it; none: all). One per user."""

    __tablename__ = "report_subscription"

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="CASCADE"),
                                          nullable=False, unique=True))
    municipality_id: int = Field(sa_column=Column(Integer, ForeignKey("municipality.id", ondelete="CASCADE"),
                                                  nullable=False, index=True))
    category_ids: str = Field(default="", max_length=1000)  # ids, comma-separated
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class ReportMailing(SQLModel, table=True):
    """The report of ``month`` (yyyymm) queued for a subscription at ``sent_at``, in the same
    transaction as the mail."""

    __tablename__ = "report_mailing"
    __table_args__ = (UniqueConstraint("subscription_id", "month"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    # Indexed by the unique constraint, whose first column it is.
    subscription_id: int = Field(sa_column=Column(
        Integer, ForeignKey("report_subscription.id", ondelete="CASCADE"), nullable=False))
    month: int
    sent_at: datetime = Field(sa_type=UTCDateTime)
