"""The reuse ledger's covering index for the dashboard's figures: the day, what a selection
filters and groups by, and the summed figures, so a period's figures are read from the index
alone. It starts with the day and the receiving municipality, so it replaces that index.

Revision ID: 02d18a6e2aa6
Revises: 6181f74758d4
Create Date: 2026-12-04 19:10:00.000000
"""
from typing import Sequence, Union

from alembic import op


revision: str = '02d18a6e2aa6'
down_revision: Union[str, None] = '6181f74758d4'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

COLUMNS = ['day', 'to_municipality_id', 'to_unit_id', 'category_id', 'from_municipality_id', 'month', 'quantity',
           'waste_avoided_g', 'purchase_avoided_sek_ore', 'co2e_avoided_g', 'transport_co2e_g']


def upgrade() -> None:
    with op.batch_alter_table('reuse_entry', schema=None) as batch_op:
        batch_op.create_index('ix_reuse_entry_figures', COLUMNS, unique=False)
        batch_op.drop_index('ix_reuse_entry_day_to_municipality')


def downgrade() -> None:
    with op.batch_alter_table('reuse_entry', schema=None) as batch_op:
        batch_op.create_index('ix_reuse_entry_day_to_municipality', ['day', 'to_municipality_id'], unique=False)
        batch_op.drop_index('ix_reuse_entry_figures')
