"""Reports benchmark: a ledger of N reuse events over five years and the three municipalities,
on SQLite and PostgreSQL. Prints the time to build the dashboard's figures of one year of every
municipality (one statement; the median of five runs), the time of each export of that year (CSV, XLSX, PDF) and
each export's peak memory (Python's allocations while it runs again, traced by tracemalloc), and last one line
of JSON with, per database, ``events``, ``dashboard_ms``, ``csv_ms``, ``xlsx_ms``, ``pdf_ms``
and ``export_peak_mb``.

The ledger's rows are written in bulk, as the receiver would write them for each event (one
entry an event, of the fixture's kinds and figures): a million events through loans' rules
would take hours and measure loans, not reports.

    make bench-reports                 # 1 000 000 events
    make bench-reports EVENTS=100000
    make bench-reports BENCH_KEEP=/tmp/reports-bench    # keep the ledgers for the next run
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("SHARING_ENV", "development")

from bench.catalog import PG_SERVER, postgres_database  # noqa: E402
from sharing import create_app  # noqa: E402

FIRST_DAY = date(2021, 1, 1)
DAYS = 5 * 365
BATCH = 20_000


def write_ledger(engine, events: int) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import insert
    from sqlmodel import Session

    from sharing.accounts.models import Municipality
    from sharing.catalog.categories.models import Category, CategoryFactor
    from sharing.reports.ledger.models import ReuseEntry

    with Session(engine) as session:
        municipalities = [Municipality(name=name, code=code, slug=name.lower()) for name, code in (
            ("Ystad", "1286"), ("Skurup", "1264"), ("Trelleborg", "1287"))]
        categories = [Category(slug=f"bench-{n}", name=f"Kategori {n}", name_en=f"Category {n}") for n in range(20)]
        session.add_all([*municipalities, *categories])
        session.flush()
        factors = [CategoryFactor(category_id=c.id, version=1, weight_kg=weight, new_price_sek=price,
                                  co2e_new_kg=100, co2e_kind="production", source=f"Bench EPD {c.id}",
                                  valid_from=datetime(2020, 1, 1, tzinfo=timezone.utc))
                   for c, weight, price in zip(categories, [6, 15, 30, 45] * 5, [900, 4500, 2500, 12000] * 5)]
        session.add_all(factors)
        session.commit()
        m_ids = [m.id for m in municipalities]
        by_category = [(f.category_id, f.id, round(f.weight_kg * 1000), round(f.new_price_sek * 100), f.source)
                       for f in factors]
    rng = random.Random(17)
    kinds = ("take_over", "swap", "loan", "transport")
    created = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with engine.begin() as connection:
        rows = []
        for n in range(events):
            day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
            kind = kinds[rng.randrange(4)]
            giver, receiver = rng.sample(m_ids, 2)
            category_id, factor_id, weight_g, price_ore, source = by_category[rng.randrange(len(by_category))]
            row = {"event_id": n + 1, "line": 0, "kind": kind, "reason": "", "created_at": created,
                   "occurred_at": datetime(day.year, day.month, day.day, 10, tzinfo=timezone.utc), "day": day,
                   "month": day.year * 100 + day.month, "request_id": n + 1, "listing_id": n + 1,
                   "category_id": category_id, "from_municipality_id": giver, "to_municipality_id": receiver,
                   "counts_as_purchase": True, "quantity": 0, "weight_g": 0, "waste_avoided_g": 0,
                   "purchase_avoided_sek_ore": 0, "co2e_avoided_g": 0, "transport_co2e_g": 0, "distance_m": 0,
                   "factor_id": None, "factor_version": None, "factor_kind": "transport",
                   "factor_source": "Bench vehicle (distance)", "displacement_permille": None}
            if kind == "transport":  # as logistics attributes a route's CO2e to a request
                row["transport_co2e_g"] = rng.randint(500, 5000)
                row["distance_m"] = rng.randint(2000, 40000)
            else:  # as the ledger's rules write a reuse: a production figure times the displacement rate
                quantity = rng.randint(1, 12)
                counts = kind != "loan" or rng.random() < 0.8  # a short loan avoids no purchase
                row.update(quantity=quantity, weight_g=quantity * weight_g, counts_as_purchase=counts,
                           waste_avoided_g=quantity * weight_g if counts else 0,
                           purchase_avoided_sek_ore=quantity * price_ore if counts else 0,
                           co2e_avoided_g=quantity * 50_000 if counts else 0, factor_id=factor_id,
                           factor_version=1, factor_kind="production", factor_source=source,
                           displacement_permille=500)
            rows.append(row)
            if len(rows) == BATCH:
                connection.execute(insert(ReuseEntry), rows)
                rows = []
        if rows:
            connection.execute(insert(ReuseEntry), rows)


def prepare(app, events: int) -> None:  # type: ignore[no-untyped-def]
    """The ledger of ``events`` events, unless the database holds it already (``--keep``)."""
    from sqlalchemy import func, select, text

    from sharing.models import metadata
    from sharing.reports.ledger.models import ReuseEntry

    engine = app.extensions["sharing.engine"]
    metadata.create_all(engine)
    with engine.begin() as connection:
        # A kept database made before an index was added gets it now (create_all skips existing tables).
        for index in ReuseEntry.__table__.indexes:  # type: ignore[attr-defined]
            index.create(connection, checkfirst=True)
        held = connection.scalar(select(func.count()).select_from(ReuseEntry.__table__))  # type: ignore[arg-type]
    if held == events:
        print(f"   the ledger of {events} events is there already (kept)")
    elif held:
        raise SystemExit(f"the database holds {held} entries, not {events}: remove it first")
    else:
        write_ledger(engine, events)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        # As a database in use has it: the planner's statistics (the daily job refreshes them), and on
        # PostgreSQL the pages marked all-visible, as autovacuum leaves an append-only table (index-only scans).
        connection.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))


def measure(app, events: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    from sqlmodel import Session

    from sharing.reports.dashboard.rules import Selection, figures
    from sharing.reports.exports import formats
    from sharing.reports.names import names

    engine = app.extensions["sharing.engine"]
    year = Selection(date(2024, 1, 1), date(2024, 12, 31))
    result: dict[str, object] = {"events": events}
    with app.test_request_context(), Session(engine) as session:
        found_names = names(session, "sv")
        figures(session, year)  # warm the caches once, as a running server has them
        runs = []
        for _ in range(5):  # the median: the machine may be busy with something else for a moment
            started = time.perf_counter()
            shown = figures(session, year)
            runs.append((time.perf_counter() - started) * 1000)
        result["dashboard_ms"] = round(statistics.median(runs), 1)
        print(f"   dashboard figures of 2024: {result['dashboard_ms']} ms, the median of 5 runs "
              f"({min(runs):.0f}-{max(runs):.0f} ms; {shown.totals.entries} entries)")
        peaks = []

        def export(name: str) -> int:
            with tempfile.TemporaryFile() as out:
                if name == "csv":
                    for chunk in formats.csv_chunks(session, year, found_names, {}):
                        out.write(chunk.encode())
                elif name == "xlsx":
                    formats.write_xlsx(out, session, year, found_names, {}, methodology=["-"],
                                       factor_kind_labels={})
                else:
                    formats.write_pdf(out, figures(session, year), found_names, methodology=["-"], loan_min_days=90)
                return out.tell()

        for name in ("csv", "xlsx", "pdf"):
            started = time.perf_counter()
            size = export(name)
            elapsed = (time.perf_counter() - started) * 1000
            # Memory in a second run: tracing every allocation slows the first one's clock.
            tracemalloc.start()
            export(name)
            peak = tracemalloc.get_traced_memory()[1] / 1024 / 1024
            tracemalloc.stop()
            result[f"{name}_ms"] = round(elapsed, 1)
            result[f"{name}_peak_mb"] = round(peak, 1)
            peaks.append(peak)
            print(f"   {name}: {elapsed:.0f} ms, {size / 1024 / 1024:.1f} MB, peak memory {peak:.1f} MB")
        result["export_peak_mb"] = round(max(peaks), 1)
    return result


def run(label: str, url: str, events: int) -> dict[str, object]:
    print(f"== {label}: {events} events")
    app = create_app({"SHARING_DATABASE_URL": url})
    started = time.perf_counter()
    prepare(app, events)
    print(f"   ledger ready in {time.perf_counter() - started:.0f} s")
    try:
        return measure(app, events)
    finally:
        app.extensions["sharing.engine"].dispose()


def kept_postgres_database(events: int) -> str | None:
    """A database of the bench's own name for this size, made once and kept (``--keep``)."""
    from sqlalchemy import create_engine, text

    name = f"bench_reports_{events}"
    try:
        admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            if connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}) is None:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception as error:  # noqa: BLE001 - no server: the SQLite figures still stand
        print(f"== postgresql: skipped ({error.__class__.__name__}: {error})")
        return None
    return PG_SERVER.rsplit("/", 1)[0] + f"/{name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--keep", metavar="FOLDER",
                        help="keep the prepared ledgers for the next run: the SQLite file in FOLDER, on PostgreSQL "
                             "the database bench_reports_<events> (drop it by hand when done)")
    args = parser.parse_args()
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(args.keep or temporary)
        folder.mkdir(parents=True, exist_ok=True)
        if "sqlite" in args.databases:
            results["sqlite"] = run("sqlite", f"sqlite:///{folder}/reports-{args.events}.sqlite3", args.events)
        if "postgresql" in args.databases:
            if args.keep:
                url = kept_postgres_database(args.events)
                if url is not None:
                    results["postgresql"] = run("postgresql", url, args.events)
            elif (database := postgres_database()) is not None:
                url, drop = database
                try:
                    results["postgresql"] = run("postgresql", url, args.events)
                finally:
                    drop()  # type: ignore[operator]
    print(json.dumps(results))


if __name__ == "__main__":
    main()
