"""Forms of requests: asking, deciding, handing over, taking back, extending, writing."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, RadioField, SelectField, TextAreaField, TimeField
from wtforms.validators import InputRequired, Length, Optional

from sharing.catalog.photos.forms import ONE_PHOTO_HELP
from sharing.loans.requests.rules import MESSAGE_MAX, REASON_MAX
from sharing.web.arguments import optional_id
from sharing.web.forms import WholeNumberField


class AskForm(FlaskForm):
    # How many pieces may be asked for is the listing's to say (the rules tell "at least one" and
    # "the listing has only 24"), not a bound of any listing's.
    kind = RadioField(_l("What do you want to do?"), validators=[InputRequired()])
    quantity = WholeNumberField(_l("How many"), default=1, validators=[InputRequired()])
    first_day = DateField(_l("From"), validators=[InputRequired()],
                          description=_l("The first day you need it (for good: the day you want to receive it)."))
    last_day = DateField(_l("To (loans)"), validators=[Optional()], description=_l("The last day of the loan."))
    start_time = TimeField(_l("From (time)"), validators=[Optional()],
                           description=_l("To book hours of the first day; leave empty for whole days."))
    end_time = TimeField(_l("To (time)"), validators=[Optional()])
    delivery_site_id = SelectField(_l("To which site"), coerce=optional_id, validators=[InputRequired()],
                                   validate_choice=False)
    transport_needed = BooleanField(_l("Transport needed"),
                                    description=_l("Leave it unticked if your unit fetches the pieces itself."))
    offered_listing_id = SelectField(_l("Offered in exchange (swaps)"), coerce=optional_id, validators=[Optional()],
                                     validate_choice=False)
    offered_quantity = WholeNumberField(_l("How many of them (swaps)"), validators=[Optional()])
    message = TextAreaField(_l("Message (optional)"), validators=[Length(max=MESSAGE_MAX)],
                            description=_l("What it is for, when it suits you: the owner reads it with the request."))


class DeclineForm(FlaskForm):
    reason = TextAreaField(_l("Why"), validators=[InputRequired(), Length(max=REASON_MAX)],
                           description=_l("The requester reads this."))


class HandoverForm(FlaskForm):
    condition = SelectField(_l("Condition at handover"), validators=[Optional()], validate_choice=False)
    method = RadioField(_l("How"), validators=[InputRequired()])
    # Asked only of what changes owner (a take-over, a swap): it cannot be undone.
    for_good = BooleanField(_l("I confirm: the pieces become the receiving side's for good, which cannot be undone."),
                            validators=[InputRequired(_l("Confirm that the pieces become the receiving side's for "
                                                         "good."))])


class ReturnForm(FlaskForm):
    condition = SelectField(_l("Condition when returned"), validators=[Optional()], validate_choice=False)
    remarks = TextAreaField(_l("Remarks (optional)"), validators=[Length(max=MESSAGE_MAX)])
    damage = TextAreaField(_l("Damage (optional)"), validators=[Length(max=MESSAGE_MAX)],
                           description=_l("What is broken or missing, if anything."))
    photo = FileField(_l("Photo (optional)"), description=ONE_PHOTO_HELP)


class ExtendForm(FlaskForm):
    last_day = DateField(_l("New last day"), validators=[InputRequired()])


class MessageForm(FlaskForm):
    body = TextAreaField(_l("Message"), validators=[InputRequired(), Length(max=MESSAGE_MAX)])
