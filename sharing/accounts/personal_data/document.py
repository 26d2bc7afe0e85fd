"""The register extract as a PDF to read and keep: each section a heading, each record a small
table of what and how (no Flask here: the caller gives every text in the reader's language).

Base fonts (Helvetica), as the transfer document: their character set holds Swedish.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

# Records shown per section: the rest are in the JSON download (a PDF of tens of thousands of
# audit entries helps no one read, and takes a worker long to make).
RECORDS_SHOWN = 500
# A value longer than this (a long message) is cut: the JSON download has it whole.
VALUE_SHOWN = 3000
# Signs the base fonts lack that the service's own words use ("Väntar på beslut → Godkänd").
_SIGNS = str.maketrans({"→": "->", "←": "<-", "≈": "~"})


@dataclass(frozen=True)
class Block:
    """One section: its title and its records, each a list of (label, value) already readable."""

    title: str
    records: list[list[tuple[str, str]]]


def render(*, title: str, lines: list[str], blocks: list[Block], texts: dict[str, str]) -> bytes:
    """The extract as PDF bytes. ``texts``: "author", "none" (an empty section), "more" (a
    section cut short, with ``%(shown)d``), "page" (with ``%(page)d``)."""
    styles = getSampleStyleSheet()
    out = io.BytesIO()
    document = SimpleDocTemplate(out, pagesize=A4, title=title, author=texts["author"], leftMargin=18 * mm,
                                 rightMargin=18 * mm, topMargin=18 * mm, bottomMargin=18 * mm)

    def text(value: str, style: str = "BodyText") -> Paragraph:
        if len(value) > VALUE_SHOWN:
            value = value[:VALUE_SHOWN - 1] + "…"
        return Paragraph(escape(_printable(value)).replace("\n", "<br/>"), styles[style])

    story: list[Flowable] = [text(title, "Title"), *[text(line) for line in lines], Spacer(1, 4 * mm)]
    for block in blocks:
        story.append(text(block.title, "Heading2"))
        if not block.records:
            story.append(text(texts["none"]))
        for record in block.records[:RECORDS_SHOWN]:
            table = Table([[text(label, "Heading6"), text(value)] for label, value in record],
                          colWidths=[50 * mm, 124 * mm])
            table.setStyle(TableStyle([("LINEABOVE", (0, 0), (-1, 0), 0.5, colors.grey),
                                       ("VALIGN", (0, 0), (-1, -1), "TOP"),
                                       ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
            story.append(KeepTogether([table, Spacer(1, 2 * mm)]))
        if len(block.records) > RECORDS_SHOWN:
            story.append(text(texts["more"] % {"shown": RECORDS_SHOWN}))

    def number(canvas: object, doc: object) -> None:
        canvas.setFont("Helvetica", 8)  # type: ignore[attr-defined]  # reportlab's canvas is untyped
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, texts["page"] % {"page": doc.page})  # type: ignore[attr-defined]  # as above

    document.build(story, onFirstPage=number, onLaterPages=number)
    return out.getvalue()


def _printable(text: str) -> str:
    """``text`` in the base fonts' character set (WinAnsi): a sign they lack in words they have,
    a letter they lack without its accent (ő → o), anything else "?", never another character."""
    out = []
    for char in unicodedata.normalize("NFC", text).translate(_SIGNS):
        if not _encodable(char):
            base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
            char = base if base and all(_encodable(c) for c in base) else "?"
        out.append(char)
    return "".join(out)


def _encodable(char: str) -> bool:
    try:
        char.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True
