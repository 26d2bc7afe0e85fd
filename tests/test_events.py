"""Domain events: recorded with the change, dispatched once after its commit, never lost."""

import re
import subprocess
import sys
import textwrap
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from sharing import events
from sharing.access import SIGNED_IN
from sharing.accounts.models import Municipality, Role
from sharing.clock import utcnow
from sharing.db import db_session
from sharing.events import DomainEvent, EventDelivery
from tests.conftest import ROOT

HAPPENED = "test.thing.happened"


@pytest.fixture
def handled():
    """A receiver of HAPPENED that writes a municipality named in the event (a real effect, which
    commits with the delivery's mark or not at all); set ``fail`` to make it raise."""
    calls: list[int] = []

    class Receiver:
        fail = 0
        wait = 0.0

        def __call__(self, session, event):
            calls.append(event.id)
            time.sleep(self.wait)
            session.add(Municipality(name=event.payload["name"], code=str(event.id), slug=f"kommun-{event.id}"))
            session.flush()
            if self.fail:
                self.fail -= 1
                raise RuntimeError("the receiver's own trouble")

    receiver = Receiver()
    receiver.calls = calls
    events.add_receiver("test.make-municipality", [HAPPENED], receiver)
    yield receiver
    events.remove_receiver("test.make-municipality")


def record(session, name="Sjöbo"):
    return events.record(session, HAPPENED, subject_type="thing", subject_id=1, now=utcnow(), actor_id=7,
                         municipality_id=3, payload={"name": name})


def named(db, name):
    return db.scalar(select(func.count()).select_from(Municipality).where(Municipality.name == name))


def delivery(db):
    db.expire_all()
    return db.scalar(select(EventDelivery))


def test_an_event_is_kept_with_who_what_where_and_dispatched_after_commit(app, db, handled):
    with app.app_context():
        event = record(db)
        assert handled.calls == []  # not before the commit
        db.commit()
    assert handled.calls == [event.id]
    assert named(db, "Sjöbo") == 1
    kept = db.scalar(select(DomainEvent))
    assert (kept.name, kept.subject_type, kept.subject_id, kept.actor_id, kept.municipality_id, kept.payload) == (
        HAPPENED, "thing", 1, 7, 3, {"name": "Sjöbo"})
    assert delivery(db).done_at is not None and delivery(db).attempts == 1


def test_right_after_the_commit_the_deliveries_are_claimed_together_and_handled_without_reading_them(
        app, db, handled):
    """The recording process knows its event and its deliveries: they are handed the event as
    it reads back once committed (its payload as JSON), then claimed in one statement, and
    their work commits together. If one receiver fails, the others' work is kept all the same."""
    seen = []
    events.add_receiver("test.note-payload", [HAPPENED], lambda session, event: seen.append(event.payload))
    statements: list[str] = []

    def note(connection, cursor, statement, *args):
        statements.append(statement)

    engine = app.extensions["sharing.engine"]
    try:
        with app.app_context():
            events.record(db, HAPPENED, subject_type="thing", subject_id=1, now=utcnow(),
                          payload={"name": "Sjöbo", "pieces": (1, 2)})
            event.listen(engine, "before_cursor_execute", note)
            db.commit()
            event.remove(engine, "before_cursor_execute", note)
            assert len(handled.calls) == 1 and seen == [{"name": "Sjöbo", "pieces": [1, 2]}]
            assert [s.split()[0] for s in statements if "event_delivery" in s or "domain_event" in s] == ["UPDATE"]
            # The receivers' work first, the claim last: nothing is locked while they read.
            written = [re.match(r"(?:INSERT INTO|UPDATE) (\w+)", s).group(1) for s in statements
                       if not s.startswith("SELECT")]
            assert written.index("municipality") < written.index("event_delivery")
            db.expire_all()
            assert [d.done_at is not None for d in db.scalars(select(EventDelivery))] == [True, True]

            handled.fail = 2  # fails with the other, and once more on its own
            record(db, "Ystad")
            db.commit()
    finally:
        events.remove_receiver("test.note-payload")
    assert len(seen) == 2  # the other receiver's work is kept
    assert named(db, "Ystad") == 0 and len(handled.calls) == 3
    db.expire_all()
    failed = db.scalars(select(EventDelivery).where(EventDelivery.done_at.is_(None))).all()
    assert [(d.receiver, d.attempts, d.last_error) for d in failed] == [("test.make-municipality", 1, "RuntimeError")]


def test_an_event_recorded_in_a_transaction_that_rolls_back_never_was(app, db, handled):
    with app.app_context():
        record(db)
        db.rollback()
        assert events.dispatch_due(app.extensions["sharing.engine"], now=utcnow() + timedelta(days=1)) == 0
    assert handled.calls == []
    assert db.scalar(select(func.count()).select_from(DomainEvent)) == 0
    assert db.scalar(select(func.count()).select_from(EventDelivery)) == 0


def test_an_event_no_receiver_wants_is_kept_with_no_delivery(app, db, handled):
    with app.app_context():
        events.record(db, "test.nobody.listens", subject_type="thing", subject_id=None, now=utcnow())
        db.commit()
    assert db.scalar(select(func.count()).select_from(DomainEvent)) == 1
    assert db.scalar(select(func.count()).select_from(EventDelivery)) == 0


def test_a_failing_receiver_leaves_the_request_unharmed_and_is_retried_by_the_job(app, client, db, factory, auth,
                                                                                  handled, caplog):
    def change():
        db_session.add(Municipality(name="Tomelilla", code="1270", slug="tomelilla"))
        record(db_session)
        db_session.commit()
        return "saved"

    change.access = SIGNED_IN
    app.add_url_rule("/change", "change", change, methods=["POST"])
    app.config["WTF_CSRF_ENABLED"] = False
    auth.login(factory.user(factory.municipality(), Role.EMPLOYEE))
    handled.fail = 1

    response = client.post("/change")
    assert response.status_code == 200 and response.get_data(as_text=True) == "saved"
    assert named(db, "Tomelilla") == 1  # the request's own change stands
    assert named(db, "Sjöbo") == 0  # the receiver's work went with its failure
    assert "receiver test.make-municipality failed" in caplog.text
    failed = delivery(db)
    assert (failed.done_at, failed.attempts, failed.last_error) == (None, 1, "RuntimeError")
    assert "trouble" not in failed.last_error

    engine = app.extensions["sharing.engine"]
    with app.app_context():
        assert events.dispatch_due(engine, now=utcnow()) == 0  # it waits before trying again
        assert events.dispatch_due(engine, now=failed.due_at) == 1
        assert events.dispatch_due(engine, now=failed.due_at + timedelta(days=1)) == 0  # done: never again
    assert len(handled.calls) == 2 and named(db, "Sjöbo") == 1
    assert delivery(db).done_at is not None


def test_a_receiver_that_keeps_failing_waits_longer_each_time_and_is_never_dropped(app, db, handled):
    handled.fail = 5  # the dispatch right after the commit, then four runs of the job
    engine = app.extensions["sharing.engine"]
    with app.app_context():
        record(db)
        db.commit()
        due = [delivery(db).due_at]
        for _ in range(4):
            events.dispatch_due(engine, now=due[-1])
            due.append(delivery(db).due_at)
    assert [later - earlier for earlier, later in zip(due, due[1:])] == [
        timedelta(minutes=2), timedelta(minutes=4), timedelta(minutes=8), timedelta(minutes=16)]
    assert delivery(db).attempts == 5 and delivery(db).done_at is None
    with app.app_context():
        assert events.dispatch_due(engine, now=due[-1]) == 1  # it came right in the end
    assert delivery(db).attempts == 6


CRASH_AFTER_COMMIT = textwrap.dedent("""
    import os, sys
    from sharing import create_app, events, transactions
    from sharing.clock import utcnow
    from sharing.db import new_session

    app = create_app({"TESTING": True, "SHARING_DATABASE_URL": sys.argv[1]})
    events.add_receiver("test.make-municipality", ["test.thing.happened"], lambda session, event: None)
    with app.app_context(), new_session() as session:
        # Added before the event, so it runs first: the process dies between commit and dispatch.
        transactions.after_commit(session, lambda: os._exit(3))
        events.record(session, "test.thing.happened", subject_type="thing", subject_id=1, now=utcnow(),
                      payload={"name": "Sjöbo"})
        session.commit()
    sys.exit(0)
""")


def test_an_event_whose_process_died_before_dispatching_it_is_caught_up_once_by_the_job(app, db, handled):
    url = app.extensions["sharing.engine"].url.render_as_string(hide_password=False)
    died = subprocess.run([sys.executable, "-c", CRASH_AFTER_COMMIT, url], cwd=ROOT, capture_output=True,
                          timeout=120)
    assert died.returncode == 3, died.stderr.decode()
    assert db.scalar(select(func.count()).select_from(DomainEvent)) == 1  # committed, and not handled
    assert delivery(db).done_at is None and handled.calls == []

    engine = app.extensions["sharing.engine"]
    later = utcnow() + events.DISPATCH_GRACE
    with app.app_context():
        results = []

        def run_job():
            with app.app_context():
                results.append(events.dispatch_due(engine, now=later))

        jobs = [threading.Thread(target=run_job) for _ in range(2)]  # two runs at once (a second scheduler, say)
        handled.wait = 0.3
        for job in jobs:
            job.start()
        for job in jobs:
            job.join()
        assert events.dispatch_due(engine, now=later) == 0
    assert sorted(results) == [0, 1]
    assert len(handled.calls) == 1 and named(db, "Sjöbo") == 1


def test_outside_an_app_the_delivery_waits_for_the_job(app, db, handled):
    record(db, "Höör")  # a script's bare session: receivers need the app (links, mail)
    db.commit()
    assert handled.calls == [] and named(db, "Höör") == 0
    with app.app_context():
        events.dispatch_pending()  # the job, as the scheduler runs it
        assert handled.calls == []  # not yet due: the recording process may still dispatch it
        assert events.dispatch_due(app.extensions["sharing.engine"], now=utcnow() + events.DISPATCH_GRACE) == 1
    assert named(db, "Höör") == 1


def test_deliveries_to_a_receiver_no_longer_known_wait_without_holding_up_the_others(app, db, handled):
    events.add_receiver("test.gone", [HAPPENED], lambda session, event: None)
    record(db)  # outside an app: both deliveries wait for the job
    db.commit()
    events.remove_receiver("test.gone")  # renamed or removed since
    with app.app_context():
        later = utcnow() + events.DISPATCH_GRACE
        # Only one at a time: the unknown receiver's delivery (first by name and id) must not block.
        assert events.dispatch_due(app.extensions["sharing.engine"], now=later, limit=1) == 1
    assert len(handled.calls) == 1
    waiting = db.scalars(select(EventDelivery).where(EventDelivery.done_at.is_(None))).all()
    assert [delivery.receiver for delivery in waiting] == ["test.gone"]
