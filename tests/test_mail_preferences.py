"""Each user chooses which notifications also come by e-mail: in the service they always do."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from sharing.accounts.mail_preferences import rules as preferences
from sharing.accounts.models import Notification, Role
from sharing.clock import today_in_sweden, utcnow
from sharing.loans import mail_kinds
from sharing.loans.requests import rules as loans
from sharing.loans.requests.models import RequestKind
from sharing.loans.requests.rules import RequestDetails
from tests.conftest import csrf_token

TODAY = today_in_sweden(utcnow())


@pytest.fixture
def s(factory):
    ystad, skurup = factory.municipality("Ystad", "1286"), factory.municipality("Skurup", "1264")
    manager = factory.manager(ystad)
    chairs = factory.listing_published(site=factory.site(ystad), by=manager, title="Konferensstolar", quantity=24,
                                       lend=True)
    employee = factory.user(skurup, Role.EMPLOYEE, unit=factory.unit(skurup, "Skurups skola"))
    return {"manager": manager, "chairs": chairs, "employee": employee,
            "skurup_site": factory.site(skurup, locality="Skurup")}


def choose(client, *kinds):
    return client.post("/account/mail", data={"csrf_token": csrf_token(client, "/account/mail"), "mailed": list(kinds)})


def checked(page):
    return [re.search(r'value="([^"]+)"', box).group(1) for box in re.findall(r"<input [^>]*>", page)
            if 'type="checkbox"' in box and " checked" in box]


def test_every_kind_is_mailed_until_the_user_turns_it_off(app, db, s):
    with app.app_context():
        kinds = [kind.name for kind in preferences.mail_kinds()]
    assert mail_kinds.DECIDED in kinds and mail_kinds.OVERDUE in kinds  # loans declared theirs
    user_id = s["employee"].id
    assert all(preferences.wants_mail(db, user_id, kind) for kind in kinds)
    preferences.choose(db, user_id, mailed=[mail_kinds.OVERDUE], now=utcnow())
    db.commit()
    assert preferences.choices_of(db, user_id) == {kind: kind == mail_kinds.OVERDUE for kind in kinds}
    assert preferences.wants_mail(db, s["manager"].id, mail_kinds.DECIDED)  # one user's choice is theirs alone
    with pytest.raises(ValueError):
        preferences.wants_mail(db, user_id, "loans.no_such_kind")


def test_the_account_page_lists_the_kinds_in_swedish_and_keeps_the_choice(client, auth, db, s):
    auth.login(s["employee"])
    assert "Notiser via e-post" in client.get("/account").get_data(as_text=True)
    page = client.get("/account/mail").get_data(as_text=True)
    assert "Din förfrågan godkänns eller avslås" in page
    assert len(checked(page)) == len(preferences.mail_kinds())  # all on
    response = choose(client, mail_kinds.OVERDUE, mail_kinds.MESSAGE)
    assert response.status_code == 302
    page = client.get("/account/mail").get_data(as_text=True)
    assert sorted(checked(page)) == [mail_kinds.MESSAGE, mail_kinds.OVERDUE]
    assert choose(client, "loans.no_such_kind").status_code == 400  # only what is declared
    assert choose(client).status_code == 302  # none at all
    assert checked(client.get("/account/mail").get_data(as_text=True)) == []


def test_a_user_who_turned_a_kind_off_is_told_in_the_service_but_not_by_mail(client, auth, db, s, mailbox):
    auth.login(s["employee"])
    others = [kind.name for kind in preferences.mail_kinds() if kind.name != mail_kinds.DECIDED]
    assert choose(client, *others).status_code == 302
    first = TODAY + timedelta(days=2)
    request = loans.ask(db, listing_id=s["chairs"].id, by=s["employee"], now=utcnow(), details=RequestDetails(
        kind=RequestKind.BORROW, quantity=2, first_day=first, last_day=first + timedelta(days=3),
        delivery_site_id=s["skurup_site"].id))
    db.commit()
    auth.logout()
    auth.login(s["manager"])
    token = csrf_token(client, f"/loans/{request.id}")
    assert client.post(f"/loans/{request.id}/approve", data={"csrf_token": token}).status_code == 302
    written = client.post(f"/loans/{request.id}/messages", data={"csrf_token": token, "body": "Välkommen"})
    assert written.status_code == 302
    told = db.scalars(select(Notification.message).where(Notification.user_id == s["employee"].id)
                      .order_by(Notification.id)).all()
    assert told == ["Your request for “%(listing)s” is approved.", "A new message about “%(listing)s”."]
    to_employee = [m.get_content() for m in mailbox.messages if m["To"] == s["employee"].email]
    assert len(to_employee) == 1 and "Ett nytt meddelande om ”Konferensstolar”" in to_employee[0]
    assert "http://delning.test/account/mail" in to_employee[0]  # where to choose
