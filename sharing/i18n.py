"""Marking text for translation in code that must not depend on Flask (domain rules)."""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a message for extraction; the view translates it when it shows it."""
    return message


class Plural(str):
    """A message with a plural form (``NP_``): the count in its parameter ``num`` decides which
    form is shown ("1 piece", "2 pieces"), in English as in the reader's language."""

    plural: str

    def __new__(cls, singular: str, plural: str) -> Plural:
        made = super().__new__(cls, singular)
        made.plural = plural
        return made

    def __getnewargs__(self) -> tuple[str, str]:  # type: ignore[override]  # copied or pickled whole, its plural too
        return str(self), self.plural

    def in_english(self, num: int) -> str:
        return str(self) if num == 1 else self.plural


def NP_(singular: str, plural: str) -> Plural:
    """Mark a message with a plural form for extraction; shown by the count in ``num``."""
    return Plural(singular, plural)
