"""Printable sheets of QR labels for listings, as PDF (no Flask here).

Staff stick a label on each piece; scanning its QR code opens the listing (after logging in),
where the owner's facility managers find its actions. A label shows the QR code, the title,
the inventory number, the owning municipality and the listing's number.

Text uses the PDF base fonts (Helvetica): no font files to ship, and their Latin-1 (WinAnsi)
character set holds Swedish, Danish, German and most Western European letters.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import segno
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from sharing.errors import DomainError
from sharing.i18n import N_

# One print job stays a handful of pages a printer takes in one go: 20 sheets.
MAX_LABELS = 480
TITLE_FONT, TITLE_SIZE, TITLE_LEADING, TITLE_LINES = "Helvetica-Bold", 10, 12, 3
INVENTORY_FONT, INVENTORY_SIZE = "Helvetica-Bold", 9
SMALL_FONT, SMALL_SIZE = "Helvetica", 7.5
QR_QUIET_ZONE = 4  # modules of white around the code, as the QR standard asks
# Letters the base fonts lack and Unicode does not decompose into one they have.
_TRANSLITERATIONS = str.maketrans({"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "ı": "i", "Ħ": "H", "ħ": "h"})


@dataclass(frozen=True)
class SheetLayout:
    """A sheet of label stock: the page and the grid of labels on it, in millimetres."""

    page_width: float
    page_height: float
    columns: int
    rows: int
    label_width: float
    label_height: float
    left: float = 0
    top: float = 0
    column_gap: float = 0
    row_gap: float = 0
    padding: float = 4  # text keeps off the edge: office printers do not print there
    qr_side: float = 26  # the QR code's square, its quiet zone included
    qr_margin: float = 1.5  # the quiet zone may reach into the padding, not off the label

    @property
    def per_sheet(self) -> int:
        return self.columns * self.rows

    def label_origin(self, position: int) -> tuple[float, float]:
        """The bottom-left corner (points from the page's bottom left) of the label at
        ``position``, counted from 0 row by row from the top left, as people count them."""
        row, column = divmod(position, self.columns)
        x = self.left + column * (self.label_width + self.column_gap)
        top = self.top + row * (self.label_height + self.row_gap)
        return x * mm, (self.page_height - top - self.label_height) * mm


# A4 with 3 × 8 labels of 70 × 37 mm, edge to edge (e.g. Avery 3474, common "etiketter 70x37").
A4_70X37 = SheetLayout(page_width=210, page_height=297, columns=3, rows=8, label_width=70, label_height=37,
                       top=0.5)


@dataclass(frozen=True)
class ListingLabel:
    """One listing to label (the caller has found it and checked who may print it)."""

    listing_id: int
    title: str
    inventory_number: str
    url: str  # the absolute address of the listing: what the QR code holds
    copies: int = 1


@dataclass(frozen=True)
class Captions:
    """The words printed beside the values, in the language of whoever prints."""

    inventory_number: str = "Inv.nr"
    listing_number: str = "Annons nr"


@dataclass(frozen=True)
class LabelContent:
    """What one label shows, fitted to the label."""

    url: str
    title_lines: tuple[str, ...]
    inventory_line: str  # empty when the listing has no inventory number
    municipality_line: str
    number_line: str


def printable(text: str) -> str:
    """``text`` in the base fonts' character set: a letter they lack loses its accent
    (ő → o) or becomes "?", never a black box."""
    text = unicodedata.normalize("NFC", " ".join(text.split())).translate(_TRANSLITERATIONS)
    out = []
    for char in text:
        if _encodable(char):
            out.append(char)
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        out.append(base if base and all(_encodable(c) for c in base) else "?")
    return "".join(out)


def _encodable(char: str) -> bool:
    try:
        char.encode("cp1252")  # the base fonts' WinAnsiEncoding
    except UnicodeEncodeError:
        return False
    return True


def _fit(text: str, font: str, size: float, width: float) -> str:
    """``text`` cut with an ellipsis where it is wider than ``width``."""
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def wrap(text: str, font: str, size: float, width: float, max_lines: int) -> tuple[str, ...]:
    """Break ``text`` into at most ``max_lines`` lines of ``width``: words too long for a line
    are split, and the last line takes the rest, cut with an ellipsis where it does not fit."""
    lines: list[str] = []
    words = text.split()
    current = ""
    while words:
        if len(lines) == max_lines - 1:
            return (*lines, _fit(" ".join(words), font, size, width))
        word = words.pop(0)
        candidate = f"{current} {word}" if current else word
        if stringWidth(candidate, font, size) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
            words.insert(0, word)
        else:  # one word wider than the line
            cut = max([n for n in range(1, len(word)) if stringWidth(word[:n], font, size) <= width] or [1])
            lines.append(word[:cut])
            words.insert(0, word[cut:])
        current = ""
    return (*lines, current) if current else tuple(lines)


def _text_left(layout: SheetLayout) -> float:
    """Where the text starts, from the label's left edge (points): right of the QR code's
    quiet zone, which is white already."""
    return (layout.qr_margin + layout.qr_side) * mm


def _text_width(layout: SheetLayout) -> float:
    return (layout.label_width - layout.padding) * mm - _text_left(layout)


def label_content(label: ListingLabel, *, municipality: str, captions: Captions = Captions(),
                  layout: SheetLayout = A4_70X37) -> LabelContent:
    """What the label of ``label`` shows, each line fitted to the space beside the QR code."""
    width = _text_width(layout)
    inventory = printable(label.inventory_number)
    return LabelContent(
        url=label.url,
        title_lines=wrap(printable(label.title), TITLE_FONT, TITLE_SIZE, width, TITLE_LINES),
        inventory_line=_fit(f"{printable(captions.inventory_number)} {inventory}", INVENTORY_FONT, INVENTORY_SIZE,
                            width) if inventory else "",
        municipality_line=_fit(printable(municipality), SMALL_FONT, SMALL_SIZE, width),
        number_line=_fit(f"{printable(captions.listing_number)} {label.listing_id}", SMALL_FONT, SMALL_SIZE, width),
    )


def qr_matrix(url: str) -> tuple[bytearray, ...]:
    """The QR code's modules (rows from the top; 1 is dark), without the quiet zone.

    Error correction M at least, raised to Q or H where that fits the same size: a scuffed
    label on a chair leg should still scan.
    """
    return tuple(segno.make(url, error="m", boost_error=True, micro=False).matrix)


def total_labels(labels: Sequence[ListingLabel]) -> int:
    return sum(label.copies for label in labels)


def render(labels: Sequence[ListingLabel], *, municipality: str, captions: Captions = Captions(),
           start: int = 1, layout: SheetLayout = A4_70X37, title: str = "") -> bytes:
    """A PDF of ``labels`` (each as many times as its copies) on sheets of ``layout``, the first
    at label number ``start`` (from 1) so a partly used sheet can be used up."""
    if not 1 <= start <= layout.per_sheet:
        raise DomainError(N_("Choose a label from 1 to %(last)d."), field="start", last=layout.per_sheet)
    count = total_labels(labels)
    if count < 1:
        raise DomainError(N_("Choose at least one listing to print labels for."))
    if count > MAX_LABELS:
        raise DomainError(N_("That makes %(count)d labels; print at most %(max)d at a time."), field="copies",
                          count=count, max=MAX_LABELS)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(layout.page_width * mm, layout.page_height * mm), pageCompression=1)
    canvas.setTitle(title)
    canvas.setAuthor(printable(municipality))
    canvas.setCreator("Delningstjänsten")
    page = 0
    for slot, label in enumerate(_each_copy(labels), start=start - 1):
        sheet, position = divmod(slot, layout.per_sheet)
        if sheet > page:
            canvas.showPage()
            page = sheet
        content = label_content(label, municipality=municipality, captions=captions, layout=layout)
        _draw_label(canvas, content, layout, *layout.label_origin(position))
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _each_copy(labels: Sequence[ListingLabel]) -> Iterator[ListingLabel]:
    for label in labels:
        for _ in range(label.copies):
            yield label


def _draw_label(canvas: Canvas, content: LabelContent, layout: SheetLayout, x: float, y: float) -> None:
    padding = layout.padding * mm
    qr_bottom = y + (layout.label_height - layout.qr_side) / 2 * mm
    draw_qr(canvas, qr_matrix(content.url), x + layout.qr_margin * mm, qr_bottom, layout.qr_side * mm)

    text_x = x + _text_left(layout)
    top = y + layout.label_height * mm - padding
    canvas.setFont(TITLE_FONT, TITLE_SIZE)
    for n, line in enumerate(content.title_lines):
        canvas.drawString(text_x, top - TITLE_SIZE - n * TITLE_LEADING, line)

    # From the bottom up: the listing's number, the municipality, the inventory number.
    baseline = y + padding + 1
    canvas.setFont(SMALL_FONT, SMALL_SIZE)
    canvas.drawString(text_x, baseline, content.number_line)
    baseline += SMALL_SIZE + 2
    canvas.drawString(text_x, baseline, content.municipality_line)
    if content.inventory_line:
        canvas.setFont(INVENTORY_FONT, INVENTORY_SIZE)
        canvas.drawString(text_x, baseline + SMALL_SIZE + 3, content.inventory_line)


def draw_qr(canvas: Canvas, matrix: Sequence[bytearray], x: float, y: float, side: float) -> None:
    """The code in a square of ``side`` at (x, y), its quiet zone inside the square. Each run
    of dark modules in a row is one rectangle of one path: small files, no seams within a row."""
    module = side / (len(matrix) + 2 * QR_QUIET_ZONE)
    left = x + QR_QUIET_ZONE * module
    top = y + side - QR_QUIET_ZONE * module
    path = canvas.beginPath()
    for row_index, row in enumerate(matrix):
        row_y = top - (row_index + 1) * module
        column = 0
        while column < len(row):
            if not row[column]:
                column += 1
                continue
            run_start = column
            while column < len(row) and row[column]:
                column += 1
            path.rect(left + run_start * module, row_y, (column - run_start) * module, module)
    canvas.setFillColorRGB(0, 0, 0)
    canvas.drawPath(path, stroke=0, fill=1)
