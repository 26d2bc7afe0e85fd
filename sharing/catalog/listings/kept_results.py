"""Kept search results that outlive the changes that do not touch them.

A rendered page of results is kept with what it rests on (``Found``): the catalog's ``seq``
when it was searched, the listings it matched, and its words' patterns. Served again, it is
checked against what changed since (``revision.changes_since``): it still shows what a new
search would unless

- something other than listings changed (a category, a site, a municipality; a large import);
- a listing it matched changed (moved, left, or changed how it shows);
- a changed listing the reader may find, which holds the search's filters (those in the search
  index: its kind, condition, municipality, category and ways to share) and whose words may
  now meet the search's (it may have joined the results; a search without words may match any
  listing), unless it was published before the oldest of the matches read, when they were
  all exact ones and as many as a search reads: those newer still stand, so it stays beyond;
- a changed listing, whoever may find it, holds a word the vocabulary will offer as an
  alternative to one of the search's terms (other listings holding it may match then), unless
  the matches read were all exact ones, as many as a search reads (an alternative's matches
  come after them).

Each process remembers up to which revision it last found a kept page still good
(``CheckedUpTo``), and checks it next against the changes since then alone: a popular page,
asked all day, would otherwise be checked against every change since it was searched at every
ask.

A change to a listing that neither matched nor can match leaves the page as it was: with a
writer changing a listing every second, most kept pages stay good. Nor can such a change make
"more than" untrue: every match read still stands. Nothing the reader's role or person decides
is kept (the page is the same for a municipality and language: see the views).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass

from sharing.catalog.listings import search
from sharing.catalog.listings.revision import Changes, Revision, Standing
from sharing.catalog.listings.rules import FINDABLE, Ranking


@dataclass(frozen=True)
class Found:
    """What a kept page of results rests on (see ``Ranking``): the catalog's
    ``seq`` and the revision's token at that seq (a database restored from a backup counts the
    same seqs again, under other tokens). ``facets``: the filters asked of the search index, as
    (field, values); ``reader_municipality_id``: whose shared and own listings it found (None:
    any listing may be found); ``oldest``: the second (since 1970) the oldest match read was
    published in, when they were all exact and as many as a search reads (Ranking.oldest)."""

    seq: int
    token: int
    matched: frozenset[int]
    patterns: tuple[tuple[str, ...], ...]
    keys: tuple[tuple[str, ...], ...]
    facets: tuple[tuple[int, tuple[int, ...]], ...] = ()
    reader_municipality_id: int | None = None
    oldest: int | None = None

    def note(self) -> str:
        return json.dumps([self.seq, self.token, sorted(self.matched), self.patterns, self.keys, self.facets,
                           self.reader_municipality_id, self.oldest], separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_note(cls, note: str) -> Found | None:
        """The note read back; None if it is not one (then the page is searched anew)."""
        try:
            seq, token, matched, patterns, keys, facets, reader, oldest = json.loads(note)
            return cls(int(seq), int(token), frozenset(int(i) for i in matched),
                       tuple(tuple(str(p) for p in alternatives) for alternatives in patterns),
                       tuple(tuple(str(k) for k in term_keys) for term_keys in keys),
                       tuple((int(field), tuple(int(v) for v in values)) for field, values in facets),
                       None if reader is None else int(reader), None if oldest is None else int(oldest))
        except (ValueError, TypeError):
            return None

    def may_find(self, listing: Standing) -> bool:
        """Whether this search may find a listing that stands so, its words aside."""
        return (listing.status in FINDABLE
                and (listing.shared or self.reader_municipality_id in (None, listing.municipality_id))
                and all(any((field, value) in listing.facets for value in values) for field, values in self.facets))

    def read_beyond(self, listing: Standing | None) -> bool:
        """Whether a listing was published in a second before the oldest match read, when those
        were all exact and as many as a search reads: they still stand (none changed), so it
        stays beyond them. By the second, which both databases' orders agree on, and a
        millisecond to spare: SQLite's index takes the second after rounding to the millisecond."""
        return (self.oldest is not None and listing is not None and listing.published_at is not None
                and listing.published_at.timestamp() + 0.001 < self.oldest)


def keepable(ranking: Ranking) -> bool:
    """Whether a page of this ranking can be kept: not one whose words named a place where
    nothing matched, searched as words instead (``Ranking.unmatched_place``). A listing that
    comes to match there, its words without the name, would not retire it."""
    return ranking.unmatched_place is None


def found(ranking: Ranking, at: Revision) -> Found:
    return Found(at.seq, at.token, ranking.matched, ranking.patterns, ranking.keys,
                 tuple((facet.field, facet.values) for facet in ranking.facets), ranking.reader_municipality_id,
                 None if ranking.oldest is None else int(ranking.oldest.timestamp()))


def still_shows(found: Found, changes: Changes) -> bool:
    """Whether a page searched as ``found`` says shows what a search after ``changes`` would."""
    if changes.anything:
        return False
    for listing_id, words in changes.words.items():
        if listing_id in found.matched:
            return False
        if words is not None:
            standing = changes.standing.get(listing_id)
            if (standing is None or found.may_find(standing)) and not found.read_beyond(standing) and (
                    not found.patterns or search.may_hold(found.patterns, found.keys, words)):
                return False
            if found.oldest is None and search.may_teach(found.patterns, found.keys, words):
                return False  # whoever may find it, its words may bring an alternative that others match
    return True


class CheckedUpTo:
    """Up to which revision this process last found each kept page's note still good, for its
    last ``entries`` notes (the least recently checked forgotten first), each by a digest of it
    (a note names up to COUNT_LIMIT listings). The changes up to it were found not to touch the
    page, and every later change is logged anew: only those since need checking."""

    def __init__(self, entries: int) -> None:
        self.entries = entries
        self._checked: OrderedDict[bytes, Revision] = OrderedDict()
        self._lock = threading.Lock()

    def since(self, note: str, found: Found) -> Revision:
        """Where the changes to check this note against begin."""
        key = _digest(note)
        with self._lock:
            checked = self._checked.get(key)
            if checked is not None:
                self._checked.move_to_end(key)
        return checked or Revision(found.seq, found.token)

    def still_good(self, note: str, up_to: Revision | None) -> None:
        """The note was found still good up to this revision (None: not known where the changes
        checked ran up to)."""
        if up_to is None:
            return
        key = _digest(note)
        with self._lock:
            self._checked[key] = up_to
            self._checked.move_to_end(key)
            while len(self._checked) > self.entries:
                self._checked.popitem(last=False)


def _digest(note: str) -> bytes:
    return hashlib.blake2b(note.encode(), digest_size=16).digest()
