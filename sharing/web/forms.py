"""What forms of every domain use: a refusal shown on its form, numbers that are numbers, our
words where WTForms' own differ, a field named in the error summary."""

from __future__ import annotations

import math
from typing import Any

from babel.numbers import format_decimal
from flask import Flask, flash
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from markupsafe import Markup
from wtforms import Field, IntegerField, StringField, validators
from wtforms.form import BaseForm
from wtforms.validators import ValidationError
from wtforms.widgets import TextInput

from sharing.errors import DomainError, problems_of
from sharing.web.templating import add_template_helpers


def init_app(app: Flask) -> None:
    add_template_helpers(app, filters={"field_name": field_name})


def field_name(label: str) -> str:
    """A label without its "(optional)" hint: the error summary names a field that needs
    correcting, and whether it could have been left empty is no longer the point."""
    text = str(label).strip()
    for hint in (_("(optional)"), "(optional)"):
        if text.endswith(hint) and text != hint:
            return text[:-len(hint)].rstrip()
    return text


def refusal(error: DomainError) -> str:
    """A rule's refusal in the reader's language."""
    return error.shown(_, ngettext, number=lambda value: format_decimal(value, locale=get_locale()))


def flash_refusal(error: DomainError, *, lead: str) -> None:
    """Flash a refusal that concerns no form: one problem as it is, several as a list under
    ``lead`` (what could not be done), so that all of them are corrected in one round."""
    problems = problems_of(error)
    if len(problems) == 1:
        flash(refusal(problems[0]), "error")
        return
    items = Markup("").join(Markup("<li>{}</li>").format(refusal(problem)) for problem in problems)
    flash(Markup('<span class="flash-lead">{}</span><ul class="flash-list">{}</ul>').format(lead, items), "error")


def show_error(form: object, error: DomainError, *, keep_form_errors: bool = False) -> None:
    """Put the refusal on the field it concerns, or flash it when it concerns no field; every one
    of a ``Refused``. ``keep_form_errors``: a field the form's own checks found wrong keeps
    their message alone (the rules were asked too, so that everything is told in one round)."""
    for problem in problems_of(error):
        message = refusal(problem)
        field = getattr(form, problem.field, None) if problem.field else None
        if field is not None and keep_form_errors and field.errors:
            continue
        if field is not None:
            field.errors = [*field.errors, message]
        else:
            flash(message, "error")


class LocalNumberField(Field):
    """A number as people write it: 12,5 or 12.5, 1 234 with spaces (also non-breaking)."""

    widget = TextInput()

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        text = format(self.data, ".15g")
        return text.replace(".", ",") if str(get_locale()) == "sv" else text

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = None
        if not valuelist:
            return
        text = "".join(valuelist[0].split()).replace("\u2212", "-").replace(",", ".")
        if not text:
            return
        try:
            number = float(text)
        except ValueError:
            raise ValueError(_("Not a number. Write for example 12,5.")) from None
        if not math.isfinite(number):  # float() reads "nan" and "inf" too: no weight or volume
            raise ValueError(_("Not a number. Write for example 12,5."))
        self.data = number


class WholeNumberField(IntegerField):
    """A whole number. One that is none ("2,5", "abc") is told so once, not also as out of
    range: WTForms runs the range check on the missing value too."""

    def validate(self, form: Any, extra_validators: Any = ()) -> bool:
        if self.process_errors and self.raw_data and str(self.raw_data[0]).strip():  # blank: Optional() decides
            self.errors = list(self.process_errors)
            return False
        return super().validate(form, extra_validators)


class NumberRange(validators.NumberRange):
    """WTForms' range check, told in our words and with the numbers as the reader writes them
    (WTForms' own reads "Numret måste vara mellan 0 och 100.0")."""

    def __call__(self, form: BaseForm, field: Field) -> None:
        try:
            super().__call__(form, field)
        except ValidationError:
            if self.min is None or self.max is None or self.message is not None:  # a caller's own words stand
                raise
            locale = get_locale()
            raise ValidationError(_("Enter a number from %(min)s to %(max)s.",
                                    min=format_decimal(self.min, locale=locale),
                                    max=format_decimal(self.max, locale=locale))) from None



class Email(validators.Email):
    """WTForms' address check, told in our words ("e-postadress": WTForms' own Swedish reads
    "Felaktig epost-adress")."""

    def __call__(self, form: BaseForm, field: StringField) -> None:
        try:
            super().__call__(form, field)
        except ValidationError:
            if self.message is not None:  # a caller's own words stand
                raise
            raise ValidationError(_("Enter a valid e-mail address.")) from None
