"""Test fixtures: a fresh, migrated database per test (SQLite, or PostgreSQL when
SHARING_TEST_DATABASE_URL is set), the app, a client, a real SMTP server and factories."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from alembic import command
from alembic.config import Config
from flask import Flask
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlmodel import Session

os.environ["SHARING_ENV"] = "testing"

from sharing import create_app  # noqa: E402
from sharing.accounts.models import User  # noqa: E402
from sharing.accounts.passwords import use_fast_hashing  # noqa: E402
from sharing.catalog.photos.rules import PhotoStore  # noqa: E402
from sharing.mail import send_queued, wait_for_background_mail  # noqa: E402
from tests.factories import PASSWORD, Factory  # noqa: E402

use_fast_hashing()
ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("SHARING_TEST_DATABASE_URL")


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    config.attributes["configure_logging"] = False
    return config


@contextmanager
def statements_on(bind: Engine | Connection, parameters: list[Any] | None = None) -> Iterator[list[str]]:
    """The SQL statements run on ``bind`` while the block runs, each on one line; and, into
    ``parameters`` if given, what each was sent with, in the same order."""
    statements: list[str] = []

    def note(_connection, _cursor, statement, sent, *_rest):  # type: ignore[no-untyped-def]
        statements.append(" ".join(statement.split()))
        if parameters is not None:
            parameters.append(sent)

    event.listen(bind, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(bind, "before_cursor_execute", note)


class Databases:
    """Hands out fresh, migrated databases: copies of one template migrated once per run."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.counter = itertools.count()
        self.created: list[str] = []
        if PG_URL:
            self.server = make_url(PG_URL)
            self.admin = create_engine(self.server.set(database="postgres"), isolation_level="AUTOCOMMIT")
            self.template = f"{self.server.database}_template"
            self._pg(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
            self._pg(f'CREATE DATABASE "{self.template}"')
            self.template_url = self.server.set(database=self.template).render_as_string(hide_password=False)
        else:
            self.template_url = f"sqlite:///{workdir / 'template.sqlite3'}"
        command.upgrade(alembic_config(self.template_url), "head")

    def _pg(self, sql: str) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(sql))

    def empty(self) -> str:
        """A URL of a new database with nothing in it (for migration tests)."""
        n = next(self.counter)
        if not PG_URL:
            return f"sqlite:///{self.workdir / f'empty{n}.sqlite3'}"
        name = f"{self.server.database}_empty{n}"
        self._pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # left by a run that was killed
        self._pg(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return self.server.set(database=name).render_as_string(hide_password=False)

    def fresh(self) -> str:
        """A URL of a new database migrated to head."""
        n = next(self.counter)
        if not PG_URL:
            target = self.workdir / f"test{n}.sqlite3"
            shutil.copyfile(self.workdir / "template.sqlite3", target)
            return f"sqlite:///{target}"
        name = f"{self.server.database}_t{n}"
        self._pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # left by a run that was killed
        self._pg(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        self.created.append(name)
        return self.server.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if PG_URL:
            for name in [*self.created, self.template]:
                self._pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            self.admin.dispose()


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    dbs = Databases(tmp_path_factory.mktemp("db"))
    yield dbs
    dbs.drop_all()


class Mailbox:
    """What a real SMTP server on localhost received."""

    def __init__(self) -> None:
        self._messages: list[Message] = []
        self.app: Flask | None = None

    @property
    def messages(self) -> list[Message]:
        """What arrived, once the mail the app sends in the background has gone out, and the
        send-queued-mail job has sent what waits for it (the notices queued ``later``)."""
        assert wait_for_background_mail(timeout=30), "background mail still sending after 30 s"
        if self.app is not None:
            with self.app.app_context():
                send_queued()
        return self._messages

    def receive(self, content: bytes) -> None:
        self._messages.append(message_from_bytes(content, policy=policy.default))  # type: ignore[arg-type]

    def open_link(self, client, message: Message) -> str:  # type: ignore[no-untyped-def]
        """Follow the mailed link as a browser would; returns the page it lands on.

        The link's secret is moved into the session, so the page's address holds none.
        """
        link = self.link(message)
        assert link.startswith("http://delning.test/"), link  # the configured base URL, nothing else
        response = client.get(link.removeprefix("http://delning.test"))
        assert response.status_code == 302, response.status_code
        landing = response.headers["Location"]
        assert self.link(message).rsplit("/", 1)[1] not in landing
        return landing

    def link(self, message: Message) -> str:
        body = message.get_content()  # type: ignore[attr-defined]
        found = re.search(r"https?://\S+", body)
        assert found, body
        return found.group(0)


class _Handler:
    """aiosmtpd's handler: it looks over the handler's attributes, which must not wait for mail."""

    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        self.mailbox.receive(envelope.content)  # type: ignore[attr-defined]
        return "250 Message accepted for delivery"


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[Controller, Mailbox]]:
    mailbox = Mailbox()
    with socket.socket() as probe:  # a free port; aiosmtpd cannot start on port 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(_Handler(mailbox), hostname="127.0.0.1", port=port)
    controller.start()
    yield controller, mailbox
    controller.stop()


@contextmanager
def mailbox_of(smtp_server: tuple[Controller, Mailbox], app: Flask) -> Iterator[Mailbox]:
    """The suite's mailbox, empty, whose reads run ``app``'s mail job first."""
    mailbox = smtp_server[1]
    mailbox.app = app
    mailbox.messages.clear()  # what the test's fixtures caused included
    try:
        yield mailbox
    finally:
        mailbox.app = None


@pytest.fixture
def mailbox(smtp_server: tuple[Controller, Mailbox], app: Flask) -> Iterator[Mailbox]:
    with mailbox_of(smtp_server, app) as mailbox:
        yield mailbox


@pytest.fixture
def app(databases: Databases, smtp_server: tuple[Controller, Mailbox], tmp_path: Path):  # type: ignore[no-untyped-def]
    controller, _ = smtp_server
    app = create_app({
        "TESTING": True,
        "SHARING_DATABASE_URL": databases.fresh(),
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": controller.port,
        "SERVER_NAME": "delning.test",
        "SHARING_BASE_URL": "http://delning.test",
        "SHARING_PHOTO_DIR": str(tmp_path / "photos"),  # never the instance folder
        "PAGE_CACHE_DIR": str(tmp_path / "page-cache"),
        "PLANNING_IN_BACKGROUND": False,  # a day's planning runs in the request, through the same rule
    })
    yield app
    # Mail the test caused is sent after the response, on a thread that uses the database.
    assert wait_for_background_mail(timeout=30), "background mail still sending after 30 s"
    app.extensions["sharing.engine"].dispose()


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def runner(app):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


@pytest.fixture
def db(app):  # type: ignore[no-untyped-def]
    """A session of the test's database. It holds no app context: each request of the test
    client must get its own, as in production."""
    session = Session(bind=app.extensions["sharing.engine"], expire_on_commit=False)
    yield session
    session.close()


@pytest.fixture
def factory(app, db) -> Factory:  # type: ignore[no-untyped-def]
    return Factory(db, photo_store=PhotoStore.from_config(app.config))


def csrf_token(client, path: str = "/login") -> str:  # type: ignore[no-untyped-def]
    """The CSRF token of the client's session, read from a page as a browser would."""
    html = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def fieldset(html: str, field_id: str) -> str:
    """The fieldset with the id, from its opening tag to its end (a radio group holds no nested fieldset)."""
    found = re.search(rf'<fieldset[^>]* id="{field_id}"[^>]*>.*?</fieldset>', html, re.DOTALL)
    assert found, f"no fieldset with id {field_id}"
    return found.group(0)


class Auth:
    """Log the test client in and out through the real login form."""

    def __init__(self, client) -> None:  # type: ignore[no-untyped-def]
        self.client = client

    def login(self, user: User | str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
        email = user if isinstance(user, str) else user.email
        token = csrf_token(self.client)
        return self.client.post("/login", data={"email": email, "password": password, "csrf_token": token})

    def logout(self):  # type: ignore[no-untyped-def]
        return self.client.post("/logout", data={"csrf_token": csrf_token(self.client, "/")})


@pytest.fixture
def auth(client) -> Auth:  # type: ignore[no-untyped-def]
    return Auth(client)
