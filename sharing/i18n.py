"""Marking text for translation in code that must not depend on Flask (domain rules)."""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a message for extraction; the view translates it when it shows it."""
    return message
