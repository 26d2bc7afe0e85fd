"""Transport jobs, for the coordinators who plan them: the list, a job's page, adding one by
hand, cancelling it, its notes, seeing that it changed after it was planned, and planning a
failed one again on a new day."""

from __future__ import annotations

import logging
from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlmodel import col
from werkzeug.wrappers import Response

from sharing.access import allow
from sharing.accounts.models import Municipality, Role, Site
from sharing.catalog.listings.models import Listing
from sharing.catalog.listings.rules import can_see as can_see_listing
from sharing.clock import today_in_sweden, utcnow
from sharing.db import db_session
from sharing.errors import Conflict, DomainError
from sharing.events import event_label, events_of
from sharing.loans.requests.models import LoanRequest
from sharing.loans.requests.rules import can_see as can_see_request
from sharing.logistics import events
from sharing.logistics.coordination import rules as coordination
from sharing.logistics.jobs import rules as jobs
from sharing.logistics.jobs.forms import JobFilterForm, ManualJobForm, NotesForm, PlanAgainForm
from sharing.logistics.jobs.models import JobKind, JobStatus, TransportJob
from sharing.logistics.labels import FAILURE_LABELS
from sharing.web.arguments import link_arguments, page_number
from sharing.web.forms import refusal, show_error

blueprint = Blueprint("transport_jobs", __name__, url_prefix="/logistics/jobs", template_folder="templates")
log = logging.getLogger("sharing.logistics")
COORDINATOR = Role.TRANSPORT_COORDINATOR


def _planned_for() -> dict[int, str]:
    """The municipalities the coordinator plans for, by name."""
    return dict(sorted(jobs.municipality_names(db_session, coordination.scope_of(db_session, current_user)).items(),
                       key=lambda item: item[1]))


@blueprint.get("/")
@allow(COORDINATOR)
def index() -> str:
    form = JobFilterForm(request.args)
    planned_for = _planned_for()
    form.municipality_id.choices = [("", _("All you plan for")), *planned_for.items()]
    form.validate()
    today = today_in_sweden(utcnow())
    municipality_id = form.municipality_id.data if form.municipality_id.data in planned_for else None
    filters = jobs.JobFilters(
        day=form.day.data, from_day=None if form.day.data else today,
        state=form.state.data if form.state.data in jobs.STATES else "active", municipality_id=municipality_id,
        changed_only=bool(form.changed.data), page=max(1, request.args.get("page", 1, type=page_number)))
    page = jobs.find_jobs(db_session, by=current_user, filters=filters)
    return render_template("logistics/jobs/index.html", form=form, page=page, today=today,
                           query_args=link_arguments(exclude=("page",)),
                           municipalities=jobs.municipality_names(db_session, {
                               m for entry in page.items for m in (entry.pickup.municipality_id,
                                                                   entry.delivery.municipality_id)}))


def _site_choices() -> dict[str, list[tuple[int, str]]]:
    """Every active site of the partners, grouped by municipality (a job may run between any
    two; the rule checks that one end is the coordinator's)."""
    rows = db_session.execute(
        select(col(Site.id), col(Site.name), col(Municipality.name)).join(Municipality)
        .where(col(Site.active), col(Municipality.active)).order_by(col(Municipality.name), col(Site.name))).all()
    grouped: dict[str, list[tuple[int, str]]] = {}
    for site_id, site_name, municipality_name in rows:
        grouped.setdefault(municipality_name, []).append((site_id, site_name))
    return grouped


def _manual_form() -> ManualJobForm:
    form = ManualJobForm()
    choices = {"": [("", _("Choose a site"))], **_site_choices()}
    form.pickup_site_id.choices = choices  # a dict: WTForms shows each municipality as a group
    form.delivery_site_id.choices = choices
    return form


def _number(value: float | None) -> float:
    return value if value is not None else 0.0


@blueprint.route("/new", methods=["GET", "POST"])
@allow(COORDINATOR)
def new() -> ResponseReturnValue:
    form = _manual_form()
    if form.validate_on_submit():
        assert form.day.data is not None  # the form requires it
        details = jobs.ManualJobDetails(
            pickup_site_id=form.pickup_site_id.data or 0, delivery_site_id=form.delivery_site_id.data or 0,
            day=form.day.data, goods=form.goods.data or "", quantity=form.quantity.data or 0,
            volume_m3=_number(form.volume_m3.data), weight_kg=_number(form.weight_kg.data),
            notes=form.notes.data or "")
        try:
            job = jobs.add_manual_job(db_session, details=details, by=current_user, now=utcnow())
        except DomainError as error:
            db_session.rollback()
            show_error(form, error)
        else:
            db_session.commit()
            log.info("transport job %s added by user %s", job.id, current_user.id)
            flash(_("The transport job is added: it is open to plan."), "success")
            return redirect(url_for(".detail", job_id=job.id))
    page = render_template("logistics/jobs/form.html", form=form)
    return page, 422 if form.errors else 200


@blueprint.get("/<int:job_id>")
@allow(COORDINATOR)
def detail(job_id: int) -> ResponseReturnValue:
    job = jobs.job_to_see(db_session, current_user, job_id)
    return _detail_page(job)


def _detail_page(job: TransportJob, notes_form: NotesForm | None = None,
                 again_form: PlanAgainForm | None = None) -> ResponseReturnValue:
    [entry] = jobs.scheduled(db_session, [job])
    failed = job.status == JobStatus.FAILED.value
    today, end = today_in_sweden(utcnow()), jobs.delivered_by(db_session, job)
    loan_over = failed and end is not None and end < today  # no day left to plan it on
    if again_form is None and failed and not loan_over:
        again_form = PlanAgainForm(formdata=None, day=min(max(job.day, today), end or date.max))
    loan = db_session.get(LoanRequest, job.request_id) if job.request_id is not None else None
    listing = db_session.get(Listing, job.listing_id) if job.listing_id is not None else None
    history = [(event, event_label(event.name)) for event in
               reversed(events_of(db_session, subject_type=events.JOB_SUBJECT, subject_id=job.id or 0))]
    notes_form = notes_form or NotesForm(formdata=None, notes=job.notes)
    page = render_template(
        "logistics/jobs/detail.html", job=job, entry=entry, notes_form=notes_form, history=history,
        loan=loan if loan is not None and can_see_request(current_user, loan) else None,
        listing_shown=listing is not None and can_see_listing(current_user, listing),
        municipalities=jobs.municipality_names(db_session, (job.pickup_municipality_id, job.delivery_municipality_id)),
        can_cancel=job.kind == JobKind.MANUAL.value and JobStatus(job.status) in (*jobs.ACTIVE, JobStatus.FAILED)
        and jobs.may_cancel(current_user, job),
        failure=jobs.last_failure(db_session, job) if failed else None, failure_labels=FAILURE_LABELS,
        again_form=again_form if failed and not loan_over else None, loan_over=loan_over)
    return page, 422 if notes_form.errors or (again_form is not None and again_form.errors) else 200


@blueprint.post("/<int:job_id>/notes")
@allow(COORDINATOR)
def notes(job_id: int) -> ResponseReturnValue:
    job = jobs.job_to_see(db_session, current_user, job_id)
    form = NotesForm()
    if not form.validate_on_submit():
        return _detail_page(job, notes_form=form)
    try:
        jobs.change_notes(db_session, job, notes=form.notes.data or "", by=current_user, now=utcnow())
    except DomainError as error:
        db_session.rollback()
        show_error(form, error)
        return _detail_page(job, notes_form=form)
    db_session.commit()
    flash(_("The notes are saved."), "success")
    return redirect(url_for(".detail", job_id=job_id))


@blueprint.post("/<int:job_id>/plan-again")
@allow(COORDINATOR)
def plan_again(job_id: int) -> ResponseReturnValue:
    job = jobs.job_to_see(db_session, current_user, job_id)
    form = PlanAgainForm()
    if not form.validate_on_submit():
        return _detail_page(job, again_form=form)
    assert form.day.data is not None  # the form requires it
    try:
        jobs.plan_again(db_session, job, day=form.day.data, by=current_user, now=utcnow())
    except Conflict as error:  # failed no more (planned again by a colleague, cancelled): as it is now
        db_session.rollback()
        flash(refusal(error), "error")
        return redirect(url_for(".detail", job_id=job_id))
    except DomainError as error:
        db_session.rollback()
        show_error(form, error)
        return _detail_page(job, again_form=form)
    db_session.commit()
    log.info("transport job %s planned again by user %s", job_id, current_user.id)
    flash(_("The transport job is open to plan on %(day)s.", day=form.day.data.isoformat()), "success")
    return redirect(url_for(".detail", job_id=job_id))


@blueprint.post("/<int:job_id>/cancel")
@allow(COORDINATOR)
def cancel(job_id: int) -> Response:
    job = jobs.job_to_see(db_session, current_user, job_id)
    try:
        jobs.cancel_job(db_session, job, by=current_user, now=utcnow())
    except DomainError as error:
        db_session.rollback()
        flash(refusal(error), "error")
    else:
        db_session.commit()
        log.info("transport job %s cancelled by user %s", job_id, current_user.id)
        flash(_("The transport job is cancelled."), "success")
    return redirect(url_for(".detail", job_id=job_id))


@blueprint.post("/<int:job_id>/seen")
@allow(COORDINATOR)
def acknowledge(job_id: int) -> Response:
    job = jobs.job_to_see(db_session, current_user, job_id)
    jobs.acknowledge_change(db_session, job, by=current_user, now=utcnow())
    db_session.commit()
    flash(_("Noted: the change is seen."), "success")
    return redirect(url_for(".detail", job_id=job_id))
