"""What the geocoder answered for an address, kept so that it is asked once.

No `from __future__ import annotations` here: SQLModel resolves types at runtime.
"""

from datetime import datetime
from typing import Optional

from sqlmodel import Field, SQLModel

from sharing.db import UTCDateTime


class GeocodedAddress(SQLModel, table=True):
    """One address as the geocoder answered it: a place, or that it found none (no coordinates).
    Addresses of buildings, never of people; rules.FOUND_KEPT and MISSED_KEPT say how long an
    answer is trusted before the geocoder is asked again."""

    __tablename__ = "geocoded_address"

    # The street address, postal code digits and locality, normalised (rules.address_key).
    address_key: str = Field(primary_key=True, max_length=320)
    latitude: Optional[float] = None
    longitude: Optional[float] = None
    precision: str = Field(default="exact", max_length=12)  # a rules.Precision
    source: str = Field(max_length=40)  # the geocoder that answered ("nominatim")
    fetched_at: datetime = Field(sa_type=UTCDateTime)
