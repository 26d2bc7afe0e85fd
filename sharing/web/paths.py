"""Paths within the service, also where no request is being served (a job, a command, an
event receiver run after the response), and absolute addresses under the configured base URL."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app, has_request_context, url_for


def path_for(endpoint: str, **values: Any) -> str:
    if has_request_context():
        return url_for(endpoint, **values)
    with current_app.test_request_context(base_url=current_app.config["SHARING_BASE_URL"]):
        return url_for(endpoint, **values)


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute address under SHARING_BASE_URL (which may hold a path prefix), never built
    from the Host header of the request being served: for what leaves the service (feeds)."""
    base = urlsplit(current_app.config["SHARING_BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https")
    return adapter.build(endpoint, values, force_external=True)


def external_address(path: str) -> str:
    """A path within the service (as ``path_for`` gives it, the base's prefix included) as an
    absolute address under SHARING_BASE_URL: for a reader outside the service."""
    base = urlsplit(current_app.config["SHARING_BASE_URL"])
    return f"{base.scheme or 'https'}://{base.netloc}{path}"
