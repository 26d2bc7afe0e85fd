"""Forms of wanted items: posting or changing one, closing one, and the list's filters."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from sharing.catalog.wants.rules import DESCRIPTION_MAX, QUANTITY_MAX, WORDS_MAX
from sharing.web.arguments import optional_id
from sharing.web.forms import NumberRange, WholeNumberField


class WantForm(FlaskForm):
    words = StringField(
        _l("What do you need?"), validators=[Length(max=WORDS_MAX)],
        description=_l("A few words, as a listing would say it: “kontorsstol”, “whiteboard”. "
                       "A listing must contain every word, so fewer words find more."))
    category_id = SelectField(_l("Category (optional)"), coerce=optional_id, validators=[Optional()],
                              description=_l("A listing in this category or one below it matches."))
    quantity = WholeNumberField(_l("How many"), default=1, validators=[InputRequired(), NumberRange(1, QUANTITY_MAX)])
    needed_by = DateField(_l("Needed by (optional)"), validators=[Optional()],
                          description=_l("After this day the wanted item expires and is no longer matched."))
    description = TextAreaField(_l("More about it (optional)"), validators=[Length(max=DESCRIPTION_MAX)],
                                description=_l("What it is for, sizes, colours: shown to those who may have it."))


class WantFilterForm(FlaskForm):
    """The list's filters, read from the query string so a view can be bookmarked."""

    class Meta:
        csrf = False  # a GET that changes nothing

    state = SelectField(_l("Show"), default="open")
    municipality_id = SelectField(_l("Municipality"), coerce=optional_id, validators=[Optional()],
                                  validate_choice=False)
    category_id = SelectField(_l("Category"), coerce=optional_id, validators=[Optional()], validate_choice=False)
    mine = BooleanField(_l("Only my unit's"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # Set here rather than in the field: WTForms 3.3 deprecates tuple choices given to a field.
        self.state.choices = [("open", _l("Open wanted items")), ("expired", _l("Expired wanted items")),
                              ("closed", _l("Closed wanted items")), ("all", _l("All wanted items"))]
