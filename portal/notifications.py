"""Notifications: an in-site inbox, and SMS / e-mail behind one interface (DESIGN.md §7).

The default SMS backend writes the message to the application log (and keeps it in memory for
tests); a real gateway is plugged in by naming another backend in ``SMS_BACKEND``.
"""
from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import ForeignKey, String, Text, func, select
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Notification(db.Model):
    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    #: A site-relative link to the thing the notice is about.
    link: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=_utcnow)
    read_at: Mapped[dt.datetime | None]

    def __repr__(self) -> str:
        return f"<Notification {self.id} to {self.user_id}>"


def notify(user, title: str, body: str = "", link: str = "") -> Notification:
    """Put a notice in the user's inbox (in the caller's transaction)."""
    note = Notification(user_id=getattr(user, "id", user), title=title[:200], body=body, link=link)
    db.session.add(note)
    return note


def unread_count(user) -> int:
    return db.session.execute(
        select(func.count(Notification.id)).where(
            Notification.user_id == user.id, Notification.read_at.is_(None)
        )
    ).scalar_one()


class LogSmsBackend:
    """Writes each SMS to the log; ``sent`` keeps them for tests and the demo."""

    def __init__(self):
        self.sent: list[tuple[str, str]] = []

    def send(self, mobile: str, text: str) -> None:
        self.sent.append((mobile, text))
        current_app.logger.info("短信 → %s：%s", mobile, text)


_BACKENDS = {"log": LogSmsBackend}


def sms_backend():
    app = current_app._get_current_object()
    backend = app.extensions.get("sms_backend")
    if backend is None:
        backend = _BACKENDS[app.config.get("SMS_BACKEND", "log")]()
        app.extensions["sms_backend"] = backend
    return backend


def send_sms(mobile: str, text: str) -> None:
    """Send once the current transaction commits: no SMS about a change that was rolled back
    (the database failed mid-transition)."""
    from portal.transactions import after_commit

    backend = sms_backend()
    after_commit(lambda: backend.send(mobile, text))
