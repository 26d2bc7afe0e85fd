"""Two-step verification with time-based one-time codes (TOTP, RFC 6238), as authenticator
apps (Microsoft Authenticator, FreeOTP, ...) produce them."""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp
import segno
from sqlmodel import Session

from sharing.accounts.models import User
from sharing.accounts.passwords import verify_password
from sharing.errors import DomainError
from sharing.i18n import N_

ISSUER = "Delningstjänsten"
STEP_SECONDS = 30


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_code_svg(uri: str, title: str) -> str:
    """The enrolment QR code as inline SVG (no image request, no third party)."""
    return segno.make(uri, error="m").svg_inline(scale=5, title=title, border=2)


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code this is, allowing one step of clock drift either way."""
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    step = totp.timecode(now)
    for candidate in (step, step - 1, step + 1):
        if hmac.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def _use_code(user: User, secret: str, code: str, now: datetime) -> None:
    step = _matching_step(secret, code, now)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        raise DomainError(N_("The code is wrong or has already been used. Enter the code your app shows now."),
                          field="code")
    user.totp_last_step = step


def enable(session: Session, *, user: User, secret: str, code: str, now: datetime) -> None:
    """Turn two-step verification on, once the user has shown their app produces the codes."""
    _use_code(user, secret, code, now)
    user.totp_secret = secret
    session.add(user)


def verify(session: Session, *, user: User, code: str, now: datetime) -> None:
    """Check a code at login; each code works once."""
    if user.totp_secret is None:
        raise DomainError(N_("Two-step verification is not turned on."))
    _use_code(user, user.totp_secret, code, now)
    session.add(user)


def disable(session: Session, *, user: User, password: str, code: str, now: datetime) -> None:
    """Turn it off: the user proves both factors once more."""
    if not verify_password(user.password_hash, password):
        raise DomainError(N_("The current password is wrong."), field="current_password")
    verify(session, user=user, code=code, now=now)
    reset(session, user=user)


def reset(session: Session, *, user: User) -> None:
    """Forget the secret (an administrator helping a user who lost their phone)."""
    user.totp_secret = None
    user.totp_last_step = None
    session.add(user)
