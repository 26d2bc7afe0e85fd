"""What every API view uses: pagination, body validation, JSON from schemas."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Iterable, TypeVar
from urllib.parse import urlencode

from flask import Response, abort, jsonify, request
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy import Select, func, select
from sqlmodel import Session

from sharing.api.openapi import MAX_PER_PAGE
from sharing.errors import Conflict, DomainError, problems_of
from sharing.web.arguments import MAX_ID, MAX_PAGE
from sharing.web.errors import problem

Model = TypeVar("Model", bound=BaseModel)


class ProblemError(Exception):
    """Raised inside an API view to answer with a problem+json response."""

    def __init__(self, response: Response) -> None:
        self.response = response


def _whole_number_arg(name: str, default: int | None, maximum: int) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:
        raise ProblemError(problem(400, f"'{name}' must be a whole number from 1 to {maximum}."))
    return int(raw)


def page_args() -> tuple[int, int]:
    """``page`` and ``per_page`` from the query string, or a 400 problem."""
    return (_whole_number_arg("page", 1, MAX_PAGE),  # type: ignore[return-value]  # with a default, never None
            _whole_number_arg("per_page", 50, MAX_PER_PAGE))


def paginate(session: Session, query: Select[Any], schema: type[BaseModel]) -> Response:
    """One page of the query as ``{items, page, per_page, total}`` with RFC 8288 Link headers."""
    page, per_page = page_args()
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return page_response(rows, total=total, page=page, per_page=per_page, schema=schema)


def page_response(rows: Iterable[object], *, total: int, page: int, per_page: int,
                  schema: type[BaseModel], total_exact: bool = True) -> Response:
    response = jsonify(
        items=[schema.model_validate(row, from_attributes=True).model_dump(mode="json") for row in rows],
        page=page, per_page=per_page, total=total, total_exact=total_exact,
    )
    links = []
    args = request.args.to_dict()
    for rel, number in (("prev", page - 1), ("next", page + 1)):
        if 1 <= number and (number - 1) * per_page < total:
            args.update(page=str(number), per_page=str(per_page))
            links.append(f'<{request.base_url}?{urlencode(args)}>; rel="{rel}"')
    if links:
        response.headers["Link"] = ", ".join(links)
    return response


def one(row: object, schema: type[BaseModel], status: int = 200) -> Response:
    response = jsonify(schema.model_validate(row, from_attributes=True).model_dump(mode="json"))
    response.status_code = status
    return response


def found(row: Any | None) -> Any:
    if row is None:
        abort(404)
    return row


def parse_body(schema: type[Model]) -> Model:
    """The JSON body validated against the schema, or a 422 problem listing what is wrong."""
    data = request.get_json(silent=True)
    if data is None:
        status = 400 if request.is_json else 415
        raise ProblemError(problem(status, "Send a JSON body (Content-Type: application/json)."))
    try:
        return schema.model_validate(data)
    except ValidationError as error:
        errors: Iterable[dict[str, Any]] = (
            {"field": field_of(e), "message": e["msg"]} for e in error.errors()
        )
        raise ProblemError(problem(422, "The body does not validate.", errors=list(errors))) from None


def field_of(error: ErrorDetails) -> str | None:
    """The field a validation error concerns, dotted; None for the body as a whole (not an
    object, say), as a rule's refusal of no field is told."""
    return ".".join(str(part) for part in error["loc"]) or None


def refused(error: DomainError) -> ProblemError:
    """A domain rule's refusal as a problem: 409 when the record's state does not allow it
    (it may have changed meanwhile), else 422 listing every problem in ``errors``, each with the
    field it concerns (``null``: the request as a whole); ``detail`` is the first of them."""
    detail = error.in_english()
    if isinstance(error, Conflict):
        return ProblemError(problem(409, detail))
    errors = [{"field": each.field, "message": each.in_english()} for each in problems_of(error)]
    return ProblemError(problem(422, detail, errors=errors))


def int_arg(name: str) -> int | None:
    """An optional id in the query string; anything else is a 400 problem."""
    return _whole_number_arg(name, None, MAX_ID)


# A calendar date as the document gives it (format "date", RFC 3339's full-date): Python's
# fromisoformat alone also reads 20240105 and week dates such as 2024-W01-5.
DATE_PATTERN = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def date_arg(name: str) -> date | None:
    """An optional date query argument, YYYY-MM-DD; anything else is a 400 problem."""
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        if not re.fullmatch(DATE_PATTERN, raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise ProblemError(problem(400, f"'{name}' must be a date (YYYY-MM-DD).")) from None
