"""Loan reminders are kept per request, kind and day: an extended loan is reminded of its new
last day too.

Each reminder sent so far gets the day its request has now (a handover's first day, a loan's
last day, in Swedish days): what was sent counts as sent for that day, so the change sends
nothing twice. A loan extended before this migration is reminded of the last day it has now
only if its reminders of that kind were never sent.

Revision ID: 8edcc2ca08ab
Revises: c78f8a510835
Create Date: 2026-12-03 16:21:37.000000
"""
from datetime import timedelta
from typing import Sequence, Union
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa
import sharing.db


revision: str = '8edcc2ca08ab'
down_revision: Union[str, None] = 'c78f8a510835'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

SWEDEN = ZoneInfo("Europe/Stockholm")
ABOUT_THE_FIRST_DAY = ("handover_soon", "handover_unconfirmed")  # the others: a loan's last day

reminder = sa.table("loan_reminder", sa.column("id", sa.Integer), sa.column("request_id", sa.Integer),
                    sa.column("kind", sa.String), sa.column("day", sa.Date))
request = sa.table("loan_request", sa.column("id", sa.Integer), sa.column("starts_at", sharing.db.UTCDateTime()),
                   sa.column("ends_at", sharing.db.UTCDateTime()))


def upgrade() -> None:
    with op.batch_alter_table('loan_reminder', schema=None) as batch_op:
        batch_op.add_column(sa.Column('day', sa.Date(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(sa.select(reminder.c.id, reminder.c.kind, request.c.starts_at, request.c.ends_at)
                              .join(request, request.c.id == reminder.c.request_id)).all()
    for reminder_id, kind, starts_at, ends_at in rows:
        if kind in ABOUT_THE_FIRST_DAY or ends_at is None:
            day = starts_at.astimezone(SWEDEN).date()
        else:
            day = ends_at.astimezone(SWEDEN).date() - timedelta(days=1)
        connection.execute(sa.update(reminder).where(reminder.c.id == reminder_id).values(day=day))
    with op.batch_alter_table('loan_reminder', schema=None) as batch_op:
        batch_op.alter_column('day', existing_type=sa.Date(), nullable=False)
        batch_op.drop_constraint('uq_loan_reminder_request_id_kind', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_loan_reminder_request_id_kind_day'),
                                          ['request_id', 'kind', 'day'])


def downgrade() -> None:
    # Back to one reminder per request and kind: of several days' reminders, the first sent stays.
    connection = op.get_bind()
    first = sa.select(sa.func.min(reminder.c.id)).group_by(reminder.c.request_id, reminder.c.kind)
    connection.execute(sa.delete(reminder).where(reminder.c.id.not_in(first)))
    with op.batch_alter_table('loan_reminder', schema=None) as batch_op:
        batch_op.drop_constraint('uq_loan_reminder_request_id_kind_day', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_loan_reminder_request_id_kind'), ['request_id', 'kind'])
        batch_op.drop_column('day')
