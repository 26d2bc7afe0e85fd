"""A user's register extract (their own, only theirs) and an administrator's erasure of a person
who has left (with a confirmation: their name typed)."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from sharing.access import SIGNED_IN, allow
from sharing.accounts.admin_views import ADMINS, administered, owned
from sharing.accounts.audit import naming_only
from sharing.accounts.models import User
from sharing.accounts.personal_data import document
from sharing.accounts.personal_data import rules as personal_data
from sharing.accounts.personal_data.forms import EraseForm
from sharing.clock import today_in_sweden, utcnow
from sharing.db import db_session
from sharing.errors import DomainError, NotAllowed
from sharing.web.forms import show_error
from sharing.web.i18n import when

blueprint = Blueprint("personal_data", __name__, template_folder="templates")
security_log = logging.getLogger("sharing.security")


# --- The register extract -----------------------------------------------------------------------

@blueprint.get("/account/personal-data")
@allow(SIGNED_IN)
def index() -> str:
    return render_template("personal_data/index.html", rows_max=personal_data.ROWS_MAX,
                           shown=document.RECORDS_SHOWN)


def _download(body: bytes, mimetype: str, extension: str) -> Response:
    response = Response(body, mimetype=mimetype)
    name = f"registerutdrag-{today_in_sweden(utcnow()).isoformat()}.{extension}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"  # personal data: kept by no browser cache or proxy
    return response


@blueprint.get("/account/personal-data.json")
@allow(SIGNED_IN)
def download_json() -> Response:
    """Everything the service keeps about the signed-in user, as JSON (theirs only: by their id)."""
    data = personal_data.extract(db_session, user_id=current_user.id, now=utcnow())
    security_log.info("personal data extracted (json): user %s", current_user.id)
    body = json.dumps(personal_data.as_json(db_session, data), ensure_ascii=False, indent=2)
    return _download(body.encode("utf-8"), "application/json", "json")


@blueprint.get("/account/personal-data.pdf")
@allow(SIGNED_IN)
def download_pdf() -> Response:
    """The same, as a PDF to read: sections titled and values worded in the reader's language."""
    data = personal_data.extract(db_session, user_id=current_user.id, now=utcnow())
    security_log.info("personal data extracted (pdf): user %s", current_user.id)
    with naming_only(data.user_id):  # the person's own extract: nobody else is named in it
        blocks = [document.Block(str(contribution.sections[name].title),
                                 [_readable(contribution.sections[name], record) for record in records])
                  for contribution, sections in data.parts for name, records in sections.items()]
    lines = [_("What Delningstjänsten keeps about %(name)s (%(email)s), made %(when)s.", name=current_user.name,
               email=current_user.email, when=when(data.made_at, "short")),
             _("The same as a file for computers: the JSON download on your account page. Times are Swedish time.")]
    if data.truncated:
        lines.append(_("Some sections hold only their newest %(count)s records: ask your municipality for the "
                       "rest.", count=format_decimal(personal_data.ROWS_MAX)))
    pdf = document.render(title=_("Register extract"), lines=lines, blocks=blocks, texts={
        "author": _("Delningstjänsten"), "none": _("Nothing."), "page": _("Page %(page)d"),
        "more": _("Only the newest %(shown)d are shown here; the JSON download has them all.")})
    return _download(pdf, "application/pdf", "pdf")


def _readable(section: personal_data.Section, record: dict[str, Any]) -> list[tuple[str, str]]:
    words = section.in_words(db_session, record)
    return [(str(label), words.get(name) or _value(record.get(name))) for name, label in section.fields.items()]


def _value(value: Any) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return "–"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, (datetime, date)):
        return when(value, "short")
    if isinstance(value, list):
        return ", ".join(_value(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


# --- Erasure ------------------------------------------------------------------------------

@blueprint.route("/admin/municipalities/<int:municipality_id>/users/<int:user_id>/erase", methods=["GET", "POST"])
@allow(*ADMINS)
def erase(municipality_id: int, user_id: int) -> str | BaseResponse | tuple[str, int]:
    """Erase a person who has left: what happens is shown first, and their name typed confirms it."""
    municipality = administered(municipality_id)
    user: User = owned(User, user_id, municipality)
    if user.erased_at is not None:
        flash(_("This person is already erased."), "info")
        return redirect(url_for("admin.edit_user", municipality_id=municipality.id, user_id=user.id))
    if not personal_data.may_erase(current_user, user):  # not offered: a system administrator, say
        raise NotAllowed(f"erasing user {user.id}")
    if user.id == current_user.id and request.method == "GET":  # not offered; refused by the rule if sent
        flash(_("You cannot erase yourself. Ask another administrator."), "error")
        return redirect(url_for("admin.edit_user", municipality_id=municipality.id, user_id=user.id))
    form = EraseForm()
    if form.validate_on_submit():
        if " ".join((form.name.data or "").split()).casefold() != " ".join(user.name.split()).casefold():
            form.name.errors = [_("Type the person's name exactly as shown, to confirm.")]
        else:
            try:
                personal_data.erase_user(db_session, user=user, by=current_user, now=utcnow())
            except DomainError as error:
                show_error(form, error)
            else:
                db_session.commit()
                security_log.info("user %s erased by user %s", user_id, current_user.id)
                flash(_("The person is erased: their name, address and what they wrote are gone; the requests and "
                        "the reuse figures stay."), "success")
                return redirect(url_for("admin.users", municipality_id=municipality.id))
    page = render_template("personal_data/erase.html", municipality=municipality, user=user, form=form)
    return (page, 400) if form.errors else page
