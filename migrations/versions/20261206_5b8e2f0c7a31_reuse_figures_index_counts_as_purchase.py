"""The reuse ledger's covering index holds counts_as_purchase too: the dashboard counts pieces
reused (a purchase avoided) apart from pieces shared on short loans, and still reads a period's
figures from the index alone.

Revision ID: 5b8e2f0c7a31
Revises: 217b62e1db71
Create Date: 2026-12-06 18:00:00
"""
from typing import Sequence, Union

from alembic import op


revision: str = '5b8e2f0c7a31'
down_revision: Union[str, None] = '217b62e1db71'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BEFORE = ['day', 'to_municipality_id', 'to_unit_id', 'category_id', 'from_municipality_id', 'month', 'quantity',
          'waste_avoided_g', 'purchase_avoided_sek_ore', 'co2e_avoided_g', 'transport_co2e_g']
AFTER = ['day', 'to_municipality_id', 'to_unit_id', 'category_id', 'from_municipality_id', 'month',
         'counts_as_purchase', 'quantity', 'waste_avoided_g', 'purchase_avoided_sek_ore', 'co2e_avoided_g',
         'transport_co2e_g']


def upgrade() -> None:
    with op.batch_alter_table('reuse_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_reuse_entry_figures')
        batch_op.create_index('ix_reuse_entry_figures', AFTER, unique=False)


def downgrade() -> None:
    with op.batch_alter_table('reuse_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_reuse_entry_figures')
        batch_op.create_index('ix_reuse_entry_figures', BEFORE, unique=False)
