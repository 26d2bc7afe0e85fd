"""Catalog: what municipalities can share, one folder a feature.

- ``categories/``: the category tree and its climate figures, versioned with their sources, and
  sustainability officers' proposed corrections of them;
- ``listings/``: listings, their lifecycle, Swedish search and the map;
- ``photos/``: photos of listings;
- ``holds/``: pieces held for a period (booked) or for good; what is free when;
- ``wants/``: wanted items, matched against new listings;
- ``imports/``: listing a whole inventory from a spreadsheet;
- ``qr_labels/``: printable QR labels for listings;
- ``events.py``: the names of the events the catalog records, ``labels.py``: how they read in the
  audit trail; ``demo.py``: its demo data.

Each feature holds its models, rules, forms, views, templates and the labels of its codes.
"""

from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask
from flask.cli import AppGroup
from flask_babel import lazy_gettext as _l

from sharing.accounts.models import Role
from sharing.accounts.personal_data.rules import contribute
from sharing.catalog import demo, personal_data
from sharing.catalog.categories import notices as category_notices
from sharing.catalog.categories import views as category_views
from sharing.catalog.categories.labels import CO2E_KIND_LABELS, KIND_LABELS
from sharing.catalog.categories.rules import load_reference_categories
from sharing.catalog.holds.models import Hold
from sharing.catalog.imports import rules as imports
from sharing.catalog.imports import views as import_views
from sharing.catalog.imports.labels import IMPORT_STATUS_LABELS
from sharing.catalog.labels import PERSONAL_DATA, describe_events
from sharing.catalog.listings import revision
from sharing.catalog.listings import rules as listing_rules
from sharing.catalog.listings import views as listing_views
from sharing.catalog.listings.labels import (
    ACTION_LABELS,
    CONDITION_LABELS,
    OFFER_LABELS,
    STATUS_LABELS,
    VISIBILITY_LABELS,
)
from sharing.catalog.photos import views as photo_views
from sharing.catalog.photos.models import ListingPhoto
from sharing.catalog.qr_labels import views as qr_label_views
from sharing.catalog.wants import notices
from sharing.catalog.wants import rules as want_rules
from sharing.catalog.wants import views as want_views
from sharing.catalog.wants.labels import WANT_STATUS_LABELS
from sharing.cli import add_demo_loader
from sharing.clock import utcnow
from sharing.db import new_session
from sharing.jobs import Job, add_job
from sharing.web.nav import add_nav_item, add_shortcut
from sharing.web.templating import add_template_helpers

catalog_cli = AppGroup("catalog", help="The catalog.")


@catalog_cli.command("load-categories")
def load_categories() -> None:
    """Add the reference category tree and its factors (safe to run again)."""
    with new_session() as session:
        added = load_reference_categories(session)
        session.commit()
    click.echo(f"Categories: {added.get('categories', 0)} added")


@catalog_cli.command("reindex")
def reindex() -> None:
    """Index every listing's and wanted item's words anew, and fill the search vocabulary (after
    an upgrade that changed how words are stemmed; safe to run again)."""
    with new_session() as session:
        listed = listing_rules.reindex_all(session)
        wanted = want_rules.restem_all(session)
        session.commit()
    click.echo(f"Indexed {listed} listings and {wanted} wanted items")


def tidy_imports() -> None:
    """Forget unconfirmed imports, and mark those cut off mid-way as failed."""
    with new_session() as session:
        imports.tidy(session, now=utcnow())
        session.commit()


def prune_catalog_log() -> None:
    """Forget changes of the catalog too old for any kept search result to ask about."""
    with new_session() as session:
        revision.prune_log(session)
        session.commit()


def init_app(app: Flask) -> None:
    app.register_blueprint(listing_views.blueprint)
    listing_views.init_app(app)
    app.register_blueprint(photo_views.blueprint)
    app.register_blueprint(category_views.blueprint)
    app.register_blueprint(qr_label_views.blueprint)
    app.register_blueprint(want_views.blueprint)
    app.register_blueprint(import_views.blueprint)
    app.cli.add_command(catalog_cli)
    revision.watch(ListingPhoto, Hold)  # a listing's cover shows in search, and what is free when
    add_template_helpers(app, names={
        "action_labels": ACTION_LABELS, "condition_labels": CONDITION_LABELS, "status_labels": STATUS_LABELS,
        "kind_labels": KIND_LABELS, "co2e_kind_labels": CO2E_KIND_LABELS, "offer_labels": OFFER_LABELS,
        "visibility_labels": VISIBILITY_LABELS,
        "want_status_labels": WANT_STATUS_LABELS, "import_status_labels": IMPORT_STATUS_LABELS,
        "photo_size": photo_views.photo_size,
    },
                         filters={"category_name": category_views.category_name})
    add_nav_item(app, _l("Find"), "catalog.browse", section=("catalog.detail",))
    add_nav_item(app, _l("Our listings"), "catalog.mine",
                 section=("catalog.new", "catalog.edit", "photos.manage", "qr_labels.", "imports."))
    add_nav_item(app, _l("Wanted items"), "wants.index", section=("wants.",))
    add_nav_item(app, _l("Categories"), "categories.index", section=("categories.",))
    add_shortcut(app, _l("List something"), "catalog.new",
                 _l("Furniture, equipment, premises or competence your unit can do without: lend it, swap it or "
                    "hand it over."))
    add_shortcut(app, _l("Our listings"), "catalog.mine",
                 _l("Your municipality's drafts and listings, what is out on loan, and QR labels to print."))
    add_shortcut(app, _l("Import listings"), "imports.index", _l("Many listings at once, from a spreadsheet."))
    add_shortcut(app, _l("Ask for something"), "wants.new",
                 _l("Describe what your unit needs, and be told when someone lists it."),
                 roles=(Role.EMPLOYEE, Role.FACILITY_MANAGER))  # who asks for their unit
    add_demo_loader(app, demo.load)
    add_demo_loader(app, demo.load_wants)
    add_job(app, Job("tidy-listing-imports", tidy_imports, timedelta(minutes=10)))
    add_job(app, Job("prune-catalog-changes", prune_catalog_log, timedelta(minutes=10)))
    notices.register()
    category_notices.register()
    describe_events()
    contribute("catalog", extract=personal_data.extract, erase=personal_data.erase, sections=PERSONAL_DATA)
