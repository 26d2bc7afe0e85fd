"""The form of an auto-approval rule."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import InputRequired, Optional

from sharing.catalog.listings.models import MAX_LOAN_DAYS, MAX_QUANTITY
from sharing.web.arguments import optional_id
from sharing.web.forms import NumberRange, WholeNumberField


class RuleForm(FlaskForm):
    kind = SelectField(_l("Requests to"), validators=[InputRequired()])
    category_id = SelectField(_l("In the category"), coerce=optional_id, validators=[Optional()],
                              validate_choice=False, description=_l("And every category below it."))
    max_quantity = WholeNumberField(_l("At most this many pieces (optional)"),
                                validators=[Optional(), NumberRange(1, MAX_QUANTITY)])
    max_days = WholeNumberField(_l("At most this many days (loans, optional)"),
                            validators=[Optional(), NumberRange(1, MAX_LOAN_DAYS)])
