"""Where a link or a form may send the user on to: our own pages only (no open redirect)."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_next(target: str | None, fallback: str) -> str:
    """A local path to go on to; anything pointing elsewhere becomes the fallback."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target


def this_page(method: str, full_path: str, referrer: str | None, host: str) -> str:
    """Where to come back to this page (after switching language): its own address, or, for a
    page shown in answer to a form (a refused one), the page the form was on, whose address
    asks for it again; our own pages only."""
    if method in ("GET", "HEAD"):
        return full_path
    parts = urlsplit(referrer or "")
    if parts.netloc != host or not parts.path.startswith("/"):
        return ""
    return parts.path + (f"?{parts.query}" if parts.query else "")
