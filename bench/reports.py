"""Reports benchmark: a ledger of N reuse events over five years and the three municipalities,
on SQLite and PostgreSQL. Prints the time to build the dashboard's figures of one year of every
municipality (four grouped queries), the time of each export of that year (CSV, XLSX, PDF) and
each export's peak memory (Python's allocations while it runs again, traced by tracemalloc), and last one line
of JSON with, per database, ``events``, ``dashboard_ms``, ``csv_ms``, ``xlsx_ms``, ``pdf_ms``
and ``export_peak_mb``.

The ledger's rows are written in bulk, as the receiver would write them for each event (one
entry an event, of the fixture's kinds and figures): a million events through loans' rules
would take hours and measure loans, not reports.

    make bench-reports                 # 1 000 000 events
    make bench-reports EVENTS=100000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
import tracemalloc
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("SHARING_ENV", "development")

from bench.catalog import postgres_database  # noqa: E402
from sharing import create_app  # noqa: E402

FIRST_DAY = date(2021, 1, 1)
DAYS = 5 * 365
BATCH = 20_000


def prepare(app, events: int) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import insert
    from sqlmodel import Session

    from sharing.accounts.models import Municipality
    from sharing.catalog.categories.models import Category
    from sharing.models import metadata
    from sharing.reports.ledger.models import ReuseEntry

    engine = app.extensions["sharing.engine"]
    metadata.create_all(engine)
    with Session(engine) as session:
        municipalities = [Municipality(name=name, code=code, slug=name.lower()) for name, code in (
            ("Ystad", "1286"), ("Skurup", "1264"), ("Trelleborg", "1287"))]
        categories = [Category(slug=f"bench-{n}", name=f"Kategori {n}", name_en=f"Category {n}") for n in range(20)]
        session.add_all([*municipalities, *categories])
        session.commit()
        m_ids = [m.id for m in municipalities]
        c_ids = [c.id for c in categories]
    rng = random.Random(17)
    kinds = ("take_over", "swap", "loan", "transport")
    with engine.begin() as connection:
        rows = []
        for n in range(events):
            day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
            kind = kinds[rng.randrange(4)]
            giver, receiver = rng.sample(m_ids, 2)
            quantity = 0 if kind == "transport" else rng.randint(1, 12)
            weight = quantity * rng.choice((6000, 15000, 30000, 45000))
            rows.append({
                "event_id": n + 1, "line": 0, "kind": kind, "reason": "", "created_at": datetime.now(timezone.utc),
                "occurred_at": datetime(day.year, day.month, day.day, 10, tzinfo=timezone.utc), "day": day,
                "month": day.year * 100 + day.month, "request_id": n + 1, "listing_id": n + 1,
                "category_id": rng.choice(c_ids), "quantity": quantity, "from_municipality_id": giver,
                "to_municipality_id": receiver, "counts_as_purchase": True, "weight_g": weight,
                "waste_avoided_g": weight, "purchase_avoided_sek_ore": quantity * 450_000,
                "co2e_avoided_g": quantity * 50_000, "transport_co2e_g": rng.randint(500, 5000) if kind == "transport"
                else 0, "distance_m": 0, "factor_kind": "production", "factor_source": "Bench",
                "displacement_permille": 500})
            if len(rows) == BATCH:
                connection.execute(insert(ReuseEntry), rows)
                rows = []
        if rows:
            connection.execute(insert(ReuseEntry), rows)
        if connection.dialect.name == "postgresql":
            from sqlalchemy import text
            connection.execute(text("ANALYZE reuse_entry"))


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
        started = time.perf_counter()
        shown = figures(session, year)
        result["dashboard_ms"] = round((time.perf_counter() - started) * 1000, 1)
        print(f"   dashboard figures of 2024: {result['dashboard_ms']} ms ({shown.totals.entries} entries)")
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
                    formats.write_pdf(out, figures(session, year), found_names, methodology=["-"], title="Bench")
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
    print(f"   ledger written in {time.perf_counter() - started:.0f} s")
    try:
        return measure(app, events)
    finally:
        app.extensions["sharing.engine"].dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as folder:
        if "sqlite" in args.databases:
            results["sqlite"] = run("sqlite", f"sqlite:///{folder}/bench.sqlite3", args.events)
        if "postgresql" in args.databases:
            database = postgres_database()
            if database is not None:
                url, drop = database
                try:
                    results["postgresql"] = run("postgresql", url, args.events)
                finally:
                    drop()  # type: ignore[operator]
    print(json.dumps(results))


if __name__ == "__main__":
    main()
