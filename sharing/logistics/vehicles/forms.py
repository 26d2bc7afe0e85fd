"""The form of a vehicle."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import InputRequired, Length, Optional

from sharing.catalog.categories.forms import LocalNumberField
from sharing.logistics.labels import FUEL_LABELS
from sharing.logistics.vehicles.rules import (
    MAX_CO2E_KG_PER_KM,
    MAX_COST_PER_KM,
    MAX_PAYLOAD_KG,
    MAX_VOLUME_M3,
    NAME_MAX,
    SOURCE_MAX,
)
from sharing.web.arguments import optional_id
from sharing.web.forms import NumberRange, WholeNumberField

DECIMAL = {"inputmode": "decimal", "autocomplete": "off"}


class VehicleForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=NAME_MAX)],
                       description=_l("What the drivers call it: “The electric van”, “Skåpbil 2”."))
    registration = StringField(_l("Registration number (optional)"), validators=[Length(max=10)],
                               description=_l("For example ABC 123."))
    shared = BooleanField(_l("Shared with the partner municipalities"),
                          description=_l("Their transport coordinators may plan with it too."))
    volume_m3 = LocalNumberField(_l("Load volume (m³)"), validators=[InputRequired(), NumberRange(0, MAX_VOLUME_M3)],
                                 render_kw=DECIMAL)
    payload_kg = WholeNumberField(_l("Payload (kg)"), validators=[InputRequired(), NumberRange(1, MAX_PAYLOAD_KG)],
                              description=_l("The weight it may carry."))
    depot_site_id = SelectField(_l("Depot"), coerce=optional_id,
                                validators=[InputRequired(message=_l("Choose the vehicle's depot."))],
                                validate_choice=False, description=_l("Where its day starts and ends."))
    shift_start = TimeField(_l("Shift starts"), validators=[InputRequired()])
    shift_end = TimeField(_l("Shift ends"), validators=[InputRequired()])
    cost_per_km = LocalNumberField(_l("Cost per km (kr)"), validators=[InputRequired(),
                                                                       NumberRange(0, MAX_COST_PER_KM)],
                                   render_kw=DECIMAL)
    fuel = SelectField(_l("Runs on"), validators=[InputRequired()])
    co2e_kg_per_km = LocalNumberField(_l("CO2e per km (kg, optional)"), render_kw=DECIMAL,
                                      validators=[Optional(), NumberRange(0, MAX_CO2E_KG_PER_KM)],
                                      description=_l("Leave empty to use the published figure for the fuel "
                                                     "(see below)."))
    co2e_source = TextAreaField(_l("Source of the CO2e figure"), validators=[Length(max=SOURCE_MAX)],
                                description=_l("Needed when you give a figure of your own: where it comes from."))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fuel.choices = [(fuel.value, label) for fuel, label in FUEL_LABELS.items()]
