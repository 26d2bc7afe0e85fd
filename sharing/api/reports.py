"""API of reuse statistics: the dashboard's figures of a selection, and the ledger entries behind
them, paged; for sustainability officers and system administrators, as the pages are.

The selection takes the page's own parameters (``from``, ``to``, ``municipality``, ``unit``,
``category``, and for the entries a figure's ``month``, ``in_category``, ``giver`` and
``receiver``), but strictly: a value the page would leave out is a 400 here. Every figure is an
integer (grams, öre), so a total is exactly the sum of its entries."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Response, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, computed_field

from sharing.access import allow
from sharing.accounts.models import Role
from sharing.api import blueprint
from sharing.api.common import DATE_PATTERN, ProblemError, date_arg, int_arg, page_args, page_response
from sharing.api.openapi import ID_SCHEMA, documented
from sharing.clock import today_in_sweden, utcnow
from sharing.db import db_session
from sharing.reports.dashboard import rules
from sharing.reports.exports.rules import GHG_NOTE
from sharing.reports.ledger.models import EntryKind, FactorKind
from sharing.web.errors import problem

READERS = (Role.SUSTAINABILITY_OFFICER, Role.SYSTEM_ADMIN)
MAX_CHOSEN = 100  # ids of one kind in a selection
MAX_YEARS = rules.MAX_YEARS  # the longest period asked for at once (the months are listed one by one)
MIN_MONTH, MAX_MONTH = 190001, 999912


class TotalsOut(BaseModel):
    """Sums of the entries: pieces, and figures in grams and öre (integers: exact)."""

    model_config = ConfigDict(from_attributes=True)

    pieces: int = Field(description="Pieces reused: those that count as a purchase avoided (take-overs, swaps and "
                                    "loans at least as long as the ledger's loan rule)")
    shared_pieces: int = Field(description="Pieces shared on loans shorter than the loan rule: no purchase, "
                                           "emissions or waste avoided")
    waste_avoided_g: int
    purchase_avoided_sek_ore: int = Field(description="New purchases avoided, in öre (1/100 SEK)")
    co2e_avoided_g: int = Field(description="Gross CO2e avoided, in grams")
    transport_co2e_g: int = Field(description="CO2e of the transport attributed to the reuses, in grams")
    net_co2e_g: int = Field(description="co2e_avoided_g - transport_co2e_g")
    entries: int = Field(description="How many ledger entries the sums are of")


class MonthOut(TotalsOut):
    month: int = Field(description="yyyymm")


class CategoryFiguresOut(TotalsOut):
    category_id: int | None


class FlowOut(TotalsOut):
    from_municipality_id: int | None
    to_municipality_id: int | None


class FiguresOut(BaseModel):
    first_day: date
    last_day: date
    municipality_ids: list[int] = Field(description="Receiving municipalities chosen (none: all)")
    unit_ids: list[int] = Field(description="Receiving units chosen (none: all)")
    category_ids: list[int] = Field(description="Categories chosen, each with everything below it (none: all)")
    totals: TotalsOut
    months: list[MonthOut] = Field(description="Every month of the period, oldest first (without entries: zeros)")
    categories: list[CategoryFiguresOut] = Field(description="The ten categories with the most net CO2e avoided")
    flows: list[FlowOut] = Field(description="Per giving and receiving municipality")
    note: str = Field(description="How avoided emissions are to be reported (GHG Protocol)")


class EntryOut(BaseModel):
    """One ledger entry: what was reused (or transported) from whom to whom, when, and the figures
    with the factor version and source they came from."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    event_id: int | None = Field(description="The domain event it was written from (none: a correction)")
    line: int
    kind: EntryKind
    reverses_id: int | None = Field(description="The entry a correction reverses (its figures negated)")
    reason: str
    created_at: datetime
    occurred_at: datetime
    day: date = Field(description="The Swedish day it happened")
    month: int = Field(description="yyyymm of that day")
    request_id: int | None
    listing_id: int | None
    category_id: int | None
    quantity: int
    from_municipality_id: int | None
    from_unit_id: int | None
    to_municipality_id: int | None
    to_unit_id: int | None
    counts_as_purchase: bool
    weight_g: int
    waste_avoided_g: int
    purchase_avoided_sek_ore: int
    co2e_avoided_g: int
    transport_co2e_g: int
    distance_m: int
    factor_id: int | None
    factor_version: int | None
    factor_kind: FactorKind | None
    factor_source: str
    displacement_permille: int | None

    @computed_field(description="co2e_avoided_g - transport_co2e_g")  # type: ignore[prop-decorator]  # pydantic's way
    @property
    def net_co2e_g(self) -> int:
        return self.co2e_avoided_g - self.transport_co2e_g


IDS = {"type": "array", "items": ID_SCHEMA, "maxItems": MAX_CHOSEN}
SELECTION_PARAMETERS: dict[str, dict[str, Any]] = {
    "from": {"type": "string", "format": "date", "pattern": DATE_PATTERN,
             "description": "The period's first Swedish day (YYYY-MM-DD); default the first of January this year"},
    "to": {"type": "string", "format": "date", "pattern": DATE_PATTERN,
           "description": f"The period's last day, inclusive; default today. At most {MAX_YEARS} years after from"},
    "municipality": {**IDS, "description": "Receiving municipalities (repeat the parameter); none: all"},
    "unit": {**IDS, "description": "Receiving units; none: all"},
    "category": {**IDS, "description": "Categories, each with everything below it; none: all"},
}
FIGURE_PARAMETERS: dict[str, dict[str, Any]] = {
    "month": {"type": "integer", "minimum": MIN_MONTH, "maximum": MAX_MONTH,
              "description": "A month's figure: yyyymm"},
    "in_category": {**ID_SCHEMA, "description": "A category's figure: that category alone"},
    "giver": {**ID_SCHEMA, "description": "A flow's figure: the giving municipality"},
    "receiver": {**ID_SCHEMA, "description": "A flow's figure: the receiving municipality"},
}
BAD_SELECTION = {400: "A parameter is not as documented, or the period is too long or ends before it starts"}


def _ids(name: str) -> tuple[int, ...]:
    raw = request.args.getlist(name)
    if len(raw) > MAX_CHOSEN:
        raise ProblemError(problem(400, f"'{name}' may be given at most {MAX_CHOSEN} times."))
    found = set()
    for value in raw:
        if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= ID_SCHEMA["maximum"]:
            raise ProblemError(problem(400, f"'{name}' takes ids, whole numbers from 1 to {ID_SCHEMA['maximum']}."))
        found.add(int(value))
    return tuple(sorted(found))


def _selection(*, figure: bool) -> rules.Selection:
    today = today_in_sweden(utcnow())
    first = date_arg("from") or date(today.year, 1, 1)
    last = date_arg("to") or today
    if last < first:
        raise ProblemError(problem(400, "'to' must not be before 'from'."))
    if rules.too_long(first, last):
        raise ProblemError(problem(400, f"Ask for at most {MAX_YEARS} years at once."))
    chosen = rules.Selection(first, last, _ids("municipality"), _ids("unit"), _ids("category"))
    if not figure:
        return chosen
    month = _whole("month", MIN_MONTH, MAX_MONTH)
    if month is not None and not 1 <= month % 100 <= 12:
        raise ProblemError(problem(400, "'month' is yyyymm, its last two digits 01 to 12."))
    return rules.Selection(chosen.first_day, chosen.last_day, chosen.municipality_ids, chosen.unit_ids,
                           chosen.category_ids, month=month, category_id=int_arg("in_category"),
                           from_municipality_id=int_arg("giver"), to_municipality_id=int_arg("receiver"))


def _whole(name: str, low: int, high: int) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise ProblemError(problem(400, f"'{name}' must be a whole number from {low} to {high}."))
    return int(raw)


def _totals(totals: rules.Totals, **more: Any) -> dict[str, Any]:
    return {**totals.as_dict(), **more}


@blueprint.get("/reports/figures")
@allow(*READERS)
@documented("The reuse figures of a selection, as the dashboard shows them: totals, months, top categories "
            "and flows between municipalities", tag="reports", response=FiguresOut, query=SELECTION_PARAMETERS,
            responses=BAD_SELECTION)
def report_figures() -> Response:
    found = rules.figures(db_session, _selection(figure=False))
    chosen = found.selection
    body = FiguresOut(
        first_day=chosen.first_day, last_day=chosen.last_day, municipality_ids=list(chosen.municipality_ids),
        unit_ids=list(chosen.unit_ids), category_ids=list(chosen.category_ids),
        totals=TotalsOut(**found.totals.as_dict()),
        months=[MonthOut(**_totals(totals, month=month)) for month, totals in found.months],
        categories=[CategoryFiguresOut(**_totals(totals, category_id=category_id))
                    for category_id, totals in found.categories],
        flows=[FlowOut(**_totals(totals, from_municipality_id=giver, to_municipality_id=receiver))
               for giver, receiver, totals in found.flows],
        note=GHG_NOTE)
    return jsonify(body.model_dump(mode="json"))


@blueprint.get("/reports/entries")
@allow(*READERS)
@documented("The ledger entries of a selection (or of one figure of it), newest first; their sums are the "
            "figures' totals, exactly", tag="reports", response=EntryOut, paginated=True,
            query={**SELECTION_PARAMETERS, **FIGURE_PARAMETERS}, responses=BAD_SELECTION)
def report_entries() -> Response:
    page, per_page = page_args()
    chosen = rules.with_categories(db_session, _selection(figure=True))
    total = rules.totals(db_session, chosen).entries
    found = rules.entries(db_session, chosen, offset=(page - 1) * per_page, limit=per_page)
    return page_response(found, total=total, page=page, per_page=per_page, schema=EntryOut)
