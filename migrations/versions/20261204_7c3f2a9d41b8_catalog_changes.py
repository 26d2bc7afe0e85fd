"""The catalog's log of changes: which listing each committed transaction changed (its row, its
photos, its holds), written by triggers and stamped at commit with the revision's new ``seq``
and token, so kept search results outlive the changes that do not touch them.

(A later migration that rebuilds listing, listing_photo or listing_hold on SQLite, as
batch_alter_table may, must make these triggers again: ``create_change_triggers``.)

Revision ID: 7c3f2a9d41b8
Revises: 5e1c0a7d9b21
Create Date: 2026-12-04 22:00:00.000000
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '7c3f2a9d41b8'
down_revision: Union[str, None] = '5e1c0a7d9b21'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Each table whose writes change a listing as the search shows it, and the column naming it.
WATCHED = {"listing": "id", "listing_photo": "listing_id", "listing_hold": "listing_id"}


def upgrade() -> None:
    with op.batch_alter_table('catalog_revision', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.BigInteger(), server_default='0', nullable=False))
    op.create_table('catalog_change',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=True),
    sa.Column('seq', sa.BigInteger(), nullable=True),
    sa.Column('token', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_change'))
    )
    with op.batch_alter_table('catalog_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_catalog_change_seq'), ['seq'], unique=False)
    create_change_triggers()


def create_change_triggers() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table, column in WATCHED.items():
            for when, row in (("INSERT", "new"), ("UPDATE", "new"), ("DELETE", "old")):
                moved = (f" INSERT INTO catalog_change (listing_id) SELECT old.{column}"
                         f" WHERE old.{column} IS NOT new.{column};" if when == "UPDATE" else "")
                op.execute(f"CREATE TRIGGER {table}_changes_{when.lower()} AFTER {when} ON {table} BEGIN"
                           f" INSERT INTO catalog_change (listing_id) VALUES ({row}.{column});{moved} END")
        return
    for column in sorted(set(WATCHED.values())):
        op.execute(f"""
            CREATE FUNCTION note_catalog_change_by_{column}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'DELETE' THEN
                    INSERT INTO catalog_change (listing_id) VALUES (OLD.{column});
                ELSE
                    INSERT INTO catalog_change (listing_id) VALUES (NEW.{column});
                END IF;
                IF TG_OP = 'UPDATE' AND OLD.{column} IS DISTINCT FROM NEW.{column} THEN
                    INSERT INTO catalog_change (listing_id) VALUES (OLD.{column});  -- moved from it
                END IF;
                RETURN NULL;
            END $$""")
    for table, column in WATCHED.items():
        op.execute(f"CREATE TRIGGER {table}_changes AFTER INSERT OR UPDATE OR DELETE ON {table}"
                   f" FOR EACH ROW EXECUTE FUNCTION note_catalog_change_by_{column}()")


def drop_change_triggers() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in WATCHED:
            for when in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_changes_{when}")
        return
    for table in WATCHED:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_changes ON {table}")
    for column in sorted(set(WATCHED.values())):
        op.execute(f"DROP FUNCTION IF EXISTS note_catalog_change_by_{column}()")


def downgrade() -> None:
    drop_change_triggers()
    with op.batch_alter_table('catalog_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_catalog_change_seq'))
    op.drop_table('catalog_change')
    with op.batch_alter_table('catalog_revision', schema=None) as batch_op:
        batch_op.drop_column('seq')
