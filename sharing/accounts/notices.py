"""The mails the accounts domain sends, each in the recipient's language."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlmodel import Session

from sharing.accounts.models import User
from sharing.mail import queue_mail, send_mail


def queue_invitation(session: Session, user: User, *, token: str, inviter: object) -> None:
    """The invitation, queued in ``session``'s transaction (sent once it commits). ``inviter`` is
    a name, or a lazy translation (read in the recipient's language)."""
    queue_mail(session, to=user.email, subject=_l("You are invited to Delningstjänsten"), locale=user.locale,
               template="accounts/mail/invitation.txt", user=user, token=token, inviter=inviter,
               days=current_app.config["INVITATION_DAYS"])


def queue_password_reset(session: Session, user: User, *, token: str) -> None:
    """The reset link, queued in ``session``'s transaction (sent once it commits)."""
    queue_mail(session, to=user.email, subject=_l("Reset your password"), locale=user.locale,
               template="accounts/mail/reset.txt", user=user, token=token,
               hours=current_app.config["PASSWORD_RESET_HOURS"])


def password_changed(user: User) -> bool:
    return send_mail(to=user.email, subject=_l("Your password was changed"), locale=user.locale,
                     template="accounts/mail/password_changed.txt", user=user)


def two_step_changed(user: User, *, enabled: bool) -> bool:
    subject = _l("Two-step verification is on") if enabled else _l("Two-step verification is off")
    return send_mail(to=user.email, subject=subject, locale=user.locale,
                     template="accounts/mail/two_step_changed.txt", user=user, enabled=enabled)


def queue_recovery_code_used(session: Session, user: User, *, left: int) -> None:
    """Someone signed in with one of the user's recovery codes: if it was not them, they know."""
    queue_mail(session, to=user.email, subject=_l("A recovery code was used"), locale=user.locale,
               template="accounts/mail/recovery_code_used.txt", user=user, left=left)
