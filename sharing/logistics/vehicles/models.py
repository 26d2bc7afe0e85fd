"""The vehicles that carry transport jobs.

No `from __future__ import annotations` here: SQLModel resolves types at runtime.
"""

from datetime import datetime, time
from enum import StrEnum
from typing import Optional

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import AutoString, Field, SQLModel

from sharing.clock import utcnow
from sharing.db import UTCDateTime, foreign_key


class FuelKind(StrEnum):
    """What a vehicle runs on (its CO2e per km depends on it)."""

    DIESEL = "diesel"
    HVO100 = "hvo100"
    PETROL = "petrol"
    ELECTRICITY = "electricity"
    PLUG_IN_HYBRID = "plug_in_hybrid"
    BIOGAS = "biogas"
    NATURAL_GAS = "natural_gas"


class Vehicle(SQLModel, table=True):
    """A vehicle of one municipality, which it may share with the partners' coordinators.

    Its load is what the planner packs against: volume and weight; its day is its shift, from
    and back to its depot. Its cost and CO2e per km are what a route's distance costs, the
    latter with the source of the figure (a published factor for its fuel, or the vehicle's own)."""

    __tablename__ = "logistics_vehicle"
    __table_args__ = (
        UniqueConstraint("municipality_id", "name"),
        CheckConstraint("volume_m3 > 0", name="positive_volume"),
        CheckConstraint("payload_kg > 0", name="positive_payload"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    municipality_id: int = foreign_key("municipality.id")
    name: str = Field(max_length=100)
    registration: Optional[str] = Field(default=None, max_length=7, unique=True)  # "ABC 123", "ABC 12D"
    # Shared: the coordinators of every partner municipality may plan with it, not only its own.
    shared: bool = Field(default=False)
    volume_m3: float  # load space
    payload_kg: int
    depot_site_id: int = foreign_key("site.id")  # where its shift starts and ends: a site of its municipality
    shift_start: time  # local (Swedish) time
    shift_end: time
    cost_per_km: float  # kronor
    fuel: str = Field(sa_type=AutoString(length=16))  # a FuelKind
    co2e_kg_per_km: float
    co2e_source: str = Field(max_length=500)  # where the figure comes from, shown beside it
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
