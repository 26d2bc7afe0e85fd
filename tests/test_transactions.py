"""Transaction hooks: what runs before a commit, after it, or after a rollback, and only then."""

import pytest
from sqlalchemy import select, text, update

from sharing import transactions
from sharing.accounts.models import Municipality


def test_after_commit_runs_once_the_transaction_committed_and_never_after_a_rollback(db):
    ran = []
    db.add(Municipality(name="Sjöbo", code="1265", slug="sjobo"))
    transactions.after_commit(db, lambda: ran.append("committed"))
    transactions.after_rollback(db, lambda: ran.append("rolled back"))
    assert ran == []
    db.commit()
    assert ran == ["committed"]
    transactions.after_commit(db, lambda: ran.append("second commit"))
    transactions.after_rollback(db, lambda: ran.append("second rollback"))
    db.rollback()
    db.commit()  # the hooks went with the transaction they were added in
    assert ran == ["committed", "second rollback"]


def test_after_rollback_also_runs_when_the_session_is_closed_without_committing(db):
    ran = []
    db.scalar(select(Municipality.id))
    transactions.after_rollback(db, lambda: ran.append("closed"))
    db.close()
    assert ran == ["closed"]


def test_a_released_savepoint_is_no_commit(db):
    ran = []
    db.add(Municipality(name="Sjöbo", code="1265", slug="sjobo"))
    transactions.after_commit(db, lambda: ran.append("committed"))
    with db.begin_nested():
        db.add(Municipality(name="Tomelilla", code="1270", slug="tomelilla"))
    assert ran == []
    db.commit()
    assert ran == ["committed"]


def test_a_key_keeps_a_hook_to_once_a_transaction(db):
    ran = []
    for n in range(3):
        transactions.after_commit(db, lambda n=n: ran.append(n), key="once")
    db.add(Municipality(name="Sjöbo", code="1265", slug="sjobo"))
    db.commit()
    assert ran == [0]


def test_a_failing_hook_is_logged_and_the_others_still_run(db, caplog):
    ran = []
    transactions.after_commit(db, lambda: 1 / 0)
    transactions.after_commit(db, lambda: ran.append("next"))
    db.add(Municipality(name="Sjöbo", code="1265", slug="sjobo"))
    db.commit()
    assert ran == ["next"]
    assert "a hook to run after commit failed" in caplog.text
    assert db.scalar(select(Municipality.name).where(Municipality.code == "1265")) == "Sjöbo"


def test_before_commit_hooks_write_in_the_committing_transaction(db):
    def rename(session):
        session.execute(update(Municipality).where(Municipality.code == "1265").values(name="Sjöbo kommun"))

    db.add(Municipality(name="Sjöbo", code="1265", slug="sjobo"))
    transactions.before_commit(db, rename)
    db.commit()
    assert db.scalar(select(Municipality.name).where(Municipality.code == "1265")) == "Sjöbo kommun"


def test_a_watch_sees_every_kind_of_write_to_its_tables_and_no_other(db):
    seen = []
    transactions.when_written({"municipality"}, lambda session: seen.append(transactions.tables_written(session)),
                              key="test.watch")
    try:
        db.add(Municipality(name="Sjöbo", code="1265", slug="sjobo"))  # an ORM flush
        db.commit()
        db.execute(update(Municipality).values(active=False))  # a Core statement
        db.commit()
        db.execute(text("UPDATE municipality SET active = true"))  # raw text, named by hand
        transactions.note_write(db.connection(), "municipality")
        db.commit()
        db.scalar(select(Municipality.id))  # a read
        db.commit()
        assert len(seen) == 3 and all("municipality" in written for written in seen)
    finally:
        transactions.unwatch("test.watch")


def test_only_a_transaction_that_read_and_holds_nothing_is_taken_for_read_only(db):
    db.scalar(select(Municipality.id))
    assert transactions.only_read(db)
    transactions.after_commit(db, lambda: None)
    assert not transactions.only_read(db)
    db.rollback()
    db.execute(update(Municipality).values(active=True))
    assert not transactions.only_read(db)


def test_a_savepoint_rolled_back_takes_its_hooks_with_it_and_a_released_one_passes_them_on(db):
    ran = []
    db.add(Municipality(name="Sjöbo", code="1265", slug="sjobo"))
    db.flush()
    with pytest.raises(RuntimeError):
        with db.begin_nested():  # a try around a step that may fail, say
            transactions.after_commit(db, lambda: ran.append("inside the failed step, committed"))
            transactions.after_rollback(db, lambda: ran.append("inside the failed step, rolled back"))
            raise RuntimeError("the step failed")
    assert ran == ["inside the failed step, rolled back"]
    with db.begin_nested():
        transactions.after_commit(db, lambda: ran.append("inside the released step, committed"))
    assert ran == ["inside the failed step, rolled back"]
    db.commit()
    assert ran == ["inside the failed step, rolled back", "inside the released step, committed"]
