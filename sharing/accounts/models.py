"""Municipalities, their units and sites, and the people who use the service.

No `from __future__ import annotations` here: SQLModel resolves relationship types at runtime.
"""


from datetime import datetime, time
from enum import StrEnum
from typing import Any, Optional, Protocol

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, UniqueConstraint, func, inspect, select
from sqlalchemy.orm import column_property
from sqlmodel import Field, Relationship, SQLModel, col

from sharing.clock import utcnow
from sharing.db import UTCDateTime


class Role(StrEnum):
    """What a user may do, always within their own municipality."""

    EMPLOYEE = "employee"
    FACILITY_MANAGER = "facility_manager"
    DRIVER = "driver"
    TRANSPORT_COORDINATOR = "transport_coordinator"  # plans transport jobs and vehicles
    SUSTAINABILITY_OFFICER = "sustainability_officer"
    MUNICIPALITY_ADMIN = "municipality_admin"
    SYSTEM_ADMIN = "system_admin"


def _timestamp(**kwargs: Any) -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, **kwargs)


def _fk(target: str, *, nullable: bool = False, ondelete: str = "RESTRICT", index: bool = True) -> Any:
    return Field(
        default=None,
        sa_column=Column(Integer, ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index),
    )


class Municipality(SQLModel, table=True):
    """A member municipality (kommun); every other record belongs to one."""

    id: Optional[int] = Field(default=None, primary_key=True)
    # The four-digit municipality code from SCB, e.g. 1286 for Ystad.
    code: str = Field(max_length=4, unique=True)
    name: str = Field(max_length=100, unique=True)
    slug: str = Field(max_length=100, unique=True)
    contact_email: Optional[str] = Field(default=None, max_length=254)
    # Whom the privacy page sends questions about personal data to (each municipality has one).
    data_protection_officer_email: Optional[str] = Field(default=None, max_length=254)
    active: bool = Field(default=True)
    created_at: datetime = _timestamp()

    units: list["Unit"] = Relationship(back_populates="municipality")
    sites: list["Site"] = Relationship(back_populates="municipality")


class Unit(SQLModel, table=True):
    """A department (förvaltning) or a unit (enhet) within one; units nest one level or more."""

    __table_args__ = (UniqueConstraint("municipality_id", "name"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    municipality_id: int = _fk("municipality.id")
    parent_id: Optional[int] = _fk("unit.id", nullable=True)
    name: str = Field(max_length=150)
    active: bool = Field(default=True)
    created_at: datetime = _timestamp()

    municipality: Municipality = Relationship(back_populates="units")


class CoordinatesSource(StrEnum):
    """How a site's coordinates were set; only APPROXIMATE is less than the building's place."""

    GEOCODED = "geocoded"  # found from the address by the configured geocoder
    APPROXIMATE = "approximate"  # the locality's position (or the geocoder's, no nearer than it)
    PICKED = "picked"  # clicked or dragged on the map by an administrator
    TYPED = "typed"  # entered as numbers (and every site made before geocoding)


class Site(SQLModel, table=True):
    """A building where things are picked up or delivered, with how to get in."""

    __table_args__ = (UniqueConstraint("municipality_id", "name"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    municipality_id: int = _fk("municipality.id")
    name: str = Field(max_length=150)
    street_address: str = Field(max_length=200)
    postal_code: str = Field(max_length=6)  # "271 80"
    locality: str = Field(max_length=100)
    # WGS84, as GPS and web maps give it; convert to SWEREF 99 only at import/export.
    latitude: float
    longitude: float
    # A CoordinatesSource: whether latitude and longitude are the building's or only roughly so.
    coordinates_source: str = Field(default=CoordinatesSource.TYPED.value, max_length=12,
                                    sa_column_kwargs={"server_default": CoordinatesSource.TYPED.value})
    access_notes: str = Field(default="", max_length=1000)
    active: bool = Field(default=True)
    created_at: datetime = _timestamp()

    municipality: Municipality = Relationship(back_populates="sites")
    opening_hours: list["OpeningHours"] = Relationship(
        back_populates="site",
        sa_relationship_kwargs={
            "cascade": "all, delete-orphan",
            "order_by": "(OpeningHours.weekday, OpeningHours.opens)",
        },
    )

    @property
    def approximate(self) -> bool:
        """Whether the coordinates are only the locality's (a route or a distance is rough then)."""
        return self.coordinates_source == CoordinatesSource.APPROXIMATE


class OpeningHours(SQLModel, table=True):
    """One interval on one weekday when a site accepts pickups and deliveries."""

    __tablename__ = "opening_hours"

    id: Optional[int] = Field(default=None, primary_key=True)
    site_id: int = _fk("site.id", ondelete="CASCADE")
    weekday: int = Field(ge=0, le=6)  # 0 = Monday, as in ISO weeks
    opens: time
    closes: time

    site: Site = Relationship(back_populates="opening_hours")


class User(SQLModel, table=True):
    """A person with a login; belongs to one municipality and holds roles there."""

    __tablename__ = "user_account"

    id: Optional[int] = Field(default=None, primary_key=True)
    municipality_id: int = _fk("municipality.id")
    unit_id: Optional[int] = _fk("unit.id", nullable=True, ondelete="SET NULL")
    email: str = Field(max_length=254, unique=True)  # stored lower-cased
    name: str = Field(max_length=150)
    # None until an invited user chooses a password.
    password_hash: Optional[str] = Field(default=None, max_length=255)
    active: bool = Field(default=True)
    locale: Optional[str] = Field(default=None, max_length=5)
    # Two-step verification (TOTP, RFC 6238): the shared secret, and the last time step used,
    # so that a code cannot be replayed.
    totp_secret: Optional[str] = Field(default=None, max_length=32)
    totp_last_step: Optional[int] = Field(default=None)
    created_at: datetime = _timestamp()
    last_login_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    # When an administrator erased the person (accounts/personal_data): the row stays, anonymous,
    # for the ids that requests and the reports keep; it never signs in again.
    erased_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)

    municipality: Municipality = Relationship()
    unit: Optional[Unit] = Relationship()
    role_grants: list["RoleGrant"] = Relationship(
        back_populates="user", sa_relationship_kwargs={"cascade": "all, delete-orphan"}
    )

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(Role(grant.role) for grant in self.role_grants)

    def has_role(self, *roles: Role) -> bool:
        return not self.roles.isdisjoint(roles)

    # Flask-Login's protocol, kept here so the model needs no mixin from Flask.
    @property
    def is_active(self) -> bool:
        return self.active and self.password_hash is not None

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


class Actor(Protocol):
    """Who acts or looks, as the domains' rules see them: a User record, or the signed-in
    user of a request (auth.SignedInUser)."""

    @property
    def id(self) -> Optional[int]: ...

    @property
    def municipality_id(self) -> int: ...

    @property
    def unit_id(self) -> Optional[int]: ...

    @property
    def roles(self) -> frozenset[Role]: ...

    def has_role(self, *roles: Role) -> bool: ...


class UserSession(SQLModel, table=True):
    """A signed-in session, kept on the server so that logging out, a password change or a
    deactivation ends it for certain, and a user can see and end their other sessions.

    The browser's (signed) cookie carries only the secret; only its hash is stored.
    """

    __tablename__ = "user_session"

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = _fk("user_account.id", ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    # So users can tell their sessions apart: the browser and its system by name ("Firefox",
    # "Windows"; "" where unknown), never the User-Agent header itself (browsers.py).
    browser: str = Field(default="", max_length=50)
    platform: str = Field(default="", max_length=50)
    created_at: datetime = _timestamp()
    last_seen_at: datetime = _timestamp()
    ended_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)

    user: User = Relationship()


class RecoveryCode(SQLModel, table=True):
    """One of a user's single-use recovery codes for two-step verification, for when their phone
    is lost (see mfa.py). Only a hash of the code is kept; using it deletes the row."""

    __tablename__ = "recovery_code"
    __table_args__ = (UniqueConstraint("user_id", "code_hash"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = _fk("user_account.id", ondelete="CASCADE", index=False)  # the unique constraint covers it
    code_hash: str = Field(max_length=64)
    created_at: datetime = _timestamp()


class RoleGrant(SQLModel, table=True):
    """One role held by one user in the user's municipality."""

    __tablename__ = "role_grant"

    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    )
    role: str = Field(sa_column=Column(String(32), primary_key=True))

    user: User = Relationship(back_populates="role_grants")


class TokenPurpose(StrEnum):
    PASSWORD_RESET = "password_reset"
    INVITATION = "invitation"


class AccountToken(SQLModel, table=True):
    """A single-use, expiring secret mailed to a user (password reset, invitation).

    Only a hash is stored: a leaked database does not let anyone take over an account.
    """

    __tablename__ = "account_token"

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = _fk("user_account.id", ondelete="CASCADE")
    purpose: str = Field(max_length=20)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _timestamp()
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)


class ApiToken(SQLModel, table=True):
    """A personal API token, created and revoked by its user; only its hash is stored."""

    __tablename__ = "api_token"

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = _fk("user_account.id", ondelete="CASCADE")
    name: str = Field(max_length=100)
    prefix: str = Field(max_length=12)  # shown in the UI so users can tell tokens apart
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _timestamp()
    expires_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    last_used_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    revoked_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)

    user: User = Relationship()


class AttemptKind(StrEnum):
    LOGIN = "login"  # a failed password or code
    RESET = "reset"  # a request for a password-reset mail


class LoginAttempt(SQLModel, table=True):
    """An attempt counted for throttling; purged after a day (it holds an IP address)."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_email_at", "email", "attempted_at"),
        Index("ix_login_attempt_address_at", "address", "attempted_at"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(default=AttemptKind.LOGIN.value, max_length=10)
    email: str = Field(max_length=254)
    address: str = Field(max_length=45)
    attempted_at: datetime = _timestamp()


class KnownLoginAddress(SQLModel, table=True):
    """An address a user has signed in from before, so that failures spread over other
    addresses by a stranger do not lock them out there. Only a keyed hash of the address is
    kept, and only for as long as it is used (purged after KNOWN_ADDRESS_DAYS unused)."""

    __tablename__ = "known_login_address"
    __table_args__ = (UniqueConstraint("user_id", "address_hash"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = _fk("user_account.id", ondelete="CASCADE", index=False)
    address_hash: str = Field(max_length=64)
    last_seen_at: datetime = _timestamp(index=True)


class Notification(SQLModel, table=True):
    """Something one user should know, shown in the service with a link; any domain may send one.

    The message is kept as its English msgid and parameters, not as rendered text, so it reads
    in the language its reader uses when reading it (see sharing/accounts/notifications.py).
    """

    __table_args__ = (
        Index("ix_notification_user_created", "user_id", "created_at"),
        Index("ix_notification_created_at", "created_at"),  # the purge of old ones
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = _fk("user_account.id", ondelete="CASCADE", index=False)  # the first index covers it
    message: str = Field(max_length=300)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    url: str = Field(default="", max_length=500)  # a path within the service, or empty
    created_at: datetime = _timestamp()
    read_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)


# The header of every page shows it: read with the signed-in user (auth.SignedInUser), so it
# costs no query of its own. It is the count as the request began: views that read
# notifications redirect before a page shows it.
inspect(User).add_property("unread_notification_count", column_property(
    select(func.count()).where(col(Notification.user_id) == User.id, col(Notification.read_at).is_(None))
    .correlate_except(Notification).scalar_subquery(), deferred=True))
