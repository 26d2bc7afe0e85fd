"""Requests to borrow, take over or swap a listing's pieces, and the messages about each.

No `from __future__ import annotations` here: SQLModel resolves types at runtime.
"""

from datetime import datetime
from enum import StrEnum
from typing import Optional

from sqlalchemy import CheckConstraint, Column, Index, Text
from sqlmodel import AutoString, Field, SQLModel

from sharing.clock import utcnow
from sharing.db import UTCDateTime, foreign_key


class RequestKind(StrEnum):
    BORROW = "borrow"  # for a period, then back
    TAKE_OVER = "take_over"  # for good: the pieces change owner at handover
    SWAP = "swap"  # for good, against pieces of one of the requester's own listings


class RequestStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    HANDED_OVER = "handed_over"
    RETURNED = "returned"
    CLOSED = "closed"


class HandoverMethod(StrEnum):
    PICKUP = "pickup"  # the requester fetches the pieces
    TRANSPORT = "transport"  # the service's transport brings them


class LoanRequest(SQLModel, table=True):
    """One unit's request for pieces of another's (or its own municipality's) listing."""

    __tablename__ = "loan_request"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="positive_quantity"),
        Index("ix_loan_request_owner_status", "owner_municipality_id", "status"),
        Index("ix_loan_request_requester_status", "requester_id", "status"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(sa_type=AutoString(length=10))
    status: str = Field(default=RequestStatus.REQUESTED.value, sa_type=AutoString(length=12))
    listing_id: int = foreign_key("listing.id")
    quantity: int
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)  # None: for good
    hold_id: Optional[int] = foreign_key("listing_hold.id", nullable=True, ondelete="SET NULL")
    # The owner's municipality when asked: whose facility managers decide.
    owner_municipality_id: int = foreign_key("municipality.id")

    requester_id: Optional[int] = foreign_key("user_account.id", nullable=True, ondelete="SET NULL")
    requester_municipality_id: int = foreign_key("municipality.id")
    requester_unit_id: Optional[int] = foreign_key("unit.id", nullable=True, ondelete="SET NULL")
    delivery_site_id: int = foreign_key("site.id")
    transport_needed: bool = Field(default=False)
    # A swap: the requester's own listing offered in exchange, and how many of its pieces.
    offered_listing_id: Optional[int] = foreign_key("listing.id", nullable=True)
    offered_quantity: Optional[int] = Field(default=None)
    offered_hold_id: Optional[int] = foreign_key("listing_hold.id", nullable=True, ondelete="SET NULL")

    decided_by_id: Optional[int] = foreign_key("user_account.id", nullable=True, ondelete="SET NULL")
    decided_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    decline_reason: str = Field(default="", max_length=1000)

    handed_over_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    handed_over_by_id: Optional[int] = foreign_key("user_account.id", nullable=True, ondelete="SET NULL")
    handover_condition: Optional[str] = Field(default=None, sa_type=AutoString(length=12))
    handover_method: Optional[str] = Field(default=None, sa_type=AutoString(length=10))
    handover_confirmed_by_owner_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    handover_confirmed_by_requester_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)

    returned_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    return_received_by_id: Optional[int] = foreign_key("user_account.id", nullable=True, ondelete="SET NULL")
    return_condition: Optional[str] = Field(default=None, sa_type=AutoString(length=12))
    return_remarks: str = Field(default="", max_length=2000)
    return_damage: str = Field(default="", max_length=2000)
    # A photo taken at the return (of damage, say): the key of its files, stored as the catalog
    # stores photos, and the size of its large rendition. None: no photo.
    return_photo_key: Optional[str] = Field(default=None, max_length=32)
    return_photo_width: Optional[int] = Field(default=None)
    return_photo_height: Optional[int] = Field(default=None)
    return_confirmed_by_owner_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    return_confirmed_by_requester_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)

    cancelled_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    closed_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    overdue_since: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)  # marked once, by a job
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RequestMessage(SQLModel, table=True):
    """A message in a request's thread, between the requester and the owner's facility managers."""

    __tablename__ = "loan_request_message"

    id: Optional[int] = Field(default=None, primary_key=True)
    request_id: int = foreign_key("loan_request.id", ondelete="CASCADE")
    author_id: Optional[int] = foreign_key("user_account.id", nullable=True, ondelete="SET NULL")
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
