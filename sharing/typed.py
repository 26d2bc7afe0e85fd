"""Typed handles on what our libraries type loosely, so callers need no ``# type: ignore``."""

from __future__ import annotations

from typing import Any, Optional, Protocol

from flask import Flask, current_app
from sqlalchemy import Table, inspect
from sqlalchemy.orm import QueryableAttribute


class Stored(Protocol):
    @property
    def id(self) -> Optional[int]: ...


def id_of(row: Stored) -> int:
    """A stored row's primary key. SQLModel types it Optional, as it is None until the row is
    flushed; the rows passed here have been."""
    if row.id is None:
        raise ValueError(f"{type(row).__name__} has no id: it was never flushed")
    return row.id


def relation(attribute: object) -> QueryableAttribute[Any]:
    """A model's relationship as loader options (selectinload, joinedload) take it: SQLModel
    types ``Listing.category`` as a Category, but on the class it is the mapped attribute."""
    if not isinstance(attribute, QueryableAttribute):
        raise TypeError(f"not a mapped attribute: {attribute!r}")
    return attribute


def app_object() -> Flask:
    """The current app itself rather than its proxy (for threads, and signals' senders)."""
    return current_app._get_current_object()  # type: ignore[attr-defined]  # Flask types current_app as Flask, not its proxy


def table_name(model: type[Any]) -> str:
    """A table model's table name (SQLModel types ``__tablename__`` as a str or a callable)."""
    table = inspect(model).local_table
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to one table")
    return table.name
