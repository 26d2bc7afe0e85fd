"""The erasure's confirmation: the person's name, typed."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, Length


class EraseForm(FlaskForm):
    name = StringField(_l("The person's name"), validators=[InputRequired(), Length(max=150)],
                       description=_l("Type it as shown above, to confirm that this is the person to erase."),
                       render_kw={"autocomplete": "off", "spellcheck": "false"})
