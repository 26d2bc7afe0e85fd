"""Outgoing e-mail: SMTP in production, an outbox of .eml files in development.

``send_mail`` sends at once. ``queue_mail`` writes the message, with any files attached
(``Attachment``, at most ``MAX_ATTACHMENTS_BYTES`` in all, as the queue keeps the whole
message), to the mail queue (the ``mail_queue`` table) in the caller's transaction; once that
commits, a background thread sends it from memory, and the ``send-queued-mail`` job tries
again what failed (after 1, 2, 4 ... minutes, at most an hour apart). A request that queues
mail never waits for the mail server, and no message is lost while the server is slow or down.
A sent message is deleted.

Notices that may wait for the job's next run (a minute at most) are queued ``later``: what the
message says (its template and plain values) is kept rather than the message, and the job
renders and sends it, so the request that caused it pays for neither.
"""

from __future__ import annotations

import json
import logging
import smtplib
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email import message_from_string, policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import partial
from pathlib import Path
from typing import Any

from flask import Flask, current_app, render_template
from flask_babel import force_locale, lazy_gettext
from sqlalchemy import JSON, Column, Text, delete, select, update
from sqlmodel import Field, Session, SQLModel, col

from sharing import transactions
from sharing.clock import utcnow
from sharing.db import UTCDateTime, new_session
from sharing.jobs import Job, add_job
from sharing.typed import app_object

log = logging.getLogger("sharing.mail")

# Waits between attempts of a queued message: 1, 2, 4 ... minutes, at most an hour.
MAX_RETRY_WAIT = timedelta(hours=1)
# The files of one queued message, in all: the queue keeps the whole message (base64: a third
# more), and many mail servers refuse messages above 10 MB.
MAX_ATTACHMENTS_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message: its name as the reader sees it, its MIME type, its bytes."""

    filename: str
    mimetype: str
    content: bytes


class AttachmentsTooLarge(ValueError):
    """The files would make the queued message larger than ``MAX_ATTACHMENTS_BYTES`` allows."""


class QueuedMail(SQLModel, table=True):
    """A message waiting to be sent (it may hold a secret link: it is deleted once sent, and
    never logged)."""

    __tablename__ = "mail_queue"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    message: str = Field(sa_type=Text)  # empty for a message queued ``later``: its recipe says it
    # A message queued ``later``: to, subject (a msgid), template, locale and the template's values.
    recipe: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime, index=True)


def _render(*, to: str, subject: object, template: str, locale: str | None, context: dict[str, object],
            attachments: Sequence[Attachment] = ()) -> EmailMessage:
    """Templates build links with ``url_for(..., _external=True)``: they are rendered against
    the configured SHARING_BASE_URL, never the Host header of the request that caused the
    mail, which an attacker controls. ``subject`` may be a lazy translation."""
    config = current_app.config
    with current_app.test_request_context(base_url=config["SHARING_BASE_URL"]), force_locale(locale or "sv"):
        body = render_template(template, **context)
        subject_text = str(subject)
    message = EmailMessage()
    message["From"] = config["MAIL_SENDER"]
    message["To"] = to
    message["Subject"] = " ".join(subject_text.split())  # a title with a line break in it must not stop the mail
    message["Date"] = format_datetime(datetime.now(timezone.utc))
    message["Message-ID"] = make_msgid(domain="delning.invalid")
    message.set_content(body)
    for attachment in attachments:
        maintype, _slash, subtype = attachment.mimetype.partition("/")
        message.add_attachment(attachment.content, maintype=maintype, subtype=subtype,
                               filename=attachment.filename)
    return message


def _deliver(message: EmailMessage) -> None:
    config = current_app.config
    if config["MAIL_BACKEND"] == "outbox":
        _write_to_outbox(Path(config["MAIL_OUTBOX_DIR"]), message)
    else:
        _send_smtp(message)


def send_mail(*, to: str, subject: object, template: str, locale: str | None = None, **context: object) -> bool:
    """Render ``template`` (plain text) in the recipient's language and send it now; False if it
    failed. See ``_render`` for the links."""
    message = _render(to=to, subject=subject, template=template, locale=locale, context=context)
    try:
        _deliver(message)
    except (OSError, smtplib.SMTPException):
        log.exception("mail could not be sent (template %s)", template)
        return False
    return True


def queue_mail(session: Session, *, to: str, subject: object, template: str, locale: str | None = None,
               attachments: Sequence[Attachment] = (), later: bool = False,
               subject_params: Mapping[str, object] | None = None, **context: object) -> None:
    """Render the message now and queue it in ``session``'s transaction: it is sent in the
    background once that commits (and never if it rolls back), retried by a job if it fails.
    ``attachments`` go with it, at most ``MAX_ATTACHMENTS_BYTES`` in all (else
    ``AttachmentsTooLarge``, and nothing is queued).

    It is queued as claimed by this process for its first attempt: the job leaves it alone
    until that attempt's time is up, so this process sends it without asking the queue first.

    ``later``: nothing is rendered now; the ``send-queued-mail`` job renders the message and
    sends it on its next run. The subject is then a msgid (``N_``), translated when rendered
    (with ``subject_params``, plain values), and the context plain values (JSON: names, ids,
    numbers), as the template reads them then: the message says what it would have said now."""
    now = utcnow()
    if later:
        if attachments:
            raise ValueError("a message queued later carries no files")
        if not isinstance(subject, str):
            raise TypeError("a message queued later has a msgid as its subject")
        recipe = {"to": to, "subject": subject, "subject_params": dict(subject_params or {}), "template": template,
                  "locale": locale, "context": context}
        session.add(QueuedMail(created_at=now, message="", recipe=json.loads(json.dumps(recipe)), attempts=0,
                               next_attempt_at=now))
        return
    size = sum(len(attachment.content) for attachment in attachments)
    if size > MAX_ATTACHMENTS_BYTES:
        raise AttachmentsTooLarge(f"{size} bytes attached; at most {MAX_ATTACHMENTS_BYTES}")
    message = _render(to=to, subject=subject, template=template, locale=locale, context=context,
                      attachments=attachments)
    text = message.as_string()
    queued = QueuedMail(created_at=now, message=text, attempts=1, next_attempt_at=now + _retry_wait(1))
    session.add(queued)
    session.flush()
    transactions.after_commit(session, partial(_in_background, partial(_send_claimed, queued.id, text)))


def _send_claimed(mail_id: int | None, text: str) -> None:
    """Send a message this process queued and claimed, as queued, and take it off the queue once
    sent; if sending fails, the job tries again once the claim's time is up."""
    try:
        _deliver(message_from_string(text, _class=EmailMessage, policy=policy.default))
    except (OSError, smtplib.SMTPException) as error:
        log.warning("queued mail %s not sent (attempt 1: %s); tried again later", mail_id, type(error).__name__)
        return
    with new_session() as session:
        session.execute(delete(QueuedMail).where(col(QueuedMail.id) == mail_id))
        session.commit()


def _retry_wait(attempts: int) -> timedelta:
    return min(timedelta(minutes=2 ** min(attempts - 1, 10)), MAX_RETRY_WAIT)


def send_queued() -> int:
    """Send the queued messages that are due; returns how many went out.

    Each is claimed first by moving its next attempt on, so two runs of the job never send one
    twice (nor one the process that queued it is still sending: it was queued claimed); a
    message whose sending fails waits for that next attempt."""
    now = utcnow()
    with new_session() as session:
        due = select(col(QueuedMail.id), col(QueuedMail.attempts)).where(col(QueuedMail.next_attempt_at) <= now)
        rows = session.execute(due.order_by(col(QueuedMail.id)).limit(500)).all()
        session.commit()
    sent = 0
    for mail_id, attempts in rows:
        with new_session() as session:
            claimed = session.execute(
                update(QueuedMail).where(col(QueuedMail.id) == mail_id, col(QueuedMail.attempts) == attempts)
                .values(attempts=attempts + 1, next_attempt_at=now + _retry_wait(attempts + 1))
            )
            found = session.execute(select(col(QueuedMail.message), col(QueuedMail.recipe))
                                    .where(col(QueuedMail.id) == mail_id)).one_or_none()
            session.commit()
        if claimed.rowcount != 1 or found is None:  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult
            continue
        text, recipe = found
        try:
            message = _from_recipe(recipe) if recipe else \
                message_from_string(text, _class=EmailMessage, policy=policy.default)
        except Exception:  # noqa: BLE001 - one message that cannot be rendered holds up no other
            log.exception("queued mail %s could not be rendered; tried again later", mail_id)
            continue
        try:
            _deliver(message)
        except (OSError, smtplib.SMTPException) as error:
            # The error's class only: the message (with any link it holds) stays out of the log.
            log.warning("queued mail %s not sent (attempt %d: %s); tried again later", mail_id, attempts + 1,
                        type(error).__name__)
            continue
        with new_session() as session:
            session.execute(delete(QueuedMail).where(col(QueuedMail.id) == mail_id))
            session.commit()
        sent += 1
    return sent


def _from_recipe(recipe: dict[str, Any]) -> EmailMessage:
    """The message a ``later`` one says, rendered now."""
    return _render(to=recipe["to"], subject=lazy_gettext(recipe["subject"], **recipe.get("subject_params", {})),
                   template=recipe["template"], locale=recipe["locale"], context=recipe["context"])


def send_queued_mail() -> None:
    """The ``send-queued-mail`` job: what failed, and what a stopped process left unsent."""
    send_queued()


def init_app(app: Flask) -> None:
    add_job(app, Job("send-queued-mail", send_queued_mail, timedelta(minutes=1)))


_background: list[threading.Thread] = []
_background_lock = threading.Lock()


def send_mail_in_background(**mail: Any) -> None:
    """``send_mail`` on a thread of its own, for mail a request causes but need not wait for:
    a slow mail server (15 s a message at worst) must not hold up the person who clicked.
    The message is rendered on that thread too, so pass values, not lazy-loading objects."""
    _in_background(partial(send_mail, **mail))


def _in_background(work: Any) -> None:
    app = app_object()

    def send() -> None:
        with app.app_context():
            work()

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
