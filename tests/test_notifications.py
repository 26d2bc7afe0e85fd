"""In-app notifications: sent by any domain, counted in the header, read in the reader's language,
opened and marked read by their own user only, and purged after their retention."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from sharing.accounts import notifications
from sharing.accounts.models import Notification, User
from sharing.catalog.wants.notices import MATCH_MESSAGE
from sharing.clock import utcnow
from sharing.jobs import schedule
from tests.conftest import csrf_token

HEADER_LINK = re.compile(r'<a href="/notifications/"[^>]*>(.*?)</a>', re.S)


@pytest.fixture
def people(factory):
    municipality = factory.municipality("Ystad", "1286")
    return factory.user(municipality), factory.user(municipality)


def send(db, user, n=1, *, when=None, url="/catalog/7"):
    for i in range(n):
        notifications.notify(db, user_id=user.id, message=MATCH_MESSAGE,
                             params={"listing": f"Kontorsstolar {i + 1}", "want": "kontorsstol"}, url=url,
                             now=when or utcnow() + timedelta(seconds=i))
    db.commit()


def header(client):
    return re.sub(r"<[^>]+>|\s+", " ", HEADER_LINK.search(client.get("/").get_data(as_text=True)).group(1)).split()


def test_the_header_counts_unread_notifications_in_text(client, auth, db, people):
    me, _ = people
    auth.login(me)
    assert header(client) == ["Notiser"]
    send(db, me, 3)
    # Seen as "Notiser (3)", read out as "Notiser (3 olästa)".
    html = HEADER_LINK.search(client.get("/").get_data(as_text=True)).group(1)
    assert '<span aria-hidden="true">(3)</span>' in html
    assert '<span class="visually-hidden">(3 olästa)</span>' in html


def test_the_list_is_newest_first_in_the_readers_language_and_paginated(client, auth, db, people):
    me, _ = people
    send(db, me, 30)
    auth.login(me)
    page = client.get("/notifications/").get_data(as_text=True)
    assert "Du har 30 olästa notiser." in page
    assert page.index("”Kontorsstolar 30” matchar din efterlysning ”kontorsstol”.") < page.index("”Kontorsstolar 6”")
    assert "”Kontorsstolar 5”" not in page and "Sida 1 av 2" in page
    assert "”Kontorsstolar 5”" in client.get("/notifications/?page=2").get_data(as_text=True)
    me.locale = "en"
    db.add(me)
    db.commit()
    page = client.get("/notifications/").get_data(as_text=True)
    assert "“Kontorsstolar 30” matches your wanted item “kontorsstol”." in page


def test_opening_one_marks_it_read_and_goes_where_it_points(client, auth, db, people):
    me, _ = people
    send(db, me, 2, url="/wants/4")
    auth.login(me)
    first = db.scalars(select(Notification).order_by(Notification.id)).first()
    response = client.post(f"/notifications/{first.id}/open", data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302 and response.headers["Location"] == "/wants/4"
    db.refresh(first)
    assert first.read_at is not None
    assert "(1 oläst)" in client.get("/").get_data(as_text=True)


def unread(db, user):
    db.expire_all()
    return db.get(User, user.id).unread_notification_count


def test_mark_all_read_is_a_post_with_its_csrf_token(client, auth, db, people):
    me, _ = people
    send(db, me, 2)
    auth.login(me)
    assert client.post("/notifications/read").status_code == 400
    assert unread(db, me) == 2
    response = client.post("/notifications/read", data={"csrf_token": csrf_token(client, "/notifications/")})
    assert response.status_code == 302
    assert unread(db, me) == 0
    assert header(client) == ["Notiser"]


def test_nobody_opens_or_sees_another_users_notifications(client, auth, db, people):
    me, other = people
    send(db, other)
    theirs = db.scalar(select(Notification))
    auth.login(me)
    assert client.post(f"/notifications/{theirs.id}/open",
                       data={"csrf_token": csrf_token(client, "/")}).status_code == 404
    client.post("/notifications/read", data={"csrf_token": csrf_token(client, "/")})
    assert "Kontorsstolar" not in client.get("/notifications/").get_data(as_text=True)
    assert client.get("/api/v1/notifications").get_json()["total"] == 0
    db.refresh(theirs)
    assert theirs.read_at is None


def test_the_api_lists_ones_own_notifications_in_ones_language(client, auth, db, people):
    me, _ = people
    send(db, me)
    auth.login(me)
    body = client.get("/api/v1/notifications").get_json()
    assert body["total"] == 1
    assert body["items"][0]["text"] == "”Kontorsstolar 1” matchar din efterlysning ”kontorsstol”."
    assert body["items"][0]["url"] == "/catalog/7" and body["items"][0]["read_at"] is None


def test_a_notification_links_only_within_the_service(db, people):
    me, _ = people
    for url in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        with pytest.raises(ValueError):
            notifications.notify(db, user_id=me.id, message=MATCH_MESSAGE, url=url, now=utcnow())


def test_parameters_that_do_not_fit_never_break_the_page(client, auth, db, people):
    me, _ = people
    notifications.notify(db, user_id=me.id, message=MATCH_MESSAGE, params={"unexpected": 1}, now=utcnow())
    db.commit()
    auth.login(me)
    response = client.get("/notifications/")
    assert response.status_code == 200 and "matchar din efterlysning" in response.get_data(as_text=True)


def test_old_notifications_are_purged_by_a_daily_job(app, runner, db, people):
    me, _ = people
    send(db, me, when=utcnow() - notifications.RETENTION - timedelta(hours=1))
    send(db, me, when=utcnow() - notifications.RETENTION + timedelta(hours=1))
    assert "purge-notifications" in [job.name for job in schedule(app)]
    result = runner.invoke(args=["jobs", "once", "purge-notifications"])
    assert result.exit_code == 0, result.output
    assert db.scalar(select(func.count()).select_from(Notification)) == 1


def test_a_users_notifications_go_with_the_user(db, people):
    me, _ = people
    send(db, me, 2)
    db.delete(me)
    db.commit()
    assert db.scalar(select(func.count()).select_from(Notification)) == 0


def test_a_term_among_a_notice_s_parameters_reads_in_the_reader_s_language(app):
    """A reason kept as a msgid (with its context) is translated when read, as the message is."""
    from flask_babel import force_locale

    from sharing.accounts.labels import message_text
    from sharing.accounts.notifications import term
    params = {"reason": term("Closed", "stop failure"), "day": "2026-12-07"}
    with app.test_request_context():
        with force_locale("sv"):
            assert message_text("%(day)s: %(reason)s", params) == "2026-12-07: Stängt"
        with force_locale("en"):
            assert message_text("%(day)s: %(reason)s", params) == "2026-12-07: Closed"
