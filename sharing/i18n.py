"""Marking text for translation in code that must not depend on Flask (domain rules)."""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a message for extraction; the view translates it when it shows it."""
    return message


class DomainError(Exception):
    """A rule refused an action; the message is English, marked for translation.

    Views show it with ``gettext(error.message, **error.params)`` (or map it onto a field).
    """

    def __init__(self, message: str, *, field: str | None = None, **params: object) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.field = field
        self.params = params
