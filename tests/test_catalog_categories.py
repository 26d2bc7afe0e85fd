"""Categories: the reference tree, Swedish tree order, inherited and versioned figures, and the
system administrators' pages that add versions and categories."""

import json
import math
import re
from datetime import datetime, timedelta, timezone

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from sharing.accounts.models import Role
from sharing.catalog.categories import rules as categories
from sharing.catalog.categories.models import Category, CategoryFactor, ResourceKind
from sharing.catalog.categories.rules import (
    FIGURES,
    REFERENCE_FILE,
    add_factor_version,
    category_name,
    category_tree,
    create_category,
    current_factor,
    descendant_ids,
    load_reference_categories,
    swedish_sort_key,
)
from sharing.clock import utcnow
from sharing.errors import DomainError
from tests.conftest import csrf_token

T0 = datetime(2026, 1, 10, 9, 0, tzinfo=timezone.utc)
ESTIMATE = "Delningstjänstens uppskattning 2026"
# The publications of the reference figures, spelt as in emission-factors.md.
PUBLISHED = ("Rekomo, EPD NEPD-467-327-EN (2016)", "Coggin SOS",
             "WRAP, Benefits of Reuse - domestic furniture",
             "FIRA, Benchmarking carbon footprints of furniture products (2011)",
             "Vårt Göteborg; Rekomo sustainability report 2023")


def walk(nodes, depth=0, kind="thing"):
    for node in nodes:
        here = node.get("kind", kind)
        yield node, depth, here
        yield from walk(node.get("children", []), depth + 1, here)


def count(db, model):
    return db.scalar(select(func.count()).select_from(model))


def category(factory, name, parent=None, *, position=0, kind="thing"):
    return factory.category(name, name_en=f"{name} (en)", parent=parent, position=position, kind=kind)


def version(db, cat, at, **figures):
    values = {"weight_kg": None, "volume_m3": None, "new_price_sek": None, "co2e_new_kg": None,
              "source": "Testkälla", **figures}
    return add_factor_version(db, category=cat, by_user_id=None, now=at, **values)


# --- The reference file ---------------------------------------------------------------

def test_the_reference_tree_holds_what_municipalities_share_with_sourced_figures():
    tree = json.loads(REFERENCE_FILE.read_text(encoding="utf-8"))["categories"]
    nodes = {node["name"]: (node, depth, kind) for node, depth, kind in walk(tree)}
    for name in ("Möbler", "Sittmöbler", "Kontorsstol", "Stol, matstol", "Soffa", "Fåtölj", "Bord", "Skrivbord",
                 "Höj- och sänkbart skrivbord", "Konferensbord", "Matbord", "Förvaring", "Hurts", "Bokhylla",
                 "Skåp", "Arkivskåp", "IT-utrustning", "Bildskärm", "Dator", "Skrivare", "Belysning", "Golvlampa",
                 "Skrivbordslampa", "Textilier", "Gardiner", "Mattor", "Lekmaterial", "Lekredskap", "Leksaker",
                 "Verktyg och maskiner", "Kök och hushåll", "Lokaler", "Samlingslokal", "Mötesrum",
                 "Förrådsutrymme", "Idrottshall", "Tjänster och kompetens", "Specialistkompetens",
                 "Maskin med förare"):
        assert name in nodes, name
    assert nodes["Idrottshall"][2] == "place" and nodes["Maskin med förare"][2] == "service"
    for name, (node, _depth, kind) in nodes.items():
        assert node["name_en"].strip(), name
        figures = {f: node.get(f) for f in FIGURES}
        if kind != "thing":
            assert all(v is None for v in figures.values()), name
            continue
        if not node.get("children"):
            assert figures["weight_kg"] and figures["volume_m3"] and figures["new_price_sek"], name
        if any(v is not None for v in figures.values()):
            assert 0 < len(node["source"]) <= 500, name
            assert all(v is None or v >= 0 for v in figures.values()), name
            assert ESTIMATE in node["source"], name  # weights, volumes and prices are our estimates
        if figures["co2e_new_kg"] is not None:
            assert any(p in node["source"] for p in PUBLISHED), name
    # The published figures, as chosen (midpoints of ranges), each of its kind: the impact of a
    # new piece, or (the sofa's) a net saving per reused piece. The furniture average is an
    # average over every kind of item: named, not stored.
    assert {n: (nodes[n][0]["co2e_new_kg"], nodes[n][0].get("co2e_kind"))
            for n in ("Kontorsstol", "Stol, matstol", "Soffa", "Skrivbord", "Höj- och sänkbart skrivbord", "Hurts",
                      "Fåtölj")} == {
        "Kontorsstol": (100, "production"), "Stol, matstol": (8.6, "production"), "Soffa": (55, "net_saving"),
        "Skrivbord": (100, "production"), "Höj- och sänkbart skrivbord": (135, "production"),
        "Hurts": (80, "production"), "Fåtölj": (None, None)}
    assert nodes["Möbler"][0]["co2e_new_kg"] is None
    assert "mitten av spannet 110–160" in nodes["Höj- och sänkbart skrivbord"][0]["source"]
    assert "WRAP, Benefits of Reuse" in nodes["Soffa"][0]["source"]
    # Sources are names, in Swedish where they are not names: no English sentences, no placeholders.
    for name, (node, _depth, _kind) in nodes.items():
        for unfinished in ("citing", "ersätt", "(("):
            assert unfinished not in (node.get("source") or ""), name


def test_loading_the_reference_tree_twice_adds_nothing_the_second_time(db):
    tree = json.loads(REFERENCE_FILE.read_text(encoding="utf-8"))["categories"]
    expected = sum(1 for _ in walk(tree))
    with_figures = sum(1 for node, _, _ in walk(tree) if any(node.get(f) is not None for f in FIGURES))

    assert load_reference_categories(db, now=T0) == {"categories": expected}
    db.commit()
    assert (count(db, Category), count(db, CategoryFactor)) == (expected, with_figures)
    assert load_reference_categories(db) == {"categories": 0}
    assert (count(db, Category), count(db, CategoryFactor)) == (expected, with_figures)

    chair = db.scalar(select(Category).where(Category.slug == "mobler/sittmobler/kontorsstol"))
    assert chair is not None and chair.name_en == "Office chair" and chair.kind == ResourceKind.THING
    factor = current_factor(db, chair.id)
    assert (factor.category_id, factor.version, factor.co2e_new_kg, factor.valid_from) == (chair.id, 1, 100, T0)
    assert factor.source.startswith("CO2e för en ny kontorsstol: Rekomo, EPD NEPD-467-327-EN (2016)")
    hall = db.scalar(select(Category).where(Category.slug == "lokaler/idrottshall"))
    assert hall.kind == ResourceKind.PLACE and current_factor(db, hall.id) is None
    # An armchair has no published CO2e: its own figures say so, rather than the furniture average.
    armchair = db.scalar(select(Category).where(Category.name == "Fåtölj"))
    assert current_factor(db, armchair.id).co2e_new_kg is None


def test_loading_again_leaves_an_administrators_changes_alone(db):
    load_reference_categories(db, now=T0)
    chair = db.scalar(select(Category).where(Category.slug == "mobler/sittmobler/kontorsstol"))
    version(db, chair, T0 + timedelta(days=1), co2e_new_kg=90, source="Kommunens egen EPD")
    load_reference_categories(db)
    assert [f.co2e_new_kg for f in categories.factor_versions(db, chair.id)] == [90, 100]


# --- The tree -------------------------------------------------------------------------

def test_swedish_order_puts_å_ä_ö_after_z_and_ignores_case():
    words = ["Ödla", "ärta", "Zebra", "Åra", "apa", "Éclair", "ost"]
    assert sorted(words, key=swedish_sort_key) == ["apa", "Éclair", "ost", "Zebra", "Åra", "ärta", "Ödla"]


def test_the_tree_is_in_position_then_swedish_order_with_depth_and_path(db, factory):
    other = category(factory, "Övrigt")
    aaa = category(factory, "Ärenden")
    zzz = category(factory, "Zon")
    ao = category(factory, "Åtgärder")
    first = category(factory, "Ytterst", position=-1)  # a lower position comes first, whatever the name
    child_b = category(factory, "Bänkar", ao)
    child_a = category(factory, "Arkiv", ao)
    grandchild = category(factory, "Hyllor", child_a)
    nodes = category_tree(db)
    assert [n.category.id for n in nodes] == [first.id, zzz.id, ao.id, child_a.id, grandchild.id, child_b.id,
                                              aaa.id, other.id]
    by_id = {n.category.id: n for n in nodes}
    assert (by_id[grandchild.id].depth, by_id[grandchild.id].path) == (2, ("Åtgärder", "Arkiv", "Hyllor"))
    assert by_id[zzz.id].depth == 0


def test_a_category_is_named_in_english_only_for_english_readers_and_where_it_has_an_english_name(db, factory):
    top = factory.category("Möbler", name_en="Furniture")
    unnamed = factory.category("Pall", name_en="", parent=top)
    assert [category_name(top, locale) for locale in ("en", "en_GB", "sv", None)] == [
        "Furniture", "Furniture", "Möbler", "Möbler"]
    assert category_name(unnamed, "en") == "Pall"
    labels = {n.category.id: (n.label("en"), n.label("sv")) for n in category_tree(db)}
    assert labels[top.id] == ("Furniture", "Möbler")
    assert labels[unnamed.id] == ("\u2003Pall", "\u2003Pall")


def test_descendants_include_the_category_and_every_level_below_only(db, factory):
    top = category(factory, "Möbler")
    seats = category(factory, "Sittmöbler", top)
    chair = category(factory, "Kontorsstol", seats)
    tables = category(factory, "Bord", top)
    other = category(factory, "Belysning")
    category(factory, "Golvlampa", other)
    assert descendant_ids(db, top.id) == {top.id, seats.id, chair.id, tables.id}
    assert descendant_ids(db, seats.id) == {seats.id, chair.id}
    assert descendant_ids(db, chair.id) == {chair.id}
    assert descendant_ids(db, 999_999) == set()


# --- Figures: inherited, versioned by time ----------------------------------------------

def test_current_factor_is_the_newest_in_force_of_the_category_or_its_nearest_ancestor(db, factory):
    top = category(factory, "Möbler")
    seats = category(factory, "Sittmöbler", top)
    chair = category(factory, "Kontorsstol", seats)
    t1, t2 = T0 + timedelta(days=30), T0 + timedelta(days=60)
    furniture = version(db, top, T0, weight_kg=25, co2e_new_kg=50)
    chair_v1 = version(db, chair, t1, weight_kg=15, co2e_new_kg=100)
    chair_v2 = version(db, chair, t2, weight_kg=14, co2e_new_kg=85)

    assert current_factor(db, chair.id, at=T0 - timedelta(seconds=1)) is None
    assert current_factor(db, chair.id, at=T0) == furniture  # the chair has no figures in force yet
    assert current_factor(db, chair.id, at=t1) == chair_v1
    assert current_factor(db, chair.id, at=t2 - timedelta(seconds=1)) == chair_v1
    assert current_factor(db, chair.id, at=t2) == chair_v2
    assert current_factor(db, chair.id) == chair_v2  # now
    assert current_factor(db, seats.id) == furniture  # the nearest ancestor with figures
    assert current_factor(db, 999_999) is None
    everything = categories.current_factors(db, at=t1)
    assert everything == {top.id: furniture, seats.id: furniture, chair.id: chair_v1}


def test_a_new_version_counts_on_and_never_changes_the_earlier_ones(app, db, factory):
    chair = category(factory, "Kontorsstol")
    first = version(db, chair, T0, weight_kg=15, volume_m3=0.5, new_price_sek=4500, co2e_new_kg=100,
                    source="Rekomo")
    db.commit()
    before = {name: getattr(first, name) for name in (*FIGURES, "source", "valid_from", "version")}
    second = version(db, chair, T0 + timedelta(days=1), weight_kg=16, source="Egen vägning")
    third = version(db, chair, T0 + timedelta(days=2), co2e_new_kg=0, source="Egen EPD")
    db.commit()
    assert (second.version, third.version) == (2, 3)
    db.expire_all()
    again = db.get(CategoryFactor, first.id)
    assert {name: getattr(again, name) for name in before} == before
    assert [f.version for f in categories.factor_versions(db, chair.id)] == [3, 2, 1]
    assert (third.weight_kg, third.co2e_new_kg) == (None, 0)  # zero is a figure, not a missing one


@pytest.mark.parametrize("figures, field", [
    ({"weight_kg": -1}, "weight_kg"),
    ({"volume_m3": -0.01}, "volume_m3"),
    ({"new_price_sek": math.inf}, "new_price_sek"),
    ({"co2e_new_kg": math.nan}, "co2e_new_kg"),
    ({"weight_kg": 250_000}, "weight_kg"),  # more than a listing may weigh: its default would be refused
    ({"volume_m3": 5000}, "volume_m3"),
    ({}, "weight_kg"),  # no figure at all
    ({"weight_kg": 10, "source": "   "}, "source"),
    ({"weight_kg": 10, "source": "x" * 501}, "source"),
])
def test_invalid_figures_are_refused_on_their_field_and_nothing_is_added(db, figures, field, factory):
    chair = category(factory, "Kontorsstol")
    with pytest.raises(DomainError) as refused:
        version(db, chair, T0, **figures)
    assert refused.value.field == field
    assert count(db, CategoryFactor) == 0


def test_the_same_figures_again_are_not_a_new_version(db, factory):
    chair = category(factory, "Kontorsstol")
    version(db, chair, T0, weight_kg=15, source="Rekomo")
    with pytest.raises(DomainError):
        version(db, chair, T0 + timedelta(days=1), weight_kg=15, source=" Rekomo ")
    assert version(db, chair, T0 + timedelta(days=1), weight_kg=15, source="Rekomo 2024").version == 2


# --- New categories -----------------------------------------------------------------------

def test_a_new_category_goes_last_among_its_siblings_with_a_path_slug(db):
    load_reference_categories(db, now=T0)
    seats = db.scalar(select(Category).where(Category.slug == "mobler/sittmobler"))
    stool = create_category(db, name=" Pall ", name_en="Stool", parent_id=seats.id, kind="thing")
    assert (stool.name, stool.slug, stool.parent_id) == ("Pall", "mobler/sittmobler/pall", seats.id)
    assert [n.category.name for n in category_tree(db) if n.category.parent_id == seats.id][-1] == "Pall"
    # It uses its ancestors' figures until it gets its own.
    assert current_factor(db, stool.id).category_id == seats.parent_id
    top = create_category(db, name="Fordon", name_en="Vehicles", parent_id=None, kind="thing")
    assert (top.slug, top.parent_id) == ("fordon", None)


@pytest.mark.parametrize("values, field", [
    ({"name": "kontorsstol"}, "name"),  # a sibling has that name, whatever the case
    ({"name": " "}, "name"),
    ({"name_en": ""}, "name_en"),
    ({"kind": "place"}, "kind"),  # under a category of things
    ({"kind": "vehicle"}, "kind"),
    ({"parent_id": 999_999}, "parent_id"),
    ({"name": "x" * 101}, "name"),
])
def test_invalid_categories_are_refused(db, values, field):
    load_reference_categories(db, now=T0)
    seats = db.scalar(select(Category).where(Category.slug == "mobler/sittmobler"))
    before = count(db, Category)
    with pytest.raises(DomainError) as refused:
        create_category(db, **{"name": "Pall", "name_en": "Stool", "parent_id": seats.id, "kind": "thing",
                               **values})
    assert refused.value.field == field
    assert count(db, Category) == before


def test_a_top_level_name_is_unique_too(db):
    create_category(db, name="Fordon", name_en="Vehicles", parent_id=None, kind="thing")
    with pytest.raises(DomainError):
        create_category(db, name="FORDON", name_en="Vehicles", parent_id=None, kind="thing")


# --- The administrators' pages ------------------------------------------------------------

@pytest.fixture
def world(db, factory):
    load_reference_categories(db, now=T0)
    db.commit()
    ystad = factory.municipality("Ystad", "1286")
    chair = db.scalar(select(Category).where(Category.slug == "mobler/sittmobler/kontorsstol"))
    return {"chair": chair, "system_admin": factory.user(ystad, Role.SYSTEM_ADMIN),
            "municipality_admin": factory.user(ystad, Role.MUNICIPALITY_ADMIN),
            "manager": factory.user(ystad, Role.FACILITY_MANAGER)}


def test_a_system_admin_sees_the_tree_and_adds_a_version(client, auth, db, world):
    auth.login(world["system_admin"])
    overview = client.get("/catalog/categories")
    assert overview.status_code == 200
    page = overview.get_data(as_text=True)
    for data in ("Kontorsstol", "Idrottshall", "Rekomo, EPD NEPD-467-327-EN (2016)", 'scope="row"'):
        assert data in page
    chair = world["chair"]
    path = f"/catalog/categories/{chair.id}"
    detail = client.get(path).get_data(as_text=True)
    assert '<span class="nowrap">2026-01-10</span> 10:00' in detail  # the first version's start, in Stockholm time
    # The form holds the figures in force, numbers written the Swedish way.
    assert re.search(r'<input[^>]*name="co2e_new_kg"[^>]*value="100"', detail)
    assert re.search(r'<input[^>]*name="volume_m3"[^>]*value="0,5"', detail)

    response = client.post(path, data={
        "csrf_token": csrf_token(client, path), "weight_kg": "12,5", "volume_m3": "0.4",
        "new_price_sek": "4\u00a0200", "co2e_new_kg": "", "source": "Kommunens inköpsavtal 2026"})
    assert response.status_code == 302 and response.headers["Location"].endswith(path)
    db.expire_all()
    newest = current_factor(db, chair.id)
    assert (newest.version, newest.weight_kg, newest.volume_m3, newest.new_price_sek, newest.co2e_new_kg) == (
        2, 12.5, 0.4, 4200, None)
    assert newest.created_by_id == world["system_admin"].id and newest.source == "Kommunens inköpsavtal 2026"
    assert [(f.version, f.weight_kg) for f in categories.factor_versions(db, chair.id)] == [(2, 12.5), (1, 15)]
    assert world["system_admin"].name in client.get(path).get_data(as_text=True)


def test_a_co2e_figure_says_whether_it_is_a_new_piece_s_impact_or_a_net_saving_of_reuse(client, auth, db, world):
    auth.login(world["system_admin"])
    chair = world["chair"]
    path = f"/catalog/categories/{chair.id}"
    assert "nyproduktion" in client.get(path).get_data(as_text=True)  # the reference's EPD figure
    response = client.post(path, data={
        "csrf_token": csrf_token(client, path), "weight_kg": "15", "co2e_new_kg": "98", "co2e_kind": "net_saving",
        "source": "Centre for Remanufacturing & Reuse, report 467"})
    assert response.status_code == 302
    db.expire_all()
    newest = current_factor(db, chair.id)
    assert (newest.co2e_new_kg, newest.co2e_kind) == (98, "net_saving")
    assert "nettobesparing per återbruk" in client.get(path).get_data(as_text=True)
    # Without a figure there is no kind; a kind not known is refused.
    assert version(db, chair, utcnow(), weight_kg=16, co2e_kind="net_saving").co2e_kind is None
    with pytest.raises(DomainError):
        version(db, chair, utcnow(), co2e_new_kg=5, co2e_kind="guess")


@pytest.mark.parametrize("value", ["tolv", "-3", "nan"])
def test_a_bad_number_is_shown_on_its_field_and_changes_nothing(client, auth, db, world, value):
    auth.login(world["system_admin"])
    path = f"/catalog/categories/{world['chair'].id}"
    before = count(db, CategoryFactor)
    response = client.post(path, data={"csrf_token": csrf_token(client, path), "weight_kg": value,
                                       "source": "Egen vägning"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="weight_kg-error"' in page and 'aria-invalid="true"' in page
    assert count(db, CategoryFactor) == before


@pytest.mark.parametrize("role", ["municipality_admin", "manager"])
def test_other_roles_may_not_change_figures_or_categories(client, auth, db, world, role):
    auth.login(world[role])
    path = f"/catalog/categories/{world['chair'].id}"
    token = csrf_token(client, "/")
    before = (count(db, Category), count(db, CategoryFactor))
    assert client.get("/catalog/categories").status_code == 403
    assert client.get(path).status_code == 403
    assert client.post(path, data={"csrf_token": token, "weight_kg": "1", "source": "Kapat"}).status_code == 403
    assert client.post("/catalog/categories/new", data={
        "csrf_token": token, "name": "Kapad", "name_en": "Hijacked", "parent_id": "", "kind": "thing"}
    ).status_code == 403
    assert (count(db, Category), count(db, CategoryFactor)) == before


def test_sustainability_officers_read_the_figures_and_their_sources_but_change_nothing(client, auth, db, world,
                                                                                       factory):
    officer = factory.user(None, Role.SUSTAINABILITY_OFFICER)
    auth.login(officer)
    path = f"/catalog/categories/{world['chair'].id}"
    listing = client.get("/catalog/categories")
    assert listing.status_code == 200 and world["chair"].name in listing.get_data(as_text=True)
    assert "/catalog/categories/new" not in listing.get_data(as_text=True)  # no way offered to add one
    page = client.get(path)
    source = db.scalar(select(CategoryFactor.source).where(CategoryFactor.category_id == world["chair"].id))
    assert page.status_code == 200 and "Versioner av värdena" in page.get_data(as_text=True)
    assert escape(source) in page.get_data(as_text=True)  # the figures' source, as the reports cite it
    assert 'name="source"' not in page.get_data(as_text=True)  # no form to change them
    assert "/catalog/categories/new" not in page.get_data(as_text=True)  # nor a link to a page they may not open
    before = count(db, CategoryFactor)
    token = csrf_token(client, "/")
    assert client.post(path, data={"csrf_token": token, "weight_kg": "1", "source": "Kapat"}).status_code == 403
    assert client.get("/catalog/categories/new").status_code == 403
    assert count(db, CategoryFactor) == before


def test_a_system_admin_adds_a_subcategory(client, auth, db, world):
    auth.login(world["system_admin"])
    seats = db.get(Category, world["chair"].parent_id)
    assert f"/catalog/categories/new?parent_id={seats.id}" in client.get(f"/catalog/categories/{seats.id}").get_data(
        as_text=True)  # offered on the category's page
    form = client.get(f"/catalog/categories/new?parent_id={seats.id}").get_data(as_text=True)
    assert f'<option selected value="{seats.id}">' in form or f'value="{seats.id}" selected' in form
    response = client.post("/catalog/categories/new", data={
        "csrf_token": csrf_token(client, "/catalog/categories/new"), "name": "Pall", "name_en": "Stool",
        "parent_id": str(seats.id), "kind": "thing"})
    stool = db.scalar(select(Category).where(Category.slug == "mobler/sittmobler/pall"))
    assert stool is not None and stool.parent_id == seats.id
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/catalog/categories/{stool.id}")
    # A place under furniture is refused on the field, and nothing is added.
    before = count(db, Category)
    refused = client.post("/catalog/categories/new", data={
        "csrf_token": csrf_token(client, "/catalog/categories/new"), "name": "Hall", "name_en": "Hall",
        "parent_id": str(seats.id), "kind": "place"})
    assert refused.status_code == 200 and 'id="kind-error"' in refused.get_data(as_text=True)
    assert count(db, Category) == before


def test_an_unknown_category_is_not_found(client, auth, world):
    auth.login(world["system_admin"])
    assert client.get("/catalog/categories/999999").status_code == 404
