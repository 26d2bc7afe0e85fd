"""A failed import keeps every problem of the row that failed it (``error_problems``), not its
first only: the page tells them all, as the import's preview does.

Imports that failed before keep their one message: they get an empty list, which the page
reads as "the message alone".

Revision ID: 3a9d5e7c1f42
Revises: 5b8e2f0c7a31
Create Date: 2026-12-06 20:05:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '3a9d5e7c1f42'
down_revision: Union[str, None] = '5b8e2f0c7a31'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # ALTER TABLE ... ADD COLUMN on both databases, never a copy of the table.
    with op.batch_alter_table('listing_import', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('error_problems', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('listing_import', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('error_problems')
