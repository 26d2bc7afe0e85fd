"""The chair category is named for what is filed under it: "Stol, matstol", as its English
name "Chair, dining chair" says, rather than "Matstol", under which stacking conference chairs
read as misfiled. Renamed only where nobody has renamed it since; its slug stays.

The catalog's revision moves on, with the change logged as "anything", so no search result
kept under the old name outlives it.

Revision ID: e41b7d2a9c05
Revises: ccc63dd0c1cb
Create Date: 2026-12-06 17:20:00
"""
import secrets
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = 'e41b7d2a9c05'
down_revision: Union[str, None] = 'ccc63dd0c1cb'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

SLUG = "mobler/sittmobler/matstol"


def _rename(old: str, new: str) -> None:
    renamed = op.get_bind().execute(sa.text("UPDATE category SET name = :new WHERE slug = :slug AND name = :old")
                                    .bindparams(new=new, slug=SLUG, old=old)).rowcount
    if renamed:
        op.execute(sa.text("UPDATE catalog_revision SET token = :token, seq = seq + 1")
                   .bindparams(token=secrets.randbits(62)))
        op.execute(sa.text("INSERT INTO catalog_change (seq, listing_id, token) SELECT seq, NULL, token"
                           " FROM catalog_revision"))


def upgrade() -> None:
    _rename("Matstol", "Stol, matstol")


def downgrade() -> None:
    _rename("Stol, matstol", "Matstol")
