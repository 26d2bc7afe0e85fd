"""A municipality's data protection officer: the address the privacy page gives for them.

The column is added, and dropped again, in place, never by copying the table: SQLite runs with
foreign keys on, and every other table refers to `municipality`.

Revision ID: ccc63dd0c1cb
Revises: 7c3e9a5d1b24
Create Date: 2026-12-06 14:30:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes


revision: str = 'ccc63dd0c1cb'
down_revision: Union[str, None] = '7c3e9a5d1b24'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # ALTER TABLE ... ADD COLUMN on both databases; no municipality has one yet.
    with op.batch_alter_table('municipality', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('data_protection_officer_email', sqlmodel.sql.sqltypes.AutoString(length=254),
                                      nullable=True))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35 and later).
    with op.batch_alter_table('municipality', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('data_protection_officer_email')
