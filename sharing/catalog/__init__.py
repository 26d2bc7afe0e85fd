"""Catalog: listings of what municipalities can share, categories and their climate factors,
Swedish search, and wanted items (what units need), matched against new listings."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask
from flask.cli import AppGroup
from flask_babel import lazy_gettext as _l

# photo_views adds its routes to the catalog's blueprint, and revision its ORM listeners:
# importing them is what counts.
from sharing.catalog import (  # noqa: F401
    category_views,
    demo,
    import_views,
    imports,
    notices,
    photo_views,
    qr_label_views,
    revision,
    views,
    want_views,
)
from sharing.catalog.categories import load_reference_categories
from sharing.cli import add_demo_loader
from sharing.db import new_session, utcnow
from sharing.jobs import Job, add_job
from sharing.web.nav import add_nav_item

catalog_cli = AppGroup("catalog", help="The catalog.")


@catalog_cli.command("load-categories")
def load_categories() -> None:
    """Add the reference category tree and its factors (safe to run again)."""
    with new_session() as session:
        added = load_reference_categories(session)
        session.commit()
    click.echo(f"Categories: {added.get('categories', 0)} added")


def tidy_imports() -> None:
    """Forget unconfirmed imports, and mark those cut off mid-way as failed."""
    with new_session() as session:
        imports.tidy(session, now=utcnow())
        session.commit()


def init_app(app: Flask) -> None:
    app.register_blueprint(views.blueprint)
    app.register_blueprint(category_views.blueprint)
    app.register_blueprint(qr_label_views.blueprint)
    app.register_blueprint(want_views.blueprint)
    app.register_blueprint(import_views.blueprint)
    app.cli.add_command(catalog_cli)
    add_nav_item(app, _l("Find"), "catalog.browse", section=("catalog.detail",))
    add_nav_item(app, _l("Our listings"), "catalog.mine",
                 section=("catalog.new", "catalog.edit", "catalog.photos", "qr_labels.", "imports."))
    add_nav_item(app, _l("Wanted items"), "wants.index", section=("wants.",))
    add_nav_item(app, _l("Categories"), "categories.index", section=("categories.",))
    add_demo_loader(app, demo.load)
    add_demo_loader(app, demo.load_wants)
    add_job(app, Job("tidy-listing-imports", tidy_imports, timedelta(minutes=10)))
    notices.register()
