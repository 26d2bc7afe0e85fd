"""Forms of the category administration: a new category, a new version of its figures, and a
sustainability officer's proposed correction of them with its decision."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField, URLField
from wtforms.validators import InputRequired, Length, Optional

from sharing.catalog.categories.labels import CO2E_KIND_CHOICES, KIND_LABELS
from sharing.catalog.categories.models import Co2eKind
from sharing.catalog.categories.proposals import CITATION_MAX, DECLINE_REASON_MAX, REASON_MAX, URL_MAX
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


def _kept(label: str) -> LocalNumberField:
    return _number(label, _l("Leave empty to keep the figure in use."))


class ProposalForm(FlaskForm):
    """The figures proposed (any of them), the source that supports them, and why."""

    weight_kg = _kept(_l("Weight of a new piece (kg)"))
    volume_m3 = _kept(_l("Volume of a new piece (m³)"))
    new_price_sek = _kept(_l("Price of a new piece (SEK, excluding VAT)"))
    co2e_new_kg = _kept(_l("CO2e of one piece (kg)"))
    co2e_kind = SelectField(_l("What the CO2e figure is"), default=Co2eKind.PRODUCTION.value,
                            description=_l("Only if you propose a CO2e figure."))
    citation = TextAreaField(_l("Source"), validators=[Length(max=CITATION_MAX)],
                             description=_l("The publication that supports the figures: its author, title and year. "
                                            "Give this, a web address, or both."))
    url = URLField(_l("Web address of the source"), validators=[Length(max=URL_MAX)],
                   render_kw={"autocomplete": "url", "inputmode": "url"})
    reason = TextAreaField(_l("Why the figures should change"), validators=[InputRequired(), Length(max=REASON_MAX)],
                           description=_l("What is wrong with the figures in use, and why the source is better."))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.co2e_kind.choices = [(kind.value, str(label)) for kind, label in CO2E_KIND_CHOICES.items()]


class DeclineForm(FlaskForm):
    reason = TextAreaField(_l("Why the proposal is declined"),
                           validators=[InputRequired(), Length(max=DECLINE_REASON_MAX)],
                           description=_l("The proposer reads this."))


class DecideForm(FlaskForm):
    """Accepting holds nothing but the CSRF token."""


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
