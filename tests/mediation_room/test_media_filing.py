"""Recordings are filed in the dossier (issue 6): checked by content, hashed, attached to the case
when the room belongs to one, else to the room; a room's recordings are served to its mediator only."""
from __future__ import annotations

import fractions
import hashlib
from pathlib import Path

import av
import numpy as np
import pytest

from mediation_room.media import operations as rec_ops
from mediation_room.media.consent import RoomRecording
from mediation_room.media.recorder import RecordedFile
from mediation_room.operations import create_room
from portal.extensions import db
from tests.mediation_room.conftest import http_client


def _webm(path: Path, seconds: float = 1.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w", format="webm") as c:
        s = c.add_stream("libvpx", rate=30)
        s.width, s.height, s.pix_fmt = 160, 120, "yuv420p"
        for i in range(int(30 * seconds)):
            f = av.VideoFrame.from_ndarray(np.full((120, 160, 3), i * 4 % 255, dtype=np.uint8), format="rgb24")
            f.pts, f.time_base = i, fractions.Fraction(1, 30)
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    return path


def _recorded(path: Path, label="当事人 张**") -> RecordedFile:
    return RecordedFile(peer="sid", label=label, path=path, started_at=0, stopped_at=1.2,
                        video_frames=30, audio_frames=0)


@pytest.fixture
def folder(app):
    return Path(app.config["UPLOAD_FOLDER"]) / "recording" / "room-1"


@pytest.mark.parametrize("ref", [("mediation_case", 42), (None, None)])
def test_recordings_go_to_the_case_dossier_or_the_room(people, folder, ref):
    room = create_room(people["mediator"], "调解", people["mediator"], [people["a"]], ref_type=ref[0], ref_id=ref[1])
    db.session.commit()
    good = _webm(folder / "a.webm")
    rec = RoomRecording(room.id, started_by=people["mediator"].id, segments=2)
    [att] = rec_ops.file_recordings(room, [_recorded(good)], rec)
    db.session.commit()
    assert (att.owner_type, att.owner_id) == (("mediation_case", 42) if ref[0] else ("room", room.id))
    assert att.content_type == "video/webm" and att.size == good.stat().st_size
    assert att.sha256 == hashlib.sha256(good.read_bytes()).hexdigest()
    assert att.stored_path == "recording/room-1/a.webm"
    assert att.original_name == "调解录像_第2段_当事人张某某_1秒.webm"
    assert att.uploader_id == people["mediator"].id


def test_files_that_are_not_webm_or_lie_outside_the_upload_folder_are_not_filed(people, room, folder, tmp_path):
    fake = folder / "fake.webm"
    fake.parent.mkdir(parents=True, exist_ok=True)
    fake.write_bytes(b"%PDF-1.4 not a video" * 100)
    outside = _webm(tmp_path / "elsewhere" / "x.webm")
    rec = RoomRecording(room.id, started_by=people["mediator"].id, segments=1)
    assert rec_ops.file_recordings(room, [_recorded(fake), _recorded(outside)], rec) == []
    assert not fake.exists()  # refused content is removed
    assert outside.exists()   # never touch files that are not ours


def test_room_recordings_are_served_to_the_mediator_only(app, people, room, folder, outsiders):
    rec = RoomRecording(room.id, started_by=people["mediator"].id, segments=1)
    [att] = rec_ops.file_recordings(room, [_recorded(_webm(folder / "m.webm"))], rec)
    db.session.commit()
    url = f"/files/{att.id}"
    resp = http_client(app, people["mediator"]).get(url)
    assert resp.status_code == 200 and resp.mimetype == "video/webm" and resp.data[:4] == b"\x1a\x45\xdf\xa3"
    for who in (people["a"], outsiders["outsider"], outsiders["other_mediator"]):
        assert http_client(app, who).get(url).status_code == 404
