"""Swedish search over listings, one interface on SQLite and PostgreSQL.

No single index handles Swedish: stemming misses compounds, trigrams miss inflections whose
stem changes. So each listing keeps its words *stemmed*, and a query's stems are found as
*substrings* of them, which catches compounds ("stol" inside "kontorsstol"). The databases
index that text for substring search: FTS5's trigram tokenizer on SQLite, pg_trgm on
PostgreSQL.

A stem is Snowball's Swedish stem taken further, until every form of a noun shares it (or one
holds another): Snowball leaves the plural of "dator" longer than its singular ("datorer" ->
"dator", "dator" -> "dat"), and keeps definite forms whole ("soffan", "bordet"). Applying it
again, and stripping a definite -n or -et, a dropped -e- (cykel/cyklar) and a doubled final
consonant, gives one stem to all of them.

What people mistype is forgiven through a vocabulary of the index's stems (``SearchWord``):
a term of five letters or more also finds the stems one edit away (a letter wrong, missing,
extra or swapped, a linking -s- too many or too few), and any term finds those that differ
only in å, ä, ö typed as a, a, o. Such matches rank below every exact one.

Ranking, per term: a whole word of the title first, then a title word that ends with the term
(the head of a compound names the thing: kontors*stol*), then one that starts with it (a
modifier: *stol*sdyna), then the term inside a word, then a match in the rest of the text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache, partial
from typing import Any

import snowballstemmer
from sqlalchemy import ColumnElement, Connection, Engine, Select, and_, case, literal, literal_column, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from sharing import transactions
from sharing.catalog.listings.models import Listing, SearchWord, SearchWordVariant

MAX_TERMS = 8
MAX_ALTERNATIVES = 8  # similar stems tried for one term
FUZZY_MIN_LENGTH = 5  # shorter terms are forgiven their å, ä, ö only: one edit makes another word
_WORD = re.compile(r"[^\W_]+", re.UNICODE)  # letters and digits, å ä ö included
_VOWELS = frozenset("aeiouyåäö")
_ACCENTLESS = str.maketrans("åäö", "aao")
_stemmer = snowballstemmer.stemmer("swedish")


@lru_cache(maxsize=50_000)
def _stem(word: str) -> str:
    while True:
        before, word = word, _stemmer.stemWord(word)
        if len(word) >= 5 and word[-1] == "n" and (word[-2] in _VOWELS or word[-2] in "lr"):
            word = word[:-1]  # definite singular: soffan, cykeln, datorn
        elif len(word) >= 5 and word.endswith("et"):
            word = word[:-2]  # definite neuter: bordet, filtret
        if len(word) >= 4 and word.endswith("el") and word[-3] not in _VOWELS and word[-3] != "l":
            word = word[:-2] + "l"  # cykel/cyklar, möbel/möbler
        if len(word) >= 5 and word[-1] == "r" and word[-2] not in _VOWELS:
            word = word[:-1]  # filtr(et)/filt(er), teatr(ar)/teat(er)
        if len(word) >= 4 and word[-1] == word[-2] == "m":
            word = word[:-1]  # rum/rummet
        if word == before:
            return word


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


# --- The vocabulary: what the index holds, to forgive typing errors --------------------------

def _accentless(word: str) -> str:
    return word.translate(_ACCENTLESS)


def _variants(word: str) -> set[str]:
    """The keys a stem is found under: itself without accents and, when long enough, with any
    one letter left out (two words one edit apart share one of these: symmetric deletion)."""
    plain = _accentless(word)
    if len(plain) < FUZZY_MIN_LENGTH - 1:
        return {plain}
    return {plain} | {plain[:i] + plain[i + 1:] for i in range(len(plain))}


def _one_edit_apart(a: str, b: str) -> bool:
    """Whether b is a, or a with one letter changed, added, removed, or two neighbours swapped."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diffs) <= 1 or (len(diffs) == 2 and diffs[1] == diffs[0] + 1
                                   and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]])
    shorter, longer = sorted((a, b), key=len)
    return any(longer[:i] + longer[i + 1:] == shorter for i in range(len(longer)))


def _insert_ignoring_duplicates(session: Session, model: type[Any], rows: list[dict[str, str]]) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(model).values(rows).on_conflict_do_nothing())


def remember_words(session: Session, texts: Iterable[str]) -> None:
    """Add the stems of these indexed texts to the vocabulary (those it already has are skipped;
    a word added at the same moment by another writer is no error)."""
    found = {word for text_ in texts for word in text_.split() if 3 <= len(word) <= 100}
    if not found:
        return
    known = set(session.scalars(select(col(SearchWord.word)).where(col(SearchWord.word).in_(found))))
    new = sorted(found - known)
    for start in range(0, len(new), 500):
        batch = new[start:start + 500]
        _insert_ignoring_duplicates(session, SearchWord, [{"word": word} for word in batch])
        _insert_ignoring_duplicates(session, SearchWordVariant, [
            {"variant": variant, "word": word} for word in batch for variant in _variants(word)])


def learn_after_commit(session: Session, texts: list[str]) -> None:
    """Teach the vocabulary these indexed texts' stems once the session's transaction has
    committed, in a short transaction of its own: a long one (an import) then holds no other
    writer up on the vocabulary, and a word the search learns late is only a typo not forgiven."""
    transactions.after_commit(session, partial(_learn, session.get_bind(), texts))


def _learn(bind: Engine | Connection, texts: list[str]) -> None:
    with Session(bind=bind) as own:
        remember_words(own, texts)
        own.commit()


def alternatives(session: Session, terms: list[str], query: str = "") -> dict[str, list[str]]:
    """For each term, the vocabulary's other stems it may have been meant as (see the top).

    A word typed without its å, ä, ö may also lose more to the stemmer ("forradet" -> "forr",
    where "förrådet" -> "förråd"): the query's words are also tried stemmed once only."""
    lightly = {term: {_accentless(_stemmer.stemWord(word)) for word in words(query) if _stem(word) == term}
               for term in terms}
    keys = {term: (_variants(term) if len(term) >= FUZZY_MIN_LENGTH else {_accentless(term)}) | lightly[term]
            for term in terms if len(term) >= 3}
    if not keys:
        return {}
    rows = session.execute(select(col(SearchWordVariant.variant), col(SearchWordVariant.word))
                           .where(col(SearchWordVariant.variant).in_(set().union(*keys.values())))).all()
    found: dict[str, list[str]] = {}
    for term, wanted in keys.items():
        plain = _accentless(term)
        similar = sorted({word for variant, word in rows if variant in wanted and word != term
                          and (_accentless(word) in lightly[term] | {plain}
                               or (len(term) >= FUZZY_MIN_LENGTH and _one_edit_apart(_accentless(word), plain)))},
                         key=lambda word: (abs(len(word) - len(term)), word))
        if similar:
            found[term] = similar[:MAX_ALTERNATIVES]
    return found


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _fts5_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _contains(term: str) -> ColumnElement[bool]:
    return col(Listing.search_text).like(_like(term), escape="\\")


def matches(terms: list[str], dialect: str, alternatives: dict[str, list[str]] | None = None) -> ColumnElement[bool]:
    """True for listings whose words contain every term (or one of its alternatives)."""
    alternatives = alternatives or {}
    conditions: list[ColumnElement[bool]] = []
    indexed = [t for t in terms if len(t) >= 3]  # trigram indexes need three characters
    if dialect == "sqlite" and indexed:
        phrase = " AND ".join("(" + " OR ".join(_fts5_phrase(x) for x in [t, *alternatives.get(t, [])]) + ")"
                              for t in indexed)
        fts: Select[Any] = select(literal_column("rowid")).select_from(text("listing_fts")).where(
            text("listing_fts MATCH :phrase").bindparams(phrase=phrase))
        conditions.append(col(Listing.id).in_(fts))
        terms = [t for t in terms if len(t) < 3]
    conditions += [or_(*(_contains(x) for x in [t, *alternatives.get(t, [])])) for t in terms]
    return and_(*conditions)


def inexact(terms: list[str], alternatives: dict[str, list[str]]) -> ColumnElement[int]:
    """How many of the terms a listing holds only through an alternative: 0 for an exact match,
    which ranks above every other."""
    count: ColumnElement[int] = literal(0)
    for term in terms:
        if term in alternatives:
            count = count + case((_contains(term), 0), else_=1)
    return count


def relevance(terms: list[str]) -> ColumnElement[int]:
    """0 is best: per term, a whole title word 0, a title word's end (a compound's head) 1, a
    title word's start (a modifier) 2, inside a title word 3, elsewhere in the text 4, else 5."""
    title = literal(" ") + Listing.search_title + literal(" ")
    score: ColumnElement[int] = literal(0)
    for term in terms:
        score = score + case(
            (title.like(_like(f" {term} "), escape="\\"), 0),
            (title.like(_like(f"{term} "), escape="\\"), 1),
            (title.like(_like(f" {term}"), escape="\\"), 2),
            (title.like(_like(term), escape="\\"), 3),
            (_contains(term), 4),
            else_=5,
        )
    return score
