"""The photos of a listing, in order, the first its cover.

No `from __future__ import annotations` here: SQLModel resolves relationship types at runtime.
"""

from datetime import datetime
from typing import Optional

from sqlmodel import Field, SQLModel

from sharing.clock import utcnow
from sharing.db import UTCDateTime, foreign_key


class ListingPhoto(SQLModel, table=True):
    """A photo of a listing, kept as files we encoded ourselves (no metadata of the original survives).

    Its files are named by a random key, never by what was uploaded, and never change: a new
    photo gets a new key, so the files can be cached for long.
    """

    __tablename__ = "listing_photo"

    id: Optional[int] = Field(default=None, primary_key=True)
    listing_id: int = foreign_key("listing.id", ondelete="CASCADE")
    position: int = Field(default=0)  # the lowest is the cover
    key: str = Field(max_length=32, unique=True)
    width: int = Field(ge=1)  # of the large rendition
    height: int = Field(ge=1)
    byte_size: int = Field(ge=0)  # of the large rendition
    alt_text: str = Field(default="", max_length=300)  # empty: the listing's title describes it
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by_id: Optional[int] = foreign_key("user_account.id", nullable=True, ondelete="SET NULL")

