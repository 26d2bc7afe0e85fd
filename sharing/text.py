"""Small text helpers several domains need: names in addresses, and Swedish order."""

from __future__ import annotations

import re
import unicodedata

# Swedish order: å, ä, ö come after z (æ and ø sort as ä and ö, ü as y); other accents are ignored.
_AFTER_Z = {"å": "{", "ä": "|", "æ": "|", "ö": "}", "ø": "}", "ü": "y"}


def without_accents(text: str) -> str:
    """``text`` with its letters' accents and marks removed (é → e, å → a)."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def slugify(name: str) -> str:
    """A name as a part of an address: lower-case ASCII letters and digits joined by hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", without_accents(name).encode("ascii", "ignore").decode().lower()).strip("-")


def swedish_sort_key(text: str) -> tuple[str, str]:
    """A sort key that orders text as Swedish dictionaries do, case ignored."""
    folded = unicodedata.normalize("NFC", text.casefold())
    return "".join(_AFTER_Z.get(char) or without_accents(char) for char in folded), text
