"""The main menu and the start page's shortcuts: each domain adds its entries, each shown only
to whom its view admits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import Flask, current_app, request, url_for
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


@dataclass(frozen=True)
class Shortcut:
    """A task on the start page: where to do it, and what it is for, in a line."""

    label: Callable[[], str]  # lazy translations
    endpoint: str
    description: Callable[[], str]


def add_shortcut(app: Flask, label: Callable[[], str], endpoint: str, description: Callable[[], str]) -> None:
    """Add a task to the start page, for those whose roles its view admits."""
    app.extensions.setdefault("sharing.shortcuts", []).append(Shortcut(label, endpoint, description))


def shortcuts(user: object) -> list[tuple[str, str, str]]:
    """The start page's tasks for this user, as (label, address, description): the same for
    everyone with the same roles and language, so each worker builds them once for each."""
    kept: dict[tuple[object, ...], list[tuple[str, str, str]]] = current_app.extensions.setdefault(
        "sharing.shortcut_lists", {})
    key = (getattr(user, "roles", None), str(get_locale()), request.script_root)
    found = kept.get(key)
    if found is None:
        if len(kept) > 100:  # as the menu's: roles, languages and mount points are few
            kept.clear()
        found = kept[key] = [(str(item.label), url_for(item.endpoint), str(item.description))
                             for item in current_app.extensions.get("sharing.shortcuts", [])
                             if (access := access_for(item.endpoint)) is not None and access.permits(user)]
    return found


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
