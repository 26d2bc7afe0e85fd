"""API of wanted items (efterlysningar): read what is shared with you; a want is written by its
poster, and closed by its poster or its municipality's facility managers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Response, request
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field

from sharing.access import SIGNED_IN, allow
from sharing.api import blueprint
from sharing.api.catalog import ListingOut
from sharing.api.common import ProblemError, int_arg, one, page_args, page_response, paginate, parse_body, refused
from sharing.api.openapi import ID_SCHEMA, documented
from sharing.catalog.wants import rules as wants
from sharing.catalog.wants.models import Want, WantStatus
from sharing.clock import today_in_sweden, utcnow
from sharing.db import RecordId, db_session
from sharing.errors import DomainError
from sharing.web.errors import problem


class WantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    municipality_id: int
    unit_id: int = Field(description="The unit that needs it: its poster's")
    posted_by_id: int | None
    category_id: int | None = Field(description="A listing in this category or below it matches")
    words: str = Field(description="Every word must be found in a listing (Swedish inflections and compounds "
                                   "are understood)")
    description: str
    quantity: int
    needed_by: date | None
    status: WantStatus
    expired: bool = Field(default=False, description="Open, but past the day it was needed by: no longer matched")
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None


class WantIn(BaseModel):
    """What a unit needs: words, a category, or both."""

    model_config = ConfigDict(extra="forbid")

    words: str = Field(default="", max_length=wants.WORDS_MAX)
    category_id: RecordId | None = None
    quantity: int = Field(default=1, ge=1, le=wants.QUANTITY_MAX)
    needed_by: date | None = None
    description: str = Field(default="", max_length=wants.DESCRIPTION_MAX)


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: WantStatus = Field(description="fulfilled or withdrawn")


def _out(want: Want) -> WantOut:
    out = WantOut.model_validate(want)
    out.expired = wants.is_expired(want, today=today_in_sweden(utcnow()))
    return out



WANT_PARAMETERS: dict[str, dict[str, Any]] = {
    "state": {"type": "string", "enum": list(wants.STATES), "default": "open",
              "description": "open (and not expired), expired, closed (fulfilled or withdrawn) or all"},
    "municipality_id": ID_SCHEMA,
    "category_id": {**ID_SCHEMA, "description": "A category and everything below it"},
    "mine": {"type": "boolean", "description": "Only your own and your unit's"},
}


@blueprint.get("/wants")
@allow(SIGNED_IN)
@documented("Wanted items shared with you: your unit's, and for facility managers every partner "
            "municipality's open ones", tag="wants", response=WantOut, paginated=True, query=WANT_PARAMETERS)
def find_wants() -> Response:
    page, per_page = page_args()
    state = request.args.get("state", "open")
    if state not in wants.STATES:
        raise ProblemError(problem(400, f"'state' must be one of: {', '.join(wants.STATES)}."))
    mine = request.args.get("mine", "false").lower()
    if mine not in ("true", "false", "1", "0"):
        raise ProblemError(problem(400, "'mine' must be true or false."))
    filters = wants.WantFilters(state=state, municipality_id=int_arg("municipality_id"),
                                category_id=int_arg("category_id"), mine=mine in ("true", "1"),
                                page=page, per_page=per_page)
    found = wants.find_wants(db_session, viewer=current_user, filters=filters, now=utcnow())
    return page_response([_out(w) for w in found.items], total=found.total, page=page, per_page=per_page,
                         schema=WantOut)


@blueprint.get("/wants/<int:want_id>")
@allow(SIGNED_IN)
@documented("One wanted item", tag="wants", response=WantOut)
def get_want(want_id: int) -> Response:
    return one(_out(wants.want_to_see(db_session, current_user, want_id)), WantOut)


@blueprint.get("/wants/<int:want_id>/matches")
@allow(SIGNED_IN)
@documented("The listings found to match a wanted item that you may see, newest match first", tag="wants",
            response=ListingOut, paginated=True)
def want_matches(want_id: int) -> Response:
    want = wants.want_to_see(db_session, current_user, want_id)
    # A page of them read, not every match sliced.
    return paginate(db_session, wants.matching_query(db_session, want=want, viewer=current_user), ListingOut)


@blueprint.post("/wants")
@allow(SIGNED_IN)
@documented("Post what your unit needs", tag="wants", response=WantOut, body=WantIn, status=201)
def create_want() -> Response:
    body = parse_body(WantIn)
    try:
        want = wants.post_want(db_session, details=wants.WantDetails(**body.model_dump()), by=current_user,
                               now=utcnow())
    except DomainError as error:
        raise refused(error) from None
    db_session.commit()
    return one(_out(want), WantOut, status=201)


@blueprint.put("/wants/<int:want_id>")
@allow(SIGNED_IN)
@documented("Replace what a wanted item asks for (its poster only)", tag="wants", response=WantOut, body=WantIn)
def replace_want(want_id: int) -> Response:
    want = wants.want_to_edit(db_session, current_user, want_id)
    body = parse_body(WantIn)
    try:
        wants.edit_want(db_session, want=want, details=wants.WantDetails(**body.model_dump()), by=current_user,
                        now=utcnow())
    except DomainError as error:
        raise refused(error) from None
    db_session.commit()
    return one(_out(want), WantOut)


@blueprint.post("/wants/<int:want_id>/close")
@allow(SIGNED_IN)
@documented("Close a wanted item as fulfilled or withdrawn (its poster, or its municipality's facility "
            "managers)", tag="wants", response=WantOut, body=CloseIn)
def close_want(want_id: int) -> Response:
    want = wants.want_to_close(db_session, current_user, want_id)
    body = parse_body(CloseIn)
    try:
        wants.close_want(db_session, want=want, outcome=body.outcome, by=current_user, now=utcnow())
    except DomainError as error:
        raise refused(error) from None
    db_session.commit()
    return one(_out(want), WantOut)

