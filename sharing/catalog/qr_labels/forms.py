"""The form that sets how a sheet of QR labels is printed."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField

from sharing.catalog.qr_labels.sheet import A4_70X37
from sharing.web.forms import NumberRange, WholeNumberField

PER_SHEET = A4_70X37.per_sheet


class LabelSheetForm(FlaskForm):
    """Read from the query string: printing changes nothing. Left out, a value takes its default,
    so ``?listing=12`` alone gives one label at the first place of a sheet."""

    class Meta:
        csrf = False  # a GET that changes nothing

    copies = RadioField(_l("How many labels"), default="one")
    start = WholeNumberField(
        _l("Start at label"), default=1, validators=[NumberRange(1, PER_SHEET)],
        description=_l("On a sheet already partly used: the first free label, counted row by row from the "
                       "top left (1–%(last)d).", last=PER_SHEET))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.copies.choices = [("one", _l("One for each listing")),
                               ("piece", _l("One for each piece (as many as the quantity)"))]
