"""API of the catalog: categories with their factors, and listings (read for everyone signed
in, as far as shared with them; write for the owning municipality's facility managers)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, Literal, TypeVar

from flask import Response, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel.main import SQLModelConfig

from sharing.access import SIGNED_IN, allow
from sharing.accounts.models import Role
from sharing.api import blueprint
from sharing.api.common import (
    DATE_PATTERN,
    ProblemError,
    date_arg,
    int_arg,
    one,
    page_args,
    page_response,
    parse_body,
    refused,
)
from sharing.api.openapi import ID_SCHEMA, documented
from sharing.catalog.categories.models import ResourceKind
from sharing.catalog.categories.rules import category_tree, current_factor
from sharing.catalog.holds import rules as holds
from sharing.catalog.listings import rules as listings
from sharing.catalog.listings.models import Condition, ListingDetails, ListingStatus
from sharing.catalog.photos import rules as photos
from sharing.catalog.photos.files import allow_photo_request, photo_store, send_photo
from sharing.catalog.photos.models import ListingPhoto
from sharing.clock import today_in_sweden, utcnow
from sharing.db import db_session
from sharing.errors import DomainError
from sharing.typed import id_of
from sharing.web.errors import problem


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class FactorOut(Schema):
    version: int
    weight_kg: float | None
    volume_m3: float | None
    new_price_sek: float | None
    co2e_new_kg: float | None = Field(description="The CO2e figure of one piece (kg), of the kind co2e_kind says")
    co2e_kind: Literal["production", "net_saving"] | None = Field(
        default=None, description="production: the impact of producing a new piece (EPD); net_saving: a published "
                                  "net saving per reused piece")
    source: str
    valid_from: datetime


class CategoryOut(Schema):
    id: int
    parent_id: int | None
    slug: str
    name: str
    name_en: str
    kind: ResourceKind
    factor: FactorOut | None = Field(description="The figures in force now (inherited from a parent if none)")


class ListingOut(ListingDetails):
    """A listing as the API shows it: its details, and what the service keeps of it."""

    id: int
    municipality_id: int
    status: ListingStatus
    published_at: datetime | None
    updated_at: datetime


class ListingFound(ListingOut):
    """A listing as a search finds it: with dates searched, also how many of its pieces are free then."""

    free_pieces: int | None = Field(
        default=None, description="With available_from or available_until: the pieces free for the whole period "
                                  "searched (fewer than quantity: partly booked then; listings with none free are "
                                  "left out). Null without dates.")


class ListingIn(ListingDetails):
    """A listing as a facility manager writes it; it is saved as a draft."""

    model_config = SQLModelConfig(extra="forbid")


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: ListingStatus = Field(description="published, draft or withdrawn (only a published listing is "
                                              "withdrawn; a withdrawn one may become a draft again)")



@blueprint.get("/categories")
@allow(SIGNED_IN)
@documented("The category tree, in tree order, with the figures in force", tag="catalog", response=CategoryOut,
            paginated=True)
def categories() -> Response:
    page, per_page = page_args()
    nodes = category_tree(db_session)
    chosen = nodes[(page - 1) * per_page: page * per_page]
    rows = [CategoryOut(id=id_of(n.category), parent_id=n.category.parent_id, slug=n.category.slug,
                        name=n.category.name, name_en=n.category.name_en, kind=ResourceKind(n.category.kind),
                        factor=current_factor(  # type: ignore[arg-type]  # FactorOut reads its attributes
                            db_session, id_of(n.category)))
            for n in chosen]
    return page_response(rows, total=len(nodes), page=page, per_page=per_page, schema=CategoryOut)


E = TypeVar("E", bound=Enum)

SEARCH_PARAMETERS: dict[str, dict[str, Any]] = {
    "q": {"type": "string", "description": "Words to find; Swedish inflections and compounds are understood"},
    "category_id": {**ID_SCHEMA, "description": "A category and everything below it"},
    "municipality_id": ID_SCHEMA,
    "kind": {"type": "string", "enum": [k.value for k in ResourceKind]},
    "condition": {"type": "string", "enum": [c.value for c in Condition]},
    "offer": {"type": "string", "enum": ["lend", "give_away", "swap"]},
    "sort": {"type": "string", "enum": ["relevance", "newest", "title"]},
    "available_from": {"type": "string", "format": "date", "pattern": DATE_PATTERN,
                       "description": "Available for a period from this day (YYYY-MM-DD, 2000-01-01 to "
                                      "2999-12-31): listed as available then, and at least one piece not booked "
                                      "for the whole period. Without available_until, the period is this day alone"},
    "available_until": {"type": "string", "format": "date", "pattern": DATE_PATTERN,
                        "description": "... until this day, inclusive (YYYY-MM-DD); alone, the period starts today"},
}


def _enum_args(name: str, enum: type[E]) -> list[E]:
    try:
        return [enum(value) for value in request.args.getlist(name)]
    except ValueError:
        raise ProblemError(problem(400, f"'{name}' must be one of: {', '.join(e.value for e in enum)}.")) from None


@blueprint.get("/listings")
@allow(SIGNED_IN)
@documented("Find listings shared with you", tag="catalog", response=ListingFound, paginated=True,
            query=SEARCH_PARAMETERS)
def find_listings() -> Response:
    page, per_page = page_args()
    kinds = _enum_args("kind", ResourceKind)
    sort = request.args.get("sort", "relevance")
    if sort not in ("relevance", "newest", "title"):
        raise ProblemError(problem(400, "'sort' must be relevance, newest or title."))
    offers = request.args.getlist("offer")
    if not set(offers) <= {"lend", "give_away", "swap"}:
        raise ProblemError(problem(400, "'offer' must be lend, give_away or swap."))
    now = utcnow()
    filters = listings.Filters(
        q=request.args.get("q", "")[:200], category_id=int_arg("category_id"),
        municipality_id=int_arg("municipality_id"), kind=kinds[0] if kinds else None,
        conditions=_enum_args("condition", Condition), offers=offers, sort=sort, page=page, per_page=per_page,
        available_from=date_arg("available_from"), available_until=date_arg("available_until"),
        today=today_in_sweden(now), now=now,
    )
    if filters.available_from and filters.available_until and filters.available_until < filters.available_from:
        raise ProblemError(problem(400, "'available_until' comes before 'available_from'."))
    for name in ("available_from", "available_until"):
        day = getattr(filters, name)
        if day is not None and not holds.in_calendar(day):
            raise ProblemError(problem(400, f"'{name}' must be from {holds.FIRST_DAY} to {holds.LAST_DAY}."))
    found = listings.find(db_session, viewer=current_user, filters=filters)
    rows = [ListingFound.model_validate(item).model_copy(update={"free_pieces": found.free.get(id_of(item))})
            for item in found.items]
    return page_response(rows, total=found.total, page=page, per_page=per_page, schema=ListingFound,
                         total_exact=not found.more)


@blueprint.get("/listings/<int:listing_id>")
@allow(SIGNED_IN)
@documented("One listing", tag="catalog", response=ListingOut)
def get_listing(listing_id: int) -> Response:
    return one(listings.listing_to_see(db_session, current_user, listing_id), ListingOut)


@blueprint.post("/listings")
@allow(Role.FACILITY_MANAGER)
@documented("List something (saved as a draft)", tag="catalog", response=ListingOut, body=ListingIn, status=201)
def create_listing() -> Response:
    body = parse_body(ListingIn)
    try:
        listing = listings.save_listing(db_session, details=body,
                                        by=current_user, now=utcnow())
    except DomainError as error:
        raise refused(error) from None
    db_session.commit()
    return one(listing, ListingOut, status=201)


@blueprint.put("/listings/<int:listing_id>")
@allow(Role.FACILITY_MANAGER)
@documented("Replace a listing's details", tag="catalog", response=ListingOut, body=ListingIn)
def replace_listing(listing_id: int) -> Response:
    listing = listings.listing_to_manage(db_session, current_user, listing_id)
    body = parse_body(ListingIn)
    try:
        listings.save_listing(db_session, details=body, by=current_user,
                              now=utcnow(), listing=listing)
    except DomainError as error:
        raise refused(error) from None
    db_session.commit()
    return one(listing, ListingOut)


@blueprint.post("/listings/<int:listing_id>/status")
@allow(Role.FACILITY_MANAGER)
@documented("Publish, unpublish or withdraw a listing", tag="catalog", response=ListingOut, body=StatusIn)
def set_listing_status(listing_id: int) -> Response:
    listing = listings.listing_to_manage(db_session, current_user, listing_id)
    body = parse_body(StatusIn)
    try:
        listings.set_status(db_session, listing=listing, to=body.status, by=current_user, now=utcnow())
    except DomainError as error:
        raise refused(error) from None
    db_session.commit()
    return one(listing, ListingOut)


# --- Photos -------------------------------------------------------------------------------------

class PhotoOut(Schema):
    id: int
    position: int = Field(description="The order of the listing's photos; the lowest is the cover")
    width: int = Field(description="Of the large rendition, in pixels")
    height: int
    byte_size: int = Field(description="Of the large rendition")
    alt_text: str = Field(description="A short description for those who cannot see it; empty: the listing's title")
    created_at: datetime
    urls: dict[str, str] = Field(description="The JPEG files, by name: card (400 px) and large (1600 px)")


class PhotoListOut(Schema):
    items: list[PhotoOut]


PHOTO_UPLOAD: dict[str, dict[str, Any]] = {
    "photos": {"type": "array", "items": {"type": "string", "format": "binary"},
               "description": "JPEG, PNG or WebP files; location data and other metadata are removed"},
    "alt_text": {"type": "string", "maxLength": 300, "description": "A short description for every photo sent"},
}


def _photo_list(rows: list[ListingPhoto], status: int = 200) -> Response:
    items = [PhotoOut(id=id_of(photo), position=photo.position, width=photo.width, height=photo.height,
                      byte_size=photo.byte_size, alt_text=photo.alt_text, created_at=photo.created_at,
                      urls={rendition: url_for("api.photo_file", key=photo.key, rendition=rendition, _external=True)
                            for rendition in photos.RENDITIONS})
             for photo in rows]
    response = jsonify(PhotoListOut(items=items).model_dump(mode="json"))
    response.status_code = status
    return response


@blueprint.url_value_preprocessor
def make_room_for_photos(endpoint: str | None, values: dict[str, object] | None) -> None:
    if endpoint == "api.add_listing_photos":
        allow_photo_request()


@blueprint.get("/listings/<int:listing_id>/photos")
@allow(SIGNED_IN)
@documented("A listing's photos, the cover first", tag="catalog", response=PhotoListOut)
def listing_photos(listing_id: int) -> Response:
    listing = listings.listing_to_see(db_session, current_user, listing_id)
    return _photo_list(photos.photos_of(db_session, id_of(listing)))


@blueprint.post("/listings/<int:listing_id>/photos")
@allow(Role.FACILITY_MANAGER)
@documented("Add photos to a listing, after its others (all or, if one is refused, none)", tag="catalog",
            response=PhotoListOut, status=201, multipart=PHOTO_UPLOAD)
def add_listing_photos(listing_id: int) -> Response:
    listing = listings.listing_to_manage(db_session, current_user, listing_id)
    if request.mimetype != "multipart/form-data":
        raise ProblemError(problem(415, "Send the photos as multipart/form-data, in the field 'photos'."))
    uploads = [photos.Upload(file.filename or "", file.stream) for file in request.files.getlist("photos")
               if file.filename]
    try:
        added = photos.add_photos(db_session, listing=listing, uploads=uploads, by=current_user, now=utcnow(),
                                  store=photo_store(), alt_text=request.form.get("alt_text", ""))
    except DomainError as error:
        db_session.rollback()
        raise refused(error) from None
    db_session.commit()
    return _photo_list(added, status=201)


@blueprint.delete("/listings/<int:listing_id>/photos/<int:photo_id>")
@allow(Role.FACILITY_MANAGER)
@documented("Remove a photo of a listing", tag="catalog", status=204)
def delete_listing_photo(listing_id: int, photo_id: int) -> Response:
    listing = listings.listing_to_manage(db_session, current_user, listing_id)
    photo = photos.photo_of(db_session, listing, photo_id)
    try:
        photos.remove_photo(db_session, listing=listing, photo=photo, by=current_user, now=utcnow(),
                            store=photo_store())
    except DomainError as error:
        raise refused(error) from None
    db_session.commit()
    return Response(status=204)


@blueprint.get("/photos/<key>/<rendition>.jpg")
@allow(SIGNED_IN)
@documented("A photo's file (image/jpeg); it never changes, so it may be cached for long", tag="catalog")
def photo_file(key: str, rendition: str) -> ResponseReturnValue:
    return send_photo(key, rendition)
