"""Forms of transport jobs: the list's filters, a job added by hand, a job's notes, a failed job's new day."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from sharing.catalog.categories.forms import LocalNumberField
from sharing.catalog.listings.models import MAX_QUANTITY
from sharing.logistics.jobs.rules import GOODS_MAX, MAX_VOLUME_M3, MAX_WEIGHT_KG, NOTES_MAX
from sharing.logistics.labels import JOB_STATUS_LABELS
from sharing.web.arguments import optional_id
from sharing.web.forms import NumberRange, WholeNumberField

DECIMAL = {"inputmode": "decimal", "autocomplete": "off"}
NOTES_HELP = _l("What the driver needs to know: the way in, whom to ask for. Write no more about people than that.")


class JobFilterForm(FlaskForm):
    """The list's filters, read from the query string so a view can be bookmarked."""

    class Meta:
        csrf = False  # a GET that changes nothing

    day = DateField(_l("Day"), validators=[Optional()], description=_l("Empty: from today on."))
    state = SelectField(_l("Show"), default="active")
    municipality_id = SelectField(_l("Municipality"), coerce=optional_id, validators=[Optional()],
                                  validate_choice=False)
    changed = BooleanField(_l("Only those changed after they were planned"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # Set here rather than in the field: WTForms 3.3 deprecates tuple choices given to a field.
        self.state.choices = [("active", _l("To be carried (open or planned)")),
                              *((status.value, label) for status, label in JOB_STATUS_LABELS.items()),
                              ("all", _l("All"))]


class ManualJobForm(FlaskForm):
    pickup_site_id = SelectField(_l("Pick up at"), coerce=optional_id,
                                 validators=[InputRequired(message=_l("Choose where to pick up."))],
                                 validate_choice=False)
    delivery_site_id = SelectField(_l("Deliver to"), coerce=optional_id,
                                   validators=[InputRequired(message=_l("Choose where to deliver."))],
                                   validate_choice=False)
    day = DateField(_l("Day"), validators=[InputRequired()])
    goods = StringField(_l("What is carried"), validators=[InputRequired(), Length(max=GOODS_MAX)],
                        description=_l("For example: “Two whiteboards and a bookcase”."))
    quantity = WholeNumberField(_l("Number of pieces"), default=1,
                            validators=[InputRequired(), NumberRange(1, MAX_QUANTITY)])
    volume_m3 = LocalNumberField(_l("Volume (m³)"), validators=[InputRequired(), NumberRange(0, MAX_VOLUME_M3)],
                                 description=_l("All of it together, as it takes space in a vehicle."),
                                 render_kw=DECIMAL)
    weight_kg = LocalNumberField(_l("Weight (kg)"), validators=[InputRequired(), NumberRange(0, MAX_WEIGHT_KG)],
                                 description=_l("All of it together."), render_kw=DECIMAL)
    notes = TextAreaField(_l("Notes for the driver (optional)"), validators=[Length(max=NOTES_MAX)],
                          description=NOTES_HELP)


class NotesForm(FlaskForm):
    notes = TextAreaField(_l("Notes for the driver"), validators=[Length(max=NOTES_MAX)], description=NOTES_HELP)


class PlanAgainForm(FlaskForm):
    day = DateField(_l("New day"), validators=[InputRequired(message=_l("Choose the day to carry it."))],
                    description=_l("The job is open to plan on that day: plan the day to give it a route."))
