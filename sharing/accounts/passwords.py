"""Password hashing (Argon2id) and the password policy (OWASP ASVS 5.0, V6.2)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from sharing.errors import DomainError
from sharing.i18n import N_

MIN_LENGTH = 12
MAX_LENGTH = 128

# Argon2id with the library's defaults (RFC 9106's second recommended option).
_hasher = PasswordHasher()
# Verified when no user matches, so a login takes as long whether or not the account exists.
_DUMMY_HASH = _hasher.hash("no such user")


def use_fast_hashing() -> None:
    """Cheap parameters for the test suite only: hashing cost is not what tests check."""
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    _DUMMY_HASH = _hasher.hash("no such user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches; a missing hash still costs one verification."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def check_password_policy(password: str, *, user_inputs: list[str]) -> None:
    """Refuse short, overlong and guessable passwords; composition rules are not asked for."""
    if len(password) < MIN_LENGTH:
        raise DomainError(N_("The password must be at least %(n)d characters long."), field="password", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        raise DomainError(N_("The password may be at most %(n)d characters long."), field="password", n=MAX_LENGTH)
    # zxcvbn knows common passwords, names, keyboard patterns and the user's own details.
    if zxcvbn(password, user_inputs=[i for i in user_inputs if i])["score"] < 3:
        raise DomainError(
            N_("The password is too easy to guess. Try a few unrelated words together."), field="password"
        )
