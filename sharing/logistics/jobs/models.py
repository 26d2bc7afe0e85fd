"""Transport jobs: pieces to be picked up at one site and delivered to another on a day.

No `from __future__ import annotations` here: SQLModel resolves types at runtime.
"""

from datetime import date, datetime
from enum import StrEnum
from typing import Optional

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlmodel import AutoString, Field, SQLModel

from sharing.clock import utcnow
from sharing.db import UTCDateTime, foreign_key


class JobKind(StrEnum):
    DELIVERY = "delivery"  # a request's pieces, from the owner's site to the requester's
    RETURN = "return"  # a loan's pieces back again, on its last day
    EXCHANGE = "exchange"  # a swap: the pieces offered in exchange, to the owner's site
    MANUAL = "manual"  # added by a transport coordinator


class JobStatus(StrEnum):
    OPEN = "open"  # to be planned
    PLANNED = "planned"  # on a vehicle's route
    DONE = "done"
    FAILED = "failed"  # tried, not done: planned again, or cancelled
    CANCELLED = "cancelled"


class LoadSource(StrEnum):
    """Where a job's volume and weight come from."""

    LISTING = "listing"  # the listing's own figures per piece
    CATEGORY = "category"  # some from its category's typical figures
    UNKNOWN = "unknown"  # neither has them: the load counts as nothing
    ENTERED = "entered"  # a manual job's, as its coordinator gave them


class TransportJob(SQLModel, table=True):
    """One transport: pieces picked up at ``pickup_site_id`` and delivered to ``delivery_site_id``
    on ``day``. A request's jobs arise from its events (one of each kind at most); a manual one
    is added by a coordinator. Loads are in the planner's units: whole litres and kilograms,
    rounded up. The sites' opening hours that weekday are its time windows (read anew, never
    kept: ``jobs.rules``). Who sees it: the coordinators of either site's municipality."""

    __tablename__ = "logistics_transport_job"
    __table_args__ = (
        UniqueConstraint("request_id", "kind"),  # a request's event handled twice makes nothing twice
        CheckConstraint("quantity > 0", name="positive_quantity"),
        CheckConstraint("volume_l >= 0 AND weight_kg >= 0", name="load_not_negative"),
        Index("ix_logistics_transport_job_day_status", "day", "status"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(sa_type=AutoString(length=10))
    status: str = Field(default=JobStatus.OPEN.value, sa_type=AutoString(length=10))
    request_id: Optional[int] = foreign_key("loan_request.id", nullable=True, ondelete="SET NULL")
    listing_id: Optional[int] = foreign_key("listing.id", nullable=True, ondelete="SET NULL")
    quantity: int = 1
    goods: str = Field(max_length=300)  # what is carried: the listing's title, or the coordinator's words
    volume_l: int = 0
    weight_kg: int = 0
    load_source: str = Field(default=LoadSource.ENTERED.value, sa_type=AutoString(length=10))
    pickup_site_id: int = foreign_key("site.id")
    delivery_site_id: int = foreign_key("site.id")
    # The sites' municipalities, kept with the job: whose coordinators see it.
    pickup_municipality_id: int = foreign_key("municipality.id")
    delivery_municipality_id: int = foreign_key("municipality.id")
    day: date
    notes: str = Field(default="", max_length=500)  # for the driver; cleared a while after the day
    # Changed (cancelled, moved, no longer needed) while it was planned: the plan needs a look.
    changed_after_planning: bool = Field(default=False)
    created_by_id: Optional[int] = foreign_key("user_account.id", nullable=True, ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
