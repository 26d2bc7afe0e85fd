"""The category tree and the figures of one new piece of each category, versioned with their source.

No `from __future__ import annotations` here: SQLModel resolves relationship types at runtime.
"""

from datetime import datetime
from enum import StrEnum
from typing import Optional

from sqlalchemy import Column, ForeignKey, Integer, UniqueConstraint
from sqlmodel import Field, Relationship, SQLModel

from sharing.clock import utcnow
from sharing.db import UTCDateTime, foreign_key

# The largest figures one piece may have: reports add them up, so nothing absurd may enter
# (a listing's own figures are bounded the same way, and default to its category's).
MAX_WEIGHT_KG = 100_000
MAX_VOLUME_M3 = 1000
MAX_PRICE_SEK = 100_000_000
MAX_CO2E_KG = 10_000_000


class ResourceKind(StrEnum):
    """What is shared decides how: things move (logistics applies), places and services are booked."""

    THING = "thing"  # furniture, equipment, tools, IT: picked up and delivered
    PLACE = "place"  # a hall, a meeting room, storage space: booked by time at its site
    SERVICE = "service"  # a specialist's hours, a machine with its operator: booked by time


class Co2eKind(StrEnum):
    """What a category's CO2e figure is: the two kinds of published figures are not the same
    quantity, and the reports count them differently."""

    PRODUCTION = "production"  # the climate impact of producing a new piece (EPDs): reports take
    # the share a reuse avoids with a documented displacement rate
    NET_SAVING = "net_saving"  # a published net saving per reused piece (WRAP's ~55 kg per
    # two-seat sofa): used as it stands


class Category(SQLModel, table=True):
    """A node of the category tree (Möbler > Sittmöbler > Kontorsstol)."""

    __table_args__ = (UniqueConstraint("parent_id", "name"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    parent_id: Optional[int] = foreign_key("category.id", nullable=True)
    slug: str = Field(max_length=100, unique=True)
    name: str = Field(max_length=100)  # Swedish, as the UI speaks Swedish first
    name_en: str = Field(max_length=100)
    kind: str = Field(default=ResourceKind.THING.value, max_length=10)
    position: int = Field(default=0)

    factors: list["CategoryFactor"] = Relationship(
        back_populates="category", sa_relationship_kwargs={"order_by": "CategoryFactor.version"}
    )


class CategoryFactor(SQLModel, table=True):
    """One version of a category's typical figures for a new piece, with their sources.

    Versions are never changed or deleted: a report made earlier keeps pointing at the
    version it used. A system administrator's change is a new version.
    """

    __tablename__ = "category_factor"
    __table_args__ = (UniqueConstraint("category_id", "version"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    category_id: int = foreign_key("category.id")
    version: int = Field(ge=1)
    weight_kg: Optional[float] = Field(default=None, ge=0)
    volume_m3: Optional[float] = Field(default=None, ge=0)
    new_price_sek: Optional[float] = Field(default=None, ge=0)
    # The CO2e figure of one piece, of the kind ``co2e_kind`` says (None exactly when there is no
    # figure): the impact of producing a new piece, or a published net saving per reused piece.
    co2e_new_kg: Optional[float] = Field(default=None, ge=0)
    co2e_kind: Optional[str] = Field(default=None, max_length=12)  # a Co2eKind
    source: str = Field(max_length=500)  # where the figures come from, shown beside them
    valid_from: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by_id: Optional[int] = foreign_key("user_account.id", nullable=True, ondelete="SET NULL")
    # The sustainability officer's proposal this version was made from, if it was (one version at most).
    proposal_id: Optional[int] = Field(default=None, sa_column=Column(
        Integer, ForeignKey("category_figure_proposal.id", ondelete="RESTRICT"), nullable=True, unique=True))

    category: Category = Relationship(back_populates="factors")


class ProposalStatus(StrEnum):
    OPEN = "open"  # waiting for a system administrator
    ACCEPTED = "accepted"  # a new version of the figures was made from it
    DECLINED = "declined"  # with the administrator's reason


class FigureProposal(SQLModel, table=True):
    """A sustainability officer's proposed correction of one category's figures, with the source
    that supports it and why. A system administrator decides it once: accepted, it becomes a new
    version of the figures (``CategoryFactor.proposal_id``); declined, it keeps the reason.

    The figures proposed are any of the four (None: keep the one in force); the proposal never
    changes the figures itself, so the versions stay the one source of them.
    """

    __tablename__ = "category_figure_proposal"

    id: Optional[int] = Field(default=None, primary_key=True)
    category_id: int = foreign_key("category.id")
    proposed_by_id: Optional[int] = foreign_key("user_account.id", nullable=True, ondelete="SET NULL")
    weight_kg: Optional[float] = Field(default=None, ge=0)
    volume_m3: Optional[float] = Field(default=None, ge=0)
    new_price_sek: Optional[float] = Field(default=None, ge=0)
    co2e_new_kg: Optional[float] = Field(default=None, ge=0)
    co2e_kind: Optional[str] = Field(default=None, max_length=12)  # a Co2eKind, exactly when co2e_new_kg is given
    citation: str = Field(default="", max_length=500)  # the publication, as a reader would look it up
    url: str = Field(default="", max_length=500)  # where it can be read (http or https)
    reason: str = Field(max_length=2000)
    # The category's own newest version when proposed (None: it had none): a later one means the
    # figures changed since, which the deciding administrator is told.
    based_on_version: Optional[int] = Field(default=None)
    status: str = Field(default=ProposalStatus.OPEN.value, max_length=10, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    decided_by_id: Optional[int] = foreign_key("user_account.id", nullable=True, ondelete="SET NULL")
    decline_reason: str = Field(default="", max_length=1000)

