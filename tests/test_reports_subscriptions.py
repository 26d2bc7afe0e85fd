"""The monthly report by mail: the first working day of a month in Sweden; subscribing and
unsubscribing from the dashboard; the job mails each subscription's report of the previous month
once (run twice, or by two schedulers at once), as a PDF and an XLSX that open and hold exactly
the ledger's totals, to a real SMTP server."""

from __future__ import annotations

import io
import re
import threading
from datetime import date, datetime, time, timezone

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from sharing.accounts.models import Role
from sharing.clock import SWEDEN
from sharing.mail import QueuedMail
from sharing.reports.dashboard import rules as dashboard
from sharing.reports.subscriptions import rules, runner
from sharing.reports.subscriptions.models import ReportMailing, ReportSubscription
from sharing.reports.subscriptions.working_days import easter_sunday, first_working_day, holidays, is_working_day
from tests import reports_fixture
from tests.conftest import csrf_token

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# What Trelleborg received in September 2025: the long loan's five chairs (handed back on 1
# September: 75 kg, 22 500 kr, 250 kg CO2e) and the route of 2 September (4,75 kg CO2e).
SEPTEMBER_TRELLEBORG = {"pieces": 5, "shared_pieces": 0, "waste_avoided_g": 75_000,
                        "purchase_avoided_sek_ore": 2_250_000, "co2e_avoided_g": 250_000, "transport_co2e_g": 4_750,
                        "net_co2e_g": 245_250, "entries": 3}


def at(day: date, hour: int = 8, minute: int = 0) -> datetime:
    """An instant given in Swedish time, as the UTC instant the job is handed."""
    return datetime.combine(day, time(hour, minute), tzinfo=SWEDEN).astimezone(timezone.utc)


@pytest.mark.parametrize(("year", "month", "first"), [
    (2027, 1, date(2027, 1, 4)),  # New Year's Day a Friday, then the weekend
    (2026, 6, date(2026, 6, 1)),  # a Monday
    (2024, 4, date(2024, 4, 2)),  # Easter Monday on the 1st
    (2029, 4, date(2029, 4, 3)),  # Easter Sunday on the 1st, then Easter Monday
    (2021, 4, date(2021, 4, 1)),  # Maundy Thursday is a working day; Good Friday the 2nd
    (2026, 5, date(2026, 5, 4)),  # the First of May a Friday
    (2000, 6, date(2000, 6, 2)),  # Ascension Day on the 1st
    (2025, 11, date(2025, 11, 3)),  # a Saturday, then a Sunday
    (2025, 12, date(2025, 12, 1)),
])
def test_the_first_working_day_of_a_month(year, month, first):
    assert first_working_day(year, month) == first


def test_the_swedish_days_off():
    assert [easter_sunday(y) for y in (2024, 2025, 2026, 2027, 2029)] == [
        date(2024, 3, 31), date(2025, 4, 20), date(2026, 4, 5), date(2027, 3, 28), date(2029, 4, 1)]
    assert sorted(holidays(2026)) == [
        date(2026, 1, 1), date(2026, 1, 6), date(2026, 4, 3), date(2026, 4, 6), date(2026, 5, 1),
        date(2026, 5, 14), date(2026, 6, 6), date(2026, 6, 19), date(2026, 12, 24), date(2026, 12, 25),
        date(2026, 12, 26), date(2026, 12, 31)]
    assert not is_working_day(date(2027, 6, 25))  # Midsummer Eve, the Friday of 19-25 June
    assert is_working_day(date(2027, 6, 24)) and is_working_day(date(2027, 4, 1))


def test_a_report_is_due_from_seven_on_the_first_working_day_and_for_the_rest_of_the_month():
    assert rules.month_due(at(date(2027, 1, 1), 10)) is None  # a holiday
    assert rules.month_due(at(date(2027, 1, 4), 6, 59)) is None
    assert rules.month_due(at(date(2027, 1, 4), 7)) == 202612
    assert rules.month_due(at(date(2027, 1, 20), 3)) == 202612  # late, after a scheduler was down
    assert rules.month_due(at(date(2026, 6, 1), 7)) == 202605


@pytest.fixture
def world(app, factory):
    return reports_fixture.build(factory, app)


def text(response):
    return re.sub(r"[ \t\r\n]+", " ", response.get_data(as_text=True))


def test_an_officer_subscribes_and_unsubscribes_on_the_dashboard(client, auth, db, world):
    auth.login(world["officer"])
    page = text(client.get("/reports/"))
    assert "Månadsrapport via e-post" in page and "Prenumerera på månadsrapporten" in page
    token = csrf_token(client, "/reports/")
    response = client.post("/reports/subscription/", data={"csrf_token": token,
                                                           "category": [str(world["chair"].id)]})
    assert response.status_code == 302 and response.headers["Location"].endswith("/reports/#subscription")
    subscription = db.scalars(select(ReportSubscription)).one()
    assert (subscription.user_id, subscription.municipality_id) == (world["officer"].id, world["trelleborg"].id)
    assert rules.category_ids(subscription) == (world["chair"].id,)
    page = text(client.get("/reports/"))
    assert "Trelleborg" in page and "Kontorsstol" in page and "Avsluta prenumerationen" in page
    assert client.post("/reports/subscription/", data={"csrf_token": token, "category": ["x"]}).status_code == 302
    assert "Välj kategorier i listan" in text(client.get("/reports/"))
    assert client.post("/reports/subscription/cancel", data={"csrf_token": token}).status_code == 302
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(ReportSubscription)) == 0
    # Without the CSRF token nothing changes.
    assert client.post("/reports/subscription/", data={}).status_code == 400
    assert db.scalar(select(func.count()).select_from(ReportSubscription)) == 0


def send(app, now) -> int:
    with app.app_context():
        return runner.send_monthly_reports(now=now)


def subscribe(db, user, categories=(), when=datetime(2025, 1, 1, tzinfo=timezone.utc)):
    subscription = rules.subscribe(db, category_ids=categories, by=user, now=when)
    db.commit()
    return subscription


def test_the_report_of_the_previous_month_arrives_once_with_a_pdf_and_an_xlsx_of_the_ledger_s_totals(
        app, db, world, mailbox):
    subscribe(db, world["officer"])
    october_first = date(2025, 10, 1)  # a Wednesday
    assert send(app, at(october_first, 6, 30)) == 0  # before seven
    assert send(app, at(october_first, 7, 5)) == 1
    assert send(app, at(october_first, 8)) == 0 and send(app, at(date(2025, 10, 20))) == 0
    (message,) = mailbox.messages
    assert message["To"] == world["officer"].email and "september 2025" in message["Subject"]
    body = message.get_body(("plain",)).get_content()
    assert "Trelleborg" in body and "http://delning.test/reports/?from=2025-09-01&to=2025-09-30" in body
    files = {part.get_filename(): part for part in message.iter_attachments()}
    # Named for the subscription's municipality, as the report's title is
    assert sorted(files) == ["aterbruk-trelleborg-2025-09-01-2025-09-30.pdf",
                             "aterbruk-trelleborg-2025-09-01-2025-09-30.xlsx"]
    pdf = files["aterbruk-trelleborg-2025-09-01-2025-09-30.pdf"]
    assert pdf.get_content_type() == "application/pdf" and pdf.get_content().startswith(b"%PDF")
    sheet = files["aterbruk-trelleborg-2025-09-01-2025-09-30.xlsx"]
    assert sheet.get_content_type() == XLSX
    rows = list(load_workbook(io.BytesIO(sheet.get_content()))["Poster"].values)
    header, entries, total = rows[0], rows[1:-1], rows[-1]
    ledger = dashboard.totals(db, dashboard.Selection(date(2025, 9, 1), date(2025, 9, 30),
                                                      municipality_ids=(world["trelleborg"].id,)))
    assert ledger.as_dict() == SEPTEMBER_TRELLEBORG and len(entries) == ledger.entries
    assert total[header.index("Återbrukade exemplar")] == ledger.pieces
    for column, key, scale in (("Undvikt avfall (kg)", "waste_avoided_g", 1000),
                               ("CO2e netto (kg)", "net_co2e_g", 1000),
                               ("CO2e för transport (kg)", "transport_co2e_g", 1000),
                               ("Undvikna inköp (kr)", "purchase_avoided_sek_ore", 100)):
        assert round(float(total[header.index(column)]) * scale) == SEPTEMBER_TRELLEBORG[key], column
    assert db.scalars(select(ReportMailing.month)).all() == [202509]
    assert db.scalar(select(func.count()).select_from(QueuedMail)) == 0  # sent, off the queue


def test_a_subscription_made_after_the_month_waits_for_its_first_whole_month(app, db, world, mailbox):
    subscribe(db, world["officer"], when=at(date(2025, 10, 1), 7))
    assert send(app, at(date(2025, 10, 1), 9)) == 0
    assert send(app, at(date(2025, 11, 3), 9)) == 1  # 1 November 2025 is a Saturday
    assert "oktober 2025" in mailbox.messages[0]["Subject"]


def test_nothing_goes_to_who_may_no_longer_read_the_statistics(app, db, world, factory, mailbox):
    subscription = subscribe(db, world["officer"])
    world["officer"].active = False
    db.commit()
    assert send(app, at(date(2025, 10, 1))) == 0 and mailbox.messages == []
    assert db.get(ReportSubscription, subscription.id) is not None  # kept, in case they return


def test_two_schedulers_racing_mail_each_report_once(app, db, world, factory, mailbox):
    subscribe(db, world["officer"])
    subscribe(db, world["system_admin"], categories=[world["chair"].id])
    subscribe(db, factory.user(world["skurup"], Role.SUSTAINABILITY_OFFICER))
    counts, errors = [], []
    start = threading.Barrier(2)

    def race():
        try:
            start.wait(timeout=30)
            counts.append(send(app, at(date(2025, 10, 1), 9)))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=race) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert errors == []
    assert sum(counts) == 3, counts  # between them, once each
    assert len(mailbox.messages) == 3
    assert db.scalar(select(func.count()).select_from(ReportMailing)) == 3
    assert send(app, at(date(2025, 10, 1), 10)) == 0
