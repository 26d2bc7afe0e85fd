"""What a fresh search costs in one process, apart from its query: CPU time (``process_time``)
of whole search requests through the test client, less the time spent in
``listings.rules.rank`` and ``map_points`` and reading the page's cards (``cards.read``), over
many distinct search addresses (``catalog.search_addresses``), with kept whole results (kept
while no change touches them) bypassed: every other kept part is kept as configured.
Signed in as the three municipalities' employees in turns.

    python bench/search_cpu.py --database sqlite:////path/to/100k.sqlite3 --searches 300
    python bench/search_cpu.py --listings 20000 --searches 300           # makes its own SQLite
    python bench/search_cpu.py ... --profile /tmp/search.prof              # cProfile of the passes

Two passes over different addresses: the first with nothing kept (a worker just started), the
second after it (what a worker that has served a while pays); then the second's addresses again
(what a search costs whose listings' cards and form a worker has kept, but not its results).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from markupsafe import Markup

if TYPE_CHECKING:
    from flask import Flask
    from flask.testing import FlaskClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from catalog import PASSWORD, prepare, search_addresses  # noqa: E402

EMPLOYEES = ["medarbetare@ystad.example", "medarbetare@skurup.example", "medarbetare@trelleborg.example"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", help="a prepared database (bench/catalog.py's); else one is made")
    parser.add_argument("--listings", type=int, default=20_000, help="when the database is made here")
    parser.add_argument("--searches", type=int, default=300, help="distinct addresses per pass")
    parser.add_argument("--kept-results", action="store_true", help="keep whole results too, as configured")
    parser.add_argument("--profile", help="write cProfile statistics of the second pass here")
    print(json.dumps(on_a_database(parser.parse_args(), measure)))


def on_a_database(args: argparse.Namespace, measure: Callable[[str, argparse.Namespace, str], dict[str, object]]
                  ) -> dict[str, object]:
    """``measure(url, args, folder)`` on ``args.database``, or on a SQLite file of
    ``args.listings`` listings prepared here; ``folder`` a temporary one for its kept parts."""
    with tempfile.TemporaryDirectory() as folder:
        url = args.database or f"sqlite:///{folder}/bench.sqlite3"
        if not args.database:
            print(f"preparing {args.listings:,} listings ...", flush=True)
            prepare(url, args.listings)
        return measure(url, args, folder)


def signed_in(app: Flask) -> list[FlaskClient]:
    """A test client signed in as each municipality's employee."""
    clients = []
    for email in EMPLOYEES:
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
        client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
        assert client.get("/catalog/").status_code == 200, "not signed in"
        clients.append(client)
    return clients


def measure(url: str, args: argparse.Namespace, folder: str) -> dict[str, object]:
    os.environ.update(SHARING_ENV="development", SHARING_DATABASE_URL=url)
    from sharing import create_app
    from sharing.catalog.listings import cards, views
    from sharing.catalog.listings import rules as listings

    app = create_app({"SHARING_DATABASE_URL": url, "PAGE_CACHE_DIR": f"{folder}/page-cache", "LOG_LEVEL": "WARNING"})
    kept = getattr(views, "checked_fragment", None)
    if kept is not None and not args.kept_results:
        # Whole results kept while no change touches them: bypassed.
        views.checked_fragment = lambda key, still_good, render: Markup(render()[1])  # type: ignore[attr-defined]
    in_query = [0.0]

    def timed(function):  # type: ignore[no-untyped-def]
        def wrapper(*a, **k):  # type: ignore[no-untyped-def]
            began = time.process_time()
            try:
                return function(*a, **k)
            finally:
                in_query[0] += time.process_time() - began
        return wrapper

    for module, name in ((listings, "rank"), (listings, "map_points"), (cards, "read")):
        setattr(module, name, timed(getattr(module, name)))  # the views call them through the module
    clients = signed_in(app)
    for client in clients:  # the first of each costs imports, template compiling, connections
        client.get("/catalog/?q=stol")
        client.get("/")
    addresses = search_addresses(2 * args.searches, seed=29)
    figures: dict[str, object] = {"searches_per_pass": args.searches, "kept_results": args.kept_results}
    for name, chunk in (("first", addresses[:args.searches]), ("after", addresses[args.searches:]),
                        ("again", addresses[args.searches:])):
        profiler = cProfile.Profile() if args.profile and name == "after" else None
        totals, outside = [], []
        for n, path in enumerate(chunk):
            in_query[0] = 0.0
            began = time.process_time()
            if profiler:
                profiler.enable()
            response = clients[n % len(clients)].get(path)
            if profiler:
                profiler.disable()
            spent = time.process_time() - began
            assert response.status_code == 200, (path, response.status_code)
            totals.append(spent * 1000)
            outside.append((spent - in_query[0]) * 1000)
        figures[name] = {"whole_ms_mean": round(statistics.mean(totals), 2),
                         "outside_query_ms_mean": round(statistics.mean(outside), 2),
                         "outside_query_ms_median": round(statistics.median(outside), 2),
                         "query_ms_mean": round(statistics.mean(totals) - statistics.mean(outside), 2)}
        if profiler:
            profiler.dump_stats(args.profile)
        for kept_name, kept_parts in app.extensions.items():  # what each worker keeps in memory, if anything
            if hasattr(kept_parts, "hits") and hasattr(kept_parts, "misses"):
                asked = kept_parts.hits + kept_parts.misses
                figures[name][kept_name] = f"{kept_parts.hits / max(1, asked):.0%} of {asked} kept"
                kept_parts.hits = kept_parts.misses = 0
    front = []
    for n in range(100):
        began = time.process_time()
        clients[n % len(clients)].get("/")
        front.append((time.process_time() - began) * 1000)
    figures["front_page_ms_mean"] = round(statistics.mean(front), 2)
    return figures


if __name__ == "__main__":
    main()
