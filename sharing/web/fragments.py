"""Rendered parts of pages kept for reuse, for parts that many people ask for alike and that
cost much to render (the catalog's search results, its filter panel, form and listing cards;
a form's blank fields).

``cached_fragment`` keeps parts in files under the instance folder, which every worker process
of a server shares: a part is rendered once for all of them. Each worker also keeps the parts it
used last in memory, until their file expires. The caller's key names everything the data
behind a part depends on, a revision of it included, so a change shows under a new key; the
keys also carry a stamp of the code and the settings that render them, so a deploy or a new
setting never serves what the old ones rendered. Parts expire, the oldest go first beyond a
number of files, and a damaged file is a miss, never a broken page.

``KeptInMemory`` keeps small parts in one worker's memory alone (a deploy starts new workers),
under a key that names everything the part shows, so that a change is another key, shown at
once: the least recently used go first (``rendered_once`` for one process-wide set of such
parts). ``render_part`` renders such a part from what it is given alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import BinaryIO, Generic, NamedTuple, TypeVar

from cachelib import FileSystemCache, SimpleCache
from flask import Flask, current_app
from markupsafe import Markup

from sharing.web.i18n import page_gettext

log = logging.getLogger("sharing.web")
PRUNE_EVERY_SECONDS = 60
IN_MEMORY_ENTRIES = 100  # per worker: the parts asked for most, without reading their file


T = TypeVar("T")
_MISSING = object()


class KeptInMemory(Generic[T]):
    """What ``make`` made, kept in this worker's memory by its key: at most ``entries``, the
    least recently used going first. Nothing expires: the key must name all the part depends on."""

    def __init__(self, entries: int) -> None:
        self.entries = entries
        self.hits = self.misses = 0
        self._kept: OrderedDict[Hashable, T] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, key: Hashable, make: Callable[[], T]) -> T:
        with self._lock:
            found = self._kept.get(key, _MISSING)
            if found is not _MISSING:
                self._kept.move_to_end(key)
                self.hits += 1
                return found  # type: ignore[return-value]  # not _MISSING: one of ours
            self.misses += 1
        made = make()
        if self.entries > 0:
            with self._lock:
                self._kept[key] = made
                while len(self._kept) > self.entries:
                    self._kept.popitem(last=False)
        return made

    def __len__(self) -> int:
        return len(self._kept)


class KeptPart(NamedTuple):
    part: Markup
    expires: float  # time.time() after which it is no longer served


class CheckedText:
    """The file format: a SHA-256 of the rest, the time the part expires, then its UTF-8.
    Nothing is unpickled, and a file damaged in any byte reads as missing."""

    def __init__(self, seconds: int) -> None:
        self.seconds = seconds

    def dump(self, value: str, f: BinaryIO) -> None:
        data = struct.pack(">d", time.time() + self.seconds) + str(value).encode()
        f.write(hashlib.sha256(data).digest() + data)

    def load(self, f: BinaryIO) -> KeptPart:
        blob = f.read()
        if hashlib.sha256(blob[32:]).digest() != blob[:32]:
            raise ValueError("a kept part is damaged")
        (expires,) = struct.unpack(">d", blob[32:40])
        return KeptPart(Markup(blob[40:].decode()), expires)


class FragmentCache:
    def __init__(self, directory: str, *, entries: int, seconds: int, stamp: str = "") -> None:
        # No count of its own (threshold 0): cachelib's count file is not safe across processes,
        # so prune() bounds the files instead. Files are written whole and renamed into place.
        self._files = FileSystemCache(directory, threshold=0, default_timeout=seconds, mode=0o600)
        self._files.serializer = CheckedText(seconds)  # type: ignore[assignment]  # duck-typed: dumps/loads
        self._memory = SimpleCache(threshold=min(entries, IN_MEMORY_ENTRIES), default_timeout=seconds)
        self.directory, self.entries, self.seconds, self.stamp = Path(directory), entries, seconds, stamp
        self._next_prune = 0.0
        self._lock = threading.Lock()

    def get_or_render(self, key: str, render: Callable[[], str]) -> Markup:
        found = self.get(key)
        if found is not None:
            return found
        part = Markup(render())
        self.put(key, part)
        return part

    def get(self, key: str) -> Markup | None:
        """The part kept under ``key``, if one is and has not expired."""
        key = f"{self.stamp}:{key}"
        # Memory holds what the file did (or what this worker wrote there), with its expiry.
        found = self._memory.get(key)
        if found is None or found.expires <= time.time():
            try:
                found = self._files.get(key)
            except (ValueError, UnicodeDecodeError):
                log.warning("a kept part was damaged; rendering it anew")
                found = None
            if isinstance(found, KeptPart):
                self._memory.set(key, found)
        return found.part if isinstance(found, KeptPart) else None

    def put(self, key: str, part: str) -> None:
        """Keep ``part`` under ``key``, in place of what was kept there."""
        key = f"{self.stamp}:{key}"
        kept = KeptPart(Markup(part), time.time() + self.seconds)
        self._files.set(key, kept.part)  # a failure to write is logged by cachelib, and only costs a miss
        self._memory.set(key, kept)
        self._prune_when_due()

    def _prune_when_due(self) -> None:
        with self._lock:
            if time.monotonic() < self._next_prune:
                return
            self._next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
        self.prune()

    def prune(self) -> None:
        """Delete what has expired (left-over temporary files too), then the oldest beyond the bound."""
        files = []
        for entry in os.scandir(self.directory):
            try:
                files.append((entry.stat().st_mtime, entry.path))
            except FileNotFoundError:  # another worker deleted it
                continue
        files.sort(reverse=True)
        oldest = time.time() - self.seconds
        for n, (modified, path) in enumerate(files):
            if modified < oldest or n >= self.entries:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(path)


def code_and_settings_stamp(app: Flask) -> str:
    """Changes when the code, templates or translations change (a deploy), or a setting that
    shows in pages does."""
    package = Path(__file__).resolve().parent.parent
    parts = [f"{path.relative_to(package)}:{path.stat().st_size}:{path.stat().st_mtime_ns}"
             for path in sorted(package.rglob("*")) if path.suffix in {".py", ".html", ".mo"}]
    parts += [repr(app.config.get(name)) for name in (
        "MAP_TILE_URL", "MAP_ATTRIBUTION", "SERVER_NAME", "APPLICATION_ROOT", "SHARING_BASE_URL")]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def render_part(template: str, **context: object) -> Markup:
    """A part of a page that shows nothing but what it is given, in the page's language:
    rendered without the context processors, so the reader (``current_user``), the menu and the
    request cannot enter it, as befits a part kept for many readers (and that work is saved)."""
    return Markup(current_app.jinja_env.get_template(template).render(**page_gettext(), **context))


def cached_fragment(key: str | None, render: Callable[[], str]) -> Markup:
    """The part ``render`` makes, kept under ``key``. A None key (or no cache configured)
    renders every time."""
    cache: FragmentCache | None = current_app.extensions.get("sharing.fragments")
    if key is None or cache is None:
        return Markup(render())
    return cache.get_or_render(key, render)


def checked_fragment(key: str, still_good: Callable[[str], bool],
                     render: Callable[[], tuple[str | None, str]]) -> Markup:
    """A part whose key cannot name all it depends on (the catalog's search results: see
    catalog/listings/kept_results.py): ``render`` gives it with a note of what it rests on (one
    line of text, None to keep it not), and it is served again while ``still_good(note)``;
    otherwise rendered anew and kept in its place."""
    cache: FragmentCache | None = current_app.extensions.get("sharing.fragments")
    if cache is not None and (found := cache.get(key)) is not None:
        kept_note, _, kept = found.partition("\n")
        if still_good(kept_note):
            return Markup(kept)
    note, part = render()
    if note is not None and cache is not None:
        assert "\n" not in note, "a note is one line"
        cache.put(key, f"{note}\n{part}")
    return Markup(part)


PARTS_IN_MEMORY = 500


def rendered_once(key: Hashable, render: Callable[[], str]) -> Markup:
    """The part ``render`` makes, rendered once in this process for each ``key``, which must name
    everything the part depends on: its language, the rows it shows (not their ids alone: a
    renamed one is a new key). Nothing a booking or a request changes belongs in such a part."""
    parts: KeptInMemory[Markup] = current_app.extensions["sharing.parts_in_memory"]
    return parts.get_or_make(key, lambda: Markup(render()))


def init_app(app: Flask) -> None:
    app.extensions["sharing.parts_in_memory"] = KeptInMemory[Markup](PARTS_IN_MEMORY)
    if app.config["PAGE_CACHE_ENTRIES"] > 0 and app.config["PAGE_CACHE_SECONDS"] > 0:
        app.extensions["sharing.fragments"] = FragmentCache(
            app.config["PAGE_CACHE_DIR"], entries=app.config["PAGE_CACHE_ENTRIES"],
            seconds=app.config["PAGE_CACHE_SECONDS"], stamp=code_and_settings_stamp(app))
