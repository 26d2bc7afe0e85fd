"""A category's CO2e figure says what it is: the impact of producing a new piece, or a
published net saving per reused piece.

The two kinds were stored in one field, so a report could not count them apart (a production
figure is reduced by the displacement rate, a net saving is used as it stands). Every existing
version with a figure is classified: the net savings of reuse the reference once stored as a
new piece's impact (WRAP's two-seat sofa, the Swedish platforms' furniture average) by their
frozen reference texts, any other text that names such a saving by its words; the rest, as the
field said, production. The sofa, whose figure the reference correction had taken away for
that very reason, gets WRAP's net saving back as a new version, in force from now, if its
newest version is still the reference's.

Revision ID: 7b3e9c1d2a40
Revises: 6d8a9bfcd015
Create Date: 2026-12-04 09:00:00
"""
from datetime import datetime, timezone
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sharing.db


revision: str = '7b3e9c1d2a40'
down_revision: Union[str, None] = '6d8a9bfcd015'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Words that say a figure is a saving of reuse, not a new piece's impact (Swedish and English).
NET_SAVING_WORDS = ("WRAP", "nettobesparing", "sparat per återbruk", "per återbrukat objekt", "net saving")
SOFA = "mobler/sittmobler/soffa"
SOFA_REFERENCE = ((45, 1.2, 12000, None),
                  "Vikt, volym och nypris: Delningstjänstens uppskattning 2026. CO2e för en ny soffa: inget publicerat "
                  "värde (ca 55 kg CO2e sparat per återbrukad tvåsitssoffa: WRAP, Benefits of Reuse - domestic furniture)")
SOFA_NET_SAVING = ((45, 1.2, 12000, 55),
                   "CO2e sparat per återbrukad tvåsitssoffa (nettobesparing vid direkt återbruk, ca 55 kg): WRAP, "
                   "Benefits of Reuse - domestic furniture. Vikt, volym och nypris: Delningstjänstens uppskattning 2026")
FIGURES = ("weight_kg", "volume_m3", "new_price_sek", "co2e_new_kg")

category = sa.table("category", sa.column("id", sa.Integer), sa.column("slug", sa.String))
category_factor = sa.table(
    "category_factor",
    sa.column("id", sa.Integer), sa.column("category_id", sa.Integer), sa.column("version", sa.Integer),
    *(sa.column(name, sa.Float) for name in FIGURES), sa.column("source", sa.String),
    sa.column("co2e_kind", sa.String),
    sa.column("valid_from", sharing.db.UTCDateTime(timezone=True)), sa.column("created_by_id", sa.Integer),
)


def upgrade() -> None:
    with op.batch_alter_table('category_factor', schema=None) as batch_op:
        batch_op.add_column(sa.Column('co2e_kind', sa.String(length=12), nullable=True))
    names_a_saving = sa.or_(*(category_factor.c.source.contains(word, autoescape=True) for word in NET_SAVING_WORDS))
    has_figure = category_factor.c.co2e_new_kg.is_not(None)
    op.execute(category_factor.update().where(has_figure, names_a_saving).values(co2e_kind="net_saving"))
    op.execute(category_factor.update().where(has_figure, category_factor.c.co2e_kind.is_(None))
               .values(co2e_kind="production"))
    connection = op.get_bind()
    newest = connection.execute(
        sa.select(category_factor).join(category, category.c.id == category_factor.c.category_id)
        .where(category.c.slug == SOFA).order_by(category_factor.c.version.desc()).limit(1)).first()
    figures, source = SOFA_REFERENCE
    if newest is not None and newest.source == source and tuple(getattr(newest, f) for f in FIGURES) == figures:
        saving, saving_source = SOFA_NET_SAVING
        connection.execute(sa.insert(category_factor).values(
            category_id=newest.category_id, version=newest.version + 1, source=saving_source, co2e_kind="net_saving",
            valid_from=datetime.now(timezone.utc), created_by_id=None, **dict(zip(FIGURES, saving))))


def downgrade() -> None:
    connection = op.get_bind()
    figures, source = SOFA_NET_SAVING
    connection.execute(category_factor.delete().where(
        category_factor.c.source == source, category_factor.c.created_by_id.is_(None),
        category_factor.c.co2e_new_kg == figures[3], category_factor.c.co2e_kind == "net_saving",
        category_factor.c.category_id.in_(sa.select(category.c.id).where(category.c.slug == SOFA))))
    with op.batch_alter_table('category_factor', schema=None) as batch_op:
        batch_op.drop_column('co2e_kind')
