"""Listings of what municipalities can share, the category tree and its climate factors.

No `from __future__ import annotations` here: SQLModel resolves relationship types at runtime.
"""

from datetime import date, datetime
from enum import StrEnum
from typing import Any, Optional

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, Relationship, SQLModel

from sharing.db import UTCDateTime, utcnow


def _fk(target: str, *, nullable: bool = False, ondelete: str = "RESTRICT") -> Any:
    return Field(default=None, sa_column=Column(Integer, ForeignKey(target, ondelete=ondelete),
                                                nullable=nullable, index=True))


class ResourceKind(StrEnum):
    """What is shared decides how: things move (logistics applies), places and services are booked."""

    THING = "thing"  # furniture, equipment, tools, IT: picked up and delivered
    PLACE = "place"  # a hall, a meeting room, storage space: booked by time at its site
    SERVICE = "service"  # a specialist's hours, a machine with its operator: booked by time


class Condition(StrEnum):
    """A graded scale, best first (the Swedish labels live in the catalog's labels)."""

    AS_NEW = "as_new"
    VERY_GOOD = "very_good"
    GOOD = "good"
    FAIR = "fair"
    NEEDS_REPAIR = "needs_repair"


class Visibility(StrEnum):
    OWN_MUNICIPALITY = "own"
    PARTNERS = "partners"


class ListingStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    RESERVED = "reserved"  # every piece is promised; some may still be free while partly reserved
    ON_LOAN = "on_loan"
    HANDED_OVER = "handed_over"  # ownership has passed on for good
    WITHDRAWN = "withdrawn"


class Category(SQLModel, table=True):
    """A node of the category tree (Möbler > Sittmöbler > Kontorsstol)."""

    __table_args__ = (UniqueConstraint("parent_id", "name"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    parent_id: Optional[int] = _fk("category.id", nullable=True)
    slug: str = Field(max_length=100, unique=True)
    name: str = Field(max_length=100)  # Swedish, as the UI speaks Swedish first
    name_en: str = Field(max_length=100)
    kind: str = Field(default=ResourceKind.THING.value, max_length=10)
    position: int = Field(default=0)

    factors: list["CategoryFactor"] = Relationship(
        back_populates="category", sa_relationship_kwargs={"order_by": "CategoryFactor.version"}
    )


class CategoryFactor(SQLModel, table=True):
    """One version of a category's default figures for a new piece, with their sources.

    Versions are never changed or deleted: a report made earlier keeps pointing at the
    version it used. A system administrator's change is a new version.
    """

    __tablename__ = "category_factor"
    __table_args__ = (UniqueConstraint("category_id", "version"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    category_id: int = _fk("category.id")
    version: int = Field(ge=1)
    weight_kg: Optional[float] = Field(default=None, ge=0)
    volume_m3: Optional[float] = Field(default=None, ge=0)
    new_price_sek: Optional[float] = Field(default=None, ge=0)
    co2e_new_kg: Optional[float] = Field(default=None, ge=0)  # climate impact of producing a new piece
    source: str = Field(max_length=500)  # where the figures come from, shown beside them
    valid_from: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by_id: Optional[int] = _fk("user_account.id", nullable=True, ondelete="SET NULL")

    category: Category = Relationship(back_populates="factors")


class Listing(SQLModel, table=True):
    """Something one municipality offers: identical pieces of a thing, a place or a service."""

    __table_args__ = (
        Index("ix_listing_status_municipality", "status", "municipality_id"),
        # The newest first: the default order of every search without words.
        Index("ix_listing_published_at_id", "published_at", "id"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    municipality_id: int = _fk("municipality.id")
    site_id: int = _fk("site.id")
    category_id: int = _fk("category.id")
    kind: str = Field(default=ResourceKind.THING.value, max_length=10)
    status: str = Field(default=ListingStatus.DRAFT.value, max_length=12)

    title: str = Field(max_length=150)
    description: str = Field(default="", max_length=5000)
    condition: Optional[str] = Field(default=None, max_length=12)  # things only
    quantity: int = Field(default=1, ge=1)
    width_cm: Optional[int] = Field(default=None, ge=0)
    depth_cm: Optional[int] = Field(default=None, ge=0)
    height_cm: Optional[int] = Field(default=None, ge=0)
    weight_kg: Optional[float] = Field(default=None, ge=0)  # per piece; defaulted from the category
    volume_m3: Optional[float] = Field(default=None, ge=0)  # per piece; defaulted from the category
    inventory_number: str = Field(default="", max_length=50)
    contact_user_id: Optional[int] = _fk("user_account.id", nullable=True, ondelete="SET NULL")

    # Offer types: one or more.
    lend: bool = Field(default=False)
    give_away: bool = Field(default=False)
    swap: bool = Field(default=False)
    loan_min_days: Optional[int] = Field(default=None, ge=1)
    loan_max_days: Optional[int] = Field(default=None, ge=1)

    visibility: str = Field(default=Visibility.PARTNERS.value, max_length=10)
    available_from: Optional[date] = Field(default=None)

    created_by_id: Optional[int] = _fk("user_account.id", nullable=True, ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    published_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)

    # Search: normalised and stemmed words of the title, and of everything searchable.
    # Kept by the catalog's rules; the databases index search_text for substring search.
    search_title: str = Field(default="", max_length=600)
    search_text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))

    category: Category = Relationship()


class WantStatus(StrEnum):
    OPEN = "open"
    FULFILLED = "fulfilled"  # the unit got what it needed
    WITHDRAWN = "withdrawn"  # no longer needed


class Want(SQLModel, table=True):
    """A wanted item (efterlysning): what a unit needs, in words, a category or both, how many and by when.

    Past its date an open want counts as expired: it is no longer matched nor shown as open.
    """

    __table_args__ = (
        Index("ix_want_status_municipality", "status", "municipality_id"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    municipality_id: int = _fk("municipality.id")
    unit_id: int = _fk("unit.id")  # the poster's unit, which needs it
    posted_by_id: Optional[int] = _fk("user_account.id", nullable=True, ondelete="SET NULL")
    category_id: Optional[int] = _fk("category.id", nullable=True)
    words: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=2000)
    quantity: int = Field(default=1, ge=1)
    needed_by: Optional[date] = Field(default=None)
    status: str = Field(default=WantStatus.OPEN.value, max_length=10)
    # The stems of the words, as the catalog's search finds them in listings.
    search_words: str = Field(default="", max_length=600)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    closed_by_id: Optional[int] = _fk("user_account.id", nullable=True, ondelete="SET NULL")

    category: Optional[Category] = Relationship()


class WantMatch(SQLModel, table=True):
    """A listing found to meet a want, recorded once per pair: its poster hears of a listing once,
    however often the listing is edited afterwards."""

    __tablename__ = "want_match"
    __table_args__ = (UniqueConstraint("want_id", "listing_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    want_id: int = _fk("want.id", ondelete="CASCADE")
    listing_id: int = _fk("listing.id", ondelete="CASCADE")
    matched_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # When its poster was told; None when the listing was already there as the want was posted
    # (the want's page showed it).
    notified_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)


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
    municipality_id: int = _fk("municipality.id")
    created_by_id: Optional[int] = _fk("user_account.id", nullable=True, ondelete="SET NULL")
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
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    finished_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)


class ListingPhoto(SQLModel, table=True):
    """A photo of a listing, kept as files we encoded ourselves (no metadata of the original survives).

    Its files are named by a random key, never by what was uploaded, and never change: a new
    photo gets a new key, so the files can be cached for long.
    """

    __tablename__ = "listing_photo"

    id: Optional[int] = Field(default=None, primary_key=True)
    listing_id: int = _fk("listing.id", ondelete="CASCADE")
    position: int = Field(default=0)  # the lowest is the cover
    key: str = Field(max_length=32, unique=True)
    width: int = Field(ge=1)  # of the large rendition
    height: int = Field(ge=1)
    byte_size: int = Field(ge=0)  # of the large rendition
    alt_text: str = Field(default="", max_length=300)  # empty: the listing's title describes it
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by_id: Optional[int] = _fk("user_account.id", nullable=True, ondelete="SET NULL")


class CatalogRevision(SQLModel, table=True):
    """One row: a token drawn anew with every committed change to what the search pages show,
    so a page kept under one token is current while the token stands (see revision.py).
    Random rather than counted, so no token comes back (a database restored or made anew)."""

    __tablename__ = "catalog_revision"

    id: Optional[int] = Field(default=None, primary_key=True)
    token: int = Field(sa_column=Column(BigInteger, nullable=False))
