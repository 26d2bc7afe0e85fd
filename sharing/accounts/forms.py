"""Forms of the accounts domain: signing in, passwords, tokens and administration."""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    Field,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional, Regexp, StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from sharing.accounts import organisation
from sharing.accounts.passwords import MAX_LENGTH
from sharing.db import MAX_RECORD_ID
from sharing.errors import DomainError
from sharing.web.arguments import optional_id
from sharing.web.forms import Email, LocalNumberField, NumberRange, WholeNumberField, refusal


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[InputRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=MAX_LENGTH)],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[InputRequired(), Email(), Length(max=254)],
                       render_kw={"autocomplete": "email"})


def _new_password() -> PasswordField:
    # Made anew for each form: a field's place in its form's order is when it was made.
    return PasswordField(
        _l("New password"), validators=[InputRequired(), Length(max=MAX_LENGTH)],
        description=_l("At least 12 characters. A few unrelated words make a strong password."),
        render_kw={"autocomplete": "new-password"},
    )


def _your_password() -> PasswordField:
    return PasswordField(_l("Your password"), validators=[InputRequired()],
                         render_kw={"autocomplete": "current-password"})


class NewPasswordForm(FlaskForm):
    password = _new_password()


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[InputRequired()],
                                     render_kw={"autocomplete": "current-password"})
    password = _new_password()


class EndSessionsForm(FlaskForm):
    current_password = _your_password()


class ApiTokenForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=100)],
                       description=_l("What the token is for, for example the name of an integration."))
    expires_on = DateField(_l("Valid until (optional)"), validators=[Optional()],
                           description=_l("At most a year ahead; a year if left empty."))
    current_password = _your_password()


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=150)])
    email = EmailField(_l("E-mail address"), validators=[InputRequired(), Email(), Length(max=254)])
    unit_id = SelectField(_l("Unit"), coerce=optional_id, validate_choice=False)
    roles = MultiCheckboxField(_l("Roles"), validate_choice=True)
    active = BooleanField(_l("Active"), default=True)


class UnitForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=150)])
    parent_id = SelectField(_l("Part of"), coerce=optional_id, validate_choice=False)
    active = BooleanField(_l("Active"), default=True)


class Sent:
    """The field must be in the posted form, though it may be empty: a form sent without it
    (an old page, a script) must not save it as empty, nor fail on it."""

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if not field.raw_data:
            raise StopValidation(_l("This field was missing from the form. Reload the page and try again."))


class SiteForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=150)])
    street_address = StringField(_l("Street address"), validators=[InputRequired(), Length(max=200)],
                                 render_kw={"autocomplete": "street-address"})
    postal_code = StringField(_l("Postal code"), validators=[InputRequired(), Length(max=6)],
                              render_kw={"autocomplete": "postal-code", "inputmode": "numeric"})
    locality = StringField(_l("Locality"), validators=[InputRequired(), Length(max=100)])
    # Optional: left empty, the address is placed when the site is saved.
    latitude = LocalNumberField(_l("Latitude (WGS84)"), validators=[Optional(), NumberRange(-90, 90)],
                                description=_l("For example 55,4291"),
                                render_kw={"inputmode": "decimal", "autocomplete": "off"})
    longitude = LocalNumberField(_l("Longitude (WGS84)"), validators=[Optional(), NumberRange(-180, 180)],
                                 description=_l("For example 13,8229"),
                                 render_kw={"inputmode": "decimal", "autocomplete": "off"})
    # "picked" once the map set the coordinates (site-map.js); typed otherwise, as without scripts.
    coordinates_source = HiddenField(default="typed")
    opening_hours = StringField(
        _l("Opening hours for pickups and deliveries"), validators=[Sent(), Length(max=500)],
        description=_l("For example: Mon–Fri 07:00–16:00, Sat 10:00–13:00"),
    )
    access_notes = TextAreaField(_l("Access notes"), validators=[Sent(), Length(max=1000)],
                                 description=_l("Loading bay, door phone, keys, parking."))
    active = BooleanField(_l("Active"), default=True)

    # The rules' own checks of these two, told in the first round with the form's (they are
    # checked again when the site is saved).
    def validate_postal_code(self, field: StringField) -> None:
        _as_rule(organisation.normalise_postal_code, field.data or "")

    def validate_opening_hours(self, field: StringField) -> None:
        _as_rule(organisation.parse_opening_hours, field.data or "")


def _as_rule(check: Callable[[str], object], value: str) -> None:
    try:
        check(value)
    except DomainError as error:
        raise ValidationError(refusal(error)) from None


class MunicipalityForm(FlaskForm):
    code = StringField(_l("Municipality code"),
                       validators=[InputRequired(), Regexp(r"^\s*\d{4}\s*$", message=_l(
                           "Enter the municipality code in four digits, for example 1286."))],
                       description=_l("The four-digit code from Statistics Sweden, for example 1286."),
                       render_kw={"inputmode": "numeric"})
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=100)])
    contact_email = EmailField(_l("Contact e-mail (optional)"), validators=[Optional(), Email(), Length(max=254)])


class MunicipalitySettingsForm(MunicipalityForm):
    data_protection_officer_email = EmailField(
        _l("Data protection officer's e-mail (optional)"), validators=[Optional(), Email(), Length(max=254)],
        description=_l("The privacy page gives it, for questions about personal data. Without it, the page "
                       "tells people to look on the municipality's website."))


def _app_code() -> StringField:
    return StringField(_l("Code from your app"), validators=[InputRequired(), Length(max=10)],
                       description=_l("Six digits, for example 123 456."),
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


class CodeForm(FlaskForm):
    code = _app_code()


class DisableMfaForm(FlaskForm):
    current_password = _your_password()  # the same name as the recovery codes' form's, on the same page
    code = _app_code()


class AuditFilterForm(FlaskForm):
    """The audit trail's filters, read from the query string so a view can be bookmarked."""

    class Meta:
        csrf = False  # a GET that changes nothing

    kind = SelectField(_l("What happened"), validate_choice=False)
    subject_type = SelectField(_l("Concerning"), validate_choice=False)
    subject_id = WholeNumberField(_l("Number"), validators=[Optional(), NumberRange(1, MAX_RECORD_ID)],
                              description=_l("A listing's number, say, as its address shows it."))
    actor_id = SelectField(_l("Who"), coerce=optional_id, validators=[Optional()], validate_choice=False)
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])

    def validate_date_to(self, field: Field) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The last day comes before the first: choose the first day or a later one."))


class RecoveryCodeForm(FlaskForm):
    code = StringField(_l("Recovery code"), validators=[InputRequired(), Length(max=40)],
                       description=_l("One of the codes you saved when you turned on two-step verification, for "
                                      "example abcd-efgh-jkmn. Each works once."),
                       render_kw={"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false"})


class RecoveryCodesForm(FlaskForm):
    current_password = _your_password()
