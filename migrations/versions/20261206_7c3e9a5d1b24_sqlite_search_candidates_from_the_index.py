"""SQLite's search reads its candidates from the index it joins the search index by.

A search joins each listing the search index finds (newest first, up to 550) by its place in
that order, then tests whether the reader may find it (its status, whether it is shared, its
municipality) and reads its search title to rank it. The index on the order now holds those
too. SQLite defers reading a listing's row until a column the index lacks is asked for, so no
row is read for them: a quarter less time in the query (measured at 100,000 listings).

Revision ID: 7c3e9a5d1b24
Revises: 4d7a2c9e8f13
Create Date: 2026-12-06 02:30:00
"""
from typing import Sequence, Union

from alembic import op


revision: str = '7c3e9a5d1b24'
down_revision: Union[str, None] = '4d7a2c9e8f13'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP INDEX IF EXISTS ix_listing_search_fts_order")
        op.execute("CREATE INDEX ix_listing_search_fts_order ON listing"
                   " (search_fts_order, status, visibility, municipality_id, search_title)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP INDEX IF EXISTS ix_listing_search_fts_order")
        op.execute("CREATE INDEX ix_listing_search_fts_order ON listing (search_fts_order)")
