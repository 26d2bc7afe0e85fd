"""Retention: what people wrote and photographed about a request goes a year after it ended,
queue places go when they can never be told or a month after they ended; the facts the reports
need stay. The periods are the privacy page's."""

import io
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sharing.accounts.models import Role
from sharing.catalog.listings import rules as listings
from sharing.catalog.listings.models import Listing, ListingStatus
from sharing.catalog.photos.rules import PhotoStore, Upload
from sharing.clock import today_in_sweden, utcnow
from sharing.events import events_of
from sharing.jobs import schedule
from sharing.loans import events, retention
from sharing.loans.queue import rules as queue
from sharing.loans.queue.models import QueueEntry
from sharing.loans.requests import rules as loans
from sharing.loans.requests.models import HandoverMethod, LoanRequest, RequestKind, RequestMessage
from sharing.loans.requests.rules import RequestDetails
from tests.factories import jpeg_bytes

NOW = utcnow()
TODAY = today_in_sweden(NOW)
YEAR, MONTH = retention.REQUEST_TEXT_KEPT, retention.QUEUE_PLACE_KEPT


@pytest.fixture
def s(factory, app):
    ystad, skurup = factory.municipality("Ystad", "1286"), factory.municipality("Skurup", "1264")
    manager = factory.manager(ystad)
    site = factory.site(ystad)
    return {"manager": manager, "site": site, "store": PhotoStore.from_config(app.config),
            "chairs": factory.listing_published(site=site, by=manager, title="Stolar", quantity=4, lend=True),
            "tables": factory.listing_published(site=site, by=manager, title="Bord", quantity=1, lend=True),
            "skurup_site": factory.site(skurup, locality="Skurup"),
            "employee": factory.user(skurup, Role.EMPLOYEE, unit=factory.unit(skurup)),
            "other": factory.user(skurup, Role.EMPLOYEE, unit=factory.unit(skurup))}


def ask(db, s, *, listing="chairs", quantity=1, by="employee", first=TODAY, last=TODAY + timedelta(days=3)):
    return loans.ask(db, listing_id=s[listing].id, by=s[by], now=NOW, details=RequestDetails(
        kind=RequestKind.BORROW, quantity=quantity, first_day=first, last_day=last,
        delivery_site_id=s["skurup_site"].id, message="Till aulan, ring Eva på 0701-234567"))


def returned(db, s, *, close=True):
    request = ask(db, s)
    loans.approve(db, request, by=s["manager"], now=NOW)
    loans.hand_over(db, request, condition=None, method=HandoverMethod.PICKUP, by=s["manager"], now=NOW)
    loans.confirm(db, request, by=s["employee"], now=NOW)
    loans.post_message(db, request, body="Två stolar har fläckar", by=s["manager"], now=NOW)
    loans.take_back(db, request, condition=None, remarks="Lämnades av Eva", damage="Ett ben knäckt",
                    by=s["manager"], now=NOW, photo=Upload("skada.jpg", io.BytesIO(jpeg_bytes())), store=s["store"])
    if close:
        loans.confirm(db, request, by=s["employee"], now=NOW)
    db.commit()
    return request


def photo_files(s) -> list[Path]:
    root = s["store"].directory
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def forget(app, s, at):
    with app.app_context():
        return retention.forget_what_is_due(now=at, store=s["store"])


def test_a_request_s_texts_and_photo_go_a_year_after_it_ended_and_its_facts_stay(app, db, s):
    closed = returned(db, s)
    unconfirmed = returned(db, s, close=False)  # the borrower never confirmed the return
    declined = ask(db, s)
    loans.decline(db, declined, reason="Eva behöver dem själv", by=s["manager"], now=NOW)
    cancelled = ask(db, s)
    loans.cancel(db, cancelled, by=s["employee"], now=NOW)
    ongoing = ask(db, s, listing="tables", last=TODAY + timedelta(days=500))
    loans.approve(db, ongoing, by=s["manager"], now=NOW)
    loans.hand_over(db, ongoing, condition=None, method=HandoverMethod.PICKUP, by=s["manager"], now=NOW)
    db.commit()
    assert len(photo_files(s)) == 4  # two photos, two renditions each
    before = {request.id: (request.requester_id, request.listing_id, request.quantity, request.starts_at,
                           request.ends_at, request.handed_over_at, request.returned_at, request.status)
              for request in (closed, unconfirmed, declined, cancelled, ongoing)}

    assert forget(app, s, NOW + YEAR - timedelta(minutes=1)) == (0, 0)  # not a year yet
    assert len(photo_files(s)) == 4
    assert forget(app, s, NOW + YEAR + timedelta(minutes=1)) == (4, 0)
    db.expire_all()
    assert photo_files(s) == []
    for request in (closed, unconfirmed, declined, cancelled):
        kept = db.get(LoanRequest, request.id)
        assert (kept.return_remarks, kept.return_damage, kept.decline_reason, kept.return_photo_key,
                kept.return_photo_width) == ("", "", "", None, None)
        assert loans.thread(db, kept) == []
        assert (kept.requester_id, kept.listing_id, kept.quantity, kept.starts_at, kept.ends_at, kept.handed_over_at,
                kept.returned_at, kept.status) == before[request.id]
    # What is not over keeps its thread, however old.
    assert [m.body for m in loans.thread(db, db.get(LoanRequest, ongoing.id))] == [
        "Till aulan, ring Eva på 0701-234567"]
    # The trail stays whole: the steps, and that something was written.
    names = [event.name for event in events_of(db, subject_type=events.SUBJECT, subject_id=closed.id)]
    assert events.MESSAGE in names and events.RETURNED in names and events.CLOSED in names
    # The reason is gone from the declined event too, which says one was given.
    (event,) = [e for e in events_of(db, subject_type=events.SUBJECT, subject_id=declined.id)
                if e.name == events.DECLINED]
    assert (event.payload["reason"], event.payload["reason_given"], event.payload["quantity"]) == ("", True, 1)
    assert forget(app, s, NOW + YEAR + timedelta(days=1)) == (0, 0)  # nothing left to do


def test_a_reason_the_service_gave_stays_and_a_late_message_goes_too(app, db, s):
    request = ask(db, s)
    loans.withdraw_with_listing(db, listing_id=s["chairs"].id, now=NOW)
    db.commit()
    later = NOW + YEAR + timedelta(days=1)
    assert forget(app, s, later) == (1, 0)  # its message went
    db.expire_all()
    assert db.get(LoanRequest, request.id).decline_reason == loans.WITHDRAWN_REASON  # the service's words, no one's
    assert [e.payload["reason"] for e in events_of(db, subject_type=events.SUBJECT, subject_id=request.id)
            if e.name == events.DECLINED] == [loans.WITHDRAWN_REASON]
    loans.post_message(db, db.get(LoanRequest, request.id), body="Synd!", by=s["employee"], now=later)
    db.commit()
    assert forget(app, s, later) == (1, 0)
    assert db.scalar(select(func.count()).select_from(RequestMessage)) == 0


def test_queue_places_go_when_they_can_never_be_told_or_a_month_after_they_ended(app, db, s):
    ask(db, s, listing="tables", last=TODAY + timedelta(days=20))  # the table is booked out for three weeks
    ask(db, s, quantity=4, by="other", last=TODAY + timedelta(days=20))  # and the chairs
    db.commit()

    def join(user, listing, first=TODAY, last=TODAY + timedelta(days=5)):
        entry = queue.join(db, listing_id=s[listing].id, by=s[user], now=NOW,
                           wish=queue.Wish(quantity=1, first_day=first, last_day=last))
        db.commit()
        return entry

    waiting = join("employee", "chairs", last=TODAY + timedelta(days=60))
    left = join("other", "chairs", first=TODAY + timedelta(days=10), last=TODAY + timedelta(days=12))
    queue.leave(db, left, by=s["other"], now=NOW)
    short = join("other", "chairs", last=TODAY + timedelta(days=2))
    on_withdrawn = join("employee", "tables", first=TODAY + timedelta(days=3))
    listings.set_status(db, listing=db.get(Listing, s["tables"].id), to=ListingStatus.WITHDRAWN, by=s["manager"],
                        now=NOW)
    db.commit()

    # The next day: the withdrawn listing's place can never be told.
    assert forget(app, s, NOW + timedelta(days=1)) == (0, 1)
    db.expire_all()
    statuses = {entry.id: db.get(QueueEntry, entry.id).status for entry in (waiting, left, short, on_withdrawn)}
    assert statuses == {waiting.id: "waiting", left.id: "left", short.id: "waiting", on_withdrawn.id: "left"}
    why = [event.payload.get("why") for event in events_of(db, subject_type=events.QUEUE_SUBJECT,
                                                            subject_id=on_withdrawn.id)]
    assert why == [None, "listing_gone"]
    assert forget(app, s, NOW + timedelta(days=4)) == (0, 1)  # the short one's days are over
    assert [event.payload.get("why") for event in events_of(db, subject_type=events.QUEUE_SUBJECT,
                                                             subject_id=short.id)] == [None, "period_over"]
    # A month after they ended, they are deleted; the one still waiting stays.
    assert forget(app, s, NOW + MONTH - timedelta(hours=1)) == (0, 0)
    assert forget(app, s, NOW + timedelta(days=4) + MONTH + timedelta(hours=1)) == (0, 3)
    assert db.scalars(select(QueueEntry.id)).all() == [waiting.id]


def test_the_job_is_scheduled_daily_and_runs(app, db, s, runner):
    [job] = [job for job in schedule(app) if job.name == "loan-retention"]
    assert job.every == timedelta(days=1)
    returned(db, s)
    result = runner.invoke(args=["jobs", "once", "loan-retention"])
    assert result.exit_code == 0, result.output
    assert len(photo_files(s)) == 2  # ended today: kept a year


def test_the_request_s_page_says_how_long_its_messages_are_kept(db, s, client, auth):
    request = ask(db, s)
    db.commit()
    auth.login(s["employee"])
    page = client.get(f"/loans/{request.id}").get_data(as_text=True)
    assert (f"Meddelandena, anteckningarna från stegen och fotot vid återlämningen raderas "
            f"{YEAR.days} dagar efter att förfrågan har avslutats.") in page
