"""API of requests to borrow, take over or swap, under the same rules as the pages: ask, take
each step, write in the thread. A step the request's status does not allow, or pieces someone
else booked first, is a 409 problem; a refused value is a 422.

The return may bring a photo (of damage, say), as the page's form does: sent as
multipart/form-data, the way the API takes listings' photos, and checked and stored by the same
rules and limits; its files are then served to those who may see the request."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from flask import Response, abort, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field, ValidationError, computed_field

from sharing.access import SIGNED_IN, allow
from sharing.accounts.models import Role
from sharing.api import blueprint
from sharing.api.common import ProblemError, field_of, one, page_args, page_response, parse_body, refused
from sharing.api.openapi import documented
from sharing.catalog.listings.models import MAX_QUANTITY, Condition
from sharing.catalog.photos import rules as photos
from sharing.catalog.photos.files import allow_photo_request, photo_store, send_stored
from sharing.clock import utcnow
from sharing.db import RecordId, db_session
from sharing.errors import DomainError
from sharing.loans.requests import rules as loans
from sharing.loans.requests.models import HandoverMethod, RequestKind, RequestStatus
from sharing.web.errors import problem

CONFLICT = {409: "The request's status, or the pieces free now, do not allow it"}
RETURN_PHOTO = "The photo taken at the return, if any: its JPEG files by name, card (400 px) and large (1600 px)"


class RequestOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: RequestKind
    status: RequestStatus
    listing_id: int
    quantity: int
    starts_at: datetime = Field(description="The first day's start (Swedish midnight, in UTC)")
    ends_at: datetime | None = Field(description="The end of the last day; none for good")
    owner_municipality_id: int
    requester_id: int | None
    requester_municipality_id: int
    requester_unit_id: int | None
    delivery_site_id: int
    transport_needed: bool
    offered_listing_id: int | None
    offered_quantity: int | None
    decided_at: datetime | None
    decline_reason: str
    handed_over_at: datetime | None
    handover_method: HandoverMethod | None
    handover_condition: Condition | None
    handover_confirmed_by_owner_at: datetime | None
    handover_confirmed_by_requester_at: datetime | None
    returned_at: datetime | None
    return_condition: Condition | None
    return_confirmed_by_owner_at: datetime | None
    return_confirmed_by_requester_at: datetime | None
    overdue_since: datetime | None
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    return_photo_key: str | None = Field(default=None, exclude=True)

    @computed_field(description=RETURN_PHOTO)  # type: ignore[prop-decorator]  # pydantic's way, on a property
    @property
    def return_photo(self) -> dict[str, str] | None:
        if self.return_photo_key is None:
            return None
        return {rendition: url_for("api.request_return_photo", request_id=self.id, key=self.return_photo_key,
                                   rendition=rendition, _external=True) for rendition in photos.RENDITIONS}


class RequestIn(BaseModel):
    """Ask for pieces of a listing you may see."""

    model_config = ConfigDict(extra="forbid")

    listing_id: RecordId
    kind: RequestKind
    quantity: int = Field(ge=1, le=MAX_QUANTITY)
    first_day: date
    last_day: date | None = Field(default=None, description="A loan's last day; leave out for good")
    delivery_site_id: RecordId = Field(description="One of your municipality's sites")
    transport_needed: bool = False
    message: str = Field(default="", max_length=loans.MESSAGE_MAX)
    offered_listing_id: RecordId | None = Field(default=None, description="A swap: your listing offered")
    offered_quantity: int | None = Field(default=None, ge=1, le=MAX_QUANTITY)
    start_time: time | None = Field(default=None, description="Places and services: hours of the first day")
    end_time: time | None = None


class DeclineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=loans.REASON_MAX)


class HandoverIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    method: HandoverMethod
    condition: Condition | None = None


class ReturnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    condition: Condition | None = None
    remarks: str = Field(default="", max_length=loans.MESSAGE_MAX)
    damage: str = Field(default="", max_length=loans.MESSAGE_MAX)


# The return as multipart/form-data: ReturnIn's fields as form fields, and one photo.
RETURN_UPLOAD: dict[str, dict[str, Any]] = {
    "condition": {"type": "string", "enum": ["", *(c.value for c in Condition)],
                  "description": "The pieces' condition when back; empty or left out: not noted"},
    "remarks": {"type": "string", "maxLength": loans.MESSAGE_MAX},
    "damage": {"type": "string", "maxLength": loans.MESSAGE_MAX},
    "photo": {"type": "string", "format": "binary",
              "description": "A photo of the return (of damage, say): JPEG, PNG or WebP, within the size and pixel "
                             "limits of listings' photos; location data and other metadata are removed"},
}


class ExtendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    last_day: date


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: str = Field(min_length=1, max_length=loans.MESSAGE_MAX)


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    author_id: int | None
    body: str
    created_at: datetime


REQUEST_PARAMETERS: dict[str, dict[str, Any]] = {
    "show": {"type": "string", "enum": ["mine", "incoming"], "default": "mine",
             "description": "mine: what you asked for; incoming: what your municipality is asked for "
                            "(facility managers)"},
    "state": {"type": "string", "enum": ["open", "all"], "default": "open"},
}



@blueprint.get("/requests")
@allow(SIGNED_IN)
@documented("Your requests, or (facility managers) those for your municipality's listings", tag="loans",
            response=RequestOut, paginated=True, query=REQUEST_PARAMETERS)
def find_requests() -> Response:
    page, per_page = page_args()
    show, state = request.args.get("show", "mine"), request.args.get("state", "open")
    if show not in ("mine", "incoming") or state not in ("open", "all"):
        raise ProblemError(problem(400, "'show' is mine or incoming; 'state' is open or all."))
    if show == "incoming" and not current_user.has_role(Role.FACILITY_MANAGER):
        raise ProblemError(problem(403, "Only facility managers see their municipality's incoming requests."))
    found = loans.requests_of(db_session, current_user, incoming=show == "incoming", open_only=state == "open",
                              page=page, per_page=per_page)
    return page_response(found.items, total=found.total, page=page, per_page=per_page, schema=RequestOut)


@blueprint.get("/requests/<int:request_id>")
@allow(SIGNED_IN)
@documented("One request (its requester's, or its municipalities' facility managers')", tag="loans",
            response=RequestOut)
def get_request(request_id: int) -> Response:
    return one(loans.request_to_see(db_session, current_user, request_id), RequestOut)


@blueprint.post("/requests")
@allow(SIGNED_IN)
@documented("Ask to borrow, take over or swap pieces of a listing: they are held for you at once, or the "
            "answer is 409 if someone booked them first", tag="loans", response=RequestOut, body=RequestIn,
            status=201, responses=CONFLICT)
def create_request() -> Response:
    body = parse_body(RequestIn)
    details = loans.RequestDetails(**body.model_dump(exclude={"listing_id"}))
    try:
        made = loans.ask(db_session, listing_id=body.listing_id, details=details, by=current_user, now=utcnow())
    except DomainError as error:
        db_session.rollback()
        raise refused(error) from None
    db_session.commit()
    return one(made, RequestOut, status=201)


def _step(request_id: int, take: Any) -> Response:
    found = loans.request_to_see(db_session, current_user, request_id)
    try:
        take(found)
    except DomainError as error:
        db_session.rollback()
        raise refused(error) from None
    db_session.commit()
    return one(found, RequestOut)


@blueprint.post("/requests/<int:request_id>/approve")
@allow(Role.FACILITY_MANAGER)
@documented("Approve a request (the owner's facility managers)", tag="loans", response=RequestOut,
            responses=CONFLICT)
def approve_request(request_id: int) -> Response:
    return _step(request_id, lambda found: loans.approve(db_session, found, by=current_user, now=utcnow()))


@blueprint.post("/requests/<int:request_id>/decline")
@allow(Role.FACILITY_MANAGER)
@documented("Decline a request, saying why (the owner's facility managers)", tag="loans", response=RequestOut,
            body=DeclineIn, responses=CONFLICT)
def decline_request(request_id: int) -> Response:
    body = parse_body(DeclineIn)
    return _step(request_id, lambda found: loans.decline(db_session, found, reason=body.reason, by=current_user,
                                                         now=utcnow()))


@blueprint.post("/requests/<int:request_id>/cancel")
@allow(SIGNED_IN)
@documented("Cancel your request before the handover", tag="loans", response=RequestOut, responses=CONFLICT)
def cancel_request(request_id: int) -> Response:
    return _step(request_id, lambda found: loans.cancel(db_session, found, by=current_user, now=utcnow()))


@blueprint.post("/requests/<int:request_id>/handover")
@allow(SIGNED_IN)
@documented("Record the handover (either side; it counts as that side's confirmation). Pieces taken over "
            "or swapped change owner now", tag="loans", response=RequestOut, body=HandoverIn, responses=CONFLICT)
def hand_over_request(request_id: int) -> Response:
    body = parse_body(HandoverIn)
    return _step(request_id, lambda found: loans.hand_over(db_session, found, condition=body.condition,
                                                           method=body.method, by=current_user, now=utcnow()))


@blueprint.url_value_preprocessor
def make_room_for_a_return_photo(endpoint: str | None, values: dict[str, object] | None) -> None:
    if endpoint == "api.return_request":
        allow_photo_request()


@blueprint.post("/requests/<int:request_id>/return")
@allow(Role.FACILITY_MANAGER)
@documented("Record that lent pieces are back (the owner's facility managers). As JSON, or as "
            "multipart/form-data with a photo of the return (of damage, say); a refused photo refuses the return",
            tag="loans", response=RequestOut, body=ReturnIn, multipart=RETURN_UPLOAD, responses=CONFLICT)
def return_request(request_id: int) -> Response:
    body, photo = _return_body()
    return _step(request_id, lambda found: loans.take_back(db_session, found, condition=body.condition,
                                                           remarks=body.remarks, damage=body.damage,
                                                           by=current_user, now=utcnow(), photo=photo,
                                                           store=photo_store()))


def _return_body() -> tuple[ReturnIn, photos.Upload | None]:
    """The return's fields, from a JSON body or a multipart one (which may carry the photo)."""
    if request.mimetype != "multipart/form-data":
        return parse_body(ReturnIn), None
    files = request.files.to_dict(flat=False)
    fields: dict[str, Any] = request.form.to_dict()
    if fields.get("condition") == "":
        fields["condition"] = None
    errors: list[dict[str, Any]] = [{"field": name, "message": "Only one file, 'photo', is taken."}
                                    for name in files if name != "photo"]
    if len(files.get("photo", [])) > 1:
        errors.append({"field": "photo", "message": "Send one photo at most."})
    try:
        body = ReturnIn.model_validate(fields)
    except ValidationError as error:
        errors += [{"field": field_of(e), "message": e["msg"]} for e in error.errors()]
    if errors:
        raise ProblemError(problem(422, "The body does not validate.", errors=errors))
    chosen = request.files.get("photo")
    return body, photos.Upload(chosen.filename or "", chosen.stream) if chosen and chosen.filename else None


@blueprint.get("/requests/<int:request_id>/return-photo/<key>/<rendition>.jpg")
@allow(SIGNED_IN)
@documented("A file of the photo taken at a request's return (image/jpeg), for those who may see the request; "
            "it never changes, so it may be cached for long", tag="loans")
def request_return_photo(request_id: int, key: str, rendition: str) -> ResponseReturnValue:
    found = loans.request_to_see(db_session, current_user, request_id)
    if found.return_photo_key is None or key != found.return_photo_key or rendition not in photos.RENDITIONS:
        abort(404)
    return send_stored(found.return_photo_key, rendition)


@blueprint.post("/requests/<int:request_id>/confirm")
@allow(SIGNED_IN)
@documented("Confirm, for your side, the handover or return the other side recorded", tag="loans",
            response=RequestOut, responses=CONFLICT)
def confirm_request(request_id: int) -> Response:
    return _step(request_id, lambda found: loans.confirm(db_session, found, by=current_user, now=utcnow()))


@blueprint.post("/requests/<int:request_id>/extend")
@allow(SIGNED_IN)
@documented("Extend a loan to a new last day, if its pieces are free until then", tag="loans",
            response=RequestOut, body=ExtendIn, responses=CONFLICT)
def extend_request(request_id: int) -> Response:
    body = parse_body(ExtendIn)
    return _step(request_id, lambda found: loans.extend(db_session, found, last_day=body.last_day, by=current_user,
                                                        now=utcnow()))


@blueprint.get("/requests/<int:request_id>/messages")
@allow(SIGNED_IN)
@documented("The request's thread, oldest first", tag="loans", response=MessageOut, paginated=True)
def request_messages(request_id: int) -> Response:
    found = loans.request_to_see(db_session, current_user, request_id)
    page, per_page = page_args()
    thread = loans.thread(db_session, found)
    return page_response(thread[(page - 1) * per_page:page * per_page], total=len(thread), page=page,
                         per_page=per_page, schema=MessageOut)


@blueprint.post("/requests/<int:request_id>/messages")
@allow(SIGNED_IN)
@documented("Write in the request's thread (its requester, or the owner's facility managers)", tag="loans",
            response=MessageOut, body=MessageIn, status=201)
def write_request_message(request_id: int) -> Response:
    found = loans.request_to_see(db_session, current_user, request_id)
    body = parse_body(MessageIn)
    try:
        message = loans.post_message(db_session, found, body=body.body, by=current_user, now=utcnow())
    except DomainError as error:
        db_session.rollback()
        raise refused(error) from None
    db_session.commit()
    return one(message, MessageOut, status=201)

