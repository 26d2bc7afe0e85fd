"""Wanted items (efterlysningar) and the listings recorded as meeting them.

No `from __future__ import annotations` here: SQLModel resolves relationship types at runtime.
"""

from datetime import date, datetime
from enum import StrEnum
from typing import Optional

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, Relationship, SQLModel

from sharing.catalog.categories.models import Category
from sharing.clock import utcnow
from sharing.db import UTCDateTime, foreign_key


class WantStatus(StrEnum):
    OPEN = "open"
    FULFILLED = "fulfilled"  # the unit got what it needed
    WITHDRAWN = "withdrawn"  # no longer needed


class Want(SQLModel, table=True):
    """A wanted item (efterlysning): what a unit needs, in words, a category or both, how many and by when.

    Past its date an open want counts as expired: it is no longer matched nor shown as open.
    """

    __table_args__ = (
        Index("ix_want_status_municipality", "status", "municipality_id"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    municipality_id: int = foreign_key("municipality.id")
    unit_id: int = foreign_key("unit.id")  # the poster's unit, which needs it
    posted_by_id: Optional[int] = foreign_key("user_account.id", nullable=True, ondelete="SET NULL")
    category_id: Optional[int] = foreign_key("category.id", nullable=True)
    words: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=2000)
    quantity: int = Field(default=1, ge=1)
    needed_by: Optional[date] = Field(default=None)
    status: str = Field(default=WantStatus.OPEN.value, max_length=10)
    # The stems of the words, as the catalog's search finds them in listings.
    search_words: str = Field(default="", max_length=600)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    closed_by_id: Optional[int] = foreign_key("user_account.id", nullable=True, ondelete="SET NULL")

    category: Optional[Category] = Relationship()


class WantMatch(SQLModel, table=True):
    """A listing found to meet a want, recorded once per pair: its poster hears of a listing once,
    however often the listing is edited afterwards."""

    __tablename__ = "want_match"
    __table_args__ = (UniqueConstraint("want_id", "listing_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    want_id: int = foreign_key("want.id", ondelete="CASCADE")
    listing_id: int = foreign_key("listing.id", ondelete="CASCADE")
    matched_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # When its poster was told; None when the listing was already there as the want was posted
    # (the want's page showed it).
    notified_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)

