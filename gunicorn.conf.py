"""gunicorn settings for production; every value can be overridden by GUNICORN_* or CLI flags."""

import gc
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# One worker per core and one to spare, not the usual 2 x cores + 1 for I/O-bound apps: pages
# are mostly Python (kept search results, SQLite in-process). On 2 cores, 5 workers served
# the kept search 20% slower than 3, contending for the CPU's caches (bench/catalog.py).
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
max_requests = 2000  # recycle workers now and then, against slow leaks
max_requests_jitter = 200
# No access log: the app logs each request itself, with the route's pattern instead of the
# path (paths can carry mailed secrets) and the user's id instead of the client's address.
accesslog = None
errorlog = "-"
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
# Load the app before forking so a configuration error stops the start at once.
preload_app = True
# gunicorn's control socket (25.1 and later) is an admin interface we do not use, and every
# instance on a host would share its one default path: the last started answering for all.
control_socket_disable = True


def pre_fork(server, worker):  # type: ignore[no-untyped-def]
    """Before each worker is forked: what the app loaded (some 230,000 objects, most of the heap)
    lives as long as the worker, so it is left out of the garbage collector's scans. A worker's
    full collection then takes about a tenth of the time (130 ms before, a pause every few dozen
    requests), and the pages it sits in stay shared with the master (Python's gc.freeze docs)."""
    gc.freeze()
