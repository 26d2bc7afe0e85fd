"""How a request's transaction ends: what a request changed without committing is rolled back,
and a transaction that only read is committed (so PostgreSQL keeps its prepared statements)."""

import pytest
from sqlalchemy import column, event, func, select, table, text, update

from sharing import transactions
from sharing.access import PUBLIC
from sharing.accounts.models import Municipality
from sharing.db import db_session, request_session


@pytest.fixture
def endings(app):
    """Each transaction's ending on the app's engine, in order."""
    seen: list[str] = []
    engine = app.extensions["sharing.engine"]
    commit, rollback = (lambda _connection: seen.append("commit")), (lambda _connection: seen.append("rollback"))
    event.listen(engine, "commit", commit)
    event.listen(engine, "rollback", rollback)
    yield seen
    event.remove(engine, "commit", commit)
    event.remove(engine, "rollback", rollback)


def route(app, path, view):
    view.access = PUBLIC
    app.add_url_rule(path, path.strip("/"), view)


def municipality_named(db, name):
    return db.scalar(select(Municipality).where(Municipality.name == name))


@pytest.mark.parametrize("how", ["flushed", "pending", "raw sql", "failed flush"])
def test_what_a_request_did_not_commit_is_rolled_back(app, client, db, endings, how):
    def change():
        if how == "raw sql":
            db_session.execute(text("INSERT INTO municipality (name, code, slug, active, created_at) "
                                    "VALUES ('Sjöbo', '1265', 'sjobo', true, CURRENT_TIMESTAMP)"))
            return "ok"
        db_session.add(Municipality(name="Sjöbo", code="1265", slug="sjobo"))
        if how == "failed flush":
            db_session.add(Municipality(name="Utan kod"))  # refused by the database
        if how != "pending":
            db_session.flush()
        return "ok"

    route(app, "/changes-without-commit", change)
    assert client.get("/changes-without-commit").status_code == (500 if how == "failed flush" else 200)
    assert municipality_named(db, "Sjöbo") is None
    assert "commit" not in endings


def test_a_request_that_only_read_commits(app, client, endings):
    def read():
        return str(db_session.scalar(select(func.count()).select_from(Municipality)))

    route(app, "/only-reads", read)
    assert client.get("/only-reads").status_code == 200
    assert endings == ["commit"]


def test_postgresql_keeps_prepared_statements_across_requests(app, client):
    if app.extensions["sharing.engine"].dialect.name != "postgresql":
        pytest.skip("prepared statements are psycopg's")
    prepared = table("pg_prepared_statements", column("name"))

    def count_prepared():
        db_session.execute(select(Municipality.id).limit(1)).all()
        return str(db_session.scalar(select(func.count()).select_from(prepared)))

    route(app, "/prepared", count_prepared)
    counts = [int(client.get("/prepared").get_data(as_text=True)) for _ in range(8)]
    assert counts[-1] >= 1  # psycopg prepares a statement on its fifth run


def test_a_session_holding_a_domain_s_pending_work_is_rolled_back(app, client, endings):
    rolled_back = []

    def read_with_work_pending():  # as photos removes the files it wrote unless they are committed
        db_session.scalar(select(func.count()).select_from(Municipality))
        transactions.after_rollback(db_session, lambda: rolled_back.append("a.jpg"))
        return "ok"

    route(app, "/pending-work", read_with_work_pending)
    assert client.get("/pending-work").status_code == 200
    assert "commit" not in endings
    assert rolled_back == ["a.jpg"]


def test_a_select_that_writes_in_its_with_clause_is_rolled_back(app, client, db, factory, endings):
    if app.extensions["sharing.engine"].dialect.name != "postgresql":
        pytest.skip("SQLite allows no INSERT, UPDATE or DELETE in a WITH clause")
    factory.municipality("Ystad")
    endings.clear()
    renamed = update(Municipality).where(Municipality.name == "Ystad").values(name="Ystad (ändrad)") \
        .returning(Municipality.id).cte("renamed")

    def select_that_writes():
        return str(db_session.execute(select(renamed.c.id)).all())

    route(app, "/select-that-writes", select_that_writes)
    assert client.get("/select-that-writes").status_code == 200
    assert municipality_named(db, "Ystad (ändrad)") is None
    assert "commit" not in endings


def test_a_session_that_ran_no_sql_takes_no_connection_to_close(app, client, endings):
    checkouts = []
    engine = app.extensions["sharing.engine"]
    count = lambda *_args: checkouts.append(1)  # noqa: E731
    event.listen(engine, "checkout", count)

    def begin_without_sql():  # add and take back: the session's transaction begins, no SQL runs
        municipality = Municipality(name="Sjöbo", code="1265", slug="sjobo")
        db_session.add(municipality)
        db_session.expunge(municipality)
        return "ok"

    route(app, "/no-sql", begin_without_sql)
    try:
        assert client.get("/no-sql").status_code == 200
    finally:
        event.remove(engine, "checkout", count)
    assert checkouts == [] and endings == []



@pytest.mark.parametrize("then", ["commit", "rollback"])
def test_a_held_commit_only_flushes_until_the_holder_commits(app, client, db, then):
    """What the Idempotency-Key needs: the view's work and its answer committed as one."""
    seen = {}

    def change():
        session = request_session()
        session.hold_commits()
        db_session.add(Municipality(name="Sjöbo", code="1265", slug="sjobo"))
        db_session.commit()  # what a view does: here it only flushes
        seen["id"] = municipality_named(db_session, "Sjöbo").id
        seen["seen by others"] = municipality_named(db, "Sjöbo") is not None
        db.commit()
        if then == "rollback":
            db_session.rollback()  # the view's commit is undone with the rest
        seen["asked"] = session.end_hold()
        session.commit()
        return "ok"

    route(app, "/held-commit", change)
    assert client.get("/held-commit").status_code == 200
    assert seen["id"] is not None and not seen["seen by others"]
    assert seen["asked"] == (then == "commit")
    assert (municipality_named(db, "Sjöbo") is not None) == (then == "commit")
