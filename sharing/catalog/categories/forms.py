"""Forms of the category administration: a new category, and a new version of its figures."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from sharing.catalog.categories.labels import CO2E_KIND_CHOICES, KIND_LABELS
from sharing.catalog.categories.models import Co2eKind
from sharing.catalog.categories.rules import NAME_MAX, SOURCE_MAX
from sharing.web.arguments import optional_id
from sharing.web.forms import LocalNumberField


def _number(label: str, description: str = "") -> LocalNumberField:
    return LocalNumberField(label, validators=[Optional()], description=description,
                            render_kw={"inputmode": "decimal", "autocomplete": "off"})


class FactorForm(FlaskForm):
    weight_kg = _number(_l("Weight of a new piece (kg)"))
    volume_m3 = _number(_l("Volume of a new piece (m³)"), _l("The space it takes in a vehicle."))
    new_price_sek = _number(_l("Price of a new piece (SEK, excluding VAT)"))
    co2e_new_kg = _number(_l("CO2e of one piece (kg)"),
                          _l("Leave empty where no published figure exists: reports then estimate from the weight "
                             "and say so."))
    co2e_kind = SelectField(_l("What the CO2e figure is"), default=Co2eKind.PRODUCTION.value)
    source = TextAreaField(_l("Source"), validators=[InputRequired(), Length(max=SOURCE_MAX)],
                           description=_l("Where the figures come from: name the publication, or write that they are "
                                          "your municipality's own estimate."))


    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.co2e_kind.choices = [(kind.value, str(label)) for kind, label in CO2E_KIND_CHOICES.items()]


class CategoryForm(FlaskForm):
    name = StringField(_l("Name in Swedish"), validators=[InputRequired(), Length(max=NAME_MAX)])
    name_en = StringField(_l("Name in English"), validators=[InputRequired(), Length(max=NAME_MAX)])
    parent_id = SelectField(_l("Part of"), coerce=optional_id, validate_choice=False)
    kind = SelectField(_l("What it holds"), default="thing", validators=[InputRequired()],
                       description=_l("A subcategory holds the same kind of resource as the category above it."))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # Set here rather than in the field: WTForms 3.3 deprecates tuple choices given to the field.
        self.kind.choices = [(k.value, label) for k, label in KIND_LABELS.items()]
