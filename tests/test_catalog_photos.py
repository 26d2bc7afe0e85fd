"""Photos of listings: only real photos are kept, re-encoded without their metadata, their files
follow the database, only the owning facility managers change them, and only those who may
see the listing see them."""

from __future__ import annotations

import io
import math
import re
import struct
import subprocess
import sys
import threading
import zlib
from pathlib import Path

import pytest
from PIL import ExifTags, Image, ImageCms
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from sharing.accounts.models import Role
from sharing.catalog.categories.models import Category
from sharing.catalog.listings.models import Condition, Listing
from sharing.catalog.photos import rules as photos
from sharing.catalog.photos.models import ListingPhoto
from sharing.clock import utcnow
from sharing.errors import DomainError
from tests.conftest import csrf_token
from tests.test_api import assert_problem, bearer, create_token

PREFIX = "/api/v1"


@pytest.fixture
def api(app):
    """A client with no session cookie: what it can do, its token alone allows."""
    return app.test_client()


# --- Images made here, in memory -----------------------------------------------------------------

def jpeg(size=(800, 600), color="steelblue", exif: Image.Exif | None = None, **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG", exif=exif or Image.Exif(), **save)
    return out.getvalue()


def png(size=(300, 200), mode="RGBA", color=(0, 0, 0, 0)) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, "PNG")
    return out.getvalue()


def webp(size=(500, 500)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "orange").save(out, "WEBP")
    return out.getvalue()


def noise_jpeg(size=(400, 400)) -> bytes:
    """A photo that does not compress: for the size limit."""
    out = io.BytesIO()
    Image.effect_noise(size, 100).convert("RGB").save(out, "JPEG", quality=95)
    return out.getvalue()


def gps_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Telefonmärket"
    exif[ExifTags.Base.ImageDescription] = "Hemma hos Anna"
    exif[ExifTags.Base.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (55.0, 25.0, 47.0),
        ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (13.0, 49.0, 12.0),
    }
    return exif


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge picture: a decompression bomb."""
    data = bytearray(png((1, 1), mode="L", color=0))
    ihdr = bytes(data[12:16]) + struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(ihdr))
    return bytes(data)


def upload(data: bytes, name: str = "foto.jpg") -> photos.Upload:
    return photos.Upload(name, io.BytesIO(data))


def stored_files(app) -> list[Path]:
    root = Path(app.config["SHARING_PHOTO_DIR"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


# --- The setting -----------------------------------------------------------------------------------

@pytest.fixture
def setting(factory):
    ystad = factory.municipality("Ystad", "1286")
    skurup = factory.municipality("Skurup", "1264")
    chairs = factory.category("Kontorsstol", name_en="Office chair")
    site = factory.site(ystad)
    manager = factory.user(ystad, Role.FACILITY_MANAGER)

    def listing(title: str, visibility: str = "partners", publish: bool = True) -> Listing:
        return factory.listing(site=site, category=chairs, by=manager, title=title, condition=Condition.GOOD,
                               lend=True, visibility=visibility, published=publish)

    return {
        "ystad": ystad, "skurup": skurup, "chairs": chairs, "site": site, "manager": manager,
        "employee": factory.user(ystad, Role.EMPLOYEE),
        "skurup_manager": factory.user(skurup, Role.FACILITY_MANAGER),
        "skurup_employee": factory.user(skurup, Role.EMPLOYEE),
        "listing": listing("Kontorsstolar"), "own": listing("Egna stolar", visibility="own"),
        "draft": listing("Utkast", publish=False),
        "store": factory.photo_store,
    }


def add(db, s, *datas: bytes, listing: Listing | None = None) -> list[ListingPhoto]:
    added = photos.add_photos(db, listing=listing or s["listing"], uploads=[upload(d) for d in datas],
                              by=s["manager"], now=utcnow(), store=s["store"])
    db.commit()
    return added


def rows(db, listing: Listing) -> list[ListingPhoto]:
    db.expire_all()
    found = photos.photos_of(db, listing.id)
    db.commit()  # end the read transaction
    return found


def post_photos(client, listing: Listing, *files: tuple[bytes, str]):
    token = csrf_token(client, f"/catalog/{listing.id}/photos")
    data = {"csrf_token": token, "photos": [(io.BytesIO(content), name) for content, name in files]}
    return client.post(f"/catalog/{listing.id}/photos", data=data, content_type="multipart/form-data")


# --- What is stored --------------------------------------------------------------------------------

def test_a_photo_is_stored_in_two_sizes_without_any_metadata(app, db, setting):
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    original = jpeg((3000, 2000), exif=gps_exif(), comment=b"Anna Andersson, Storgatan 1", icc_profile=profile)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo), "the original has a position"

    [photo] = add(db, setting, original)

    assert (photo.width, photo.height) == (1600, 1067)
    large, card = (setting["store"].path(photo.key, rendition) for rendition in ("large", "card"))
    assert stored_files(app) == sorted([large, card])
    assert photo.byte_size == large.stat().st_size
    assert re.fullmatch(r"[0-9a-f]{32}", photo.key) and "foto" not in str(large)
    for path, size in ((large, (1600, 1067)), (card, (400, 267))):
        with Image.open(path) as stored:
            assert (stored.format, stored.size, stored.mode) == ("JPEG", size, "RGB")
            assert len(stored.getexif()) == 0
            assert not {"exif", "comment", "icc_profile", "xmp"} & set(stored.info)
        raw = path.read_bytes()
        assert b"Exif" not in raw and b"Anna" not in raw and b"Telefon" not in raw


def test_the_camera_orientation_is_applied(db, setting):
    picture = Image.new("RGB", (200, 100), "red")
    picture.paste("blue", (100, 0, 200, 100))  # left half red, right half blue, as the sensor saw it
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # the phone was held upright: turn a quarter clockwise to show
    out = io.BytesIO()
    picture.save(out, "JPEG", exif=exif, quality=95)

    [photo] = add(db, setting, out.getvalue())

    with Image.open(setting["store"].path(photo.key, "large")) as file:
        stored = file.convert("RGB")
    assert stored.size == (100, 200) and (photo.width, photo.height) == (100, 200)
    top, bottom = stored.getpixel((50, 20)), stored.getpixel((50, 180))
    assert top[0] > 200 and top[2] < 60, f"the left (red) half is on top: {top}"
    assert bottom[2] > 200 and bottom[0] < 60, f"the right (blue) half is at the bottom: {bottom}"


def mpo() -> bytes:
    """A JPEG holding several pictures, as some cameras write them: the first one is the photo."""
    out = io.BytesIO()
    Image.new("RGB", (300, 200), "red").save(out, "MPO", save_all=True, append_images=[Image.new("RGB", (300, 200))])
    return out.getvalue()


def test_png_webp_and_multi_picture_jpeg_are_accepted_and_transparency_turns_white(db, setting):
    transparent, orange, red = add(db, setting, png((300, 200)), webp(), mpo())
    with Image.open(setting["store"].path(red.key, "large")) as stored:
        assert stored.format == "JPEG" and stored.getpixel((10, 10))[0] > 240
    with Image.open(setting["store"].path(transparent.key, "large")) as stored:
        assert stored.getpixel((10, 10)) == (255, 255, 255)
    assert (orange.width, orange.height) == (500, 500), "a small photo is not enlarged"
    assert [p.position for p in rows(db, setting["listing"])] == [0, 1, 2]


@pytest.mark.parametrize("content, name, message", [
    (b"Detta ar ingen bild, bara text.", "bild.jpg", "is not a photo in JPEG, PNG or WebP format"),
    (b"", "tom.png", "is not a photo in JPEG, PNG or WebP format"),
    (b"GIF89a" + b"\0" * 40, "rorlig.gif", "is not a photo in JPEG, PNG or WebP format"),
    (noise_jpeg((300, 300))[:5000], "avbruten.jpg", "could not be read"),
])
def test_what_is_not_a_readable_photo_is_refused(db, setting, content, name, message):
    with pytest.raises(DomainError) as refused:
        photos.add_photos(db, listing=setting["listing"], uploads=[upload(content, name)], by=setting["manager"],
                          now=utcnow(), store=setting["store"])
    assert message in refused.value.message and refused.value.params["name"] == name
    assert refused.value.field == "photos"


def test_too_many_pixels_are_refused_before_decoding(app, db, setting):
    store = photos.PhotoStore(setting["store"].directory, max_pixels=40_000_000)
    for bomb in (png((7000, 7000), mode="1", color=0),  # 49 megapixels in a few kilobytes
                 png_declaring(40_000, 40_000)):  # 1.6 gigapixels claimed: Pillow's own guard
        assert len(bomb) < 100_000
        with pytest.raises(DomainError) as refused:
            photos.add_photos(db, listing=setting["listing"], uploads=[upload(bomb, "bomb.png")],
                              by=setting["manager"], now=utcnow(), store=store)
        assert "megapixels" in refused.value.message and refused.value.params["megapixels"] == "40"
    db.rollback()
    assert stored_files(app) == []


def blank_png(width: int, height: int) -> bytes:
    """A transparent RGBA PNG written row by row, never held decoded here."""
    compressor = zlib.compressobj(9)
    row = bytes(1 + width * 4)
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


MEASURE_UPLOAD = r"""
import io, sys
from pathlib import Path
from sharing.catalog.photos import rules as photos

def status_kb(field):
    return next(int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines()
                if line.startswith(field + ":"))

data = sys.stdin.buffer.read()
store = photos.PhotoStore(Path(sys.argv[1]), max_pixels=int(sys.argv[2]))
before = status_kb("VmRSS")  # importing peaks higher, briefly
try:
    encoded = photos.encode(photos.Upload("stor.png", io.BytesIO(data)), store)
except photos.DomainError:
    print("refused")
else:
    print(status_kb("VmHWM") - before, encoded.width, encoded.height)
"""


def transparent_webp(side: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (side, side), (10, 20, 30, 128)).save(out, "WEBP", quality=50)
    return out.getvalue()


def growth_encoding(data: bytes, most: int, tmp_path: Path) -> tuple[int, int, int] | None:
    """How much encoding the upload grows a fresh process (kB), and the large rendition's size; None if refused."""
    measured = subprocess.run([sys.executable, "-c", MEASURE_UPLOAD, str(tmp_path), str(most)],
                              input=data, capture_output=True, check=True)
    words = measured.stdout.split()
    return None if words == [b"refused"] else (int(words[0]), int(words[1]), int(words[2]))


# A worker starts at about 100 MB; with this margin it stays under 200 MB for any accepted upload.
MAX_GROWTH_KB = 150 * 1024


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the peak memory from /proc")
def test_the_largest_accepted_png_costs_a_worker_little_memory(app, tmp_path):
    most = photos.PhotoStore.from_config(app.config).max_pixels
    side = math.isqrt(most)
    growth_kb, width, height = growth_encoding(blank_png(side, side), most, tmp_path)
    assert (width, height) == (1600, 1600)
    assert growth_kb < MAX_GROWTH_KB, f"encoding a {side} x {side} PNG grew the process by {growth_kb // 1024} MB"


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the peak memory from /proc")
def test_a_webp_is_refused_or_costs_a_worker_little_memory(app, tmp_path):
    most = photos.PhotoStore.from_config(app.config).max_pixels
    small, large = math.isqrt(most // 3), math.isqrt(most)
    assert growth_encoding(transparent_webp(small), most, tmp_path) is not None  # this one is accepted
    for side in (small, large):
        outcome = growth_encoding(transparent_webp(side), most, tmp_path)
        assert outcome is None or outcome[0] < MAX_GROWTH_KB, f"a {side} x {side} WebP: {outcome[0] // 1024} MB"


def test_a_large_phone_photo_is_accepted_because_it_decodes_scaled_down(db, setting):
    store = photos.PhotoStore(setting["store"].directory, max_pixels=12_000_000)
    (photo,) = photos.add_photos(db, listing=setting["listing"], uploads=[upload(jpeg((6000, 4000)))],
                                 by=setting["manager"], now=utcnow(), store=store)
    assert (photo.width, photo.height) == (1600, 1067)


def test_a_listing_has_at_most_ten_photos(db, setting):
    add(db, setting, *[jpeg((40, 30))] * 8)
    with pytest.raises(DomainError) as refused:
        add(db, setting, *[jpeg((40, 30))] * 3)
    assert refused.value.params == {"most": 10, "count": 8}


def test_concurrent_uploads_keep_the_limit_and_distinct_positions(app, db, setting):
    listing_id, manager, store = setting["listing"].id, setting["manager"], setting["store"]
    data = noise_jpeg((600, 600))
    start = threading.Barrier(20)
    outcomes: list[str] = []

    def upload_one() -> None:
        with Session(bind=app.extensions["sharing.engine"], expire_on_commit=False) as session:
            listing = session.get(Listing, listing_id)
            session.commit()  # as a request that read the listing before the upload came in
            start.wait()
            try:
                photos.add_photos(session, listing=listing, uploads=[upload(data)], by=manager, now=utcnow(),
                                  store=store)
                session.commit()
                outcomes.append("added")
            except DomainError:
                session.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=upload_one) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = rows(db, setting["listing"])
    assert sorted(outcomes) == ["added"] * 10 + ["refused"] * 10
    assert len(stored) == 10 and sorted(photo.position for photo in stored) == list(range(10))


# --- Files follow the database ---------------------------------------------------------------------

def test_files_of_photos_not_committed_are_removed(app, db, setting):
    photos.add_photos(db, listing=setting["listing"], uploads=[upload(jpeg())], by=setting["manager"],
                      now=utcnow(), store=setting["store"])
    assert len(stored_files(app)) == 2
    db.rollback()
    assert stored_files(app) == []

    photos.add_photos(db, listing=setting["listing"], uploads=[upload(jpeg())], by=setting["manager"],
                      now=utcnow(), store=setting["store"])
    db.add(Category(slug=setting["chairs"].slug, name="Dubblett", name_en="Duplicate"))  # the commit fails
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()
    assert stored_files(app) == []
    assert rows(db, setting["listing"]) == []


def test_removing_a_photo_removes_its_files_once_committed(app, db, setting):
    first, second = add(db, setting, jpeg(), png())
    photos.remove_photo(db, listing=setting["listing"], photo=first, by=setting["manager"], now=utcnow(),
                        store=setting["store"])
    assert len(stored_files(app)) == 4, "nothing is removed before the commit"
    db.commit()
    assert stored_files(app) == sorted(setting["store"].path(second.key, r) for r in ("card", "large"))
    assert [(p.id, p.position) for p in rows(db, setting["listing"])] == [(second.id, 0)]

    photos.remove_photo(db, listing=setting["listing"], photo=second, by=setting["manager"], now=utcnow(),
                        store=setting["store"])
    db.rollback()
    assert len(stored_files(app)) == 2, "a removal rolled back keeps the files"


def test_a_photo_stored_for_another_record_is_checked_alike_and_kept_only_if_committed(app, db, setting):
    with pytest.raises(DomainError, match="is not a photo") as refused:
        photos.store_photo(db, upload(b"ingen bild", "skada.jpg"), setting["store"], field="photo")
    assert refused.value.field == "photo" and refused.value.params == {"name": "skada.jpg"}
    db.rollback()
    stored = photos.store_photo(db, upload(jpeg()), setting["store"])
    assert re.fullmatch(r"[0-9a-f]{32}", stored.key) and (stored.width, stored.height) == (800, 600)
    db.rollback()
    assert stored_files(app) == [], "the files go when the transaction does not commit"
    stored = photos.store_photo(db, upload(jpeg()), setting["store"])
    db.commit()
    assert stored_files(app) == sorted(setting["store"].path(stored.key, r) for r in ("card", "large"))
    assert photos.photo_by_key(db, stored.key) is None, "no listing's photo"


def test_a_deleted_listing_takes_its_photo_rows_along(db, setting):
    add(db, setting, jpeg())
    db.execute(delete(Listing).where(Listing.id == setting["listing"].id))
    db.commit()
    assert db.scalar(select(func.count()).select_from(ListingPhoto)) == 0


# --- Order and cover -------------------------------------------------------------------------------

def test_a_photo_can_become_the_cover_or_move(db, setting):
    a, b, c = add(db, setting, jpeg(), jpeg(), jpeg())
    listing, manager = setting["listing"], setting["manager"]
    photos.move_photo(db, listing=listing, photo=c, to="cover", by=manager, now=utcnow())
    db.commit()
    assert [p.id for p in rows(db, listing)] == [c.id, a.id, b.id]
    photos.move_photo(db, listing=listing, photo=c, to="later", by=manager, now=utcnow())
    photos.move_photo(db, listing=listing, photo=b, to="later", by=manager, now=utcnow())  # already last
    db.commit()
    assert [p.id for p in rows(db, listing)] == [a.id, c.id, b.id]
    assert photos.covers(db, [listing.id, setting["own"].id])[listing.id].id == a.id


def test_only_the_owning_facility_managers_change_photos(db, setting):
    [photo] = add(db, setting, jpeg())
    for outsider in (setting["employee"], setting["skurup_manager"]):
        with pytest.raises(DomainError):
            photos.add_photos(db, listing=setting["listing"], uploads=[upload(jpeg())], by=outsider, now=utcnow(),
                              store=setting["store"])
        with pytest.raises(DomainError):
            photos.remove_photo(db, listing=setting["listing"], photo=photo, by=outsider, now=utcnow(),
                                store=setting["store"])
        with pytest.raises(DomainError):
            photos.move_photo(db, listing=setting["listing"], photo=photo, to="cover", by=outsider, now=utcnow())


# --- The pages -------------------------------------------------------------------------------------

def test_a_manager_adds_several_photos_at_once_on_the_photos_page(app, client, auth, db, setting):
    auth.login(setting["manager"])
    page = client.get(f"/catalog/{setting['listing'].id}/photos").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and 'accept="image/*"' in page and "multiple" in page

    response = post_photos(client, setting["listing"], (jpeg(exif=gps_exif()), "IMG_0001.JPG"), (png(), "skiss.png"))

    assert response.status_code == 302
    assert "2 foton är tillagda" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert len(rows(db, setting["listing"])) == 2 and len(stored_files(app)) == 4


def test_a_bad_file_is_refused_with_a_message_and_nothing_is_kept(app, client, auth, db, setting):
    auth.login(setting["manager"])
    response = post_photos(client, setting["listing"], (jpeg(), "bra.jpg"), (b"just text", "semester.jpg"))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "”semester.jpg” är inte ett foto i formatet JPEG, PNG eller WebP." in html
    assert rows(db, setting["listing"]) == [] and stored_files(app) == []


def test_a_photo_larger_than_the_limit_is_refused(app, client, auth, db, setting):
    app.config["SHARING_PHOTO_MAX_BYTES"] = 100_000
    big = noise_jpeg((400, 400))
    assert 100_000 < len(big) < 500_000  # the test client leaves larger forms in a temporary file
    auth.login(setting["manager"])
    html = post_photos(client, setting["listing"], (big, "stor.jpg")).get_data(as_text=True)
    assert "”stor.jpg” är större än 0.1 MB." in html
    assert rows(db, setting["listing"]) == [] and stored_files(app) == []


def test_a_request_with_photos_may_exceed_the_ordinary_limit_but_not_its_own(app, client, auth, setting):
    auth.login(setting["manager"])
    app.config["MAX_CONTENT_LENGTH"] = 5_000  # what other forms may send
    assert len(jpeg()) * 2 > 5_000
    assert post_photos(client, setting["listing"], (jpeg(), "a.jpg"), (jpeg(), "b.jpg")).status_code == 302
    app.config["SHARING_PHOTO_MAX_BYTES"] = 1_000  # ten of them, and a little: about 1 MB
    # A raw body: the test client would spool a large form to a file it never closes on a refusal.
    response = client.post(f"/catalog/{setting['listing'].id}/photos", data=b"\0" * 1_200_000,
                           content_type="multipart/form-data; boundary=gräns")
    assert response.status_code == 413
    assert "Filen är för stor" in response.get_data(as_text=True)


def test_a_new_listing_can_bring_its_photos(app, client, auth, db, setting):
    auth.login(setting["manager"])
    form = {"csrf_token": csrf_token(client, "/catalog/new"), "kind": "thing", "title": "Skrivbord",
            "category_id": str(setting["chairs"].id), "site_id": str(setting["site"].id), "condition": "good",
            "quantity": "2", "lend": "y", "visibility": "partners"}
    refused = client.post("/catalog/new", content_type="multipart/form-data",
                          data={**form, "photos": [(io.BytesIO(b"%PDF-1.4"), "ritning.jpg")]})
    assert refused.status_code == 200 and "”ritning.jpg” är inte ett foto" in refused.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(Listing).where(Listing.title == "Skrivbord")) == 0
    db.commit()  # end the read transaction, to see what the next request writes
    assert stored_files(app) == []

    response = client.post("/catalog/new", content_type="multipart/form-data",
                           data={**form, "photos": [(io.BytesIO(jpeg()), "a.jpg"), (io.BytesIO(webp()), "b.webp")]})
    assert response.status_code == 302
    listing = db.scalars(select(Listing).where(Listing.title == "Skrivbord")).one()
    assert len(rows(db, listing)) == 2


def test_the_listing_shows_its_photos_and_the_cards_their_cover(client, auth, db, setting):
    listing = setting["listing"]
    first, second = add(db, setting, jpeg((1200, 900)), jpeg())
    photos.describe_photo(db, listing=listing, photo=second, alt_text="Stolen från sidan", by=setting["manager"],
                          now=utcnow())
    db.commit()
    auth.login(setting["skurup_employee"])

    html = client.get(f"/catalog/{listing.id}").get_data(as_text=True)
    cover = re.search(r'<img class="gallery-cover"[^>]*>', html).group(0)
    assert f"/catalog/photos/{first.key}/large.jpg" in cover and 'width="1200" height="900"' in cover
    assert 'alt="Kontorsstolar, foto 1 av 2"' in cover
    thumb = re.search(rf'<img src="/catalog/photos/{second.key}/card.jpg"[^>]*>', html).group(0)
    assert 'loading="lazy"' in thumb and 'alt="Stolen från sidan"' in thumb and 'width="400"' in thumb
    assert f"/catalog/{listing.id}/photos" not in html, "no way to change photos for others"

    browse = client.get("/catalog/").get_data(as_text=True)
    assert f"/catalog/photos/{first.key}/card.jpg" in browse
    assert f"/catalog/photos/{second.key}/" not in browse


def test_the_manager_finds_the_way_to_add_photos_and_sees_covers_in_own_listings(client, auth, db, setting):
    [photo] = add(db, setting, jpeg(), listing=setting["own"])
    auth.login(setting["manager"])
    detail = client.get(f"/catalog/{setting['listing'].id}").get_data(as_text=True)
    assert "Annonsen har inga foton än" in detail and f'href="/catalog/{setting["listing"].id}/photos"' in detail
    assert f"/catalog/photos/{photo.key}/card.jpg" in client.get("/catalog/mine").get_data(as_text=True)


def test_the_photos_page_orders_describes_and_removes(app, client, auth, db, setting):
    listing = setting["listing"]
    a, b = add(db, setting, jpeg(), png())
    auth.login(setting["manager"])
    token = csrf_token(client, f"/catalog/{listing.id}/photos")
    base = f"/catalog/{listing.id}/photos/{b.id}"

    assert client.post(f"{base}/move", data={"csrf_token": token, "to": "cover"}).status_code == 302
    assert [p.id for p in rows(db, listing)] == [b.id, a.id]
    assert client.post(f"{base}/move", data={"csrf_token": token, "to": "sideways"}).status_code == 400

    too_long = client.post(f"{base}/description", data={"csrf_token": token, f"photo-{b.id}-alt_text": "x" * 301})
    assert too_long.status_code == 302 and rows(db, listing)[0].alt_text == ""
    client.post(f"{base}/description", data={"csrf_token": token, f"photo-{b.id}-alt_text": " Ritning "})
    assert rows(db, listing)[0].alt_text == "Ritning"

    assert client.post(f"{base}/delete", data={"csrf_token": token}).status_code == 302
    assert [p.id for p in rows(db, listing)] == [a.id]
    assert stored_files(app) == sorted(setting["store"].path(a.key, r) for r in ("card", "large"))
    # Another listing's photo under this listing's address is not found.
    [other] = add(db, setting, jpeg(), listing=setting["own"])
    response = client.post(f"/catalog/{listing.id}/photos/{other.id}/delete", data={"csrf_token": token})
    assert response.status_code == 404 and len(stored_files(app)) == 4


def test_outsiders_cannot_add_or_remove_photos(app, client, auth, db, setting):
    [photo] = add(db, setting, jpeg())
    [own_photo] = add(db, setting, jpeg(), listing=setting["own"])
    auth.login(setting["skurup_manager"])
    token = csrf_token(client, "/")
    listing, own = setting["listing"], setting["own"]
    assert client.get(f"/catalog/{listing.id}/photos").status_code == 403
    assert client.post(f"/catalog/{listing.id}/photos/{photo.id}/delete", data={"csrf_token": token}).status_code == 403
    assert client.post(f"/catalog/{own.id}/photos/{own_photo.id}/delete", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/catalog/{own.id}/photos", data={"csrf_token": token}).status_code == 404
    auth.logout()
    auth.login(setting["employee"])  # the right municipality, not the role
    token = csrf_token(client, "/")
    assert client.post(f"/catalog/{listing.id}/photos/{photo.id}/delete", data={"csrf_token": token}).status_code == 403
    assert len(rows(db, listing)) == 1 and len(stored_files(app)) == 4


# --- Serving the files -----------------------------------------------------------------------------

def test_a_photo_is_served_with_long_private_caching(client, auth, db, setting):
    [photo] = add(db, setting, jpeg())
    auth.login(setting["skurup_employee"])
    url = f"/catalog/photos/{photo.key}/large.jpg"
    with client.get(url) as response:
        assert response.status_code == 200 and response.mimetype == "image/jpeg"
        assert response.headers["Cache-Control"] == "private, max-age=31536000, immutable"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        etag = response.headers["ETag"]
        assert Image.open(io.BytesIO(response.get_data())).size == (800, 600)
    with client.get(url, headers={"If-None-Match": etag}) as again:
        assert again.status_code == 304
    for wrong in (f"/catalog/photos/{photo.key}/huge.jpg", f"/catalog/photos/{'0' * 32}/card.jpg",
                  f"/catalog/photos/{photo.key[:8]}/card.jpg", "/catalog/photos/..%2F..%2Fsecret/card.jpg"):
        with client.get(wrong) as response:
            assert response.status_code == 404, wrong


def test_a_photo_is_seen_only_by_who_may_see_its_listing(client, auth, db, setting):
    [own_photo] = add(db, setting, jpeg(), listing=setting["own"])
    [draft_photo] = add(db, setting, jpeg(), listing=setting["draft"])
    cases = [(setting["skurup_employee"], own_photo, 404), (setting["skurup_manager"], own_photo, 404),
             (setting["employee"], own_photo, 200), (setting["employee"], draft_photo, 404),
             (setting["manager"], draft_photo, 200)]
    for user, photo, status in cases:
        auth.login(user)
        with client.get(f"/catalog/photos/{photo.key}/card.jpg") as response:
            assert response.status_code == status, (user.email, photo.listing_id)
        auth.logout()
    with client.get(f"/catalog/photos/{own_photo.key}/card.jpg") as anonymous:
        assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


# --- The API ---------------------------------------------------------------------------------------

def test_the_api_adds_lists_and_removes_photos(app, client, auth, api, db, setting):
    listing = setting["listing"]
    auth.login(setting["manager"])
    token = bearer(create_token(client))

    response = api.post(f"{PREFIX}/listings/{listing.id}/photos", headers=token, content_type="multipart/form-data",
                        data={"photos": [(io.BytesIO(jpeg(exif=gps_exif())), "a.jpg"), (io.BytesIO(png()), "b.png")],
                              "alt_text": "Stolen framifrån"})
    assert response.status_code == 201, response.get_data(as_text=True)
    added = response.get_json()["items"]
    assert [(p["position"], p["alt_text"]) for p in added] == [(0, "Stolen framifrån"), (1, "Stolen framifrån")]

    listed = api.get(f"{PREFIX}/listings/{listing.id}/photos", headers=token).get_json()["items"]
    assert [p["id"] for p in listed] == [p["id"] for p in added]
    card_url = listed[0]["urls"]["card"]
    assert card_url.startswith(f"http://delning.test{PREFIX}/photos/") and card_url.endswith("/card.jpg")
    with api.get(card_url.removeprefix("http://delning.test"), headers=token) as file:
        assert file.status_code == 200 and file.mimetype == "image/jpeg"
        assert len(Image.open(io.BytesIO(file.get_data())).getexif()) == 0

    assert api.delete(f"{PREFIX}/listings/{listing.id}/photos/{added[0]['id']}", headers=token).status_code == 204
    assert [p["id"] for p in api.get(f"{PREFIX}/listings/{listing.id}/photos", headers=token).get_json()["items"]] \
        == [added[1]["id"]]
    assert len(stored_files(app)) == 2
    assert_problem(api.delete(f"{PREFIX}/listings/{listing.id}/photos/{added[0]['id']}", headers=token), 404)


def test_the_api_refuses_a_bad_image_with_a_problem(app, client, auth, api, db, setting):
    auth.login(setting["manager"])
    token = bearer(create_token(client))
    url = f"{PREFIX}/listings/{setting['listing'].id}/photos"
    body = assert_problem(api.post(url, headers=token, content_type="multipart/form-data",
                                   data={"photos": [(io.BytesIO(b"<svg></svg>"), "logo.jpg")]}), 422)
    assert "logo.jpg" in body["detail"] and "not a photo" in body["detail"]
    assert body["errors"][0]["field"] == "photos"
    assert_problem(api.post(url, headers=token, content_type="multipart/form-data", data={}), 422)
    assert_problem(api.post(url, headers=token, json={"photos": []}), 415)
    assert rows(db, setting["listing"]) == [] and stored_files(app) == []


def test_the_api_keeps_outsiders_out(client, auth, api, db, setting):
    [photo] = add(db, setting, jpeg())
    [own_photo] = add(db, setting, jpeg(), listing=setting["own"])
    listing, own = setting["listing"], setting["own"]
    auth.login(setting["skurup_manager"])
    token = bearer(create_token(client))
    upload_data = {"photos": [(io.BytesIO(jpeg()), "a.jpg")]}
    assert_problem(api.post(f"{PREFIX}/listings/{listing.id}/photos", headers=token,
                            content_type="multipart/form-data", data=upload_data), 403)
    assert_problem(api.delete(f"{PREFIX}/listings/{listing.id}/photos/{photo.id}", headers=token), 403)
    assert_problem(api.delete(f"{PREFIX}/listings/{own.id}/photos/{own_photo.id}", headers=token), 404)
    assert_problem(api.get(f"{PREFIX}/listings/{own.id}/photos", headers=token), 404)
    assert_problem(api.get(f"{PREFIX}/photos/{own_photo.key}/card.jpg", headers=token), 404)
    assert len(api.get(f"{PREFIX}/listings/{listing.id}/photos", headers=token).get_json()["items"]) == 1
    assert len(rows(db, listing)) == 1
