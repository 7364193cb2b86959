"""Encryption of personal data at rest.

ID numbers are stored encrypted (Fernet, key from ``FIELD_ENCRYPTION_KEY``) with a keyed hash
beside them, so uniqueness can be enforced and a number looked up without decrypting every row.
"""
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app


def _fernet() -> Fernet:
    return Fernet(current_app.config["FIELD_ENCRYPTION_KEY"].encode())


def encrypt_text(value: str | None) -> str | None:
    if value is None:
        return None
    return _fernet().encrypt(value.encode()).decode()


def decrypt_text(token: str | None) -> str | None:
    if token is None:
        return None
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        current_app.logger.error("个人信息解密失败：密钥与数据不匹配")
        return None


def blind_index(value: str) -> str:
    """A keyed hash of ``value`` for equality look-ups (not reversible without the key)."""
    key = current_app.config["FIELD_ENCRYPTION_KEY"].encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
