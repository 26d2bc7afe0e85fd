"""Numbers from the outside world (query strings, form choices), bounded before they reach SQL.

A stale bookmark or a hand-edited address must never become a 500: a number that is not a
plain whole number in range counts as absent (``ValueError``, which Werkzeug's
``args.get(type=...)`` and WTForms' ``coerce`` both take as "not given" or "invalid").
"""

from __future__ import annotations

from typing import Any

from flask import request
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter, Map, ValidationError

from sharing.db import MAX_RECORD_ID

MAX_ID = MAX_RECORD_ID  # the databases' integer keys
MAX_PAGE = 10_000


class RecordIdConverter(IntegerConverter):
    """``<int:...>`` in every route names a record: an id the databases cannot hold names none
    (404), rather than reaching SQL. The app registers it as its ``int`` converter.

    Not found outright rather than Werkzeug's "this rule does not match": that would let the
    path's other rules answer 405 to a PUT or POST (their path matched, their method did not)."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:  # noqa: A002  (Werkzeug's name)
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)

    def to_python(self, value: str) -> Any:
        try:
            return super().to_python(value)
        except ValidationError:
            raise NotFound() from None


def _whole_number(value: object, maximum: int) -> int:
    text = str(value)
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= maximum:
        raise ValueError(f"not a whole number from 1 to {maximum}")
    return int(text)


def record_id(value: object) -> int:
    """An id as the databases can hold it."""
    return _whole_number(value, MAX_ID)


def page_number(value: object) -> int:
    return _whole_number(value, MAX_PAGE)


def optional_id(value: object) -> int | None:
    """A select field's coerce: empty is None, anything else a valid id."""
    return None if value in (None, "", "None") else record_id(value)


def filter_id(value: object) -> int | None:
    """A search filter's id, read from an address someone may have bookmarked or edited: what is
    no id is no filter (the search still answers), never an error about coercing."""
    try:
        return optional_id(value)
    except ValueError:
        return None


def link_arguments(exclude: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """The query arguments to carry into a page's links (filters stay bookmarkable), as lists so
    repeated ones (several conditions) survive. Names url_for would read as its own (endpoint,
    _external, _anchor, ...) are left out."""
    return {name: values for name, values in request.args.to_dict(flat=False).items()
            if name not in exclude and name != "endpoint" and not name.startswith("_")}
