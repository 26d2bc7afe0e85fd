"""Spreadsheet imports of listings: checked rows waiting for confirmation, then their outcome.

No `from __future__ import annotations` here: SQLModel resolves relationship types at runtime.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any, Optional

from sqlalchemy import JSON, Column, text
from sqlmodel import Field, SQLModel

from sharing.clock import utcnow
from sharing.db import UTCDateTime, foreign_key


class ImportStatus(StrEnum):
    PENDING = "pending"  # checked without errors, waiting for the user to confirm
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # nothing was saved


class ListingImport(SQLModel, table=True):
    """A spreadsheet of listings a facility manager uploaded: its checked rows until it runs,
    then what came of it (all of it saved, or nothing)."""

    __tablename__ = "listing_import"

    id: Optional[int] = Field(default=None, primary_key=True)
    municipality_id: int = foreign_key("municipality.id")
    created_by_id: Optional[int] = foreign_key("user_account.id", nullable=True, ondelete="SET NULL")
    file_name: str = Field(max_length=255)
    status: str = Field(default=ImportStatus.PENDING.value, max_length=10)
    publish: bool = Field(default=False)  # publish the listings at once, or leave them as drafts
    total: int = Field(default=0)
    done: int = Field(default=0)
    # The checked rows, each {"row": spreadsheet row number, "details": ..., "category": ..., "site": ...};
    # emptied once the import has run.
    rows: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Why it failed: an English message marked for translation, its parameters and the row it concerns.
    error_message: str = Field(default="", max_length=500)
    error_params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    error_row: Optional[int] = Field(default=None)
    # Every problem of a row refused for several reasons, each {"message": ..., "params": ...} as
    # above (the first is also error_message): the import tells them all, as its preview does.
    error_problems: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(
        JSON, nullable=False, server_default=text("'[]'")))  # as the migration that added it
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    finished_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)

