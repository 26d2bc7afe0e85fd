"""Mail queued later: what a notice says (its template and values) kept in place of the rendered
message, which the send-queued-mail job renders and sends.

Revision ID: 5e1c0a7d9b21
Revises: 02d18a6e2aa6
Create Date: 2026-12-04 19:20:00.000000
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '5e1c0a7d9b21'
down_revision: Union[str, None] = '02d18a6e2aa6'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('mail_queue', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recipe', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('mail_queue', schema=None) as batch_op:
        batch_op.drop_column('recipe')
