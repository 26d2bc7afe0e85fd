"""The main menu: each domain adds its entries, each shown only to whom its view admits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import Flask, request, url_for
from flask_login import current_user

from sharing.access import access_for


@dataclass(frozen=True)
class NavItem:
    label: Callable[[], str]  # a lazy translation
    endpoint: str
    section: tuple[str, ...]  # endpoints, or prefixes ending in ".", of the pages the entry stands for

    def is_current(self, endpoint: str | None) -> bool:
        return endpoint is not None and any(
            endpoint.startswith(part) if part.endswith(".") else endpoint == part for part in self.section)


def add_nav_item(app: Flask, label: Callable[[], str], endpoint: str, section: tuple[str, ...] = ()) -> None:
    """Add a menu entry; it is marked current on its own page and on the pages of its section."""
    app.extensions.setdefault("sharing.nav", []).append(NavItem(label, endpoint, (endpoint, *section)))


def init_app(app: Flask) -> None:
    @app.context_processor
    def navigation() -> dict[str, object]:
        items = []
        user, endpoint = current_user._get_current_object(), request.endpoint  # once, not per entry
        for item in app.extensions.get("sharing.nav", []):
            access = access_for(item.endpoint)
            if access is not None and access.permits(user):
                items.append({"label": str(item.label), "url": url_for(item.endpoint),
                              "current": item.is_current(endpoint)})
        return {"nav_items": items}
