"""A user's choice, per kind of notification, whether it also comes by e-mail.

No `from __future__ import annotations` here: SQLModel resolves types at runtime.
"""

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, String
from sqlmodel import Field, SQLModel

from sharing.clock import utcnow
from sharing.db import UTCDateTime


class MailPreference(SQLModel, table=True):
    """One user's choice for one kind; a kind without a row has its default (on)."""

    __tablename__ = "mail_preference"

    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True))
    kind: str = Field(sa_column=Column(String(40), primary_key=True))  # a registered kind's name
    enabled: bool
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
