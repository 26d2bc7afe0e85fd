"""Migrations: one head, the schema they build is the models' schema, and they undo cleanly."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, select, text
from sqlmodel import Session, col

from sharing.accounts.models import Site
from sharing.catalog.categories.models import Category
from sharing.catalog.categories.rules import (
    FIGURES,
    add_factor_version,
    current_factor,
    factor_versions,
    load_reference_categories,
    reference_categories,
)
from sharing.catalog.holds.models import Hold
from sharing.catalog.listings.models import CatalogRevision
from sharing.clock import today_in_sweden, utcnow
from sharing.db import described_by_models, make_engine
from sharing.events import DomainEvent
from sharing.loans.reminders.models import LoanReminder
from sharing.loans.requests import rules as loans
from sharing.loans.requests.models import HandoverMethod, LoanRequest, RequestKind
from sharing.loans.requests.rules import RequestDetails
from sharing.models import metadata
from sharing.text import slugify
from tests.conftest import ROOT, alembic_config
from tests.factories import Factory

VERSIONS = ROOT / "migrations" / "versions"
# The reference file as it was before its sources were reworded (and two reuse savings no
# longer given as a new piece's CO2e): what databases loaded until then hold.
OLD_REFERENCE = Path(__file__).with_name("data") / "reference-categories-2026-11-25.json"
BEFORE_THE_CORRECTION = "952533be210f"


def add_catalog_log(connection: Connection) -> None:
    """What today's models write with every change of the catalog (7c3f2a9d41b8), for tests that
    write through them at an earlier revision (``drop_catalog_log`` before migrating on)."""
    connection.execute(text("ALTER TABLE catalog_revision ADD COLUMN seq BIGINT NOT NULL DEFAULT 0"))
    key = "INTEGER PRIMARY KEY" if connection.dialect.name == "sqlite" else "BIGSERIAL PRIMARY KEY"
    connection.execute(text(f"CREATE TABLE catalog_change (id {key}, listing_id INTEGER, seq BIGINT, token BIGINT)"))


def drop_catalog_log(connection: Connection) -> None:
    connection.execute(text("ALTER TABLE catalog_revision DROP COLUMN seq"))
    connection.execute(text("DROP TABLE catalog_change"))


def test_there_is_exactly_one_head():
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))  # reads the scripts only
    heads = script.get_heads()
    assert len(heads) == 1, f"more than one Alembic head, merge them: {heads}"


def test_upgrade_matches_the_models_and_downgrade_removes_everything(databases):
    url = databases.empty()
    config = alembic_config(url)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            assert inspect(connection).get_table_names() == []

        command.upgrade(config, "head")
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            assert set(metadata.tables) <= tables
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_name": described_by_models}
            )
            differences = compare_metadata(context, metadata)
        assert differences == [], (
            "the migrations and the models differ; write a migration (alembic revision --autogenerate):\n"
            + "\n".join(map(repr, differences))
        )

        command.downgrade(config, "base")
        with engine.connect() as connection:
            left = set(inspect(connection).get_table_names())
        assert left == {"alembic_version"}, f"downgrade to base left tables behind: {sorted(left)}"
    finally:
        engine.dispose()


def test_migration_files_are_named_by_date():
    files = sorted(p.name for p in Path(VERSIONS).glob("*.py") if p.name != "__init__.py")
    assert files, "no migrations found"
    misnamed = [name for name in files if not re.match(r"^(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])_", name)]
    assert misnamed == [], f"migration files must start with YYYYMMDD_: {misnamed}"


def _figures_by_slug(tree: list[dict[str, Any]], parent: str = "") -> dict[str, dict[str, Any]]:
    """The reference categories that carry figures, by slug (as the loader makes them)."""
    found: dict[str, dict[str, Any]] = {}
    for node in tree:
        slug = f"{parent}/{node.get('slug') or slugify(node['name'])}".strip("/")
        if any(node.get(field) is not None for field in FIGURES):
            found[slug] = {field: node.get(field) for field in (*FIGURES, "source")}
        found.update(_figures_by_slug(node.get("children", []), slug))
    return found


def _figures(factor: Any) -> dict[str, Any]:
    return {field: getattr(factor, field) for field in (*FIGURES, "source")}


def test_a_database_with_the_old_reference_texts_gets_the_current_ones_as_new_versions(databases):
    url = databases.empty()
    config = alembic_config(url)
    engine = make_engine(url)
    current = _figures_by_slug(reference_categories())
    own_desk = {"weight_kg": 38.0, "volume_m3": 0.9, "new_price_sek": 3500.0, "co2e_new_kg": None,
                "source": "Ystads egen uppskattning"}
    try:
        command.upgrade(config, BEFORE_THE_CORRECTION)
        # The rules write through today's model, which knows the figure's kind (7b3e9c1d2a40) and
        # the proposal a version came from (6181f74758d4): the columns are there while they write,
        # and gone again before the migrations run (the catalog's log too: ``catalog_log_added``).
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE category_factor ADD COLUMN co2e_kind VARCHAR(12)"))
            connection.execute(text("ALTER TABLE category_factor ADD COLUMN proposal_id INTEGER"))
            add_catalog_log(connection)
        with Session(engine) as session:
            old_tree = json.loads(OLD_REFERENCE.read_text(encoding="utf-8"))["categories"]
            load_reference_categories(session, tree=old_tree, now=utcnow() - timedelta(days=7))
            desk = session.scalars(select(Category).where(col(Category.slug) == "mobler/bord/skrivbord")).one()
            add_factor_version(session, category=desk, by_user_id=None, now=utcnow() - timedelta(days=1), **own_desk)
            session.commit()
            before = {slug: [_figures(f) for f in factor_versions(session, category.id)]
                      for slug, category in ((c.slug, c) for c in session.scalars(select(Category)))}
        assert before["mobler"][0]["co2e_new_kg"] == 50 and before["mobler"][0] != current["mobler"]
        with engine.begin() as connection:
            connection.execute(text("UPDATE category_factor SET co2e_kind = NULL"))
            connection.execute(text("ALTER TABLE category_factor DROP COLUMN co2e_kind"))
            connection.execute(text("ALTER TABLE category_factor DROP COLUMN proposal_id"))
            drop_catalog_log(connection)

        command.upgrade(config, "head")
        with Session(engine) as session:
            categories = {c.slug: c for c in session.scalars(select(Category))}
            for slug, figures in current.items():
                versions = [_figures(f) for f in factor_versions(session, categories[slug].id)]
                if slug == "mobler/bord/skrivbord":  # its administrator's figures stay in force
                    assert versions == before[slug] and versions[0] == own_desk
                    continue
                # The current reference text is a new version in force now; the old one stays as it was.
                if slug == "mobler/sittmobler/soffa":  # and, since 7b3e9c1d2a40, WRAP's net saving again
                    assert versions[0] == figures and versions[2:] == before[slug], slug
                    assert versions[1]["co2e_new_kg"] is None, slug
                else:
                    assert versions == [figures, *before[slug]], slug
                assert _figures(current_factor(session, categories[slug].id)) == figures, slug
            assert current_factor(session, categories["mobler"].id).co2e_new_kg is None
            sofa = current_factor(session, categories["mobler/sittmobler/soffa"].id)
            assert (sofa.co2e_new_kg, sofa.co2e_kind) == (55, "net_saving")
            # Every figure got its kind: the savings of reuse once stored as a new piece's impact
            # are net savings; the impacts of production stay so.
            kinds = {(c.slug, f.version): (f.co2e_new_kg, f.co2e_kind)
                     for c in categories.values() for f in factor_versions(session, c.id)}
            assert kinds[("mobler", 1)] == (50, "net_saving")
            assert kinds[("mobler/sittmobler/soffa", 1)] == (55, "net_saving")
            assert kinds[("mobler/sittmobler/kontorsstol", 1)] == (100, "production")
            assert kinds[("mobler/bord/skrivbord", 2)] == (None, None)  # its administrator's own, without CO2e
            assert all((kg is None) == (kind is None) for kg, kind in kinds.values())

        command.downgrade(config, BEFORE_THE_CORRECTION)
        with engine.begin() as connection:  # for today's model to read, as above
            columns = {column["name"] for column in inspect(connection).get_columns("category_factor")}
            if "co2e_kind" not in columns:
                connection.execute(text("ALTER TABLE category_factor ADD COLUMN co2e_kind VARCHAR(12)"))
            if "proposal_id" not in columns:
                connection.execute(text("ALTER TABLE category_factor ADD COLUMN proposal_id INTEGER"))
        with Session(engine) as session:
            after = {c.slug: [_figures(f) for f in factor_versions(session, c.id)]
                     for c in session.scalars(select(Category))}
        assert after == before
    finally:
        engine.dispose()


BEFORE_REMINDER_DAYS = "c78f8a510835"


def test_reminders_sent_before_they_were_kept_per_day_count_as_sent_for_the_day_their_request_has(databases):
    """Reminders are kept per request, kind and day since 8edcc2ca08ab: each one sent before gets
    the day its request has (nothing goes out twice), and going back keeps one of each kind."""
    url = databases.empty()
    config, engine = alembic_config(url), make_engine(url)
    first, last = date(2027, 5, 10), date(2027, 5, 20)
    try:
        command.upgrade(config, "head")
        with Session(engine, expire_on_commit=False) as session:
            factory = Factory(session)
            manager = factory.manager()
            listing = factory.listing_published(by=manager, lend=True, quantity=3)
            made = loans.ask(session, listing_id=listing.id, by=manager, now=utcnow(), details=RequestDetails(
                kind=RequestKind.BORROW, quantity=1, first_day=first, last_day=last,
                delivery_site_id=listing.site_id))
            session.add_all([LoanReminder(request_id=made.id, kind=kind, day=day, sent_at=utcnow())
                             for kind, day in (("handover_soon", first), ("due_soon", last - timedelta(days=9)),
                                               ("due_soon", last))])
            session.commit()

        command.downgrade(config, BEFORE_REMINDER_DAYS)
        with engine.connect() as connection:
            kept = connection.execute(text("SELECT kind FROM loan_reminder ORDER BY id")).scalars().all()
        assert kept == ["handover_soon", "due_soon"]  # the first of each kind

        command.upgrade(config, "head")
        with Session(engine) as session:
            days = session.execute(select(LoanReminder.kind, LoanReminder.day).order_by(LoanReminder.id)).all()
        assert [tuple(row) for row in days] == [("handover_soon", first), ("due_soon", last)]
    finally:
        engine.dispose()


BEFORE_PIECES_OUT = "8edcc2ca08ab"


def test_loans_handed_over_before_holds_knew_it_mark_their_pieces_out(databases):
    """Since 4adb51ec79f2 holds know when lent pieces are out, and a listing whose every piece is
    out is on loan: the loans handed over before are marked so, and going back publishes again."""
    url = databases.empty()
    config, engine = alembic_config(url), make_engine(url)
    today = today_in_sweden(utcnow())  # the rules' today: a day ahead of UTC's in the hour before midnight
    try:
        command.upgrade(config, "head")
        with Session(engine, expire_on_commit=False) as session:
            factory = Factory(session)
            manager = factory.manager()
            all_out = factory.listing_published(by=manager, lend=True, quantity=2)
            one_back = factory.listing_published(by=manager, lend=True, quantity=2, site=session.get(
                Site, all_out.site_id))
            made = {}
            for listing, quantity in ((all_out, 2), (one_back, 1), (one_back, 1)):
                request = loans.ask(session, listing_id=listing.id, by=manager, now=utcnow(), details=RequestDetails(
                    kind=RequestKind.BORROW, quantity=quantity, first_day=today, last_day=today + timedelta(days=3),
                    delivery_site_id=listing.site_id))
                loans.approve(session, request, by=manager, now=utcnow())
                loans.hand_over(session, request, condition=None, method=HandoverMethod.PICKUP, by=manager,
                                now=utcnow())
                made.setdefault(listing.id, []).append(request)
            loans.take_back(session, made[one_back.id][0], condition=None, remarks="", damage="", by=manager,
                            now=utcnow())
            session.commit()
            token = revision_token(session)
        statuses = {all_out.id: "on_loan", one_back.id: "published"}
        assert listing_statuses(engine) == statuses

        command.downgrade(config, BEFORE_PIECES_OUT)
        assert listing_statuses(engine) == {all_out.id: "published", one_back.id: "published"}
        command.upgrade(config, "head")
        assert listing_statuses(engine) == statuses
        with Session(engine) as session:
            holds = {hold.id: hold for hold in session.scalars(select(Hold))}
            assert token != revision_token(session)  # no kept search result shows the old statuses
            for request in made[all_out.id] + made[one_back.id]:
                request = session.get(LoanRequest, request.id)
                hold = holds[request.hold_id]
                assert (hold.out_at, hold.back_at) == (request.handed_over_at, request.returned_at)
    finally:
        engine.dispose()


def listing_statuses(engine) -> dict[int, str]:
    with engine.connect() as connection:
        return dict(connection.execute(text("SELECT id, status FROM listing")).all())


def revision_token(session) -> int:
    return session.scalar(select(CatalogRevision.token))


BEFORE_GEOCODING = "5e4c0a1f7b2d"


def sites_as_stored(engine) -> list[tuple]:
    with engine.connect() as connection:
        sites = connection.execute(text("SELECT id, name, latitude, longitude FROM site ORDER BY id")).all()
        hours = connection.execute(text("SELECT site_id, weekday FROM opening_hours ORDER BY id")).all()
        listings = connection.execute(text("SELECT id, site_id FROM listing ORDER BY id")).all()
    return [[tuple(row) for row in sites], [tuple(row) for row in hours], [tuple(row) for row in listings]]


def test_sites_keep_their_typed_coordinates_their_hours_and_listings_across_the_geocoding_migration(databases):
    """Since 6d8a9bfcd015 a site says how its coordinates were set: the sites there were keep
    theirs, marked typed, and nothing that hangs on a site (opening hours, listings) is lost on
    SQLite, where a rebuilt table would take them along, going up or down."""
    url = databases.empty()
    config, engine = alembic_config(url), make_engine(url)
    try:
        command.upgrade(config, BEFORE_GEOCODING)
        with engine.begin() as connection:
            add_catalog_log(connection)
        with Session(engine) as session:
            # As stored then: today's model has columns the table had not yet.
            session.execute(text("INSERT INTO municipality (code, name, slug, active, created_at)"
                                 " VALUES ('1286', 'Ystad', 'ystad', true, :now)"), {"now": utcnow()})
            municipality_id = session.scalar(text("SELECT id FROM municipality"))
            session.execute(text(
                "INSERT INTO site (municipality_id, name, street_address, postal_code, locality, latitude, longitude,"
                " access_notes, active, created_at) VALUES (:m, :name, 'Stora Östergatan 31', '271 80', 'Ystad',"
                " :lat, :lon, '', true, :now)"),
                [{"m": municipality_id, "name": name, "lat": lat, "lon": lon, "now": utcnow()}
                 for name, lat, lon in (("Stadshuset", 55.42915, 13.8229), ("Östra skolan", 55.4342, 13.8367))])
            site_id = session.scalar(text("SELECT min(id) FROM site"))
            session.execute(text("INSERT INTO opening_hours (site_id, weekday, opens, closes)"
                                 " VALUES (:site, :day, '08:00:00', '16:30:00')"),
                            [{"site": site_id, "day": day} for day in range(5)])
            session.commit()
        with engine.begin() as connection:
            drop_catalog_log(connection)
        before = sites_as_stored(engine)

        command.upgrade(config, "head")
        with Session(engine, expire_on_commit=False) as session:
            sites = session.scalars(select(Site).order_by(col(Site.id))).all()
            assert [(s.latitude, s.longitude, s.coordinates_source) for s in sites] == [
                (55.42915, 13.8229, "typed"), (55.4342, 13.8367, "typed")]
            assert not any(site.approximate for site in sites)
            Factory(session).listing_published(site=sites[0])
            sites[1].coordinates_source = "picked"
            session.commit()
        after = sites_as_stored(engine)
        assert after[:2] == before[:2] and len(after[2]) == 1

        command.downgrade(config, BEFORE_GEOCODING)
        assert sites_as_stored(engine) == after
        with engine.connect() as connection:
            assert "coordinates_source" not in {c["name"] for c in inspect(connection).get_columns("site")}
            assert "geocoded_address" not in inspect(connection).get_table_names()
    finally:
        engine.dispose()


BEFORE_ERASED_USERS = "d3b47492a180"


def test_decline_reasons_the_retention_deleted_from_requests_go_from_their_events_too(databases):
    """Since f090d4a240ce the loans' retention blanks a declined event's reason with its request's;
    the reasons it deleted before from requests alone go from their events as the migration runs."""
    url = databases.empty()
    config, engine = alembic_config(url), make_engine(url)
    try:
        command.upgrade(config, "head")
        with Session(engine, expire_on_commit=False) as session:
            factory = Factory(session)
            manager = factory.manager()
            listing = factory.listing_published(by=manager, lend=True, quantity=3)
            forgotten, kept, withdrawn = (loans.ask(session, listing_id=listing.id, by=manager, now=utcnow(),
                                                    details=RequestDetails(
                                                        kind=RequestKind.BORROW, quantity=1, first_day=date(2027, 5, 3),
                                                        last_day=date(2027, 5, 4), delivery_site_id=listing.site_id))
                                          for _ in range(3))
            loans.decline(session, forgotten, reason="Eva behöver dem själv", by=manager, now=utcnow())
            loans.decline(session, kept, reason="Inte den veckan", by=manager, now=utcnow())
            loans.withdraw_with_listing(session, listing_id=listing.id, now=utcnow())
            forgotten.decline_reason = ""  # as the retention left it, before it blanked events too
            session.commit()

        command.downgrade(config, BEFORE_ERASED_USERS)
        command.upgrade(config, "head")
        with Session(engine) as session:
            reasons = {event.subject_id: (event.payload["reason"], event.payload.get("reason_given"))
                       for event in session.scalars(select(DomainEvent).where(
                           col(DomainEvent.name) == "loans.request.declined"))}
        assert reasons == {forgotten.id: ("", True), kept.id: ("Inte den veckan", None),
                           withdrawn.id: (loans.WITHDRAWN_REASON, None)}
    finally:
        engine.dispose()


BEFORE_THE_CHAIRS_RENAMED = "ccc63dd0c1cb"
CHAIRS = "mobler/sittmobler/matstol"


def test_the_chair_category_is_renamed_unless_an_administrator_renamed_it_and_no_kept_result_outlives_it(databases):
    url = databases.empty()
    config = alembic_config(url)
    engine = make_engine(url)

    def chairs() -> tuple[str, int, list[Any]]:
        with engine.connect() as connection:
            name = connection.scalar(text("SELECT name FROM category WHERE slug = :slug"), {"slug": CHAIRS})
            seq = connection.scalar(text("SELECT seq FROM catalog_revision"))
            logged = list(connection.scalars(text("SELECT listing_id FROM catalog_change WHERE seq = :seq"),
                                             {"seq": seq}))
        return name, seq, logged

    try:
        command.upgrade(config, BEFORE_THE_CHAIRS_RENAMED)
        with Session(engine) as session:
            load_reference_categories(session, tree=json.loads(OLD_REFERENCE.read_text(encoding="utf-8"))["categories"])
            session.commit()
        name, seq, _ = chairs()
        assert name == "Matstol"

        command.upgrade(config, "head")
        assert chairs() == ("Stol, matstol", seq + 1, [None])  # a change of anything the search shows

        command.downgrade(config, BEFORE_THE_CHAIRS_RENAMED)
        assert chairs()[0] == "Matstol"
        with engine.begin() as connection:
            connection.execute(text("UPDATE category SET name = 'Stolar' WHERE slug = :slug"), {"slug": CHAIRS})
        _, seq, logged = chairs()
        command.upgrade(config, "head")
        assert chairs() == ("Stolar", seq, logged)  # its administrator's name stays, and nothing moved
    finally:
        engine.dispose()


BEFORE_BROWSER_NAMES = "e41b7d2a9c05"
FIREFOX_ON_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"
SAFARI_ON_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"
                    " Version/17.1 Mobile/15E148 Safari/604.1")


def test_sessions_keep_their_browser_s_names_and_lose_its_header_across_the_migration(databases):
    """Since 217b62e1db71 a session keeps its browser's and system's names, not the User-Agent
    header: the sessions there are get theirs from their header, which goes; going down, the
    names stand where the header was."""
    url = databases.empty()
    config, engine = alembic_config(url), make_engine(url)
    try:
        command.upgrade(config, "head")
        with Session(engine) as session:
            user_id = Factory(session).user().id
            session.commit()
        command.downgrade(config, BEFORE_BROWSER_NAMES)
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO user_session (user_id, token_hash, user_agent, created_at, last_seen_at)"
                " VALUES (:user, :hash, :header, :now, :now)"),
                [{"user": user_id, "hash": f"{n:064x}", "header": header, "now": utcnow()}
                 for n, header in enumerate((FIREFOX_ON_WINDOWS, SAFARI_ON_IPHONE, FIREFOX_ON_WINDOWS, ""))])

        command.upgrade(config, "head")
        with engine.connect() as connection:
            assert "user_agent" not in {c["name"] for c in inspect(connection).get_columns("user_session")}
            names = connection.execute(text("SELECT browser, platform FROM user_session ORDER BY token_hash")).all()
        assert [tuple(row) for row in names] == [("Firefox", "Windows"), ("Safari", "iPhone"),
                                                 ("Firefox", "Windows"), ("", "")]

        command.downgrade(config, BEFORE_BROWSER_NAMES)
        with engine.connect() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("user_session")}
            shown = connection.execute(text("SELECT user_agent FROM user_session ORDER BY token_hash")).scalars()
            assert not {"browser", "platform"} & columns
            assert list(shown) == ["Firefox Windows", "Safari iPhone", "Firefox Windows", ""]
    finally:
        engine.dispose()
