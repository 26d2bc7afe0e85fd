"""Reminders of a request's days, in Swedish days, each sent exactly once, and loans marked
overdue once: however often the job runs, and when two runs race on the same database."""

import threading
from datetime import date, datetime, time, timedelta, timezone

import pytest
from sqlalchemy import func, select

from sharing.accounts.mail_preferences import rules as preferences
from sharing.accounts.models import Notification, Role
from sharing.clock import SWEDEN
from sharing.events import DomainEvent, events_of
from sharing.loans import events, mail_kinds
from sharing.loans.reminders import rules as reminders
from sharing.loans.reminders import runner
from sharing.loans.reminders.models import LoanReminder
from sharing.loans.requests import rules as loans
from sharing.loans.requests.models import HandoverMethod, LoanRequest, RequestKind
from sharing.loans.requests.rules import RequestDetails
from sharing.mail import QueuedMail

FIRST, LAST = date(2027, 5, 10), date(2027, 5, 20)
DAY = timedelta(days=1)


def at(day, hour=8, minute=0):
    """An instant given in Swedish time, as the UTC instant the job is handed."""
    return datetime.combine(day, time(hour, minute), tzinfo=SWEDEN).astimezone(timezone.utc)


@pytest.fixture
def s(factory):
    ystad, skurup = factory.municipality("Ystad", "1286"), factory.municipality("Skurup", "1264")
    manager = factory.manager(ystad, name="Vera Vaktmästare")
    chairs = factory.listing_published(site=factory.site(ystad), by=manager, title="Konferensstolar", quantity=500,
                                       lend=True, give_away=True)
    employee = factory.user(skurup, Role.EMPLOYEE, unit=factory.unit(skurup, "Skurups skola"), name="Sam Skurup")
    return {"manager": manager, "second_manager": factory.manager(ystad), "chairs": chairs, "employee": employee,
            "skurup_site": factory.site(skurup, locality="Skurup"), "skurup_manager": factory.manager(skurup)}


def loan(db, s, first=FIRST, last=LAST, *, handed_over=True, confirmed=True, transport=False, quantity=1,
         kind=RequestKind.BORROW):
    """A request asked and approved ten days before its first day; handed over (and
    confirmed by the requester) on its first day at 10, unless told otherwise."""
    asked = at(first - 10 * DAY)
    request = loans.ask(db, listing_id=s["chairs"].id, by=s["employee"], now=asked, details=RequestDetails(
        kind=kind, quantity=quantity, first_day=first, last_day=last if kind == RequestKind.BORROW else None,
        delivery_site_id=s["skurup_site"].id, transport_needed=transport))
    loans.approve(db, request, by=s["manager"], now=asked)
    if handed_over:
        hand_over(db, s, request, at(first, 10), confirmed=confirmed)
    db.commit()
    return request


def hand_over(db, s, request, when, *, confirmed=True):
    loans.hand_over(db, request, condition=None, method=HandoverMethod.PICKUP, by=s["manager"], now=when)
    if confirmed:
        loans.confirm(db, request, by=s["employee"], now=when)
    db.commit()


def run(app, now):
    with app.app_context():
        return runner.send_reminders(now=now)


def sent(db, request):
    return reminders.sent(db, request.id)


def count(db, model, *where):
    return db.scalar(select(func.count()).select_from(model).where(*where))


def test_the_schedule_picks_its_swedish_days_and_each_reminder_goes_out_once(app, db, s, mailbox):
    request = loan(db, s, handed_over=False, transport=True)
    days = {}
    day = FIRST - 3 * DAY
    while day <= LAST + 9 * DAY:
        if day == FIRST:
            hand_over(db, s, request, at(FIRST, 7, 30))
        before = len(sent(db, request))
        for hour in (6, 8, 13, 22):  # the job runs all day; a day's reminders go out from 07:00
            run(app, at(day, hour))
        days[day] = sent(db, request)[before:]
        day += DAY
    assert {day: kinds for day, kinds in days.items() if kinds} == {
        FIRST - DAY: ["handover_soon"], LAST - 3 * DAY: ["due_soon"], LAST: ["due_today"],
        LAST + DAY: ["overdue_1"], LAST + 7 * DAY: ["overdue_7"]}
    # Both sides hear of the delivery; the requester of the loan's end; the owner's managers of
    # its being overdue too (the requester's own municipality's manager of none of it).
    told = db.execute(select(Notification.user_id, Notification.message).order_by(Notification.id)).all()
    to = {key: sorted(message for user_id, message in told if user_id == s[key].id)
          for key in ("employee", "manager", "second_manager", "skurup_manager")}
    assert len(to["employee"]) == 5 and len(to["manager"]) == 3 and to["manager"] == to["second_manager"]
    assert to["skurup_manager"] == []
    assert "“%(listing)s” is to be delivered to you tomorrow, %(day)s." in to["employee"]
    bodies = {message["To"]: [] for message in mailbox.messages}
    for message in mailbox.messages:
        bodies[message["To"]].append(message.get_content())
    assert len(bodies[s["employee"].email]) == 5 and len(bodies[s["manager"].email]) == 3
    assert any("”Konferensstolar” ska levereras till dig i morgon, 2027-05-10." in body
               for body in bodies[s["employee"].email])
    assert any("”Konferensstolar”, utlånad till Skurups skola, skulle ha lämnats tillbaka 2027-05-20" in body
               for body in bodies[s["manager"].email])
    assert "påminnelse om ”Konferensstolar”" in mailbox.messages[0]["Subject"]


def test_a_reminder_goes_out_on_its_swedish_day_from_seven_across_the_clock_changes(app, db, s):
    # Summer time begins on 28 March 2027 (02:00 becomes 03:00): 05:30 UTC is 06:30 the day
    # before, 07:30 that day.
    spring = loan(db, s, date(2027, 3, 20), date(2027, 3, 28))
    run(app, datetime(2027, 3, 27, 5, 30, tzinfo=timezone.utc))  # 06:30 in Sweden on the 27th
    assert sent(db, spring) == []
    run(app, datetime(2027, 3, 27, 6, 30, tzinfo=timezone.utc))  # 07:30 in Sweden
    assert sent(db, spring) == ["due_soon"]
    run(app, datetime(2027, 3, 28, 5, 30, tzinfo=timezone.utc))  # 07:30 in Sweden, summer time
    assert sent(db, spring) == ["due_soon", "due_today"]
    # Its last day ends at the Swedish midnight, 22:00 UTC in summer: overdue from then.
    run(app, datetime(2027, 3, 28, 21, 59, tzinfo=timezone.utc))
    db.expire_all()
    assert db.get(LoanRequest, spring.id).overdue_since is None
    run(app, datetime(2027, 3, 28, 22, 0, tzinfo=timezone.utc))
    db.expire_all()
    assert db.get(LoanRequest, spring.id).overdue_since == datetime(2027, 3, 28, 22, 0, tzinfo=timezone.utc)

    # Winter time returns on 31 October 2027 (03:00 becomes 02:00): 05:30 UTC is 06:30 then.
    autumn = loan(db, s, date(2027, 10, 25), date(2027, 10, 30))
    run(app, datetime(2027, 10, 30, 5, 30, tzinfo=timezone.utc))  # 07:30, still summer time
    assert sent(db, autumn) == ["due_today"]  # the due_soon days were never run here
    run(app, datetime(2027, 10, 31, 5, 30, tzinfo=timezone.utc))  # 06:30, winter time
    assert sent(db, autumn) == ["due_today"]
    run(app, datetime(2027, 10, 31, 6, 0, tzinfo=timezone.utc))  # 07:00
    assert sent(db, autumn) == ["due_today", "overdue_1"]


def test_a_handover_coming_or_unconfirmed_reminds_both_sides(app, db, s):
    recorded_late, never, half, whole = (loan(db, s, handed_over=False) for _ in range(4))
    taken = loan(db, s, handed_over=False, kind=RequestKind.TAKE_OVER)
    run(app, at(FIRST - DAY))
    for request in (recorded_late, never, half, whole, taken):
        assert sent(db, request) == ["handover_soon"]
    hand_over(db, s, half, at(FIRST, 10), confirmed=False)  # the requester never confirms
    hand_over(db, s, whole, at(FIRST, 10))
    run(app, at(FIRST, 12))
    hand_over(db, s, recorded_late, at(FIRST + DAY, 7, 30), confirmed=False)  # recorded the next morning
    run(app, at(FIRST + DAY))
    assert sent(db, never) == sent(db, half) == sent(db, taken) == ["handover_soon", "handover_unconfirmed"]
    assert sent(db, whole) == sent(db, recorded_late) == ["handover_soon"]  # the latter has a day to confirm
    run(app, at(FIRST + 2 * DAY))
    assert sent(db, recorded_late) == ["handover_soon", "handover_unconfirmed"]
    assert sent(db, whole) == ["handover_soon"]
    told = db.scalars(select(Notification.user_id).where(
        Notification.message.like("The handover of %"), Notification.url == f"/loans/{never.id}")).all()
    assert sorted(told) == sorted([s["employee"].id, s["manager"].id, s["second_manager"].id])


def test_each_reminder_goes_out_once_when_the_job_runs_twice(app, db, s, mailbox):
    requests = [loan(db, s, LAST - 5 * DAY, LAST) for _ in range(3)]
    assert run(app, at(LAST + DAY)) == 3
    assert run(app, at(LAST + DAY)) == 0
    assert run(app, at(LAST + DAY, 18)) == 0
    for request in requests:
        assert sent(db, request) == ["overdue_1"]
        assert count(db, Notification, Notification.url == f"/loans/{request.id}") == 3  # requester, two managers
    assert len(mailbox.messages) == 9
    assert count(db, QueuedMail) == 0  # all sent, none waiting


@pytest.mark.parametrize("rounds", [3])
def test_two_runs_racing_on_one_database_send_each_reminder_and_mark_each_loan_once(app, db, s, mailbox, rounds):
    overdue = [loan(db, s, LAST - 5 * DAY, LAST) for _ in range(6)]
    due = [loan(db, s, LAST, LAST + 3 * DAY) for _ in range(6)]  # due soon
    coming = [loan(db, s, LAST + 2 * DAY, LAST + 9 * DAY, handed_over=False) for _ in range(6)]  # tomorrow
    sent_by_runs = []
    for n in range(rounds):  # the same instant each round: later rounds find everything sent
        start = threading.Barrier(2)
        errors = []

        def race():
            try:
                start.wait(timeout=30)
                sent_by_runs.append(run(app, at(LAST + DAY, 8, n)))
            except Exception as error:  # noqa: BLE001 - reported by the test below
                errors.append(error)

        threads = [threading.Thread(target=race) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []
    assert sum(sent_by_runs) == 18 and len(sent_by_runs) == 2 * rounds
    for request, kind in [(r, "overdue_1") for r in overdue] + [(r, "due_soon") for r in due] + \
            [(r, "handover_soon") for r in coming]:
        assert sent(db, request) == [kind]
    assert count(db, LoanReminder) == 18
    # Overdue loans: three people each; loans due soon: the requester; coming ones: three.
    assert count(db, Notification) == 6 * 3 + 6 + 6 * 3
    assert len(mailbox.messages) == 6 * 3 + 6 + 6 * 3
    marked = db.scalars(select(DomainEvent.subject_id).where(DomainEvent.name == events.OVERDUE)).all()
    assert sorted(marked) == sorted(request.id for request in overdue)


def test_an_overdue_loan_is_marked_and_recorded_once_and_shown_as_late(app, db, s, client, auth):
    request = loan(db, s)
    on_time = loan(db, s)
    loans.take_back(db, on_time, condition=None, remarks="", damage="", by=s["manager"], now=at(LAST, 15))
    db.commit()
    run(app, at(LAST, 23, 59))
    db.expire_all()
    assert db.get(LoanRequest, request.id).overdue_since is None
    for _ in range(3):
        run(app, at(LAST + DAY, 0, 5))
        with app.app_context():
            assert loans.mark_overdue(db, now=at(LAST + 2 * DAY)) == []  # the rule itself, again
        db.rollback()
    db.expire_all()
    assert db.get(LoanRequest, request.id).overdue_since == at(LAST + DAY, 0, 0)
    assert db.get(LoanRequest, on_time.id).overdue_since is None
    names = [event.name for event in events_of(db, subject_type=events.SUBJECT, subject_id=request.id)]
    assert names.count(events.OVERDUE) == 1
    overdue_event = db.scalars(select(DomainEvent).where(DomainEvent.name == events.OVERDUE)).one()
    assert overdue_event.actor_id is None and overdue_event.payload["ends_at"] == at(LAST + DAY, 0).isoformat()

    auth.login(s["employee"])
    page = client.get("/loans/").get_data(as_text=True)
    assert page.count("Försenad") == 1
    assert "Försenad" in client.get(f"/loans/{request.id}").get_data(as_text=True)
    assert "Försenad" in client.get(f"/catalog/{s['chairs'].id}").get_data(as_text=True)

    # Extended past today, it is due again later, and no longer late.
    loans.extend(db, request, last_day=LAST + 10 * DAY, by=s["employee"], now=at(LAST + 2 * DAY))
    db.commit()
    assert request.overdue_since is None
    run(app, at(LAST + 3 * DAY))
    db.expire_all()
    assert db.get(LoanRequest, request.id).overdue_since is None


def test_a_user_who_turned_overdue_mails_off_is_reminded_in_the_service_only(app, db, s, mailbox):
    preferences.choose(db, s["employee"].id, mailed=[mail_kinds.DUE_SOON], now=at(FIRST))
    db.commit()
    request = loan(db, s)
    run(app, at(LAST))
    run(app, at(LAST + DAY))
    told = db.scalars(select(Notification.message).where(Notification.user_id == s["employee"].id)
                      .order_by(Notification.id)).all()
    assert told == ["The loan of “%(listing)s” ends today: please return it.",
                    "The loan of “%(listing)s” ended on %(day)s: please return it as soon as you can."]
    mailed = [m for m in mailbox.messages if m["To"] == s["employee"].email]
    assert len(mailed) == 1 and "slutar i dag" in mailed[0].get_content()
    assert sorted(m["To"] for m in mailbox.messages if m["To"] != s["employee"].email) == sorted(
        [s["manager"].email, s["second_manager"].email])  # the managers keep theirs on
    assert sent(db, request) == ["due_today", "overdue_1"]


def test_an_extended_loan_is_reminded_of_its_new_last_day_once(app, db, s, mailbox):
    request = loan(db, s)
    for day in (LAST - 3 * DAY, LAST, LAST + DAY):
        run(app, at(day))
    assert sent(db, request) == ["due_soon", "due_today", "overdue_1"]
    loans.extend(db, request, last_day=LAST + 10 * DAY, by=s["employee"], now=at(LAST + 2 * DAY))
    db.commit()
    for day in (LAST + 2 * DAY, LAST + 7 * DAY, LAST + 8 * DAY, LAST + 10 * DAY, LAST + 11 * DAY):
        for hour in (8, 8, 13):  # the job runs twice, and again later that day
            run(app, at(day, hour))
    assert sent(db, request) == ["due_soon", "due_today", "overdue_1", "due_soon", "due_today", "overdue_1"]
    days = db.execute(select(LoanReminder.kind, LoanReminder.day).where(LoanReminder.request_id == request.id)
                      .order_by(LoanReminder.id)).all()
    assert [day for _, day in days] == [LAST] * 3 + [LAST + 10 * DAY] * 3
    told = db.scalars(select(Notification.message).where(Notification.user_id == s["employee"].id)
                      .order_by(Notification.id)).all()
    assert told.count("The loan of “%(listing)s” ends today: please return it.") == 2
    assert any(f"slutar {(LAST + 10 * DAY).isoformat()}" in m.get_content() for m in mailbox.messages)


def test_runs_racing_after_an_extension_send_the_new_day_s_reminder_once(app, db, s):
    requests = [loan(db, s) for _ in range(4)]
    run(app, at(LAST - 3 * DAY))
    for request in requests:
        loans.extend(db, request, last_day=LAST + 7 * DAY, by=s["employee"], now=at(LAST - 2 * DAY))
    db.commit()
    start, counts, errors = threading.Barrier(3), [], []

    def race():
        try:
            start.wait(timeout=30)
            counts.append(run(app, at(LAST + 4 * DAY)))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=race) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == [] and sum(counts) == 4
    for request in requests:
        assert sent(db, request) == ["due_soon", "due_soon"]
