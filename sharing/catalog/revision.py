"""The catalog's revision number, which goes up with every committed change to what the search
pages show: listings, their photos, categories, municipalities and sites.

The ORM bumps it in the committing transaction itself, whoever makes the change (the catalog,
loans, an import, an administrator), so no writer can forget it, and a reader who sees the
new number also sees the change. Taking the row lock only at commit keeps writers from
queueing behind a long transaction (an import) for more than its commit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from sharing.accounts.models import Municipality, Site
from sharing.catalog.models import CatalogRevision, Category, Listing, ListingPhoto

WATCHED: tuple[type, ...] = (Listing, ListingPhoto, Category, Municipality, Site)
_CHANGED = "catalog_changed"


# Built once: every search asks, and building a statement costs more than running it.
_CURRENT = select(CatalogRevision.number).where(CatalogRevision.id == 1)  # type: ignore[arg-type]


def current(session: Session) -> int | None:
    """The revision now (None only in a database without the row: then nothing is cached)."""
    return session.connection().scalar(_CURRENT)


@event.listens_for(Session, "after_flush")
def _note_changed_rows(session: Session, _flush: UOWTransaction) -> None:
    # After a flush, new, dirty and deleted still hold what was flushed.
    if any(isinstance(row, WATCHED) for group in (session.new, session.dirty, session.deleted) for row in group):
        session.info[_CHANGED] = True


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_statements(state: ORMExecuteState) -> None:
    mapper = state.bind_mapper
    if (state.is_insert or state.is_update or state.is_delete) and mapper is not None \
            and issubclass(mapper.class_, WATCHED):
        state.session.info[_CHANGED] = True


@event.listens_for(Session, "before_commit")
def _bump(session: Session) -> None:
    session.flush()  # what the commit would flush next: its changes count too
    if session.info.pop(_CHANGED, False):
        session.execute(update(CatalogRevision).where(CatalogRevision.id == 1)  # type: ignore[arg-type]
                        .values(number=CatalogRevision.number + 1))


@event.listens_for(Session, "after_rollback")
def _forget(session: Session, *_: Any) -> None:
    session.info.pop(_CHANGED, None)
