"""Rendered parts of pages kept for reuse, for parts that many people ask for alike and that
cost much to render (the catalog's search results).

They are kept in files under the instance folder, which every worker process shares: a
part is rendered once for all of them, and survives a restart. The caller's key names
everything the part depends on, a revision of the data included, so a change shows at
once; parts also expire, and the oldest go first beyond a number of files.
"""

from __future__ import annotations

from collections.abc import Callable

from cachelib import FileSystemCache
from flask import Flask, current_app
from markupsafe import Markup


class FragmentCache:
    def __init__(self, directory: str, *, entries: int, seconds: int) -> None:
        # Files written whole under another name and then renamed: a reader never sees half of one.
        self._files = FileSystemCache(directory, threshold=entries, default_timeout=seconds, mode=0o600)

    def get_or_render(self, key: str, render: Callable[[], str]) -> Markup:
        found = self._files.get(key)
        if isinstance(found, Markup):
            return found
        fragment = Markup(render())
        self._files.set(key, fragment)
        return fragment


def cached_fragment(key: str | None, render: Callable[[], str]) -> Markup:
    """The part ``render`` makes, kept under ``key``. A None key (or no cache configured)
    renders every time."""
    cache: FragmentCache | None = current_app.extensions.get("sharing.fragments")
    if key is None or cache is None:
        return Markup(render())
    return cache.get_or_render(key, render)


def init_app(app: Flask) -> None:
    if app.config["PAGE_CACHE_ENTRIES"] > 0:
        app.extensions["sharing.fragments"] = FragmentCache(
            app.config["PAGE_CACHE_DIR"], entries=app.config["PAGE_CACHE_ENTRIES"],
            seconds=app.config["PAGE_CACHE_SECONDS"])
