"""Category administration for system administrators: the tree, and versions of each category's figures.

Every change is written to the security log as who did what (ids, not names).
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col
from werkzeug.wrappers import Response

from sharing.access import allow
from sharing.accounts.models import Role, User
from sharing.catalog.categories import rules as categories
from sharing.catalog.categories.forms import CategoryForm, FactorForm
from sharing.catalog.categories.labels import KIND_LABELS
from sharing.catalog.categories.models import Category
from sharing.clock import utcnow
from sharing.db import db_session
from sharing.errors import DomainError
from sharing.typed import id_of
from sharing.web.arguments import record_id
from sharing.web.forms import show_error

blueprint = Blueprint("categories", __name__, url_prefix="/catalog/categories", template_folder="templates")
audit = logging.getLogger("sharing.security")


def category_name(category: Category | None) -> str:
    """``{{ listing.category|category_name }}``: the category's name in the reader's language."""
    return categories.category_name(category, str(get_locale())) if category is not None else ""


def _category(category_id: int) -> Category:
    category = db_session.get(Category, category_id)
    if category is None:
        abort(404)
    return category


# Sustainability officers read the figures and their sources (their reports rest on them);
# system admins alone change them.
READERS = (Role.SYSTEM_ADMIN, Role.SUSTAINABILITY_OFFICER)


@blueprint.get("")
@allow(*READERS)
def index() -> str:
    nodes = categories.category_tree(db_session)
    sections: list[tuple[categories.CategoryNode, list[categories.CategoryNode]]] = []
    for node in nodes:
        if node.depth == 0:
            sections.append((node, []))
        sections[-1][1].append(node)
    return render_template("catalog/categories/index.html", sections=sections,
                           factors=categories.current_factors(db_session), names={n.category.id: n.category.name
                                                                                   for n in nodes},
                           kind_labels=KIND_LABELS, can_edit=current_user.has_role(Role.SYSTEM_ADMIN))


@blueprint.route("/new", methods=["GET", "POST"])
@allow(Role.SYSTEM_ADMIN)
def new() -> str | Response:
    form = CategoryForm()
    nodes = categories.category_tree(db_session)
    form.parent_id.choices = [("", _("Top level"))] + [(n.category.id, " › ".join(n.path)) for n in nodes]
    parent_id = request.args.get("parent_id", type=record_id)
    if not form.is_submitted() and parent_id is not None:
        parent = db_session.get(Category, parent_id)
        if parent is not None:
            form.parent_id.data, form.kind.data = parent.id, parent.kind
    if form.validate_on_submit():
        try:
            category = categories.create_category(db_session, name=form.name.data or "",
                                                  name_en=form.name_en.data or "",
                                                  parent_id=form.parent_id.data, kind=form.kind.data)
        except DomainError as error:
            show_error(form, error)
        else:
            db_session.commit()
            audit.info("category %s created by user %s", category.id, current_user.id)
            flash(_("The category %(name)s is added. Give it figures of its own, or it uses those of the "
                    "category above it.", name=category.name), "success")
            return redirect(url_for("categories.detail", category_id=category.id))
    return render_template("catalog/categories/new.html", form=form)


@blueprint.get("/<int:category_id>")
@allow(*READERS)
def detail(category_id: int) -> str:
    category = _category(category_id)
    return _detail_page(category, FactorForm(obj=categories.current_factor(db_session, id_of(category))))


@blueprint.post("/<int:category_id>")
@allow(Role.SYSTEM_ADMIN)
def add_version(category_id: int) -> str | Response:
    category = _category(category_id)
    form = FactorForm()
    if form.validate_on_submit():
        try:
            factor = categories.add_factor_version(
                db_session, category=category, weight_kg=form.weight_kg.data, volume_m3=form.volume_m3.data,
                new_price_sek=form.new_price_sek.data, co2e_new_kg=form.co2e_new_kg.data, source=form.source.data or "",
                co2e_kind=form.co2e_kind.data,
                by_user_id=current_user.id, now=utcnow(),
            )
        except DomainError as error:
            show_error(form, error)
        else:
            try:
                db_session.commit()
            except IntegrityError:  # another admin saved a version of this category at the same moment
                db_session.rollback()
                flash(_("Someone saved other figures for this category at the same moment. Look at them, "
                        "then save yours again if they are still needed."), "error")
                return redirect(url_for("categories.detail", category_id=category.id))
            audit.info("category %s figures version %s added by user %s", category.id, factor.version,
                       current_user.id)
            flash(_("Version %(version)s of the figures is saved and in use from now on.",
                    version=factor.version), "success")
            return redirect(url_for("categories.detail", category_id=category.id))
    return _detail_page(category, form)


def _detail_page(category: Category, form: FactorForm) -> str:
    current = categories.current_factor(db_session, id_of(category))
    versions = categories.factor_versions(db_session, id_of(category))
    user_ids = {v.created_by_id for v in versions if v.created_by_id is not None}
    authors = {row.id: row.name for row in db_session.execute(
        select(col(User.id), col(User.name)).where(col(User.id).in_(user_ids)))} if user_ids else {}
    path = list(reversed(categories.ancestors(db_session, category)))
    return render_template("catalog/categories/detail.html", category=category, path=path, current=current,
                           versions=versions, authors=authors, form=form, kind_labels=KIND_LABELS,
                           can_edit=current_user.has_role(Role.SYSTEM_ADMIN))
