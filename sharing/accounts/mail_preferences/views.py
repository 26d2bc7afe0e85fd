"""The user's page for choosing which notifications also come by e-mail."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from sharing.access import SIGNED_IN, allow
from sharing.accounts.mail_preferences import rules
from sharing.accounts.mail_preferences.forms import MailPreferencesForm
from sharing.clock import utcnow
from sharing.db import db_session

blueprint = Blueprint("mail_preferences", __name__, template_folder="templates")


@blueprint.route("/account/mail", methods=["GET", "POST"])
@allow(SIGNED_IN)
def edit() -> str | Response | tuple[str, int]:
    form = MailPreferencesForm()
    form.mailed.choices = [(kind.name, str(kind.label)) for kind in rules.mail_kinds()]
    if form.validate_on_submit():
        rules.choose(db_session, current_user.id, mailed=form.mailed.data or [], now=utcnow())
        db_session.commit()
        flash(_("Your e-mail choices are saved."), "success")
        return redirect(url_for("mail_preferences.edit"))
    if form.is_submitted():
        return render_template("accounts/mail_preferences.html", form=form), 400
    choices = rules.choices_of(db_session, current_user.id)
    form.mailed.data = [name for name, mailed in choices.items() if mailed]
    return render_template("accounts/mail_preferences.html", form=form)
