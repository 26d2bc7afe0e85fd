"""Calendar feeds: one secret address a user, read by their calendar app without a session.

No `from __future__ import annotations` here: SQLModel resolves types at runtime.
"""

from datetime import datetime
from typing import Optional

from sqlalchemy import Column, ForeignKey, Integer
from sqlmodel import Field, SQLModel

from sharing.clock import utcnow
from sharing.db import UTCDateTime


class CalendarFeed(SQLModel, table=True):
    """A user's feed secret; only its hash is kept (as for sessions and API tokens). A new
    secret replaces the old one in the same row, and revoking deletes the row."""

    __tablename__ = "loan_calendar_feed"

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(default=None, sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="CASCADE"),
                                                         nullable=False, unique=True))
    secret_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
