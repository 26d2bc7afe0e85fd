"""Where a link or a form may send the user on to: our own pages only (no open redirect)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request
from werkzeug.exceptions import HTTPException


def safe_next(target: str | None, fallback: str) -> str:
    """A local path to go on to; anything pointing elsewhere becomes the fallback."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target


def this_page() -> str:
    """Where to come back to this page (after switching language): its own address, or, for a
    page shown in answer to a form (a refused one), the page the form was on, if that address
    shows a page (a form refused twice was sent from an address that answers only forms); our
    own pages only, else none (the front page)."""
    if request.method in ("GET", "HEAD"):
        return request.full_path
    parts = urlsplit(request.referrer or "")
    if parts.netloc != request.host or not _shows_a_page(parts.path):
        return ""
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _shows_a_page(path: str) -> bool:
    """Whether an address of this app (as the browser has it, mount point included) answers a GET."""
    root = request.script_root
    if not path.startswith(root + "/"):
        return False
    try:
        current_app.url_map.bind(request.host, script_name=root or "/").match(path[len(root):], method="GET")
    except HTTPException:  # NotFound, MethodNotAllowed; a redirect too: not a page to come back to
        return False
    return True
