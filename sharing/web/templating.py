"""The one way a domain gives its templates something: names (labels of its codes, functions
pages call) and filters. Each domain's ``init_app`` registers its own here.

What belongs to one request (the page's language, the menu) is the web shell's alone, in its
context processors (``web/i18n.py``, ``web/nav.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask


def add_template_helpers(app: Flask, *, names: Mapping[str, object] | None = None,
                         filters: Mapping[str, Callable[..., Any]] | None = None) -> None:
    """Make ``names`` known to every template, and ``filters`` usable as ``{{ value|name }}``.

    A name or filter registered twice is a mistake (two domains would shadow each other)."""
    for registry, given in ((app.jinja_env.globals, names or {}), (app.jinja_env.filters, filters or {})):
        for name, value in given.items():
            if name in registry and registry[name] is not value:
                raise ValueError(f"template helper {name!r} is registered twice")
            registry[name] = value
