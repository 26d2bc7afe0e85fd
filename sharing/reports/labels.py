"""How the ledger's codes read, and the units reports speak in (grams to kilograms, öre to kronor)."""

from __future__ import annotations

from datetime import date

from babel.dates import format_date
from flask_babel import lazy_gettext as _l

from sharing.accounts.personal_data.rules import Section, labelled
from sharing.reports.ledger.models import EntryKind, FactorKind

ENTRY_KIND_LABELS = {
    EntryKind.TAKE_OVER: _l("Take-over"),
    EntryKind.SWAP: _l("Swap"),
    EntryKind.LOAN: _l("Loan"),
    EntryKind.TRANSPORT: _l("Transport"),
}
FACTOR_KIND_LABELS = {
    FactorKind.PRODUCTION: _l("new production × displacement rate"),
    FactorKind.NET_SAVING: _l("published net saving per reuse"),
    FactorKind.WEIGHT_ESTIMATE: _l("estimate by weight"),
    FactorKind.TRANSPORT: _l("transport"),
}


def kg(grams: int | None) -> float:
    """Grams as kilograms, for showing (the ledger keeps grams)."""
    return (grams or 0) / 1000


def sek(ore: int | None) -> float:
    return (ore or 0) / 100


def month_day(month: int) -> str:
    """yyyymm as yyyy-mm."""
    return f"{month // 100}-{month % 100:02d}"


def month_name(month: int, locale: str) -> str:
    """yyyymm as people write it: "november 2026", "November 2026"."""
    return format_date(date(month // 100, month % 100, 1), "LLLL y", locale=locale)


PERSONAL_DATA = {
    "report_subscription": Section(_l("Your monthly report by e-mail"), {
        "municipality": _l("Municipality"), "category_ids": _l("Category numbers"),
        "created_at": _l("Created"), "updated_at": _l("Changed")}),
    "reuse_corrections": Section(_l("Corrections of the reuse statistics you made"), {
        "id": _l("Number"), "reverses": _l("Reverses entry"), "kind": _l("Kind"), "day": _l("Day"),
        "reason": _l("Why"), "created_at": _l("Created")}, {"kind": labelled("kind", ENTRY_KIND_LABELS)}),
}
