"""Forms of the catalog: a listing, and the search with its filters."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from sharing.catalog.categories.labels import KIND_LABELS
from sharing.catalog.holds import rules as holds
from sharing.catalog.listings.labels import CONDITION_LABELS, OFFER_LABELS, VISIBILITY_LABELS
from sharing.web.arguments import filter_id, optional_id
from sharing.web.forms import LocalNumberField, NumberRange, WholeNumberField


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ListingForm(FlaskForm):
    kind = RadioField(_l("What are you sharing?"), default="thing", validators=[InputRequired()])
    title = StringField(
        _l("Title"), validators=[InputRequired(), Length(max=150)],
        description=_l("What it is, as someone would search for it: “Kontorsstol, svart, med armstöd”."))
    category_id = SelectField(_l("Category"), coerce=optional_id,
                              validators=[InputRequired(message=_l("Choose a category."))])
    description = TextAreaField(_l("Description"), validators=[Length(max=5000)])
    condition = SelectField(_l("Condition"), description=_l("Needed for things."),
                            validate_choice=False)  # validate_condition checks it; "" or absent is none
    quantity = WholeNumberField(_l("Number of identical pieces"), default=1,
                            validators=[InputRequired(), NumberRange(1, 100_000)])
    site_id = SelectField(_l("Where it is"), coerce=optional_id,
                          validators=[InputRequired(message=_l("Choose where it is."))])
    width_cm = WholeNumberField(_l("Width (cm)"), validators=[Optional(), NumberRange(0, 100_000)])
    depth_cm = WholeNumberField(_l("Depth (cm)"), validators=[Optional(), NumberRange(0, 100_000)])
    height_cm = WholeNumberField(_l("Height (cm)"), validators=[Optional(), NumberRange(0, 100_000)])
    # Text, not a number field: a browser set to English drops the comma of "0,25" from a number field.
    weight_kg = LocalNumberField(_l("Weight per piece (kg)"), validators=[Optional(), NumberRange(0, 100_000)],
                                 description=_l("Leave empty to use the category's typical weight."))
    volume_m3 = LocalNumberField(_l("Volume per piece (m³)"), validators=[Optional(), NumberRange(0, 1000)],
                                 description=_l("Leave empty to use the category's typical volume."))
    lend = BooleanField(_l("Lend it (or book it, for places and services)"))
    give_away = BooleanField(_l("Hand it over for good"))
    swap = BooleanField(_l("Swap it"))
    loan_min_days = WholeNumberField(_l("Shortest loan (days)"), validators=[Optional(), NumberRange(1, 3650)])
    loan_max_days = WholeNumberField(_l("Longest loan (days)"), validators=[Optional(), NumberRange(1, 3650)])
    visibility = RadioField(_l("Who can see it"), default="partners")
    available_from = DateField(_l("Available from (optional)"), validators=[Optional()])
    inventory_number = StringField(_l("Inventory number (optional)"), validators=[Length(max=50)])
    contact_user_id = SelectField(_l("Contact"), coerce=optional_id, validators=[Optional()])

    # What the rules would refuse once the rest is right (catalog/listings/rules.validate), told
    # with everything else the first time round rather than one refusal at a time.
    def validate_condition(self, field: SelectField) -> None:
        needed = self.kind.data == "thing"  # and none but the known ones, for anything
        if (needed and not field.data) or (field.data and field.data not in {c.value for c in CONDITION_LABELS}):
            raise ValidationError(_l("Choose the condition."))

    def validate_lend(self, field: BooleanField) -> None:
        if not (field.data or self.give_away.data or self.swap.data):
            raise ValidationError(_l("Choose at least one way to share it."))

    def validate_loan_min_days(self, field: WholeNumberField) -> None:
        if self.lend.data and field.data and self.loan_max_days.data and field.data > self.loan_max_days.data:
            raise ValidationError(_l("The shortest loan cannot be longer than the longest."))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # Set here rather than in the fields: WTForms 3.3 deprecates tuple choices given to a field.
        self.kind.choices = [(k.value, label) for k, label in KIND_LABELS.items()]
        self.condition.choices = [("", "–")] + [(c.value, label) for c, label in CONDITION_LABELS.items()]
        self.visibility.choices = [(v.value, label) for v, label in VISIBILITY_LABELS.items()]


class SearchWords(FlaskForm):
    """The search's words: a form of their own too, since searches with other words share the
    rest of the form (see views._search_form)."""

    class Meta:
        csrf = False  # a GET that changes nothing

    q = StringField(_l("Search"), validators=[Optional(), Length(max=200)])


def _in_calendar(field: DateField) -> None:
    if field.data and not holds.in_calendar(field.data):
        raise ValidationError(_l("Choose a date from %(first)s to %(last)s.", first=holds.FIRST_DAY.isoformat(),
                                 last=holds.LAST_DAY.isoformat()))


class SearchForm(SearchWords):
    """The catalog's search, read from the query string so a search can be bookmarked."""

    category_id = SelectField(_l("Category"), coerce=filter_id, validators=[Optional()], validate_choice=False)
    municipality_id = SelectField(_l("Municipality"), coerce=filter_id, validators=[Optional()], validate_choice=False)
    kind = SelectField(_l("Kind"), validators=[Optional()])
    condition = MultiCheckboxField(_l("Condition"))
    offer = MultiCheckboxField(_l("Offered as"))
    available_from = DateField(_l("Available from"), validators=[Optional()])
    available_until = DateField(_l("Available until"), validators=[Optional()])
    near_site_id = SelectField(_l("Near"), coerce=filter_id, validators=[Optional()], validate_choice=False)
    within_km = WholeNumberField(_l("Within (km)"), validators=[Optional(), NumberRange(1, 500)])
    sort = SelectField(_l("Sort by"), default="relevance")

    def validate_available_from(self, field: DateField) -> None:
        _in_calendar(field)

    def validate_available_until(self, field: DateField) -> None:
        _in_calendar(field)
        if field.data and self.available_from.data and field.data < self.available_from.data:
            raise ValidationError(_l("The end of the period comes before its start: "
                                     "choose an end on or after the start."))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = [("", _l("All kinds"))] + [(k.value, label) for k, label in KIND_LABELS.items()]
        self.condition.choices = [(c.value, label) for c, label in CONDITION_LABELS.items()]
        self.offer.choices = list(OFFER_LABELS.items())
        self.sort.choices = [("relevance", _l("Best match")), ("newest", _l("Newest")), ("title", _l("Title")),
                             ("distance", _l("Distance"))]
