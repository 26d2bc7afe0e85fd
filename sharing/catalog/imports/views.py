"""Importing listings from a spreadsheet: upload and preview, confirm, follow the progress,
and the template to start from. Facility managers only, each within their own municipality."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Mapping
from typing import TypeVar

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, send_file, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlmodel import col
from werkzeug.wrappers import Response

from sharing.access import allow
from sharing.accounts.models import Role
from sharing.catalog.imports import rules as imports
from sharing.catalog.imports import runner as import_runner
from sharing.catalog.imports.forms import StartForm, UploadForm
from sharing.catalog.imports.models import ImportStatus, ListingImport
from sharing.catalog.listings.labels import CONDITION_LABELS, VISIBILITY_LABELS
from sharing.catalog.listings.models import Listing
from sharing.clock import utcnow
from sharing.db import db_session
from sharing.errors import DomainError
from sharing.typed import app_object, id_of
from sharing.web.forms import refusal, show_error

blueprint = Blueprint("imports", __name__, url_prefix="/catalog/import", template_folder="templates")
log = logging.getLogger("sharing.catalog")
SHOWN_ROWS = 200  # of a preview; the rest are counted
SHOWN_ERRORS = 500
SHOWN_CREATED = 100
SHOWN_REPEATS = 20  # groups of repeated rows told on a checked import's page
FINISHED = (ImportStatus.DONE.value, ImportStatus.FAILED.value)


K = TypeVar("K")


def _labels(labels: Mapping[K, object]) -> dict[K, list[str]]:
    """Each label in Swedish first (what the template writes), then in English: a file may use either."""
    result: dict[K, list[str]] = {}
    for locale in ("sv", "en"):
        with force_locale(locale):
            for key, label in labels.items():
                result.setdefault(key, []).append(str(label))
    return result


def _vocabulary() -> imports.Vocabulary:
    return imports.vocabulary(db_session, municipality_id=current_user.municipality_id,
                              condition_labels=_labels(CONDITION_LABELS),
                              visibility_labels=_labels(VISIBILITY_LABELS))



def _recent_imports() -> list[ListingImport]:
    return list(db_session.scalars(
        select(ListingImport).where(ListingImport.municipality_id == current_user.municipality_id)
        .order_by(col(ListingImport.created_at).desc(), col(ListingImport.id).desc()).limit(10)))


@blueprint.route("", methods=["GET", "POST"])
@allow(Role.FACILITY_MANAGER)
def index() -> str | Response:
    form = UploadForm()
    preview = None
    if form.validate_on_submit():
        upload = form.file.data
        file_name = re.split(r"[\\/]", upload.filename or "")[-1][:255] or "import"
        data = upload.stream.read(imports.MAX_FILE_BYTES + 1)
        try:
            preview = imports.check_file(db_session, file_name=file_name, data=data, vocabulary=_vocabulary(),
                                         by=current_user)
            job = imports.create_import(db_session, preview=preview, file_name=file_name, by=current_user,
                                        now=utcnow()) if preview.ok else None
        except DomainError as error:
            db_session.rollback()
            show_error(form, error)
        else:
            if job is None:
                db_session.rollback()  # nothing of a file with errors is kept
            else:
                db_session.commit()
                log.info("import %s checked: %d rows, by user %s", job.id, job.total, current_user.id)
                if preview.ignored_columns:
                    flash(_("These columns are not used and were left out: %(columns)s.",
                            columns=", ".join(preview.ignored_columns)), "info")
                return redirect(url_for("imports.detail", import_id=job.id))
    return render_template("catalog/import/index.html", form=form, preview=preview, imports=_recent_imports(),
                           shown_errors=SHOWN_ERRORS, max_rows=imports.MAX_ROWS,
                           max_mb=imports.MAX_FILE_BYTES // 2**20)


@blueprint.get("/<int:import_id>")
@allow(Role.FACILITY_MANAGER)
def detail(import_id: int) -> str:
    job = imports.import_to_see(db_session, current_user, import_id)
    created: list[Listing] = []
    if job.status == ImportStatus.DONE.value and job.created_ids:
        created = list(db_session.scalars(
            select(Listing).where(col(Listing.id).in_(job.created_ids[:SHOWN_CREATED]),
                                  col(Listing.municipality_id) == current_user.municipality_id)
            .order_by(col(Listing.id))))
    done = import_runner.progress(id_of(job))
    repeated = imports.repeated_rows(job) if job.status == ImportStatus.PENDING.value else []
    return render_template("catalog/import/detail.html", job=job, form=StartForm(), created=created,
                           done=done if done is not None else job.done, shown_rows=SHOWN_ROWS,
                           repeated=repeated[:SHOWN_REPEATS], more_repeated=len(repeated) > SHOWN_REPEATS)


@blueprint.post("/<int:import_id>/start")
@allow(Role.FACILITY_MANAGER)
def start(import_id: int) -> Response:
    job = imports.import_to_see(db_session, current_user, import_id)
    form = StartForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        imports.start(db_session, job=job, by=current_user, publish=form.publish.data, now=utcnow())
    except DomainError as error:
        db_session.rollback()
        flash(refusal(error), "error")
    else:
        db_session.commit()
        log.info("import %s started by user %s", job.id, current_user.id)
        import_runner.start_in_background(app_object(), id_of(job))
    return redirect(url_for("imports.detail", import_id=job.id))


@blueprint.get("/<int:import_id>/status")
@allow(Role.FACILITY_MANAGER)
def status(import_id: int) -> Response:
    """The progress as JSON, for the page's script to follow."""
    job = imports.import_to_see(db_session, current_user, import_id)
    done = import_runner.progress(id_of(job))
    done = job.done if done is None else done
    return jsonify(status=job.status, done=done, total=job.total, finished=job.status in FINISHED,
                   text=_("%(done)s of %(total)s rows", done=done, total=job.total))


@blueprint.get("/template.<any(csv, xlsx):file_format>")
@allow(Role.FACILITY_MANAGER)
def template(file_format: str) -> Response:
    vocabulary = _vocabulary()
    if file_format == "csv":
        # Flask adds "; charset=utf-8" to a text type itself: naming it here said it twice.
        return send_file(io.BytesIO(imports.template_csv(vocabulary)), mimetype="text/csv",
                         as_attachment=True, download_name="annonser-mall.csv")
    return send_file(io.BytesIO(imports.template_xlsx(vocabulary)), as_attachment=True,
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     download_name="annonser-mall.xlsx")
