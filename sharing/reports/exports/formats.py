"""The files: CSV and XLSX of every entry, streamed (a batch of rows at a time; XlsxWriter's
constant-memory workbook keeps its rows in a temporary file), and the PDF report with the charts.
Each takes the names and labels in the reader's language from its caller."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

import xlsxwriter
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlmodel import Session

from sharing.exports import safe_cell, safe_row
from sharing.reports.dashboard.rules import Figures, Selection, Totals, by_year, shown_by_year
from sharing.reports.exports.rules import (
    RunningTotals,
    entry_rows,
    factors_used,
    ghg_note,
    kg,
    nearest,
    row_values,
    sek,
    total_values,
)
from sharing.reports.labels import (
    WEIGHT_ESTIMATE,
    headers,
    month_day,
    own_source,
    period,
    report_title,
    selection_lines,
    shown_source,
    transport_source,
    whole,
)
from sharing.reports.ledger.rules import WEIGHT_ESTIMATE_G_PER_KG
from sharing.reports.names import Names


def methodology_lines(loan_min_days: int, displacement_rate: float) -> list[str]:
    """How it is counted, in the language in force (the note on avoided emissions too)."""
    return [
        ghg_note(str(get_locale())),
        _("What counts as reuse: take-overs once handed over, both sides of a swap, and closed loans; each event "
          "counts once."),
        _("A loan counts as a purchase avoided only when it lasted at least %(days)s days; the pieces of a shorter "
          "loan are counted apart, as pieces shared, with no purchase, emissions or waste avoided.",
          days=loan_min_days),
        _("A production figure (the impact of a new piece) is multiplied by the displacement rate %(rate)s; a "
          "published net saving per reuse is used as it stands; without a figure, the weight times 1.45 kg CO2e "
          "per kg (WRAP).", rate=format_decimal(displacement_rate)),
        _("Transport: the CO2e logistics attributes to each request is subtracted from its gross avoided "
          "emissions (net = gross - transport)."),
        _("A transport entry is counted on the day the route was driven, in the category and receiving municipality "
          "of the request it served; the reuse itself is counted when it is completed (a take-over once handed over, "
          "a loan once it is closed). So a month or a category can show transport before its pieces, and the "
          "transport of a loan shorter than %(days)s days stays with the pieces shared, which avoid nothing: its "
          "net CO2e is negative.", days=loan_min_days),
        _("Money is kept in öre and mass in grams: totals are the exact sums of the entries."),
    ]


@dataclass(frozen=True)
class CsvStyle:
    """How a spreadsheet program in the reader's language reads a CSV file: Excel in Swedish
    takes the semicolon as the separator, as the comma is its decimal mark."""

    delimiter: str
    decimal_mark: str


CSV_STYLES = {"sv": CsvStyle(";", ","), "en": CsvStyle(",", ".")}


def csv_style(language: str) -> CsvStyle:
    return CSV_STYLES.get(language, CSV_STYLES["en"])


def _csv_text(value: Any, style: CsvStyle) -> Any:
    """A cell as CSV text the reader's spreadsheet reads back: exact amounts with the language's
    decimal mark (no thousands separator), truth values as words."""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, Decimal):
        return format(value, "f").replace(".", style.decimal_mark)
    return value


def csv_chunks(session: Session, selection: Selection, names: Names, kind_labels: dict[str, str],
               factor_kind_labels: dict[str, str] | None = None) -> Iterator[str]:
    """The CSV in the language in force, a batch of lines at a time: UTF-8 with a byte order mark
    (else Excel reads it as the system's code page), headers, truth values and the note in that
    language, and its separator and decimal mark (``CsvStyle``). The last rows are the totals and
    the note."""
    language = str(get_locale())
    style = csv_style(language)
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=style.delimiter)
    writer.writerow(headers())
    running = RunningTotals()
    for n, entry in enumerate(entry_rows(session, selection), 1):
        running.add(entry)
        writer.writerow([_csv_text(value, style)
                         for value in row_values(entry, names, kind_labels, factor_kind_label=factor_kind_labels,
                                                  source_label=shown_source)])
        if n % 1000 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    writer.writerow([_csv_text(value, style) for value in total_values(running.totals(), _("Total"))])
    writer.writerow(safe_row([ghg_note(language)]))
    # What the file is of, last: the first row stays the header, as programs that read it want.
    writer.writerow(safe_row([report_title(selection, names), period(selection),
                              *(f"{label}: {value}" for label, value in selection_lines(selection, names))]))
    yield buffer.getvalue()


class _Sheet:
    """A worksheet written a row at a time, top to bottom (as constant-memory mode wants)."""

    def __init__(self, book: xlsxwriter.Workbook, name: str) -> None:
        self.sheet = book.add_worksheet(name)
        self.row = 0

    def append(self, values: list[Any]) -> None:
        self.sheet.write_row(self.row, 0, values)
        self.row += 1


def write_xlsx(out: IO[bytes], session: Session, selection: Selection, names: Names, kind_labels: dict[str, str],
               *, methodology: list[str], factor_kind_labels: dict[str, str]) -> Totals:
    """The workbook: the entries (with a totals row), the summary, the methodology and the factor table used.
    XlsxWriter's constant-memory mode writes each row to a temporary file once the next one starts."""
    book = xlsxwriter.Workbook(out, {
        "constant_memory": True, "default_date_format": "yyyy-mm-dd",
        # Text stays text: never read as a formula, a link or a number (safe_cell marks it as well).
        "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False})
    entries = _Sheet(book, _("Entries"))
    entries.append(headers())
    running = RunningTotals()
    for entry in entry_rows(session, selection):
        running.add(entry)
        entries.append(row_values(entry, names, kind_labels, nearest, factor_kind_labels, shown_source))
    totals = running.totals()
    entries.append(total_values(totals, _("Total")))
    summary = _Sheet(book, _("Summary"))
    summary.append(safe_row([report_title(selection, names)]))
    summary.append(safe_row([_("Period"), selection.first_day.isoformat(), selection.last_day.isoformat()]))
    for what, which in selection_lines(selection, names):
        summary.append(safe_row([what, which]))
    for label, value in ((_("Pieces reused"), totals.pieces),
                         (_("Pieces shared on short loans"), totals.shared_pieces),
                         (_("Waste avoided (kg)"), kg(totals.waste_avoided_g)),
                         (_("Purchases avoided (SEK)"), sek(totals.purchase_avoided_sek_ore)),
                         (_("Gross CO2e (kg)"), kg(totals.co2e_avoided_g)),
                         (_("Transport CO2e (kg)"), kg(totals.transport_co2e_g)),
                         (_("Net CO2e (kg)"), kg(totals.net_co2e_g)), (_("Entries"), totals.entries)):
        summary.append([safe_cell(label), value])
    summary.append([safe_cell(ghg_note(str(get_locale())))])
    sheet = _Sheet(book, _("Methodology"))
    for line in methodology:
        sheet.append([safe_cell(line)])
    factors = _Sheet(book, _("Factors"))
    factors.append(safe_row([_("Factor"), _("Category"), _("Version"), _("Valid from"), _("Weight (kg)"),
                             _("New price (SEK)"), _("CO2e of one piece (kg)"), _("CO2e figure of"), _("Source")]))
    for factor in factors_used(session, running.factor_ids):
        factors.append(safe_row([factor.id, names.category(factor.category_id), factor.version,
                                 factor.valid_from.date(), factor.weight_kg, factor.new_price_sek,
                                 factor.co2e_new_kg, factor_kind_labels.get(factor.co2e_kind or "", ""),
                                 factor.source]))
    # And those of the ledger's own: a transport's kg per km (as its entries' figures give it), the
    # estimate by weight.
    driven = {(transport_source(own_source(source))[0], figure, exact)  # however a route's CO2e was shared out
              for source, figures in running.transport_factors.items() for figure, exact in figures}
    others = [[_("Transport"), figure, _("kg CO2e per km") if exact else _("kg CO2e per km (its CO2e over its km)"),
               source] for source, figure, exact in sorted(driven)]
    if running.estimated_by_weight:
        others.append([_("Estimate by weight"), WEIGHT_ESTIMATE_G_PER_KG / 1000, _("kg CO2e per kg reused"),
                       str(WEIGHT_ESTIMATE)])
    if others:
        factors.append([])
        factors.append(safe_row([_("Other factors"), _("Figure"), _("Unit"), _("Source")]))
        for values in others:
            factors.append([safe_cell(values[0]), values[1], safe_cell(values[2]), safe_cell(values[3])])
    book.close()
    return totals


# A chart is one drawing, never split across pages: a long period is drawn by year
# (rules.shown_by_year), and no chart is drawn higher than its page takes.
CHART_MAX_HEIGHT = 560
PDF_WIDTH = A4[0] - 2 * 72  # between SimpleDocTemplate's margins of an inch


def _bars(title: str, labels: list[str], values: list[float]) -> Drawing:
    height = min(max(len(values), 1) * 16 + 40, CHART_MAX_HEIGHT)
    drawing = Drawing(16 * cm, height)
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = int(4 * cm), 20, int(11 * cm), height - 30
    chart.data = [values or [0]]
    chart.categoryAxis.categoryNames = labels or [""]
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontSize = 7
    chart.bars[0].fillColor = colors.HexColor("#0b5c3b")
    chart.valueAxis.valueMin = min([0.0, *values])
    drawing.add(chart)
    drawing.setProperties({"title": title})
    return drawing


def transport_note(loan_min_days: int) -> str:
    """Why a row can show transport but no pieces reused (the dashboard says it alike)."""
    return _("A row can show transport CO2e without pieces reused: a transport is counted on the day it was driven, "
             "the reuse it served once it is completed (a loan once it is closed), and a loan shorter than %(days)s "
             "days avoids nothing to net it from.", days=loan_min_days)


def write_pdf(out: IO[bytes], figures: Figures, names: Names, *, methodology: list[str], loan_min_days: int) -> None:
    """The report: its title naming the selection, the period and each filter, the totals, the
    charts with their tables, the methodology."""
    styles = getSampleStyleSheet()
    totals = figures.totals
    selection = figures.selection
    title = report_title(selection, names)
    story: list[Any] = [Paragraph(_escape(title), styles["Title"]),
                        Paragraph(_escape(f"{_('Period')}: {period(selection)}"), styles["Normal"])]
    story += [Paragraph(_escape(f"{label}: {value}"), styles["Normal"])
              for label, value in selection_lines(selection, names)]
    story.append(Spacer(1, 8))

    cell_style = ParagraphStyle("cell", parent=styles["Normal"], fontSize=8, leading=9)

    def table(rows: list[list[Any]]) -> Table:
        if len(rows[0]) > 2:  # cells wrap in columns sharing the page's width, however long a name or header
            rows = [[Paragraph(_escape(str(cell)), cell_style) for cell in row] for row in rows]
            made = Table(rows, repeatRows=1, colWidths=[PDF_WIDTH / len(rows[0])] * len(rows[0]))
        else:
            made = Table(rows, repeatRows=1)
        made.setStyle(TableStyle([("FONTSIZE", (0, 0), (-1, -1), 8), ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                                  ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef5f1"))]))
        return made

    story.append(table([[_("Measure"), _("Value")],
                        [_("Pieces reused"), _format(totals.pieces)],
                        [_("Pieces shared on short loans"), _format(totals.shared_pieces)],
                        [_("Waste avoided (kg)"), _whole(totals.waste_avoided_g, 1000)],
                        [_("Purchases avoided (SEK)"), _whole(totals.purchase_avoided_sek_ore, 100)],
                        [_("Gross CO2e (kg)"), _whole(totals.co2e_avoided_g, 1000)],
                        [_("Transport CO2e (kg)"), _whole(totals.transport_co2e_g, 1000)],
                        [_("Net CO2e (kg)"), _whole(totals.net_co2e_g, 1000)]]))
    language = str(get_locale())
    # The tables by period and by category show what the dashboard's do, the flows what theirs do.
    pieces_headers = [_("Pieces reused"), _("Pieces shared on short loans"), _("Waste avoided (kg)")]
    rounded = _("Kilograms and kronor are shown rounded to whole numbers on the page and in the PDF report; the "
                "CSV and XLSX hold the exact figures of every entry.")
    story += [Spacer(1, 6), Paragraph(ghg_note(language), styles["Italic"]),
              Paragraph(_escape(rounded), styles["Italic"]), Spacer(1, 10)]
    if shown_by_year(figures):
        heading, label = _("Net CO2e avoided by year (kg)"), _("Year")
        periods = [(str(year), totals) for year, totals in by_year(figures.months)]
    else:
        heading, label = _("Net CO2e avoided by month (kg)"), _("Month")
        periods = [(month_day(month), totals) for month, totals in figures.months]
    story += [Paragraph(heading, styles["Heading2"]),
              _bars(heading, [p for p, _t in periods], [float(kg(t.net_co2e_g)) for _p, t in periods]),
              table([[label, *pieces_headers, _("Purchases avoided (SEK)"), _("Transport CO2e (kg)"),
                      _("Net CO2e (kg)")]]
                    + [[period, *_pieces(t), _whole(t.purchase_avoided_sek_ore, 100),
                        _whole(t.transport_co2e_g, 1000), _whole(t.net_co2e_g, 1000)] for period, t in periods])]
    categories = [(names.category(c), float(kg(t.net_co2e_g))) for c, t in figures.categories]
    story += [Paragraph(_("Top categories by net CO2e avoided (kg)"), styles["Heading2"]),
              _bars(_("Top categories by net CO2e avoided (kg)"), [c for c, _v in categories][::-1],
                    [v for _c, v in categories][::-1]),
              table([[_("Category"), *pieces_headers, _("Purchases avoided (SEK)"), _("Transport CO2e (kg)"),
                      _("Net CO2e (kg)")]]
                    + [[names.category(c), *_pieces(t), _whole(t.purchase_avoided_sek_ore, 100),
                        _whole(t.transport_co2e_g, 1000), _whole(t.net_co2e_g, 1000)] for c, t in figures.categories])]
    story += [Paragraph(_("Flows between municipalities (pieces)"), styles["Heading2"]),
              table([[_("From"), _("To"), *pieces_headers, _("Transport CO2e (kg)"), _("Net CO2e (kg)")]]
                    + [[names.municipality(a), names.municipality(b), *_pieces(t), _whole(t.transport_co2e_g, 1000),
                        _whole(t.net_co2e_g, 1000)] for a, b, t in figures.flows])]
    if any(t.transport_only for t in [*(t for _p, t in periods), *(t for _c, t in figures.categories),
                                      *(t for _a, _b, t in figures.flows)]):
        story += [Spacer(1, 4), Paragraph(_escape(transport_note(loan_min_days)), styles["Italic"])]
    story += [Paragraph(_("How it is counted"), styles["Heading2"])]
    story += [Paragraph(_escape(line), styles["Normal"]) for line in methodology]
    SimpleDocTemplate(out, pagesize=A4, title=f"{title}, {period(selection)}", lang=language).build(story)


def _pieces(totals: Totals) -> list[str]:
    return [_format(totals.pieces), _format(totals.shared_pieces), _whole(totals.waste_avoided_g, 1000)]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _format(value: int) -> str:
    """A whole number as the page shows it, in the language in force (1 234 in Swedish, 1,234 in English)."""
    return format_decimal(value, "#,##0").replace("\u2212", "-")  # Swedish minus: not in the standard PDF fonts


def _whole(amount: int, scale: int) -> str:
    """Grams or öre as whole kilograms or kronor, as the page shows them (the CSV and XLSX are exact)."""
    return _format(whole(amount, scale))

