"""The test factories themselves: one call gives a valid object made through the catalog's rules,
with its events on record, and whatever is passed in is used."""

from pathlib import Path

from sharing.accounts.models import Role, User
from sharing.catalog.categories.rules import current_factor
from sharing.catalog.events import LISTING_PHOTOS_CHANGED, LISTING_PUBLISHED, LISTING_SAVED
from sharing.catalog.listings.models import ListingStatus
from sharing.events import events_of


def test_a_listing_makes_its_own_world_and_is_a_draft(db, factory):
    listing = factory.listing()
    assert listing.id is not None and listing.status == ListingStatus.DRAFT
    maker = db.get(User, listing.created_by_id)
    assert maker.has_role(Role.FACILITY_MANAGER) and maker.municipality_id == listing.municipality_id
    assert [e.name for e in events_of(db, subject_type="listing", subject_id=listing.id)] == [LISTING_SAVED]


def test_a_published_listing_went_through_the_rules(db, factory):
    municipality = factory.municipality()
    site = factory.site(municipality)
    category = factory.category("Kontorsstol", weight_kg=15, volume_m3=0.5)
    listing = factory.listing_published(site=site, category=category, title="Stolar", quantity=3)
    assert (listing.status, listing.municipality_id, listing.site_id) == ("published", municipality.id, site.id)
    assert listing.published_at is not None and listing.weight_kg is None  # left empty: the category's stands in
    assert "stol" in listing.search_text
    trail = [e.name for e in events_of(db, subject_type="listing", subject_id=listing.id)]
    assert trail == [LISTING_SAVED, LISTING_PUBLISHED]


def test_a_listing_can_be_moved_along_its_lifecycle(factory):
    assert factory.listing(status=ListingStatus.ON_LOAN).status == ListingStatus.ON_LOAN
    assert factory.listing(status=ListingStatus.WITHDRAWN).published_at is not None  # withdrawn once published


def test_a_category_has_figures_with_their_source_and_children_its_kind(db, factory):
    hall = factory.category("Lokaler", kind="place", new_price_sek=1, co2e_new_kg=2, source="Egen uppskattning")
    child = factory.category("Aula", parent=hall)
    assert child.kind == "place" and child.slug == f"{hall.slug}/aula"
    factor = current_factor(db, child.id)
    assert (factor.category_id, factor.version, factor.source) == (hall.id, 1, "Egen uppskattning")
    assert factory.category("Lokaler", parent=child).slug != factory.category("Lokaler").slug


def test_a_photo_is_stored_through_the_rules(app, db, factory):
    photo = factory.photo()
    assert photo.position == 0 and photo.width == 40
    assert (Path(app.config["SHARING_PHOTO_DIR"]) / photo.key[:2]).is_dir()
    names = [e.name for e in events_of(db, subject_type="listing", subject_id=photo.listing_id)]
    assert names[-1] == LISTING_PHOTOS_CHANGED


def test_a_want_is_posted_by_someone_of_a_unit(factory):
    want = factory.want()
    assert want.status == "open" and want.words.startswith("Efterlyst sak") and want.unit_id is not None
    category = factory.category()
    by_category = factory.want(category=category)
    assert (by_category.words, by_category.category_id) == ("", category.id)
