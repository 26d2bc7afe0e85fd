"""Numbers from the outside world (query strings, form choices), bounded before they reach SQL.

A stale bookmark or a hand-edited address must never become a 500: a number that is not a
plain whole number in range counts as absent (``ValueError``, which Werkzeug's
``args.get(type=...)`` and WTForms' ``coerce`` both take as "not given" or "invalid").
"""

from __future__ import annotations

from flask import request

MAX_ID = 2**31 - 1  # the databases' integer keys
MAX_PAGE = 10_000


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


def link_arguments(exclude: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """The query arguments to carry into a page's links (filters stay bookmarkable), as lists so
    repeated ones (several conditions) survive. Names url_for would read as its own (endpoint,
    _external, _anchor, ...) are left out."""
    return {name: values for name, values in request.args.to_dict(flat=False).items()
            if name not in exclude and name != "endpoint" and not name.startswith("_")}
