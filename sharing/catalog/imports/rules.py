"""Bulk import of listings: reading a CSV or XLSX inventory, checking every row with the
listing rules before anything is written, and running a confirmed import all or nothing.

The file speaks Swedish (headers such as Rubrik, Kategori, Skick; English aliases work too).
Every row becomes a ``ListingDetails`` and is checked by the same ``listings.problems`` as a listing
entered by hand; at run time ``listings.save_listing`` checks each again, so a row that became
invalid after the preview (a site closed, say) fails the whole import instead of half of it.

No Flask here: the words that depend on the interface's language (the condition and
visibility labels) come in through a ``Vocabulary`` the caller builds.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
import re
import time
import unicodedata
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlmodel import Session, col

from sharing.accounts.models import Actor, Role, Site, User
from sharing.catalog import events
from sharing.catalog.categories.models import MAX_VOLUME_M3, MAX_WEIGHT_KG, Category, ResourceKind
from sharing.catalog.categories.rules import category_tree
from sharing.catalog.imports.models import ImportStatus, ListingImport
from sharing.catalog.listings import rules as listings
from sharing.catalog.listings import search
from sharing.catalog.listings.models import (
    MAX_LOAN_DAYS,
    MAX_QUANTITY,
    MAX_SIZE_CM,
    Condition,
    Listing,
    ListingDetails,
    ListingStatus,
    Visibility,
)
from sharing.errors import DomainError, Figure, NotVisible, problems_of
from sharing.events import record
from sharing.exports import from_safe_cell, safe_cell, safe_row
from sharing.i18n import N_
from sharing.typed import id_of

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5_000  # listings in one file
MAX_COLUMNS = 60
# An XLSX file is a zip archive: a few kilobytes can unpack to gigabytes (a "zip bomb").
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_ZIP_ENTRIES = 2_000
# A sheet is read down to this row at most: the listings and blank rows among them. Below it,
# a sheet holds only empty (say formatted) rows, which would take a worker many seconds to read.
MAX_SHEET_ROWS = 4 * MAX_ROWS
READ_SECONDS = 10.0  # a workbook that takes longer to read than this is refused, whatever it holds
# A confirmed import that is still "running" after this long was cut off (its process ended,
# say a worker recycled): the database rolled its transaction back. 5,000 rows take well under
# a minute, so ten is generous, and nobody watches "Importing..." for an hour.
RUN_TIMEOUT = timedelta(minutes=10)
PENDING_KEPT = timedelta(days=1)  # a checked file nobody confirmed is forgotten after this

# Bounds of the numbers, as the listing form has them.
QUANTITY_RANGE = (1, MAX_QUANTITY)
SIZE_RANGE = (0, MAX_SIZE_CM)
WEIGHT_RANGE = (0, MAX_WEIGHT_KG)
VOLUME_RANGE = (0, MAX_VOLUME_M3)
LOAN_DAYS_RANGE = (1, MAX_LOAN_DAYS)

OFFERS = ("lend", "give_away", "swap")
YES = frozenset({"ja", "j", "x", "yes", "y", "1", "sant", "true"})
NO = frozenset({"nej", "n", "no", "0", "falskt", "false", "-"})
PATH_SEPARATOR = " > "
_PATH_SPLIT = re.compile(r"\s*[>›»]\s*")
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d", "%Y.%m.%d")


def fold(text: str) -> str:
    """How names are compared: case and spacing are ignored."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def header_key(text: str) -> str:
    """How column headers are compared: also ignoring accents, a unit in brackets and a required
    column's *, so "Höjd (cm)", "hojd" and "HÖJD*" are the same column."""
    text = re.sub(r"\([^)]*\)", " ", unicodedata.normalize("NFKD", text.casefold())).replace("*", " ")
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).split())


# --- The columns --------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str  # a ListingDetails attribute, or "category" / "site"
    header: str  # Swedish, as the template writes it
    aliases: tuple[str, ...] = ()
    required: bool = False
    example: str = ""


COLUMNS = (
    Column("title", "Rubrik", ("titel", "benämning", "title", "name"), required=True,
           example="Kontorsstol, svart, med armstöd"),
    Column("description", "Beskrivning", ("description",), example="Ställbar sitthöjd, tyget helt."),
    Column("category", "Kategori", ("category",), required=True),
    Column("condition", "Skick", ("condition",)),
    Column("quantity", "Antal", ("antal st", "quantity", "count"), example="12"),
    Column("site", "Plats", ("fastighet", "site", "location"), required=True),
    Column("width_cm", "Bredd (cm)", ("width",), example="65"),
    Column("depth_cm", "Djup (cm)", ("depth",), example="60"),
    Column("height_cm", "Höjd (cm)", ("height",), example="110"),
    Column("weight_kg", "Vikt (kg)", ("weight",), example="14,5"),
    Column("volume_m3", "Volym (m3)", ("volume",), example="0,4"),
    Column("inventory_number", "Inventarienummer", ("inventarienr", "inventory number"), example="INV-1042"),
    Column("lend", "Utlåning", ("utlån", "lån", "lend", "loan"), example="ja"),
    Column("give_away", "Överlåtelse", ("give away", "give_away", "transfer"), example="ja"),
    Column("swap", "Byte", ("swap",), example="nej"),
    Column("loan_min_days", "Kortaste lån (dagar)", ("shortest loan", "loan min days"), example="7"),
    Column("loan_max_days", "Längsta lån (dagar)", ("longest loan", "loan max days"), example="90"),
    Column("visibility", "Synlighet", ("visibility",)),
    Column("available_from", "Tillgänglig från", ("available from",)),
)
COLUMN_BY_KEY = {column.key: column for column in COLUMNS}
_COLUMN_BY_NAME = {header_key(name): column
                   for column in COLUMNS for name in (column.header, column.key, *column.aliases)}
# Where a listing rule's refusal points (ListingDetails field) -> the column to blame.
_COLUMN_OF_FIELD = {"category_id": "category", "site_id": "site", "contact_user_id": ""}


# --- What names a file may use ---------------------------------------------------------


@dataclass
class Vocabulary:
    """The names a file may use for categories, sites, conditions and visibility, each folded
    (see ``fold``) -> its value; None marks a name that fits more than one."""

    categories: dict[str, int | None]
    category_kinds: dict[int, ResourceKind]
    category_paths: dict[int, str]  # for the template and the preview: "Möbler > Sittmöbler > Kontorsstol"
    sites: dict[str, int | None]
    site_names: dict[int, str]
    conditions: dict[str, Condition | None]
    condition_names: dict[Condition, str]  # the first label given: what the template writes
    visibilities: dict[str, Visibility | None]
    visibility_names: dict[Visibility, str]


def _add_name(names: dict[str, Any], name: str, value: Any) -> None:
    key = fold(name)
    if not key:
        return
    if key in names and names[key] != value:
        names[key] = None  # ambiguous: the file must say more
    else:
        names[key] = value


def vocabulary(
    session: Session, *, municipality_id: int,
    condition_labels: Mapping[Condition, Sequence[str]], visibility_labels: Mapping[Visibility, Sequence[str]],
) -> Vocabulary:
    """What a municipality's file may name: every category (by name, or by its path or the end of
    it, in Swedish or English), the municipality's active sites, and the conditions and visibility
    by their labels (the first label of each is the one the template writes) or their codes."""
    nodes = category_tree(session)
    categories: dict[str, int | None] = {}
    by_id = {id_of(node.category): node for node in nodes}
    english_path: dict[int, tuple[str, ...]] = {}
    for node in nodes:
        parent = node.category.parent_id
        english_path[id_of(node.category)] = (*(english_path.get(parent, ()) if parent is not None else ()),
                                               node.category.name_en)
    for node in nodes:
        for path in (node.path, english_path[id_of(node.category)]):
            for start in range(len(path)):  # "Kontorsstol", "Sittmöbler > Kontorsstol", the whole path
                _add_name(categories, PATH_SEPARATOR.join(path[start:]), node.category.id)
    sites: dict[str, int | None] = {}
    site_names: dict[int, str] = {}
    for site in session.scalars(select(Site).where(col(Site.municipality_id) == municipality_id, col(Site.active))
                                .order_by(Site.name)):
        site_names[id_of(site)] = site.name
        _add_name(sites, site.name, site.id)
        _add_name(sites, f"{site.name}, {site.locality}", site.id)
    conditions: dict[str, Condition | None] = {}
    for condition in Condition:
        for label in (*condition_labels.get(condition, ()), condition.value):
            _add_name(conditions, label, condition)
            _add_name(conditions, label.split(",")[0], condition)  # "Bra" for "Bra, bruksspår"
    visibilities: dict[str, Visibility | None] = {}
    for visibility in Visibility:
        for label in (*visibility_labels.get(visibility, ()), visibility.value):
            _add_name(visibilities, label, visibility)
    return Vocabulary(
        categories=categories, category_kinds={i: ResourceKind(n.category.kind) for i, n in by_id.items()},
        category_paths={i: PATH_SEPARATOR.join(n.path) for i, n in by_id.items()},
        sites=sites, site_names=site_names, conditions=conditions,
        condition_names={c: (condition_labels.get(c) or (c.value,))[0] for c in Condition},
        visibilities=visibilities,
        visibility_names={v: (visibility_labels.get(v) or (v.value,))[0] for v in Visibility},
    )


# --- Reading the file -------------------------------------------------------------------


@dataclass
class Table:
    """A file's header and its non-empty rows, each with its row number as the spreadsheet shows it."""

    header: list[str]
    rows: list[tuple[int, list[Any]]]


def read_table(file_name: str, data: bytes) -> Table:
    """The rows of a CSV or XLSX file; refuses other files, and files too large or too long."""
    if len(data) > MAX_FILE_BYTES:
        raise DomainError(N_("The file is larger than %(max)s MB."), field="file", max=Figure(MAX_FILE_BYTES // 2**20))
    if not data.strip():
        raise DomainError(N_("The file is empty."), field="file")
    extension = file_name.rsplit(".", 1)[-1].casefold() if "." in file_name else ""
    if data.startswith(b"PK\x03\x04"):
        if extension not in ("xlsx", ""):
            raise _wrong_type()
        rows: Iterable[tuple[int, list[Any]]] = _xlsx_rows(data)
    elif data.startswith(b"\xd0\xcf\x11\xe0") or extension in ("xls", "xlsm", "xlsb", "ods", "numbers"):
        raise _wrong_type()  # the old binary Excel format, macro workbooks and other spreadsheets
    elif extension in ("csv", "txt", "") and (data.startswith(_UTF16_BOMS) or b"\x00" not in data[:4096]):
        rows = _csv_rows(data)
    else:
        raise _wrong_type()
    return _table(rows)


def _wrong_type() -> DomainError:
    return DomainError(N_("Upload an Excel workbook (.xlsx) or a CSV file. Save other spreadsheets in one of "
                          "those formats first (files with macros cannot be imported)."), field="file")


def _table(rows: Iterable[tuple[int, list[Any]]]) -> Table:
    header: list[str] | None = None
    found: list[tuple[int, list[Any]]] = []
    for number, cells in rows:
        if all(_is_blank(cell) for cell in cells):
            continue
        if header is None:  # the first row with anything in it names the columns
            header = [_text(cell) for cell in cells[:MAX_COLUMNS]]
            continue
        if len(found) >= MAX_ROWS:
            raise DomainError(N_("The file has more than %(max)s listings. Split it into several files."),
                              field="file", max=Figure(MAX_ROWS))
        found.append((number, cells))
    if header is None or not found:
        raise DomainError(N_("The file has no listings: the first row names the columns, and each row "
                             "below it is one listing."), field="file")
    return Table(header, found)


_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _mostly_utf8(data: bytes) -> bool:
    """Whether a file that is not all UTF-8 is so for most of its letters beyond ASCII: in a
    Windows-1252 file nearly every å, ä and ö is a byte UTF-8 cannot read."""
    text = data.decode("utf-8", errors="replace")
    unreadable = text.count("\ufffd")
    return sum(1 for char in text if ord(char) > 127) - unreadable > unreadable


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    # Excel saves "CSV UTF-8" with a byte-order mark, plain "CSV" in Windows-1252, and
    # "Unicode text" (tab-separated) in UTF-16 with a byte-order mark.
    unreadable = DomainError(N_("The file's characters cannot be read. Save it as “CSV UTF-8”."), field="file")
    if data.startswith(_UTF16_BOMS):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise unreadable from None
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            if _mostly_utf8(data):
                # UTF-8 but for a few bytes (pasted from elsewhere, say): read as Windows-1252, its
                # å, ä and ö would become "Ã¥", "Ã¤" and "Ã¶" in every cell, and be saved so.
                # The error's position is within the text after a byte order mark, not the file.
                body = data[len(codecs.BOM_UTF8):] if data.startswith(codecs.BOM_UTF8) else data
                line = body[:error.start].count(b"\n") + 1
                raise DomainError(N_("Line %(line)s of the file holds characters that cannot be read. Type them "
                                     "again, or save the file as “CSV UTF-8”."), field="file", line=line) from None
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError:
                raise unreadable from None
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    # Swedish Excel separates with semicolons (the comma is the decimal sign); others with commas.
    delimiter = max((";", ",", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        # One record is one spreadsheet row, even when a quoted cell spans several lines.
        for number, cells in enumerate(reader, start=1):
            yield number, cells
    except csv.Error:
        raise DomainError(N_("The CSV file cannot be read: check its quotation marks."), field="file") from None


def _check_zip(data: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise _wrong_type() from None
    with archive:
        entries = archive.infolist()
        names = {entry.filename for entry in entries}
        if len(entries) > MAX_ZIP_ENTRIES or sum(entry.file_size for entry in entries) > MAX_UNPACKED_BYTES:
            raise DomainError(N_("The workbook is too large once unpacked. Save only the listings in a new "
                                 "workbook."), field="file")
        if "xl/workbook.xml" not in names:
            raise _wrong_type()
        try:
            content_types = archive.read("[Content_Types].xml")
        except (KeyError, zipfile.BadZipFile, zlib.error, OSError):  # damaged: not a workbook we can read
            raise _wrong_type() from None
        if "xl/vbaProject.bin" in names or b"macroEnabled" in content_types:
            raise _wrong_type()


def _xlsx_rows(data: bytes) -> list[tuple[int, list[Any]]]:
    _check_zip(data)
    from openpyxl import load_workbook  # imported here: only XLSX files need it

    rows: list[tuple[int, list[Any]]] = []
    with warnings.catch_warnings():
        # openpyxl warns of Excel features it does not read (data validation extensions, say): not our concern.
        warnings.simplefilter("ignore")
        try:
            # Read-only streams the sheet instead of building it in memory; data-only gives the
            # values formulas last computed, never the formulas.
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
        except Exception:  # openpyxl raises many kinds of errors on a damaged file
            raise DomainError(N_("The workbook cannot be read. Open it in Excel and save it again as .xlsx."),
                              field="file") from None
        try:
            sheet = workbook.worksheets[0]  # the listings are on the first sheet (the template's second lists values)
            if (sheet.max_row or 0) > MAX_SHEET_ROWS:  # the sheet's own dimension: known before reading a row
                raise _too_many_sheet_rows()
            deadline = time.monotonic() + READ_SECONDS
            # Never beyond MAX_SHEET_ROWS + 1, whatever the dimension says (it may be missing or false).
            cells = sheet.iter_rows(min_row=1, max_row=MAX_SHEET_ROWS + 1, max_col=MAX_COLUMNS, values_only=True)
            for number, values in enumerate(cells, start=1):
                if number > MAX_SHEET_ROWS:
                    raise _too_many_sheet_rows()
                if time.monotonic() > deadline:
                    raise DomainError(N_("The workbook takes too long to read. Copy only the listings into a "
                                         "new workbook and upload that."), field="file")
                if any(not _is_blank(value) for value in values):
                    rows.append((number, list(values)))
                    if len(rows) > MAX_ROWS + 1:  # the header and one row too many: enough to refuse
                        break
        except DomainError:
            raise
        except Exception:
            raise DomainError(N_("The workbook cannot be read. Open it in Excel and save it again as .xlsx."),
                              field="file") from None
        finally:
            workbook.close()
    return rows


def _too_many_sheet_rows() -> DomainError:
    return DomainError(N_("The sheet reaches beyond row %(max)s. Delete the empty rows below your listings "
                          "(or copy the listings into a new workbook) and upload it again."),
                       field="file", max=Figure(MAX_SHEET_ROWS))


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    """A cell as text: numbers without a needless ".0" (inventory numbers are often numbers)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nej"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return from_safe_cell(str(value).strip())  # a name as our template wrote it


# --- Checking the rows --------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """One problem of one row: the message is English, marked for translation, with its parameters."""

    row: int
    column: str  # the header as the file writes it; empty for the row as a whole
    message: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class CheckedRow:
    row: int
    details: ListingDetails | None
    errors: list[RowError]
    category: str = ""  # the category's path and the site's name, for the preview
    site: str = ""


@dataclass
class Preview:
    rows: list[CheckedRow]
    ignored_columns: list[str]

    @property
    def errors(self) -> list[RowError]:
        return [error for row in self.rows for error in row.errors]

    @property
    def rows_with_errors(self) -> int:
        return sum(1 for row in self.rows if row.errors)

    @property
    def ok(self) -> bool:
        return not self.errors


class _CellError(Exception):
    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message, self.params = message, params


def check_file(session: Session, *, file_name: str, data: bytes, vocabulary: Vocabulary, by: Actor) -> Preview:
    """Read the file and check each row as the listing rules would: writes nothing."""
    table = read_table(file_name, data)
    positions: dict[str, int] = {}
    ignored: list[str] = []
    for position, name in enumerate(table.header):
        column = _COLUMN_BY_NAME.get(header_key(name))
        if column is None:
            if name:
                ignored.append(name)
        elif column.key in positions:
            raise DomainError(N_("The column “%(column)s” appears twice."), field="file", column=name)
        else:
            positions[column.key] = position
    missing = [c.header for c in COLUMNS if c.required and c.key not in positions]
    if missing:
        raise DomainError(N_("The file has no column %(columns)s. Download the template to see the columns."),
                          field="file", columns=", ".join(missing))
    headers = {key: table.header[position] for key, position in positions.items()}
    _held = _hold_names(session, by.municipality_id)  # kept alive while the rows are checked
    rows = []
    for number, cells in table.rows:
        values = {key: cells[position] if position < len(cells) else None for key, position in positions.items()}
        row = _check_row(session, number, values, headers, vocabulary, by)
        row.errors.sort(key=lambda error: table.header.index(error.column) if error.column in table.header else 0)
        rows.append(row)
    return Preview(rows=rows, ignored_columns=ignored)


def _hold_names(session: Session, municipality_id: int) -> list[object]:
    """Load every category and the municipality's sites at once, for the caller to hold: the
    session's identity map keeps only the objects someone holds, and the listing rules would
    otherwise load them again for every row."""
    return [*session.scalars(select(Category)), *session.scalars(
        select(Site).where(col(Site.municipality_id) == municipality_id))]


def _check_row(session: Session, number: int, values: dict[str, Any], headers: dict[str, str],
               vocabulary: Vocabulary, by: Actor) -> CheckedRow:
    errors: list[RowError] = []
    parsed: dict[str, Any] = {}

    def cell(key: str, parse: Callable[[Any], Any]) -> None:
        value = values.get(key)
        if isinstance(value, str) and "\x00" in value:  # the database cannot keep it (PostgreSQL refuses it)
            errors.append(RowError(number, headers[key], N_("The cell holds an invisible NUL character, which "
                                                            "cannot be saved. Type the text in the cell again.")))
            return
        if _is_blank(value):
            if COLUMN_BY_KEY[key].required:
                errors.append(RowError(number, headers.get(key, COLUMN_BY_KEY[key].header),
                                       N_("Fill in this column.")))
            return
        try:
            parsed[key] = parse(value)
        except _CellError as error:
            errors.append(RowError(number, headers[key], error.message, error.params))

    def text(max_length: int, *, lines: bool = False) -> Callable[[Any], str]:
        def parse(value: Any) -> str:
            result = _text(value) if lines else " ".join(_text(value).split())
            if len(result) > max_length:
                raise _CellError(N_("At most %(max)s characters."), max=max_length)
            return result
        return parse

    def lookup(names: Mapping[str, Any], unknown: str, ambiguous: str) -> Callable[[Any], Any]:
        def parse(value: Any) -> Any:
            key = PATH_SEPARATOR.join(_PATH_SPLIT.split(fold(_text(value))))
            if key not in names:
                raise _CellError(unknown, value=_text(value))
            if names[key] is None:
                raise _CellError(ambiguous, value=_text(value))
            return names[key]
        return parse

    lengths = Listing.__table__.c  # type: ignore[attr-defined]  # SQLModel does not declare __table__
    cell("title", text(lengths.title.type.length))
    cell("description", text(lengths.description.type.length, lines=True))
    cell("inventory_number", text(lengths.inventory_number.type.length))
    cell("category", lookup(vocabulary.categories,
                            N_("Unknown category “%(value)s”: use one of the categories the template lists."),
                            N_("Several categories are called “%(value)s”: write its path, such as "
                               "“Möbler > Sittmöbler > Kontorsstol”.")))
    cell("site", lookup(vocabulary.sites,
                        N_("Unknown site “%(value)s”: use the name of one of your municipality's sites."),
                        N_("Several sites are called “%(value)s”: add the locality after a comma.")))
    cell("condition", lookup(vocabulary.conditions,
                             N_("Unknown condition “%(value)s”: use one of the conditions the template lists."),
                             N_("Unknown condition “%(value)s”: use one of the conditions the template lists.")))
    cell("visibility", lookup(vocabulary.visibilities,
                              N_("Unknown visibility “%(value)s”: use one of those the template lists."),
                              N_("Unknown visibility “%(value)s”: use one of those the template lists.")))
    cell("quantity", _whole(*QUANTITY_RANGE))
    for key in ("width_cm", "depth_cm", "height_cm"):
        cell(key, _whole(*SIZE_RANGE))
    cell("weight_kg", _decimal(*WEIGHT_RANGE))
    cell("volume_m3", _decimal(*VOLUME_RANGE))
    for key in ("loan_min_days", "loan_max_days"):
        cell(key, _whole(*LOAN_DAYS_RANGE))
    for key in OFFERS:
        cell(key, _yes_no)
    cell("available_from", _date)
    if errors:
        return CheckedRow(number, None, errors)

    category_id, site_id = parsed.pop("category"), parsed.pop("site")
    details = ListingDetails(kind=vocabulary.category_kinds[category_id], category_id=category_id,
                                      site_id=site_id, contact_user_id=by.id, **parsed)
    refused = [_row_error(number, error, headers) for error in listings.problems(session, by, details)]
    if refused:
        return CheckedRow(number, None, refused)
    return CheckedRow(number, details, [], category=vocabulary.category_paths[category_id],
                      site=vocabulary.site_names[site_id])


def _row_error(number: int, error: DomainError, headers: dict[str, str]) -> RowError:
    """A rule the row's listing breaks, told at the column it concerns."""
    key = _COLUMN_OF_FIELD.get(error.field or "", error.field or "")
    column = headers.get(key, COLUMN_BY_KEY[key].header) if key in COLUMN_BY_KEY else ""
    if key == "lend":  # "choose at least one way to share it" concerns all three columns
        column = " / ".join(headers.get(k, COLUMN_BY_KEY[k].header) for k in OFFERS)
    return RowError(number, column, error.message, dict(error.params))


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise _CellError(N_("Enter a number (a decimal comma is fine)."))
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        # "1 250,5": spaces (also non-breaking ones) group thousands, the comma is the decimal sign.
        text = re.sub(r"[\s\u00a0\u202f]", "", str(value))
        if "," in text and "." in text:
            raise _CellError(N_("Enter a number (a decimal comma is fine)."))
        text = text.replace(",", ".")
        if not _DECIMAL.fullmatch(text):
            raise _CellError(N_("Enter a number (a decimal comma is fine)."))
        number = float(text)
    if not math.isfinite(number):
        raise _CellError(N_("Enter a number (a decimal comma is fine)."))
    return number


def _in_range(number: float, low: float, high: float) -> None:
    if not low <= number <= high:
        raise _CellError(N_("Enter a number from %(min)s to %(max)s."), min=low, max=high)


def _whole(low: int, high: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        number = _number(value)
        if not number.is_integer():
            raise _CellError(N_("Enter a whole number."))
        _in_range(number, low, high)
        return int(number)
    return parse


def _decimal(low: float, high: float) -> Callable[[Any], float]:
    def parse(value: Any) -> float:
        number = _number(value)
        _in_range(number, low, high)
        return number
    return parse


def _yes_no(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = fold(_text(value))
    if word in YES:
        return True
    if word in NO:
        return False
    raise _CellError(N_("Write “ja” or “nej” (an x also means yes)."))


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 1 <= value < 2_958_466:
        return date(1899, 12, 30) + timedelta(days=int(value))  # a date Excel stored as its day number
    text = _text(value)
    text = text[:10] if len(text) > 10 and text[10] in " T" else text  # a time after the date is dropped
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise _CellError(N_("Enter a date such as 2026-03-31."))


# --- The import itself ----------------------------------------------------------------


def _details_json(details: ListingDetails) -> dict[str, Any]:
    return details.model_dump(mode="json")


def _details_from_json(values: dict[str, Any]) -> ListingDetails:
    return listings.details_from(values)


def import_to_see(session: Session, user: Actor, import_id: int) -> ListingImport:
    """An import of the user's own municipality.

    :raise NotVisible: no such import, or another municipality's.
    """
    job = session.get(ListingImport, import_id)
    if job is None or job.municipality_id != user.municipality_id:
        raise NotVisible(f"import {import_id}")
    return job


def create_import(session: Session, *, preview: Preview, file_name: str, by: Actor, now: datetime) -> ListingImport:
    """Keep a file that passed every check, waiting for the user to confirm it."""
    if not by.has_role(Role.FACILITY_MANAGER):
        raise DomainError(N_("Only facility managers can list resources."))
    if not preview.ok:
        raise DomainError(N_("Correct the rows with errors and upload the file again."))
    rows = [{"row": row.row, "details": _details_json(row.details), "category": row.category, "site": row.site}
            for row in preview.rows if row.details is not None]
    job = ListingImport(municipality_id=by.municipality_id, created_by_id=by.id,
                        file_name=file_name.replace("\x00", "")[:255],
                        rows=rows, total=len(rows), created_at=now)
    session.add(job)
    session.flush()
    return job


def repeated_rows(job: ListingImport) -> list[tuple[int, list[int]]]:
    """The rows of a checked import that repeat an earlier row exactly, as (the first row, the
    rows that repeat it): each would become a listing of its own, which a file copied from an
    inventory rarely means (one row with its quantity is one listing of several pieces)."""
    first_of: dict[str, int] = {}
    repeats: dict[int, list[int]] = {}
    for row in job.rows:
        key = json.dumps(row["details"], sort_keys=True)
        if key in first_of:
            repeats.setdefault(first_of[key], []).append(row["row"])
        else:
            first_of[key] = row["row"]
    return list(repeats.items())


def start(session: Session, *, job: ListingImport, by: Actor, publish: bool, now: datetime) -> None:
    """Mark a checked import as running, once: a second click, or a second tab, is refused."""
    if job.municipality_id != by.municipality_id or not by.has_role(Role.FACILITY_MANAGER):
        raise DomainError(N_("Only the municipality's facility managers can run its imports."))
    claimed = session.execute(
        update(ListingImport)
        .where(col(ListingImport.id) == job.id, col(ListingImport.status) == ImportStatus.PENDING.value)
        .values(status=ImportStatus.RUNNING.value, publish=publish, started_at=now, done=0)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult
        raise DomainError(N_("This import has already been started."))
    session.refresh(job)


class RowFailed(Exception):
    """A row could not be saved, so none is: ``message`` and ``params`` say why, and ``problems``
    holds every reason when a rule refused the row for several (each {"message", "params"})."""

    def __init__(self, row: int, message: str, params: dict[str, Any] | None = None,
                 problems: Sequence[Mapping[str, Any]] = ()) -> None:
        super().__init__(f"row {row}: {message}")
        self.row, self.message, self.params = row, message, params or {}
        self.problems = [dict(problem) for problem in problems]

    @classmethod
    def refused(cls, row: int, error: DomainError) -> RowFailed:
        """The row broke the listings' rules: every one it breaks, as the preview tells them."""
        problems: list[dict[str, Any]] = [{"message": each.message, "params": dict(each.params)}
                                          for each in problems_of(error)]
        return cls(row, error.message, dict(error.params), problems)


def run(session: Session, *, job: ListingImport, now: datetime, on_progress: Callable[[int], None]) -> list[int]:
    """Create the listing of every row in the session's transaction and mark the import done.

    Every row is checked and its listing prepared first, without writing; then all are written
    at once. So the database's write lock (SQLite has one for the whole database) is held for
    the moment the writing takes, not for the whole import, and other users' writes wait
    briefly instead of failing. The caller commits once at the end; on any error it rolls
    everything back (``fail``)."""
    if job.status != ImportStatus.RUNNING.value:
        raise DomainError(N_("This import has already been started."))
    by = session.get(User, job.created_by_id) if job.created_by_id is not None else None
    _held = _hold_names(session, job.municipality_id)  # kept alive while the rows are saved
    prepared: list[Listing] = []
    with session.no_autoflush:  # a query while preparing must not write the rows prepared so far
        for done, row in enumerate(job.rows, start=1):
            if by is None:
                raise RowFailed(row["row"], N_("The person who started the import no longer has an account."))
            try:
                listing = listings.save_listing(session, details=_details_from_json(row["details"]), by=by,
                                                now=now, record_event=False, flush=False)
                if job.publish:
                    listings.change_status(session, listing, ListingStatus.PUBLISHED, by=by, now=now,
                                           record_event=False)
            except DomainError as error:
                raise RowFailed.refused(row["row"], error) from error
            except Exception as error:  # the row's number still helps find it
                raise RowFailed(row["row"], N_("The row could not be saved.")) from error
            prepared.append(listing)
            on_progress(done)
    session.flush()  # every listing at once; a refusal of the database fails the import as a whole
    created = [id_of(listing) for listing in prepared]
    texts = [listing.search_text for listing in prepared]  # what the search vocabulary learns once committed
    job.status = ImportStatus.DONE.value
    job.done, job.created_ids, job.rows = len(created), created, []
    job.finished_at = now
    session.add(job)
    search.learn_after_commit(session, texts)
    # One event for the whole import: wanted items hear of it once, not once per listing.
    record(session, events.LISTINGS_IMPORTED, subject_type="listing_import", subject_id=job.id, now=now,
           actor_id=job.created_by_id, municipality_id=job.municipality_id,
           payload={"listing_ids": created, "published": job.publish})
    return created


def fail(session: Session, *, import_id: int, now: datetime, row: int | None, message: str,
         params: Mapping[str, Any] | None = None, problems: Sequence[Mapping[str, Any]] = ()) -> None:
    """Record why an import failed (in a transaction of its own: the import's was rolled back);
    ``problems``: every reason, when the row was refused for several (``RowFailed.problems``)."""
    job = session.get(ListingImport, import_id)
    if job is None:
        return
    job.status = ImportStatus.FAILED.value
    job.done, job.rows, job.finished_at = 0, [], now
    job.error_row, job.error_message, job.error_params = row, message[:500], dict(params or {})
    job.error_problems = [dict(problem) for problem in problems] if len(problems) > 1 else []
    session.add(job)


def tidy(session: Session, *, now: datetime) -> None:
    """Forget checked files nobody confirmed, and mark imports whose process ended mid-way as failed
    (their transaction was rolled back by the database, so nothing of them was saved)."""
    session.execute(delete(ListingImport).where(col(ListingImport.status) == ImportStatus.PENDING.value,
                                                col(ListingImport.created_at) < now - PENDING_KEPT))
    stale = session.scalars(select(ListingImport).where(
        col(ListingImport.status) == ImportStatus.RUNNING.value,
        col(ListingImport.started_at) < now - RUN_TIMEOUT))
    for job in stale:
        fail(session, import_id=id_of(job), now=now, row=None,
             message=N_("The import was interrupted. Nothing was saved: start it again."))


# --- The template -------------------------------------------------------------------------


def _example_row(vocabulary: Vocabulary) -> list[str]:
    things = [i for i, kind in vocabulary.category_kinds.items() if kind == ResourceKind.THING]
    # The deepest category of things makes the best example ("Möbler > Sittmöbler > Kontorsstol").
    category = max(things, key=lambda i: vocabulary.category_paths[i].count(">"), default=None)
    chair = next((i for i in things if vocabulary.category_paths[i].endswith("Kontorsstol")), category)
    values = {column.key: column.example for column in COLUMNS}
    values["category"] = vocabulary.category_paths.get(chair, "") if chair is not None else ""
    values["site"] = next(iter(vocabulary.site_names.values()), "")
    values["condition"] = vocabulary.condition_names[Condition.GOOD]
    values["visibility"] = vocabulary.visibility_names[Visibility.PARTNERS]
    return [values[column.key] for column in COLUMNS]


def template_csv(vocabulary: Vocabulary) -> bytes:
    """The template as CSV the way Swedish Excel opens it: UTF-8 with a byte-order mark, semicolons."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(safe_row([column.header for column in COLUMNS]))
    writer.writerow(safe_row(_example_row(vocabulary)))
    return out.getvalue().encode("utf-8-sig")


def template_xlsx(vocabulary: Vocabulary) -> bytes:
    """The template as an Excel workbook: the listings sheet with one example row, and a sheet of
    the values the listing columns accept (the municipality's sites among them)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation
    from openpyxl.worksheet.worksheet import Worksheet

    workbook = Workbook()
    sheet = workbook.active
    if not isinstance(sheet, Worksheet):  # a new workbook opens on a worksheet
        raise TypeError("a new workbook has no worksheet")
    sheet.title = "Annonser"
    sheet.append(safe_row([column.header for column in COLUMNS]))
    example = _example_row(vocabulary)
    sheet.append(safe_row([_typed_example(column.key, value) for column, value in zip(COLUMNS, example)]))
    for index, column in enumerate(COLUMNS, start=1):
        sheet.cell(row=1, column=index).font = Font(bold=True)
        sheet.column_dimensions[get_column_letter(index)].width = max(12, len(column.header) + 4,
                                                                      min(40, len(example[index - 1]) + 2))
    sheet.freeze_panes = "A2"

    values = workbook.create_sheet("Giltiga värden")
    lists = {
        "Kategori": sorted(vocabulary.category_paths.values(), key=fold),
        "Skick": list(vocabulary.condition_names.values()),
        "Plats": list(vocabulary.site_names.values()),
        "Synlighet": list(vocabulary.visibility_names.values()),
        "Utlåning, Överlåtelse, Byte": ["ja", "nej"],
    }
    for index, (header, items) in enumerate(lists.items(), start=1):
        letter = get_column_letter(index)
        values.cell(row=1, column=index, value=safe_cell(header)).font = Font(bold=True)
        for row, item in enumerate(items, start=2):
            values.cell(row=row, column=index, value=safe_cell(item))
        values.column_dimensions[letter].width = max([len(header), *(len(i) for i in items)]) + 2
        # A drop-down in the listings sheet offers the same values (typing others is still possible).
        targets = {"Kategori": ["category"], "Skick": ["condition"], "Plats": ["site"], "Synlighet": ["visibility"],
                   "Utlåning, Överlåtelse, Byte": list(OFFERS)}[header]
        if items:
            source = f"='Giltiga värden'!${letter}$2:${letter}${len(items) + 1}"
            validation = DataValidation(type="list", formula1=source, allow_blank=True, showErrorMessage=False)
            sheet.add_data_validation(validation)
            for key in targets:
                column_letter = get_column_letter([c.key for c in COLUMNS].index(key) + 1)
                validation.add(f"{column_letter}2:{column_letter}{MAX_ROWS + 1}")
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _typed_example(key: str, value: str) -> Any:
    """Numbers as numbers in the workbook, so Excel shows them the Swedish way."""
    if key in ("quantity", "width_cm", "depth_cm", "height_cm", "loan_min_days", "loan_max_days") and value:
        return int(value)
    if key in ("weight_kg", "volume_m3") and value:
        return float(value.replace(",", "."))
    return value
