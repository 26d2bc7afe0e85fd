"""Queued mail: sent in the background once the transaction that queued it commits."""

from sqlalchemy import event, func, select

from sharing.mail import QueuedMail, queue_mail


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
