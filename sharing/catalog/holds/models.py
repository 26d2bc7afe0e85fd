"""Holds: pieces of a listing promised to someone for a period, which nobody else may book.

No `from __future__ import annotations` here: SQLModel resolves types at runtime.
"""

from datetime import datetime
from enum import StrEnum
from typing import Optional

from sqlalchemy import CheckConstraint, Index
from sqlmodel import AutoString, Field, SQLModel

from sharing.clock import utcnow
from sharing.db import UTCDateTime, foreign_key


class HoldPurpose(StrEnum):
    """Why pieces are held: lent out for a while, or passing to a new owner for good."""

    LOAN = "loan"
    TAKE_OVER = "take_over"


class Hold(SQLModel, table=True):
    """``quantity`` pieces of a listing, held over [starts_at, ends_at); open-ended when they
    leave for good. Released holds are kept (``released_at``): what was booked stays known."""

    __tablename__ = "listing_hold"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="positive_quantity"),
        CheckConstraint("ends_at IS NULL OR ends_at > starts_at", name="ends_after_start"),
        # What a booking is checked against: a listing's holds still in force.
        Index("ix_listing_hold_listing_active", "listing_id", "released_at", "starts_at"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    listing_id: int = foreign_key("listing.id", ondelete="CASCADE")
    quantity: int
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    purpose: str = Field(sa_type=AutoString(length=12))
    # Who holds them, in the holder's own terms ("loans.request:17"): the catalog never reads it.
    holder: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    released_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    # Lent pieces away from their owner: from the handover (``out_at``) until they are back
    # (``back_at``), whatever the period says (early, or overdue). The listing's status follows
    # them: on loan while every piece is out (``listings.rules.follow_lending``); and overdue
    # pieces stay held, with no end, until they are back (``rules.held_until``).
    out_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    back_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
