"""The web shell: layout, language, error pages, security headers, health check."""

from __future__ import annotations

from flask import Flask

from sharing.web import errors, forms, fragments, hooks, i18n, nav
from sharing.web.views import blueprint

__all__ = ["init_app", "i18n"]


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
    errors.init_app(app)
    forms.init_app(app)
    fragments.init_app(app)
    hooks.init_app(app)
    i18n.init_app(app)
    nav.init_app(app)
    app.jinja_env.add_extension("jinja2.ext.do")
