"""What SQLite's search index holds of a listing's words: every word marked as one, and every
ending of three letters or more of each. Any part of a word of three letters or more is then the
start of an ending, so a search asks the index for its term as a prefix ("stol"* finds
kontorsstol by its ending "stol"), and a term asked at the start of a word as a marked word's
prefix ("^ek"*). Made here, in Python, by the function the index's triggers call
(``search_word_endings``): FTS5 takes tokenizers of C alone.

The index keeps no copy of what it is given, and forgets a listing's words by being given them
again: this function must not change without a migration that builds the index anew.
"""

from __future__ import annotations

import re

from sharing.db import sqlite_function

WORD_START = "^"  # marks a whole word in the index; no word holds it (words are letters and digits)
SHORTEST_ENDING = 3
# A word of n letters has n endings: each is cut to this length, so that a long word (a run of
# hyphened parts joined, in a description of thousands of letters) costs the index in
# proportion to its length, not its square. A longer term is tested by SQL instead.
LONGEST_ENDING = 32
SQLITE_FUNCTION = "search_word_endings"
# Letters and digits the index's tokenizer keeps as they are, of the alphabets a Nordic catalog
# is written in (not ſ, which it folds to s). A term with another letter is tested by SQL instead.
INDEXABLE = re.compile(r"[0-9a-z\u00df-\u00f6\u00f8-\u00ff\u0100-\u017e]+")


def word_endings(search_text: str) -> str:
    """A listing's stemmed words (``search.document``) as the index holds them."""
    held = dict.fromkeys(WORD_START + word[:LONGEST_ENDING] for word in search_text.split())
    for word in search_text.split():
        held.update(dict.fromkeys(word[start:start + LONGEST_ENDING]
                                  for start in range(len(word) - SHORTEST_ENDING + 1)))
    return " ".join(held)


def answers(pattern: str) -> bool:
    """Whether the index can be asked for a pattern of a listing's words (``search.Has``): a
    part of a word of three letters or more, or a word's start (a space, then its first
    letters), of letters it keeps as they are, no longer than an ending."""
    word = pattern.removeprefix(" ")
    shortest = 1 if pattern.startswith(" ") else SHORTEST_ENDING
    return shortest <= len(word) <= LONGEST_ENDING and INDEXABLE.fullmatch(word) is not None


sqlite_function(SQLITE_FUNCTION, word_endings)
