"""Forms of the listing import: the file, and the confirmation."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField


class UploadForm(FlaskForm):
    file = FileField(_l("File (.xlsx or .csv)"), validators=[FileRequired(_l("Choose a file to import."))],
                     description=_l("The first row names the columns; each row below it is one listing."))


class StartForm(FlaskForm):
    publish = BooleanField(_l("Publish the listings at once (otherwise they are saved as drafts)"))
