"""A search by title sorts the newest matches it counted, as relevance ranks them: SQLite's
index of lower-case titles, which a broad search by title walked, is no longer asked for.

Revision ID: 4d7a2c9e8f13
Revises: 9b2e6f1c3a57
Create Date: 2026-12-05 23:50:00
"""
from typing import Sequence, Union

from alembic import op


revision: str = '4d7a2c9e8f13'
down_revision: Union[str, None] = '9b2e6f1c3a57'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP INDEX IF EXISTS ix_listing_search_fts_title")
        op.execute("ALTER TABLE listing DROP COLUMN search_fts_title")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE listing ADD COLUMN search_fts_title TEXT GENERATED ALWAYS AS (lower(title)) VIRTUAL")
        op.execute("CREATE INDEX ix_listing_search_fts_title ON listing (search_fts_title, id)")
