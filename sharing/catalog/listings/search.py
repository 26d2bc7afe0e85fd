"""Swedish search over listings, one interface on SQLite and PostgreSQL.

No single index handles Swedish: stemming misses compounds, trigrams miss inflections whose
stem changes. So each listing keeps its words *stemmed* (Snowball's Swedish stemmer:
"stolarna" -> "stol", "lådor" -> "låd"), and a query's stems are found as *substrings* of
them, which catches compounds ("stol" inside "kontorsstol"). The databases index that text
for substring search: FTS5's trigram tokenizer on SQLite, pg_trgm on PostgreSQL.

Ranking puts a whole word of the title first, then a word that starts with the term, then
a term inside a longer compound, then matches in the description alone.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

import snowballstemmer
from sqlalchemy import ColumnElement, Select, and_, case, literal, literal_column, select, text
from sqlmodel import col

from sharing.catalog.listings.models import Listing

MAX_TERMS = 8
_WORD = re.compile(r"[^\W_]+", re.UNICODE)  # letters and digits, å ä ö included
_stemmer = snowballstemmer.stemmer("swedish")


@lru_cache(maxsize=50_000)
def _stem(word: str) -> str:
    return _stemmer.stemWord(word)


def words(text: str) -> list[str]:
    """Lower-case words of a text, in Unicode's composed form (so "å" is one letter)."""
    return _WORD.findall(unicodedata.normalize("NFC", text).lower())


def stems(text: str) -> list[str]:
    return [_stem(word) for word in words(text)]


def document(*parts: str) -> str:
    """The stemmed words of a listing's searchable texts, each word once, in order."""
    return " ".join(dict.fromkeys(stem for part in parts for stem in stems(part)))


def query_terms(query: str) -> list[str]:
    """The distinct stems of what someone typed (any text is fine: nothing is syntax)."""
    return list(dict.fromkeys(stems(query)))[:MAX_TERMS]


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _fts5_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def matches(terms: list[str], dialect: str) -> ColumnElement[bool]:
    """True for listings whose words contain every term."""
    conditions: list[ColumnElement[bool]] = []
    indexed = [t for t in terms if len(t) >= 3]  # trigram indexes need three characters
    if dialect == "sqlite" and indexed:
        phrase = " AND ".join(_fts5_phrase(t) for t in indexed)
        fts: Select[Any] = select(literal_column("rowid")).select_from(text("listing_fts")).where(
            text("listing_fts MATCH :phrase").bindparams(phrase=phrase))
        conditions.append(col(Listing.id).in_(fts))
        terms = [t for t in terms if len(t) < 3]
    conditions += [col(Listing.search_text).like(_like(t), escape="\\") for t in terms]
    return and_(*conditions)


def relevance(terms: list[str]) -> ColumnElement[int]:
    """0 is best: per term, a whole title word 0, a title word's start 1, inside a title word 2, else 3."""
    title = literal(" ") + Listing.search_title + literal(" ")
    score: ColumnElement[int] = literal(0)
    for term in terms:
        score = score + case(
            (title.like(_like(f" {term} "), escape="\\"), 0),
            (title.like(_like(f" {term}"), escape="\\"), 1),
            (title.like(_like(term), escape="\\"), 2),
            else_=3,
        )
    return score

