"""The form of a user's mail choices: one checkbox per declared kind."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from sharing.accounts.forms import MultiCheckboxField


class MailPreferencesForm(FlaskForm):
    mailed = MultiCheckboxField(_l("Also send me an e-mail when"), validate_choice=True,
                                description=_l("You always see every notification here in the service."))
