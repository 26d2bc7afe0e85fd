"""What searches cost in one process when they come as the benchmark draws them: CPU time
(``process_time``) of whole requests through the test client, split into pages served as kept
and pages rendered anew, beside the signed-in front page; a facility manager changes a listing
every ``--write-every`` searches through the catalog's rules, as the benchmark's writer does.
Signed in as the three municipalities' employees in turns, eight drawers as its eight clients.
On PostgreSQL the server's CPU time serving each request is added (its processes serving the
database, read from the kernel's count in nanoseconds): SQLite's is the process's own. The
requests are drawn alike in every run, so two versions of the code compare request for request.

    python bench/search_mix.py --database sqlite:////path/to/100k.sqlite3 --requests 3000
    python bench/search_mix.py --listings 20000                            # makes its own SQLite

Unlike ``make bench-catalog`` it has no server, no clients and no other process between the
figures: it tells where a search's CPU goes, not how fast the service answers. The database is
changed by its writes: give it a copy.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from catalog import search_addresses, zipf_weights  # noqa: E402
from search_cpu import on_a_database, signed_in  # noqa: E402

DRAWERS = 8  # as the benchmark's clients, each drawing its own addresses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", help="a prepared database (bench/catalog.py's), changed by the run")
    parser.add_argument("--listings", type=int, default=20_000, help="when the database is made here")
    parser.add_argument("--requests", type=int, default=3000, help="searches, drawn Zipf-like")
    parser.add_argument("--addresses", type=int, default=5000, help="distinct search addresses")
    parser.add_argument("--write-every", type=int, default=37, help="searches between two listings' changes")
    print(json.dumps(on_a_database(parser.parse_args(), measure)))


def measure(url: str, args: argparse.Namespace, folder: str) -> dict[str, object]:
    os.environ.update(SHARING_ENV="development", SHARING_DATABASE_URL=url)
    from sqlalchemy import func, select

    from sharing import create_app
    from sharing.accounts.models import RoleGrant, User
    from sharing.catalog.listings import rules as listings
    from sharing.catalog.listings.models import Listing
    from sharing.clock import utcnow
    from sharing.db import new_session

    app = create_app({"SHARING_DATABASE_URL": url, "PAGE_CACHE_DIR": f"{folder}/page-cache", "LOG_LEVEL": "WARNING"})
    ranked = [0]
    rank = listings.rank

    def counted_rank(*a, **k):  # type: ignore[no-untyped-def]
        ranked[0] += 1
        return rank(*a, **k)

    listings.rank = counted_rank  # type: ignore[assignment]  # the views call it through the module: a page rendered anew
    clients = signed_in(app)
    database_cpu = database_cpu_of(url)
    addresses, weights = search_addresses(args.addresses), zipf_weights(args.addresses)
    drawers = [random.Random(n) for n in range(DRAWERS)]
    writer = random.Random(5)
    spent: dict[str, list[float]] = {"kept": [], "rendered anew": [], "front page": []}
    by_database: dict[str, list[float]] = {name: [] for name in spent}  # of it, the server's (PostgreSQL)
    for n in range(args.requests):
        if n % args.write_every == 0:  # in an app context of its own: a request's must not outlive it
            with app.app_context(), new_session() as session:
                listing = session.get(Listing, writer.randint(1, session.scalar(select(func.max(Listing.id))) or 1))
                manager = listing and session.scalars(select(User).join(RoleGrant).where(
                    User.municipality_id == listing.municipality_id, RoleGrant.role == "facility_manager")).first()
                if listing is not None and manager is not None:
                    details = listings.details_of(listing)
                    details.quantity = writer.randint(1, 30)
                    listings.save_listing(session, details=details, by=manager, now=utcnow(), listing=listing)
                    session.commit()
        client = clients[n % DRAWERS % len(clients)]
        path = drawers[n % DRAWERS].choices(addresses, weights)[0]
        before, served_before = ranked[0], database_cpu()
        began = time.process_time()
        assert client.get(path).status_code == 200, path
        took = time.process_time() - began
        served = database_cpu() - served_before
        kind = "rendered anew" if ranked[0] > before else "kept"
        spent[kind].append((took + served) * 1000)
        by_database[kind].append(served * 1000)
        if n % 4 == 0:
            served_before = database_cpu()
            began = time.process_time()
            client.get("/")
            took = time.process_time() - began
            served = database_cpu() - served_before
            spent["front page"].append((took + served) * 1000)
            by_database["front page"].append(served * 1000)
    searches = spent["kept"] + spent["rendered anew"]
    figures: dict[str, object] = {name: {"requests": len(times), "cpu_ms_mean": round(statistics.mean(times), 2),
                                         "database_cpu_ms_mean": round(statistics.mean(by_database[name]), 2)}
                                  for name, times in spent.items() if times}
    figures["search_cpu_ms_mean"] = round(statistics.mean(searches), 2)
    figures["front_to_search"] = round(statistics.mean(spent["front page"]) / statistics.mean(searches), 2)
    return figures


def database_cpu_of(url: str) -> Callable[[], float]:
    """The CPU seconds PostgreSQL's processes serving this database have spent, or 0 on SQLite.
    Its backends are asked of the server every 100 reads (the app's pool keeps its connections)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    database = make_url(url)
    if database.get_backend_name() != "postgresql":
        return lambda: 0.0
    server = create_engine(database.set(database="postgres"))
    backends: list[int] = []
    reads = [0]

    def spent() -> float:
        if reads[0] % 100 == 0:
            with server.connect() as connection:
                backends[:] = connection.scalars(text("SELECT pid FROM pg_stat_activity WHERE datname = :name"),
                                                 {"name": database.database}).all()
        reads[0] += 1
        total = 0
        for pid in backends:
            try:
                total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
            except OSError:  # gone: its time is not counted any more
                continue
        return total / 1e9

    return spent


if __name__ == "__main__":
    main()
