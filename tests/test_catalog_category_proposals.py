"""Sustainability officers propose corrections of a category's figures with their source; system
administrators accept them (a new version of the figures, naming the proposal) or decline them,
once; the proposer is told, and their proposals are part of their personal data."""

import math
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from sharing.accounts.models import Municipality, Notification, Role
from sharing.accounts.personal_data import rules as personal_data
from sharing.catalog import events
from sharing.catalog.categories import proposals
from sharing.catalog.categories.models import CategoryFactor, FigureProposal
from sharing.catalog.categories.proposals import ProposedFigures
from sharing.catalog.categories.rules import add_factor_version, current_factor, factor_versions
from sharing.clock import utcnow
from sharing.errors import Conflict, DomainError, NotAllowed
from sharing.events import DomainEvent
from tests.conftest import csrf_token
from tests.factories import PASSWORD
from tests.servers import HttpClient, gunicorn

T0 = datetime(2026, 1, 10, 9, 0, tzinfo=timezone.utc)
EPD = "Kinnarps, EPD S-P-01234 (2024)"
EPD_URL = "https://www.environdec.com/library/epd1234"


def count(db, model):
    return db.scalar(select(func.count()).select_from(model))


@pytest.fixture
def s(db, factory):
    ystad, skurup = factory.municipality("Ystad", "1286"), factory.municipality("Skurup", "1264")
    furniture = factory.category("Möbler", name_en="Furniture", weight_kg=25, volume_m3=0.8, new_price_sek=3000,
                                 co2e_new_kg=50, source="Schablon", now=T0)
    chair = factory.category("Kontorsstol", name_en="Office chair", parent=furniture, weight_kg=15, volume_m3=0.5,
                             new_price_sek=4500, co2e_new_kg=100, source="Rekomo, EPD NEPD-467 (2016)", now=T0)
    stool = factory.category("Pall", name_en="Stool", parent=furniture)  # no figures of its own
    return {"chair": chair, "stool": stool, "furniture": furniture,
            "officer": factory.user(skurup, Role.SUSTAINABILITY_OFFICER, name="Olga Officer"),
            "other_officer": factory.user(ystad, Role.SUSTAINABILITY_OFFICER),
            "admin": factory.user(ystad, Role.SYSTEM_ADMIN, name="Sigrid Systemadmin"),
            "second_admin": factory.user(ystad, Role.SYSTEM_ADMIN),
            "employee": factory.user(ystad, Role.EMPLOYEE),
            "municipality_admin": factory.user(ystad, Role.MUNICIPALITY_ADMIN)}


def propose(db, s, category=None, *, by=None, citation=EPD, url="", reason="Nyare EPD", now=None, **figures):
    return proposals.propose(db, category=category or s["chair"], figures=ProposedFigures(**figures),
                             citation=citation, url=url, reason=reason, by=by or s["officer"], now=now or utcnow())


# --- Rules ------------------------------------------------------------------------------

def test_an_accepted_proposal_is_a_new_version_with_its_figures_and_source_the_others_kept(app, db, s):
    with app.app_context():
        proposal = propose(db, s, co2e_new_kg=85, co2e_kind="production", weight_kg=14.5, url=EPD_URL,
                           reason="Tillverkarens nya EPD ger lägre utsläpp")
        db.commit()
        assert (proposal.status, proposal.based_on_version, proposal.new_price_sek) == ("open", 1, None)
        assert current_factor(db, s["chair"].id).version == 1  # a proposal changes no figure by itself
        first = {c: getattr(current_factor(db, s["chair"].id), c) for c in ("weight_kg", "source", "co2e_new_kg")}

        factor = proposals.accept(db, proposal=proposal, by=s["admin"], now=utcnow())
        db.commit()
    db.expire_all()
    newest = current_factor(db, s["chair"].id)
    assert newest.id == factor.id and newest.version == 2
    assert (newest.weight_kg, newest.volume_m3, newest.new_price_sek, newest.co2e_new_kg, newest.co2e_kind) == (
        14.5, 0.5, 4500, 85, "production")  # proposed, kept, kept, proposed
    assert newest.source == f"{EPD} – {EPD_URL}"
    assert (newest.proposal_id, newest.created_by_id) == (proposal.id, s["admin"].id)
    again = db.get(FigureProposal, proposal.id)
    assert (again.status, again.decided_by_id, again.decided_at is not None) == ("accepted", s["admin"].id, True)
    assert proposals.version_of(db, again).id == factor.id
    old = factor_versions(db, s["chair"].id)[-1]
    assert {c: getattr(old, c) for c in first} == first  # the earlier version as it was
    assert [e.name for e in db.scalars(select(DomainEvent).where(DomainEvent.subject_type == "figure_proposal")
                                       .order_by(DomainEvent.id))] == [
        events.FIGURES_PROPOSED, events.FIGURES_PROPOSAL_ACCEPTED]


def test_a_category_without_figures_of_its_own_gets_them_inherited_with_the_proposed_ones(app, db, s):
    with app.app_context():
        proposal = propose(db, s, s["stool"], weight_kg=4, citation="", url=EPD_URL)
        assert proposal.based_on_version is None
        factor = proposals.accept(db, proposal=proposal, by=s["admin"], now=utcnow())
        db.commit()
    assert (factor.category_id, factor.version, factor.weight_kg, factor.volume_m3, factor.co2e_new_kg) == (
        s["stool"].id, 1, 4, 0.8, 50)
    assert factor.source == EPD_URL


def test_a_declined_proposal_keeps_its_reason_and_changes_no_figure(app, db, s):
    with app.app_context():
        proposal = propose(db, s, new_price_sek=3900)
        with pytest.raises(DomainError) as refused:
            proposals.decline(db, proposal=proposal, reason="  ", by=s["admin"], now=utcnow())
        assert refused.value.field == "reason"
        proposals.decline(db, proposal=proposal, reason="Priset gäller bara med ramavtal", by=s["admin"],
                          now=utcnow())
        db.commit()
    assert (proposal.status, proposal.decline_reason) == ("declined", "Priset gäller bara med ramavtal")
    assert count(db, CategoryFactor) == 2 and current_factor(db, s["chair"].id).version == 1


def test_a_proposal_is_decided_once_even_by_two_admins_at_the_same_moment(app, db, s):
    """Two sessions read it open; the first accepts and commits; the second, deciding on what it
    read, is refused, and no second version is made."""
    with app.app_context():
        proposal = propose(db, s, co2e_new_kg=90)
        db.commit()
        other = Session(bind=app.extensions["sharing.engine"], expire_on_commit=False)
        try:
            seen = other.get(FigureProposal, proposal.id)
            assert seen.status == "open"
            proposals.accept(db, proposal=proposal, by=s["admin"], now=utcnow())
            db.commit()
            with pytest.raises(Conflict):
                proposals.accept(other, proposal=seen, by=s["second_admin"], now=utcnow())
            other.rollback()
            seen = other.get(FigureProposal, proposal.id)
            with pytest.raises(Conflict):  # now seen decided: refused before anything is tried
                proposals.decline(other, proposal=seen, reason="Nej", by=s["second_admin"], now=utcnow())
        finally:
            other.close()
    db.expire_all()
    assert [f.version for f in factor_versions(db, s["chair"].id)] == [2, 1]
    assert db.get(FigureProposal, proposal.id).decided_by_id == s["admin"].id


@pytest.mark.parametrize("figures, text, field", [
    ({"weight_kg": -1}, {}, "weight_kg"),
    ({"volume_m3": math.inf}, {}, "volume_m3"),
    ({"co2e_new_kg": math.nan}, {}, "co2e_new_kg"),
    ({"new_price_sek": 200_000_000}, {}, "new_price_sek"),  # above what one piece may cost
    ({}, {}, "weight_kg"),  # no figure at all
    ({"weight_kg": 15, "volume_m3": 0.5}, {}, "weight_kg"),  # the figures in use: nothing would change
    ({"co2e_new_kg": 100, "co2e_kind": "guess"}, {}, "co2e_kind"),
    ({"weight_kg": 12}, {"citation": " ", "url": ""}, "citation"),  # no source
    ({"weight_kg": 12}, {"url": "ftp://example.com/epd"}, "url"),
    ({"weight_kg": 12}, {"url": "javascript:alert(1)"}, "url"),
    ({"weight_kg": 12}, {"url": "https://"}, "url"),
    ({"weight_kg": 12}, {"citation": "x" * 501}, "citation"),
    ({"weight_kg": 12}, {"citation": "x" * 300, "url": "https://example.com/" + "y" * 200}, "citation"),
    ({"weight_kg": 12}, {"reason": ""}, "reason"),
    ({"weight_kg": 12}, {"reason": "x" * 2001}, "reason"),
])
def test_invalid_proposals_are_refused_on_their_field_and_nothing_is_kept(app, db, s, figures, text, field):
    with app.app_context(), pytest.raises(DomainError) as refused:
        propose(db, s, **text, **figures)
    assert refused.value.field == field
    assert count(db, FigureProposal) == 0


def test_the_same_co2e_figure_of_another_kind_is_a_change(app, db, s):
    with app.app_context():
        proposal = propose(db, s, co2e_new_kg=100, co2e_kind="net_saving")
    assert (proposal.co2e_new_kg, proposal.co2e_kind) == (100, "net_saving")


def test_only_officers_propose_and_only_system_admins_decide(app, db, s):
    with app.app_context():
        for role in ("employee", "admin", "municipality_admin"):
            with pytest.raises(NotAllowed):
                propose(db, s, by=s[role], weight_kg=12)
        proposal = propose(db, s, weight_kg=12)
        for role in ("officer", "employee", "municipality_admin"):
            with pytest.raises(NotAllowed):
                proposals.accept(db, proposal=proposal, by=s[role], now=utcnow())
            with pytest.raises(NotAllowed):
                proposals.decline(db, proposal=proposal, reason="Nej", by=s[role], now=utcnow())
    assert proposal.status == "open" and count(db, CategoryFactor) == 2


def test_accepting_figures_already_in_use_with_that_source_is_refused_and_leaves_it_open(app, db, s):
    with app.app_context():
        proposal = propose(db, s, weight_kg=13, citation="Egen vägning")
        db.commit()
        add_factor_version(db, category=s["chair"], weight_kg=13, volume_m3=0.5, new_price_sek=4500, co2e_new_kg=100,
                           co2e_kind="production", source="Egen vägning", by_user_id=s["admin"].id, now=utcnow())
        db.commit()
        assert proposals.changed_since(db, proposal)
        with pytest.raises(DomainError):
            proposals.accept(db, proposal=proposal, by=s["admin"], now=utcnow())
        db.rollback()
    assert db.get(FigureProposal, proposal.id).status == "open"


# --- Telling the proposer ---------------------------------------------------------------

def test_the_proposer_is_told_of_the_decision_in_the_service_and_by_mail(app, db, s, mailbox):
    decided = [utcnow().replace(microsecond=0) - timedelta(hours=hours) for hours in (2, 1)]  # dated by the step
    with app.app_context():
        accepted = propose(db, s, co2e_new_kg=85, now=decided[0] - timedelta(hours=1))
        declined = propose(db, s, weight_kg=20, now=decided[0] - timedelta(hours=1))
        db.commit()
        proposals.accept(db, proposal=accepted, by=s["admin"], now=decided[0])
        db.commit()
        proposals.decline(db, proposal=declined, reason="Vikten gäller en annan modell", by=s["admin"], now=decided[1])
        db.commit()
    told = db.scalars(select(Notification).where(Notification.user_id == s["officer"].id)
                      .order_by(Notification.id)).all()
    assert [(n.user_id, n.url, n.created_at) for n in told] == [
        (s["officer"].id, f"/catalog/categories/proposals/{accepted.id}", decided[0]),
        (s["officer"].id, f"/catalog/categories/proposals/{declined.id}", decided[1])]
    assert told[0].params == {"category": "Kontorsstol", "version": 2}
    mails = sorted(mailbox.messages, key=lambda m: m.get_content())
    assert [m["To"] for m in mails] == [s["officer"].email] * 2
    assert {m["Subject"] for m in mails} == {"Delningstjänsten: ditt förslag till rättelse av värden är avgjort"}
    bodies = " ".join(m.get_content() for m in mails)
    assert "”Kontorsstol” är godkänt: version 2 används nu" in bodies
    assert "Vikten gäller en annan modell" in bodies
    assert f"http://delning.test/catalog/categories/proposals/{declined.id}" in bodies


def test_the_system_admins_are_told_in_the_service_that_a_proposal_waits(app, db, s, factory):
    both = factory.user(db.get(Municipality, s["admin"].municipality_id), Role.SUSTAINABILITY_OFFICER,
                        Role.SYSTEM_ADMIN)
    proposed = utcnow().replace(microsecond=0) - timedelta(hours=1)
    with app.app_context():
        theirs = propose(db, s, weight_kg=16, now=proposed)
        own = propose(db, s, by=both, weight_kg=17, now=proposed)  # not told of one's own
        db.commit()
    told = db.scalars(select(Notification).order_by(Notification.id)).all()
    assert {n.created_at for n in told} == {proposed}  # dated by the proposal, not by when it was told
    waiting = {(n.user_id, n.url) for n in told}
    theirs_url, own_url = (f"/catalog/categories/proposals/{p.id}" for p in (theirs, own))
    assert waiting == {(s["admin"].id, theirs_url), (s["second_admin"].id, theirs_url), (both.id, theirs_url),
                       (s["admin"].id, own_url), (s["second_admin"].id, own_url)}
    assert told[0].params == {"category": "Kontorsstol"}


# --- Personal data ----------------------------------------------------------------------

def test_the_proposals_are_in_the_proposer_s_extract_and_stay_after_their_erasure_without_their_name(app, db, s):
    name = s["officer"].name
    with app.app_context():
        mine = propose(db, s, weight_kg=14, reason=f"Vägd av {name} själv")
        theirs = propose(db, s, by=s["other_officer"], volume_m3=0.6, reason="Uppmätt")
        proposals.decline(db, proposal=mine, reason=f"Tack {name}, men vikten stämmer", by=s["admin"],
                          now=utcnow())
        db.commit()
        extract = personal_data.extract(db, user_id=s["officer"].id, now=utcnow())
        sections = {name: records for _, part in extract.parts for name, records in part.items()}
        assert [(p["id"], p["category"], p["figures"], p["status"]) for p in sections["figure_proposals"]] == [
            (mine.id, "Kontorsstol", {"weight_kg": 14}, "declined")]
        admin = db.get(type(s["admin"]), s["admin"].id)
        personal_data.erase_user(db, user=db.get(type(s["officer"]), s["officer"].id), by=admin, now=utcnow())
        db.commit()
    db.expire_all()
    kept = db.get(FigureProposal, mine.id)
    assert (kept.proposed_by_id, kept.weight_kg, kept.status) == (s["officer"].id, 14, "declined")  # anonymous now
    assert kept.reason == "Vägd av Borttagen användare själv"
    assert kept.decline_reason == "Tack Borttagen användare, men vikten stämmer"
    assert db.get(FigureProposal, theirs.id).reason == "Uppmätt"


# --- Pages ------------------------------------------------------------------------------

def test_an_officer_proposes_on_the_page_and_follows_it(client, auth, db, s):
    auth.login(s["officer"])
    chair = s["chair"]
    detail = client.get(f"/catalog/categories/{chair.id}").get_data(as_text=True)
    assert f'href="/catalog/categories/{chair.id}/propose"' in detail
    path = f"/catalog/categories/{chair.id}/propose"
    page = client.get(path).get_data(as_text=True)
    assert "Rekomo, EPD NEPD-467 (2016)" in page  # the figures in use, with their source
    token = csrf_token(client, path)
    refused = client.post(path, data={"csrf_token": token, "weight_kg": "-2", "citation": EPD,
                                      "reason": "Nyare"})
    assert refused.status_code == 200
    assert 'id="weight_kg-error"' in refused.get_data(as_text=True) and count(db, FigureProposal) == 0
    refused = client.post(path, data={"csrf_token": token, "weight_kg": "15", "citation": EPD, "reason": "Nyare"})
    assert "Ändra minst ett av dem" in refused.get_data(as_text=True) and count(db, FigureProposal) == 0
    refused = client.post(path, data={"csrf_token": token, "weight_kg": "12", "reason": "Nyare"})
    assert 'id="citation-error"' in refused.get_data(as_text=True) and count(db, FigureProposal) == 0

    response = client.post(path, data={"csrf_token": token, "co2e_new_kg": "85,5", "co2e_kind": "production",
                                       "citation": EPD, "url": EPD_URL, "reason": "Tillverkarens nya EPD"})
    proposal = db.scalars(select(FigureProposal)).one()
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/catalog/categories/proposals/{proposal.id}")
    assert (proposal.co2e_new_kg, proposal.proposed_by_id) == (85.5, s["officer"].id)
    page = client.get(f"/catalog/categories/proposals/{proposal.id}").get_data(as_text=True)
    assert "väntar på beslut" in page and EPD_URL in page and "Godkänn" not in page  # no way to decide it
    mine = client.get("/catalog/categories/proposals").get_data(as_text=True)
    assert "Dina förslag" in mine and f"/catalog/categories/proposals/{proposal.id}" in mine
    assert "Väntar på beslut (" not in mine  # not the admins' list


def test_a_system_admin_sees_the_count_and_accepts_or_declines_on_the_page(client, auth, db, s):
    with client.application.app_context():
        first = propose(db, s, co2e_new_kg=85, url=EPD_URL)
        second = propose(db, s, s["stool"], weight_kg=4)
        db.commit()
    auth.login(s["admin"])
    for path in ("/catalog/categories", f"/catalog/categories/{s['chair'].id}"):
        assert "2 föreslagna rättelser väntar på beslut" in client.get(path).get_data(as_text=True)
    listing = client.get("/catalog/categories/proposals").get_data(as_text=True)
    assert "Väntar på beslut (2)" in listing and "Olga Officer" in listing
    page = client.get(f"/catalog/categories/proposals/{first.id}").get_data(as_text=True)
    assert "Den nya versionen om förslaget godkänns" in page and "Godkänn som en ny version" in page

    token = csrf_token(client, "/catalog/categories/proposals")
    response = client.post(f"/catalog/categories/proposals/{first.id}/accept", data={"csrf_token": token})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Förslaget är godkänt: version 2 av värdena är sparad" in page
    assert current_factor(db, s["chair"].id).proposal_id == first.id
    # Deciding it again: told so, and nothing more is made.
    again = client.post(f"/catalog/categories/proposals/{first.id}/accept", data={"csrf_token": token},
                        follow_redirects=True)
    assert "Förslaget är redan avgjort" in again.get_data(as_text=True)
    assert client.post(f"/catalog/categories/proposals/{first.id}/decline",
                       data={"csrf_token": token, "reason": "Nej"}, follow_redirects=True).status_code == 200
    db.expire_all()
    assert [f.version for f in factor_versions(db, s["chair"].id)] == [2, 1]
    assert db.get(FigureProposal, first.id).status == "accepted"
    detail = client.get(f"/catalog/categories/{s['chair'].id}").get_data(as_text=True)
    assert f'href="/catalog/categories/proposals/{first.id}"' in detail  # the version names its proposal

    refused = client.post(f"/catalog/categories/proposals/{second.id}/decline",
                          data={"csrf_token": token, "reason": " "})
    assert refused.status_code == 200 and 'id="reason-error"' in refused.get_data(as_text=True)
    response = client.post(f"/catalog/categories/proposals/{second.id}/decline",
                           data={"csrf_token": token, "reason": "Pallen väger mer"})
    assert response.status_code == 302
    db.expire_all()
    assert (db.get(FigureProposal, second.id).status, count(db, CategoryFactor)) == ("declined", 3)
    assert "Inga förslag väntar på beslut" in client.get("/catalog/categories/proposals").get_data(as_text=True)


@pytest.mark.parametrize("role", ["employee", "municipality_admin"])
def test_other_roles_neither_propose_nor_decide_nor_read_proposals(client, auth, db, s, role):
    with client.application.app_context():
        proposal = propose(db, s, weight_kg=12)
        db.commit()
    auth.login(s[role])
    token = csrf_token(client, "/")
    assert client.get(f"/catalog/categories/{s['chair'].id}/propose").status_code == 403
    assert client.post(f"/catalog/categories/{s['chair'].id}/propose", data={
        "csrf_token": token, "weight_kg": "1", "citation": "Kapat", "reason": "Kapat"}).status_code == 403
    assert client.get("/catalog/categories/proposals").status_code == 403
    assert client.get(f"/catalog/categories/proposals/{proposal.id}").status_code == 403
    assert client.post(f"/catalog/categories/proposals/{proposal.id}/accept",
                       data={"csrf_token": token}).status_code == 403
    assert client.post(f"/catalog/categories/proposals/{proposal.id}/decline",
                       data={"csrf_token": token, "reason": "Nej"}).status_code == 403
    assert (count(db, FigureProposal), count(db, CategoryFactor)) == (1, 2)
    assert db.get(FigureProposal, proposal.id).status == "open"


def test_an_officer_may_neither_decide_nor_see_another_officer_s_proposal(client, auth, db, s):
    with client.application.app_context():
        proposal = propose(db, s, weight_kg=12)
        db.commit()
    auth.login(s["other_officer"])
    token = csrf_token(client, "/")
    assert client.get(f"/catalog/categories/proposals/{proposal.id}").status_code == 404
    assert client.post(f"/catalog/categories/proposals/{proposal.id}/accept",
                       data={"csrf_token": token}).status_code == 403
    assert f"/catalog/categories/proposals/{proposal.id}" not in client.get(
        "/catalog/categories/proposals").get_data(as_text=True)
    assert db.get(FigureProposal, proposal.id).status == "open"


def test_forms_without_a_csrf_token_are_refused(client, auth, db, s):
    with client.application.app_context():
        proposal = propose(db, s, weight_kg=12)
        db.commit()
    auth.login(s["officer"])
    assert client.post(f"/catalog/categories/{s['chair'].id}/propose", data={
        "weight_kg": "11", "citation": EPD, "reason": "Nyare"}).status_code == 400
    auth.logout()
    auth.login(s["admin"])
    assert client.post(f"/catalog/categories/proposals/{proposal.id}/accept").status_code == 400
    refused = client.post(f"/catalog/categories/proposals/{proposal.id}/decline", data={"reason": "Nej"})
    assert refused.status_code == 400
    assert count(db, FigureProposal) == 1 and db.get(FigureProposal, proposal.id).status == "open"


def test_many_admins_deciding_one_proposal_at_once_make_one_decision(app, db, s, tmp_path):
    """Through the app as production serves it (gunicorn, several processes): ten accepts and
    ten declines at once; exactly one wins, the others are told it is already decided."""
    with app.app_context():
        proposal = propose(db, s, co2e_new_kg=77)
        db.commit()
    with gunicorn(app.config["SHARING_DATABASE_URL"], tmp_path) as base:
        admins = []
        for admin in (s["admin"], s["second_admin"]) * 5:
            http = HttpClient(base)
            http.login(admin.email, PASSWORD)
            admins.append((http, http.csrf_token("/catalog/categories/proposals")))

        def decide(n):
            http, token = admins[n % len(admins)]
            if n % 2:
                return http.post(f"/catalog/categories/proposals/{proposal.id}/accept", {"csrf_token": token})
            return http.post(f"/catalog/categories/proposals/{proposal.id}/decline",
                             {"csrf_token": token, "reason": "Nej"})

        with ThreadPoolExecutor(20) as pool:
            answers = list(pool.map(decide, range(20)))
        assert {status for status, _ in answers} == {302}, answers
        pages = [admins[0][0].get(f"/catalog/categories/proposals/{proposal.id}")[1]]
    db.expire_all()
    decided = db.get(FigureProposal, proposal.id)
    made = factor_versions(db, s["chair"].id)
    if decided.status == "accepted":
        assert [f.version for f in made] == [2, 1] and made[0].proposal_id == proposal.id
    else:
        assert decided.status == "declined" and [f.version for f in made] == [1]
    assert db.scalar(select(func.count()).select_from(DomainEvent).where(
        DomainEvent.name.in_([events.FIGURES_PROPOSAL_ACCEPTED, events.FIGURES_PROPOSAL_DECLINED]))) == 1
    assert "väntar på beslut" not in pages[0]
