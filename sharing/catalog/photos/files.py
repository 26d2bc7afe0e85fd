"""Photo files on the web: where they are kept, how large a request bringing them may be, and
sending one to whoever may see its listing. The catalog's pages and the API both serve them."""

from __future__ import annotations

import re

from flask import abort, current_app, request, send_from_directory
from flask_login import current_user
from werkzeug.wrappers import Response

from sharing.catalog.photos import rules as photos
from sharing.db import db_session

# A photo's files never change (a new photo gets a new key), so a browser may keep them a year;
# "private", because only those who may see the listing may see its photos.
CACHE_CONTROL = "private, max-age=31536000, immutable"
KEY = re.compile(r"[0-9a-f]{32}")


def photo_store() -> photos.PhotoStore:
    return photos.PhotoStore.from_config(current_app.config)


def allow_photo_request() -> None:
    """Let this request be large enough for a listing's worth of photos.

    Must run before the form is read, so before the CSRF check: a URL value preprocessor does.
    """
    limit = photo_store().request_limit
    request.max_content_length = max(limit, current_app.config.get("MAX_CONTENT_LENGTH") or 0)


def send_photo(key: str, rendition: str) -> Response:
    """A photo's file, for those who may see its listing; a 404 for everyone else, as if it were not there."""
    if not KEY.fullmatch(key) or rendition not in photos.RENDITIONS:
        abort(404)
    found = photos.photo_to_see(db_session, current_user, key)
    return send_stored(found.key, rendition)


def send_stored(key: str, rendition: str) -> Response:
    """A stored photo's file, with no check of who asks: the caller checks first (and the key
    comes from its record, not from the URL unchecked)."""
    if not KEY.fullmatch(key) or rendition not in photos.RENDITIONS:
        abort(404)
    store = photo_store()
    # send_from_directory refuses any path outside the folder; ours is built from the stored key anyway.
    response = send_from_directory(store.directory, store.relative_path(key, rendition),
                                   mimetype="image/jpeg", conditional=True, etag=True, max_age=None)
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response
