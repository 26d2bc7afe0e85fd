"""Reference category figures: existing databases get the sources as the reference file now
words them, as a new version of each category's figures.

`sharing catalog load-categories` adds missing categories only, so databases loaded before the
reference texts were corrected (the sources named, and the sofa's and the furniture average's
net saving of reuse no longer stored as a new piece's CO2e) kept the old ones. A category whose
newest version still holds exactly the old reference figures and source gets the corrected ones
as its next version, in force from now: earlier versions, and what was reported with them, stay
as they were. A category a system administrator has given figures of its own is left alone.

Revision ID: 1119d8053458
Revises: 952533be210f
Create Date: 2026-12-03 13:25:44.036308
"""
from datetime import datetime, timezone
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sharing.db


revision: str = '1119d8053458'
down_revision: Union[str, None] = '952533be210f'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# The figures of one new piece, in the order of the table's columns.
FIGURES = ("weight_kg", "volume_m3", "new_price_sek", "co2e_new_kg")
Figures = tuple[float | None, float | None, float | None, float | None]
# (slug, the old figures, the old source, the new figures, the new source)
Change = tuple[str, Figures, str, Figures, str]

_OLD_ESTIMATE = (": Delningstjänsten: uppskattning 2026 (ersätt med kommunens egna värden). "
                 "CO2e: inget publicerat värde, rapporterna uppskattar utifrån vikten")
_NEW_ESTIMATE = ": Delningstjänstens uppskattning 2026. CO2e: inget publicerat värde (rapporterna uppskattar utifrån vikten)"


def _estimate(slug: str, figures: Figures, what: str) -> Change:
    return slug, figures, what + _OLD_ESTIMATE, figures, what + _NEW_ESTIMATE


# Frozen here as they were and became (the reference file may change again: that is another migration).
CHANGES: list[Change] = [
    ('mobler',
     (25, 0.5, 4000, 50),
     'CO2e: Vårt Göteborg; Rekomo sustainability report 2023 – observerat genomsnitt ca 50–55 kg per återbrukat objekt på svenska återbruksplattformar (härlett genomsnitt över alla objekt, inte möbelspecifikt; det lägre värdet används). Vikt, volym och nypris: Delningstjänsten: uppskattning 2026 (ersätt med kommunens egna värden)',
     (25, 0.5, 4000, None),
     'Vikt, volym och nypris: Delningstjänstens uppskattning 2026. CO2e för en ny möbel: inget publicerat värde (ca 50–55 kg CO2e sparat per återbrukat objekt, alla slag: Vårt Göteborg; Rekomo sustainability report 2023)'),
    ('mobler/sittmobler/kontorsstol',
     (15, 0.5, 4500, 100),
     'CO2e: Rekomo, citing EPD NEPD-467-327-EN (2016) – ca 100 kg per ny kontorsstol (45 000 t för 450 000 stolar). Vikt, volym och nypris: Delningstjänsten: uppskattning 2026 (ersätt med kommunens egna värden)',
     (15, 0.5, 4500, 100),
     'CO2e för en ny kontorsstol: Rekomo, EPD NEPD-467-327-EN (2016). Vikt, volym och nypris: Delningstjänstens uppskattning 2026'),
    ('mobler/sittmobler/matstol',
     (6, 0.25, 1200, 8.6),
     'CO2e: FIRA, Benchmarking carbon footprints of furniture products (2011) – ca 8,6 kg per ny matstol (osäker uppgift). Vikt, volym och nypris: Delningstjänsten: uppskattning 2026 (ersätt med kommunens egna värden)',
     (6, 0.25, 1200, 8.6),
     'CO2e för en ny matstol (osäker uppgift): FIRA, Benchmarking carbon footprints of furniture products (2011). Vikt, volym och nypris: Delningstjänstens uppskattning 2026'),
    ('mobler/sittmobler/soffa',
     (45, 1.2, 12000, 55),
     'CO2e: WRAP, Benefits of Reuse - domestic furniture – ca 55 kg per tvåsitssoffa är nettobesparingen vid direkt återbruk, inte utsläppen vid nyproduktion (försiktigt värde: tillverkningen ger mer). Vikt, volym och nypris: Delningstjänsten: uppskattning 2026 (ersätt med kommunens egna värden)',
     (45, 1.2, 12000, None),
     'Vikt, volym och nypris: Delningstjänstens uppskattning 2026. CO2e för en ny soffa: inget publicerat värde (ca 55 kg CO2e sparat per återbrukad tvåsitssoffa: WRAP, Benefits of Reuse - domestic furniture)'),
    ('mobler/bord/skrivbord',
     (35, 0.9, 4000, 100),
     'CO2e: Coggin SOS (UK office furniture reseller) – mittpunkt av spannet 90–110 kg för nytt fast skrivbord (spann över EPD:er). Vikt, volym och nypris: Delningstjänsten: uppskattning 2026 (ersätt med kommunens egna värden)',
     (35, 0.9, 4000, 100),
     'CO2e för nytt fast skrivbord (mitten av spannet 90–110 kg över EPD:er): Coggin SOS. Vikt, volym och nypris: Delningstjänstens uppskattning 2026'),
    ('mobler/bord/hoj-och-sankbart-skrivbord',
     (45, 0.9, 8000, 135),
     'CO2e: Coggin SOS (UK office furniture reseller) – mittpunkt av spannet 110–160 kg för nytt höj- och sänkbart skrivbord (spann över EPD:er). Vikt, volym och nypris: Delningstjänsten: uppskattning 2026 (ersätt med kommunens egna värden)',
     (45, 0.9, 8000, 135),
     'CO2e för nytt höj- och sänkbart skrivbord (mitten av spannet 110–160 kg över EPD:er): Coggin SOS. Vikt, volym och nypris: Delningstjänstens uppskattning 2026'),
    ('mobler/forvaring/hurts',
     (25, 0.15, 2500, 80),
     'CO2e: Coggin SOS (UK office furniture reseller) – mittpunkt av spannet 40–120 kg för ny hurts i metall (spann över EPD:er). Vikt, volym och nypris: Delningstjänsten: uppskattning 2026 (ersätt med kommunens egna värden)',
     (25, 0.15, 2500, 80),
     'CO2e för ny hurts i metall (mitten av spannet 40–120 kg över EPD:er): Coggin SOS. Vikt, volym och nypris: Delningstjänstens uppskattning 2026'),
    # Estimates only, with no published CO2e figure: the same figures, the source reworded.
    _estimate('mobler/sittmobler/fatolj', (20, 0.6, 6000, None), 'Vikt, volym och nypris'),
    _estimate('mobler/bord/konferensbord', (60, 1.8, 12000, None), 'Vikt, volym och nypris'),
    _estimate('mobler/bord/matbord', (30, 0.7, 4500, None), 'Vikt, volym och nypris'),
    _estimate('mobler/forvaring/bokhylla', (30, 0.5, 2500, None), 'Vikt, volym och nypris'),
    _estimate('mobler/forvaring/skap', (45, 0.85, 5000, None), 'Vikt, volym och nypris'),
    _estimate('mobler/forvaring/arkivskap', (55, 0.6, 6000, None), 'Vikt, volym och nypris'),
    _estimate('it-utrustning/bildskarm', (5, 0.06, 2000, None), 'Vikt, volym och nypris'),
    _estimate('it-utrustning/dator', (3, 0.03, 10000, None), 'Vikt, volym och nypris'),
    _estimate('it-utrustning/skrivare', (25, 0.25, 12000, None), 'Vikt, volym och nypris'),
    _estimate('belysning/golvlampa', (6, 0.1, 1500, None), 'Vikt, volym och nypris'),
    _estimate('belysning/skrivbordslampa', (2, 0.02, 800, None), 'Vikt, volym och nypris'),
    _estimate('textilier/gardiner', (2, 0.01, 800, None), 'Vikt, volym och nypris (gardiner till ett fönster)'),
    _estimate('textilier/mattor', (10, 0.05, 2500, None), 'Vikt, volym och nypris (en matta, rullad)'),
    _estimate('lekmaterial/lekredskap', (15, 0.3, 3000, None), 'Vikt, volym och nypris'),
    _estimate('lekmaterial/leksaker', (3, 0.05, 500, None), 'Vikt, volym och nypris (en låda eller ett set)'),
    _estimate('verktyg-och-maskiner', (8, 0.05, 3000, None), 'Vikt, volym och nypris'),
    _estimate('kok-och-hushall', (10, 0.1, 2500, None), 'Vikt, volym och nypris'),
]

category = sa.table("category", sa.column("id", sa.Integer), sa.column("slug", sa.String))
category_factor = sa.table(
    "category_factor",
    sa.column("id", sa.Integer), sa.column("category_id", sa.Integer), sa.column("version", sa.Integer),
    *(sa.column(name, sa.Float) for name in FIGURES), sa.column("source", sa.String),
    sa.column("valid_from", sharing.db.UTCDateTime(timezone=True)), sa.column("created_by_id", sa.Integer),
)


def _holds(row: sa.Row, figures: Figures, source: str) -> bool:
    return row.source == source and tuple(getattr(row, name) for name in FIGURES) == figures


def _versions(connection: sa.Connection, slug: str) -> list[sa.Row]:
    """The category's versions, newest first (none if the database has no such category)."""
    return list(connection.execute(
        sa.select(category_factor).join(category, category.c.id == category_factor.c.category_id)
        .where(category.c.slug == slug).order_by(category_factor.c.version.desc())))


def upgrade() -> None:
    connection = op.get_bind()
    now = datetime.now(timezone.utc)
    for slug, old_figures, old_source, new_figures, new_source in CHANGES:
        versions = _versions(connection, slug)
        if not versions or not _holds(versions[0], old_figures, old_source):
            continue  # not loaded from the reference, or given figures of its own since
        connection.execute(sa.insert(category_factor).values(
            category_id=versions[0].category_id, version=versions[0].version + 1, source=new_source,
            valid_from=now, created_by_id=None, **dict(zip(FIGURES, new_figures))))


def downgrade() -> None:
    """Removes the versions the upgrade added (the newest, still as it added them)."""
    connection = op.get_bind()
    for slug, old_figures, old_source, new_figures, new_source in CHANGES:
        versions = _versions(connection, slug)
        if (len(versions) >= 2 and versions[0].created_by_id is None and _holds(versions[0], new_figures, new_source)
                and _holds(versions[1], old_figures, old_source)):
            connection.execute(sa.delete(category_factor).where(category_factor.c.id == versions[0].id))
