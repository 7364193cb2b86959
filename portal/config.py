"""Configuration from the environment (DESIGN.md §7).

Every setting has a safe development default so that the README's run command works on a fresh
machine; production sets ``SECRET_KEY``, ``DATABASE_URL`` and ``FIELD_ENCRYPTION_KEY`` explicitly.
"""
import json
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet


def _instance_secret(instance_path: Path, name: str, make) -> str:
    """Read a secret kept in the instance folder, creating it on first use (development only)."""
    path = instance_path / name
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    value = make()
    path.write_text(value)
    path.chmod(0o600)
    return value


#: Settings that features give defaults to, which an operator may override from the environment.
INT_OVERRIDES = ("ROOM_RATE_LIMIT", "MEDIATION_ACCEPT_DAYS", "CONSULTATION_SLA_HOURS")


def load_config(instance_path: str) -> dict:
    inst = Path(instance_path)
    env = os.environ
    secret_key = env.get("SECRET_KEY") or _instance_secret(inst, "secret_key", lambda: secrets.token_hex(32))
    field_key = env.get("FIELD_ENCRYPTION_KEY") or _instance_secret(
        inst, "field_key", lambda: Fernet.generate_key().decode()
    )
    overrides = {k: int(env[k]) for k in INT_OVERRIDES if env.get(k, "").isdigit()}
    return overrides | {
        "SECRET_KEY": secret_key,
        #: Fernet key for personal data at rest (ID numbers).
        "FIELD_ENCRYPTION_KEY": field_key,
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL") or f"sqlite:///{inst / 'portal.sqlite3'}",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SOCKETIO_MESSAGE_QUEUE": env.get("SOCKETIO_MESSAGE_QUEUE") or None,
        #: Redis pub/sub channel; processes of one site share it, separate sites (or tests) must not.
        "SOCKETIO_CHANNEL": env.get("SOCKETIO_CHANNEL") or "flask-socketio",
        "SOCKETIO_ASYNC_MODE": env.get("SOCKETIO_ASYNC_MODE") or "threading",
        "UPLOAD_FOLDER": env.get("UPLOAD_FOLDER") or str(inst / "uploads"),
        "INDEX_FOLDER": env.get("INDEX_FOLDER") or str(inst / "index"),
        #: "whoosh" (an index folder per process group) or "postgres" (PostgreSQL full-text search
        #: in the database, portal/search_pg.py; needs DATABASE_URL on PostgreSQL).
        "SEARCH_BACKEND": (env.get("SEARCH_BACKEND") or "whoosh").strip().lower(),
        "ICE_SERVERS": json.loads(env.get("ICE_SERVERS") or "[]"),
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH") or 40 * 1024 * 1024),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env.get("SESSION_COOKIE_SECURE", "0") == "1",
        #: How many reverse proxies in front of the app set X-Forwarded-For/-Proto/-Host (nginx: 1).
        #: 0 (the default) ignores those headers, which a client could otherwise forge to dodge the
        #: per-address rate limits; behind a proxy it must be set, or every visitor has the proxy's
        #: address and shares one rate limit (and the audit trail records the proxy).
        "TRUSTED_PROXIES": int(env.get("TRUSTED_PROXIES") or 0),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "LOGIN_MAX_FAILURES": 5,
        "LOGIN_LOCK_MINUTES": 15,
        "SMS_BACKEND": env.get("SMS_BACKEND") or "log",
    }
