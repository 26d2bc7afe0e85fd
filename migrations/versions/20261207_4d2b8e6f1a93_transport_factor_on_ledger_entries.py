"""A transport entry keeps the factor its route applied (``kg_co2e_per_km``, the vehicle's kg
CO2e per km), so that reports name the published figure itself, not one worked back from
rounded CO2e and kilometres.

Entries written before keep none: their CO2e over their distance stands in, marked so.

Revision ID: 4d2b8e6f1a93
Revises: 3a9d5e7c1f42
Create Date: 2026-12-07 00:05:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '4d2b8e6f1a93'
down_revision: Union[str, None] = '3a9d5e7c1f42'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # ALTER TABLE ... ADD COLUMN on both databases, never a copy of the table.
    with op.batch_alter_table('reuse_entry', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('kg_co2e_per_km', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('reuse_entry', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('kg_co2e_per_km')
