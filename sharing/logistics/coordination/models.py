"""Municipalities that plan their transport together.

No `from __future__ import annotations` here: SQLModel resolves types at runtime.
"""

from datetime import datetime
from typing import Optional

from sqlalchemy import Column, ForeignKey, Integer
from sqlmodel import Field, SQLModel

from sharing.clock import utcnow
from sharing.db import UTCDateTime, foreign_key


class JointPlanning(SQLModel, table=True):
    """A municipality that plans its transport jointly with the partners: the transport
    coordinators of every such municipality see and plan the transport jobs and vehicles of them
    all. A municipality without a row plans its own (its administrators choose, see
    ``coordination.rules``)."""

    __tablename__ = "logistics_joint_planning"

    municipality_id: int = Field(
        sa_column=Column(Integer, ForeignKey("municipality.id", ondelete="CASCADE"), primary_key=True))
    joined_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    joined_by_id: Optional[int] = foreign_key("user_account.id", nullable=True, ondelete="SET NULL")
