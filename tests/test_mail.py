"""Queued mail: sent in the background once the transaction that queued it commits."""

import pytest
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, func, select

from sharing.i18n import N_
from sharing.mail import (
    MAX_ATTACHMENTS_BYTES,
    Attachment,
    AttachmentsTooLarge,
    QueuedMail,
    queue_mail,
    send_queued,
    wait_for_background_mail,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_queued_mail_is_sent_from_memory_once_committed_and_then_taken_off_the_queue(app, db, factory, mailbox):
    """The process that queued a message sends it itself: it was queued claimed, so neither the
    queue is asked for it again nor is it claimed a second time; once sent it is deleted."""
    user = factory.user(factory.municipality())
    statements: list[str] = []

    def note(connection, cursor, statement, *args):
        statements.append(statement)

    engine = app.extensions["sharing.engine"]
    event.listen(engine, "before_cursor_execute", note)
    try:
        with app.app_context():
            queue_mail(db, to=user.email, subject="Lösenordet är ändrat", template="accounts/mail/password_changed.txt",
                       user=user)
            db.commit()
        assert wait_for_background_mail()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert [s.split()[0] for s in statements if "mail_queue" in s] == ["INSERT", "DELETE"]
    assert [message["To"] for message in mailbox.messages] == [user.email]
    assert db.scalar(select(func.count()).select_from(QueuedMail)) == 0


def test_queued_mail_carries_its_attachments_to_the_smtp_server(app, db, factory, mailbox):
    user = factory.user(factory.municipality())
    pdf = Attachment("rapport.pdf", "application/pdf", b"%PDF-1.4 test\n%%EOF")
    sheet = Attachment("rapport.xlsx", XLSX, b"PK\x03\x04" + bytes(range(256)))
    with app.app_context():
        queue_mail(db, to=user.email, subject="Rapport", template="accounts/mail/password_changed.txt",
                   user=user, attachments=[pdf, sheet])
        db.commit()
    (message,) = mailbox.messages
    files = [(part.get_filename(), part.get_content_type(), part.get_content()) for part in message.iter_attachments()]
    assert files == [("rapport.pdf", "application/pdf", pdf.content), ("rapport.xlsx", XLSX, sheet.content)]
    assert "lösenord" in message.get_body(("plain",)).get_content().lower()


def test_too_large_attachments_queue_nothing(app, db, factory):
    user = factory.user(factory.municipality())
    with app.app_context(), pytest.raises(AttachmentsTooLarge):
        queue_mail(db, to=user.email, subject="Rapport", template="accounts/mail/password_changed.txt", user=user,
                   attachments=[Attachment("stor.pdf", "application/pdf", b"x" * (MAX_ATTACHMENTS_BYTES + 1))])
    assert db.scalar(select(func.count()).select_from(QueuedMail)) == 0


def test_mail_queued_later_is_rendered_by_the_job_and_says_what_it_would_have_said_at_once(app, db, factory,
                                                                                           mailbox):
    """A notice queued ``later`` costs its request no rendering and no sending: the job renders it,
    in the reader's language, to the same words as a message rendered at once."""
    user = factory.user(factory.municipality(), name="Åsa Öberg")
    user.locale = "en"
    db.add(user)
    db.commit()
    said = {"to": user.email, "locale": user.locale, "template": "loans/mail/step.txt",
            "message": N_("%(unit)s asks for %(quantity)s of “%(listing)s”."),
            "params": {"unit": "Förskolan Solen", "quantity": 3, "listing": "Stolar"}, "request_id": 7}
    with app.app_context():
        queue_mail(db, subject=N_("New request: %(listing)s"), subject_params={"listing": "Stolar"}, later=True,
                   user={"name": user.name}, **said)
        db.commit()
        assert wait_for_background_mail()
        (queued,) = db.scalars(select(QueuedMail)).all()
        assert queued.message == "" and queued.recipe is not None, "kept unrendered"
        db.expunge(queued)
        assert mailbox._messages == [], "not sent by the request"
        assert send_queued() == 1
        (later,) = mailbox._messages
        queue_mail(db, subject=_l("New request: %(listing)s", listing="Stolar"), user=user, **said)
        db.commit()
        assert wait_for_background_mail()
    at_once = mailbox._messages[1]
    assert db.scalar(select(func.count()).select_from(QueuedMail)) == 0
    for header in ("From", "To", "Subject", "Content-Type", "Content-Transfer-Encoding"):
        assert later[header] == at_once[header], header
    assert later["Subject"] == "New request: Stolar"  # English, as the reader reads
    assert later.get_content() == at_once.get_content()
    assert "Hello Åsa Öberg," in later.get_content() and "Förskolan Solen asks for 3 of" in later.get_content()
    assert "http://delning.test/loans/7" in later.get_content()


def test_mail_queued_later_carries_no_files_and_has_a_msgid_for_subject(app, db, factory):
    user = factory.user(factory.municipality())
    with app.app_context():
        with pytest.raises(ValueError):
            queue_mail(db, to=user.email, subject="Rapport", template="accounts/mail/password_changed.txt",
                       later=True, attachments=[Attachment("a.pdf", "application/pdf", b"%PDF")])
        with pytest.raises(TypeError):
            queue_mail(db, to=user.email, subject=_l("Rapport"), template="accounts/mail/password_changed.txt",
                       later=True)


def test_a_subject_naming_a_title_with_a_line_break_is_sent_on_one_line(app, db, factory, mailbox):
    user = factory.user(factory.municipality(), name="Åsa Öberg")
    with app.app_context():
        queue_mail(db, to=user.email, subject=N_("New request: %(listing)s"),
                   subject_params={"listing": "Stolar\r\ni ek"}, later=True, template="loans/mail/step.txt",
                   user={"name": user.name}, message=N_("A new message about “%(listing)s”."),
                   params={"listing": "Stolar"}, request_id=7)
        db.commit()
        assert send_queued() == 1
    assert mailbox._messages[-1]["Subject"] == "Ny förfrågan: Stolar i ek"

