"""Forms for photos of listings: adding them (on their own, or with a new listing) and describing one."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from werkzeug.datastructures import FileStorage
from wtforms import StringField
from wtforms.validators import Length

from sharing.catalog.listings.forms import ListingForm
from sharing.catalog.photos.rules import Upload

PHOTO_HELP = _l("JPEG, PNG or WebP. On a phone you can take the photos with the camera. "
                "Location data and other details stored in the files are removed.")
# The same for a field of one photo (a loan's return).
ONE_PHOTO_HELP = _l("JPEG, PNG or WebP. On a phone you can take the photo with the camera. "
                    "Location data and other details stored in the file are removed.")


class PhotoUploadForm(FlaskForm):
    photos = MultipleFileField(_l("Choose photos"), description=PHOTO_HELP)


class NewListingForm(ListingForm):
    """A new listing may bring its first photos along."""

    photos = MultipleFileField(_l("Photos (optional)"), description=PHOTO_HELP)


class PhotoDescriptionForm(FlaskForm):
    alt_text = StringField(
        _l("Description for those who cannot see the photo"),
        validators=[Length(max=300, message=_l("Keep the description to at most 300 characters."))],
        description=_l("What the photo shows, briefly. Leave empty to use the listing's title."))


def uploads(files: list[FileStorage] | None) -> list[Upload]:
    """The files chosen in a photo field, as the photo rules take them."""
    return [Upload(file.filename or "", file.stream) for file in files or [] if file and file.filename]
