"""The figures of a selection of the ledger: totals, months, top categories and flows between
municipalities, summed in the database (never a loop over entries here): the dashboard's all
in one statement.

A selection is a period of Swedish days and, optionally, municipalities, units and categories
(a category with everything below it). An entry belongs to the municipality and unit that
received the pieces: whose purchase was avoided. Flows show both sides.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, case, cast, func, literal, null, select, union_all
from sqlmodel import Session, col

from sharing.catalog.categories.rules import descendant_ids
from sharing.i18n import N_
from sharing.reports.ledger.models import ReuseEntry

E = ReuseEntry
MAX_YEARS = 20  # the longest period shown or exported at once (its months are listed one by one)


@dataclass(frozen=True)
class Selection:
    first_day: date
    last_day: date
    municipality_ids: tuple[int, ...] = ()
    unit_ids: tuple[int, ...] = ()
    category_ids: tuple[int, ...] = ()
    # A figure's own narrowing, for the entries behind it.
    month: int | None = None
    category_id: int | None = None
    from_municipality_id: int | None = None
    to_municipality_id: int | None = None
    expanded_categories: tuple[int, ...] = field(default=(), compare=False)

    def args(self) -> dict[str, Any]:
        """As URL query arguments (a bookmark): lists repeat their name."""
        found: dict[str, Any] = {"from": self.first_day.isoformat(), "to": self.last_day.isoformat()}
        for name, values in (("municipality", self.municipality_ids), ("unit", self.unit_ids),
                             ("category", self.category_ids)):
            if values:
                found[name] = list(values)
        for name, value in (("month", self.month), ("in_category", self.category_id),
                            ("giver", self.from_municipality_id), ("receiver", self.to_municipality_id)):
            if value is not None:
                found[name] = value
        return found

    def base(self) -> Selection:
        return replace(self, month=None, category_id=None, from_municipality_id=None, to_municipality_id=None)

    def within_year(self, year: int) -> Selection:
        """The same selection, of the days of this year within its period."""
        return replace(self.base(), first_day=max(self.first_day, date(year, 1, 1)),
                       last_day=min(self.last_day, date(year, 12, 31)))


def _ids(values: list[str]) -> tuple[tuple[int, ...], list[str]]:
    """The ids among the values, and the values that are none."""
    found, unreadable = set(), []
    for value in values:
        text = value.strip()
        if text.isascii() and text.isdigit() and 0 < int(text) < 2**31:
            found.add(int(text))
        elif text:
            unreadable.append(text)
    return tuple(sorted(found)), unreadable


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isascii() and value.isdigit() and 0 < int(value) < 2**31 else None


@dataclass(frozen=True)
class Notice:
    """What of an address the selection could not take as it was, and what it took instead: a
    msgid and its parameters, which the page shows in the reader's language."""

    message: str
    params: dict[str, Any] = field(default_factory=dict)


NOT_A_FIRST_DAY = N_("“%(value)s” is not a date: the period starts on %(day)s.")
NOT_A_LAST_DAY = N_("“%(value)s” is not a date: the period ends on %(day)s.")
SWAPPED = N_("The period ended before it started: it is shown from %(first)s to %(last)s.")
TOO_LONG = N_("A period is at most %(years)d years: it is shown from %(first)s to %(last)s.")
NO_SUCH = {"municipality": N_("There is no municipality “%(value)s”: it is left out of the selection."),
           "unit": N_("There is no unit “%(value)s”: it is left out of the selection."),
           "category": N_("There is no category “%(value)s”: it is left out of the selection.")}
SHOWN_MAX = 40  # characters of a value the address gave, quoted back


def _quoted(value: object) -> str:
    text = str(value)
    return text if len(text) <= SHOWN_MAX else text[:SHOWN_MAX - 1] + "…"


@dataclass(frozen=True)
class Parsed:
    selection: Selection
    notices: list[Notice]


def parse_selection(args: Mapping[str, Any], *, today: date) -> Parsed:
    """A selection from URL arguments; the default period is the year so far. What cannot be
    read is left out (a date: its default), a period that ends before it starts is turned round
    and one longer than ``MAX_YEARS`` is cut: never an error, but each said in a notice.
    The figure's own narrowing (month, in_category, giver, receiver) comes from our own links:
    what is unreadable there is left out without a word."""
    getlist = getattr(args, "getlist", lambda name: [args[name]] if name in args else [])
    notices: list[Notice] = []

    def day(name: str, default: date, notice: str) -> date:
        given = str(args.get(name) or "").strip()
        try:
            return date.fromisoformat(given) if given else default
        except ValueError:
            notices.append(Notice(notice, {"value": _quoted(given), "day": default.isoformat()}))
            return default

    first = day("from", date(today.year, 1, 1), NOT_A_FIRST_DAY)
    last = day("to", today, NOT_A_LAST_DAY)
    if last < first:
        first, last = last, first
        notices.append(Notice(SWAPPED, {"first": first.isoformat(), "last": last.isoformat()}))
    if too_long(first, last):
        first, last = bounded(first, last, today=today)
        notices.append(Notice(TOO_LONG, {"years": MAX_YEARS, "first": first.isoformat(), "last": last.isoformat()}))
    chosen = {}
    for name in ("municipality", "unit", "category"):
        chosen[name], unreadable = _ids(getlist(name))
        notices += [Notice(NO_SUCH[name], {"value": _quoted(value)}) for value in unreadable]
    return Parsed(Selection(first, last, chosen["municipality"], chosen["unit"], chosen["category"],
                            month=_int(args.get("month")), category_id=_int(args.get("in_category")),
                            from_municipality_id=_int(args.get("giver")),
                            to_municipality_id=_int(args.get("receiver"))), notices)


def known_only(selection: Selection, *, municipalities: Collection[int], units: Collection[int],
               categories: Collection[int]) -> Parsed:
    """The selection without the municipalities, units and categories there are none of, with a
    notice for each left out (a stale bookmark, an edited address)."""
    notices = []
    kept: dict[str, tuple[int, ...]] = {}
    for name, ids, known in (("municipality", selection.municipality_ids, municipalities),
                             ("unit", selection.unit_ids, units), ("category", selection.category_ids, categories)):
        kept[name] = tuple(id_ for id_ in ids if id_ in known)
        notices += [Notice(NO_SUCH[name], {"value": id_}) for id_ in ids if id_ not in known]
    return Parsed(replace(selection, municipality_ids=kept["municipality"], unit_ids=kept["unit"],
                          category_ids=kept["category"]), notices)


def too_long(first: date, last: date) -> bool:
    """Whether the period spans more than ``MAX_YEARS`` years of months."""
    return (last.year - first.year) * 12 + last.month - first.month >= MAX_YEARS * 12


def _month_start(day: date, months: int) -> date:
    """The first day of the month ``months`` after (or before) the day's, within the calendar."""
    index = min(max(day.year * 12 + day.month - 1 + months, 12), 9999 * 12 + 11)
    return date(index // 12, index % 12 + 1, 1)


def bounded(first: date, last: date, *, today: date) -> tuple[date, date]:
    """The period, cut to its ``MAX_YEARS`` years nearest today if it is longer: it ends on its
    last day if that is past, else on today or ``MAX_YEARS`` years after it starts, whichever is
    later."""
    if not too_long(first, last):
        return first, last
    window = MAX_YEARS * 12
    from_first = (_month_start(first, window) - timedelta(days=1)) if first.year < 9999 - MAX_YEARS else date.max
    last = min(last, max(today, from_first))
    return max(first, _month_start(last, 1 - window)), last


def with_categories(session: Session, selection: Selection) -> Selection:
    """The selection with its categories expanded to everything below them (read once)."""
    expanded: set[int] = set()
    for category_id in selection.category_ids:
        expanded |= descendant_ids(session, category_id)
    return replace(selection, expanded_categories=tuple(sorted(expanded)))


def conditions(selection: Selection) -> list[ColumnElement[bool]]:
    found = [col(E.day) >= selection.first_day, col(E.day) <= selection.last_day]
    if selection.municipality_ids:
        found.append(col(E.to_municipality_id).in_(selection.municipality_ids))
    if selection.unit_ids:
        found.append(col(E.to_unit_id).in_(selection.unit_ids))
    if selection.category_ids:
        found.append(col(E.category_id).in_(selection.expanded_categories or selection.category_ids))
    if selection.month is not None:
        found.append(col(E.month) == selection.month)
    if selection.category_id is not None:
        found.append(col(E.category_id) == selection.category_id)
    if selection.from_municipality_id is not None:
        found.append(col(E.from_municipality_id) == selection.from_municipality_id)
    if selection.to_municipality_id is not None:
        found.append(col(E.to_municipality_id) == selection.to_municipality_id)
    return found


@dataclass(frozen=True)
class Totals:
    """Sums of entries. ``pieces`` are the pieces reused: those that count as a purchase avoided
    (take-overs, swaps, loans of at least the ledger's ``loan_min_days``); ``shared_pieces`` those
    lent on shorter loans, counted apart as the methodology says (no purchase, emissions or waste
    avoided). A transport moves no pieces: its CO2e is netted."""

    pieces: int = 0
    shared_pieces: int = 0
    waste_avoided_g: int = 0
    purchase_avoided_sek_ore: int = 0
    co2e_avoided_g: int = 0
    transport_co2e_g: int = 0
    entries: int = 0

    @property
    def net_co2e_g(self) -> int:
        return self.co2e_avoided_g - self.transport_co2e_g

    @property
    def transport_only(self) -> bool:
        """Transport without pieces reused: a reuse not completed in the selection, or a short loan."""
        return self.transport_co2e_g != 0 and self.pieces == 0

    def __add__(self, other: Totals) -> Totals:
        return Totals(*(getattr(self, name) + getattr(other, name) for name in TOTALS_FIELDS))

    def as_dict(self) -> dict[str, int]:
        return {"pieces": self.pieces, "shared_pieces": self.shared_pieces, "waste_avoided_g": self.waste_avoided_g,
                "purchase_avoided_sek_ore": self.purchase_avoided_sek_ore, "co2e_avoided_g": self.co2e_avoided_g,
                "transport_co2e_g": self.transport_co2e_g, "net_co2e_g": self.net_co2e_g, "entries": self.entries}


TOTALS_FIELDS = ("pieces", "shared_pieces", "waste_avoided_g", "purchase_avoided_sek_ore", "co2e_avoided_g",
                 "transport_co2e_g", "entries")
# A transport entry keeps counts_as_purchase's default (true) and moves no pieces: it adds to neither count.
SUMS = (func.coalesce(func.sum(case((col(E.counts_as_purchase), E.quantity), else_=0)), 0),
        func.coalesce(func.sum(case((col(E.counts_as_purchase), 0), else_=E.quantity)), 0),
        func.coalesce(func.sum(E.waste_avoided_g), 0),
        func.coalesce(func.sum(E.purchase_avoided_sek_ore), 0), func.coalesce(func.sum(E.co2e_avoided_g), 0),
        func.coalesce(func.sum(E.transport_co2e_g), 0), func.count())


PARTS = ("pieces", "shared_pieces", "waste_avoided_g", "purchase_avoided_sek_ore", "co2e_avoided_g",
         "transport_co2e_g", "entries")


def _totals(row: Any, offset: int = 0) -> Totals:
    return Totals(*(int(row[offset + i]) for i in range(len(TOTALS_FIELDS))))


def totals(session: Session, selection: Selection) -> Totals:
    return _totals(session.execute(select(*SUMS).where(*conditions(selection))).one())


def months_of(first: date, last: date) -> Iterator[int]:
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        yield year * 100 + month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


# A period of more months than this is shown by year (MAX_YEARS + 1 rows and bars at most): a bar
# a month would be too thin to read, or to fit a PDF's page.
MONTHS_SHOWN = 24


def shown_by_year(figures: Figures) -> bool:
    return len(figures.months) > MONTHS_SHOWN


def by_year(months: list[tuple[int, Totals]]) -> list[tuple[int, Totals]]:
    """Monthly figures (yyyymm, oldest first) summed by year (yyyy)."""
    years: dict[int, Totals] = {}
    for month, totals in months:
        years[month // 100] = years.get(month // 100, Totals()) + totals
    return list(years.items())


@dataclass(frozen=True)
class Figures:
    selection: Selection
    totals: Totals
    months: list[tuple[int, Totals]]
    categories: list[tuple[int | None, Totals]]
    flows: list[tuple[int | None, int | None, Totals]]


def figures(session: Session, selection: Selection, category_limit: int = 10) -> Figures:
    """Everything the dashboard shows, in one statement and one pass over the entries (through
    the covering index ``ix_reuse_entry_figures``): the entries summed by month, category and
    both municipalities (a few thousand groups at most, however many entries), and from those
    sums the totals, the months, the top categories and the flows, each summed in the database."""
    selection = with_categories(session, selection)
    groups = (select(col(E.month).label("month"), col(E.category_id).label("category_id"),
                     col(E.from_municipality_id).label("giver"), col(E.to_municipality_id).label("receiver"),
                     *(total.label(name) for total, name in zip(SUMS, PARTS, strict=True)))
              .where(*conditions(selection))
              .group_by(col(E.month), col(E.category_id), col(E.from_municipality_id), col(E.to_municipality_id))
              .cte("groups"))
    sums = [func.coalesce(func.sum(groups.c[name]), 0) for name in PARTS]

    def part(number: int, first: Any, second: Any, order: Any = None) -> Select[Any]:
        ordinal = func.row_number().over(order_by=order) if order is not None else literal(0)
        return select(literal(number).label("part"), first.label("first"), second.label("second"), *sums,
                      ordinal.label("ordinal"))

    none = cast(null(), Integer)  # typed: PostgreSQL takes an untyped NULL in a subquery for text
    net = func.sum(groups.c.co2e_avoided_g) - func.sum(groups.c.transport_co2e_g)
    ranked = (part(2, groups.c.category_id, none, (net.desc(), groups.c.category_id))
              .group_by(groups.c.category_id).subquery("ranked"))
    statement = union_all(
        part(0, none, none),
        part(1, groups.c.month, none, groups.c.month).group_by(groups.c.month),
        select(ranked).where(ranked.c.ordinal <= category_limit),
        part(3, groups.c.giver, groups.c.receiver, (groups.c.giver, groups.c.receiver))
        .group_by(groups.c.giver, groups.c.receiver),
    ).order_by("part", "ordinal")
    found: dict[int, list[Any]] = {0: [], 1: [], 2: [], 3: []}
    for row in session.execute(statement):
        found[row.part].append(row)
    by_month = {row.first: _totals(row, 3) for row in found[1]}
    return Figures(selection, _totals(found[0][0], 3),
                   [(month, by_month.get(month, Totals())) for month in months_of(selection.first_day,
                                                                                  selection.last_day)],
                   [(row.first, _totals(row, 3)) for row in found[2]],
                   [(row.first, row.second, _totals(row, 3)) for row in found[3]])


def entries(session: Session, selection: Selection, *, offset: int = 0, limit: int = 100) -> list[ReuseEntry]:
    """The entries behind a figure, newest first."""
    return list(session.scalars(select(E).where(*conditions(with_categories(session, selection)))
                                .order_by(col(E.day).desc(), col(E.id).desc()).offset(offset).limit(limit)))
