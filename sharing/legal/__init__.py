"""The pages the law asks of a public service: the accessibility statement and how personal
data is handled. Public, in Swedish and English, linked from every page's footer."""

from __future__ import annotations

from flask import Flask

from sharing.legal import views


def init_app(app: Flask) -> None:
    app.register_blueprint(views.blueprint)
