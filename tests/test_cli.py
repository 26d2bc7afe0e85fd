"""Command-line administration and the demo data."""

from sqlalchemy import func, select, text

from sharing.accounts.models import Municipality, OpeningHours, Role, Site, Unit, User
from sharing.mail import QueuedMail

COUNTED = (Municipality, Unit, Site, OpeningHours, User)


def counts(db):
    return {model.__name__: db.scalar(select(func.count()).select_from(model)) for model in COUNTED}


def test_demo_data_loads_and_loading_twice_changes_nothing(runner, db):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    first = counts(db)
    assert first["Municipality"] == 3
    assert first["Site"] >= 30
    names = set(db.scalars(select(Municipality.name)))
    assert names == {"Ystad", "Skurup", "Trelleborg"}
    users = db.scalars(select(User)).all()
    held = set().union(*(user.roles for user in users))
    assert held == set(Role)
    hashes = {user.email: user.password_hash for user in users}
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    db.expire_all()
    assert counts(db) == first
    assert {user.email: user.password_hash for user in db.scalars(select(User))} == hashes


def test_demo_sites_lie_in_southern_skane(runner, db):
    runner.invoke(args=["demo", "load"])
    for site in db.scalars(select(Site)):
        assert 55.3 < site.latitude < 55.6 and 12.9 < site.longitude < 14.3, site.name


def test_a_municipality_joins_from_the_command_line(runner, db, mailbox):
    result = runner.invoke(args=["municipality", "add", "--code", "1214", "--name", "Svalöv"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["user", "add", "--municipality", "1214", "--email", "admin@svalov.example",
                                 "--name", "Eva Admin", "--role", "municipality_admin"])
    assert result.exit_code == 0, result.output
    assert "An invitation to admin@svalov.example is queued" in result.output
    admin = db.scalar(select(User).where(User.email == "admin@svalov.example"))
    assert admin.roles == {Role.MUNICIPALITY_ADMIN}
    # The invitation goes by mail, through the queue; the operator has its link too.
    [invitation] = mailbox.messages
    assert invitation["To"] == "admin@svalov.example"
    assert invitation["Subject"] == "Du är inbjuden till Delningstjänsten"
    assert "Delningstjänsten har bjudit in dig" in invitation.get_content()
    assert mailbox.link(invitation) in result.output and "/invitation/" in mailbox.link(invitation)
    assert db.scalar(select(func.count()).select_from(QueuedMail)) == 0, "sent, and so no longer kept"

    result = runner.invoke(args=["user", "invite-again", "--email", "admin@svalov.example"])
    assert result.exit_code == 0, result.output
    assert len(mailbox.messages) == 2 and mailbox.messages[-1]["To"] == "admin@svalov.example"
    assert mailbox.link(mailbox.messages[-1]) in result.output
    result = runner.invoke(args=["municipality", "add", "--code", "1214", "--name", "Svalöv"])
    assert result.exit_code != 0 and "1214" in result.output


def test_the_command_line_tells_every_reason_it_refuses_one_per_line(runner, db):
    assert runner.invoke(args=["municipality", "add", "--code", "1214", "--name", "Svalöv"]).exit_code == 0
    add = ["user", "add", "--municipality", "1214", "--email", "admin@svalov.example", "--role", "municipality_admin"]
    assert runner.invoke(args=[*add, "--name", "Eva Admin"]).exit_code == 0
    result = runner.invoke(args=[*add, "--name", " "])  # no name, and an address already taken
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert lines[-2:] == ["Error: Enter the person's name.", "There is already a user with that e-mail address."]


def test_purge_job_drops_spent_tokens_and_old_failed_logins(runner, db, factory):
    from datetime import timedelta

    from sharing.accounts.models import AccountToken, LoginAttempt
    from sharing.clock import utcnow

    user = factory.user(factory.municipality())
    now = utcnow()
    db.add_all([
        LoginAttempt(email="a@x.example", address="127.0.0.1", attempted_at=now - timedelta(days=2)),
        LoginAttempt(email="b@x.example", address="127.0.0.1", attempted_at=now),
        AccountToken(user_id=user.id, purpose="password_reset", token_hash="a" * 64, expires_at=now - timedelta(1)),
        AccountToken(user_id=user.id, purpose="invitation", token_hash="b" * 64, expires_at=now + timedelta(1)),
    ])
    db.commit()
    result = runner.invoke(args=["jobs", "once", "purge-account-data"])
    assert result.exit_code == 0, result.output
    db.expire_all()
    assert [a.email for a in db.scalars(select(LoginAttempt))] == ["b@x.example"]
    assert [t.purpose for t in db.scalars(select(AccountToken))] == ["invitation"]


def test_the_daily_statistics_job_gives_the_planner_fresh_figures(app, db):
    from sharing.jobs import schedule

    [job] = [job for job in schedule(app) if job.name == "database-statistics"]
    with app.app_context():
        job.run()
    if db.get_bind().dialect.name == "sqlite":
        assert db.scalar(select(func.count()).select_from(text("sqlite_stat1"))) > 0
    else:
        analysed = db.scalar(text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'listing'"))
        assert analysed is not None


def test_the_demo_reuse_is_reckoned_with_the_category_figures_in_force_then(runner, db):
    """The demo's take-overs go back a year: the reference figures must be in force then, or
    the dashboard an evaluator first sees shows no purchase avoided."""
    from sharing.reports.ledger.models import ReuseEntry

    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    entries = db.scalars(select(ReuseEntry).where(ReuseEntry.kind == "take_over")).all()
    assert entries
    assert all(entry.factor_id is not None for entry in entries)
    assert sum(entry.purchase_avoided_sek_ore for entry in entries) > 0


def test_the_demo_s_past_take_overs_are_closed_not_waiting_for_anyone(runner, db):
    from datetime import timedelta

    from sharing.clock import utcnow
    from sharing.loans.requests.models import LoanRequest

    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    past = db.scalars(select(LoanRequest).where(LoanRequest.kind == "take_over",
                                                LoanRequest.handed_over_at < utcnow() - timedelta(days=5))).all()
    assert past and {request.status for request in past} == {"closed"}


def test_the_demo_s_notices_are_dated_by_their_steps_and_none_unread_asks_for_a_step_taken(runner, db):
    """The demo replays a year of history: what it leaves in people's notices must look like a
    service in use, not a pile of asks about requests closed months ago."""
    from sharing.accounts.models import Notification
    from sharing.events import DomainEvent
    from sharing.loans.requests.models import LoanRequest

    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    asks = {"%(unit)s in %(municipality)s asks for %(quantity)s of “%(listing)s”.": {"requested"},
            "“%(listing)s” is noted as handed over: please confirm.": {"handed_over"},
            "“%(listing)s” is noted as returned: please confirm.": {"returned"}}
    requests = {f"/loans/{r.id}": r for r in db.scalars(select(LoanRequest))}
    steps = {(f"/loans/{e.subject_id}", e.occurred_at) for e in db.scalars(
        select(DomainEvent).where(DomainEvent.subject_type == "loans.request"))}
    notices = db.scalars(select(Notification).where(Notification.url.like("/loans/%"))).all()
    assert notices
    for notice in notices:
        assert (notice.url, notice.created_at) in steps, (notice.message, notice.url)  # when it happened
        request = requests[notice.url]
        if notice.read_at is None:
            assert request.status not in {"closed", "declined", "cancelled"}, (notice.message, notice.url)
            assert request.status in asks.get(notice.message, {request.status}), (notice.message, request.status)
    # A few fresh ones stay unread, so that an evaluator sees how notices work.
    manager = db.scalar(select(User).where(User.email == "lokalforsorjning@ystad.example"))
    unread = [n for n in notices if n.user_id == manager.id and n.read_at is None]
    assert 1 <= len(unread) <= 5


def test_the_demo_s_accounts_were_made_before_the_history_they_took_part_in(runner, db, client, auth):
    """The audit trail names an actor only if their account was made before they acted: the
    demo's back-dated history must not read as the doing of deleted users."""
    from sharing.catalog.listings.models import Listing
    from sharing.events import DomainEvent
    from sharing.loans.requests.models import LoanRequest

    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    users = {user.id: user for user in db.scalars(select(User))}
    first = db.scalar(select(func.min(DomainEvent.occurred_at)))
    for model in (Municipality, Unit, Site, User):
        assert db.scalar(select(func.max(model.created_at))) <= first, model.__name__
    for event in db.scalars(select(DomainEvent).where(DomainEvent.actor_id.is_not(None))):
        assert users[event.actor_id].created_at <= event.occurred_at, event.name
    # and a listing was published before anyone asked for it
    for request in db.scalars(select(LoanRequest)):
        assert db.get(Listing, request.listing_id).published_at <= request.created_at, request.id
    for municipality in db.scalars(select(Municipality)):
        auth.login(f"admin@{municipality.slug}.example", "demo-delning-skane-2026")
        trail = client.get(f"/admin/municipalities/{municipality.id}/audit.csv").get_data(as_text=True)
        assert trail.count("\n") > 1 and "Borttagen användare" not in trail and "Deleted user" not in trail
        auth.logout()


def test_the_demo_s_requests_read_as_a_service_in_use(runner, db):
    """Open requests fall on days the sites are open, their messages are what people write, and
    a past take-over handed over by transport was asked for with transport."""
    from sharing.loans.reminders.rules import first_day, last_day
    from sharing.loans.requests.models import LoanRequest, RequestMessage

    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    requests = db.scalars(select(LoanRequest)).all()
    for request in requests:
        if request.status in {"requested", "approved"}:
            days = [first_day(request), last_day(request)]
            assert all(day.weekday() < 5 for day in days if day is not None), (request.id, days)
        if request.handover_method == "transport":
            assert request.transport_needed, request.id
    bodies = db.scalars(select(RequestMessage.body)).all()
    assert bodies and not [body for body in bodies if "demo" in body.lower()]
