"""Catalog: listings of what municipalities can share, categories and their climate factors,
and Swedish search."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from flask_babel import lazy_gettext as _l

# photo_views adds its routes to the catalog's blueprint: importing it is what counts.
from sharing.catalog import category_views, demo, photo_views, views  # noqa: F401
from sharing.catalog.categories import load_reference_categories
from sharing.cli import add_demo_loader
from sharing.db import new_session
from sharing.web.nav import add_nav_item

catalog_cli = AppGroup("catalog", help="The catalog.")


@catalog_cli.command("load-categories")
def load_categories() -> None:
    """Add the reference category tree and its factors (safe to run again)."""
    with new_session() as session:
        added = load_reference_categories(session)
        session.commit()
    click.echo(f"Categories: {added.get('categories', 0)} added")


def init_app(app: Flask) -> None:
    app.register_blueprint(views.blueprint)
    app.register_blueprint(category_views.blueprint)
    app.cli.add_command(catalog_cli)
    add_nav_item(app, _l("Find"), "catalog.browse", section=("catalog.detail",))
    add_nav_item(app, _l("Our listings"), "catalog.mine", section=("catalog.new", "catalog.edit", "catalog.photos"))
    add_nav_item(app, _l("Categories"), "categories.index", section=("categories.",))
    add_demo_loader(app, demo.load)
