"""Sessions keep the browser's and its system's names ("Firefox", "Windows"), no longer the
browser's User-Agent header: the names are all a user needs to tell their sessions apart, and
the header says far more about their device than the service needs (GDPR: data minimisation).

Sessions there are get the names read from their header as a new session's are
(`sharing.accounts.browsers.recognise`), so that old and new ones read alike; then the header
goes. Going down, the header cannot come back: `user_agent` gets the names instead.

The columns are added and dropped in place, never by copying the table (SQLite runs with
foreign keys on).

Revision ID: 217b62e1db71
Revises: e41b7d2a9c05
Create Date: 2026-12-06 17:40:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes

from sharing.accounts.browsers import recognise


revision: str = '217b62e1db71'
down_revision: Union[str, None] = 'e41b7d2a9c05'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # ALTER TABLE ... ADD COLUMN on both databases; every row gets its names just below.
    with op.batch_alter_table('user_session', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('browser', sqlmodel.sql.sqltypes.AutoString(length=50),
                                      server_default='', nullable=False))
        batch_op.add_column(sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=50),
                                      server_default='', nullable=False))
    connection = op.get_bind()
    # One update per distinct header: users' sessions share a handful of browsers.
    headers = connection.execute(sa.text("SELECT DISTINCT user_agent FROM user_session")).scalars().all()
    for header in headers:
        browser = recognise(header or "")
        connection.execute(sa.text("UPDATE user_session SET browser = :browser, platform = :platform"
                                   " WHERE user_agent = :header"),
                           {"browser": browser.name, "platform": browser.platform, "header": header})
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35 and later).
    with op.batch_alter_table('user_session', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('user_agent')


def downgrade() -> None:
    with op.batch_alter_table('user_session', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('user_agent', sqlmodel.sql.sqltypes.AutoString(length=200),
                                      server_default='', nullable=False))
    # The header is gone for good: what the earlier version shows in its place is the names.
    op.execute("UPDATE user_session SET user_agent = TRIM(browser || ' ' || platform)")
    with op.batch_alter_table('user_session', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('platform')
        batch_op.drop_column('browser')
