"""Swedish search over listings, one interface on SQLite and PostgreSQL.

No single index handles Swedish: stemming misses compounds, trigrams miss inflections whose
stem changes. So each listing keeps its words *stemmed*, and a query's stems are found as
*substrings* of them, which catches compounds ("stol" inside "kontorsstol"). The databases
index that text for substring search: on SQLite an FTS5 index of each word's endings, a
substring being the start of one (``search_index``); on PostgreSQL pg_trgm.

A stem is Snowball's Swedish stem with the forms it leaves apart brought together, so that
every form of a noun shares it: Snowball leaves the plural of "dator" longer than its singular
("datorer" -> "dator", "dator" -> "dat"), keeps definite forms whole ("soffan", "bordet"),
drops the e of "cyklar" but not of "cykel", leaves a plural that changes its vowel apart
("böcker" -> "böck"), and halves a doubled end only in longer words
("kaffekannor" -> "kaffekan", "kanna" -> "kann": the double is kept). Each rule reads the
word's end alone, and Snowball is applied once more at most: a compound's head then stems as
the word itself does ("vattenkran" stays apart from "vattenkanna", "dörrmatta" holds "matta"'s
stem), and a short word's stem stays long enough to mean something ("matt", not "mat").

What people mistype is forgiven through a vocabulary of the index's stems (``SearchWord``):
a term of five letters or more also finds the stems one edit away (a letter wrong, missing,
extra or swapped, a linking -s- too many or too few), and any term finds those that differ
only in å, ä, ö typed as a, a, o. Such matches rank below every exact one.

Ranking, per term: a whole word of the title first, then a title word that ends with the term
(the head of a compound names the thing: kontors*stol*), then one that starts with it (a
modifier: *stol*sdyna), then the term inside a word, then a match in the rest of the text. A
term matched only through what it may have been meant as ranks by where that word stands.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any

import snowballstemmer
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Engine,
    Select,
    String,
    TextClause,
    and_,
    any_,
    bindparam,
    case,
    column,
    literal,
    literal_column,
    or_,
    select,
    table,
    text,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from sharing import transactions
from sharing.catalog.listings import search_index
from sharing.catalog.listings.models import Listing, SearchWord, SearchWordVariant

MAX_TERMS = 8
MAX_ALTERNATIVES = 8  # similar stems tried for one term
FUZZY_MIN_LENGTH = 5  # shorter terms are forgiven their å, ä, ö only: one edit makes another word
_WORD = re.compile(r"[^\W_]+", re.UNICODE)  # letters and digits, å ä ö included
_VOWELS = frozenset("aeiouyåäö")
_ACCENTLESS = str.maketrans("åäö", "aao")
_stemmer = snowballstemmer.stemmer("swedish")


def _consonant(letter: str) -> bool:
    return letter.isalpha() and letter not in _VOWELS


# Plurals that change their vowel, as Snowball leaves their stems (böcker -> böck), and the
# singular each belongs to. Swedish has few such nouns; these are those a catalog of surplus
# holds (books, table feet, tongs, curtain rods: gardinstänger). Not händer, tänder: also verbs;
# nor "stänger" alone, which is mostly the verb (the door closes by itself).
UMLAUT_PLURALS = {"böck": "bok", "fött": "fot", "täng": "tång"}
_UMLAUT_PLURAL = re.compile("(" + "|".join(UMLAUT_PLURALS) + ")(?:er|erna)s?$")
VERB_LOOKALIKES = frozenset({"stänger"})


@lru_cache(maxsize=50_000)
def _stem(word: str) -> str:
    """Snowball's stem, with the forms it leaves apart brought together. Each rule looks at the
    word's end alone, so that a compound's head stems as the word does (kaffe*kannor*, *kanna*)."""
    plural = None if word in VERB_LOOKALIKES else _UMLAUT_PLURAL.search(word)
    if plural:  # barnböckerna, as barnbok
        return _stem(word[:plural.start()] + UMLAUT_PLURALS[plural.group(1)])
    stem = _stemmer.stemWord(word)
    if stem == word and len(word) >= 5 and word[-1] == "n" and word[-2] in "alr":
        shorter = _stemmer.stemWord(word[:-1])  # the definite singular Snowball keeps: soffan, cykeln, datorn
        if not (shorter[-1] == "r" and _consonant(shorter[-2]) and shorter[-2] != "r"):
            stem = shorter  # else the n is the word's own: few Swedish words end in a consonant and -ra (kran)
    elif stem == word and len(word) >= 5 and word.endswith("et"):
        stem = _stemmer.stemWord(word[:-2])  # the definite neuter: bordet; kontoret -> kontor -> kont, as kontor
    elif stem == word and len(word) >= 6 and word.endswith("bart"):
        stem = _stemmer.stemWord(word[:-1])  # the neuter of an adjective in -bar: sänkbart, as sänkbar
    elif stem != word and len(stem) >= 4 and (stem.endswith(("or", "ar")) or word == stem + "s"):
        # Snowball takes -or, -ar from a word it finds them ending: datorer -> dator, as dator -> dat;
        # sänkbara -> sänkbar, as sänkbar -> sänkb. And a genitive is the word's: ystads, as ystad.
        stem = _stemmer.stemWord(stem)
    rest = word[len(stem):] if word.startswith(stem) else ""
    if (len(stem) >= 3 and stem[-1] == "l" and _consonant(stem[-2]) and stem[-2] != "l"
            and rest[:2] in ("ar", "er")):
        stem = stem[:-1] + "el"  # the e a plural drops: cyklar/cykel, möbler/möbel
    elif len(stem) >= 4 and stem[-1] == "r" and _consonant(stem[-2]) and stem[-2] != "r":
        stem = stem[:-1]  # filtret/filter, teatrar/teater: Snowball takes -er from the singular
    elif rest[:1] == stem[-1:] and _consonant(stem[-1]):
        stem += rest[0]  # a doubled end Snowball halves in a long word alone: kaffekannor, as kanna
    if len(stem) >= 3 and stem.endswith("mm"):
        stem = stem[:-1]  # rum/rummet
    elif stem == word and len(word) >= 4 and word.endswith("tt") and word[-3] in _VOWELS:
        stem = word[:-1]  # the neuter of an adjective: vitt, as vit (grått holds grå)
    return stem


def words(text: str) -> list[str]:
    """Lower-case words of a text, in Unicode's composed form (so "å" is one letter)."""
    return _WORD.findall(unicodedata.normalize("NFC", text).lower())


def stems(text: str) -> list[str]:
    return [_stem(word) for word in words(text)]


_HYPHENED = re.compile(r"[^\W_]+(?:-[^\W_]+)+", re.UNICODE)  # TV-bänk, A4-papper


def document(*parts: str) -> str:
    """The stemmed words of a listing's searchable texts, each word once, in order; a compound
    written with a hyphen also as one word (TV-bänk as tvbänk too, as many type it)."""
    joined = [stems(found.replace("-", "")) for part in parts for found in _HYPHENED.findall(part)]
    return " ".join(dict.fromkeys([stem for part in parts for stem in stems(part)]
                                  + [stem for found in joined for stem in found]))


# Words that ask for nothing of their own: "soffa i Trelleborg", "en kontorsstol med hjul" ask
# for the rest. Left out of what is asked (not of what is indexed), unless they are all it holds.
FUNCTION_WORDS = frozenset({"i", "på", "med", "och", "en", "ett", "till", "för", "av", "från", "vid", "om", "som",
                            "den", "det", "de", "eller", "samt", "hos", "åt", "utan", "mot"})


def query_terms(query: str, limit: int | None = MAX_TERMS) -> list[str]:
    """The distinct stems of what someone typed, its function words left out, the first
    ``limit`` of them (any text is fine: nothing is syntax)."""
    typed = words(query)
    asked = [word for word in typed if word not in FUNCTION_WORDS] or typed
    return list(dict.fromkeys(_stem(word) for word in asked))[:limit]


def plain(word: str) -> str:
    """A word without å, ä, ö, as typed on a keyboard without them."""
    return word.translate(_ACCENTLESS)


# --- The vocabulary: what the index holds, to forgive typing errors --------------------------


def _variants(word: str) -> set[str]:
    """The keys a stem is found under: itself without accents and, when long enough, with any
    one letter left out (two words one edit apart share one of these: symmetric deletion)."""
    bare = plain(word)
    if len(bare) < FUZZY_MIN_LENGTH - 1:
        return {bare}
    return {bare} | {bare[:i] + bare[i + 1:] for i in range(len(bare))}


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


def _lightly(terms: list[str], query: str) -> dict[str, set[str]]:
    return {term: {plain(_stemmer.stemWord(word)) for word in words(query) if _stem(word) == term}
            for term in terms}


def _edited(terms: list[str], query: str) -> dict[str, set[str]]:
    """For each term, the stems of its words (of five letters or more) mended by one edit
    (``_mended``), without å, ä, ö. A typo in a word's ending keeps the stemmer from taking the
    ending (lampro, projektro) or leaves a stem too short to be forgiven (dattorer -> datt), and
    one in its stem may take it elsewhere (prjektor -> prjekt): the word mended first stems as
    it should."""
    edited: dict[str, set[str]] = {term: set() for term in terms}
    for word in words(query):
        term = _stem(word)
        if term in edited and len(word) >= FUZZY_MIN_LENGTH:
            edited[term] |= _mended(word) - {plain(term)}
    return edited


_LETTERS = "abcdefghijklmnopqrstuvwxyzåäö"


@lru_cache(maxsize=5_000)
def _mended(word: str) -> frozenset[str]:
    """The stems (of three letters or more, without å, ä, ö) of a word with a letter left out,
    two neighbours swapped, or a letter added or changed: the edits the stem alone cannot see
    (datoter, as datorer). Some 500 words stemmed: made only for a word the vocabulary lacks."""
    mended = {word[:i] + word[i + 1:] for i in range(len(word))}
    mended |= {word[:i] + word[i + 1] + word[i] + word[i + 2:] for i in range(len(word) - 1)}
    mended |= {word[:i] + letter + word[i:] for i in range(len(word) + 1) for letter in _LETTERS}
    mended |= {word[:i] + letter + word[i + 1:] for i in range(len(word)) for letter in _LETTERS}
    # Stemmed past _stem's cache: what a word mends to is kept here, not among the words stemmed often.
    return frozenset(stem for stem in (plain(_stem.__wrapped__(other)) for other in mended) if len(stem) >= 3)


MAX_ACCENTED = 8  # spellings tried for a word typed without å, ä, ö


def _accented(term: str) -> list[str]:
    """A term typed without å, ä, ö, spelled with them where its a and o may stand for them
    (skarm: skårm, skärm), when it has few enough such letters."""
    if len(term) < 3 or any(letter in term for letter in "åäö"):
        return []
    spellings = [""]
    for letter in term:
        spellings = [spelled + other for spelled in spellings
                     for other in {"a": "aåä", "o": "oö"}.get(letter, letter)]
        if len(spellings) > MAX_ACCENTED + 1:
            return []
    return [spelled for spelled in spellings if spelled != term]


def _lookup_keys(near_keys: dict[str, set[str]], query: str, unknown: Iterable[str]
                 ) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """For each term of three letters or more, the vocabulary's keys its alternatives are
    looked up under (see ``alternatives``): its ``near_keys``, with its words mended when it is
    ``unknown`` (the vocabulary holds no word of it); and those mended keys."""
    lacked = set(unknown)
    edited = _edited([term for term in near_keys if term in lacked], query)
    return {term: near | edited.get(term, set()) for term, near in near_keys.items()}, edited


def _near_keys(terms: list[str], lightly: dict[str, set[str]]) -> dict[str, set[str]]:
    """Each term's keys (of three letters or more) but those of its words mended: the term's own
    variants, and its words stemmed lightly."""
    return {term: (_variants(term) if len(term) >= FUZZY_MIN_LENGTH else {plain(term)}) | lightly[term]
            for term in terms if len(term) >= 3}


def term_keys(terms: list[str], query: str, unknown: Iterable[str] = ()) -> tuple[tuple[str, ...], ...]:
    """For each term, the keys a word must share to be taken as one it was meant as (none for a
    short term): with ``may_hold``, what tells whether a listing's words may meet a search once
    the vocabulary has learnt them. ``unknown``: the terms the vocabulary held no word of
    (``Alternatives.unknown``), marked ``MENDED`` when what they may be meant as depends on it."""
    keys, edited = _lookup_keys(_near_keys(terms, _lightly(terms, query)), query, unknown)
    return _noted_keys(terms, keys, edited, unknown)


def _noted_keys(terms: list[str], keys: dict[str, set[str]], edited: dict[str, set[str]],
                unknown: Iterable[str]) -> tuple[tuple[str, ...], ...]:
    mended = {term for term in unknown if edited.get(term) or _accented(term)}
    return tuple(tuple(sorted(keys.get(term, set()) | ({MENDED} if term in mended else set()))) for term in terms)


# Among a term's keys, tells that it was mended or spelled with å, ä, ö, which a term is only
# while the vocabulary holds no word of it: once it learns the term itself, those are no longer
# offered (``may_teach``). No word is filed under it.
MENDED = ""


# Built once: every search with words asks it, and building a statement costs more than running it.
# On PostgreSQL the keys are one array: a list of them, as many as a word's mendings (hundreds),
# made a statement of its own for every count, which psycopg parsed anew (2 ms for 580 keys).
_WORDS_UNDER = {
    "sqlite": (select(col(SearchWordVariant.variant), col(SearchWordVariant.word))
               .where(col(SearchWordVariant.variant).in_(bindparam("keys", expanding=True)))),
    "postgresql": (select(col(SearchWordVariant.variant), col(SearchWordVariant.word))
                   .where(col(SearchWordVariant.variant) == any_(bindparam("keys", type_=postgresql.ARRAY(String))))),
}


def _words_under(session: Session, keys: Iterable[str]) -> list[tuple[str, str]]:
    """The vocabulary's words filed under these keys, as (key, word)."""
    connection = session.connection()
    return [(variant, word) for variant, word in connection.execute(
        _WORDS_UNDER[connection.dialect.name], {"keys": sorted(keys)})]


@dataclass(frozen=True)
class Alternatives:
    """For each term, the vocabulary's other stems it may have been meant as (see the top):
    ``near``, tried beside the terms themselves; and ``fallback``, the near ones with what a word
    the vocabulary does not hold gives mended and spelled with å, ä, ö, tried when the terms
    themselves fill less than a page (a word of the index is no typo: "matta" is not mended to
    "mat"; and "stol", found in hundreds of listings, is not to "sol"). ``unknown``: the terms
    the vocabulary holds no word of; ``keys``: ``term_keys``, made of the keys looked up here."""

    near: dict[str, list[str]]
    fallback: dict[str, list[str]]
    unknown: frozenset[str] = frozenset()
    keys: tuple[tuple[str, ...], ...] = ()


def alternatives(session: Session, terms: list[str], query: str = "") -> Alternatives:
    """What each term may have been meant as (``Alternatives``).

    A word typed without its å, ä, ö may also lose more to the stemmer ("forradet" -> "forr",
    where "förrådet" -> "förråd"): the query's words are also tried stemmed once only; and, for
    ``fallback``, mended (``_edited``) and spelled with å, ä, ö (``_accented``)."""
    lightly = _lightly(terms, query)
    near_keys = _near_keys(terms, lightly)
    if not near_keys:
        return Alternatives({}, {}, keys=_noted_keys(terms, {}, {}, ()))
    # The words under a term's near keys tell whether the vocabulary holds the term itself (its
    # own key is among them); its words mended (hundreds for a long word) are made and looked
    # up only for a term it does not hold, the only one they are offered for.
    asked = set().union(*near_keys.values())
    rows = _words_under(session, asked)
    known = {word for _variant, word in rows}
    unknown = frozenset(near_keys) - known
    keys, edited = _lookup_keys(near_keys, query, unknown)
    mended = set().union(*edited.values()) - asked
    if mended:
        rows += _words_under(session, mended)
    near: dict[str, list[str]] = {}
    fallback: dict[str, list[str]] = {}
    for term, wanted in keys.items():
        bare = plain(term)

        def similar(meant: set[str]) -> list[str]:
            return sorted({word for variant, word in rows if variant in wanted and word != term
                           and (plain(word) in meant
                                or (len(term) >= FUZZY_MIN_LENGTH and _one_edit_apart(plain(word), bare)))},
                          key=lambda word: (abs(len(word) - len(term)), word))

        found = similar(lightly[term] | {bare})
        if found:
            near[term] = found[:MAX_ALTERNATIVES]
        if term in known:
            found = near.get(term, [])
        else:  # mended, and spelled with å, ä, ö inside any word (bildskärmar for skarm)
            found = similar(lightly[term] | {bare} | edited.get(term, set()))
            found += [spelled for spelled in _accented(term) if spelled not in found]
        if found:
            fallback[term] = found[:MAX_ALTERNATIVES]
    return Alternatives(near, fallback, unknown, _noted_keys(terms, keys, edited, unknown))


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _written_in(pattern: str) -> BindParameter[str]:
    """A pattern written into its statement rather than sent apart from it. How many listings a
    word matches decides a search's plan on PostgreSQL (walking the newest-first index for a
    broad word, the trigram index for a rare one). A statement sent often is prepared and after
    a few runs planned once for any value, and that plan walks the index end to end for a rare
    word: 50 ms rather than 0.3 at 100,000 listings. Written in, a search's words are a
    statement of their own, planned for them, and what follows in its transaction (its page's
    cards) keeps its prepared plan. The pattern is a literal SQLAlchemy quotes, of a query's
    letters and digits (``words``) and the facets' tokens."""
    return bindparam(None, pattern, type_=String, literal_execute=True)


# --- What a search asks of a listing's words ---------------------------------------------

@dataclass(frozen=True)
class Has:
    """A pattern in a listing's title words (with a space either side of each: " stol " is the
    whole word, "stol " a compound's head, " stol" its start) or anywhere in its words."""

    pattern: str
    in_title: bool = False


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Words, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Words, ...]


Words = Has | AllOf | AnyOf


def every_term(terms: list[str], alternatives: dict[str, list[str]] | None = None) -> Words:
    """Each term (or one of its alternatives) somewhere in the listing's words."""
    alternatives = alternatives or {}
    return AllOf(tuple(AnyOf(tuple(in_words(x) for x in [t, *alternatives.get(t, [])])) for t in terms))


def term_patterns(terms: list[str], alternatives: dict[str, list[str]]) -> tuple[tuple[str, ...], ...]:
    """For each term, the patterns one of which a listing's words hold when it matches
    (``every_term``'s, as plain strings: see ``may_hold``)."""
    return tuple(tuple(in_words(x).pattern for x in [t, *alternatives.get(t, [])]) for t in terms)


def may_hold(patterns: tuple[tuple[str, ...], ...], keys: tuple[tuple[str, ...], ...], search_text: str) -> bool:
    """Whether a listing's words may meet ``every_term``: for each term, one of its patterns
    (``term_patterns``) is in the words, as the databases test it (one with a space first at a
    word's start), or one of its words shares a key (``term_keys``) with the term, so that,
    once the vocabulary has learnt the word, the word is an alternative the term finds."""
    spaced = " " + search_text
    for term_patterns, term_keys_ in zip(patterns, keys):
        if any(pattern in spaced for pattern in term_patterns):
            continue
        # A shorter term is offered only words that differ from it in å, ä, ö (or the query's
        # lightly stemmed word): the word itself, without them, is one of its keys.
        short = len(term_patterns[0].strip()) < FUZZY_MIN_LENGTH
        found_under = _plain_words(search_text) if short else _keys_of(search_text)
        if not any(key in found_under for key in term_keys_):
            return False
    return True


def may_teach(patterns: tuple[tuple[str, ...], ...], keys: tuple[tuple[str, ...], ...], search_text: str) -> bool:
    """Whether a listing's words hold one that the vocabulary, once it has learnt it, may offer
    as an alternative to one of the terms (a word other than the term that shares one of its
    keys: ``alternatives``), or the term itself when it was mended (``MENDED``). Every listing's
    words are learnt, whoever may find it, and a new alternative may make other listings match."""
    for term_patterns, term_keys_ in zip(patterns, keys):
        term = term_patterns[0].strip()
        found_under = _plain_words if len(term) < FUZZY_MIN_LENGTH else _keys_of
        # Of the whole text first, kept: a change is tested against many kept pages, and most
        # changed listings hold no word under the term's keys.
        if found_under(search_text).isdisjoint(term_keys_):
            continue
        words_ = frozenset(word for word in search_text.split() if 3 <= len(word) <= 100)
        learnt = words_ if MENDED in term_keys_ else words_ - {term}
        if any(not found_under(word).isdisjoint(term_keys_) for word in learnt):
            return True
    return False


# A changed listing's words are tested against many kept pages: what is made of them is kept.
@lru_cache(maxsize=20_000)
def _keys_of(search_text: str) -> frozenset[str]:
    """Every key the vocabulary files a listing's words under (``_variants``)."""
    return frozenset(key for word in search_text.split() if 3 <= len(word) <= 100 for key in _variants(word))


@lru_cache(maxsize=20_000)
def _plain_words(search_text: str) -> frozenset[str]:
    """A listing's words without å, ä, ö."""
    return frozenset(plain(word) for word in search_text.split())


def in_words(term: str) -> Has:
    """A term inside a listing's words; one too short for the index (under three letters, which
    would be inside almost any word) at the start of one."""
    return Has(term if len(term) >= 3 else f" {term}")


# A term's rank in a listing, 0 best: a whole title word, a title word's end (a compound's head
# names the thing: kontors*stol*), its start (a modifier: *stol*sdyna), inside a title word, elsewhere.
WORST_RANK = 4


def ranked_at_most(term: str, rank: int) -> Words:
    """The listings where a term ranks ``rank`` or better."""
    ranks: list[Words] = [Has(f" {term} ", True), Has(f"{term} ", True),
                          AnyOf((Has(f"{term} ", True), Has(f" {term}", True))), Has(term, True), in_words(term)]
    return ranks[rank]


def _fts5(words: Words) -> str | None:
    """``words`` as an FTS5 query over the search index (``search_index``: a term as the prefix
    of a word's ending, or of a marked word at a word's start), or None when the index cannot
    answer a pattern (``search_index.answers``) or it is of the title, which the index does not
    hold: then the database's LIKE tests it."""
    if isinstance(words, Has):
        if words.in_title or not search_index.answers(words.pattern):
            return None
        word = words.pattern.removeprefix(" ")
        return f'body:"{search_index.WORD_START if words.pattern.startswith(" ") else ""}{word}"*'
    parts = [_fts5(part) for part in words.parts]
    if None in parts or not parts:
        return None
    return "(" + (" AND " if isinstance(words, AllOf) else " OR ").join(p for p in parts if p) + ")"


def _conjuncts(words: Words) -> list[Words]:
    """What must all hold: each part asked of the index if it can be (see ``_fts5``)."""
    return [part for w in words.parts for part in _conjuncts(w)] if isinstance(words, AllOf) else [words]


def _sql(words: Words) -> ColumnElement[bool]:
    if isinstance(words, Has):
        column: ColumnElement[str]
        if words.in_title:
            column = literal(" ") + col(Listing.search_title) + literal(" ")
        else:  # the words with a space before (only a short word asks for one: PostgreSQL's index stays of use)
            text_: ColumnElement[str] = literal_column("listing.search_text")
            column = literal(" ") + text_ if words.pattern.startswith(" ") else text_
        return column.like(_written_in(_like(words.pattern)), escape="\\")
    parts = [_sql(part) for part in words.parts]
    return and_(*parts) if isinstance(words, AllOf) else or_(*parts)


# --- Facets: the filters in the search index ------------------------------------------
# A filter on a listing's kind, condition, municipality, category or ways to share is asked of
# the search index with the words, as a facet: a token per field and value that no text holds.
# On SQLite a facet is one token of three private-use characters: which filter, and its value in
# two characters, so a filter is one list in the index. On PostgreSQL, whose
# pg_trgm indexes letters and digits alone, it is a word "q<field><value>q" in
# ``search_fts_body``, which holds a listing's facets in field order, "|" (no text holds one),
# then its words: one pattern asks for a term and every filter at once, so that the planner
# estimates them together (see the migration that made it). The migrations write the facets in
# SQL (a test compares the two).
FACET_KIND, FACET_CONDITION, FACET_MUNICIPALITY, FACET_CATEGORY, FACET_OFFER = 1, 2, 3, 4, 5
KIND_CODES = {"thing": 1, "place": 2, "service": 3}
CONDITION_CODES = {"as_new": 1, "very_good": 2, "good": 3, "fair": 4, "needs_repair": 5}
OFFER_CODES = {"lend": 1, "give_away": 2, "swap": 3}
MAX_FACET_CHOICES = 32  # a filter with more choices (a large category's descendants) is left to SQL
MAX_FACET_VALUE = 2**20 - 1  # what two characters hold; a larger id (none the app makes) is left to SQL
_FACET_LETTERS = {FACET_KIND: "k", FACET_CONDITION: "c", FACET_MUNICIPALITY: "m", FACET_CATEGORY: "g", FACET_OFFER: "o"}


@dataclass(frozen=True)
class Facet:
    """A filter the search index holds: a listing's field has one of these values."""

    field: int
    values: tuple[int, ...]


def facet_of(field: int, values: Iterable[int]) -> Facet | None:
    """The filter as a facet (None: too many choices, or a value out of range: left to SQL)."""
    choices = tuple(sorted(set(values)))
    if not choices or len(choices) > MAX_FACET_CHOICES or not 0 <= choices[0] <= choices[-1] <= MAX_FACET_VALUE:
        return None
    return Facet(field, choices)


def facet(field: int, value: int, dialect: str = "sqlite") -> str:
    """The token the index holds for a field's value."""
    if dialect == "postgresql":
        return f"q{_FACET_LETTERS[field]}{value}q"
    return chr(0xE000 + field) + chr(0xE400 + (value >> 10)) + chr(0xE400 + (value & 1023))


def facets_of(kind: str, condition: str | None, municipality_id: int, category_id: int, lend: bool,
              give_away: bool, swap: bool) -> frozenset[tuple[int, int]]:
    """A listing's facets as (field, value), as the migrations write them in the index."""
    held = {(FACET_KIND, KIND_CODES.get(kind, 0)), (FACET_CONDITION, CONDITION_CODES.get(condition or "", 0)),
            (FACET_MUNICIPALITY, municipality_id), (FACET_CATEGORY, category_id)}
    return frozenset(held | {(FACET_OFFER, OFFER_CODES[offer]) for offer, offered in
                             (("lend", lend), ("give_away", give_away), ("swap", swap)) if offered})


def _fts5_facet(choice: Facet) -> str:
    return "(" + " OR ".join(f'facets:"{facet(choice.field, value)}"' for value in choice.values) + ")"


_BODY: ColumnElement[str] = literal_column("listing.search_fts_body")


MAX_LEADS = 8  # the filters' combinations one term is asked with; beyond, a filter of several values is apart


def _on_body(parts: list[Words], facets: Iterable[Facet]) -> list[ColumnElement[bool]]:
    """PostgreSQL: the words' parts and the facets as patterns of ``search_fts_body``. The first
    part of one pattern carries the facets, in the column's order (``%qk2q%qm3q%|%bord%``): a
    facet of several values as one pattern for each (``%qc1q%|%bord%`` or ``%qc2q%|%bord%``),
    unless they make more than MAX_LEADS. A term asked with its alternatives does not carry them:
    each facet pattern times each spelling made a walk of tens of thousands of rows, ten tests a
    row (fåtölj, spelled five ways, under a filter of two values: 130 ms against 12 when the
    facets are a pattern of their own)."""
    choices = sorted(set(facets), key=lambda choice: (choice.field, choice.values))  # one of each, asked twice or not
    leads = [""]
    for choice in choices:
        leads = [lead + f"%{facet(choice.field, value, 'postgresql')}" for lead in leads for value in choice.values]
    apart: list[Facet] = []
    if len(leads) > MAX_LEADS:
        apart = [choice for choice in choices if len(choice.values) > 1]
        leads = ["".join(f"%{facet(choice.field, choice.values[0], 'postgresql')}" for choice in choices
                         if len(choice.values) == 1)]

    def like(words: Words, befores: list[str]) -> ColumnElement[bool]:
        if isinstance(words, Has):
            if words.in_title:
                return _sql(words)
            return or_(*(_BODY.like(_written_in(before + "%|" + _like(words.pattern)), escape="\\")
                         for before in befores))
        joined = [like(part, befores) for part in words.parts]
        return and_(*joined) if isinstance(words, AllOf) else or_(*joined)

    carrier = next((n for n, part in enumerate(parts) if not (isinstance(part, AnyOf) and len(part.parts) > 1)), None)
    conditions = [like(part, leads if n == carrier else [""]) for n, part in enumerate(parts)]
    if carrier is None and leads != [""]:
        conditions.append(or_(*(_BODY.like(_written_in(lead + "%|%")) for lead in leads)))
    conditions += [or_(*(_BODY.like(_written_in(f"%{facet(choice.field, value, 'postgresql')}%|%"))
                         for value in choice.values)) for choice in apart]
    return conditions


# --- Asking the database ------------------------------------------------------------------

_INDEX = table("listing_fts", column("rowid"))
_INDEX_ORDER: ColumnElement[int] = literal_column("listing.search_fts_order")  # newest first: see the migrations
# The index's rowid is that order negated, so that newest first is its rowids rising: FTS5
# walks its lists faster rising than falling.
_ORDER_OF_INDEXED: ColumnElement[int] = -_INDEX.c.rowid


def listings(dialect: str, columns: list[Any], conditions: list[ColumnElement[bool]], words: list[Words],
             facets: list[Facet], *, newest_first: bool = False) -> Select[Any]:
    """The listings meeting every condition, words and facet, as these columns; newest first if
    asked.

    On SQLite the words and facets go to the search index, which is kept newest first: joined
    from it, a search stops at the page it needs rather than sorting every match. On PostgreSQL
    they are patterns of the text its trigram index holds (``_on_body``)."""
    parts = [part for w in words for part in _conjuncts(w)]
    if dialect != "sqlite":
        query = select(*columns).select_from(Listing).where(*conditions, *_on_body(parts, facets))
        return query.order_by(col(Listing.published_at).desc(), col(Listing.id).desc()) if newest_first else query
    match, rest = _in_index(parts, facets)
    if match is not None:
        query = select(*columns).select_from(_INDEX).join(Listing, _INDEX_ORDER == _ORDER_OF_INDEXED).where(match)
        order: tuple[ColumnElement[Any], ...] = (_INDEX.c.rowid,)  # newest first
    else:
        query = select(*columns).select_from(Listing)
        order = (col(Listing.published_at).desc(), col(Listing.id).desc())
    query = query.where(*conditions, *rest)
    return query.order_by(*order) if newest_first else query


def _in_index(parts: list[Words], facets: Iterable[Facet]) -> tuple[TextClause | None, list[ColumnElement[bool]]]:
    """SQLite: what of these parts and facets its search index is asked (None: nothing), and
    the parts it cannot be asked (``_fts5``), as SQL."""
    asked = [(part, _fts5(part)) for part in parts]
    queries = [query for _, query in asked if query] + [_fts5_facet(choice) for choice in facets]
    rest = [_sql(part) for part, query in asked if not query]
    if not queries:
        return None, rest
    return text("listing_fts MATCH :match").bindparams(bindparam("match", " AND ".join(queries), unique=True)), rest


def matches(terms: list[str], dialect: str) -> ColumnElement[bool]:
    """True for listings whose words contain every term: a condition for a query that does not
    start from the index."""
    parts = _conjuncts(every_term(terms))
    if dialect != "sqlite":
        return and_(true(), *_on_body(parts, ()))
    match, conditions = _in_index(parts, ())
    if match is not None:
        conditions.append(_INDEX_ORDER.in_(select(_ORDER_OF_INDEXED).where(match)))
    return and_(true(), *conditions)


# A listing's words as ``test_of`` reads them: its search title with a space either side, its
# search text (None: it holds every pattern, a listing known to match every term, read without
# its words), and that text with a space before.
Padded = tuple[str, str | None, str]


def padded(title: str, text_: str | None) -> Padded:
    return f" {title} ", text_, f" {text_}" if text_ is not None else ""


def test_of(words: Words) -> Callable[[Padded], bool]:
    """Whether a listing meets ``words``: the databases' test (``_sql``), made in Python on
    rows already read, built once for many rows."""
    if isinstance(words, Has):
        pattern = words.pattern
        if words.in_title:
            return lambda row: pattern in row[0]
        if pattern.startswith(" "):
            return lambda row: row[1] is None or pattern in row[2]
        return lambda row: row[1] is None or pattern in row[1]
    parts = [test_of(part) for part in words.parts]
    if isinstance(words, AllOf):
        return lambda row: all(part(row) for part in parts)
    return lambda row: any(part(row) for part in parts)


def _ranks(term: str, alternatives: list[str]) -> list[tuple[int, Words]]:
    """What gives a term each rank, in the order tried: the term itself, then (in a listing that
    holds it only through one) its alternatives, so that a mistyped word's matches are ranked by
    where the word meant stands, as exact ones are (below them all: see ``inexact``)."""
    ranks: list[tuple[int, Words]] = [(rank, ranked_at_most(term, rank)) for rank in range(WORST_RANK + 1)]
    if alternatives:
        ranks += [(rank, AnyOf(tuple(ranked_at_most(other, rank) for other in alternatives)))
                  for rank in range(WORST_RANK + 1)]
    return ranks


def ranker(terms: list[str], alternatives: dict[str, list[str]], *,
           by_relevance: bool) -> Callable[[str, str | None], tuple[int, int]]:
    """``inexact`` and (if asked) ``relevance`` of a listing given its search title and text,
    in Python: the tests built once, for many rows, and each title (and text) ranked once: many
    listings of a search share one (a unit clearing out its rooms lists forty "Kontorsstol")."""
    ranks = ([[(rank, test_of(words)) for rank, words in _ranks(term, alternatives.get(term, []))]
              for term in terms] if by_relevance else [])
    exact = [test_of(in_words(term)) for term in terms if term in alternatives]
    ranked: dict[tuple[str, str | None], tuple[int, int]] = {}

    def rank(title: str, text_: str | None) -> tuple[int, int]:
        found = ranked.get((title, text_))
        if found is None:
            row = padded(title, text_)
            found = ranked[title, text_] = (
                sum(1 for holds in exact if not holds(row)),
                sum(next((rank for rank, holds in tests if holds(row)), WORST_RANK + 1) for tests in ranks))
        return found
    return rank


def relevance(terms: list[str], alternatives: dict[str, list[str]]) -> ColumnElement[int]:
    """The terms' ranks added up (see ``ranked_at_most`` and ``_ranks``): 0 is best, one past
    the worst rank per term missing."""
    score: ColumnElement[int] = literal(0)
    for term in terms:
        score = score + case(*((_sql(words), rank) for rank, words in _ranks(term, alternatives.get(term, []))),
                             else_=WORST_RANK + 1)
    return score


def inexact(terms: list[str], alternatives: dict[str, list[str]]) -> ColumnElement[int]:
    """How many of the terms a listing holds only through an alternative: 0 for an exact match,
    which ranks above every other."""
    count: ColumnElement[int] = literal(0)
    for term in terms:
        if term in alternatives:
            count = count + case((_sql(in_words(term)), 0), else_=1)
    return count
