"""The reuse ledger: one row per reuse (or transport attributed to one), written from the
domain events, never changed. Money in öre and mass in grams, as integers: a total is the exact
sum of its entries, to the krona and the gram.

No `from __future__ import annotations` here: SQLModel resolves types at runtime.
"""

from datetime import date, datetime
from enum import StrEnum
from typing import Optional

from sqlalchemy import BigInteger, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from sharing.clock import utcnow
from sharing.db import UTCDateTime


class EntryKind(StrEnum):
    TAKE_OVER = "take_over"  # pieces taken over for good
    SWAP = "swap"  # one side of a swap (a swap writes two entries, one each way)
    LOAN = "loan"  # a closed loan
    TRANSPORT = "transport"  # the transport CO2e logistics attributed to a request


class FactorKind(StrEnum):
    """Where an entry's CO2e came from (the catalog's kinds, and two of the ledger's own)."""

    PRODUCTION = "production"  # a new piece's impact, times the displacement rate
    NET_SAVING = "net_saving"  # a published net saving per reused piece, as it stands
    WEIGHT_ESTIMATE = "weight_estimate"  # no category figure: WRAP's saving per kilogram, times the weight
    TRANSPORT = "transport"  # logistics' own factor of the vehicle


FIGURES_INDEX = ("day", "to_municipality_id", "to_unit_id", "category_id", "from_municipality_id", "month",
                 "counts_as_purchase", "quantity", "waste_avoided_g", "purchase_avoided_sek_ore", "co2e_avoided_g",
                 "transport_co2e_g")


class ReuseEntry(SQLModel, table=True):
    """What was reused (or transported), from whom to whom, when, and the figures, with the
    factor version and source they came from. Append-only: a correction is a reversing entry
    (``reverses_id``) with every figure negated, never an edit."""

    __tablename__ = "reuse_entry"
    __table_args__ = (
        UniqueConstraint("event_id", "line"),  # an event counts once, however often it is handed over
        # Covering: the dashboard's figures of a period read this index alone (the day first, then
        # what the selection filters and groups by, then the summed figures), never the table.
        Index("ix_reuse_entry_figures", *FIGURES_INDEX),
        Index("ix_reuse_entry_request_id", "request_id"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    # Ids, not foreign keys, as the event table keeps them: the ledger outlives what it counts.
    event_id: Optional[int] = Field(default=None)  # the domain event it was written from (None: a correction)
    line: int = Field(default=0)  # which of the event's entries (a swap's two sides, a route's requests)
    kind: str = Field(max_length=12)  # an EntryKind
    reverses_id: Optional[int] = Field(default=None, foreign_key="reuse_entry.id", unique=True)
    reason: str = Field(default="", max_length=500)  # why a correction was made
    created_by_id: Optional[int] = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    occurred_at: datetime = Field(sa_type=UTCDateTime)
    day: date  # the Swedish day it happened
    month: int  # yyyymm of that day: the dashboard's trend groups by it

    request_id: Optional[int] = Field(default=None)
    listing_id: Optional[int] = Field(default=None)
    category_id: Optional[int] = Field(default=None, index=True)
    quantity: int = Field(default=0)  # pieces (0 for transport)
    from_municipality_id: Optional[int] = Field(default=None)
    from_unit_id: Optional[int] = Field(default=None)
    to_municipality_id: Optional[int] = Field(default=None)
    to_unit_id: Optional[int] = Field(default=None)

    # A loan by the ledger's rule; False: pieces shared on a short loan, no avoided figures. Moot for
    # a transport (it moves no pieces), which keeps the default.
    counts_as_purchase: bool = Field(default=True)
    weight_g: int = Field(default=0, sa_type=BigInteger)  # of the pieces moved
    waste_avoided_g: int = Field(default=0, sa_type=BigInteger)
    purchase_avoided_sek_ore: int = Field(default=0, sa_type=BigInteger)
    co2e_avoided_g: int = Field(default=0, sa_type=BigInteger)  # gross: new production avoided
    transport_co2e_g: int = Field(default=0, sa_type=BigInteger)
    distance_m: int = Field(default=0, sa_type=BigInteger)

    factor_id: Optional[int] = Field(default=None)  # the catalog's CategoryFactor version used
    factor_version: Optional[int] = Field(default=None)
    factor_kind: Optional[str] = Field(default=None, max_length=16)  # a FactorKind
    factor_source: str = Field(default="", max_length=500)
    # A transport's factor as logistics applied it: the vehicle's kg CO2e per km (None: an entry
    # written before routes told it; its CO2e over its distance then gives it, rounded).
    kg_co2e_per_km: Optional[float] = Field(default=None)
    displacement_permille: Optional[int] = Field(default=None)  # the rate used with a production figure
