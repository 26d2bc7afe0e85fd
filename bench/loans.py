"""Loans benchmark: what people meet when many book at once. N listings with B bookings over
two years, on SQLite and PostgreSQL, served by gunicorn to concurrent signed-in clients:

- the listing page with its availability calendar, for listings drawn at random (many distinct
  pages), while requests are being made;
- requests made on contested listings (a few listings many people want, random dates and
  lengths): many are refused as someone was first, which is part of what is measured;
- a burst of 50 requests at the same moment for the last free pieces of one listing.

Afterwards every contested listing is checked: at no moment may its held pieces exceed its
quantity (``oversold`` counts the moments that do). Prints its figures, and last one line of
JSON with, per database, ``listing_page_p95_ms``, ``request_p95_ms``, ``oversold`` and
``bookings``, and the CPU time the server (and its database) spent per request: over the
mixed run (``cpu_ms``), then for each kind driven alone for a few seconds by the same clients
(``listing_page_cpu_ms``, ``request_cpu_ms``). Latency and throughput move with whatever else
the machine does, CPU time per request far less.

    make bench-loans                      # 10 000 listings, 200 000 bookings
    make bench-loans LOAN_LISTINGS=2000 BOOKINGS=40000
    .venv/bin/python bench/loans.py --keep-prepared instance/bench   # prepare once, copy in later runs
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import catalog as catalog_bench
from catalog import PG_SERVER, Client, Sample, log_in, on_each_database, serve, server_cpu, stop

ROOT = Path(__file__).resolve().parent.parent
CONTESTED = 40  # listings many want at once
CONTESTED_QUANTITY = 10
BURST = 50
BURST_FREE = 3


def prepare(url: str, listings: int, bookings: int) -> dict[str, object]:
    """The catalog's benchmark data, then bookings: holds spread over the past year and the next,
    1 to 30 days long, never more at once than a listing has (as the app itself would book)."""
    started = time.perf_counter()
    catalog_bench.prepare(url, listings)
    from sqlalchemy import insert, select, update
    from sqlmodel import col

    from sharing import create_app
    from sharing.catalog.holds import rules as holds
    from sharing.catalog.holds.models import Hold, HoldPurpose
    from sharing.catalog.listings.models import Listing, Visibility
    from sharing.clock import today_in_sweden, utcnow
    from sharing.db import new_session, refresh_statistics

    app = create_app({"SHARING_DATABASE_URL": url})
    rng = random.Random(17)
    today = today_in_sweden(utcnow())
    with app.app_context(), new_session() as session:
        rows = session.execute(select(col(Listing.id), col(Listing.quantity)).where(
            col(Listing.lend), col(Listing.kind) == "thing", col(Listing.visibility) == Visibility.PARTNERS.value)
        ).all()
        contested = [listing_id for listing_id, _ in rng.sample(rows, CONTESTED + 1)]
        session.execute(update(Listing).where(col(Listing.id).in_(contested))
                        .values(quantity=CONTESTED_QUANTITY, loan_max_days=None, loan_min_days=None,
                                available_from=None))
        session.commit()
        quantities = dict(rows) | {listing_id: CONTESTED_QUANTITY for listing_id in contested}
        bookable = [listing_id for listing_id in quantities if listing_id not in contested]
        # Back to back per listing, a piece at a time: never more held at once than there are.
        made, batch = 0, []
        per_listing = max(1, bookings // len(bookable))
        for listing_id in bookable:
            day = today - timedelta(days=365)
            for _ in range(per_listing):
                if made >= bookings:
                    break
                length = rng.randint(1, 30)
                period = holds.days(day, day + timedelta(days=length - 1))
                batch.append({"listing_id": listing_id, "quantity": 1, "starts_at": period.starts_at,
                              "ends_at": period.ends_at, "purpose": HoldPurpose.LOAN.value, "holder": "bench",
                              "created_at": utcnow()})
                day += timedelta(days=length + rng.randint(0, 6))
                made += 1
            if len(batch) >= 5000:
                session.execute(insert(Hold), batch)
                session.commit()
                batch.clear()
        if batch:
            session.execute(insert(Hold), batch)
            session.commit()
    with app.app_context():
        refresh_statistics()  # as the daily job does
    app.extensions["sharing.engine"].dispose()
    return {"contested": contested[:-1], "burst": contested[-1], "bookings": made,
            "listing_ids": list(quantities), "prepare_s": time.perf_counter() - started}


def prepare_or_copy(name: str, url: str, args: argparse.Namespace) -> dict[str, object]:
    """``prepare``, or (``--keep-prepared``) a copy of what an earlier run prepared: a SQLite
    file in that folder, a PostgreSQL database made from one kept on the server, and beside
    them what ``prepare`` said of the data (which listings are contested)."""
    if not args.keep_prepared:
        return prepare(url, args.listings, args.bookings)
    import shutil

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    started = time.perf_counter()
    os.environ.update(SHARING_ENV="development", SHARING_DATABASE_URL=url)  # as prepare() leaves them
    folder = Path(args.keep_prepared)
    folder.mkdir(parents=True, exist_ok=True)
    kept_name = f"bench_loans_kept_{args.listings}_{args.bookings}"
    said = folder / f"{kept_name}_{name}.json"
    if name == "sqlite":
        kept = folder / f"{kept_name}.sqlite3"
        if kept.exists() and said.exists():
            shutil.copyfile(kept, make_url(url).database)
            return json.loads(said.read_text()) | {"prepare_s": time.perf_counter() - started}
        data = prepare(url, args.listings, args.bookings)
        shutil.copyfile(make_url(url).database, kept)
        said.write_text(json.dumps(data))
        return data
    database = make_url(url).database
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            if said.exists() and connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                                   {"name": kept_name}):
                connection.execute(text(f'DROP DATABASE "{database}"'))
                connection.execute(text(f'CREATE DATABASE "{database}" TEMPLATE "{kept_name}"'))
                return json.loads(said.read_text()) | {"prepare_s": time.perf_counter() - started}
            data = prepare(url, args.listings, args.bookings)
            connection.execute(text(f'DROP DATABASE IF EXISTS "{kept_name}"'))
            connection.execute(text(f'CREATE DATABASE "{kept_name}" TEMPLATE "{database}"'))
            said.write_text(json.dumps(data))
            return data
    finally:
        admin.dispose()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # a granted request answers 302 to its page: that answer is what counts


class Requester:
    """A signed-in client that asks for pieces through the listing page's form."""

    def __init__(self, client: Client, site_id: int) -> None:
        cookies = next(h for h in client.opener.handlers if isinstance(h, urllib.request.HTTPCookieProcessor))
        self.opener = urllib.request.build_opener(cookies, _NoRedirects())
        self.client, self.site_id = client, site_id
        self.token = _token(client)

    def ask(self, listing_id: int, first: object, last: object, quantity: int = 1) -> int:
        data = urllib.parse.urlencode({
            "csrf_token": self.token, "kind": "borrow", "quantity": quantity, "first_day": str(first),
            "last_day": str(last), "delivery_site_id": self.site_id}).encode()
        try:
            with self.opener.open(self.client.base + f"/loans/ask/{listing_id}", data=data,
                                         timeout=60) as response:
                response.read()
                return response.status
        except urllib.error.HTTPError as error:
            error.read()
            return error.code


def _token(client: Client) -> str:
    import re
    with client.opener.open(client.base + "/loans/", timeout=30) as response:
        page = response.read().decode()
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def _sites(url: str) -> dict[str, int]:
    """Each demo employee's first site, where they have pieces delivered."""
    from sqlalchemy import create_engine, text
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT u.email, MIN(s.id) FROM user_account u JOIN site s ON s.municipality_id = u.municipality_id "
            "WHERE u.email LIKE 'medarbetare@%' GROUP BY u.email")).all()
    engine.dispose()
    return {email: site_id for email, site_id in rows}


def oversold(url: str, listing_ids: list[int]) -> int:
    """The moments at which a listing's unreleased holds exceed its quantity, summed over listings."""
    os.environ.update(SHARING_ENV="development", SHARING_DATABASE_URL=url)
    from sqlalchemy import select
    from sqlmodel import col

    from sharing import create_app
    from sharing.catalog.holds.models import Hold
    from sharing.catalog.listings.models import Listing
    from sharing.db import new_session

    app = create_app({"SHARING_DATABASE_URL": url})
    over = 0
    with app.app_context(), new_session() as session:
        for listing_id in listing_ids:
            quantity = session.get_one(Listing, listing_id).quantity
            changes = []
            for hold in session.scalars(select(Hold).where(col(Hold.listing_id) == listing_id,
                                                           col(Hold.released_at).is_(None))):
                changes.append((hold.starts_at, hold.quantity))
                if hold.ends_at is not None:
                    changes.append((hold.ends_at, -hold.quantity))
            held = 0
            for _at, change in sorted(changes, key=lambda c: (c[0], c[1])):
                held += change
                over += held > quantity
    app.extensions["sharing.engine"].dispose()
    return over


def bench(name: str, url: str, args: argparse.Namespace) -> dict[str, float]:
    print(f"== {name}: preparing {args.listings:,} listings and {args.bookings:,} bookings ...", flush=True)
    data = prepare_or_copy(name, url, args)
    print(f"   ready in {data['prepare_s']:.0f} s", flush=True)
    from sharing.clock import today_in_sweden, utcnow
    today = today_in_sweden(utcnow())
    process, base = serve(url, args.workers)
    try:
        clients = log_in(base, args.clients)
        sites = _sites(url)
        emails = ["medarbetare@ystad.example", "medarbetare@skurup.example", "medarbetare@trelleborg.example"]
        requesters = [Requester(client, sites[emails[n % 3]]) for n, client in enumerate(clients)]
        lock = threading.Lock()
        listing_ids, contested = data["listing_ids"], data["contested"]
        cpu = server_cpu(process, url)

        def browse(n: int, seed: int, into: Sample, stop_at: float) -> None:
            rng, mine = random.Random(seed), []
            errors = 0
            while time.perf_counter() < stop_at:
                began = time.perf_counter()
                try:
                    ok = clients[n].get(f"/catalog/{rng.choice(listing_ids)}") == 200
                except OSError:
                    ok = False
                mine.append((time.perf_counter() - began) * 1000)
                errors += not ok
            with lock:
                into.latencies.extend(mine)
                into.errors += errors

        def request(n: int, seed: int, into: Sample, stop_at: float) -> None:
            rng, mine = random.Random(seed), []
            errors = 0
            while time.perf_counter() < stop_at:
                first = today + timedelta(days=rng.randint(1, 60))
                began = time.perf_counter()
                status = requesters[n].ask(rng.choice(contested), first, first + timedelta(days=rng.randint(0, 13)))
                mine.append((time.perf_counter() - began) * 1000)
                errors += status not in (302, 422)  # asked, or refused with a reason: both are answers
            with lock:
                into.latencies.extend(mine)
                into.errors += errors

        def run(work: list[tuple[Callable[[int, int, Sample, float], None], int, int, Sample]],
                seconds: float) -> None:
            """Each (what, client, seed, sample) on a thread of its own for ``seconds``; each sample
            is told how long that took and the server's CPU time meanwhile (of all the work)."""
            stop_at = time.perf_counter() + seconds
            threads = [threading.Thread(target=what, args=(n, seed, into, stop_at)) for what, n, seed, into in work]
            began, cpu_before = time.perf_counter(), cpu()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            for into in {id(into): into for *_, into in work}.values():
                into.seconds, into.cpu_seconds = time.perf_counter() - began, cpu() - cpu_before

        half = args.clients // 2
        pages, asked = Sample(), Sample()
        run([(browse, n, n, pages) for n in range(half)]
            + [(request, n, 100 + n, asked) for n in range(half, args.clients)], args.seconds)
        # Then each kind alone, by the same clients (other listings and dates), for what it costs the server.
        pages_alone, asked_alone = Sample(), Sample()
        run([(browse, n, 200 + n, pages_alone) for n in range(half)], args.cpu_seconds)
        run([(request, n, 300 + n, asked_alone) for n in range(half, args.clients)], args.cpu_seconds)

        # The burst: BURST_FREE pieces left of one listing, BURST requests for one piece at once.
        burst_listing = data["burst"]
        first = today + timedelta(days=90)
        last = first + timedelta(days=6)
        assert requesters[0].ask(burst_listing, first, last, CONTESTED_QUANTITY - BURST_FREE) == 302
        with ThreadPoolExecutor(BURST) as pool:
            answers = list(pool.map(lambda n: requesters[n % len(requesters)].ask(burst_listing, first, last),
                                    range(BURST)))
    finally:
        stop(process)
    over = oversold(url, [*contested, burst_listing])
    page_figures, request_figures = pages.figures(), asked.figures()
    page_cpu_ms, request_cpu_ms = pages_alone.figures()["cpu_ms"], asked_alone.figures()["cpu_ms"]
    for label, figures, cpu_ms in (("listing page", page_figures, page_cpu_ms),
                                   ("requests", request_figures, request_cpu_ms)):
        print(f"   {label:13} p50 {figures['p50_ms']:7.1f} ms   p95 {figures['p95_ms']:7.1f} ms   "
              f"{figures['rps']:7.1f} req/s   {cpu_ms:6.1f} ms CPU each alone   "
              f"({figures['requests']} requests, {figures['errors']} errors)")
    mixed_cpu_ms = round(pages.cpu_seconds * 1000 / max(1, len(pages.latencies) + len(asked.latencies)), 1)
    print(f"   server CPU: {mixed_cpu_ms:.1f} ms a request in the mixed run "
          f"({pages.cpu_seconds / pages.seconds:.2f} cores busy)")
    granted = answers.count(302)
    print(f"   burst: {granted} of {BURST} granted for {BURST_FREE} free pieces, "
          f"{answers.count(422)} told no longer available, {len(answers) - granted - answers.count(422)} other; "
          f"oversold moments: {over}")
    return {"listing_page_p50_ms": page_figures["p50_ms"], "listing_page_p95_ms": page_figures["p95_ms"],
            "listing_page_rps": page_figures["rps"], "request_p50_ms": request_figures["p50_ms"],
            "request_p95_ms": request_figures["p95_ms"], "request_rps": request_figures["rps"],
            "cpu_ms": mixed_cpu_ms, "listing_page_cpu_ms": page_cpu_ms, "request_cpu_ms": request_cpu_ms,
            "burst_granted": granted, "burst_free": BURST_FREE, "oversold": over, "bookings": data["bookings"],
            "errors": sum(sample.errors for sample in (pages, asked, pages_alone, asked_alone)),
            "prepare_s": round(data["prepare_s"], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listings", type=int, default=10_000)
    parser.add_argument("--bookings", type=int, default=200_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) + 1)
    parser.add_argument("--cpu-seconds", type=float, default=5,
                        help="each kind of request driven alone this long, for its CPU time")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--keep-prepared", metavar="FOLDER",
                        help="keep what is prepared (SQLite in this folder, PostgreSQL on the server) and copy it "
                             "in later runs: for comparing changes of the code, not of the data")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    results: dict[str, object] = {"listings": args.listings, "clients": args.clients, "workers": args.workers}
    print(json.dumps(results | on_each_database(bench, args)))


if __name__ == "__main__":
    main()
