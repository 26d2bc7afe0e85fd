"""Signing in, throttling, mailed tokens (reset, invitation) and API tokens."""

from __future__ import annotations

import enum
import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Unpack

from sqlalchemy import Row, Select, and_, bindparam, delete, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlmodel import Session, col

from sharing.accounts.audit import record_account_event
from sharing.accounts.browsers import recognise
from sharing.accounts.models import (
    AccountToken,
    ApiToken,
    AttemptKind,
    KnownLoginAddress,
    LoginAttempt,
    Municipality,
    Role,
    RoleGrant,
    TokenPurpose,
    User,
    UserSession,
)
from sharing.accounts.passwords import check_password_policy, hash_password, needs_rehash, verify_password
from sharing.accounts.sso.models import SsoIdentity
from sharing.errors import DomainError
from sharing.i18n import N_, NP_
from sharing.typed import id_of, relation

PASSWORD_CHANGED = "accounts.password.changed"  # by the user, on their account page
PASSWORD_SET_BY_LINK = "accounts.password.set_by_link"  # a mailed link: an invitation or a new password


class LoginRefused(DomainError):
    """Wrong e-mail or password; deliberately says no more than that."""


class LoginThrottled(DomainError):
    """Too many recent failures for this account or address."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(col(User.email) == normalise_email(email)))


def load_user(session: Session, user_id: int) -> User | None:
    """A user with what every request needs (roles, municipality) loaded at once."""
    return session.execute(
        select(User)
        .where(col(User.id) == user_id)
        .options(joinedload(relation(User.role_grants)), joinedload(relation(User.municipality)))
    ).unique().scalar_one_or_none()


@dataclass(frozen=True)
class Limits:
    """How many attempts of one kind are allowed in the window.

    The tight limit is per account *and* address: someone guessing from one place is
    stopped quickly, while a stranger elsewhere cannot lock the real user out with it. The
    looser per-account limit stops guessing spread over many addresses; it holds only for
    addresses the account has not signed in from before, so that guessing cannot lock the
    owner out of their usual address either.
    """

    per_account_and_address: int
    per_account: int
    per_address: int
    window: timedelta


def check_throttle(
    session: Session, *, kind: AttemptKind, email: str, address: str, now: datetime, limits: Limits,
    known_address: bool = False,
) -> None:
    """Refuse (LoginThrottled) while there are too many recent attempts of this kind.

    From a known address (one the account signed in from before) the per-account limit
    does not apply: failures elsewhere do not lock the owner out there.
    """
    in_window = (col(LoginAttempt.kind) == kind.value, col(LoginAttempt.attempted_at) >= now - limits.window)
    of_account = col(LoginAttempt.email) == email
    from_address = col(LoginAttempt.address) == address
    counted = [(limits.per_account_and_address, (of_account, from_address)), (limits.per_address, (from_address,))]
    if not known_address:
        counted.append((limits.per_account, (of_account,)))
    kept_until: list[datetime] = []
    for limit, where in counted:
        count = session.scalar(select(func.count()).where(*in_window, *where)) or 0
        if count >= limit:  # refused until the attempt that keeps the count at the limit leaves the window
            holding = session.scalar(select(col(LoginAttempt.attempted_at)).where(*in_window, *where)
                                     .order_by(col(LoginAttempt.attempted_at)).offset(count - limit).limit(1))
            kept_until.append((holding or now) + limits.window)
    if kept_until:
        minutes = max(1, math.ceil((max(kept_until) - now).total_seconds() / 60))
        raise LoginThrottled(NP_("Too many attempts. Wait %(num)d minute and try again.",
                                 "Too many attempts. Wait %(num)d minutes and try again."), num=minutes)


def record_attempt(session: Session, *, kind: AttemptKind, email: str, address: str, now: datetime) -> None:
    session.add(LoginAttempt(kind=kind.value, email=email, address=address[:45], attempted_at=now))


@dataclass(frozen=True)
class KnownAddresses:
    """How addresses a user signed in from are recognised: by a keyed hash, for a while."""

    key: bytes
    keep_for: timedelta


def _address_hash(*, user_id: int, address: str, key: bytes) -> str:
    # Keyed: an address space as small as IPv4's could be tried in full against a plain hash.
    return hmac.new(key, f"{user_id}:{address}".encode(), hashlib.sha256).hexdigest()


def is_known_address(session: Session, *, user_id: int, address: str, key: bytes, now: datetime,
                     keep_for: timedelta) -> bool:
    """Whether the user signed in from this address within ``keep_for``."""
    return session.scalar(select(col(KnownLoginAddress.id)).where(
        col(KnownLoginAddress.user_id) == user_id,
        col(KnownLoginAddress.address_hash) == _address_hash(user_id=user_id, address=address, key=key),
        col(KnownLoginAddress.last_seen_at) >= now - keep_for,
    )) is not None


def remember_address(session: Session, *, user_id: int, address: str, key: bytes, now: datetime) -> None:
    """Note that the user signed in from this address (a keyed hash of it, with the time)."""
    digest = _address_hash(user_id=user_id, address=address, key=key)
    this = (col(KnownLoginAddress.user_id) == user_id, col(KnownLoginAddress.address_hash) == digest)
    seen = session.execute(update(KnownLoginAddress).where(*this).values(last_seen_at=now))
    if seen.rowcount:  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult
        return
    try:
        with session.begin_nested():  # two sign-ins at once from the same address: one row
            session.add(KnownLoginAddress(user_id=user_id, address_hash=digest, last_seen_at=now))
    except IntegrityError:
        pass


def authenticate(session: Session, *, email: str, password: str, address: str, now: datetime, limits: Limits,
                 known_addresses: KnownAddresses | None = None) -> User:
    """The user these credentials belong to, or LoginRefused / LoginThrottled.

    Failures are counted in the database, so the limits hold across every worker process.
    The caller commits whatever the outcome: a refusal records the failed attempt. With
    ``known_addresses``, the per-account limit spares the addresses the user signed in from.
    """
    email = normalise_email(email)
    user = user_by_email(session, email)
    known = (user is not None and known_addresses is not None
             and is_known_address(session, user_id=id_of(user), address=address, key=known_addresses.key,
                                  now=now, keep_for=known_addresses.keep_for))
    check_throttle(session, kind=AttemptKind.LOGIN, email=email, address=address, now=now, limits=limits,
                   known_address=known)
    if not verify_password(user.password_hash if user else None, password) or user is None or not user.is_active:
        record_attempt(session, kind=AttemptKind.LOGIN, email=email, address=address, now=now)
        raise LoginRefused(N_("Wrong e-mail address or password."))
    session.execute(delete(LoginAttempt).where(col(LoginAttempt.kind) == AttemptKind.LOGIN.value,
                                               col(LoginAttempt.email) == email, col(LoginAttempt.address) == address))
    if needs_rehash(user.password_hash or ""):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    session.add(user)
    return user


def set_password(session: Session, *, user: User, password: str) -> None:
    """Check and store a new password (callers decide which sessions and tokens end)."""
    check_password_policy(password, user_inputs=[user.email, user.name, *user.email.split("@")])
    user.password_hash = hash_password(password)
    session.add(user)


def change_password(session: Session, *, user: User, current: str, new: str, keep_session_id: int | None,
                    now: datetime) -> None:
    """A new password; every session of the user but the one making the change ends."""
    if not verify_password(user.password_hash, current):
        raise DomainError(N_("The current password is wrong."), field="current_password")
    if new == current:  # a change that changes nothing would say it did
        raise DomainError(N_("The new password is the same as the current one. Choose another."), field="password")
    set_password(session, user=user, password=new)
    end_user_sessions(session, user_id=id_of(user), now=now, keep_session_id=keep_session_id)
    record_account_event(session, PASSWORD_CHANGED, user=user, by=user, now=now)


# --- Server-side sessions ---------------------------------------------------------

def start_user_session(session: Session, *, user: User, user_agent: str, now: datetime) -> str:
    """A new session for a user who just proved who they are; returns the cookie's secret.
    Of the browser's User-Agent header only the browser's and its system's names are kept."""
    raw = secrets.token_urlsafe(32)
    browser = recognise(user_agent)
    session.add(UserSession(user_id=id_of(user), token_hash=_digest(raw), browser=browser.name,
                            platform=browser.platform, created_at=now, last_seen_at=now))
    return raw


class SessionCheck(enum.Enum):
    """What a request finds its server-side session to be."""

    LIVE = "live"
    SEEN = "seen"  # live, and last seen over a minute ago: noted now
    EXPIRED = "expired"  # idle or older than the absolute limit: ended now
    ENDED = "ended"  # logged out or ended earlier, or no such session

    @property
    def live(self) -> bool:
        return self in (SessionCheck.LIVE, SessionCheck.SEEN)


@dataclass(frozen=True)
class SignedInUser:
    """The signed-in user as a request sees them: read in one query (with their session, or
    for an API token), never changed. A view that changes the user loads the record
    (load_user), and the rest of that request still sees the user as it began. Flask-Login's
    protocol is here, so current_user is always one of these."""

    id: int
    municipality_id: int
    municipality_name: str
    unit_id: int | None
    name: str
    email: str
    locale: str | None
    roles: frozenset[Role]
    two_step: bool  # whether two-step verification is on
    unread_notification_count: int

    is_authenticated: ClassVar[bool] = True
    is_active: ClassVar[bool] = True  # only an active user is ever signed in
    is_anonymous: ClassVar[bool] = False

    def has_role(self, *roles: Role) -> bool:
        return not self.roles.isdisjoint(roles)

    def get_id(self) -> str:
        return str(self.id)


@dataclass(frozen=True)
class FoundSession:
    """A server-side session as its cookie's secret finds it, with its user (None if they
    can no longer sign in)."""

    id: int
    user_id: int
    created_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None
    user: SignedInUser | None


# Built once, and run without the ORM: every request runs one, and building a statement, or
# loading ORM objects, costs more than running it.
_ROLES = (select(func.aggregate_strings(col(RoleGrant.role), ",")).where(col(RoleGrant.user_id) == User.id)
          .correlate_except(RoleGrant).scalar_subquery())
_SIGNED_IN_USER: Select[Unpack[tuple[Any, ...]]] = select(
    col(User.id).label("user_id"), col(User.municipality_id), col(Municipality.name).label("municipality_name"),
    col(User.unit_id),
    col(User.name), col(User.email), col(User.locale),
    col(User.totp_secret).is_not(None).label("two_step"),
    # Active, and able to prove who they are: with a password, or by their municipality's
    # identity provider (single sign-on: such a user may have no password at all).
    and_(col(User.active), or_(col(User.password_hash).is_not(None),
                               exists().where(col(SsoIdentity.user_id) == User.id))).label("can_sign_in"),
    User.unread_notification_count.label("unread"),  # type: ignore[attr-defined]  # added in accounts.models
    _ROLES.label("roles"),
).join(Municipality, col(Municipality.id) == User.municipality_id)
_SIGNED_IN_USER_BY_ID = _SIGNED_IN_USER.where(col(User.id) == bindparam("user_id"))
_USER_SESSION_BY_HASH = _SIGNED_IN_USER.add_columns(
    col(UserSession.id).label("session_id"), col(UserSession.created_at), col(UserSession.last_seen_at),
    col(UserSession.ended_at),
).join(UserSession, col(UserSession.user_id) == User.id).where(col(UserSession.token_hash) == bindparam("token_hash"))


def _signed_in_user(row: Row[Any]) -> SignedInUser | None:
    if not row.can_sign_in:
        return None
    return SignedInUser(id=row.user_id, municipality_id=row.municipality_id,
                        municipality_name=row.municipality_name, unit_id=row.unit_id,
                        name=row.name, email=row.email, locale=row.locale,
                        roles=frozenset(Role(role) for role in (row.roles or "").split(",") if role),
                        two_step=bool(row.two_step), unread_notification_count=row.unread)


def signed_in_user(session: Session, user_id: int) -> SignedInUser | None:
    """The user who signs in now, or whose API token a request carries (None if they cannot)."""
    row = session.connection().execute(_SIGNED_IN_USER_BY_ID, {"user_id": user_id}).one_or_none()
    return _signed_in_user(row) if row is not None else None


def user_session_for(session: Session, raw: str) -> FoundSession | None:
    """The session this cookie secret names, with its user, their roles and unread count,
    read in the same query: every page asks what the user may do, and shows the count."""
    row = session.connection().execute(_USER_SESSION_BY_HASH, {"token_hash": _digest(raw)}).one_or_none()
    if row is None:
        return None
    return FoundSession(id=row.session_id, user_id=row.user_id, created_at=row.created_at,
                        last_seen_at=row.last_seen_at, ended_at=row.ended_at, user=_signed_in_user(row))


def remember_language(session: Session, *, user_id: int, language: str) -> None:
    """The language a user chose, for their next sessions and their mail."""
    session.execute(update(User).where(col(User.id) == user_id).values(locale=language))


def check_user_session(
    user_session: FoundSession | None, *, now: datetime, idle: timedelta, absolute: timedelta
) -> SessionCheck:
    if user_session is None or user_session.ended_at is not None:
        return SessionCheck.ENDED
    if now - user_session.last_seen_at > idle or now - user_session.created_at > absolute:
        return SessionCheck.EXPIRED
    # One write a minute at most: idle time need not be known to the second.
    if now - user_session.last_seen_at > timedelta(minutes=1):
        return SessionCheck.SEEN
    return SessionCheck.LIVE


def note_session_check(session: Session, *, user_session_id: int, check: SessionCheck, now: datetime) -> None:
    """Record what a check found: a session seen again, or one that expired (never moving a
    time back, nor over a logout that came first)."""
    this = update(UserSession).where(col(UserSession.id) == user_session_id)
    if check is SessionCheck.SEEN:
        session.execute(this.where(col(UserSession.last_seen_at) < now).values(last_seen_at=now))
    elif check is SessionCheck.EXPIRED:
        session.execute(this.where(col(UserSession.ended_at).is_(None)).values(ended_at=now))


def end_user_sessions(
    session: Session, *, user_id: int, now: datetime, keep_session_id: int | None = None,
    only_session_id: int | None = None,
) -> None:
    """End a user's sessions: all, all but one, or just one."""
    query = select(UserSession).where(col(UserSession.user_id) == user_id, col(UserSession.ended_at).is_(None))
    if keep_session_id is not None:
        query = query.where(col(UserSession.id) != keep_session_id)
    if only_session_id is not None:
        query = query.where(col(UserSession.id) == only_session_id)
    for user_session in session.scalars(query):
        user_session.ended_at = now
        session.add(user_session)


def live_sessions(session: Session, *, user_id: int) -> list[UserSession]:
    return list(session.scalars(
        select(UserSession).where(col(UserSession.user_id) == user_id, col(UserSession.ended_at).is_(None))
        .order_by(col(UserSession.last_seen_at).desc())
    ))


def issue_account_token(
    session: Session, *, user: User, purpose: TokenPurpose, lifetime: timedelta, now: datetime
) -> str:
    """A new single-use token for the user; earlier unused ones of that purpose stop working."""
    session.execute(
        delete(AccountToken).where(col(AccountToken.user_id) == user.id, col(AccountToken.purpose) == purpose.value)
    )
    raw = secrets.token_urlsafe(32)
    session.add(
        AccountToken(
            user_id=id_of(user), purpose=purpose.value, token_hash=_digest(raw), created_at=now,
            expires_at=now + lifetime,
        )
    )
    return raw


def find_account_token(session: Session, *, raw: str, purpose: TokenPurpose, now: datetime) -> AccountToken:
    """The valid token for this secret, or a DomainError (unknown, used or expired alike)."""
    token = session.scalar(
        select(AccountToken).where(col(AccountToken.token_hash) == _digest(raw),
                                   col(AccountToken.purpose) == purpose.value)
    )
    if token is None or token.used_at is not None or token.expires_at <= now:
        raise DomainError(N_("The link is invalid or has expired. Ask for a new one."))
    return token


def redeem_account_token(
    session: Session, *, raw: str, purpose: TokenPurpose, password: str, now: datetime
) -> User:
    """Set a password with a mailed token; the token is used up even if the user logs in later."""
    token = find_account_token(session, raw=raw, purpose=purpose, now=now)
    user = session.get(User, token.user_id)
    if user is None or not user.active:
        raise DomainError(N_("The link is invalid or has expired. Ask for a new one."))
    set_password(session, user=user, password=password)
    # Whoever had the account before the reset keeps nothing: no session, no API token.
    end_user_sessions(session, user_id=id_of(user), now=now)
    revoke_all_api_tokens(session, user_id=id_of(user), now=now)
    token.used_at = now
    session.add(token)
    record_account_event(session, PASSWORD_SET_BY_LINK, user=user, by=user, now=now, link=purpose.value)
    return user


def confirm_password(user: User, password: str) -> None:
    """Ask again for the password before what a stolen session must not do alone."""
    if not verify_password(user.password_hash, password):
        raise DomainError(N_("The current password is wrong."), field="current_password")


def create_api_token(
    session: Session, *, user: User, name: str, password: str, now: datetime, expires_at: datetime,
    max_lifetime: timedelta,
) -> tuple[ApiToken, str]:
    """A new API token, valid until ``expires_at``; the secret is returned once, only its hash is kept.

    A token acts for the user for months, so creating one asks for the password again.
    """
    confirm_password(user, password)
    if not name.strip():
        raise DomainError(N_("Give the token a name."), field="name")
    if expires_at <= now:
        raise DomainError(N_("The expiry date must be in the future."), field="expires_on")
    if expires_at > now + max_lifetime:
        raise DomainError(N_("A token can be valid for at most %(days)d days."), field="expires_on",
                          days=max_lifetime.days)
    raw = "dt_" + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=id_of(user), name=name.strip(), prefix=raw[:10], token_hash=_digest(raw), created_at=now,
        expires_at=expires_at,
    )
    session.add(token)
    return token, raw


def revoke_all_api_tokens(session: Session, *, user_id: int, now: datetime) -> None:
    query = select(ApiToken).where(col(ApiToken.user_id) == user_id, col(ApiToken.revoked_at).is_(None))
    for token in session.scalars(query):
        token.revoked_at = now
        session.add(token)


def user_id_for_api_token(session: Session, *, raw: str, now: datetime) -> int | None:
    """The user behind a valid API token, noting when it was last used."""
    token = session.scalar(select(ApiToken).where(col(ApiToken.token_hash) == _digest(raw)))
    if token is None or token.revoked_at is not None or (token.expires_at and token.expires_at <= now):
        return None
    # One write a minute at most: a busy integration should not write on every call.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
        session.add(token)
    return token.user_id


def revoke_api_token(session: Session, *, user: User, token_id: int, now: datetime) -> None:
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise DomainError(N_("No such token."))
    token.revoked_at = now
    session.add(token)


def purge_expired(session: Session, *, now: datetime, attempts_older_than: timedelta,
                  sessions_older_than: timedelta, addresses_older_than: timedelta) -> None:
    """Drop spent tokens, old failed logins (they hold IP addresses), old sessions and
    known addresses not used for a while."""
    session.execute(delete(LoginAttempt).where(col(LoginAttempt.attempted_at) < now - attempts_older_than))
    session.execute(delete(KnownLoginAddress).where(col(KnownLoginAddress.last_seen_at)
                                                    < now - addresses_older_than))
    session.execute(delete(AccountToken).where(col(AccountToken.expires_at) < now))
    session.execute(delete(UserSession).where(col(UserSession.last_seen_at) < now - sessions_older_than))
