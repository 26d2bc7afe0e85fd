"""The queue for a listing: joining when too few pieces are free, leaving, and the next in line
told (once, in the service and by mail, a real SMTP server) when pieces come free."""

from datetime import timedelta

import pytest
from flask import template_rendered
from sqlalchemy import select
from sqlmodel import Session

from sharing.accounts.models import Notification, Role, Site
from sharing.clock import today_in_sweden, utcnow
from sharing.errors import DomainError, NotVisible
from sharing.events import events_of
from sharing.loans import events
from sharing.loans.queue import rules as queue
from sharing.loans.queue.models import QueueEntry
from sharing.loans.requests import rules as loans
from sharing.loans.requests.models import HandoverMethod, RequestKind
from sharing.loans.requests.rules import RequestDetails
from tests.conftest import csrf_token

TODAY = today_in_sweden(utcnow())
FIRST, LAST = TODAY + timedelta(days=2), TODAY + timedelta(days=15)


@pytest.fixture
def s(factory):
    ystad, skurup = factory.municipality("Ystad", "1286"), factory.municipality("Skurup", "1264")
    manager = factory.manager(ystad, name="Vera Vaktmästare")
    chairs = factory.listing_published(site=factory.site(ystad), by=manager, title="Konferensstolar", quantity=24,
                                       lend=True)
    unit = factory.unit(skurup, "Skurups skola, kök")
    return {"manager": manager, "chairs": chairs, "skurup_site": factory.site(skurup, locality="Skurup"),
            "holder": factory.user(skurup, Role.EMPLOYEE, unit=unit, name="Hanna Hållare"),
            "first": factory.user(skurup, Role.EMPLOYEE, unit=unit, name="Frida Första"),
            "second": factory.user(skurup, Role.EMPLOYEE, unit=unit, name="Sven Sekund"),
            "skurup_manager": factory.manager(skurup)}


def ask(db, s, user, quantity, first=FIRST, last=LAST):
    made = loans.ask(db, listing_id=s["chairs"].id, by=user, now=utcnow(), details=RequestDetails(
        kind=RequestKind.BORROW, quantity=quantity, first_day=first, last_day=last,
        delivery_site_id=s["skurup_site"].id))
    db.commit()
    return made


def join(db, s, user, quantity, first=FIRST, last=LAST):
    entry = queue.join(db, listing_id=s["chairs"].id, by=user, now=utcnow(),
                       wish=queue.Wish(quantity=quantity, first_day=first, last_day=last))
    db.commit()
    return entry


def status_of(db, entry):
    db.expire_all()
    return db.get(QueueEntry, entry.id).status


def told_mail(mailbox, user):
    return [m for m in mailbox.messages
            if m["To"] == user.email and "det du köar för har blivit ledigt" in m["Subject"]]


def test_joining_when_nothing_is_free_gives_a_place_in_line(db, s):
    with pytest.raises(DomainError, match="Enough pieces are free"):
        join(db, s, s["first"], 6)  # nothing is booked yet: ask instead
    db.rollback()
    ask(db, s, s["holder"], 24)
    first = join(db, s, s["first"], 6, last=FIRST + timedelta(days=3))
    second = join(db, s, s["second"], 2, first=LAST, last=LAST + timedelta(days=3))  # booked out on its first day
    assert (first.status, first.unit_id, first.municipality_id) == ("waiting", s["first"].unit_id,
                                                                     s["first"].municipality_id)
    assert [queue.position(db, first), queue.position(db, second)] == [1, 2]
    assert queue.waiting_count(db, listing_id=s["chairs"].id) == 2
    with pytest.raises(DomainError, match="already in the queue"):  # one waiting entry per overlapping period
        join(db, s, s["first"], 3, first=FIRST + timedelta(days=3), last=LAST)
    db.rollback()
    with pytest.raises(DomainError, match="only 24 pieces"):
        join(db, s, s["second"], 25, first=FIRST + timedelta(days=1))
    db.rollback()
    with pytest.raises(DomainError, match="two years ahead"):
        join(db, s, s["second"], 2, first=FIRST, last=FIRST + timedelta(days=800))
    db.rollback()
    later = join(db, s, s["first"], 6, first=FIRST + timedelta(days=4), last=LAST)
    assert later.status == "waiting"  # no overlap: a second place, for other dates
    assert [e.name for e in events_of(db, subject_type=events.QUEUE_SUBJECT, subject_id=first.id)] == [
        events.QUEUE_JOINED]


def test_the_first_in_line_is_told_once_when_a_request_is_declined_the_second_not_while_too_few_are_free(
        app, db, s, mailbox):
    holding = ask(db, s, s["holder"], 24)
    first, second = join(db, s, s["first"], 20), join(db, s, s["second"], 10)
    with app.app_context():
        loans.decline(db, holding, reason="Behövs själva", by=s["manager"], now=utcnow())
        db.commit()  # 24 free: the first (20) is told; the 4 left are too few for the second (10)
    assert (status_of(db, first), status_of(db, second)) == ("told", "waiting")
    assert db.get(QueueEntry, first.id).told_at is not None
    notices = db.scalars(select(Notification).where(Notification.user_id == s["first"].id)).all()
    assert len(notices) == 1 and notices[0].url == f"/catalog/{s['chairs'].id}"
    assert db.scalars(select(Notification).where(Notification.user_id == s["second"].id)).all() == []
    [mail] = told_mail(mailbox, s["first"])
    body = mail.get_content()
    assert "”Konferensstolar” har blivit lediga" in body and "inte bokade åt dig" in body
    assert mailbox.link(mail) == f"http://delning.test/catalog/{s['chairs'].id}"
    assert told_mail(mailbox, s["second"]) == []


def test_nobody_is_told_twice_when_two_releases_happen(app, db, s, mailbox):
    a, b = ask(db, s, s["holder"], 12), ask(db, s, s["holder"], 12)
    first = join(db, s, s["first"], 6)
    with app.app_context():
        loans.cancel(db, a, by=s["holder"], now=utcnow())
        db.commit()
        loans.cancel(db, b, by=s["holder"], now=utcnow())
        db.commit()
    assert status_of(db, first) == "told"
    assert len(told_mail(mailbox, s["first"])) == 1
    assert len(db.scalars(select(Notification).where(Notification.user_id == s["first"].id)).all()) == 1
    assert [e.name for e in events_of(db, subject_type=events.QUEUE_SUBJECT, subject_id=first.id)] == [
        events.QUEUE_JOINED, events.QUEUE_TOLD]


def test_two_tellers_at_once_mark_an_entry_told_only_once(app, db, s):
    ask(db, s, s["holder"], 24)
    entry = join(db, s, s["first"], 6)
    with Session(bind=app.extensions["sharing.engine"], expire_on_commit=False) as other:
        seen_by_other = other.get(QueueEntry, entry.id)  # both read it waiting
        assert seen_by_other.status == "waiting"
        assert queue.mark_told(db, db.get(QueueEntry, entry.id), now=utcnow())
        db.commit()
        assert not queue.mark_told(other, seen_by_other, now=utcnow())  # the compare-and-set finds it told
        other.commit()
    assert len(events_of(db, subject_type=events.QUEUE_SUBJECT, subject_id=entry.id)) == 2  # joined, told once


def test_a_loan_returned_early_tells_the_next_and_asking_then_leaves_the_queue(app, db, s, mailbox):
    loan = ask(db, s, s["holder"], 24, first=today_in_sweden(utcnow()), last=LAST)  # today, as the rules see it
    entry = join(db, s, s["first"], 24, first=FIRST, last=FIRST + timedelta(days=2))
    with app.app_context():
        loans.approve(db, loan, by=s["manager"], now=utcnow())
        loans.hand_over(db, loan, condition=None, method=HandoverMethod.PICKUP, by=s["manager"], now=utcnow())
        loans.take_back(db, loan, condition=None, remarks="", damage="", by=s["manager"], now=utcnow())
        db.commit()
    assert status_of(db, entry) == "told" and len(told_mail(mailbox, s["first"])) == 1
    with app.app_context():
        ask(db, s, s["first"], 24, first=FIRST, last=FIRST + timedelta(days=2))
    assert status_of(db, entry) == "left"


def test_leaving_the_queue_moves_the_next_up_and_only_one_s_own_entry_can_be_left(db, s):
    ask(db, s, s["holder"], 24)
    first, second = join(db, s, s["first"], 6), join(db, s, s["second"], 6)
    with pytest.raises(NotVisible):
        queue.leave(db, first, by=s["second"], now=utcnow())
    with pytest.raises(NotVisible):
        queue.entry_to_see(db, s["second"], first.id)
    queue.leave(db, first, by=s["first"], now=utcnow())
    db.commit()
    assert (status_of(db, first), queue.position(db, db.get(QueueEntry, second.id))) == ("left", 1)
    with pytest.raises(DomainError, match="no longer in this queue"):
        queue.leave(db, db.get(QueueEntry, first.id), by=s["first"], now=utcnow())


# --- Through the pages ---------------------------------------------------------------------

def ask_page(client, s, quantity):
    return client.post(f"/loans/ask/{s['chairs'].id}", data={
        "csrf_token": csrf_token(client, f"/catalog/{s['chairs'].id}"), "kind": "borrow", "quantity": quantity,
        "first_day": FIRST.isoformat(), "last_day": LAST.isoformat(), "delivery_site_id": s["skurup_site"].id})


def test_a_refused_request_offers_the_queue_and_the_user_joins_sees_and_leaves_it(client, auth, db, s):
    ask(db, s, s["holder"], 20)
    auth.login(s["first"])
    refused = ask_page(client, s, 6)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "exemplar är lediga de dagarna" in page
    assert "Ställ dig i kön" in page and f'action="/loans/queue/join/{s["chairs"].id}"' in page
    joined = client.post(f"/loans/queue/join/{s['chairs'].id}", data={
        "csrf_token": csrf_token(client, f"/catalog/{s['chairs'].id}"), "queue-quantity": 6,
        "queue-first_day": FIRST.isoformat(), "queue-last_day": LAST.isoformat()}, follow_redirects=True)
    assert joined.status_code == 200 and "Du är nummer 1 i kön" in joined.get_data(as_text=True)
    entry = db.scalars(select(QueueEntry).where(QueueEntry.user_id == s["first"].id)).one()
    assert (entry.quantity, entry.first_day, entry.last_day, entry.status) == (6, FIRST, LAST, "waiting")

    listing_page = client.get(f"/catalog/{s['chairs'].id}").get_data(as_text=True)
    assert "Dina platser i kön" in listing_page and "nummer 1 i kön" in listing_page
    assert "väntar i kön" not in listing_page  # the count is for the owner's facility managers
    mine = client.get("/loans/queue/")
    assert mine.status_code == 200 and "Dina köplatser" in mine.get_data(as_text=True)
    assert "Konferensstolar" in mine.get_data(as_text=True)
    assert 'href="/loans/queue/"' in client.get("/loans/").get_data(as_text=True)

    left = client.post(f"/loans/queue/{entry.id}/leave", data={"csrf_token": csrf_token(client, "/loans/queue/")},
                       follow_redirects=True)
    assert left.status_code == 200 and "Du har lämnat kön" in left.get_data(as_text=True)
    assert "Du står inte i någon kö" in left.get_data(as_text=True)
    assert status_of(db, entry) == "left"


def test_the_listing_page_offers_the_queue_when_booked_out_and_managers_see_only_a_count(client, auth, db, s):
    auth.login(s["first"])
    assert "Ställ dig i kön" not in client.get(f"/catalog/{s['chairs'].id}").get_data(as_text=True)
    ask(db, s, s["holder"], 24)
    page = client.get(f"/catalog/{s['chairs'].id}").get_data(as_text=True)
    assert "Ställ dig i kön" in page and 'id="queue-first_day"' in page
    refused = client.post(f"/loans/queue/join/{s['chairs'].id}", data={
        "csrf_token": csrf_token(client, f"/catalog/{s['chairs'].id}"), "queue-quantity": 6,
        "queue-first_day": (LAST + timedelta(days=1)).isoformat(),
        "queue-last_day": (LAST + timedelta(days=2)).isoformat()})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "error-summary" in page  # the form again, with what was asked
    assert "Det finns tillräckligt många lediga exemplar" in page
    assert f'value="{(LAST + timedelta(days=1)).isoformat()}"' in page
    # A loan's last day left out: told at that field, whose help never says "empty for good" of a
    # listing that is only lent.
    refused = client.post(f"/loans/queue/join/{s['chairs'].id}", data={
        "csrf_token": csrf_token(client, f"/catalog/{s['chairs'].id}"), "queue-quantity": 6,
        "queue-first_day": (LAST - timedelta(days=1)).isoformat()})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="queue-last_day-error"' in page
    assert "Lämna tomt" not in page and "Lånets sista dag." in page
    join(db, s, s["first"], 6)
    join(db, s, s["second"], 6)
    auth.logout()
    auth.login(s["manager"])
    page = client.get(f"/catalog/{s['chairs'].id}").get_data(as_text=True)
    assert "2 väntar i kön för den här annonsen" in page
    assert "Frida" not in page and "Sven" not in page  # a count, never who
    auth.logout()
    auth.login(s["skurup_manager"])  # another municipality's facility manager: no count
    assert "väntar i kön" not in client.get(f"/catalog/{s['chairs'].id}").get_data(as_text=True)


def test_the_blank_join_form_is_rendered_once_for_listings_alike(app, client, auth, db, factory, s):
    tables = factory.listing_published(site=db.get(Site, s["chairs"].site_id), by=s["manager"], title="Bord",
                                       quantity=2, lend=True)
    ask(db, s, s["holder"], 24)
    made = loans.ask(db, listing_id=tables.id, by=s["holder"], now=utcnow(), details=RequestDetails(
        kind=RequestKind.BORROW, quantity=2, first_day=FIRST, last_day=LAST, delivery_site_id=s["skurup_site"].id))
    db.commit()
    assert made.status == "requested"
    rendered: list[str] = []
    auth.login(s["first"])
    with template_rendered.connected_to(lambda sender, template, context, **extra: rendered.append(template.name),
                                        app):
        pages = [client.get(f"/catalog/{listing.id}").get_data(as_text=True) for listing in (s["chairs"], tables)]
    assert all("Ställ dig i kön" in page and 'id="queue-first_day"' in page for page in pages)
    assert f'action="/loans/queue/join/{tables.id}"' in pages[1] and 'name="queue-csrf_token"' in pages[1]
    assert rendered.count("loans/_queue_join_fields.html") == 1


def test_someone_else_s_queue_entry_is_not_found(client, auth, db, s):
    ask(db, s, s["holder"], 24)
    entry = join(db, s, s["first"], 6)
    auth.login(s["second"])
    response = client.post(f"/loans/queue/{entry.id}/leave", data={"csrf_token": csrf_token(client, "/loans/queue/")})
    assert response.status_code == 404
    assert status_of(db, entry) == "waiting"

