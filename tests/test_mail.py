"""Queued mail: sent in the background once the transaction that queued it commits."""

import pytest
from sqlalchemy import event, func, select

from sharing.mail import MAX_ATTACHMENTS_BYTES, Attachment, AttachmentsTooLarge, QueuedMail, queue_mail

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
        assert [message["To"] for message in mailbox.messages] == [user.email]
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert [s.split()[0] for s in statements if "mail_queue" in s] == ["INSERT", "DELETE"]
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
