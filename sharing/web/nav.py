"""The main menu, and the start page's shortcuts and work waiting: each domain adds its entries,
each shown only to whom its view admits."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from flask import Flask, current_app, request, url_for
from flask_babel import get_locale
from flask_login import current_user
from sqlmodel import Session

from sharing.access import access_for

T = TypeVar("T")


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
    """A task on the start page: where to do it, and what it is for, in a line; offered to whom
    its view admits, and of those, if ``roles`` names any, to holders of one of them."""

    label: Callable[[], str]  # lazy translations
    endpoint: str
    description: Callable[[], str]
    roles: frozenset[str] = frozenset()


def add_shortcut(app: Flask, label: Callable[[], str], endpoint: str, description: Callable[[], str],
                 roles: Iterable[str] = ()) -> None:
    """Add a task to the start page (see ``Shortcut``)."""
    app.extensions.setdefault("sharing.shortcuts", []).append(Shortcut(label, endpoint, description, frozenset(roles)))


def _admitted(user: object, endpoint: str) -> bool:
    return (access := access_for(endpoint)) is not None and access.permits(user)


def _offered(user: Any, endpoint: str, roles: frozenset[str]) -> bool:
    """Whether a start page's entry is for this user: its view admits them, and they hold one of
    its roles, if it names any."""
    return _admitted(user, endpoint) and (not roles or any(role in user.roles for role in roles))


def _per_roles(kind: str, user: Any, build: Callable[[], list[T]]) -> list[T]:
    """What is the same for everyone with the same roles and language (access rules ask for
    roles alone): each worker builds it once for each, as every page shows the menu."""
    kept: dict[tuple[object, ...], list[Any]] = current_app.extensions.setdefault("sharing.per_roles", {})
    key = (kind, user.roles if user.is_authenticated else None, str(get_locale()), request.script_root)
    found = kept.get(key)
    if found is None:
        if len(kept) > 200:  # roles, languages and mount points are few; this bounds the rest
            kept.clear()
        found = kept[key] = build()
    return found


def shortcuts(user: Any) -> list[tuple[str, str, str]]:
    """The start page's tasks for this user, as (label, address, description)."""
    return _per_roles("shortcuts", user, lambda: [
        (str(item.label), url_for(item.endpoint), str(item.description))
        for item in current_app.extensions.get("sharing.shortcuts", []) if _offered(user, item.endpoint, item.roles)])


@dataclass(frozen=True)
class WaitingWork:
    """Work that waits for the user, counted on the start page by the domain it belongs to:
    ``count`` asks its rules how much (given the session, the user and the time), ``say`` words
    it with the count (an ngettext), and ``endpoint`` (with ``values``) is where to do it. Shown
    to whom its view admits, and of those, if ``roles`` names any, to holders of one of them."""

    count: Callable[[Session, Any, datetime], int]
    say: Callable[[int], str]
    endpoint: str
    values: Mapping[str, str]
    roles: frozenset[str] = frozenset()


def add_waiting_work(app: Flask, count: Callable[[Session, Any, datetime], int], say: Callable[[int], str],
                     endpoint: str, roles: Iterable[str] = (), **values: str) -> None:
    """Add a count of waiting work to the start page (see ``WaitingWork``)."""
    app.extensions.setdefault("sharing.waiting_work", []).append(
        WaitingWork(count, say, endpoint, values, frozenset(roles)))


def waiting_work(session: Session, user: Any, now: datetime) -> list[tuple[str, str]]:
    """The work waiting for this user, as (what, address), each only if there is some."""
    waiting = []
    for work in current_app.extensions.get("sharing.waiting_work", []):
        if _offered(user, work.endpoint, work.roles):
            count = work.count(session, user, now)
            if count:
                waiting.append((work.say(count), url_for(work.endpoint, **work.values)))
    return waiting


def init_app(app: Flask) -> None:
    @app.context_processor
    def navigation() -> dict[str, object]:
        user, endpoint = current_user._get_current_object(), request.endpoint  # once, not per entry
        menu = _per_roles("menu", user, lambda: [(str(item.label), url_for(item.endpoint), item)
                                                 for item in app.extensions.get("sharing.nav", [])
                                                 if _admitted(user, item.endpoint)])
        return {"nav_items": [{"label": label, "url": url, "current": item.is_current(endpoint)}
                              for label, url, item in menu]}
