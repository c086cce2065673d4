"""Encryption at rest for secrets kept in the database (private keys, pod credentials).

Fernet (AES-128-CBC + HMAC-SHA256) from `cryptography`. ``PODS_ENCRYPTION_KEYS`` is a
comma-separated list; the first key encrypts, all keys decrypt, so keys can be rotated by
prepending a new one and re-saving.
"""
import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _as_fernet_key(secret: str) -> bytes:
    """Accept a real Fernet key, or derive one from any passphrase."""
    try:
        if len(base64.urlsafe_b64decode(secret.encode())) == 32:
            return secret.encode()
    except (ValueError, TypeError):
        pass
    return base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest())


@lru_cache(maxsize=4)
def _fernet(keys: tuple) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("PODS_ENCRYPTION_KEYS is empty")
    return MultiFernet([Fernet(_as_fernet_key(k)) for k in keys])


def encrypt(plaintext: str) -> str:
    """Encrypt text for storage."""
    return _fernet(tuple(settings.PODS_ENCRYPTION_KEYS)).encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    """Decrypt text written by :func:`encrypt`; raises ValueError when no key fits."""
    try:
        return _fernet(tuple(settings.PODS_ENCRYPTION_KEYS)).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("stored secret cannot be decrypted with the configured keys") from exc
