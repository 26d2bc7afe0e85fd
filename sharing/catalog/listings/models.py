"""Listings of what municipalities can share, and the catalog's revision token.

No `from __future__ import annotations` here: SQLModel resolves relationship types at runtime.
"""

from datetime import date, datetime
from enum import StrEnum
from typing import Optional

from sqlalchemy import BigInteger, Column, Index, Integer, Text
from sqlmodel import AutoString, Field, Relationship, SQLModel

from sharing.catalog.categories.models import MAX_VOLUME_M3, MAX_WEIGHT_KG, Category, ResourceKind
from sharing.catalog.listings import search_index  # noqa: F401  # SQLite's index calls its function
from sharing.clock import utcnow
from sharing.db import MAX_RECORD_ID, UTCDateTime, foreign_key


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


# The largest figures a listing may hold: reports add them up, so nothing absurd may enter.
MAX_QUANTITY = 100_000
MAX_LOAN_DAYS = 3650
MAX_SIZE_CM = 100_000


class ListingDetails(SQLModel):
    """What a facility manager writes of a listing, written once: the table stores these fields,
    the rules check them (``listings.rules.validate``), the API reads and shows them.

    Built from a form, a file or a request body, it checks types and bounds; what needs the
    database (the site is theirs, the category fits the kind) is the rules' to check.
    """

    kind: ResourceKind = Field(default=ResourceKind.THING, sa_type=AutoString(length=10))
    title: str = Field(min_length=1, max_length=150)
    # Ids bounded as the databases hold them (sharing.db.RecordId, spelled out: SQLModel's Field
    # carries the foreign key).
    category_id: int = Field(foreign_key="category.id", ondelete="RESTRICT", index=True, ge=1, le=MAX_RECORD_ID)
    site_id: int = Field(foreign_key="site.id", ondelete="RESTRICT", index=True, ge=1, le=MAX_RECORD_ID)
    description: str = Field(default="", max_length=5000)
    condition: Optional[Condition] = Field(default=None, sa_type=AutoString(length=12))  # things only
    quantity: int = Field(default=1, ge=1, le=MAX_QUANTITY)
    width_cm: Optional[int] = Field(default=None, ge=0, le=MAX_SIZE_CM)
    depth_cm: Optional[int] = Field(default=None, ge=0, le=MAX_SIZE_CM)
    height_cm: Optional[int] = Field(default=None, ge=0, le=MAX_SIZE_CM)
    weight_kg: Optional[float] = Field(default=None, ge=0, le=MAX_WEIGHT_KG, description=(
        "Per piece. Null: not given; the category's typical figure stands in (GET /categories)."))
    volume_m3: Optional[float] = Field(default=None, ge=0, le=MAX_VOLUME_M3, description=(
        "Per piece. Null: not given; the category's typical figure stands in (GET /categories)."))
    inventory_number: str = Field(default="", max_length=50)
    contact_user_id: Optional[int] = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL",
                                           index=True, ge=1, le=MAX_RECORD_ID)

    # Offer types: one or more.
    lend: bool = Field(default=False)
    give_away: bool = Field(default=False)
    swap: bool = Field(default=False)
    loan_min_days: Optional[int] = Field(default=None, ge=1, le=MAX_LOAN_DAYS)
    loan_max_days: Optional[int] = Field(default=None, ge=1, le=MAX_LOAN_DAYS)

    visibility: Visibility = Field(default=Visibility.PARTNERS, sa_type=AutoString(length=10))
    available_from: Optional[date] = Field(default=None)


class Listing(ListingDetails, table=True):
    """Something one municipality offers: identical pieces of a thing, a place or a service."""

    __table_args__ = (
        Index("ix_listing_status_municipality", "status", "municipality_id"),
        # The newest first: the default order of every search without words.
        Index("ix_listing_published_at_id", "published_at", "id"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    municipality_id: int = foreign_key("municipality.id")
    status: str = Field(default=ListingStatus.DRAFT.value, max_length=12)

    created_by_id: Optional[int] = foreign_key("user_account.id", nullable=True, ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    published_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)

    # Search: normalised and stemmed words of the title, and of everything searchable.
    # Kept by the catalog's rules; the databases index search_text for substring search.
    search_title: str = Field(default="", max_length=600)
    search_text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))

    category: Category = Relationship()


class CatalogRevision(SQLModel, table=True):
    """One row: a token drawn anew with every committed change to what the search pages show,
    so a page kept under one token is current while the token stands (see revision.py).
    Random rather than counted, so no token comes back (a database restored or made anew)."""

    __tablename__ = "catalog_revision"

    id: Optional[int] = Field(default=None, primary_key=True)
    token: int = Field(sa_column=Column(BigInteger, nullable=False))
    # Counted up with every token, while the row is locked: commits of the catalog count in the
    # order they happen, which is what lets the changes' log be read from a number on.
    seq: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))


class CatalogChange(SQLModel, table=True):
    """The log of what changed in the catalog, read by kept search results (see revision.py):
    a listing whose row, photos or holds a transaction wrote (the database's triggers write these
    rows), or, without a listing, anything else the search shows. Stamped at commit with the
    revision's ``seq``; pruned by a job."""

    __tablename__ = "catalog_change"

    id: Optional[int] = Field(default=None, sa_column=Column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True))
    listing_id: Optional[int] = Field(default=None)  # no foreign key: a deleted listing's change is kept
    seq: Optional[int] = Field(default=None, sa_column=Column(BigInteger, nullable=True, index=True))
    token: Optional[int] = Field(default=None, sa_column=Column(BigInteger, nullable=True))  # the revision's, at seq



class SearchWord(SQLModel, table=True):
    """A stem that listings' search text holds (or held): what a mistyped word is checked against."""

    __tablename__ = "search_word"

    word: str = Field(primary_key=True, max_length=100)


class SearchWordVariant(SQLModel, table=True):
    """A key a stem is found under: itself without å, ä, ö and, if long, with one letter left
    out. Two stems one edit apart share a key (see catalog/listings/search.py)."""

    __tablename__ = "search_word_variant"

    variant: str = Field(primary_key=True, max_length=100)
    word: str = Field(primary_key=True, max_length=100)
