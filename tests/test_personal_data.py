"""A person's data across the service: their register extract holds everything of theirs and
nothing of anyone else's; erasing them leaves no trace of their name or address in any table,
while the facts and figures the reports count stay exactly as they were."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import date, timedelta
from email import message_from_string, policy
from email.message import EmailMessage
from typing import Any

import pyotp
import pytest
from sqlalchemy import JSON, String, Text, select
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

from sharing import events
from sharing.accounts import auth, mfa, notifications
from sharing.accounts.mail_preferences.rules import choose
from sharing.accounts.models import AttemptKind, Municipality, Role, Site, User
from sharing.accounts.personal_data import rules as personal_data
from sharing.accounts.sso.models import SsoIdentity, SsoProvider
from sharing.accounts.sso.rules import refuse
from sharing.catalog.categories import proposals
from sharing.catalog.categories.models import FigureProposal
from sharing.catalog.listings import rules as listings
from sharing.catalog.listings.models import Listing, ListingDetails
from sharing.clock import today_in_sweden, utcnow
from sharing.errors import DomainError
from sharing.events import DomainEvent
from sharing.loans.calendar_feed.rules import make_secret
from sharing.loans.queue import rules as queue
from sharing.loans.requests import rules as loans
from sharing.loans.requests.models import HandoverMethod, LoanRequest, RequestKind, RequestMessage
from sharing.loans.requests.rules import RequestDetails
from sharing.logistics.jobs.models import TransportJob
from sharing.mail import QueuedMail
from sharing.reports.dashboard import rules as dashboard
from sharing.reports.ledger import rules as ledger
from sharing.reports.ledger.models import ReuseEntry
from sharing.reports.ledger.rules import TRANSPORT_COMPLETED
from sharing.reports.subscriptions.models import ReportSubscription
from tests.conftest import PASSWORD, Auth, csrf_token
from tests.test_reports_dashboard import pdf_text

NAME = "Åsa Lindqvist-Öberg"
EMAIL = "asa.lindqvist-oberg@skurup.example"
SUBJECT = "sub-7f3a9-asa"  # her identity at Skurup's sign-in
NOW = utcnow()
TODAY = today_in_sweden(NOW)


@dataclass
class World:
    person: User  # the one who leaves: borrowed, took over and gave away
    admin: User  # Skurup's administrator
    manager: User  # Ystad's facility manager
    colleague: User  # Ystad's employee, who took over what she gave away
    requests: dict[str, int]


def _ask(db, listing, by, kind=RequestKind.BORROW, *, quantity=1, days=3, first=TODAY, message="", at=NOW):
    return loans.ask(db, listing_id=listing.id, by=by, now=at, details=RequestDetails(
        kind=kind, quantity=quantity, first_day=first,
        last_day=first + timedelta(days=days) if kind == RequestKind.BORROW else None,
        delivery_site_id=_site_of(db, by).id, message=message))


def _site_of(db, user):
    return db.scalars(select(Site).where(Site.municipality_id == user.municipality_id)).first()


def queued(to: str, subject: str, body: str) -> QueuedMail:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "delning@example", to, subject
    message.set_content(body)
    return QueuedMail(created_at=NOW, message=message.as_string(), attempts=3, next_attempt_at=NOW + timedelta(days=1))


@pytest.fixture
def world(app, factory, db) -> World:
    """Åsa of Skurup borrows chairs from Ystad, takes a desk over for good, gives a shelf away to
    Ystad and declines a request; she writes and is written to, queues, has notifications, mail
    waiting, a token, recovery codes, an identity at her municipality's sign-in."""
    with app.app_context():  # the events' receivers (notices) run, as in the service
        ystad, skurup = factory.municipality("Ystad", "1286"), factory.municipality("Skurup", "1264")
        skurup.contact_email = EMAIL.title()  # she was the municipality's contact too (typed as she writes it)
        skurup.data_protection_officer_email = EMAIL.upper()  # and its data protection officer
        factory.site(ystad, locality="Ystad", access_notes=f"Lastkajen på baksidan. Fråga efter {NAME}.")
        factory.site(skurup, locality="Skurup")
        person = factory.user(skurup, Role.EMPLOYEE, Role.FACILITY_MANAGER, unit=factory.unit(skurup, "Fritid"),
                              name=NAME, email=EMAIL)
        admin = factory.user(skurup, Role.MUNICIPALITY_ADMIN, name="Sven Skurupsson", email="admin@skurup.example")
        manager = factory.manager(ystad, name="Mats Ystadsson", email="mats@ystad.example")
        colleague = factory.user(ystad, Role.EMPLOYEE, unit=factory.unit(ystad, "Kulturskolan"),
                                 name="Yvonne Ystad", email="yvonne@ystad.example")
        figures_from = NOW - timedelta(days=365)  # in force before anything happened
        chairs_category = factory.category("Stolar", weight_kg=7, volume_m3=0.2, new_price_sek=1500, co2e_new_kg=40,
                                           now=figures_from)
        desks = factory.category("Skrivbord", weight_kg=35, volume_m3=0.9, new_price_sek=4000, co2e_new_kg=100,
                                 now=figures_from)
        chairs = factory.listing_published(site=_site_of(db, manager), category=chairs_category, by=manager,
                                           title="Konferensstolar", quantity=10, lend=True)
        desk = factory.listing_published(site=_site_of(db, manager), category=desks, by=manager, title="Skrivbord",
                                         quantity=2, lend=False, give_away=True,
                                         description=f"Hämtas hos vaktmästeriet. Kontakt: {NAME}, {EMAIL}")
        tables = factory.listing_published(site=_site_of(db, manager), category=desks, by=manager, title="Bord",
                                           quantity=1, lend=True)
        shelf = factory.listing_published(site=_site_of(db, person), category=desks, by=person, title="Bokhylla",
                                          quantity=1, lend=False, give_away=True, contact_user_id=person.id)
        projector = factory.listing_published(site=_site_of(db, person), category=chairs_category, by=person,
                                              title="Projektor", quantity=1, lend=True, contact_user_id=person.id)
        # Ystad's manager edits the desk: the saved event keeps the text before, her name in it.
        details = ListingDetails.model_validate({**{name: getattr(desk, name) for name in ListingDetails.model_fields},
                                                 "description": "Hämtas hos vaktmästeriet."})
        listings.save_listing(db, details=details, listing=desk, by=manager, now=NOW)
        db.commit()

        # A loan of 121 days, long enough to count as a purchase avoided in the reuse statistics.
        long_ago = NOW - timedelta(days=121)
        borrowed = _ask(db, chairs, person, quantity=4, first=today_in_sweden(long_ago), days=120, at=long_ago,
                        message=f"Till aulan. Hälsningar {NAME}")
        loans.approve(db, borrowed, by=manager, now=long_ago)
        loans.hand_over(db, borrowed, condition=None, method=HandoverMethod.PICKUP, by=manager, now=long_ago)
        loans.confirm(db, borrowed, by=person, now=long_ago)
        loans.post_message(db, borrowed, body=f"Välkommen att hämta, {NAME.split()[0]}!", by=manager, now=NOW)
        loans.take_back(db, borrowed, condition=None, remarks=f"Lämnades av {NAME}", damage="En stol har en fläck",
                        by=manager, now=NOW)
        loans.confirm(db, borrowed, by=person, now=NOW)
        taken = _ask(db, desk, person, RequestKind.TAKE_OVER)
        loans.approve(db, taken, by=manager, now=NOW)
        loans.hand_over(db, taken, condition=None, method=HandoverMethod.PICKUP, by=manager, now=NOW)
        loans.confirm(db, taken, by=person, now=NOW)
        given = _ask(db, shelf, colleague, RequestKind.TAKE_OVER, message="Passar i vårt arkiv")
        loans.approve(db, given, by=person, now=NOW)
        loans.post_message(db, given, body="Hyllan står i förrådet, ring 0701-234567", by=person, now=NOW)
        loans.post_message(db, given, body=f"Tack {NAME}!", by=colleague, now=NOW)
        loans.hand_over(db, given, condition=None, method=HandoverMethod.PICKUP, by=person, now=NOW)
        loans.confirm(db, given, by=colleague, now=NOW)
        declined = _ask(db, projector, colleague, message="Till en konsert")
        loans.decline(db, declined, reason="Den behövs här den veckan, hör av dig i maj", by=person, now=NOW)
        booked = _ask(db, tables, colleague, days=10)
        db.commit()
        queue.join(db, listing_id=tables.id, by=person, now=NOW,
                   wish=queue.Wish(quantity=1, first_day=TODAY + timedelta(days=1), last_day=TODAY + timedelta(days=2)))
        factory.want(by=person, words="whiteboard", description="Till fritidsgårdens nya rum")

        choose(db, person.id, mailed=[], now=NOW)
        make_secret(db, user_id=person.id, now=NOW)
        auth.create_api_token(db, user=person, name="Min integration", password=PASSWORD, now=NOW,
                              expires_at=NOW + timedelta(days=30), max_lifetime=timedelta(days=365))
        auth.record_attempt(db, kind=AttemptKind.LOGIN, email=EMAIL, address="192.0.2.7", now=NOW)
        person.totp_secret = pyotp.random_base32()
        mfa.make_recovery_codes(db, user=person, now=NOW)
        provider = SsoProvider(municipality_id=skurup.id, issuer="https://login.skurup.example", client_id="delning",
                               client_secret_encrypted="x", email_domains="skurup.example")
        db.add(provider)
        db.flush()
        db.add(SsoIdentity(provider_id=provider.id, user_id=person.id, subject=SUBJECT))
        refuse(db, provider=provider, now=NOW, subject=SUBJECT,
               reason=f"{EMAIL} is not an address this sign-in admits. (sub {SUBJECT})")
        # Mail the mail server did not take yet: to her, and to Ystad's manager about her.
        db.add(queued(EMAIL, "Din förfrågan", f"Hej {NAME},\n\ndin förfrågan är godkänd."))
        db.add(queued(manager.email, "Ny förfrågan", f"Hej Mats,\n\n{NAME} ({EMAIL}) frågar efter stolar."))
        # A route that carried the desk she took over: its CO2e is netted from that reuse.
        events.record(db, TRANSPORT_COMPLETED, subject_type="logistics.route", subject_id=3, now=NOW,
                      municipality_id=skurup.id, payload={
                          "route_id": 3, "day": TODAY.isoformat(), "km": 21.0, "co2e_kg": 2.75,
                          "factor_source": "HBEFA 4.2, lätt lastbil diesel", "method": "distance",
                          "attributions": [{"request_id": taken.id, "km": 21.0, "co2e_kg": 2.75}]})
        # Whatever a domain may one day put in a notification's parameters.
        notifications.notify(db, user_id=manager.id, message="%(unit)s asks for %(quantity)s of “%(listing)s”.",
                             params={"unit": f"Fritid ({NAME})", "quantity": 1, "listing": "Bord"}, now=NOW)
        db.commit()
        events.dispatch_due(app.extensions["sharing.engine"], now=NOW + timedelta(days=1))  # whatever is left
        # Skurup's sustainability officer corrects the ledger, naming her; a coordinator's job notes name her.
        officer = factory.user(skurup, Role.SUSTAINABILITY_OFFICER)
        transport = db.scalars(select(ReuseEntry).where(ReuseEntry.kind == "transport")).one()
        ledger.reverse_entry(db, entry_id=transport.id, reason=f"Rutten gick inte, enligt {NAME}", by=officer,
                             now=NOW)
        # The officer proposes a correction of the desks' figures, naming her as the source of a weighing.
        proposals.propose(db, category=desks, figures=proposals.ProposedFigures(weight_kg=32),
                          citation=f"Vägning av {NAME}, Skurups kommun", url="", reason=f"Enligt {NAME}s vägning",
                          by=officer, now=NOW)
        db.add(TransportJob(kind="manual", goods="Stolar till Fritid", quantity=4,
                            pickup_site_id=_site_of(db, manager).id, delivery_site_id=_site_of(db, person).id,
                            pickup_municipality_id=ystad.id, delivery_municipality_id=skurup.id, day=TODAY,
                            notes=f"Ring {NAME} vid grinden",
                            created_by_id=person.id))
        db.add(ReportSubscription(user_id=person.id, municipality_id=skurup.id, category_ids=str(desks.id),
                                  created_at=NOW, updated_at=NOW))
        db.commit()
    return World(person=person, admin=admin, manager=manager, colleague=colleague,
                 requests={"borrowed": borrowed.id, "taken": taken.id, "given": given.id, "declined": declined.id,
                           "booked": booked.id})


# --- The register extract ------------------------------------------------------------------------

def test_the_extract_holds_her_data_and_no_one_else_s(client, auth, world, db):
    assert auth.login(world.person).headers["Location"].endswith("/login/code")  # she has two-step on
    code = pyotp.TOTP(db.get(User, world.person.id).totp_secret).now()
    client.post("/login/code", data={"code": code, "csrf_token": csrf_token(client, "/login/code")})
    page = client.get("/account").get_data(as_text=True)
    assert 'href="/account/personal-data"' in page
    page = client.get("/account/personal-data").get_data(as_text=True)
    assert 'href="/account/personal-data.pdf"' in page and 'href="/account/personal-data.json"' in page

    response = client.get("/account/personal-data.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert re.fullmatch(r'attachment; filename="registerutdrag-\d{4}-\d\d-\d\d\.json"',
                        response.headers["Content-Disposition"])
    data = json.loads(response.get_data(as_text=True))
    sections = data["sections"]
    assert set(sections) >= {"account", "sessions", "notifications", "mail_preferences", "api_tokens",
                             "sso_identities", "login_attempts", "audit_entries", "requests", "request_messages",
                             "listings_as_contact", "wanted_items", "queue_places", "calendar_feed"}
    account = sections["account"][0]
    assert (account["name"], account["email"], account["municipality"], account["unit"]) == (
        NAME, EMAIL, "Skurup", "Fritid")
    assert account["roles_code"] == ["employee", "facility_manager"] and account["recovery_codes_left"] == 10
    assert len(sections["sessions"]) == 1 and sections["sessions"][0]["ended_at"] is None
    assert sections["notifications"] and all("params" in n for n in sections["notifications"])
    assert {row["name"] for row in sections["api_tokens"]} == {"Min integration"}
    assert sections["sso_identities"] == [{"issuer": "https://login.skurup.example", "subject": SUBJECT,
                                           "created_at": sections["sso_identities"][0]["created_at"],
                                           "last_login_at": None}]
    assert [a["address"] for a in sections["login_attempts"]] == ["192.0.2.7"]
    requests = {r["id"]: r for r in sections["requests"]}
    assert set(requests) == {world.requests[k] for k in ("borrowed", "taken", "given", "declined")}
    assert requests[world.requests["borrowed"]]["your_part_code"] == ["requester"]
    assert requests[world.requests["given"]]["your_part_code"] == ["decided", "handed_over"]
    assert requests[world.requests["borrowed"]]["return_remarks"] == f"Lämnades av {NAME}"
    assert {(m["listing"], m["body"]) for m in sections["request_messages"]} == {
        ("Konferensstolar", f"Till aulan. Hälsningar {NAME}"), ("Bokhylla", "Hyllan står i förrådet, ring 0701-234567")}
    assert {row["title"] for row in sections["listings_as_contact"]} == {"Bokhylla", "Projektor"}
    assert [w["words"] for w in sections["wanted_items"]] == ["whiteboard"]
    assert [q["listing"] for q in sections["queue_places"]] == ["Bord"]
    assert [(j["goods"], j["notes"]) for j in sections["transport_jobs"]] == [("Stolar till Fritid",
                                                                               f"Ring {NAME} vid grinden")]
    assert sections["reuse_corrections"] == []  # the officer's, not hers
    assert sections["figure_proposals"] == []  # the officer's too
    assert [(r["municipality"], r["category_ids"]) for r in sections["report_subscription"]] == [
        ("Skurup", "Skrivbord")]  # by name, in her language
    made = next(e for e in sections["audit_entries"] if e["event_code"] == "accounts.recovery_codes.made")
    assert (made["event"], made["payload"], made["payload_code"]) == (
        "Återställningskoder skapades", "Återställningskoder kvar: 10", {"codes": 10})
    assert sections["route_stops"] == []
    assert len(sections["calendar_feed"]) == 1
    assert {"loans.request.approved", "accounts.recovery_codes.made"} <= {
        e["event_code"] for e in sections["audit_entries"] if e["role_code"] == "actor"}
    assert data["truncated"] == [] and data["user_id"] == world.person.id
    # No one else's: not the others' words, names or addresses, nor their sessions or notifications.
    text = json.dumps(data, ensure_ascii=False)
    for theirs in ("Tack ", "Passar i vårt arkiv", "Till en konsert", "Välkommen att hämta",
                   world.manager.name, world.manager.email, world.colleague.name, world.colleague.email,
                   world.admin.name):
        assert theirs not in text, theirs

    pdf = client.get("/account/personal-data.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert pdf.headers["Content-Disposition"].endswith('.pdf"') and pdf.headers["Cache-Control"] == "no-store"
    assert len(re.findall(rb"/Type /Page\b(?!s)", pdf.data)) >= 2  # every section, readable
    assert b"/Title (Registerutdrag)" in pdf.data


def test_the_extract_reads_in_words_in_the_reader_s_language(client, auth, world, db):
    """What happened and what was sent read as the person saw them, never as stored: no
    payload's JSON, no message's placeholders; the codes stay beside the words, for a machine."""
    auth.login(world.manager)
    borrowed = world.requests["borrowed"]
    chairs = db.scalars(select(Listing.id).where(Listing.title == "Konferensstolar")).one()
    first = today_in_sweden(NOW - timedelta(days=121))
    days = f"{first} {{}} {first + timedelta(days=120)}"  # its last day, not the midnight after
    for language, named, asked, approved, details, period in (
            ("sv", "Svenska", f"Fritid ({NAME}) ber om 1 av ”Bord”.", "Förfrågan godkändes",
             [f"Annons: ”Konferensstolar”, annons {chairs}", "Slag: Lån", "Antal: 4",
              "Status: Väntar på beslut -> Godkänd"], days.format("till")),
            ("en", "English", f"Fritid ({NAME}) asks for 1 of “Bord”.", "The request was approved",
             [f"Listing: “Konferensstolar”, listing {chairs}", "Kind: Loan", "Pieces: 4",
              "Status: Requested -> Approved"], days.format("to"))):
        client.post("/language", data={"language": language, "csrf_token": csrf_token(client, "/")})
        sections = client.get("/account/personal-data.json").get_json()["sections"]
        assert (sections["account"][0]["language"], sections["account"][0]["language_code"]) == (named, language)
        assert {r["id"]: r["period"] for r in sections["requests"]}[borrowed] == period
        notes = sections["notifications"]
        assert asked in [note["message"] for note in notes]
        assert all("%(" not in note["message"] for note in notes)
        link = f"http://delning.test/loans/{world.requests['booked']}"  # to open from the file, not a path
        assert (link, f"/loans/{world.requests['booked']}") in [(note["url"], note.get("url_code")) for note in notes]
        entries = sections["audit_entries"]
        entry = next(e for e in entries if e["event_code"] == "loans.request.approved" and e["subject_id"] == borrowed)
        assert entry["event"] == approved and entry["payload_code"]["kind"] == "borrow"
        assert [line.replace("→", "->") for line in entry["payload"].splitlines()] == details
        assert not [e for e in entries if isinstance(e["payload"], dict) and e["payload"]]  # each one in words

        shown = pdf_text(client.get("/account/personal-data.pdf").data).replace("- >", "->")  # ">": a run of its own
        assert asked in shown and approved in shown and all(line in shown for line in details)
        assert f" {named} " in shown and period in shown and link in shown
        assert "%(" not in shown and "listing_id" not in shown and '{"' not in shown


def test_an_admin_s_extract_names_nobody_they_acted_on(client, auth, world, db):
    """What an admin did to others' accounts is theirs to know, whom it was done to is not:
    the entry reads "another person", in the JSON and the PDF alike."""
    from sharing.accounts import organisation
    skurup = db.get(Municipality, world.admin.municipality_id)
    organisation.invite_user(db, municipality=skurup, email="berit@skurup.example", name="Berit Bjudenin",
                             roles=[Role.EMPLOYEE], unit_id=None, invited_by=world.admin, now=utcnow(),
                             lifetime=timedelta(days=7))
    db.commit()
    auth.login(world.admin)
    entries = client.get("/account/personal-data.json").get_json()["sections"]["audit_entries"]
    [invited] = [entry for entry in entries if entry["event_code"] == "accounts.user.invited"]
    assert invited["payload"].splitlines() == ["Konto: En annan person", "Roller: Medarbetare"]
    shown = pdf_text(client.get("/account/personal-data.pdf").data)
    assert "En annan person" in shown and "Berit" not in shown
    assert "Berit" not in client.get("/account/personal-data.json").get_data(as_text=True)
    # The audit trail, for the municipality's admins, names her.
    assert "Berit Bjudenin" in client.get(f"/admin/municipalities/{skurup.id}/audit").get_data(as_text=True)


def test_an_extract_is_always_the_signed_in_user_s_own(client, auth, world, db):
    auth.login(world.colleague)
    data = client.get("/account/personal-data.json").get_json()
    assert data["sections"]["account"][0]["email"] == world.colleague.email
    assert {m["body"] for m in data["sections"]["request_messages"]} == {
        "Passar i vårt arkiv", f"Tack {NAME}!", "Till en konsert"}  # hers: she wrote them
    text = json.dumps(data, ensure_ascii=False)
    assert EMAIL not in text and "Hyllan står" not in text and "Hälsningar" not in text and SUBJECT not in text
    assert {r["id"] for r in data["sections"]["requests"]} == {
        world.requests[k] for k in ("given", "declined", "booked")}


# --- Erasure -------------------------------------------------------------------------------------

def _text_columns(table) -> list[Any]:
    def texty(type_: Any) -> bool:
        if isinstance(type_, TypeDecorator):
            type_ = type_.impl_instance
        return isinstance(type_, (String, Text, JSON))
    return [column for column in table.columns if texty(column.type)]


def traces(db, *needles: str) -> list[str]:
    """Every text of every text column (String, Text, JSON) of every table that holds one of the
    needles, case-insensitively: JSON as its values read (its stored form escapes å, ä, ö), and
    the mail queue's messages as they would be read (their bodies may be encoded)."""
    found = []
    folded = [needle.casefold() for needle in needles]
    for table in SQLModel.metadata.sorted_tables:
        columns = _text_columns(table)
        if not columns:
            continue
        for row in db.execute(select(*columns)).all():
            for column, value in zip(columns, row, strict=True):
                if value is None:
                    continue
                texts = [value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)]
                if isinstance(value, str) and isinstance(column.type, JSON):
                    texts.append(json.dumps(json.loads(value), ensure_ascii=False))
                if table.name == "mail_queue" and column.name == "message" and value:  # not one queued later
                    message: Any = message_from_string(value, _class=EmailMessage, policy=policy.default)
                    texts.append(f"{message['To']} {message['Subject']} {message.get_content()}")
                for text in texts:
                    if any(needle in text.casefold() for needle in folded):
                        found.append(f"{table.name}.{column.name}: {text[:200]!r}")
    return found


def facts(db) -> dict[str, Any]:
    """What the reports count: every request's facts, the pieces held and moved, and what each
    event says beyond people's words."""
    words = {"reason", "subject", "changes", "reason_given"}
    return {
        "requests": [(r.id, r.kind, r.status, r.listing_id, r.quantity, r.starts_at, r.ends_at, r.requester_id,
                      r.requester_unit_id, r.requester_municipality_id, r.owner_municipality_id, r.decided_by_id,
                      r.decided_at, r.handed_over_by_id, r.handed_over_at, r.handover_condition, r.handover_method,
                      r.returned_at, r.return_received_by_id, r.return_condition, r.closed_at, r.transport_needed)
                     for r in db.scalars(select(LoanRequest).order_by(LoanRequest.id))],
        "listings": [(listing.id, listing.municipality_id, listing.category_id, listing.quantity, listing.status,
                      listing.weight_kg, listing.volume_m3, listing.site_id)
                     for listing in db.scalars(select(Listing).order_by(Listing.id))],
        "tables": {name: db.execute(select(SQLModel.metadata.tables[name]).order_by("id")).all()
                   for name in ("listing_hold", "listing_transfer", "category_factor")},
        "events": [(e.id, e.name, e.occurred_at, e.actor_id, e.municipality_id, e.subject_type, e.subject_id,
                    {key: value for key, value in e.payload.items() if key not in words})
                   for e in db.scalars(select(DomainEvent).order_by(DomainEvent.id))],
    }


def report_figures(db) -> dict[Any, Any]:
    """Everything the reports show: the dashboard's figures (totals, months, categories, flows) of
    all municipalities and of each, and every ledger entry's figures."""
    ever = dashboard.Selection(first_day=date(2000, 1, 1), last_day=date(2100, 12, 31))
    found: dict[Any, Any] = {"all": dashboard.figures(db, ever)}
    for municipality_id in db.scalars(select(Municipality.id)):
        found[municipality_id] = dashboard.figures(db, replace(ever, municipality_ids=(municipality_id,)))
    columns = [column for column in ReuseEntry.__table__.columns if column.name != "reason"]
    found["entries"] = db.execute(select(*columns).order_by(ReuseEntry.id)).all()
    return found


def erase_through_the_page(client, world) -> None:
    Auth(client).login(world.admin)
    path = f"/admin/municipalities/{world.person.municipality_id}/users/{world.person.id}"
    page = client.get(path).get_data(as_text=True)
    assert f'href="{path}/erase"' in page
    page = client.get(f"{path}/erase").get_data(as_text=True)
    assert f"Radera {NAME}" in page and EMAIL in page and "kan inte ångras" in page
    token = csrf_token(client, f"{path}/erase")
    refused = client.post(f"{path}/erase", data={"name": "Åsa", "csrf_token": token})
    assert refused.status_code == 400 and "Skriv personens namn exakt" in refused.get_data(as_text=True)
    response = client.post(f"{path}/erase", data={"name": f"  {NAME.lower()} ", "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith(f"/admin/municipalities/{world.person.municipality_id}/users")


def test_erasure_leaves_no_trace_of_her_and_every_fact_as_it_was(app, client, world, db):
    assert traces(db, NAME, EMAIL)  # she is there, in many places
    # Her requests' notices wait for the mail job, unrendered: to her, and to the managers.
    waiting = [queued.recipe["to"] for queued in db.scalars(select(QueuedMail)) if queued.recipe]
    assert EMAIL in waiting and world.manager.email in waiting
    before, figures_before = facts(db), report_figures(db)
    totals = figures_before["all"].totals
    assert (totals.pieces, totals.waste_avoided_g, totals.purchase_avoided_sek_ore, totals.co2e_avoided_g,
            totals.transport_co2e_g) == (4 + 1 + 1, 4 * 7_000 + 35_000 + 35_000, 4 * 150_000 + 400_000 + 400_000,
                                         4 * 20_000 + 50_000 + 50_000, 0)  # her loan, take-over, gift; a route reversed
    contact_for = sorted(db.scalars(select(Listing.id).where(Listing.contact_user_id == world.person.id)))
    assert len(contact_for) == 2  # the shelf and the projector (the shelf's copy she gave away names none)
    erase_through_the_page(client, world)
    db.expire_all()

    assert traces(db, NAME, EMAIL, SUBJECT) == []
    assert report_figures(db) == figures_before  # to the gram and the öre, every figure of every report
    after = facts(db)
    assert after["requests"] == before["requests"]
    assert after["listings"] == before["listings"]
    assert after["tables"] == before["tables"]
    assert after["events"][:len(before["events"])] == before["events"]  # the trail: only added to
    added = [(e[1], e[3], e[6]) for e in after["events"][len(before["events"]):]]
    assert sorted(e for e in added if e[0] == "catalog.listing.saved") == [
        ("catalog.listing.saved", world.admin.id, listing_id) for listing_id in contact_for]
    assert [e[:2] for e in added if e[0] != "catalog.listing.saved"] == [
        ("loans.queue_entry.left", None), (personal_data.ERASED, world.admin.id)]
    erased = db.scalars(select(DomainEvent).where(DomainEvent.name == personal_data.ERASED)).one()
    assert (erased.actor_id, erased.subject_type, erased.municipality_id, erased.payload) == (
        world.admin.id, "user", world.person.municipality_id, {})

    user = db.get(User, world.person.id)
    assert (user.name, user.email, user.password_hash, user.totp_secret, user.active, user.roles) == (
        "Borttagen användare", f"erased-{user.id}@invalid", None, None, False, frozenset())
    assert user.erased_at is not None and user.created_at == world.person.created_at
    # What she wrote is gone, and the whole thread of her own requests; what others wrote elsewhere
    # stays, her name in it replaced.
    threads: dict[int, list[str]] = {}
    for message in db.scalars(select(RequestMessage).order_by(RequestMessage.id)):
        threads.setdefault(message.request_id, []).append(message.body)
    assert threads == {world.requests["given"]: ["Passar i vårt arkiv", "Tack Borttagen användare!"],
                       world.requests["declined"]: ["Till en konsert"]}
    borrowed = db.get(LoanRequest, world.requests["borrowed"])
    declined = db.get(LoanRequest, world.requests["declined"])
    assert (borrowed.return_remarks, borrowed.return_damage, declined.decline_reason) == ("", "", "")
    assert [e.payload.get("reason") for e in db.scalars(select(DomainEvent).where(
        DomainEvent.name == "loans.request.declined"))] == [""]
    assert {listing.contact_user_id for listing in db.scalars(select(Listing))} == {None}
    assert db.scalars(select(TransportJob.notes)).one() == "Ring Borttagen användare vid grinden"
    assert db.scalars(select(ReportSubscription)).all() == []  # her monthly report stops
    assert db.scalars(select(ReuseEntry.reason).where(ReuseEntry.reason != "")).one() == \
        "Rutten gick inte, enligt Borttagen användare"
    proposal = db.scalars(select(FigureProposal)).one()
    assert (proposal.reason, proposal.citation, proposal.weight_kg) == (
        "Enligt Borttagen användares vägning", "Vägning av Borttagen användare, Skurups kommun", 32)
    desk = db.scalars(select(Listing).where(Listing.title == "Skrivbord").order_by(Listing.id)).first()
    assert desk.description == "Hämtas hos vaktmästeriet."  # the manager's own text, unchanged
    # The queued mail: to her, gone; about her, to be sent without her name or address.
    left_later = [queued.recipe for queued in db.scalars(select(QueuedMail)) if queued.recipe]
    assert left_later and all(recipe["to"] != EMAIL for recipe in left_later)
    (left,) = db.scalars(select(QueuedMail).where(QueuedMail.message != "")).all()
    message: Any = message_from_string(left.message, _class=EmailMessage, policy=policy.default)
    assert message["To"] == world.manager.email
    assert "Borttagen användare (Borttagen användare) frågar efter stolar." in message.get_content()

    # She can never sign in again, nor her token; her old address is free for a new account.
    assert auth.user_by_email(db, EMAIL) is None
    assert Auth(app.test_client()).login(EMAIL).status_code == 200

    # The trail names her as a deleted user, and the erasure by the admin who did it.
    trail = client.get(f"/admin/municipalities/{world.person.municipality_id}/audit").get_data(as_text=True)
    assert "Borttagen användare" in trail and NAME not in trail
    assert "En person raderades" in trail and world.admin.name in trail


def test_only_an_admin_of_her_municipality_erases_her_and_never_themselves(world, factory, db):
    ystad_admin = factory.user(db.get(User, world.manager.id).municipality, Role.MUNICIPALITY_ADMIN)
    for by in (ystad_admin, world.manager):
        with pytest.raises(DomainError):
            personal_data.erase_user(db, user=world.person, by=by, now=NOW)
    with pytest.raises(DomainError):
        personal_data.erase_user(db, user=world.admin, by=world.admin, now=NOW)
    db.rollback()
    system_admin = factory.user(factory.municipality(), Role.SYSTEM_ADMIN)
    personal_data.erase_user(db, user=world.person, by=system_admin, now=NOW)
    db.commit()
    with pytest.raises(DomainError):  # once is enough
        personal_data.erase_user(db, user=db.get(User, world.person.id), by=system_admin, now=NOW)


def test_a_system_administrator_s_erasure_is_neither_offered_nor_taken_from_a_municipality_s_admin(
        client, auth, world, factory, db):
    municipality = db.get(User, world.admin.id).municipality
    system_admin = factory.user(municipality, Role.SYSTEM_ADMIN, name="Sara Systemsson")
    auth.login(world.admin)
    edit = f"/admin/municipalities/{municipality.id}/users/{system_admin.id}"
    assert f"{edit}/erase" not in client.get(edit).get_data(as_text=True)
    assert client.get(f"{edit}/erase").status_code == 403
    response = client.post(f"{edit}/erase", data={"name": "Sara Systemsson", "csrf_token": csrf_token(client, "/")})
    assert response.status_code == 403
    db.expire_all()
    assert db.get(User, system_admin.id).erased_at is None
    colleague = factory.user(municipality, Role.EMPLOYEE)  # whom they may erase: offered
    assert f"{edit.rsplit('/', 1)[0]}/{colleague.id}/erase" in client.get(
        f"/admin/municipalities/{municipality.id}/users/{colleague.id}").get_data(as_text=True)


def test_the_erase_page_is_for_her_municipality_s_admins(client, auth, world, factory, db):
    other = factory.municipality()
    auth.login(factory.user(other, Role.MUNICIPALITY_ADMIN))
    path = f"/admin/municipalities/{world.person.municipality_id}/users/{world.person.id}/erase"
    assert client.get(path).status_code == 403
    assert client.get(f"/admin/municipalities/{other.id}/users/{world.person.id}/erase").status_code == 404
    response = client.post(path, data={"name": NAME, "csrf_token": csrf_token(client, "/")})
    assert response.status_code == 403
    db.expire_all()
    assert db.get(User, world.person.id).erased_at is None
