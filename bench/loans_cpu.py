"""What a listing page and a request cost in one process: CPU time (``process_time``) of whole
requests through the test client, on a copy of a database ``bench/loans.py --keep-prepared``
kept, with the statements each sends; on PostgreSQL the CPU time of the database's own
processes too (from /proc). Listings drawn at random (many distinct pages), requests on the
contested listings at random dates, signed in as the three municipalities' employees in turns.

    .venv/bin/python bench/loans.py --keep-prepared instance/bench --databases sqlite   # once
    .venv/bin/python bench/loans_cpu.py --keep-prepared instance/bench --database sqlite
    .venv/bin/python bench/loans_cpu.py ... --database postgresql --profile /tmp/loans.prof

Prints one line of JSON: per kind, the mean and median CPU milliseconds, the statements, and
(PostgreSQL) the database's milliseconds. With ``--profile``, cProfile statistics of each kind
go to PROFILE.page and PROFILE.request.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from catalog import PASSWORD, PG_SERVER  # noqa: E402

EMPLOYEES = ["medarbetare@ystad.example", "medarbetare@skurup.example", "medarbetare@trelleborg.example"]
TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def copy_of_kept(args: argparse.Namespace, folder: str) -> tuple[str, dict[str, Any], Callable[[], float]]:
    """A copy of what bench/loans.py kept, what it said of it, and a clock of the CPU seconds the
    database's own processes have spent (none on SQLite)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    kept = Path(args.keep_prepared) / f"bench_loans_kept_{args.listings}_{args.bookings}"
    data = json.loads(Path(f"{kept}_{args.database}.json").read_text())
    if args.database == "sqlite":
        shutil.copyfile(f"{kept}.sqlite3", f"{folder}/loans.sqlite3")
        return f"sqlite:///{folder}/loans.sqlite3", data, lambda: 0.0
    name = f"bench_loans_cpu_{os.getpid()}"
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{kept.name}"'))
    tick = os.sysconf("SC_CLK_TCK")

    def database_cpu() -> float:
        with admin.connect() as connection:
            pids = connection.scalars(text("SELECT pid FROM pg_stat_activity WHERE datname = :name"),
                                      {"name": name}).all()
        spent = 0.0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            spent += (int(fields[11]) + int(fields[12])) / tick
        return spent

    url = make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
    return url, data | {"_drop": lambda: _drop(admin, name)}, database_cpu


def _drop(admin: Any, name: str) -> None:
    from sqlalchemy import text
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def measure(url: str, data: dict[str, Any], database_cpu: Callable[[], float],
            args: argparse.Namespace, folder: str) -> dict[str, object]:
    os.environ.update(SHARING_ENV="production", SHARING_DATABASE_URL=url, SHARING_SECRET_KEY="b" * 64,
                      SHARING_SECURE_COOKIES="false", SHARING_LOG_LEVEL="ERROR", SHARING_MFA_REQUIRED_ROLES="",
                      SHARING_GEOCODER="none", SHARING_PAGE_CACHE_DIR=f"{folder}/page-cache")
    from sqlalchemy import create_engine, event, text

    from sharing import create_app
    from sharing.clock import today_in_sweden, utcnow
    from sharing.mail import wait_for_background_mail

    app = create_app({"SHARING_DATABASE_URL": url})
    statements = [0]

    def count(*_: object) -> None:
        statements[0] += 1

    event.listen(app.extensions["sharing.engine"], "before_cursor_execute", count)
    engine = create_engine(url)
    with engine.connect() as connection:
        sites = {email: site_id for email, site_id in connection.execute(text(
            "SELECT u.email, MIN(s.id) FROM user_account u JOIN site s ON s.municipality_id = u.municipality_id "
            "WHERE u.email LIKE 'medarbetare@%' GROUP BY u.email"))}
    engine.dispose()
    clients = []
    for email in EMPLOYEES:
        client = app.test_client()
        found = TOKEN.search(client.get("/login").get_data(as_text=True))
        assert found
        client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": found.group(1)})
        found = TOKEN.search(client.get("/loans/").get_data(as_text=True))
        assert found, "not signed in"
        clients.append((client, found.group(1), sites[email]))
    rng = random.Random(3)
    today = today_in_sweden(utcnow())

    def page(n: int) -> int:
        return clients[n % 3][0].get(f"/catalog/{rng.choice(data['listing_ids'])}").status_code

    def request(n: int) -> int:
        client, token, site_id = clients[n % 3]
        first = today + timedelta(days=rng.randint(1, 60))
        status = client.post(f"/loans/ask/{rng.choice(data['contested'])}", data={
            "csrf_token": token, "kind": "borrow", "quantity": 1, "first_day": str(first),
            "last_day": str(first + timedelta(days=rng.randint(0, 13))), "delivery_site_id": site_id}).status_code
        wait_for_background_mail()  # what the request left to a thread of its own counts too
        return status

    for n in range(10):  # the first of each: imports, templates compiled, connections
        page(n)
        request(n)
    figures: dict[str, object] = {"database": args.database}
    for name, run, answers in (("page", page, (200,)), ("request", request, (302, 422))):
        profiler = cProfile.Profile() if args.profile else None
        spent, sent = [], []
        database_before = database_cpu()
        for n in range(args.count):
            statements[0] = 0
            began = time.process_time()
            if profiler:
                profiler.enable()
            status = run(n)
            if profiler:
                profiler.disable()
            spent.append((time.process_time() - began) * 1000)
            sent.append(statements[0])
            assert status in answers, (name, status)
        if profiler:
            profiler.dump_stats(f"{args.profile}.{name}")
        figures[name] = {"cpu_ms_mean": round(statistics.mean(spent), 2),
                         "cpu_ms_median": round(statistics.median(spent), 2),
                         "statements": round(statistics.mean(sent), 1),
                         "database_cpu_ms": round((database_cpu() - database_before) * 1000 / args.count, 2)}
    app.extensions["sharing.engine"].dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep-prepared", metavar="FOLDER", required=True, help="as given to bench/loans.py")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--listings", type=int, default=10_000)
    parser.add_argument("--bookings", type=int, default=200_000)
    parser.add_argument("--count", type=int, default=300, help="pages, then requests")
    parser.add_argument("--profile", help="write cProfile statistics here (.page, .request)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url, data, database_cpu = copy_of_kept(args, folder)
        try:
            print(json.dumps(measure(url, data, database_cpu, args, folder)))
        finally:
            if "_drop" in data:
                data["_drop"]()


if __name__ == "__main__":
    main()
