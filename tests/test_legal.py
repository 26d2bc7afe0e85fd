"""The accessibility statement and the privacy notice: public, in both languages, linked from
every page, and stating the retention periods the code enforces."""

from __future__ import annotations

import pytest

from sharing.accounts import LOGIN_ATTEMPTS_KEPT, SESSIONS_KEPT, SSO_REFUSALS_KEPT, notifications
from sharing.accounts.models import Role
from sharing.api import idempotency
from sharing.loans import retention
from tests.conftest import csrf_token


def english(client) -> None:
    client.post("/language", data={"language": "en", "csrf_token": csrf_token(client, "/login")})


@pytest.mark.parametrize("path", ["/", "/login", "/accessibility", "/privacy"])
def test_every_page_links_both_from_its_footer(client, path):
    page = client.get(path).get_data(as_text=True)
    footer = page[page.index('<footer class="site-footer">'):]
    assert 'href="/accessibility"' in footer and ">Tillgänglighetsredogörelse<" in footer
    assert 'href="/privacy"' in footer and ">Personuppgifter<" in footer


def test_the_footer_links_show_to_signed_in_users_too(client, auth, factory):
    auth.login(factory.user(factory.municipality(), Role.EMPLOYEE))
    footer = client.get("/catalog/").get_data(as_text=True).split('<footer class="site-footer">')[1]
    assert 'href="/accessibility"' in footer and 'href="/privacy"' in footer


def test_the_accessibility_statement_follows_digg_s_model(client, factory):
    ystad = factory.municipality("Ystad", "1286")
    ystad.contact_email = "kommun@ystad.example"
    factory._save(ystad)
    factory.municipality("Sjöbo", "1285")
    response = client.get("/accessibility")
    page = response.get_data(as_text=True)
    assert response.status_code == 200  # no sign-in
    assert "<h1>Tillgänglighetsredogörelse</h1>" in page
    assert "<strong>delvis förenlig</strong>" in page and "WCAG 2.1 nivå AA" in page and "EN 301 549" in page
    assert "Kartan" in page and "inte taggade" in page  # the known shortcomings
    assert 'href="mailto:kommun@ystad.example"' in page  # where to report one
    assert "Myndigheten för digital förvaltning" in page and 'href="https://www.digg.se/tdosanmalan"' in page
    assert "upprättades den 3 december 2026" in page  # a date as a sentence says it
    assert "(i dag Sjöbo och Ystad)" in page  # its members as they are, one joined since

    english(client)
    page = client.get("/accessibility").get_data(as_text=True)
    assert "<h1>Accessibility statement</h1>" in page and "partially compliant" in page
    assert "(today Sjöbo and Ystad)" in page and "drawn up on December 3, 2026" in page
    assert 'lang="en"' in page and 'href="mailto:kommun@ystad.example"' in page


def test_the_privacy_notice_states_what_the_code_keeps_and_for_how_long(client, app):
    response = client.get("/privacy")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1>Så hanterar vi dina personuppgifter</h1>" in page
    assert "artikel 6.1 e" in page and "personuppgiftsansvarig" in page and "Integritetsskyddsmyndigheten" in page
    assert f"raderas efter {LOGIN_ATTEMPTS_KEPT.days * 24} timmar" in page
    assert f"raderas {SESSIONS_KEPT.days} dagar efter" in page
    assert (f"Notiser raderas {notifications.READ_RETENTION.days} dagar efter att du har läst dem, och senast "
            f"efter {notifications.RETENTION.days} dagar") in page
    assert f"nekad inloggning med kommunens konto raderas {SSO_REFUSALS_KEPT.days} dagar efter den" in page
    assert "En återställningskod raderas när den används" in page
    assert "”Mitt konto” → ”Dina personuppgifter”" in page and "raderar din kommuns administratör dig" in page
    assert f"ska få samma svar) raderas efter {idempotency.KEPT.days * 24} timmar" in page
    assert "IP-adress" in page and "även för lokalförvaltare i alla anslutna kommuner" in page
    # Without a tile server, no third party learns anything; with one, the page says so.
    assert "kartserver" not in page
    app.config["MAP_TILE_URL"] = "https://kartor.ystad.example/{z}/{x}/{y}.png"
    assert "kartserver som din kommun har valt" in client.get("/privacy").get_data(as_text=True)

    english(client)
    page = client.get("/privacy").get_data(as_text=True)
    assert "Article 6(1)(e)" in page and f"after {notifications.RETENTION.days} days at the latest" in page
    assert f"{notifications.READ_RETENTION.days} days after you read them" in page
    assert f"are deleted {SSO_REFUSALS_KEPT.days} days after it" in page


def test_the_privacy_notice_states_how_long_loans_keep_what_people_wrote_and_queued_for(client):
    page = client.get("/privacy").get_data(as_text=True)
    assert f"fotot vid återlämningen raderas {retention.REQUEST_TEXT_KEPT.days} dagar efter att förfrågan" in page
    assert f"En köplats raderas {retention.QUEUE_PLACE_KEPT.days} dagar efter att du lämnade kön" in page
    assert "<strong>Köplatser:</strong>" in page and "vem som frågade" in page

    english(client)
    page = client.get("/privacy").get_data(as_text=True)
    assert f"are deleted {retention.REQUEST_TEXT_KEPT.days} days after the request ended" in page
    assert f"A queue place is deleted {retention.QUEUE_PLACE_KEPT.days} days after you left" in page


def test_the_privacy_notice_names_each_municipality_s_data_protection_officer(client, auth, factory, db):
    ystad = factory.municipality("Ystad", "1286")
    factory.municipality("Sjöbo", "1285")
    auth.login(factory.user(ystad, Role.MUNICIPALITY_ADMIN))
    client.post("/language", data={"language": "en", "csrf_token": csrf_token(client, "/")})
    path = f"/admin/municipalities/{ystad.id}/settings"
    form = {"name": "Ystad", "contact_email": "", "csrf_token": csrf_token(client, path)}
    bad = client.post(path, data={**form, "data_protection_officer_email": "dso@"})
    assert bad.status_code == 200 and "Data protection officer&#39;s e-mail: Enter a valid e-mail address." in \
        bad.get_data(as_text=True)
    assert client.post(path, data={**form, "data_protection_officer_email": "dso@ystad.example"}
                       ).status_code == 302
    assert 'value="dso@ystad.example"' in client.get(path).get_data(as_text=True)
    auth.logout()

    english(client)
    page = client.get("/privacy").get_data(as_text=True)
    officers = page[page.index("<h2>Data protection officer</h2>"):page.index("<h2>What we keep</h2>")]
    assert 'Ystad: <a href="mailto:dso@ystad.example">dso@ystad.example</a>' in officers
    assert "Sjöbo: contact details are on the municipality&#39;s website" in officers
    assert "by the municipalities that run the service and their hosting provider" in page
    assert '<a href="https://www.imy.se/">' in page

    client.post("/language", data={"language": "sv", "csrf_token": csrf_token(client, "/login")})
    page = client.get("/privacy").get_data(as_text=True)
    officers = page[page.index("<h2>Dataskyddsombud</h2>"):page.index("<h2>Vilka uppgifter vi sparar</h2>")]
    assert 'Ystad: <a href="mailto:dso@ystad.example">dso@ystad.example</a>' in officers
    assert "Sjöbo: kontaktuppgifter finns på kommunens webbplats" in officers
    assert "av de kommuner som driver tjänsten och deras driftleverantör" in page
    assert '<a href="https://www.imy.se/">Integritetsskyddsmyndigheten (IMY)</a>' in page
