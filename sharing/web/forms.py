"""Showing a domain rule's refusal on the form that asked for the action."""

from __future__ import annotations

from flask import flash
from flask_babel import gettext as _

from sharing.errors import DomainError


def show_error(form: object, error: DomainError) -> None:
    """Put the refusal on the field it concerns, or flash it when it concerns no field."""
    message = _(error.message, **error.params)
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, message]
    else:
        flash(message, "error")
