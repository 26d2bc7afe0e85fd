"""Rules by which a municipality approves requests for its listings without a person deciding.

No `from __future__ import annotations` here: SQLModel resolves types at runtime.
"""

from datetime import datetime
from typing import Optional

from sqlmodel import AutoString, Field, SQLModel

from sharing.clock import utcnow
from sharing.db import UTCDateTime, foreign_key


class AutoApproval(SQLModel, table=True):
    """Approve at once what a municipality is asked to lend (or give) in a category (and below
    it; every category when none), up to a number of pieces and days. Pieces are held before
    any rule is applied, so only requests that conflict with nothing are approved."""

    __tablename__ = "loan_auto_approval"

    id: Optional[int] = Field(default=None, primary_key=True)
    municipality_id: int = foreign_key("municipality.id", ondelete="CASCADE")
    category_id: Optional[int] = foreign_key("category.id", nullable=True, ondelete="CASCADE")
    kind: str = Field(sa_type=AutoString(length=10))  # a RequestKind
    max_quantity: Optional[int] = Field(default=None)
    max_days: Optional[int] = Field(default=None)  # loans only
    created_by_id: Optional[int] = foreign_key("user_account.id", nullable=True, ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
