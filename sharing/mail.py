"""Outgoing e-mail: SMTP in production, an outbox of .eml files in development."""

from __future__ import annotations

import logging
import smtplib
import threading
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale

from sharing.typed import app_object

log = logging.getLogger("sharing.mail")


def send_mail(*, to: str, subject: object, template: str, locale: str | None = None, **context: object) -> bool:
    """Render ``template`` (plain text) in the recipient's language and send it; False if it failed.

    Templates build links with ``url_for(..., _external=True)``: they are rendered against
    the configured SHARING_BASE_URL, never the Host header of the request that caused the
    mail, which an attacker controls. ``subject`` may be a lazy translation.
    """
    config = current_app.config
    with current_app.test_request_context(base_url=config["SHARING_BASE_URL"]), force_locale(locale or "sv"):
        body = render_template(template, **context)
        subject_text = str(subject)
    message = EmailMessage()
    message["From"] = config["MAIL_SENDER"]
    message["To"] = to
    message["Subject"] = subject_text
    message["Date"] = format_datetime(datetime.now(timezone.utc))
    message["Message-ID"] = make_msgid(domain="delning.invalid")
    message.set_content(body)
    try:
        if config["MAIL_BACKEND"] == "outbox":
            _write_to_outbox(Path(config["MAIL_OUTBOX_DIR"]), message)
        else:
            _send_smtp(message)
    except (OSError, smtplib.SMTPException):
        log.exception("mail could not be sent (template %s)", template)
        return False
    return True


_background: list[threading.Thread] = []
_background_lock = threading.Lock()


def send_mail_in_background(**mail: Any) -> None:
    """``send_mail`` on a thread of its own, for mail a request causes but need not wait for:
    a slow mail server (15 s a message at worst) must not hold up the person who clicked.
    The message is rendered on that thread too, so pass values, not lazy-loading objects."""
    app = app_object()

    def send() -> None:
        with app.app_context():
            send_mail(**mail)

    thread = threading.Thread(target=send, name="mail", daemon=False)  # a stopping worker lets it finish
    with _background_lock:
        _background[:] = [t for t in _background if t.is_alive()]
        _background.append(thread)
    thread.start()


def wait_for_background_mail(timeout: float = 30) -> bool:
    """Wait for mail sent in the background (tests; an orderly shutdown); False if some is still going."""
    with _background_lock:
        threads = list(_background)
    for thread in threads:
        thread.join(timeout)
    return not any(thread.is_alive() for thread in threads)


def _write_to_outbox(outbox: Path, message: EmailMessage) -> None:
    outbox.mkdir(parents=True, exist_ok=True)
    path = outbox / f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S%f}.eml"
    path.write_bytes(bytes(message))
    log.info("mail written to outbox: %s", path.name)


def _send_smtp(message: EmailMessage) -> None:
    config = current_app.config
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=15) as smtp:
        if config["MAIL_STARTTLS"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        smtp.send_message(message)
