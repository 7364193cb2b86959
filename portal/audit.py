"""Append-only audit trail with a hash chain (DESIGN.md §7, issue 9).

Every state change of a case (and every administrative change) calls :func:`record` inside the
same transaction as the change. Each record stores the SHA-256 of its own content and of the
previous record, so altering or deleting a row breaks the chain and ``flask audit verify`` finds
the first broken link.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json

from flask import has_request_context, request
from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db

GENESIS = "0" * 64


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


class AuditRecord(db.Model):
    __tablename__ = "audit_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=_utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: What was done, as ``area.verb`` (``mediation.accept``, ``account.login``).
    action: Mapped[str] = mapped_column(String(60))
    #: The object acted on: type name and primary key.
    object_type: Mapped[str] = mapped_column(String(40), index=True)
    object_id: Mapped[str] = mapped_column(String(40), index=True)
    #: JSON with the details (from/to state, reason, ...); never full ID numbers.
    detail: Mapped[str] = mapped_column(Text, default="{}")
    ip: Mapped[str] = mapped_column(String(45), default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    def __repr__(self) -> str:
        return f"<AuditRecord {self.id} {self.action} {self.object_type}:{self.object_id}>"

    def compute_hash(self) -> str:
        payload = json.dumps(
            [
                self.prev_hash,
                self.created_at.isoformat(),
                self.actor_id,
                self.action,
                self.object_type,
                str(self.object_id),
                self.detail,
                self.ip,
            ],
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return hashlib.sha256(payload.encode()).hexdigest()

    @property
    def detail_dict(self) -> dict:
        try:
            return json.loads(self.detail)
        except ValueError:
            return {}


def record(actor, action: str, object_type: str, object_id, **detail) -> AuditRecord:
    """Add an audit record to the current session (the caller commits with its change).

    The chain is serialised by locking the last record on databases that support it, so two
    concurrent transitions cannot both link to the same predecessor (the unique hash column
    would refuse the second anyway).
    """
    stmt = select(AuditRecord.hash).order_by(AuditRecord.id.desc()).limit(1)
    if db.engine.dialect.name == "postgresql":
        db.session.execute(db.text("SELECT pg_advisory_xact_lock(424242)"))
    prev = db.session.execute(stmt).scalar() or GENESIS
    rec = AuditRecord(
        created_at=_utcnow(),
        actor_id=getattr(actor, "id", actor),
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        detail=json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str),
        ip=(request.remote_addr or "") if has_request_context() else "",
        prev_hash=prev,
    )
    rec.hash = rec.compute_hash()
    db.session.add(rec)
    db.session.flush()
    return rec


def verify_chain() -> tuple[int, AuditRecord | None, str]:
    """Walk the chain in order; return (records checked, first bad record or None, why)."""
    prev = GENESIS
    count = 0
    for rec in db.session.execute(select(AuditRecord).order_by(AuditRecord.id)).scalars():
        if rec.prev_hash != prev:
            return count, rec, "与上一条记录的哈希不衔接（记录被删除或插入）"
        if rec.compute_hash() != rec.hash:
            return count, rec, "记录内容与其哈希不符（记录被篡改）"
        prev = rec.hash
        count += 1
    return count, None, ""


def trail_for(object_type: str, object_id) -> list[AuditRecord]:
    return list(
        db.session.execute(
            select(AuditRecord)
            .where(AuditRecord.object_type == object_type, AuditRecord.object_id == str(object_id))
            .order_by(AuditRecord.id)
        ).scalars()
    )
