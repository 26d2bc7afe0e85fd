"""A session's browser: named as people know it ("Firefox on Windows"), and only that kept of
the browser's User-Agent header, on the account page and in the register extract alike."""

import html
import re

import pytest
from sqlalchemy import inspect, select

from sharing.accounts.auth import start_user_session
from sharing.accounts.browsers import Browser, recognise
from sharing.accounts.models import UserSession
from sharing.clock import utcnow
from tests.conftest import PASSWORD, csrf_token

FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"
                 " Version/17.1 Mobile/15E148 Safari/604.1")


@pytest.mark.parametrize(("header", "expected"), [
    (FIREFOX_WINDOWS, Browser("Firefox", "Windows")),
    (SAFARI_IPHONE, Browser("Safari", "iPhone")),
    ("Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1"
     " Mobile/15E148 Safari/604.1", Browser("Safari", "iPad")),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"
     " CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1", Browser("Chrome", "iPhone")),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"
     " FxiOS/121.0 Mobile/15E148 Safari/605.1.15", Browser("Firefox", "iPhone")),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1"
     " Safari/605.1.15", Browser("Safari", "macOS")),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
     Browser("Chrome", "Linux")),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0"
     " Safari/537.36 Edg/120.0.2210.91", Browser("Edge", "Windows")),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0"
     " Safari/537.36 OPR/106.0.0.0", Browser("Opera", "Windows")),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144"
     " Mobile Safari/537.36", Browser("Chrome", "Android")),
    ("Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko)"
     " SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36", Browser("Samsung Internet", "Android")),
    ("Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0", Browser("Firefox", "Android")),
    ("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0"
     " Safari/537.36", Browser("Chrome", "ChromeOS")),
    ("Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0", Browser("Firefox", "Ubuntu")),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; Trident/7.0; rv:11.0) like Gecko",
     Browser("Internet Explorer", "Windows")),
    # What it cannot tell it leaves blank, never guessed nor echoed back.
    ("curl/8.5.0", Browser("curl", "")),
    ("Werkzeug/3.1", Browser("", "")),
    ("", Browser("", "")),
    ("   ", Browser("", "")),
    ("x" * 100_000, Browser("", "")),
])
def test_a_header_is_read_as_the_browser_and_system_people_know(header, expected):
    assert recognise(header) == expected


def test_a_session_keeps_the_names_and_never_the_header(db, factory):
    user = factory.user(factory.municipality())
    start_user_session(db, user=user, user_agent=SAFARI_IPHONE, now=utcnow())
    db.commit()
    stored = db.scalars(select(UserSession).where(UserSession.user_id == user.id)).one()
    assert (stored.browser, stored.platform) == ("Safari", "iPhone")
    columns = {c["name"] for c in inspect(db.get_bind()).get_columns("user_session")}
    assert "user_agent" not in columns
    row = db.execute(select(UserSession.__table__).where(UserSession.id == stored.id)).one()  # type: ignore[attr-defined]
    assert not any(isinstance(value, str) and "Mozilla" in value for value in row)


def _choose_language(client, language: str) -> None:
    client.post("/language", data={"language": language, "csrf_token": csrf_token(client, "/")})


def _sessions_table(page: str) -> str:
    """The table of sessions as it reads, without its tags."""
    start = page.index('id="sessions-heading"')
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page[start:page.index("</table>", start)])).split())


def test_the_account_page_names_each_session_s_browser_and_system(app, client, auth, factory):
    user = factory.user(factory.municipality())
    for header in (SAFARI_IPHONE, ""):
        device = app.test_client()
        device.environ_base["HTTP_USER_AGENT"] = header
        device.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token(device)})
    client.environ_base["HTTP_USER_AGENT"] = FIREFOX_WINDOWS
    auth.login(user)
    _choose_language(client, "en")
    table = _sessions_table(client.get("/account").get_data(as_text=True))
    assert "Firefox on Windows (this session)" in table
    assert "Safari on iPhone" in table and "Unknown browser" in table
    assert "Mozilla" not in table and "Gecko" not in table


def test_the_register_extract_names_the_browser_as_the_account_page_does(client, auth, factory):
    user = factory.user(factory.municipality())
    client.environ_base["HTTP_USER_AGENT"] = FIREFOX_WINDOWS
    auth.login(user)
    _choose_language(client, "en")
    [stored] = client.get("/account/personal-data.json").get_json()["sections"]["sessions"]
    assert (stored["browser"], stored["browser_code"], stored["platform"]) == ("Firefox on Windows", "Firefox",
                                                                              "Windows")
    assert "user_agent" not in stored and "Mozilla" not in str(stored)
