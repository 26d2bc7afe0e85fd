"""The names reports show for the ids the ledger keeps (municipalities, units, categories), read
once per page or export."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, col

from sharing.accounts.models import Municipality, Unit
from sharing.catalog.categories.models import Category
from sharing.catalog.categories.rules import category_name


@dataclass(frozen=True)
class Names:
    municipalities: dict[int, str]
    units: dict[int, tuple[int, str]]  # id -> (municipality id, name)
    categories: dict[int, str]

    def municipality(self, municipality_id: int | None) -> str:
        return self.municipalities.get(municipality_id, "–") if municipality_id is not None else "–"

    def unit(self, unit_id: int | None) -> str:
        return self.units[unit_id][1] if unit_id is not None and unit_id in self.units else "–"

    def category(self, category_id: int | None) -> str:
        return self.categories.get(category_id, "–") if category_id is not None else "–"


def names(session: Session, locale: str | None) -> Names:
    return Names(
        {row.id: row.name for row in session.execute(select(col(Municipality.id), col(Municipality.name))
                                                     .order_by(col(Municipality.name)))},
        {row.id: (row.municipality_id, row.name) for row in session.execute(  # alike names by municipality
            select(col(Unit.id), col(Unit.municipality_id), col(Unit.name))
            .join(Municipality, col(Municipality.id) == col(Unit.municipality_id))
            .order_by(col(Unit.name), col(Municipality.name), col(Unit.id)))},
        {category.id: category_name(category, locale) for category in session.scalars(select(Category))
         if category.id is not None})
