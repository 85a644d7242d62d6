"""The data key that encrypts sensitive columns, set once per process by the app or CLI.

Kept outside Flask so that models, services and scripts share one mechanism. Several
comma-separated keys may be given: the first encrypts, all decrypt (key rotation).
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

_fernet: MultiFernet | None = None


class DataKeyError(RuntimeError):
    """The data key is missing or cannot decrypt what the database holds."""


def configure(keys: str) -> None:
    """Install the data key(s) for this process."""
    global _fernet
    parts = [k.strip() for k in keys.split(",") if k.strip()]
    if not parts:
        raise DataKeyError("PASSERELLE_DATA_KEY is empty")
    try:
        _fernet = MultiFernet([Fernet(k.encode()) for k in parts])
    except ValueError as exc:
        raise DataKeyError(
            "PASSERELLE_DATA_KEY must be url-safe base64 Fernet keys (32 bytes each)"
        ) from exc


def generate_key() -> str:
    """A new random data key."""
    return Fernet.generate_key().decode()


def _get() -> MultiFernet:
    if _fernet is None:
        raise DataKeyError("no data key configured: call models.crypto.configure() first")
    return _fernet


def encrypt(plaintext: str) -> str:
    """Encrypt text with the current key."""
    return _get().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    """Decrypt text written with any configured key."""
    try:
        return _get().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise DataKeyError("a sensitive field cannot be decrypted with the configured key") from exc
