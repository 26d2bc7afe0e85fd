"""Rendered parts of pages kept in memory, for parts that many people ask for alike and that
cost much to render (the catalog's search results).

Each worker process keeps its own, bounded in bytes (keys should be small: they are not
counted), least recently used out first. The
caller's key names everything the part depends on, a revision of the data included, so a
change shows at once; entries also expire, in case a change reached the database some other
way (by hand, say).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Hashable

from cachetools import TTLCache
from flask import Flask, current_app
from markupsafe import Markup


class FragmentCache:
    def __init__(self, *, max_bytes: int, seconds: float) -> None:
        self._entries: TTLCache[Hashable, Markup] = TTLCache(maxsize=max_bytes, ttl=seconds, getsizeof=sys.getsizeof)
        self._lock = threading.Lock()  # the development server and threaded workers share it
        self.max_bytes = max_bytes
        self.hits = self.misses = 0

    def get_or_render(self, key: Hashable, render: Callable[[], str]) -> Markup:
        with self._lock:
            found = self._entries.get(key)
            self.hits += found is not None
        if found is not None:
            return found
        fragment = Markup(render())
        with self._lock:
            self.misses += 1
            if sys.getsizeof(fragment) <= self.max_bytes:
                self._entries[key] = fragment
        return fragment


def cached_fragment(key: Hashable | None, render: Callable[[], str]) -> Markup:
    """The part ``render`` makes, from the cache when it holds it. A None key (or no cache
    configured) renders every time."""
    cache: FragmentCache | None = current_app.extensions.get("sharing.fragments")
    if key is None or cache is None:
        return Markup(render())
    return cache.get_or_render(key, render)


def init_app(app: Flask) -> None:
    if app.config["PAGE_CACHE_MB"] > 0:
        app.extensions["sharing.fragments"] = FragmentCache(
            max_bytes=app.config["PAGE_CACHE_MB"] * 1024 * 1024, seconds=app.config["PAGE_CACHE_SECONDS"])
