"""Paths within the service, also where no request is being served (a job, a command, an
event receiver run after the response)."""

from __future__ import annotations

from typing import Any

from flask import current_app, has_request_context, url_for


def path_for(endpoint: str, **values: Any) -> str:
    if has_request_context():
        return url_for(endpoint, **values)
    with current_app.test_request_context(base_url=current_app.config["SHARING_BASE_URL"]):
        return url_for(endpoint, **values)
