"""Holds know when lent pieces left their owner and came back, and a listing whose every piece
is out is "on loan".

The loans handed over so far get their holds marked out at their handover (and back at their
return, if they are back); a published listing whose pieces are all out now becomes on loan,
and the catalog's revision is drawn anew, so no kept search result shows the old status. Going
back, every listing on loan is published again (before, nothing made a listing on loan).

Revision ID: 4adb51ec79f2
Revises: 8edcc2ca08ab
Create Date: 2026-12-03 17:05:00.000000
"""
import secrets
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sharing.db


revision: str = '4adb51ec79f2'
down_revision: Union[str, None] = '8edcc2ca08ab'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

LENT = "r.kind = 'borrow' AND r.status IN ('handed_over', 'returned', 'closed') AND r.handed_over_at IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table('listing_hold', schema=None) as batch_op:
        batch_op.add_column(sa.Column('out_at', sharing.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('back_at', sharing.db.UTCDateTime(timezone=True), nullable=True))
    op.execute(sa.text(
        "UPDATE listing_hold SET"
        f" out_at = (SELECT r.handed_over_at FROM loan_request r WHERE r.hold_id = listing_hold.id AND {LENT}),"
        f" back_at = (SELECT r.returned_at FROM loan_request r WHERE r.hold_id = listing_hold.id AND {LENT})"
        f" WHERE id IN (SELECT r.hold_id FROM loan_request r WHERE r.hold_id IS NOT NULL AND {LENT})"))
    op.execute(sa.text(
        "UPDATE listing SET status = 'on_loan' WHERE status = 'published' AND quantity <= ("
        " SELECT COALESCE(SUM(h.quantity), 0) FROM listing_hold h WHERE h.listing_id = listing.id"
        " AND h.released_at IS NULL AND h.out_at IS NOT NULL AND h.back_at IS NULL)"))
    op.execute(sa.text("UPDATE catalog_revision SET token = :token").bindparams(token=secrets.randbits(62)))


def downgrade() -> None:
    op.execute(sa.text("UPDATE listing SET status = 'published' WHERE status = 'on_loan'"))
    op.execute(sa.text("UPDATE catalog_revision SET token = :token").bindparams(token=secrets.randbits(62)))
    # Not in batch mode: on SQLite that copies the table, and dropping the old one would set the
    # requests' hold_id to null (its foreign key's ON DELETE SET NULL). SQLite drops a plain
    # column itself (3.35 and later).
    op.drop_column('listing_hold', 'back_at')
    op.drop_column('listing_hold', 'out_at')
