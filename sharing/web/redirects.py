"""Where a link or a form may send the user on to: our own pages only (no open redirect)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit


def safe_next(target: str | None, fallback: str) -> str:
    """A local path to go on to; anything pointing elsewhere becomes the fallback."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target


def this_page(method: str, full_path: str, referrer: str | None, host: str, answers_get: Callable[[str], bool]) -> str:
    """Where to come back to this page (after switching language): its own address, or, for a
    page shown in answer to a form (a refused one), the page the form was on, if that address
    answers a GET (a form refused twice was sent from an address that answers only forms); our
    own pages only, else none (the front page)."""
    if method in ("GET", "HEAD"):
        return full_path
    parts = urlsplit(referrer or "")
    if parts.netloc != host or not parts.path.startswith("/") or not answers_get(parts.path):
        return ""
    return parts.path + (f"?{parts.query}" if parts.query else "")
