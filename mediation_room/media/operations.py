"""Recording operations: consent, start, stop, suspend and resume, and filing the files in the
dossier. Plain functions taking the acting user; they raise :class:`~.consent.RecordingError`
with a Chinese message, write an audit record per change and leave the commit to the caller.

The live state of each room's recording is kept in this process's memory (like the room's
presence); every change is in the audit trail, and every file in the ``attachment`` table.
"""
from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from flask import current_app

from mediation_room.media import permissions
from mediation_room.media.consent import (
    RecordingError,
    RecordingState,
    RoomRecording,
    missing_consents,
    transition,
)
from mediation_room.media.recorder import RecordedFile
from mediation_room.models import MemberRole, MemberStatus, Room
from portal import audit
from portal.extensions import db
from portal.uploads import Attachment, detect_type

_guard = threading.RLock()


def room_lock() -> threading.RLock:
    """One lock for all recording state changes (they are rare; the worker calls are short)."""
    return _guard


def _recordings() -> dict[int, RoomRecording]:
    """This app's live recording states by room id."""
    return current_app.extensions.setdefault("room_recordings", {})


def recording_of(room_id: int) -> RoomRecording:
    with _guard:
        return _recordings().setdefault(room_id, RoomRecording(room_id))


def worker_key(room_id: int) -> str:
    return f"room-{room_id}"


def get_worker(app=None):
    """The embedded media worker of this app, created on first use."""
    from mediation_room.media.worker import MediaWorker

    app = app or current_app._get_current_object()
    worker = app.extensions.get("media_worker")
    if worker is None:
        worker = app.extensions["media_worker"] = MediaWorker(
            app.config["UPLOAD_FOLDER"], app.config.get("ICE_SERVERS") or [])
    return worker


def member_label(member) -> str:
    return member.display_name


def present_participants(room: Room, online: set[int]) -> dict[int, str]:
    """Admitted, connected members other than the mediator: user id → label (当事人 张*)."""
    return {m.user_id: member_label(m) for m in room.members
            if m.status == MemberStatus.admitted and m.role != MemberRole.mediator and m.user_id in online}


def status_dict(room: Room, online: set[int]) -> dict:
    rec = recording_of(room.id)
    present = present_participants(room, online)
    return {
        "state": rec.state.value,
        "label": rec.state.label,
        "reason": rec.reason,
        "consented": sorted(uid for uid in rec.consents if uid in present),
        "missing": missing_consents(rec, present),
    }


def give_consent(actor, room: Room, consent: bool) -> RoomRecording:
    """A participant consents to recording (or withdraws consent)."""
    if not permissions.can_consent(actor, room):
        raise RecordingError("只有调解室中的当事人和受邀人员需要表示是否同意录制", "forbidden")
    rec = recording_of(room.id)
    with _guard:
        before = actor.id in rec.consents
        if consent:
            rec.consents.add(actor.id)
        else:
            rec.consents.discard(actor.id)
    if before != consent:
        audit.record(actor, "room.recording_consent" if consent else "room.recording_consent_withdrawn",
                     "room", room.id)
    return rec


def start_recording(actor, room: Room, online: set[int], worker) -> RoomRecording:
    """The mediator starts recording: refused while a caucus runs or anyone present has not consented."""
    if not permissions.can_control_recording(actor, room):
        raise RecordingError("只有本调解室的调解员可以开始录制", "forbidden")
    if room.caucus_party_id is not None:
        raise RecordingError("背靠背调解期间不能录制", "caucus")
    rec = recording_of(room.id)
    with _guard:
        missing = missing_consents(rec, present_participants(room, online))
        if missing:
            raise RecordingError("以下人员尚未同意录音录像，不能开始录制：" + "、".join(missing), "consent",
                                 missing)
        transition(rec, "start")
        rec.started_by = actor.id
        worker.start(worker_key(room.id))
    audit.record(actor, "room.recording_start", "room", room.id, segment=rec.segments,
                 consents=sorted(rec.consents))
    return rec


def stop_recording(actor, room: Room, worker, why: str = "stop") -> list[Attachment]:
    """The mediator stops recording (or the session ends): the files are filed in the dossier."""
    if why == "stop" and not permissions.can_control_recording(actor, room):
        raise RecordingError("只有本调解室的调解员可以停止录制", "forbidden")
    rec = recording_of(room.id)
    with _guard:
        transition(rec, "stop")
        files = worker.stop(worker_key(room.id))
    attachments = file_recordings(room, files, rec)
    audit.record(actor, "room.recording_stop", "room", room.id, why=why,
                 files=[a.id for a in attachments])
    return attachments


def suspend_recording(room: Room, worker, reason: str) -> list[Attachment]:
    """Pause because someone present has not consented or a caucus started (no acting user)."""
    rec = recording_of(room.id)
    with _guard:
        transition(rec, "suspend")
        rec.reason = reason
        files = worker.stop(worker_key(room.id))
    attachments = file_recordings(room, files, rec)
    audit.record(None, "room.recording_suspend", "room", room.id, reason=reason,
                 files=[a.id for a in attachments])
    return attachments


def resume_recording(room: Room, worker) -> RoomRecording:
    rec = recording_of(room.id)
    with _guard:
        transition(rec, "resume")
        worker.start(worker_key(room.id))
    audit.record(None, "room.recording_resume", "room", room.id, segment=rec.segments)
    return rec


def dossier_owner(room: Room) -> tuple[str, int]:
    """Where a room's files go: the case dossier when the room belongs to a case, else the room."""
    if room.ref_type == "mediation_case" and room.ref_id:
        return "mediation_case", room.ref_id
    return "room", room.id


def file_recordings(room: Room, files: list[RecordedFile], rec: RoomRecording) -> list[Attachment]:
    """Add an ``attachment`` row for each finished file (checked by content, hashed)."""
    root = Path(current_app.config["UPLOAD_FOLDER"]).resolve()
    owner_type, owner_id = dossier_owner(room)
    out = []
    for f in files:
        path = Path(f.path).resolve()
        if root not in path.parents or not path.exists():
            continue
        with open(path, "rb") as fh:
            head = fh.read(8192)
        mime = detect_type(head)
        if mime not in ("video/webm", "audio/webm"):
            path.unlink(missing_ok=True)
            continue
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        label = f.label.replace("*", "某").replace(" ", "")
        att = Attachment(
            owner_type=owner_type, owner_id=owner_id, uploader_id=rec.started_by,
            original_name=f"调解录像_第{rec.segments}段_{label}_{int(f.seconds)}秒.webm"[:200],
            stored_path=str(path.relative_to(root)), content_type="video/webm" if f.video_frames else "audio/webm",
            size=path.stat().st_size, sha256=digest.hexdigest(),
        )
        db.session.add(att)
        out.append(att)
    db.session.flush()
    return out


def recording_blocker(room: Room, online: set[int]) -> str | None:
    """Why a running recording must pause now ("caucus" / "consent"), or None."""
    if room.caucus_party_id is not None:
        return "caucus"
    if missing_consents(recording_of(room.id), present_participants(room, online)):
        return "consent"
    return None


__all__ = [
    "RecordingError",
    "RecordingState",
    "get_worker",
    "give_consent",
    "recording_of",
    "resume_recording",
    "start_recording",
    "status_dict",
    "stop_recording",
    "suspend_recording",
]
