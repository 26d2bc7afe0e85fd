"""The providers' client secrets, encrypted at rest with Fernet (AES-128-CBC and HMAC-SHA256,
from the `cryptography` package, which Authlib depends on already).

The key is derived from SHARING_ENCRYPTION_KEY, or from the app's SECRET_KEY when that is not
set: changing it makes the stored secrets unreadable, and the administrators enter them again.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

from sharing.errors import DomainError
from sharing.i18n import N_


def fernet_key(material: str) -> bytes:
    """A Fernet key (32 bytes, urlsafe base64) derived from the configured key material."""
    return base64.urlsafe_b64encode(hashlib.sha256(b"sharing.sso.client-secret:" + material.encode()).digest())


def encrypt(secret: str, *, key: bytes) -> str:
    return Fernet(key).encrypt(secret.encode()).decode()


def decrypt(token: str, *, key: bytes) -> str:
    try:
        return Fernet(key).decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        raise DomainError(N_("The client secret can no longer be read (the encryption key has changed). "
                             "An administrator enters it again.")) from None
