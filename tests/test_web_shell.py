"""The web shell: front page, health check, headers, error pages, language."""

import re
import sqlite3

import pytest
from flask import flash, request

from sharing.access import PUBLIC
from sharing.accounts.models import Role
from tests.conftest import csrf_token, statements_on


def test_front_page_is_swedish_by_default(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="sv">' in html
    assert "Logga in" in html


def test_health_check_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_not_found_page_leaks_nothing(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Sidan kunde inte hittas" in html
    assert "Traceback" not in html and "werkzeug" not in html.lower()


def test_server_error_page_leaks_nothing(app, client):
    @app.get("/boom")
    def boom():  # pragma: no cover - only called here
        raise RuntimeError("secret internals")
    boom.access = __import__("sharing.access", fromlist=["PUBLIC"]).PUBLIC
    response = client.get("/boom")
    assert response.status_code == 500
    assert "secret internals" not in response.get_data(as_text=True)


def test_language_switch_to_english_and_back(client):
    token = csrf_token(client, "/")
    response = client.post("/language", data={"language": "en", "next": "/login", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)
    client.post("/language", data={"language": "sv", "csrf_token": token})
    assert '<html lang="sv">' in client.get("/").get_data(as_text=True)


def test_language_switch_never_redirects_elsewhere(client):
    token = csrf_token(client, "/")
    response = client.post("/language", data={"language": "en", "next": "https://evil.example/", "csrf_token": token})
    assert response.headers["Location"] in ("/", "http://delning.test/")


def language_next(page: str) -> str:
    return re.search(r'name="next" value="([^"]*)"', page.split('class="language-switch"', 1)[1]).group(1)


def test_the_language_switch_on_a_refused_form_comes_back_to_the_page_the_form_was_on(client):
    """A refused form is shown at the address it was sent to, which answers only forms (a GET
    there is a 405): switching language goes back to the page the form was on instead."""
    token = csrf_token(client, "/login?next=/catalog/")
    refused = client.post("/login", data={"email": "nobody@ystad.example", "password": "wrong", "csrf_token": token},
                          headers={"Referer": "http://delning.test/login?next=/catalog/"})
    assert refused.status_code == 200 and language_next(refused.get_data(as_text=True)) == "/login?next=/catalog/"
    elsewhere = client.post("/login", data={"email": "nobody@ystad.example", "password": "x", "csrf_token": token},
                            headers={"Referer": "https://evil.example/login"})
    assert language_next(elsewhere.get_data(as_text=True)) == ""  # then the front page
    assert language_next(client.get("/login?next=/catalog/").get_data(as_text=True)) == "/login?next=/catalog/"


def test_forms_without_csrf_token_are_refused(client):
    response = client.post("/language", data={"language": "en"})
    assert response.status_code == 400


def menu(client, path="/"):
    nav = client.get(path).get_data(as_text=True).split('<nav class="wrap main-nav"', 1)[1].split("</nav>", 1)[0]
    return {label: "aria-current" in attributes
            for attributes, label in re.findall(r"<a ([^>]*)>([^<(]+?)\s*(?:<|$)", nav)}


def test_the_menu_shows_what_each_role_may_use_in_the_reader_s_language(client, auth, factory):
    ystad = factory.municipality("Ystad", "1286")
    auth.login(factory.user(ystad, Role.EMPLOYEE))
    assert menu(client, "/catalog/") == {"Start": False, "Hitta": True, "Efterlysningar": False,
                                         "Förfrågningar": False, "Notiser": False, "Mitt konto": False}
    auth.logout()
    auth.login(factory.user(ystad, Role.FACILITY_MANAGER))
    assert menu(client, "/catalog/mine")["Våra annonser"] is True
    client.post("/language", data={"language": "en", "next": "/", "csrf_token": csrf_token(client, "/")})
    assert {"Find", "Our listings", "Wanted items"} <= set(menu(client))
    auth.logout()
    assert menu(client) == {"Start": True, "Log in": False}


def test_the_front_page_greets_the_signed_in_user_with_their_municipality_and_roles(client, auth, factory):
    skurup = factory.municipality("Skurup", "1264")
    user = factory.user(skurup, Role.EMPLOYEE, Role.FACILITY_MANAGER)
    auth.login(user)
    page = client.get("/").get_data(as_text=True)
    assert f"Välkommen, {user.name}" in page and "Skurup" in page
    assert "Medarbetare" in page and "Lokalförvaltare" in page


def shortcuts(page: str) -> dict[str, str]:
    """The start page's tasks: heading -> address."""
    return dict((label, url) for url, label in re.findall(r'<h3><a href="([^"]+)">([^<]+)</a></h3>', page))


def test_the_start_page_offers_a_search_and_the_tasks_of_the_readers_roles_at_the_cost_of_the_frame(
        app, client, auth, factory):
    skurup = factory.municipality("Skurup", "1264")
    auth.login(factory.user(skurup, Role.EMPLOYEE))
    page = client.get("/").get_data(as_text=True)
    assert '<form method="get" action="/catalog/"' in page and 'name="q"' in page
    assert shortcuts(page) == {"Efterlys något": "/wants/new", "Förfrågningar": "/loans/"}
    auth.logout()
    auth.login(factory.user(skurup, Role.FACILITY_MANAGER, Role.DRIVER))
    tasks = shortcuts(client.get("/").get_data(as_text=True))
    assert {"Lägg upp en annons", "Våra annonser", "Importera annonser", "Min rutt"} <= set(tasks)
    assert "Administration" not in tasks and "Återbruksstatistik" not in tasks
    auth.logout()
    # Only the tasks of one's roles: an administrator or a driver asks for nothing for a unit.
    auth.login(factory.user(skurup, Role.MUNICIPALITY_ADMIN))
    assert set(shortcuts(client.get("/").get_data(as_text=True))) == {"Administration", "Transport"}  # its vehicles
    auth.logout()
    auth.login(factory.user(skurup, Role.DRIVER))
    assert set(shortcuts(client.get("/").get_data(as_text=True))) == {"Min rutt"}
    auth.logout()
    auth.login(factory.user(skurup, Role.FACILITY_MANAGER, Role.DRIVER))
    # One prebuilt query for the session, its user and their unread count: the tasks ask nothing
    # more. The work waiting is counted, a count for each kind the reader's roles do (requests to
    # decide, loans due back).
    with statements_on(app.extensions["sharing.engine"]) as statements:
        assert client.get("/").status_code == 200
    assert len(statements) == 3, statements
    assert all(statement.startswith("SELECT count(*)") for statement in statements[1:]), statements


def test_a_signed_in_user_s_language_is_remembered_for_their_next_session(app, client, auth, factory, db):
    user = factory.user(factory.municipality())
    auth.login(user)
    client.post("/language", data={"language": "en", "next": "/", "csrf_token": csrf_token(client, "/")})
    db.refresh(user)
    assert user.locale == "en"
    other_device = app.test_client()
    type(auth)(other_device).login(user)
    assert '<html lang="en">' in other_device.get("/").get_data(as_text=True)


def test_a_client_that_shows_no_page_keeps_only_the_newest_messages_in_its_cookie(app, client):
    """A script taking step after step, never showing a page, must not grow its session cookie
    (read and written whole with every request) with a message for each step."""
    def step():
        flash(f"Steg {request.args['n']} klart", "success")
        return "klart"

    step.access = PUBLIC
    app.add_url_rule("/step", "step", step)
    for n in range(1, 31):
        assert client.get(f"/step?n={n}").status_code == 200
    page = client.get("/").get_data(as_text=True)
    shown = re.findall(r"Steg (\d+) klart", page)
    assert shown == [str(n) for n in range(21, 31)]


def test_template_helpers_are_registered_in_one_place_and_never_shadow_each_other(app):
    from sharing.web.templating import add_template_helpers

    assert app.jinja_env.globals["status_labels"] and app.jinja_env.filters["category_name"]
    add_template_helpers(app, names={"reused": len})
    add_template_helpers(app, names={"reused": len})  # the same helper again (an app built twice) is fine
    with pytest.raises(ValueError, match="registered twice"):
        add_template_helpers(app, filters={"when": str})  # the web shell's own


def test_a_write_that_waits_too_long_for_sqlite_is_told_to_retry_not_a_500(app, tmp_path):
    from sqlalchemy.engine import make_url

    from sharing import create_app

    url = make_url(app.config["SHARING_DATABASE_URL"])
    if url.get_backend_name() != "sqlite":
        pytest.skip("PostgreSQL locks rows, not the whole database")
    busy = create_app({"TESTING": True, "SHARING_DATABASE_URL": app.config["SHARING_DATABASE_URL"],
                       "SERVER_NAME": "delning.test", "SHARING_BASE_URL": "http://delning.test",
                       "SHARING_PHOTO_DIR": str(tmp_path / "photos"), "PAGE_CACHE_DIR": str(tmp_path / "cache"),
                       "SHARING_SQLITE_BUSY_SECONDS": 0.2})
    client = busy.test_client()
    token = csrf_token(client, "/login")
    other = sqlite3.connect(url.database, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another writer holds the database (a long import, say)
        response = client.post("/login", data={"csrf_token": token, "email": "ingen@ystad.example",
                                               "password": "fel lösenord igen"})
    finally:
        other.rollback()
        other.close()
        busy.extensions["sharing.engine"].dispose()
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    page = response.get_data(as_text=True)
    assert "Ingenting sparades. Vänta några sekunder och försök igen." in page
    assert "locked" not in page


@pytest.mark.parametrize("locale, raw, wanted", [
    ("sv", "0", "Ange ett tal från 1 till 100\u00a0000."),
    ("sv", "2000,5", "Ange ett tal från 0 till 1\u00a0000,5."),
    ("en", "2000.5", "Enter a number from 0 to 1,000.5.")])
def test_a_number_out_of_range_is_told_in_our_words_with_numbers_as_the_reader_writes_them(app, locale, raw, wanted):
    from flask_babel import force_locale
    from flask_wtf import FlaskForm
    from werkzeug.datastructures import MultiDict

    from sharing.web.forms import LocalNumberField, NumberRange

    class Sized(FlaskForm):
        size = LocalNumberField("Size", validators=[NumberRange(1 if raw == "0" else 0, 100_000 if raw == "0"
                                                                else 1000.5)])

    with app.test_request_context(), force_locale(locale):
        form = Sized(MultiDict({"size": raw}), meta={"csrf": False})
        assert not form.validate() and form.size.errors == [wanted]
