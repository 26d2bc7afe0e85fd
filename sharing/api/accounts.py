"""API of the accounts domain: who am I, municipalities, their units and sites."""

from __future__ import annotations

from datetime import time

from flask import Response, abort
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlmodel import col

from sharing.access import SIGNED_IN, allow
from sharing.accounts.models import CoordinatesSource, Municipality, Role, Site, Unit
from sharing.api import blueprint
from sharing.api.common import found, one, paginate
from sharing.api.openapi import documented
from sharing.db import db_session
from sharing.typed import relation


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class MunicipalityOut(Schema):
    id: int
    code: str = Field(description="Four-digit municipality code (SCB)")
    name: str
    slug: str


class UnitOut(Schema):
    id: int
    municipality_id: int
    parent_id: int | None
    name: str
    active: bool


class OpeningHoursOut(Schema):
    weekday: int = Field(description="0 = Monday … 6 = Sunday")
    opens: time
    closes: time


class SiteOut(Schema):
    id: int
    municipality_id: int
    name: str
    street_address: str
    postal_code: str
    locality: str
    latitude: float = Field(description="WGS84; never made up: see coordinates_source")
    longitude: float = Field(description="WGS84")
    coordinates_source: CoordinatesSource = Field(
        description="How the coordinates were set: found from the address (geocoded), only the locality's position "
                    "(approximate), picked on a map, or typed")
    approximate: bool = Field(description="True when the coordinates are only roughly the site's (its locality's)")
    access_notes: str
    active: bool
    opening_hours: list[OpeningHoursOut]


class MeOut(Schema):
    id: int
    name: str
    email: str
    municipality: MunicipalityOut
    unit_id: int | None
    roles: list[str]


@blueprint.get("/me")
@allow(SIGNED_IN)
@documented("The signed-in user", tag="accounts", response=MeOut)
def me() -> Response:
    user = current_user
    municipality = db_session.get(Municipality, user.municipality_id)
    return one(MeOut(id=user.id, name=user.name, email=user.email, unit_id=user.unit_id,
                     municipality=MunicipalityOut.model_validate(municipality), roles=sorted(user.roles)), MeOut)


@blueprint.get("/municipalities")
@allow(SIGNED_IN)
@documented("The member municipalities", tag="accounts", response=MunicipalityOut, paginated=True)
def municipalities() -> Response:
    query = select(Municipality).where(col(Municipality.active)).order_by(col(Municipality.name))
    return paginate(db_session, query, MunicipalityOut)


def own_municipality(municipality_id: int) -> Municipality:
    """Units and sites (with their access notes) are shown to the municipality's own people only."""
    municipality = found(db_session.get(Municipality, municipality_id))
    if municipality.id != current_user.municipality_id and not current_user.has_role(Role.SYSTEM_ADMIN):
        abort(403)
    return municipality


@blueprint.get("/municipalities/<int:municipality_id>/units")
@allow(SIGNED_IN)
@documented("Your municipality's units", tag="accounts", response=UnitOut, paginated=True)
def units(municipality_id: int) -> Response:
    own_municipality(municipality_id)
    query = select(Unit).where(col(Unit.municipality_id) == municipality_id).order_by(col(Unit.name))
    return paginate(db_session, query, UnitOut)


@blueprint.get("/municipalities/<int:municipality_id>/sites")
@allow(SIGNED_IN)
@documented("Your municipality's sites, where things are picked up and delivered", tag="accounts",
            response=SiteOut, paginated=True)
def sites(municipality_id: int) -> Response:
    own_municipality(municipality_id)
    query = (select(Site).where(col(Site.municipality_id) == municipality_id, col(Site.active))
             .options(selectinload(relation(Site.opening_hours))).order_by(col(Site.name)))
    return paginate(db_session, query, SiteOut)
