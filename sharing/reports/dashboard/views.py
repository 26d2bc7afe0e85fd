"""The dashboard, the entries behind a figure, one entry with its event (and its reversal),
and the methodology page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlmodel import col

from sharing.access import SIGNED_IN, allow
from sharing.accounts.models import Role
from sharing.catalog.categories.rules import category_tree
from sharing.clock import today_in_sweden, utcnow
from sharing.db import db_session
from sharing.errors import DomainError, NotAllowed, NotVisible
from sharing.events import DomainEvent, event_label
from sharing.reports import labels
from sharing.reports.dashboard import rules
from sharing.reports.ledger import rules as ledger
from sharing.reports.ledger.models import EntryKind, ReuseEntry
from sharing.reports.ledger.receiver import ledger_rules
from sharing.reports.names import Names, names
from sharing.reports.subscriptions import rules as subscriptions
from sharing.web.arguments import page_number
from sharing.web.forms import refusal

blueprint = Blueprint("reports", __name__, url_prefix="/reports", template_folder="templates")
READERS = (Role.SUSTAINABILITY_OFFICER, Role.SYSTEM_ADMIN)
PAGE = 100


def selection(known: Names) -> rules.Parsed:
    """The address's selection, of what there is, with what could not be taken as it was."""
    parsed = rules.parse_selection(request.args, today=today_in_sweden(utcnow()))
    kept = rules.known_only(parsed.selection, municipalities=known.municipalities.keys(),
                            units=known.units.keys(), categories=known.categories.keys())
    return rules.Parsed(kept.selection, parsed.notices + kept.notices)


def shown(notices: list[rules.Notice]) -> list[str]:
    return [_(notice.message, **notice.params) for notice in notices]


@blueprint.get("/")
@allow(*READERS)
def dashboard() -> ResponseReturnValue:
    locale = str(get_locale())
    found_names = names(db_session, locale)
    parsed = selection(found_names)
    figures = rules.figures(db_session, parsed.selection)
    year = today_in_sweden(utcnow()).year - 1
    subscription = subscriptions.subscription_of(db_session, current_user.id)
    by_year = rules.shown_by_year(figures)
    return render_template("reports/dashboard.html", figures=figures, selection=figures.selection,
                           by_year=by_year, years=rules.by_year(figures.months) if by_year else [],
                           notices=shown(parsed.notices), loan_min_days=ledger_rules().loan_min_days,
                           names=found_names, tree=category_tree(db_session), locale=locale,
                           receivers=labels.receivers(figures.selection, found_names),
                           categories=", ".join(found_names.category(id_) for id_ in figures.selection.category_ids),
                           # The same selection, of last year: a period link never drops what was chosen.
                           last_year={**figures.selection.base().args(), "from": f"{year}-01-01",
                                      "to": f"{year}-12-31"}, subscription=subscription,
                           subscribed_categories=subscriptions.category_ids(subscription) if subscription else ())


@blueprint.get("/entries")
@allow(*READERS)
def entries() -> ResponseReturnValue:
    found_names = names(db_session, str(get_locale()))
    parsed = selection(found_names)
    chosen = parsed.selection
    page = request.args.get("page", 1, type=page_number)
    found = rules.entries(db_session, chosen, offset=(page - 1) * PAGE, limit=PAGE + 1)
    total = rules.totals(db_session, rules.with_categories(db_session, chosen))
    return render_template("reports/entries.html", entries=found[:PAGE], more=len(found) > PAGE, page=page,
                           selection=chosen, totals=total, names=found_names, notices=shown(parsed.notices))


@blueprint.get("/entries/<int:entry_id>")
@allow(*READERS)
def entry(entry_id: int) -> ResponseReturnValue:
    found = db_session.get(ReuseEntry, entry_id)
    if found is None:
        raise NotVisible(f"reuse entry {entry_id}")
    event = db_session.get(DomainEvent, found.event_id) if found.event_id is not None else None
    label = event_label(event.name) if event is not None else None
    source, shared_out = labels.transport_source(labels.own_source(found.factor_source))
    reversed_by = db_session.scalars(select(ReuseEntry).where(col(ReuseEntry.reverses_id) == found.id)).first()
    try:
        ledger.entry_to_correct(db_session, entry_id, by=current_user)
        may_correct = True
    except NotAllowed:
        may_correct = False
    return render_template("reports/entry.html", entry=found, event=event, event_label=label,
                           event_subject=labels.event_subject(event) if event is not None else None,
                           event_details=labels.event_details(db_session, event) if event is not None else [],
                           source=source, shared_out=shared_out, transport=found.kind == EntryKind.TRANSPORT,
                           kg_per_km=ledger.kg_per_km(found) if found.kind == EntryKind.TRANSPORT else (None, False),
                           reversed_by=reversed_by, may_correct=may_correct,
                           names=names(db_session, str(get_locale())))


@blueprint.post("/entries/<int:entry_id>/reverse")
@allow(*READERS)
def reverse(entry_id: int) -> ResponseReturnValue:
    try:
        reversal = ledger.reverse_entry(db_session, entry_id=entry_id, reason=request.form.get("reason", ""),
                                        by=current_user, now=utcnow())
    except DomainError as error:
        db_session.rollback()
        flash(refusal(error), "error")
        return redirect(url_for(".entry", entry_id=entry_id))
    db_session.commit()
    flash(_("The entry is reversed: the reversing entry counts against it from now on."), "success")
    return redirect(url_for(".entry", entry_id=reversal.id))


@blueprint.get("/methodology")
@allow(SIGNED_IN)
def methodology() -> ResponseReturnValue:
    rules_now = ledger_rules()
    return render_template("reports/methodology.html", rules=rules_now,
                           displacement_percent=round(rules_now.displacement_rate * 100),
                           weight_estimate=ledger.WEIGHT_ESTIMATE_G_PER_KG / 1000,
                           weight_source=ledger.WEIGHT_ESTIMATE_CITATION)
