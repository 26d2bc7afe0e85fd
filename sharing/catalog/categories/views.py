"""Category administration for system administrators: the tree, and versions of each category's figures;
sustainability officers' proposed corrections of the figures, which system administrators decide.

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
from sharing.catalog.categories import proposals
from sharing.catalog.categories import rules as categories
from sharing.catalog.categories.forms import CategoryForm, DecideForm, DeclineForm, FactorForm, ProposalForm
from sharing.catalog.categories.labels import FIGURE_LABELS, KIND_LABELS, PROPOSAL_STATUS_LABELS
from sharing.catalog.categories.models import Category, FigureProposal, ProposalStatus
from sharing.clock import utcnow
from sharing.db import db_session
from sharing.errors import Conflict, DomainError
from sharing.typed import id_of
from sharing.web.arguments import record_id
from sharing.web.forms import refusal, show_error

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
                           kind_labels=KIND_LABELS, can_edit=current_user.has_role(Role.SYSTEM_ADMIN),
                           **_proposal_links())


def _proposal_links() -> dict[str, object]:
    """What the pages link to: the open proposals (with their count) for system admins, one's own
    proposals for sustainability officers."""
    deciding = proposals.may_decide(current_user)
    return {"open_proposals": proposals.open_count(db_session) if deciding else None,
            "can_propose": proposals.may_propose(current_user)}


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
                           can_edit=current_user.has_role(Role.SYSTEM_ADMIN), **_proposal_links())


# --- Proposed corrections -----------------------------------------------------------------

@blueprint.route("/<int:category_id>/propose", methods=["GET", "POST"])
@allow(Role.SUSTAINABILITY_OFFICER)
def propose(category_id: int) -> str | Response:
    category = _category(category_id)
    form = ProposalForm()
    if form.validate_on_submit():
        figures = proposals.ProposedFigures(
            weight_kg=form.weight_kg.data, volume_m3=form.volume_m3.data, new_price_sek=form.new_price_sek.data,
            co2e_new_kg=form.co2e_new_kg.data, co2e_kind=form.co2e_kind.data)
        try:
            proposal = proposals.propose(db_session, category=category, figures=figures,
                                         citation=form.citation.data or "", url=form.url.data or "",
                                         reason=form.reason.data or "", by=current_user, now=utcnow())
        except DomainError as error:
            show_error(form, error)
        else:
            db_session.commit()
            audit.info("figures proposal %s for category %s made by user %s", proposal.id, category.id,
                       current_user.id)
            flash(_("Your proposal is sent. A system administrator decides it, and you are told of the decision."),
                  "success")
            return redirect(url_for("categories.proposal", proposal_id=proposal.id))
    current = categories.current_factor(db_session, id_of(category))
    return render_template("catalog/categories/propose.html", category=category, current=current, form=form,
                           figure_labels=FIGURE_LABELS, path=list(reversed(categories.ancestors(db_session, category))))


def _names(user_ids: set[int | None]) -> dict[int, str]:
    wanted = {user_id for user_id in user_ids if user_id is not None}
    return {row.id: row.name for row in db_session.execute(
        select(col(User.id), col(User.name)).where(col(User.id).in_(wanted)))} if wanted else {}


def _category_names(rows: list[FigureProposal]) -> dict[int, str]:
    ids = {row.category_id for row in rows}
    return {c.id: category_name(c) for c in db_session.scalars(select(Category).where(col(Category.id).in_(ids)))
            if c.id is not None} if ids else {}


@blueprint.get("/proposals")
@allow(*READERS)
def proposal_list() -> str:
    deciding = proposals.may_decide(current_user)
    waiting = proposals.open_proposals(db_session) if deciding else []
    decided = proposals.decided_proposals(db_session) if deciding else []
    mine = proposals.proposals_of(db_session, user_id=current_user.id) if proposals.may_propose(current_user) else []
    shown = [*waiting, *decided, *mine]
    return render_template("catalog/categories/proposals.html", waiting=waiting, decided=decided, mine=mine,
                           deciding=deciding, proposing=proposals.may_propose(current_user),
                           names=_names({p.proposed_by_id for p in shown} | {p.decided_by_id for p in shown}),
                           category_names=_category_names(shown), status_labels=PROPOSAL_STATUS_LABELS,
                           figure_labels=FIGURE_LABELS)


@blueprint.get("/proposals/<int:proposal_id>")
@allow(*READERS)
def proposal(proposal_id: int) -> str:
    found = proposals.visible_proposal(db_session, proposal_id, by=current_user)
    return _proposal_page(found, DeclineForm())


def _proposal_page(proposal: FigureProposal, decline_form: DeclineForm) -> str:
    category = db_session.get_one(Category, proposal.category_id)
    deciding = proposals.may_decide(current_user) and proposal.status == ProposalStatus.OPEN
    return render_template(
        "catalog/categories/proposal.html", proposal=proposal, category=category,
        current=categories.current_factor(db_session, id_of(category)),
        result=proposals.resulting_figures(db_session, proposal) if deciding else None,
        changed_since=deciding and proposals.changed_since(db_session, proposal),
        version=proposals.version_of(db_session, proposal), names=_names({proposal.proposed_by_id,
                                                                         proposal.decided_by_id}),
        deciding=deciding, accept_form=DecideForm(), decline_form=decline_form,
        status_labels=PROPOSAL_STATUS_LABELS, figure_labels=FIGURE_LABELS)


@blueprint.post("/proposals/<int:proposal_id>/accept")
@allow(Role.SYSTEM_ADMIN)
def accept_proposal(proposal_id: int) -> Response:
    found = proposals.visible_proposal(db_session, proposal_id, by=current_user)
    here = url_for("categories.proposal", proposal_id=proposal_id)
    if not DecideForm().validate_on_submit():
        abort(400)
    try:
        factor = proposals.accept(db_session, proposal=found, by=current_user, now=utcnow())
    except DomainError as error:  # decided meanwhile (a Conflict), or nothing it would change
        db_session.rollback()
        flash(refusal(error), "error")
        return redirect(here)
    try:
        db_session.commit()
    except IntegrityError:  # another admin saved a version of this category, or decided this, at the same moment
        db_session.rollback()
        flash(_("Someone saved other figures for this category, or decided this proposal, at the same moment. "
                "Look at them, then decide again if it is still open."), "error")
        return redirect(here)
    audit.info("figures proposal %s accepted by user %s as category %s version %s", found.id, current_user.id,
               found.category_id, factor.version)
    flash(_("The proposal is accepted: version %(version)s of the figures is saved and in use from now on.",
            version=factor.version), "success")
    return redirect(here)


@blueprint.post("/proposals/<int:proposal_id>/decline")
@allow(Role.SYSTEM_ADMIN)
def decline_proposal(proposal_id: int) -> str | Response:
    found = proposals.visible_proposal(db_session, proposal_id, by=current_user)
    form = DeclineForm()
    if form.validate_on_submit():
        try:
            proposals.decline(db_session, proposal=found, reason=form.reason.data or "", by=current_user,
                              now=utcnow())
        except Conflict as error:
            db_session.rollback()
            flash(refusal(error), "error")
            return redirect(url_for("categories.proposal", proposal_id=proposal_id))
        except DomainError as error:
            show_error(form, error)
        else:
            db_session.commit()
            audit.info("figures proposal %s declined by user %s", found.id, current_user.id)
            flash(_("The proposal is declined. Its proposer is told why."), "success")
            return redirect(url_for("categories.proposal", proposal_id=proposal_id))
    return _proposal_page(found, form)
