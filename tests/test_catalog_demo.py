"""The demo data: titles and descriptions that read naturally, each quality one its category has."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from sharing.catalog import demo
from sharing.catalog.categories.models import Category, ResourceKind
from sharing.catalog.categories.rules import load_reference_categories
from sharing.clock import utcnow


def test_every_demo_title_is_an_item_of_its_category_with_a_quality_that_fits_it(db, factory):
    factory.site(factory.municipality("Ystad", "1286"))
    load_reference_categories(db)
    categories = {c.id: c for c in db.scalars(select(Category))}
    made = list(demo.generate(db, count=1500, seed=2026, now=utcnow()))
    with_quality = Counter[str]()
    for listing in made:
        category = categories[listing.category_id]
        readings = {item: item for item in demo.ITEMS[category.name]}
        readings |= {demo.titled(item, quality): quality for item in demo.ITEMS[category.name]
                     for quality in demo.qualities_for(category.name, item)}
        assert listing.title in readings, (category.name, listing.title)
        if readings[listing.title] not in demo.ITEMS[category.name]:
            with_quality[category.name] += 1
        assert listing.description in demo.NOTES[demo.CATEGORY_GROUPS[category.name]], listing.title
    # Most things carry a quality, and every category of things had some to draw from.
    things = {c.name for c in categories.values() if c.name in demo.ITEMS and c.kind == ResourceKind.THING}
    assert set(with_quality) == things


def test_qualities_never_meet_a_category_they_do_not_fit():
    # The ones that once made "Pussel, med armstöd" and "Slagborr, i skinn".
    assert "med armstöd" not in demo.qualities_for("Leksaker", "Pussel")
    assert "i skinn" not in demo.qualities_for("Verktyg och maskiner", "Slagborr")
    assert demo.titled("Bokhylla", "i ek") == "Bokhylla i ek"
    assert demo.titled("Skrivbord med hurts", "i ek") == "Skrivbord med hurts, i ek"
    assert demo.titled("Bärbar dator", "med laddare") == "Bärbar dator med laddare"
    assert demo.titled("Skrivbord", "160 × 80 cm") == "Skrivbord, 160 × 80 cm"
    assert demo.titled("Skrivbord, höj- och sänkbart", "i vitt") == "Skrivbord, höj- och sänkbart, i vitt"



def test_no_demo_title_says_a_thing_twice(db, factory):
    """Not "Hurts på hjul, på hjul", nor "Låsbart skåp med lås"."""
    factory.site(factory.municipality("Ystad", "1286"))
    load_reference_categories(db)
    small = {"i", "med", "för", "på", "och"}
    for listing in demo.generate(db, count=1500, seed=2026, now=utcnow()):
        words = [word for word in listing.title.lower().replace(",", "").split() if word not in small]
        assert not [(a, b) for i, a in enumerate(words) for j, b in enumerate(words)
                    if i != j and len(a) > 2 and b.startswith(a)], listing.title


def test_the_demo_copies_no_figure_of_a_category_into_its_listings(db, factory):
    """A listing's weight and volume are what someone measured; left empty, the category's typical
    figures stand in and are shown as such ("omkring 15 kg, typiskt för kategorin")."""
    factory.site(factory.municipality("Ystad", "1286"))
    load_reference_categories(db)
    made = list(demo.generate(db, count=200, seed=2026, now=utcnow()))
    assert {(listing.weight_kg, listing.volume_m3) for listing in made} == {(None, None)}
