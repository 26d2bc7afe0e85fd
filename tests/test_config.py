"""Configuration from the environment, and the development outbox."""

from pathlib import Path

import pytest

from sharing.config import ConfigError, load_config


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    with pytest.raises(ConfigError):
        load_config({"SHARING_ENV": "production"}, tmp_path)
    config = load_config({"SHARING_ENV": "production", "SHARING_SECRET_KEY": "s" * 40}, tmp_path)
    assert config["SECRET_KEY"] == "s" * 40
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["MAIL_BACKEND"] == "smtp"
    # No third party by default: a map tile server only when an administrator configures one.
    assert config["MAP_TILE_URL"] == "" and config["MAP_ATTRIBUTION"] == ""


def test_development_defaults(tmp_path):
    config = load_config({"SHARING_ENV": "development"}, tmp_path)
    assert config["SHARING_DATABASE_URL"] == f"sqlite:///{tmp_path / 'sharing.sqlite3'}"
    assert config["MAIL_BACKEND"] == "outbox"
    assert config["SESSION_COOKIE_SECURE"] is False


def test_development_outbox_can_be_read(app, client, factory, tmp_path):
    app.config.update(MAIL_BACKEND="outbox", MAIL_OUTBOX_DIR=str(tmp_path / "outbox"))
    user = factory.user(factory.municipality())
    from sharing.mail import wait_for_background_mail
    from tests.conftest import csrf_token

    client.post("/password/forgot", data={"email": user.email, "csrf_token": csrf_token(client, "/password/forgot")})
    assert wait_for_background_mail()  # the reset mail is sent after the response
    assert len(list(Path(tmp_path / "outbox").glob("*.eml"))) == 1
    runner = app.test_cli_runner()
    listing = runner.invoke(args=["outbox", "list"])
    assert user.email in listing.output and "Återställ ditt lösenord" in listing.output
    message = runner.invoke(args=["outbox", "list", "--show", "1"])
    assert "/password/reset/" in message.output


def test_too_large_requests_are_refused_with_a_page(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = client.post("/language", data={"language": "x" * 5000})
    assert response.status_code == 413
    assert "Filen är för stor" in response.get_data(as_text=True)


def test_the_geocoder_is_nominatim_in_production_and_none_in_development(tmp_path):
    production = load_config({"SHARING_ENV": "production", "SHARING_SECRET_KEY": "s" * 40,
                              "SHARING_BASE_URL": "https://delning.ystad.se",
                              "SHARING_MAIL_SENDER": "Delningstjänsten <delning@ystad.se>"}, tmp_path)
    assert production["GEOCODER"] == "nominatim"
    assert production["GEOCODER_URL"] == "https://nominatim.openstreetmap.org"
    # Nominatim's usage policy: a user agent that names the service and a contact; one request a second.
    assert production["GEOCODER_USER_AGENT"] == "Delningstjansten/1.0 (+https://delning.ystad.se; delning@ystad.se)"
    assert production["GEOCODER_MIN_DELAY_SECONDS"] == 1 and production["GEOCODER_TIMEOUT"] == 3
    # Development and tests ask no one: `make run` works without a network.
    assert load_config({"SHARING_ENV": "development"}, tmp_path)["GEOCODER"] == "none"
    assert load_config({"SHARING_ENV": "testing"}, tmp_path)["GEOCODER"] == "none"

    own = load_config({"SHARING_ENV": "development", "SHARING_GEOCODER": "Nominatim",
                       "SHARING_GEOCODER_URL": "https://geo.skurup.se/nominatim",
                       "SHARING_GEOCODER_CONTACT": "it@skurup.se", "SHARING_GEOCODER_MIN_DELAY_SECONDS": "0.2",
                       "SHARING_GEOCODER_TIMEOUT": "1.5"}, tmp_path)
    assert (own["GEOCODER"], own["GEOCODER_MIN_DELAY_SECONDS"], own["GEOCODER_TIMEOUT"]) == ("nominatim", 0.2, 1.5)
    assert own["GEOCODER_USER_AGENT"].endswith("; it@skurup.se)")


def test_a_geocoder_configuration_that_would_break_the_rules_is_refused(tmp_path):
    with pytest.raises(ConfigError):
        load_config({"SHARING_ENV": "development", "SHARING_GEOCODER": "google"}, tmp_path)
    with pytest.raises(ConfigError):  # the public Nominatim allows one request a second
        load_config({"SHARING_ENV": "development", "SHARING_GEOCODER": "nominatim",
                     "SHARING_GEOCODER_MIN_DELAY_SECONDS": "0.5"}, tmp_path)
