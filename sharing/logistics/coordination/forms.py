"""The form of joint planning."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.validators import InputRequired


class JointPlanningForm(FlaskForm):
    joined = RadioField(_l("How does your municipality plan its transport?"), validators=[InputRequired()])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.joined.choices = [("own", _l("On its own: our coordinators plan our transport jobs (a job to or from "
                                          "another municipality is seen by its coordinators too, and goes on one "
                                          "plan only)")),
                               ("joint", _l("Jointly: the coordinators of every municipality that plans jointly see "
                                            "and plan the jobs and vehicles of them all"))]
