"""A municipality's identity provider (OpenID Connect), and which of its people are whose.

No `from __future__ import annotations` here: SQLModel resolves relationship types at runtime.
"""

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, Column, ForeignKey, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from sharing.clock import utcnow
from sharing.db import UTCDateTime


class SsoProvider(SQLModel, table=True):
    """One municipality's OpenID Connect provider (Microsoft Entra ID, say), as its
    administrator configured it: whom it may admit and which roles its claims give."""

    __tablename__ = "sso_provider"

    id: Optional[int] = Field(default=None, primary_key=True)
    municipality_id: int = Field(sa_column=Column(
        Integer, ForeignKey("municipality.id", ondelete="CASCADE"), nullable=False, unique=True))
    # The issuer's URL; its /.well-known/openid-configuration says the rest.
    issuer: str = Field(max_length=500)
    client_id: str = Field(max_length=255)
    # Encrypted (Fernet, sharing/accounts/sso/encryption.py); never shown or logged.
    client_secret_encrypted: str = Field(max_length=1000)
    # Lower-case domains, comma-separated: "skurup.se,skola.skurup.se".
    email_domains: str = Field(max_length=500)
    # The claim whose values the mapping reads ("groups", "roles").
    claim: str = Field(default="groups", max_length=100)
    # value -> {"roles": [...], "unit_id": int | None}, in the order the administrator wrote them.
    mapping: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Whether the municipality's people may still log in with a password.
    password_login: bool = Field(default=True)
    # Whether our own two-step verification is skipped when the provider says it did one.
    trust_provider_mfa: bool = Field(default=False)
    # acr values that count as two-step (comma-separated), besides amr "mfa".
    mfa_acr_values: str = Field(default="", max_length=300)
    enabled: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SsoIdentity(SQLModel, table=True):
    """A user as one provider knows them: its stable subject (``sub``), not the e-mail address."""

    __tablename__ = "sso_identity"
    __table_args__ = (UniqueConstraint("provider_id", "subject"), UniqueConstraint("user_id", "provider_id"))

    id: Optional[int] = Field(default=None, primary_key=True)
    provider_id: int = Field(sa_column=Column(
        Integer, ForeignKey("sso_provider.id", ondelete="CASCADE"), nullable=False, index=True))
    user_id: int = Field(sa_column=Column(
        Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True))
    subject: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_login_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
