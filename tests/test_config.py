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
