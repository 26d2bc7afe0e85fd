"""The form to join a listing's queue (its fields prefixed, as it shares pages with the request form)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms.validators import InputRequired, Optional

from sharing.catalog.listings.models import MAX_QUANTITY
from sharing.web.forms import NumberRange, WholeNumberField

PREFIX = "queue"


class JoinForm(FlaskForm):
    quantity = WholeNumberField(_l("How many"), default=1, validators=[InputRequired(), NumberRange(1, MAX_QUANTITY)])
    first_day = DateField(_l("From"), validators=[InputRequired()])
    last_day = DateField(_l("To (loans)"), validators=[Optional()],
                         description=_l("Leave it empty if you want it for good."))

    def fit(self, *, give_away: bool) -> JoinForm:
        """Its last day's help as the listing allows: a loan's last day, or none for good."""
        if not give_away:
            self.last_day.description = _l("The last day of the loan.")
        return self

