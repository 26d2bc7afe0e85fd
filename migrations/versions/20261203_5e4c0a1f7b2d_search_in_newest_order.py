"""SQLite's search index in newest-first order, with the search's filters in it.

The FTS5 table's rowid becomes the listing's place in the newest-first order (its first
publication, to the second, then its id), so that a search walks the index newest first and
stops at the page it needs, instead of sorting every match. The title gets a column of its own
(padded with spaces, so that whole words and a compound's head or start can be asked for; the
text gets a space before it, so that a short word can be asked for at the start of a word), and
the filters a column of facets: one token each for the kind, condition, municipality, category
and ways to share, made of private-use characters that no text holds (one trigram each: a
filter is one list in the index). PostgreSQL's search is unchanged but for an index of titles.

Revision ID: 5e4c0a1f7b2d
Revises: 4adb51ec79f2
Create Date: 2026-12-03 16:40:00
"""
from typing import Sequence, Union

from alembic import op


revision: str = '5e4c0a1f7b2d'
down_revision: Union[str, None] = '4adb51ec79f2'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Must stay what sharing/catalog/listings/search.py encodes (a test compares them).
EPOCH = 1577836800  # 2020-01-01: seconds since then, times 2**24, plus the id
ORDER = ("CASE WHEN published_at IS NULL THEN -id"
         f" ELSE (unixepoch(published_at) - {EPOCH}) * 16777216 + id % 16777216 END")


def _token(field: int, value: str) -> str:
    return f"char({0xE000 + field}, {0xE400} + (({value}) >> 10), {0xE400} + (({value}) & 1023))"


KIND = "CASE kind WHEN 'thing' THEN 1 WHEN 'place' THEN 2 WHEN 'service' THEN 3 ELSE 0 END"
CONDITION = ("CASE condition WHEN 'as_new' THEN 1 WHEN 'very_good' THEN 2 WHEN 'good' THEN 3"
             " WHEN 'fair' THEN 4 WHEN 'needs_repair' THEN 5 ELSE 0 END")
FACETS = " || ' ' || ".join([
    _token(1, KIND), _token(2, CONDITION), _token(3, "municipality_id"), _token(4, "category_id"),
    f"CASE WHEN lend THEN {_token(5, '1')} ELSE '' END",
    f"CASE WHEN give_away THEN {_token(5, '2')} ELSE '' END",
    f"CASE WHEN swap THEN {_token(5, '3')} ELSE '' END",
])
INDEXED = "search_title, search_text, published_at, kind, condition, municipality_id, category_id, lend, give_away, swap"


def _values(row: str) -> str:
    return (f"{row}.search_fts_order, ' ' || {row}.search_title || ' ', ' ' || {row}.search_text,"
            f" {row}.search_fts_facets")


SQLITE_UP = [
    "DROP TRIGGER IF EXISTS listing_fts_insert",
    "DROP TRIGGER IF EXISTS listing_fts_delete",
    "DROP TRIGGER IF EXISTS listing_fts_update",
    "DROP TABLE IF EXISTS listing_fts",
    f"ALTER TABLE listing ADD COLUMN search_fts_order INTEGER GENERATED ALWAYS AS ({ORDER}) VIRTUAL",
    f"ALTER TABLE listing ADD COLUMN search_fts_facets TEXT GENERATED ALWAYS AS ({FACETS}) VIRTUAL",
    "CREATE INDEX ix_listing_search_fts_order ON listing (search_fts_order)",
    # Sorting many matches by title walks this index rather than sorting them all.
    "ALTER TABLE listing ADD COLUMN search_fts_title TEXT GENERATED ALWAYS AS (lower(title)) VIRTUAL",
    "CREATE INDEX ix_listing_search_fts_title ON listing (search_fts_title, id)",
    # Contentless: the index keeps no copy of the texts; the triggers hand it the old values to forget.
    "CREATE VIRTUAL TABLE listing_fts USING fts5(title, body, facets, content='', tokenize='trigram')",
    f"INSERT INTO listing_fts(rowid, title, body, facets) SELECT {_values('listing')} FROM listing",
    "CREATE TRIGGER listing_fts_insert AFTER INSERT ON listing BEGIN"
    f" INSERT INTO listing_fts(rowid, title, body, facets) VALUES ({_values('new')}); END",
    "CREATE TRIGGER listing_fts_delete AFTER DELETE ON listing BEGIN"
    f" INSERT INTO listing_fts(listing_fts, rowid, title, body, facets) VALUES ('delete', {_values('old')}); END",
    f"CREATE TRIGGER listing_fts_update AFTER UPDATE OF {INDEXED} ON listing BEGIN"
    f" INSERT INTO listing_fts(listing_fts, rowid, title, body, facets) VALUES ('delete', {_values('old')});"
    f" INSERT INTO listing_fts(rowid, title, body, facets) VALUES ({_values('new')}); END",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS listing_fts_insert",
    "DROP TRIGGER IF EXISTS listing_fts_delete",
    "DROP TRIGGER IF EXISTS listing_fts_update",
    "DROP TABLE IF EXISTS listing_fts",
    "DROP INDEX IF EXISTS ix_listing_search_fts_order",
    "DROP INDEX IF EXISTS ix_listing_search_fts_title",
    "ALTER TABLE listing DROP COLUMN search_fts_title",
    "ALTER TABLE listing DROP COLUMN search_fts_facets",
    "ALTER TABLE listing DROP COLUMN search_fts_order",
    "CREATE VIRTUAL TABLE listing_fts USING fts5(search_text, content='listing', content_rowid='id',"
    " tokenize='trigram')",
    "INSERT INTO listing_fts(listing_fts) VALUES ('rebuild')",
    "CREATE TRIGGER listing_fts_insert AFTER INSERT ON listing BEGIN"
    " INSERT INTO listing_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER listing_fts_delete AFTER DELETE ON listing BEGIN"
    " INSERT INTO listing_fts(listing_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER listing_fts_update AFTER UPDATE OF search_text ON listing BEGIN"
    " INSERT INTO listing_fts(listing_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);"
    " INSERT INTO listing_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
]
# The title's words with a space either side, for whole words and a compound's head or start.
POSTGRESQL_UP = ["CREATE INDEX ix_listing_search_title_trgm ON listing"
                 " USING gin ((' ' || search_title || ' ') gin_trgm_ops)"]
POSTGRESQL_DOWN = ["DROP INDEX IF EXISTS ix_listing_search_title_trgm"]


def upgrade() -> None:
    for statement in SQLITE_UP if op.get_bind().dialect.name == "sqlite" else POSTGRESQL_UP:
        op.execute(statement)


def downgrade() -> None:
    for statement in SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else POSTGRESQL_DOWN:
        op.execute(statement)
