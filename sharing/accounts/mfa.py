"""Two-step verification with time-based one-time codes (TOTP, RFC 6238), as authenticator
apps (Microsoft Authenticator, FreeOTP, ...) produce them, and recovery codes for a lost phone.

Recovery codes: ten single-use codes made when two-step verification is turned on (and anew on
request, which voids the old ones), shown once, usable instead of the app's code at sign-in.
Each is 12 characters of Crockford's base32 (60 random bits), and only its SHA-256 (with the
user's id) is kept. A slow hash (Argon2, as for passwords) guards what people choose, which is
guessable; a random 60-bit code is not: finding one from its hash takes some 2^59 hashes on
average, years on a GPU cluster, per code and user. A plain hash can also be looked up, so
using a code is one conditional DELETE: used once, even by two sign-ins at the same moment.
Guessing online is throttled as the app's codes are (the sign-in's second step counts both).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
import segno
from sqlalchemy import delete, func, select
from sqlmodel import Session, col

from sharing import events
from sharing.accounts.audit import record_account_event
from sharing.accounts.models import Actor, RecoveryCode, User
from sharing.accounts.passwords import verify_password
from sharing.errors import DomainError
from sharing.i18n import N_
from sharing.typed import id_of

ISSUER = "Delningstjänsten"
STEP_SECONDS = 30
TWO_STEP_ON = "accounts.two_step.turned_on"
TWO_STEP_OFF = "accounts.two_step.turned_off"
TWO_STEP_RESET = "accounts.two_step.reset"  # by an administrator


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def in_groups(secret: str, size: int = 4) -> list[str]:
    """The key in groups of four, to read and type (as the apps show it): ABCD EFGH …"""
    return [secret[start:start + size] for start in range(0, len(secret), size)]


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
    record_account_event(session, TWO_STEP_ON, user=user, by=user, now=now)


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
    _forget(session, user=user)
    record_account_event(session, TWO_STEP_OFF, user=user, by=user, now=now)


def reset(session: Session, *, user: User, by: Actor, now: datetime) -> None:
    """Forget the secret and the recovery codes (an administrator helping a user who lost their
    phone and their codes)."""
    _forget(session, user=user)
    record_account_event(session, TWO_STEP_RESET, user=user, by=by, now=now)


def _forget(session: Session, *, user: User) -> None:
    user.totp_secret = None
    user.totp_last_step = None
    session.add(user)
    discard_recovery_codes(session, user_id=id_of(user))


# --- Recovery codes ---------------------------------------------------------------------

RECOVERY_CODES = 10
RECOVERY_CODES_FEW = 3  # at most this many left: the user is told to make new ones
RECOVERY_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford's base32: no i, l, o, u
RECOVERY_CODE_LENGTH = 12  # 60 bits
# What people mistype for what Crockford's alphabet means, and what they add between groups.
_TYPED_AS = str.maketrans({"i": "1", "l": "1", "o": "0", " ": None, "-": None, "\t": None})
RECOVERY_CODES_MADE = "accounts.recovery_codes.made"
RECOVERY_CODE_USED = "accounts.recovery_code.used"


def _normalised(code: str) -> str:
    return code.strip().lower().translate(_TYPED_AS)


def _recovery_digest(user_id: int, code: str) -> str:
    return hashlib.sha256(f"{user_id}:{_normalised(code)}".encode()).hexdigest()


def is_recovery_code(code: str) -> bool:
    """Whether a code typed at sign-in is meant as a recovery code (the app's are six digits)."""
    normalised = _normalised(code)
    return not (normalised.isdigit() and len(normalised) == 6)


def make_recovery_codes(session: Session, *, user: User, now: datetime) -> list[str]:
    """Ten new recovery codes, returned once (grouped for reading: ``abcd-efgh-jkmn``); those made
    before stop working. Only for a user with two-step verification on."""
    if user.totp_secret is None:
        raise DomainError(N_("Two-step verification is not turned on."))
    user_id = id_of(user)
    discard_recovery_codes(session, user_id=user_id)
    codes = ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
             for _ in range(RECOVERY_CODES)]
    session.add_all([RecoveryCode(user_id=user_id, code_hash=_recovery_digest(user_id, code), created_at=now)
                     for code in codes])
    events.record(session, RECOVERY_CODES_MADE, subject_type="user", subject_id=user_id, now=now, actor_id=user_id,
                  municipality_id=user.municipality_id, payload={"codes": RECOVERY_CODES})
    return ["-".join(code[i:i + 4] for i in range(0, RECOVERY_CODE_LENGTH, 4)) for code in codes]


def recovery_codes_left(session: Session, *, user_id: int) -> int:
    return session.scalar(select(func.count()).select_from(RecoveryCode)
                          .where(col(RecoveryCode.user_id) == user_id)) or 0


def use_recovery_code(session: Session, *, user: User, code: str, now: datetime) -> int:
    """Sign in with a recovery code instead of the app's: it works once. Returns how many are left."""
    user_id = id_of(user)
    wrong = DomainError(N_("The recovery code is wrong or has already been used."), field="code")
    if user.totp_secret is None:
        raise wrong
    used = session.execute(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user_id,
                                                      col(RecoveryCode.code_hash) == _recovery_digest(user_id, code)))
    if used.rowcount != 1:  # type: ignore[attr-defined]  # a DELETE gives a CursorResult
        raise wrong
    left = recovery_codes_left(session, user_id=user_id)
    events.record(session, RECOVERY_CODE_USED, subject_type="user", subject_id=user_id, now=now, actor_id=user_id,
                  municipality_id=user.municipality_id, payload={"left": left})
    return left


def discard_recovery_codes(session: Session, *, user_id: int) -> None:
    session.execute(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user_id))
