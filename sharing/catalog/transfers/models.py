"""Where pieces came from: every change of owner a listing's pieces went through.

No `from __future__ import annotations` here: SQLModel resolves types at runtime.
"""

from datetime import datetime
from typing import Optional

from sqlmodel import Field, SQLModel

from sharing.clock import utcnow
from sharing.db import UTCDateTime, foreign_key


class ListingTransfer(SQLModel, table=True):
    """``quantity`` pieces of one listing passed for good to another municipality (or unit):
    they now make up ``to_listing``. A chain of these is a piece's history of owners."""

    __tablename__ = "listing_transfer"

    id: Optional[int] = Field(default=None, primary_key=True)
    from_listing_id: int = foreign_key("listing.id")
    to_listing_id: int = foreign_key("listing.id")
    quantity: int
    from_municipality_id: int = foreign_key("municipality.id")
    from_site_id: int = foreign_key("site.id")
    to_municipality_id: int = foreign_key("municipality.id")
    to_unit_id: Optional[int] = foreign_key("unit.id", nullable=True, ondelete="SET NULL")
    to_site_id: int = foreign_key("site.id")
    inventory_number: str = Field(default="", max_length=50)  # as the giving side had it
    by_id: Optional[int] = foreign_key("user_account.id", nullable=True, ondelete="SET NULL")
    # Why, in the caller's terms ("loans.request:17"): the catalog never reads it.
    reference: str = Field(default="", max_length=100)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
