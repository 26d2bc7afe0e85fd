"""The reuse ledger: written from the events by its receiver, once per event, append-only,
corrected by reversing entries; transport netted per request."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import case, event, func, select
from sqlmodel import Session, col

from sharing import events
from sharing.clock import utcnow
from sharing.errors import Conflict, DomainError, NotAllowed
from sharing.reports.ledger import rules as ledger
from sharing.reports.ledger.models import ReuseEntry
from tests import reports_fixture


@pytest.fixture
def world(app, factory):
    return reports_fixture.build(factory, app)


def sums(db, *where):
    counts = col(ReuseEntry.counts_as_purchase)
    row = db.execute(select(
        func.coalesce(func.sum(case((counts, ReuseEntry.quantity), else_=0)), 0),
        func.coalesce(func.sum(ReuseEntry.waste_avoided_g), 0),
        func.coalesce(func.sum(ReuseEntry.purchase_avoided_sek_ore), 0),
        func.coalesce(func.sum(ReuseEntry.co2e_avoided_g), 0),
        func.coalesce(func.sum(ReuseEntry.transport_co2e_g), 0),
        func.coalesce(func.sum(case((counts, 0), else_=ReuseEntry.quantity)), 0)).where(*where)).one()
    return {"pieces": row[0], "shared_pieces": row[5], "waste_avoided_g": row[1], "purchase_avoided_sek_ore": row[2],
            "co2e_avoided_g": row[3], "transport_co2e_g": row[4], "net_co2e_g": row[3] - row[4]}


def test_the_hand_computed_events_make_exactly_the_hand_computed_totals(db, world):
    assert sums(db) == reports_fixture.EXPECTED
    assert sums(db, col(ReuseEntry.to_municipality_id) == world["trelleborg"].id) == \
        reports_fixture.EXPECTED_TRELLEBORG


def test_each_kind_of_reuse_writes_its_entries_with_factor_version_and_source(db, world):
    entries = list(db.scalars(select(ReuseEntry).order_by(ReuseEntry.day, ReuseEntry.line)))
    kinds = [(e.kind, e.quantity, e.counts_as_purchase, e.factor_kind) for e in entries]
    assert kinds == [("take_over", 4, True, "production"), ("swap", 2, True, "net_saving"),
                     ("swap", 3, True, "weight_estimate"), ("loan", 2, False, "production"),
                     ("loan", 5, True, "production"), ("transport", 0, True, "transport"),
                     ("transport", 0, True, "transport")]
    take_over = entries[0]
    assert (take_over.from_municipality_id, take_over.to_municipality_id) == (world["ystad"].id,
                                                                              world["trelleborg"].id)
    assert take_over.to_unit_id == world["units"]["Trelleborg"].id
    assert (take_over.factor_version, take_over.displacement_permille) == (1, 500)
    assert take_over.factor_source == "EPD NEPD-467-327-EN" and take_over.category_id == world["chair"].id
    assert take_over.day.isoformat() == "2025-03-03" and take_over.month == 202503
    assert "WRAP" in entries[2].factor_source  # no figure: estimated by weight, and says so
    assert entries[5].request_id == world["taken"].id and entries[5].distance_m == 12_400
    assert entries[5].transport_co2e_g == 3_250 and "HBEFA" in entries[5].factor_source


def test_an_event_never_counts_twice(app, db, world):
    before = db.scalar(select(func.count()).select_from(ReuseEntry))
    event = db.get(events.DomainEvent, world["route_event_id"])
    assert ledger.record_event(db, event, rules=ledger.LedgerRules()) == 0  # handed over again: nothing
    db.rollback()
    assert reports_fixture.dispatch(app) == 0
    assert db.scalar(select(func.count()).select_from(ReuseEntry)) == before


def test_a_loan_counts_as_a_purchase_avoided_by_the_configured_length(db, world):
    short = db.scalars(select(ReuseEntry).where(ReuseEntry.request_id == world["short_loan"].id)).one()
    event = db.get(events.DomainEvent, short.event_id)
    again = ledger.entries_for_event(db, event, rules=ledger.LedgerRules(loan_min_days=10))
    assert again[0].counts_as_purchase and again[0].co2e_avoided_g == 2 * 50_000
    assert not ledger.entries_for_event(db, event, rules=ledger.LedgerRules(loan_min_days=11))[0].counts_as_purchase


def test_corrections_are_reversing_entries_made_once_by_an_officer_of_the_municipality(db, world, factory):
    entry = db.scalars(select(ReuseEntry).where(ReuseEntry.request_id == world["taken"].id,
                                                ReuseEntry.kind == "take_over")).one()
    skurup_officer = factory.user(world["skurup"], ledger.Role.SUSTAINABILITY_OFFICER)
    with pytest.raises(NotAllowed):
        ledger.reverse_entry(db, entry_id=entry.id, reason="Fel", by=skurup_officer, now=utcnow())
    with pytest.raises(DomainError):
        ledger.reverse_entry(db, entry_id=entry.id, reason=" ", by=world["officer"], now=utcnow())
    reversal = ledger.reverse_entry(db, entry_id=entry.id, reason="Stolarna kom aldrig", by=world["officer"],
                                    now=utcnow())
    db.commit()
    assert (reversal.reverses_id, reversal.quantity, reversal.co2e_avoided_g) == (entry.id, -4, -200_000)
    db.refresh(entry)
    assert entry.quantity == 4  # the entry itself is never changed
    with pytest.raises(Conflict):
        ledger.reverse_entry(db, entry_id=entry.id, reason="Igen", by=world["officer"], now=utcnow())
    with pytest.raises(Conflict):
        ledger.reverse_entry(db, entry_id=reversal.id, reason="Tillbaka", by=world["officer"], now=utcnow())
    expected = dict(reports_fixture.EXPECTED)
    expected.update(pieces=10, waste_avoided_g=255_000, purchase_avoided_sek_ore=5_400_000,
                    co2e_avoided_g=490_500, net_co2e_g=485_750)
    assert sums(db) == expected


def test_two_reversals_at_once_make_one_and_the_other_is_told_it_is_reversed_already(app, db, world):
    """The second officer's check finds no reversal; the first one's is committed before the
    second writes its own: the database's unique reverses_id refuses it, as the conflict it is."""
    engine = app.extensions["sharing.engine"]
    entry = db.scalars(select(ReuseEntry).where(ReuseEntry.kind == "take_over")).one()
    db.commit()
    other_first: list[int] = []

    def meanwhile(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if other_first or not statement.lstrip().upper().startswith("INSERT INTO REUSE_ENTRY"):
            return
        other_first.append(1)
        with Session(bind=engine, expire_on_commit=False) as other:
            ledger.reverse_entry(other, entry_id=entry.id, reason="Först", by=world["officer"], now=utcnow())
            other.commit()

    event.listen(engine, "before_cursor_execute", meanwhile)
    try:
        with pytest.raises(Conflict):
            ledger.reverse_entry(db, entry_id=entry.id, reason="Samtidigt", by=world["officer"], now=utcnow())
    finally:
        event.remove(engine, "before_cursor_execute", meanwhile)
    db.rollback()
    assert other_first
    reversals = db.scalars(select(ReuseEntry).where(ReuseEntry.reverses_id == entry.id)).all()
    assert [r.reason for r in reversals] == ["Först"]


def test_a_weight_left_empty_is_the_categorys_of_the_day_the_pieces_are_reused(db, factory):
    """A listing saved without its weight takes its category's figure in force at the reuse, not
    at the listing: a correction of the figures in between reaches it (one given its own does not)."""
    category = factory.category("Skrivbord", weight_kg=30, now=utcnow() - timedelta(days=30))
    left_empty = factory.listing_published(category=category, title="Skrivbord")
    weighed = factory.listing_published(category=category, title="Skrivbord, vägt", weight_kg=28)
    factory.figures(category, weight_kg=34, now=utcnow() - timedelta(days=1))
    rules_now = ledger.LedgerRules(loan_min_days=180, displacement_rate=0.5)
    assert ledger.piece_figures(db, left_empty, at=utcnow(), rules=rules_now).weight_g == 34_000
    assert ledger.piece_figures(db, left_empty, at=utcnow() - timedelta(days=10), rules=rules_now).weight_g == 30_000
    assert ledger.piece_figures(db, weighed, at=utcnow(), rules=rules_now).weight_g == 28_000
