"""The queue for a listing: who waits for pieces to come free, for which period, in which order.

No `from __future__ import annotations` here: SQLModel resolves types at runtime.
"""

from datetime import date, datetime
from enum import StrEnum
from typing import Optional

from sqlalchemy import CheckConstraint, Index
from sqlmodel import AutoString, Field, SQLModel

from sharing.clock import utcnow
from sharing.db import UTCDateTime, foreign_key


class QueueStatus(StrEnum):
    WAITING = "waiting"  # in the queue
    TOLD = "told"  # told that enough pieces came free: they ask as usual (nothing is booked for them)
    LEFT = "left"  # left the queue, or asked for the listing after being told


class QueueEntry(SQLModel, table=True):
    """One user's place in a listing's queue. The place is by ``created_at`` (then ``id``) among
    the listing's waiting entries: it is counted, never stored."""

    __tablename__ = "loan_queue_entry"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="positive_quantity"),
        CheckConstraint("last_day IS NULL OR last_day >= first_day", name="last_day_after_first"),
        # Who is next for a listing, and how many wait: its waiting entries in the order of joining.
        Index("ix_loan_queue_entry_listing_status_created", "listing_id", "status", "created_at"),
        Index("ix_loan_queue_entry_user_status", "user_id", "status"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    listing_id: int = foreign_key("listing.id", ondelete="CASCADE")
    # A queue place is the user's own: it goes with their account.
    user_id: int = foreign_key("user_account.id", ondelete="CASCADE")
    unit_id: Optional[int] = foreign_key("unit.id", nullable=True, ondelete="SET NULL")
    municipality_id: int = foreign_key("municipality.id")
    quantity: int
    first_day: date
    last_day: Optional[date] = Field(default=None)  # None: for good
    status: str = Field(default=QueueStatus.WAITING.value, sa_type=AutoString(length=8))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    told_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    left_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
