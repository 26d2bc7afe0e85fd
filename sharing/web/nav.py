"""The main menu: each domain adds its entries, each shown only to whom its view admits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import Flask, request, url_for
from flask_babel import get_locale
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
    # Every page shows the menu, and it is the same for everyone with the same roles and
    # language: each worker builds it once for each (access rules ask for roles alone).
    menus: dict[tuple[object, ...], list[tuple[str, str, NavItem]]] = {}

    @app.context_processor
    def navigation() -> dict[str, object]:
        user, endpoint = current_user._get_current_object(), request.endpoint  # once, not per entry
        roles = user.roles if user.is_authenticated else None
        key = (roles, str(get_locale()), request.script_root)
        menu = menus.get(key)
        if menu is None:
            if len(menus) > 100:  # roles, languages and mount points are few; this bounds the rest
                menus.clear()
            menu = menus[key] = [(str(item.label), url_for(item.endpoint), item)
                                 for item in app.extensions.get("sharing.nav", [])
                                 if (access := access_for(item.endpoint)) is not None and access.permits(user)]
        return {"nav_items": [{"label": label, "url": url, "current": item.is_current(endpoint)}
                              for label, url, item in menu]}
