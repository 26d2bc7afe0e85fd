"""Outgoing e-mail: SMTP in production, an outbox of .eml files in development."""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale

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
