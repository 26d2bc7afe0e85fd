"""Catalog benchmark: search as real traffic meets it. N listings, on SQLite and PostgreSQL,
driven through gunicorn by concurrent signed-in clients:

- thousands of distinct search addresses (words, some mistyped, times filters, sorts and
  pages), drawn Zipf-like: a few are asked often, most once or twice;
- a writer changing a listing every half second meanwhile, as facility managers do (each
  change retires the kept search results it may touch);
- the same app's signed-in front page, driven in turns with the searches, as the reference.

Prints its figures, and last one line of JSON with, per database, ``longtail_search_p95_ms``,
``longtail_search_rps`` and ``front_rps``, and the CPU time the server (and its database) spent
per request of each kind (``longtail_search_cpu_ms``, ``front_cpu_ms``): latency and throughput
move with whatever else the machine does, CPU time per request far less.

    make bench-catalog                  # 100 000 listings
    make bench-catalog LISTINGS=20000
    .venv/bin/python bench/catalog.py --keep-prepared instance/bench   # prepare once, copy in later runs
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import math
import os
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
WORDS = ["stol", "kontorsstol", "skrivbord", "soffa", "bokhylla", "lampa", "skåp", "bord ek", "mötesrum",
         "hurts", "bildskärm", "stolar svart", "höj sänkbart", "matta", "förråd", "leksaker", "kylskåp",
         "fåtölj", "konferensbord", "gardiner", "stolarna", "datorer", "whiteboard", "projektor", "soffor",
         "pall", "bänk", "hylla vit", "skrivare", "kontorsstil", "fatolj", "skrivbrod", "lådor", "cyklar",
         "sängar", "bord", "lampor", "ystad stol", "mattor", "klädhängare"]
FILTERS = ["", "&kind=thing", "&offer=give_away", "&offer=lend", "&condition=as_new&condition=very_good",
           "&sort=newest", "&sort=title", "&kind=place", "&condition=good", "&offer=swap&kind=thing",
           "&available_from=2027-01-15", "&sort=newest&offer=lend"]
PAGES = ["", "&page=2", "&page=3"]
MUNICIPALITIES = ["", "&municipality_id=1", "&municipality_id=2", "&municipality_id=3"]
WRITES_PER_SECOND = 2
PASSWORD = "demo-delning-skane-2026"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prepare(url: str, listings: int) -> float:
    """Migrate, load the demo data and N generated listings; returns the seconds it took."""
    os.environ.update(SHARING_ENV="development", SHARING_DATABASE_URL=url)
    from sharing import create_app
    from sharing.accounts import demo as accounts_demo
    from sharing.catalog import demo as catalog_demo
    from sharing.catalog.listings import search as catalog_search
    from sharing.clock import utcnow
    from sharing.db import new_session, refresh_statistics

    started = time.perf_counter()
    migrate(url)
    app = create_app({"SHARING_DATABASE_URL": url})
    with app.app_context():
        with new_session() as session:
            accounts_demo.load(session)
            catalog_demo.load_reference_categories(session)
            session.commit()
            batch: list = []
            for listing in catalog_demo.generate(session, count=listings, seed=7, now=utcnow()):
                batch.append(listing)
                if len(batch) == 5000:
                    session.add_all(batch)
                    catalog_search.remember_words(session, [made.search_text for made in batch])
                    session.commit()
                    batch.clear()
            session.add_all(batch)
            catalog_search.remember_words(session, [made.search_text for made in batch])
            session.commit()
        refresh_statistics()  # as the daily job does
    app.extensions["sharing.engine"].dispose()
    settle(url)
    return time.perf_counter() - started


def settle(url: str) -> None:
    """PostgreSQL: vacuum, as autovacuum does within minutes of a load or of a migration that
    rewrites the table, so that the service is measured as it runs, not as it is right after a
    load: a copy of a database never vacuumed searched half again as slowly (fresh searches'
    candidates at 100,000 listings took 6.3 ms on average, against 3.9 once vacuumed)."""
    from sqlalchemy import create_engine, text

    if not url.startswith("postgresql"):
        return
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()


class Client:
    """A logged-in browser-like client (cookies, CSRF token from the login form)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> int:
        with self.opener.open(self.base + path, timeout=30) as response:
            response.read()
            return response.status

    def login(self, email: str) -> None:
        with self.opener.open(self.base + "/login", timeout=30) as response:
            page = response.read().decode()
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({"email": email, "password": PASSWORD, "csrf_token": token}).encode()
        with self.opener.open(self.base + "/login", data=data, timeout=30) as response:
            response.read()


@dataclass
class Sample:
    """What the clients saw of one kind of request, summed over the rounds it was driven."""

    latencies: list[float] = field(default_factory=list)
    paths: set[str] = field(default_factory=set)
    errors: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # the server's (and its database's), while these were driven

    def figures(self) -> dict[str, float]:
        latencies = sorted(self.latencies)
        return {"requests": len(latencies), "errors": self.errors,
                "p50_ms": round(statistics.median(latencies), 1),
                "p95_ms": round(latencies[math.ceil(len(latencies) * 0.95) - 1], 1),  # nearest rank
                "rps": round(len(latencies) / self.seconds, 1),
                "cpu_ms": round(self.cpu_seconds * 1000 / max(1, len(latencies)), 1)}


def log_in(base: str, clients: int) -> list[Client]:
    sessions = [Client(base) for _ in range(clients)]
    for n, client in enumerate(sessions):
        client.login(["medarbetare@ystad.example", "medarbetare@skurup.example",
                      "medarbetare@trelleborg.example"][n % 3])
    return sessions


Paths = tuple[list[str], list[float] | None]  # the addresses, and how often each is asked (None: alike)


def drive(sessions: list[Client], paths: Paths, seconds: float, into: Sample | None = None, draw: int = 0) -> Sample:
    """Each client, in a thread of its own, requests paths drawn by their weights for ``seconds``.
    ``draw`` numbers the drive: each draws other paths (a round must not ask again what the last asked)."""
    sample = into if into is not None else Sample()
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    addresses, weights = paths

    def work(client: Client, rng: random.Random) -> None:
        mine: list[float] = []
        asked: set[str] = set()
        errors = 0
        while time.perf_counter() < stop:
            path = rng.choices(addresses, weights)[0]
            began = time.perf_counter()
            try:
                ok = client.get(path) == 200
            except OSError:
                ok = False
            mine.append((time.perf_counter() - began) * 1000)
            asked.add(path)
            errors += not ok
        with lock:
            sample.latencies.extend(mine)
            sample.paths |= asked
            sample.errors += errors

    threads = [threading.Thread(target=work, args=(c, random.Random(draw * len(sessions) + i)))
               for i, c in enumerate(sessions)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sample.seconds += time.perf_counter() - began
    return sample


def drive_in_turns(turns: dict[str, tuple[list[Client], Paths]], seconds: float, rounds: int,
                   cpu: Callable[[], float] = lambda: 0.0) -> dict[str, Sample]:
    """Drive each kind of request in turn, ``rounds`` times for ``seconds / rounds`` each: a
    slow spell of the machine falls on all of them alike, not on one. ``cpu()`` tells the CPU
    seconds the server has spent so far: what each kind costs it, however busy the machine."""
    samples = {name: Sample() for name in turns}
    for round_ in range(rounds):
        for name, (sessions, paths) in turns.items():
            before = cpu()
            drive(sessions, paths, seconds / rounds, into=samples[name], draw=round_)
            samples[name].cpu_seconds += cpu() - before
    return samples


def server_cpu(process: subprocess.Popen, url: str) -> Callable[[], float]:
    """The CPU seconds gunicorn's processes have spent (the workers, and those it has recycled)
    and, on PostgreSQL, the server's processes (the backends serving the bench, the writer's
    too, and those that have exited: a recycled worker's connections end with it, and their
    backends' time with them if they were counted one by one). Each parent counts the time of
    the children it has reaped (/proc's cutime, cstime)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    tick = os.sysconf("SC_CLK_TCK")

    def spent(pid: int, children: bool = False) -> float:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            return 0.0
        return sum(int(n) for n in fields[11:15 if children else 13]) / tick  # utime stime (cutime cstime)

    def parent_of(pid: int) -> int:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])

    def children_of(parent: int) -> list[int]:
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if parent_of(int(entry.name)) == parent:
                        found.append(int(entry.name))
                except (OSError, IndexError, ValueError):
                    continue
        return found

    def tree(root: int) -> float:
        return spent(root, children=True) + sum(spent(pid) for pid in children_of(root))

    postmaster = None
    if make_url(url).get_backend_name() == "postgresql":
        server = create_engine(PG_SERVER)
        with server.connect() as connection:  # the server runs on this machine
            postmaster = parent_of(connection.scalar(text("SELECT pg_backend_pid()")))
        server.dispose()  # no connection of ours left open to count

    def cpu() -> float:
        return tree(process.pid) + (tree(postmaster) if postmaster is not None else 0.0)

    return cpu


def serve(url: str, workers: int, **settings: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, **settings, "SHARING_ENV": "production", "SHARING_DATABASE_URL": url,
           "SHARING_SECRET_KEY": secrets.token_hex(32), "SHARING_SECURE_COOKIES": "false",
           "SHARING_LOG_LEVEL": "WARNING", "SHARING_MFA_REQUIRED_ROLES": "",
           "SHARING_LOGIN_MAX_FAILURES_PER_ADDRESS": "100000",
           "SHARING_GEOCODER": "none"}  # production settings, but no request to a geocoder
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--threads", "1", "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if Client(base).get("/healthz") == 200:
                return process, base
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("gunicorn did not start")


def search_addresses(count: int, seed: int = 11) -> list[str]:
    """``count`` distinct search addresses (words x filters x pages), most popular first."""
    rng = random.Random(seed)
    combos = [f"/catalog/?q={urllib.parse.quote(words)}{filters}{where}{page}"
              for words in WORDS for filters in FILTERS for where in MUNICIPALITIES for page in PAGES]
    rng.shuffle(combos)
    return combos[:count]


def zipf_weights(count: int, exponent: float = 1.1) -> list[float]:
    return [1 / (rank ** exponent) for rank in range(1, count + 1)]


def keep_writing(url: str, stop_at: threading.Event, counter: list[int]) -> None:
    """A facility manager changing listings while the others search: each change is a new
    catalog revision (committed through the catalog's rules, as the edit page does)."""
    from sqlalchemy import func, select

    from sharing import create_app
    from sharing.accounts.models import RoleGrant, User
    from sharing.catalog.listings import rules as listings
    from sharing.catalog.listings.models import Listing
    from sharing.clock import utcnow
    from sharing.db import new_session

    app = create_app({"SHARING_DATABASE_URL": url})
    rng = random.Random(5)
    with app.app_context(), new_session() as session:
        highest = session.scalar(select(func.max(Listing.id))) or 0
        while not stop_at.wait(1 / WRITES_PER_SECOND):
            listing = session.get(Listing, rng.randint(1, highest))
            manager = session.scalars(select(User).join(RoleGrant).where(
                User.municipality_id == listing.municipality_id, RoleGrant.role == "facility_manager")).first()
            if listing is None or manager is None:
                continue
            details = listings.details_of(listing)
            details.quantity = rng.randint(1, 30)
            listings.save_listing(session, details=details, by=manager, now=utcnow(), listing=listing)
            session.commit()
            counter[0] += 1
    app.extensions["sharing.engine"].dispose()


def migrate(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.attributes.update(database_url=url, configure_logging=False)
    command.upgrade(config, "head")


def stemming() -> str:
    """How the code indexes words now, as a short fingerprint of the code whose output is stored
    (a listing's stemmed words, the vocabulary's keys): what was kept indexed otherwise (before a
    change of the stemming) is not reused, since its searches would find otherwise."""
    import hashlib
    import inspect
    from importlib.metadata import version

    from sharing.catalog.listings import rules, search, search_index

    stored = [search._stem, search.words, search.document, search._variants, rules.index, search_index.word_endings]
    code = "\n".join(inspect.getsource(function) for function in stored) + version("snowballstemmer")
    return hashlib.sha256(code.encode()).hexdigest()[:8]


def prepare_or_copy(name: str, url: str, args: argparse.Namespace) -> float:
    """``prepare``, or (``--keep-prepared``) a copy of what an earlier run prepared, which
    takes seconds rather than minutes: a SQLite file in that folder, a PostgreSQL database
    made from one kept on the server. What is kept is first brought up to the code's migrations,
    and kept apart for each way of stemming (``stemming``). Returns the seconds it took."""
    if not args.keep_prepared:
        return prepare(url, args.listings)
    import shutil

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    started = time.perf_counter()
    os.environ.update(SHARING_ENV="development", SHARING_DATABASE_URL=url)  # as prepare() leaves them
    if name == "sqlite":
        kept = Path(args.keep_prepared) / f"catalog-{args.listings}-{stemming()}.sqlite3"
        if not kept.exists():
            prepare(url, args.listings)
            kept.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(make_url(url).database, kept)
        else:
            migrate(f"sqlite:///{kept}")
            shutil.copyfile(kept, make_url(url).database)
        return time.perf_counter() - started
    database, kept_name = make_url(url).database, f"bench_catalog_kept_{args.listings}_{stemming()}"
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": kept_name}):
            kept_url = make_url(url).set(database=kept_name).render_as_string(hide_password=False)
            migrate(kept_url)
            settle(kept_url)  # quick when nothing is left to do
            connection.execute(text(f'DROP DATABASE "{database}"'))
            connection.execute(text(f'CREATE DATABASE "{database}" TEMPLATE "{kept_name}"'))
        else:
            prepare(url, args.listings)
            connection.execute(text(f'CREATE DATABASE "{kept_name}" TEMPLATE "{database}"'))
    admin.dispose()
    return time.perf_counter() - started


def bench(name: str, url: str, args: argparse.Namespace) -> dict[str, float]:
    print(f"== {name}: preparing {args.listings:,} listings ...", flush=True)
    prepared = prepare_or_copy(name, url, args)
    print(f"   ready in {prepared:.0f} s", flush=True)
    addresses = search_addresses(args.addresses)
    weights = zipf_weights(len(addresses))
    process, base = serve(url, args.workers)
    writes, stop_writing = [0], threading.Event()
    writer = threading.Thread(target=keep_writing, args=(url, stop_writing, writes))
    try:
        signed_in = log_in(base, args.clients)
        drive(signed_in, (["/"], None), 1)  # warm-up: workers import and connect
        writer.start()
        samples = drive_in_turns({"longtail": (signed_in, (addresses, weights)), "front": (signed_in, (["/"], None))},
                                 args.seconds, args.rounds, cpu=server_cpu(process, url))
    finally:
        stop_writing.set()
        if writer.is_alive():
            writer.join()
        stop(process)
    longtail, front = samples["longtail"].figures(), samples["front"].figures()
    asked = len(samples["longtail"].paths)
    for label, figures in (("long-tail search", longtail), ("front page", front)):
        print(f"   {label:17} p50 {figures['p50_ms']:7.1f} ms   p95 {figures['p95_ms']:7.1f} ms   "
              f"{figures['rps']:7.1f} req/s   {figures['cpu_ms']:6.1f} ms CPU each   "
              f"({figures['requests']} requests, {figures['errors']} errors)")
    ratio = longtail["rps"] / front["rps"] if front["rps"] else 0.0
    print(f"   {asked} distinct searches asked of {len(addresses)}; {writes[0]} listings changed meanwhile; "
          f"search / front page {ratio:.2f}")
    return {"longtail_search_p50_ms": longtail["p50_ms"], "longtail_search_p95_ms": longtail["p95_ms"],
            "longtail_search_rps": longtail["rps"], "front_p50_ms": front["p50_ms"], "front_p95_ms": front["p95_ms"],
            "front_rps": front["rps"], "search_to_front": round(ratio, 2),
            "longtail_search_cpu_ms": longtail["cpu_ms"], "front_cpu_ms": front["cpu_ms"], "distinct_searches": asked,
            "writes": writes[0], "errors": longtail["errors"] + front["errors"], "prepare_s": round(prepared, 1)}


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def postgres_database() -> tuple[str, object] | None:
    from sqlalchemy import create_engine, text

    name = f"bench_catalog_{os.getpid()}"
    try:
        admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - no server: the SQLite figures still stand
        print(f"== postgresql: skipped ({error.__class__.__name__}: {error})")
        return None
    url = PG_SERVER.rsplit("/", 1)[0] + f"/{name}"

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60,
                        help="each kind of request driven this long in all, split into the rounds")
    parser.add_argument("--addresses", type=int, default=5000, help="distinct search addresses")
    parser.add_argument("--rounds", type=lambda text: max(1, int(text)), default=3,
                        help="search and the front page are driven in turns, this many times")
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) + 1)  # as gunicorn.conf.py
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--keep-prepared", metavar="FOLDER",
                        help="keep what is prepared (SQLite in this folder, PostgreSQL on the server) and copy it "
                             "in later runs: for comparing changes of the code, not of the data")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    results: dict[str, object] = {"listings": args.listings, "clients": args.clients, "workers": args.workers}
    print(json.dumps(results | on_each_database(bench, args)))


def on_each_database(run: Callable[[str, str, argparse.Namespace], dict[str, float]],
                     args: argparse.Namespace) -> dict[str, object]:
    """``run`` on a fresh SQLite file and a fresh PostgreSQL database (when a server answers),
    as ``args.databases`` asks; the figures by database."""
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as folder:
        if "sqlite" in args.databases:
            results["sqlite"] = run("sqlite", f"sqlite:///{folder}/bench.sqlite3", args)
        if "postgresql" in args.databases:
            database = postgres_database()
            if database is not None:
                url, drop = database
                try:
                    results["postgresql"] = run("postgresql", url, args)
                finally:
                    drop()  # type: ignore[operator]
    return results


if __name__ == "__main__":
    main()
