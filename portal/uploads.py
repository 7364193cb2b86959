"""Uploaded files: checked by content, stored outside static/, served only after a permission check.

A feature that takes files calls :func:`save_upload` with the owner it attaches them to
(``owner_type``, ``owner_id``) and registers a permission function for that owner type with
:func:`register_owner`; ``/files/<id>`` asks that function before sending anything.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable
from pathlib import Path

import filetype
from flask import Blueprint, abort, current_app, send_file
from flask_login import current_user, login_required
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.transactions import on_rollback

#: Kinds a feature may accept, by detected content type.
IMAGE_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}
PDF_TYPES = {"application/pdf": "pdf"}
AUDIO_TYPES = {"audio/mpeg": "mp3", "audio/x-wav": "wav", "audio/mp4": "m4a", "audio/ogg": "ogg",
               "audio/amr": "amr", "audio/aac": "aac", "video/mp4": "mp4", "audio/webm": "webm",
               "video/webm": "webm"}

DEFAULT_MAX_BYTES = 10 * 1024 * 1024


class UploadError(ValueError):
    """Raised with a Chinese message when a file is refused."""


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Attachment(db.Model):
    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: What the file belongs to, e.g. ``consultation`` / ``mediation_case`` and its id.
    owner_type: Mapped[str] = mapped_column(String(40), index=True)
    owner_id: Mapped[int] = mapped_column(index=True)
    uploader_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: The name the user gave, for display only; never used to build a path.
    original_name: Mapped[str] = mapped_column(String(200))
    #: Path relative to UPLOAD_FOLDER, made by us.
    stored_path: Mapped[str] = mapped_column(String(200), unique=True)
    content_type: Mapped[str] = mapped_column(String(60))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=_utcnow)

    def __repr__(self) -> str:
        return f"<Attachment {self.id} {self.owner_type}:{self.owner_id}>"

    @property
    def is_image(self) -> bool:
        return self.content_type in IMAGE_TYPES

    @property
    def size_label(self) -> str:
        return f"{self.size / 1024:.0f} KB" if self.size < 1024 * 1024 else f"{self.size / 1048576:.1f} MB"


def _safe_display_name(name: str | None) -> str:
    name = (name or "file").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*')
    return name[:200] or "file"


def detect_type(data: bytes) -> str | None:
    kind = filetype.guess(data[:8192])
    return kind.mime if kind else None


def save_upload(
    file_storage,
    owner_type: str,
    owner_id: int,
    uploader,
    allowed: dict[str, str],
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Attachment:
    """Check a Werkzeug ``FileStorage`` by content and store it; raises :class:`UploadError`."""
    data = file_storage.read(max_bytes + 1)
    if not data:
        raise UploadError(f"文件“{_safe_display_name(file_storage.filename)}”是空的")
    if len(data) > max_bytes:
        raise UploadError(f"文件“{_safe_display_name(file_storage.filename)}”超过 {max_bytes // 1048576} MB")
    mime = detect_type(data)
    if mime not in allowed:
        kinds = "、".join(sorted(set(allowed.values())))
        raise UploadError(
            f"文件“{_safe_display_name(file_storage.filename)}”的实际内容不是允许的类型（{kinds}），已拒绝"
        )
    return _store(data, owner_type, owner_id, uploader, _safe_display_name(file_storage.filename), mime,
                  allowed[mime])


def store_generated(owner_type: str, owner_id: int, data: bytes, name: str, content_type: str,
                    extension: str) -> Attachment:
    """Store a file the site made itself (a transcript, a signed agreement) for an owner, in the
    current transaction: like an upload, its file is deleted again if that transaction rolls back."""
    return _store(data, owner_type, owner_id, None, name, content_type, extension)


def _store(data: bytes, owner_type: str, owner_id: int, uploader, name: str, content_type: str,
           extension: str) -> Attachment:
    rel = Path(f"{dt.date.today():%Y/%m}") / f"{uuid.uuid4().hex}.{extension}"
    dest = Path(current_app.config["UPLOAD_FOLDER"]) / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data)
    # the file belongs to the transaction that stores its row: gone again if that rolls back
    on_rollback(lambda: dest.unlink(missing_ok=True))
    att = Attachment(
        owner_type=owner_type,
        owner_id=owner_id,
        uploader_id=getattr(uploader, "id", uploader),
        original_name=name,
        stored_path=str(rel),
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    db.session.add(att)
    return att


def attachment_path(att: Attachment) -> Path:
    root = Path(current_app.config["UPLOAD_FOLDER"]).resolve()
    path = (root / att.stored_path).resolve()
    if root not in path.parents:  # defence in depth: stored_path is ours, but never trust a row
        raise UploadError("文件路径非法")
    return path


def attachments_of(owner_type: str, owner_id: int) -> list[Attachment]:
    return list(
        db.session.execute(
            db.select(Attachment)
            .where(Attachment.owner_type == owner_type, Attachment.owner_id == owner_id)
            .order_by(Attachment.id)
        ).scalars()
    )


_OWNER_CHECKS: dict[str, Callable] = {}


def register_owner(owner_type: str, can_view: Callable) -> None:
    """``can_view(user, owner_id) -> bool`` decides who may download this owner's files."""
    _OWNER_CHECKS[owner_type] = can_view


bp = Blueprint("files", __name__, url_prefix="/files")


@bp.get("/<int:attachment_id>")
@login_required
def download(attachment_id: int):
    att = db.session.get(Attachment, attachment_id) or abort(404)
    check = _OWNER_CHECKS.get(att.owner_type)
    if check is None or not check(current_user, att.owner_id):
        abort(404)  # 404, not 403: do not confirm that the file exists
    return send_file(
        attachment_path(att),
        mimetype=att.content_type,
        as_attachment=not att.is_image,
        download_name=att.original_name,
        max_age=0,
    )
