"""What forms of every domain use: a refusal shown on its form, numbers that are numbers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import flash
from flask_babel import gettext as _
from wtforms import DecimalField

from sharing.errors import DomainError


def refusal(error: DomainError) -> str:
    """A rule's refusal in the reader's language."""
    return error.shown(_)


def show_error(form: object, error: DomainError) -> None:
    """Put the refusal on the field it concerns, or flash it when it concerns no field."""
    message = refusal(error)
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, message]
    else:
        flash(message, "error")


class FiniteDecimalField(DecimalField):
    """A decimal number, and only a number: ``Decimal`` also reads NaN, sNaN and Infinity, which
    are no weight or volume (and a signalling NaN raises in any comparison a validator makes).
    They get the message the catalog's other number fields give."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        if isinstance(self.data, Decimal) and not self.data.is_finite():
            self.data = None
            raise ValueError(_("Not a number. Write for example 12,5."))
