"""No double booking, whatever races: many requests at once for the last free pieces, two
managers approving one request, loans extended into the same free pieces, one user joining a
queue many times at once. Through the app as production serves it (gunicorn, several worker
processes), on SQLite and PostgreSQL alike."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from sharing.accounts.models import Role, Site
from sharing.catalog.holds import rules as holds
from sharing.catalog.holds.models import Hold
from sharing.catalog.listings.models import Listing
from sharing.clock import today_in_sweden, utcnow
from sharing.events import DomainEvent
from sharing.loans import events
from sharing.loans.queue.models import QueueEntry
from sharing.loans.requests import rules as loans
from sharing.loans.requests.models import HandoverMethod, LoanRequest, RequestKind
from sharing.loans.requests.rules import RequestDetails
from tests.factories import PASSWORD
from tests.servers import HttpClient, gunicorn

TODAY = today_in_sweden(utcnow())
FIRST, LAST = TODAY + timedelta(days=3), TODAY + timedelta(days=10)
ASKING = 50


@pytest.fixture
def s(factory):
    ystad, skurup = factory.municipality("Ystad", "1286"), factory.municipality("Skurup", "1264")
    manager = factory.manager(ystad)
    chairs = factory.listing_published(site=factory.site(ystad), by=manager, title="Stolar", quantity=24, lend=True)
    skurup_site = factory.site(skurup, locality="Skurup")
    employees = [factory.user(skurup, Role.EMPLOYEE, unit=factory.unit(skurup)) for _ in range(10)]
    return {"manager": manager, "second_manager": factory.manager(ystad), "chairs": chairs,
            "skurup_site": skurup_site, "employees": employees}


def borrow(s, quantity, first=FIRST, last=LAST):
    return RequestDetails(kind=RequestKind.BORROW, quantity=quantity, first_day=first, last_day=last,
                          delivery_site_id=s["skurup_site"].id)


def signed_in(base, users):
    clients = []
    for user in users:
        client = HttpClient(base)
        client.login(user.email, PASSWORD)
        clients.append((client, client.csrf_token("/loans/")))
    return clients


def test_fifty_requests_at_once_for_the_last_free_pieces_book_exactly_those(app, db, s, tmp_path):
    loans.ask(db, listing_id=s["chairs"].id, details=borrow(s, 20), by=s["employees"][0], now=utcnow())
    db.commit()  # 4 of 24 are free
    with gunicorn(app.config["SHARING_DATABASE_URL"], tmp_path) as base:
        clients = signed_in(base, s["employees"])

        def ask(n):
            client, token = clients[n % len(clients)]
            return client.post(f"/loans/ask/{s['chairs'].id}", {
                "csrf_token": token, "kind": "borrow", "quantity": 1, "first_day": FIRST.isoformat(),
                "last_day": LAST.isoformat(), "delivery_site_id": s["skurup_site"].id})

        with ThreadPoolExecutor(ASKING) as pool:
            answers = list(pool.map(ask, range(ASKING)))
    statuses = [status for status, _ in answers]
    assert statuses.count(302) == 4, statuses
    refused = [page for status, page in answers if status != 302]
    assert all(status == 422 for status in statuses if status != 302), statuses
    assert all("Inget exemplar är ledigt de dagarna." in page for page in refused)
    held = db.scalar(select(func.sum(Hold.quantity)).where(Hold.listing_id == s["chairs"].id,
                                                           Hold.released_at.is_(None)))
    assert held == 24
    assert db.scalar(select(func.count()).select_from(LoanRequest)) == 5


def test_two_managers_approving_at_once_approve_once(app, db, s, tmp_path):
    requests = [loans.ask(db, listing_id=s["chairs"].id, details=borrow(s, 1), by=s["employees"][n], now=utcnow())
                for n in range(5)]
    db.commit()
    with gunicorn(app.config["SHARING_DATABASE_URL"], tmp_path) as base:
        managers = signed_in(base, [s["manager"], s["second_manager"]] * 5)

        def approve(n):
            client, token = managers[n % len(managers)]
            return client.post(f"/loans/{requests[n // 10].id}/approve", {"csrf_token": token})

        with ThreadPoolExecutor(50) as pool:
            assert set(status for status, _ in pool.map(approve, range(50))) == {302}
    approvals = db.scalars(select(DomainEvent.subject_id).where(DomainEvent.name == events.APPROVED)).all()
    assert sorted(approvals) == sorted(request.id for request in requests)  # each approved once, not ten times


def test_loans_extended_at_once_into_the_same_free_pieces_get_them_once(app, db, s, tmp_path):
    """Six pieces are free after the loans' end; two loans of six each ask, ten times at once, to
    keep theirs longer: one of them may."""
    later = loans.ask(db, listing_id=s["chairs"].id, details=borrow(s, 18, LAST + timedelta(days=1),
                                                                   LAST + timedelta(days=5)),
                      by=s["employees"][9], now=utcnow())
    assert later.id
    short = []
    for n in range(2):
        made = loans.ask(db, listing_id=s["chairs"].id, details=borrow(s, 6), by=s["employees"][n], now=utcnow())
        loans.approve(db, made, by=s["manager"], now=utcnow())
        short.append(made)
    db.commit()
    with gunicorn(app.config["SHARING_DATABASE_URL"], tmp_path) as base:
        clients = signed_in(base, s["employees"][:2])

        def extend(n):
            client, token = clients[n % 2]
            return client.post(f"/loans/{short[n % 2].id}/extend",
                               {"csrf_token": token, "last_day": (LAST + timedelta(days=3)).isoformat()})

        with ThreadPoolExecutor(20) as pool:
            answers = [status for status, _ in pool.map(extend, range(20))]
    assert answers.count(302) == 1, answers  # the rest find it extended, or the pieces taken
    assert set(answers) == {302, 422}
    db.expire_all()
    assert sorted(db.get(LoanRequest, made.id).ends_at > holds.midnight(LAST + timedelta(days=1))
                  for made in short) == [False, True]
    after = holds.days(LAST + timedelta(days=1), LAST + timedelta(days=3))
    assert holds.free_pieces(db, s["chairs"], after, now=utcnow()) == 0


def test_a_loan_returned_while_it_is_extended_frees_its_pieces_from_the_return(app, db, s, tmp_path):
    """The borrower extends and the owner takes the pieces back, ten times each at once: either
    the return comes first and the extension is refused, or the extension and then the return;
    the pieces are free from the return on, whichever, and no answer is a server error."""
    made = loans.ask(db, listing_id=s["chairs"].id, details=borrow(s, 10, TODAY, TODAY + timedelta(days=2)),
                     by=s["employees"][0], now=utcnow())
    loans.approve(db, made, by=s["manager"], now=utcnow())
    loans.hand_over(db, made, condition=None, method=HandoverMethod.PICKUP, by=s["manager"], now=utcnow())
    db.commit()
    with gunicorn(app.config["SHARING_DATABASE_URL"], tmp_path) as base:
        borrower, owner = signed_in(base, [s["employees"][0], s["manager"]])

        def act(n):
            if n % 2:
                client, token = owner
                return client.post(f"/loans/{made.id}/return", {"csrf_token": token})
            client, token = borrower
            return client.post(f"/loans/{made.id}/extend",
                               {"csrf_token": token, "last_day": (TODAY + timedelta(days=20 + n)).isoformat()})

        with ThreadPoolExecutor(20) as pool:
            answers = [status for status, _ in pool.map(act, range(20))]
    assert 500 not in answers and answers.count(302) >= 1, answers
    db.expire_all()
    assert db.get(LoanRequest, made.id).status == "returned"
    held = db.get(Hold, made.hold_id)
    assert held.back_at is not None and held.ends_at <= utcnow()
    after = holds.days(TODAY + timedelta(days=3), TODAY + timedelta(days=30))
    assert holds.free_pieces(db, s["chairs"], after, now=utcnow()) == 24


def test_one_user_joining_a_queue_many_times_at_once_gets_one_place(app, db, s, tmp_path):
    """The same user, signed in eight times (two tabs, a double click, a retry), joins the queue
    for the same dates at once: one place is made, and the others are told, on the form, that
    they already have it."""
    loans.ask(db, listing_id=s["chairs"].id, details=borrow(s, 24), by=s["employees"][0], now=utcnow())
    db.commit()  # booked out: the queue is open
    waiter = s["employees"][1]
    with gunicorn(app.config["SHARING_DATABASE_URL"], tmp_path) as base:
        clients = signed_in(base, [waiter] * 8)

        def join(n):
            client, token = clients[n]
            return client.post(f"/loans/queue/join/{s['chairs'].id}", {
                "csrf_token": token, "queue-quantity": 2, "queue-first_day": FIRST.isoformat(),
                "queue-last_day": LAST.isoformat()})

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(join, range(8)))
        said = [client.get(f"/catalog/{s['chairs'].id}")[1] for client, _ in clients]
    assert sorted(status for status, _ in answers) == [302] + [422] * 7
    assert all("Du står redan i kön för de här datumen." in page for status, page in answers if status == 422)
    assert db.scalar(select(func.count()).select_from(QueueEntry).where(QueueEntry.user_id == waiter.id)) == 1
    assert sum("Du är nummer 1 i kön." in page for page in said) == 1


def test_the_last_pieces_handed_over_at_once_make_the_listing_on_loan_and_back_at_once_published(
        app, db, s, factory, tmp_path):
    """Six loans of one bench each, of six, handed over at once by two managers, then taken back
    at once: each counts the others' pieces (under the listing's lock), so the listing ends on
    loan, then published, whichever commits last."""
    benches = factory.listing_published(site=db.get(Site, s["chairs"].site_id), by=s["manager"], title="Bänkar",
                                        quantity=6, lend=True)
    made = []
    for n in range(6):
        now = utcnow()
        request = loans.ask(db, listing_id=benches.id, details=borrow(s, 1, today_in_sweden(now), LAST),
                            by=s["employees"][n], now=now)
        loans.approve(db, request, by=s["manager"], now=utcnow())
        made.append(request)
    db.commit()
    with gunicorn(app.config["SHARING_DATABASE_URL"], tmp_path) as base:
        managers = signed_in(base, [s["manager"], s["second_manager"]] * 3)

        def step(name, n, **fields):
            client, token = managers[n]
            return client.post(f"/loans/{made[n].id}/{name}", {"csrf_token": token, **fields})[0]

        with ThreadPoolExecutor(6) as pool:
            assert set(pool.map(lambda n: step("handover", n, method="pickup", condition=""), range(6))) == {302}
        db.expire_all()
        assert db.get(Listing, benches.id).status == "on_loan"
        with ThreadPoolExecutor(6) as pool:
            assert set(pool.map(lambda n: step("return", n, condition="", remarks="", damage=""), range(6))) == {302}
    db.expire_all()
    assert db.get(Listing, benches.id).status == "published"
    assert holds.pieces_out(db, benches.id) == 0
