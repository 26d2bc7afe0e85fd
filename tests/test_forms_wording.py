"""How forms word their errors, on the pages people use: one phrase for an address, the field
named without its "(optional)" hint, a municipality code explained, the summary in the form's
order, one name for one thing, numbers as the reader writes them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pyotp
from flask_wtf import FlaskForm

import sharing
from sharing.accounts.models import Role
from tests.conftest import csrf_token


def english(client) -> None:  # type: ignore[no-untyped-def]
    client.post("/language", data={"language": "en", "csrf_token": csrf_token(client, "/")})


def summary(page: str) -> list[str]:
    """The error summary's lines, as read."""
    start = page.index('class="error-summary"')
    items = re.findall(r"<li><a href=\"#[^\"]+\">(.*?)</a></li>", page[start:page.index("</ul>", start)], re.S)
    return [" ".join(item.split()) for item in items]


def test_a_bad_address_and_a_bad_municipality_code_are_told_in_our_words(client, auth, factory):
    auth.login(factory.user(factory.municipality(), Role.SYSTEM_ADMIN))
    english(client)
    path = "/admin/municipalities/new"
    response = client.post(path, data={"code": "12", "name": "Ystad", "contact_email": "kommun@",
                                       "csrf_token": csrf_token(client, path)})
    page = response.get_data(as_text=True)
    assert summary(page) == ["Municipality code: Enter the municipality code in four digits, for example 1286.",
                             "Contact e-mail: Enter a valid e-mail address."]
    assert "Invalid email" not in page and "must be exactly" not in page
    # The field's own label still says it may be left empty.
    assert "Contact e-mail (optional)" in page


def test_a_municipality_named_as_a_member_in_another_case_is_told_not_a_server_error(client, auth, factory):
    auth.login(factory.user(factory.municipality("Sjöbo", "1293"), Role.SYSTEM_ADMIN))
    path = "/admin/municipalities/new"
    response = client.post(path, data={"code": "1214", "name": "sjöbo", "csrf_token": csrf_token(client, path)})
    assert response.status_code == 200
    assert summary(response.get_data(as_text=True)) == ["Namn: Det finns redan en ansluten kommun som heter Sjöbo."]


def test_the_forgotten_password_form_says_e_mail_address_the_same_way(client):
    english(client)
    response = client.post("/password/forgot", data={"email": "nobody.example",
                                                     "csrf_token": csrf_token(client, "/password/forgot")})
    assert "Enter a valid e-mail address." in response.get_data(as_text=True)


def test_the_swedish_summary_drops_the_optional_hint_and_says_e_postadress(client, auth, factory):
    """Swedish wording: passes once the translations are in."""
    auth.login(factory.user(factory.municipality(), Role.SYSTEM_ADMIN))
    path = "/admin/municipalities/new"
    page = client.post(path, data={"code": "1286", "name": "Ystad", "contact_email": "kommun@",
                                   "csrf_token": csrf_token(client, path)}).get_data(as_text=True)
    assert summary(page) == ["E-postadress för kontakt: Ange en giltig e-postadress."]
    assert "Felaktig epost-adress" not in page


def test_the_password_summary_follows_the_form(client, auth, factory):
    auth.login(factory.user(factory.municipality()))
    english(client)
    response = client.post("/account/password", data={"current_password": "", "password": "",
                                                       "csrf_token": csrf_token(client, "/account")})
    page = response.get_data(as_text=True)
    assert [line.partition(":")[0] for line in summary(page)] == ["Current password", "New password"]
    form = page[page.index('action="/account/password"'):]
    assert form.index('id="current_password"') < form.index('id="password"')


def test_two_step_asks_for_your_password_by_one_name(client, auth, factory, db):
    user = factory.user(factory.municipality())
    auth.login(user)
    user.totp_secret = pyotp.random_base32()  # turned on after the login: no second step to take here
    factory._save(user)
    english(client)
    page = client.post("/account/two-step/off", data={"csrf_token": csrf_token(client, "/account/two-step")}
                       ).get_data(as_text=True)
    assert "Current password" not in page
    assert page.count("Your password") >= 2  # a label in each of the page's two forms
    assert [line.partition(":")[0] for line in summary(page)] == ["Your password", "Code from your app"]


def test_the_extract_page_writes_its_row_limit_as_a_number(client, auth, factory):
    auth.login(factory.user(factory.municipality()))
    english(client)
    assert "the JSON file the newest 10,000;" in client.get("/account/personal-data").get_data(as_text=True)


def test_the_extract_page_writes_its_row_limit_the_swedish_way(client, auth, factory):
    """Swedish wording: passes once the translations are in."""
    auth.login(factory.user(factory.municipality()))
    assert "JSON-filen de 10\u00a0000 senaste" in client.get("/account/personal-data").get_data(as_text=True)


def _form_classes(form: type[FlaskForm] = FlaskForm) -> Iterator[type[FlaskForm]]:
    for subclass in form.__subclasses__():
        if subclass.__module__.startswith("sharing."):
            yield subclass
        yield from _form_classes(subclass)


def _declared(form: type[FlaskForm]) -> list[str]:
    """The fields in the form's order (WTForms': the order they were made in)."""
    fields = [(field.creation_counter, name) for name in dir(form)
              if not name.startswith("_") and hasattr(field := getattr(form, name), "creation_counter")]
    return [name for _, name in sorted(fields)]


def test_every_error_summary_lists_its_fields_in_the_order_the_page_shows_them(app):
    """The summary lists a form's fields in the form's order: that is the page's only if the
    form declares its fields in the order its template shows them."""
    orders = [_declared(form) for form in _form_classes()]  # every domain's forms: the app imported them
    mismatched = []
    for template in Path(sharing.__file__).parent.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        for form in set(re.findall(r"error_summary\((\w+)\)", text)):
            shown = list(dict.fromkeys(re.findall(rf"field\({form}\.(\w+)", text)))
            declared = [[name for name in order if name in shown] for order in orders if set(shown) <= set(order)]
            if len(shown) > 1 and declared and shown not in declared:
                mismatched.append((template.name, form, shown, declared))
    assert mismatched == []


def test_every_form_with_a_required_control_leaves_checking_it_to_the_service():
    """A browser's own "Please fill in this field" speaks its own language, which may not be the
    reader's: a form whose control is required is ``novalidate``, and the service tells what is
    missing in the reader's language (as the forms built with the field macro all do)."""
    unchecked = []
    for path in Path(sharing.__file__).parent.rglob("*.html"):
        for form in re.finditer(r"<form\b([^>]*)>(.*?)</form>", path.read_text(encoding="utf-8"), re.S):
            if re.search(r"<(input|select|textarea)\b[^>]*\srequired\b", form.group(2)) and \
                    "novalidate" not in form.group(1):
                unchecked.append(f"{path.name}: <form{form.group(1)[:60]}")
    assert unchecked == []
