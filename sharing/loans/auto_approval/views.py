"""A municipality's auto-approval rules: the list, adding one, removing one."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from sharing.access import allow
from sharing.accounts.models import Role
from sharing.catalog.categories.models import Category
from sharing.catalog.categories.rules import category_choices, category_name
from sharing.clock import utcnow
from sharing.db import db_session
from sharing.errors import DomainError
from sharing.loans.auto_approval import rules
from sharing.loans.auto_approval.forms import RuleForm
from sharing.loans.requests.labels import KIND_LABELS
from sharing.loans.requests.models import RequestKind
from sharing.web.forms import show_error

blueprint = Blueprint("auto_approval", __name__, url_prefix="/loans/auto-approval", template_folder="templates")
MANAGERS = (Role.FACILITY_MANAGER, Role.MUNICIPALITY_ADMIN)


def _form() -> RuleForm:
    form = RuleForm()
    form.kind.choices = [(kind.value, str(KIND_LABELS[kind])) for kind in RequestKind]
    form.category_id.choices = category_choices(db_session, str(get_locale()), _("Every category"))
    return form


@blueprint.route("/", methods=["GET", "POST"])
@allow(*MANAGERS)
def index() -> ResponseReturnValue:
    form = _form()
    if form.validate_on_submit():
        try:
            rules.add_rule(db_session, kind=RequestKind(form.kind.data), category_id=form.category_id.data,
                           max_quantity=form.max_quantity.data, max_days=form.max_days.data, by=current_user,
                           now=utcnow())
        except DomainError as error:
            db_session.rollback()
            show_error(form, error)
        else:
            db_session.commit()
            flash(_("The rule is added: such requests are approved at once."), "success")
            return redirect(url_for(".index"))
    found = rules.rules_of(db_session, current_user.municipality_id)
    names = {category.id: category_name(category, str(get_locale()))
             for category in (db_session.get(Category, rule.category_id) for rule in found if rule.category_id)
             if category is not None}
    page = render_template("loans/auto_approval/index.html", rules=found, form=form, category_names=names)
    return page, 422 if form.errors else 200


@blueprint.post("/<int:rule_id>/remove")
@allow(*MANAGERS)
def remove(rule_id: int) -> ResponseReturnValue:
    rules.remove_rule(db_session, rule_id=rule_id, by=current_user)
    db_session.commit()
    flash(_("The rule is removed: such requests wait for a person to decide."), "success")
    return redirect(url_for(".index"))
