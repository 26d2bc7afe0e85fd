"""The transfer document: what passed for good from one municipality (and unit) to another,
for both sides' asset registers, as PDF (no Flask here: the caller gives the texts in the
reader's language).

Base fonts (Helvetica), as the QR labels: their character set holds Swedish.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle


@dataclass(frozen=True)
class Party:
    municipality: str
    unit: str
    site: str
    signatory: str  # the name of who signs for this side


@dataclass(frozen=True)
class Item:
    title: str
    category: str
    quantity: int
    inventory_number: str
    condition: str


@dataclass(frozen=True)
class Passage:
    """Pieces passing one way: a take-over has one, a swap two."""

    giver: Party
    receiver: Party
    items: tuple[Item, ...]


def render(*, title: str, number: str, handed_over: str, passages: list[Passage], texts: dict[str, str]) -> bytes:
    """The document as PDF bytes. ``texts`` holds its headings and labels, translated."""
    styles = getSampleStyleSheet()
    out = io.BytesIO()
    document = SimpleDocTemplate(out, pagesize=A4, title=title, author=texts["service"], leftMargin=20 * mm,
                                 rightMargin=20 * mm, topMargin=20 * mm, bottomMargin=20 * mm)

    def text(value: str, style: str = "BodyText") -> Paragraph:
        return Paragraph(escape(value), styles[style])

    story = [text(title, "Title"), text(f"{texts['number']}: {number}    {texts['handed_over']}: {handed_over}"),
             Spacer(1, 6 * mm)]
    for passage in passages:
        parties = Table([
            [text(texts["from"], "Heading4"), text(texts["to"], "Heading4")],
            *[[text(f"{label}: {getattr(passage.giver, name)}"), text(f"{label}: {getattr(passage.receiver, name)}")]
              for name, label in (("municipality", texts["municipality"]), ("unit", texts["unit"]),
                                  ("site", texts["site"]))],
        ], colWidths=[85 * mm, 85 * mm])
        items = Table([[text(texts[h], "Heading5") for h in ("what", "category", "quantity", "inventory_number",
                                                               "condition")]]
                      + [[text(i.title), text(i.category), text(str(i.quantity)), text(i.inventory_number or "–"),
                          text(i.condition or "–")] for i in passage.items],
                      # An inventory number is one word of up to some twenty characters: room for it whole.
                      colWidths=[50 * mm, 33 * mm, 15 * mm, 44 * mm, 28 * mm], repeatRows=1)
        items.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                                   ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        signatures = Table([
            [text(texts["signed_giver"], "Heading5"), text(texts["signed_receiver"], "Heading5")],
            [text(passage.giver.signatory), text(passage.receiver.signatory)],
            [Spacer(1, 12 * mm), Spacer(1, 12 * mm)],
            [text("_" * 34), text("_" * 34)],
            [text(texts["signature_date"]), text(texts["signature_date"])],
        ], colWidths=[85 * mm, 85 * mm])
        story += [parties, Spacer(1, 4 * mm), items, Spacer(1, 6 * mm), signatures, Spacer(1, 10 * mm)]
    story.append(text(texts["footer"]))
    document.build(story)
    return out.getvalue()
