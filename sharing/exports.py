"""What every file we let users download must respect (import templates now, reports later).

A spreadsheet program takes a cell that starts with = + - or @ for a formula, and a tab or a
carriage return at the start can hide such a start from a check (CSV injection): a site named
``=HYPERLINK("https://…", "Klicka här")`` would come back as a live link. Every cell of text
we write goes through ``safe_cell``, which makes it plain text with a leading apostrophe, as
spreadsheet programs themselves mark text; ``from_safe_cell`` takes it off again when such a
file is read back.
"""

from __future__ import annotations

from typing import TypeVar

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
Cell = TypeVar("Cell")


def safe_cell(value: Cell) -> Cell | str:
    """A cell's value as it may be written: text that could start a formula gets an apostrophe
    first; numbers, dates and other text are written as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values: list[Cell]) -> list[Cell | str]:
    return [safe_cell(value) for value in values]


def from_safe_cell(text: str) -> str:
    """Text read back from a file we wrote: without the apostrophe ``safe_cell`` put first."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text
