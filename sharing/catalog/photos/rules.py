"""Photos of listings: whether an upload is a real photo, storing it without its metadata,
keeping the files in step with the database, and who may change them.

An upload is trusted for nothing. Pillow may decode only JPEG, PNG and WebP; the file's size
and its pixel count are bounded before anything is decoded; and what is stored is a new
encoding of the pixels, turned the right way up, so no EXIF data, GPS position, comment or
colour profile of the original survives. Files are named by a random key, never by the upload.
"""

from __future__ import annotations

import io
import logging
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path, PurePosixPath
from typing import IO, Any, Mapping, Sequence

from PIL import ExifTags, Image, ImageCms, JpegImagePlugin, UnidentifiedImageError
from sqlalchemy import bindparam, func, select, update
from sqlmodel import Session, col

from sharing import transactions
from sharing.accounts.models import Actor
from sharing.catalog import events
from sharing.catalog.listings.models import Listing, ListingStatus
from sharing.catalog.listings.rules import can_manage, can_see
from sharing.catalog.photos.models import ListingPhoto
from sharing.errors import DomainError, NotVisible
from sharing.events import record
from sharing.i18n import N_
from sharing.typed import id_of

log = logging.getLogger("sharing.catalog.photos")

# The renditions kept of every photo, by the length of their longest side in pixels:
# a card in the search results, and the photo as the listing's page shows it.
RENDITIONS = {"card": 400, "large": 1600}
JPEG_QUALITY = {"card": 80, "large": 85}
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
MAX_PHOTOS_PER_LISTING = 10
MOVES = ("cover", "earlier", "later")
_SRGB = ImageCms.createProfile("sRGB")
# How the EXIF orientation (the camera held sideways, say) turns the pixels upright.
_ORIENTATIONS = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
                 5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
                 8: Image.Transpose.ROTATE_90}
# Pillow holds a WebP picture three times while decoding it (libwebp's canvas, a copy of it
# and the image): it may have a third of the pixels of the others.
_DECODED_COPIES = {"WEBP": 3}
# One picture decoded at a time in a process: the decoded pixels are what an upload costs in
# memory, and a worker's threads uploading at once would otherwise each hold theirs.
_decoding = threading.Lock()


@dataclass(frozen=True)
class Upload:
    """A file as it came in: the name its sender gave it (only ever shown back to them) and its bytes."""

    filename: str
    stream: IO[bytes]


@dataclass(frozen=True)
class PhotoStore:
    """Where photo files live, and the bounds an upload must keep."""

    directory: Path
    max_bytes: int = 10 * 1024 * 1024
    max_pixels: int = 8_500_000

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PhotoStore:
        return cls(Path(config["SHARING_PHOTO_DIR"]), max_bytes=int(config["SHARING_PHOTO_MAX_BYTES"]),
                   max_pixels=int(config["SHARING_PHOTO_MAX_PIXELS"]))

    @property
    def megabytes(self) -> str:
        """The size limit as people read it: "10" (MB)."""
        return f"{round(self.max_bytes / (1024 * 1024), 1):g}"

    @property
    def request_limit(self) -> int:
        """The largest request that may carry photos: a listing's worth, and a little form around them."""
        return self.max_bytes * MAX_PHOTOS_PER_LISTING + 1024 * 1024

    def relative_path(self, key: str, rendition: str) -> str:
        # Spread over 256 folders, so no folder grows too large to list.
        return f"{key[:2]}/{key}-{rendition}.jpg"

    def path(self, key: str, rendition: str) -> Path:
        return self.directory / self.relative_path(key, rendition)


def fit(size: tuple[int, int], longest: int) -> tuple[int, int]:
    """The size of a picture scaled down (never up) so that its longest side is at most ``longest``."""
    width, height = size
    scale = min(1.0, longest / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def rendition_size(photo: ListingPhoto, rendition: str) -> tuple[int, int]:
    return fit((photo.width, photo.height), RENDITIONS[rendition])


# --- Reading an upload ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _Encoded:
    renditions: dict[str, bytes]
    width: int
    height: int


def _shown_name(filename: str) -> str:
    """The upload's own name, without any folders, short enough for a message."""
    name = PurePosixPath((filename or "").replace("\\", "/")).name.strip()
    return name[:80] or "?"


def encode(upload: Upload, store: PhotoStore) -> _Encoded:
    """Check that the upload is a photo within the bounds and encode its renditions, or refuse it."""
    name = _shown_name(upload.filename)
    data = upload.stream.read(store.max_bytes + 1)
    if len(data) > store.max_bytes:
        raise DomainError(N_("“%(name)s” is larger than %(megabytes)s MB. Choose a smaller photo."),
                          field="photos", name=name, megabytes=store.megabytes)
    def too_many_pixels(most: int = store.max_pixels) -> DomainError:
        return DomainError(N_("“%(name)s” has more than %(megapixels)s megapixels. Choose a smaller photo."),
                           field="photos", name=name, megapixels=f"{most / 1_000_000:g}")

    try:
        image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own guard against images that would fill the memory when decoded.
        raise too_many_pixels() from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise DomainError(N_("“%(name)s” is not a photo in JPEG, PNG or WebP format."),
                          field="photos", name=name) from None
    if isinstance(image, JpegImagePlugin.JpegImageFile):  # JPEG, and MPO (several pictures, from some cameras)
        # The JPEG decoder scales down as it decodes (by 1/2, 1/4 or 1/8), to no less than the large
        # rendition: a 50-megapixel phone photo then costs a few megabytes, not 150.
        image.draft("RGB", fit(image.size, RENDITIONS["large"]))
    most = store.max_pixels // _DECODED_COPIES.get(image.format or "", 1)
    if image.width * image.height > most:  # the pixels that would be decoded (after scaling)
        raise too_many_pixels(most)
    try:
        with _decoding:
            large = _large_upright_srgb(image)
        card = _resized(large, RENDITIONS["card"])
        renditions = {"large": _jpeg(large, JPEG_QUALITY["large"]), "card": _jpeg(card, JPEG_QUALITY["card"])}
    except Exception as error:  # a crafted or broken file can make a decoder fail in any way
        log.info("an upload could not be decoded: %s", type(error).__name__)
        raise DomainError(N_("“%(name)s” could not be read; the file may be damaged."),
                          field="photos", name=name) from None
    finally:
        image.close()
    return _Encoded(renditions=renditions, width=large.width, height=large.height)


def _large_upright_srgb(image: Image.Image) -> Image.Image:
    """The large rendition: scaled down first, so every later step works on at most 1,600 pixels
    a side; then turned as the camera meant it, in sRGB, on white where it was transparent."""
    orientation = image.getexif().get(ExifTags.Base.Orientation)
    profile = image.info.get("icc_profile")
    image.load()
    if image.mode not in ("L", "LA", "RGB", "RGBA", "CMYK"):  # palettes and such cannot be resampled
        transparent = image.mode in ("PA", "RGBa", "La") or "transparency" in image.info
        image = image.convert("RGBA" if transparent else "RGB")
    resized = _resized(image, RENDITIONS["large"])
    if resized is not image:
        image.close()  # the decoded picture: free it now, not when the request ends
    image = resized
    turn = _ORIENTATIONS.get(orientation) if isinstance(orientation, int) else None
    if turn is not None:
        image = image.transpose(turn)
    if profile and image.mode in ("RGB", "CMYK"):
        # Phones often shoot in a wider colour space; the stored photo carries no profile, so convert.
        try:
            converted = ImageCms.profileToProfile(image, ImageCms.ImageCmsProfile(io.BytesIO(profile)), _SRGB,
                                                  outputMode="RGB")
            image = converted if converted is not None else image  # None only when converting in place
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a profile that cannot be read: the pixels as they are are close enough
    if image.mode in ("RGBA", "LA"):
        image = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image)
    if image.mode != "RGB":
        image = image.convert("RGB")
    image.info.clear()  # nothing of the original's metadata may be carried into what we write
    return image


def _resized(image: Image.Image, longest: int) -> Image.Image:
    size = fit(image.size, longest)
    return image if size == image.size else image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
    return out.getvalue()


# --- Files follow the database -------------------------------------------------------------------
# A new photo's files are written before its row is committed, and removed again unless the
# transaction commits; a removed photo's files go only once its removal has been committed.

def _write(session: Session, store: PhotoStore, key: str, renditions: dict[str, bytes]) -> None:
    for rendition, data in renditions.items():
        path = store.path(key, rendition)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "xb") as file:  # a key is never reused: an existing file is a bug, not to be overwritten
            transactions.after_rollback(session, partial(_remove, path))
            file.write(data)


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        log.exception("could not remove photo file %s", path.name)


@dataclass(frozen=True)
class StoredPhoto:
    """A photo stored for another domain's record (not a listing's): its files' key and the large
    rendition's size."""

    key: str
    width: int
    height: int


def store_photo(session: Session, upload: Upload, store: PhotoStore, *, field: str = "photo") -> StoredPhoto:
    """Check an upload as a listing's photos are checked and store its renditions under a new key,
    for a record of another domain to keep (a loan's return, say); or refuse it, on ``field``.

    The files are removed again unless the session's transaction commits.
    """
    try:
        encoded = encode(upload, store)
    except DomainError as error:
        raise DomainError(error.message, field=field, **error.params) from None
    key = secrets.token_hex(16)
    _write(session, store, key, encoded.renditions)
    return StoredPhoto(key=key, width=encoded.width, height=encoded.height)


def discard_stored(session: Session, key: str, store: PhotoStore) -> None:
    """Remove the files of a photo stored for another domain's record (``store_photo``) once the
    session's transaction commits: the record forgets the key in that transaction."""
    for rendition in RENDITIONS:
        transactions.after_commit(session, partial(_remove, store.path(key, rendition)))


# --- The rules -----------------------------------------------------------------------------------

# Built once: every listing page asks.
_PHOTOS_OF = select(ListingPhoto).where(col(ListingPhoto.listing_id) == bindparam("listing_id")) \
    .order_by(col(ListingPhoto.position), col(ListingPhoto.id))


def photos_of(session: Session, listing_id: int) -> list[ListingPhoto]:
    """A listing's photos, the cover first."""
    return list(session.scalars(_PHOTOS_OF, {"listing_id": listing_id}))


def covers(session: Session, listing_ids: Sequence[int]) -> dict[int, ListingPhoto]:
    """The cover photo of each of the listings that has one (one query for a page of listings)."""
    if not listing_ids:
        return {}
    found: dict[int, ListingPhoto] = {}
    for photo in session.scalars(
        select(ListingPhoto).where(col(ListingPhoto.listing_id).in_(listing_ids))
        .order_by(col(ListingPhoto.listing_id), col(ListingPhoto.position), col(ListingPhoto.id))
    ):
        found.setdefault(photo.listing_id, photo)
    return found


def photo_by_key(session: Session, key: str) -> ListingPhoto | None:
    return session.scalars(select(ListingPhoto).where(col(ListingPhoto.key) == key)).first()


def photo_to_see(session: Session, viewer: Actor, key: str) -> ListingPhoto:
    """The photo stored under ``key``, for a viewer who may see its listing.

    :raise NotVisible: no such photo, or the viewer may not see its listing.
    """
    found = photo_by_key(session, key)
    listing = session.get(Listing, found.listing_id) if found is not None else None
    if found is None or listing is None or not can_see(viewer, listing):
        raise NotVisible("photo")
    return found


def photo_of(session: Session, listing: Listing, photo_id: int) -> ListingPhoto:
    """One of the listing's photos.

    :raise NotVisible: the listing has no such photo.
    """
    found = session.get(ListingPhoto, photo_id)
    if found is None or found.listing_id != listing.id:
        raise NotVisible(f"photo {photo_id}")
    return found


def _changed(session: Session, listing: Listing, change: str, *, by: Actor, now: datetime) -> None:
    listing.updated_at = now
    session.add(listing)
    session.flush()
    count = session.scalar(select(func.count()).where(col(ListingPhoto.listing_id) == listing.id))
    record(session, events.LISTING_PHOTOS_CHANGED, subject_type="listing", subject_id=listing.id, now=now,
           actor_id=by.id, municipality_id=listing.municipality_id, payload={"change": change, "photos": count})


def _check_can_change(listing: Listing, by: Actor) -> None:
    if not can_manage(by, listing):
        raise DomainError(N_("Only the owning municipality's facility managers can change this listing."))
    if listing.status == ListingStatus.HANDED_OVER:
        raise DomainError(N_("A listing that has been handed over can no longer be changed."))


def _check_room(session: Session, listing: Listing, adding: int) -> int | None:
    """Refuse photos beyond the listing's limit; the last position taken (None: no photo yet)."""
    count, last = session.execute(
        select(func.count(), func.max(col(ListingPhoto.position))).where(col(ListingPhoto.listing_id) == listing.id)
    ).one()
    if count + adding > MAX_PHOTOS_PER_LISTING:
        raise DomainError(N_("A listing can have at most %(most)d photos, and this one has %(count)d."),
                          field="photos", most=MAX_PHOTOS_PER_LISTING, count=count)
    return last


def add_photos(session: Session, *, listing: Listing, uploads: Sequence[Upload], by: Actor, now: datetime,
               store: PhotoStore, alt_text: str = "") -> list[ListingPhoto]:
    """Add photos after the listing's others; all of them or, if one is refused, none."""
    _check_can_change(listing, by)
    if not uploads:
        raise DomainError(N_("Choose one or more photos."), field="photos")
    _check_room(session, listing, len(uploads))  # a quick refusal, before the photos are decoded
    alt_text = alt_text.strip()
    if len(alt_text) > 300:
        raise DomainError(N_("Keep the description to at most 300 characters."), field="alt_text")
    encoded = [encode(upload, store) for upload in uploads]  # every one checked before anything is written
    # Two uploads at once must not both find room for the last photos, nor take the same
    # positions: write the listing's row before counting again. That takes the row's lock on
    # PostgreSQL and the database's write lock on SQLite (which has no SELECT ... FOR UPDATE),
    # so another upload to the listing counts only once this one has committed.
    session.execute(update(Listing).where(col(Listing.id) == listing.id).values(updated_at=now))
    last = _check_room(session, listing, len(uploads))
    position = -1 if last is None else last
    added = []
    for photo in encoded:
        position += 1
        key = secrets.token_hex(16)
        _write(session, store, key, photo.renditions)
        row = ListingPhoto(listing_id=id_of(listing), position=position, key=key, width=photo.width,
                           height=photo.height, byte_size=len(photo.renditions["large"]), alt_text=alt_text,
                           created_at=now, created_by_id=by.id)
        session.add(row)
        added.append(row)
    _changed(session, listing, "added", by=by, now=now)
    return added


def remove_photo(session: Session, *, listing: Listing, photo: ListingPhoto, by: Actor, now: datetime,
                 store: PhotoStore) -> None:
    """Remove a photo; its files go once the removal is committed."""
    _check_can_change(listing, by)
    for rendition in RENDITIONS:
        transactions.after_commit(session, partial(_remove, store.path(photo.key, rendition)))
    session.delete(photo)
    session.flush()
    for position, other in enumerate(photos_of(session, id_of(listing))):
        other.position = position
    _changed(session, listing, "removed", by=by, now=now)


def move_photo(session: Session, *, listing: Listing, photo: ListingPhoto, to: str, by: Actor, now: datetime) -> None:
    """Make a photo the cover, or move it one place earlier or later."""
    _check_can_change(listing, by)
    if to not in MOVES:
        raise DomainError(N_("A photo can become the cover, or move earlier or later."))
    ordered = photos_of(session, id_of(listing))
    index = ordered.index(photo)
    target = {"cover": 0, "earlier": index - 1, "later": index + 1}[to]
    ordered.insert(max(0, min(target, len(ordered) - 1)), ordered.pop(index))
    for position, other in enumerate(ordered):
        other.position = position
    _changed(session, listing, "moved", by=by, now=now)


def describe_photo(session: Session, *, listing: Listing, photo: ListingPhoto, alt_text: str, by: Actor,
                   now: datetime) -> None:
    """Set the short description read out instead of the photo (empty: the listing's title)."""
    _check_can_change(listing, by)
    alt_text = alt_text.strip()
    if len(alt_text) > 300:
        raise DomainError(N_("Keep the description to at most 300 characters."), field="alt_text")
    photo.alt_text = alt_text
    session.add(photo)
    _changed(session, listing, "described", by=by, now=now)
