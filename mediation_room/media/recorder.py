"""Recording each participant's audio and video with aiortc.

A participant's browser (or an aiortc test peer) sends the worker an SDP offer with its outgoing
tracks; :class:`ParticipantRecorder` answers receive-only and writes what arrives into one WebM file
(VP8 + Opus) through aiortc's ``MediaRecorder``. Each incoming track is wrapped in a
:class:`CountingTrack`, which rebases timestamps so the file starts at zero (RTP timestamps start
at a random value) and counts frames, for the recording's metadata and the benchmark.

Everything here runs on the media worker's asyncio loop (see :mod:`.loop`).
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
import uuid
from pathlib import Path

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRecorder
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.sdp import candidate_from_sdp

log = logging.getLogger(__name__)

RTP_WRAP = 2**32


class RecorderError(ValueError):
    """A signalling message the recorder cannot use (bad SDP, unknown peer); Chinese message."""


class CountingTrack(MediaStreamTrack):
    """Passes frames through from ``source``, starting timestamps at zero and counting frames."""

    def __init__(self, source: MediaStreamTrack) -> None:
        super().__init__()
        self.kind = source.kind
        self.source = source
        self.frames = 0
        #: Sum of width*height of video frames, or of samples of audio frames.
        self.units = 0
        #: Wall-clock times (time.time()) of the first and the latest frame.
        self.first_at: float | None = None
        self.last_at: float | None = None
        self._base: int | None = None

    def __repr__(self) -> str:
        return f"<CountingTrack {self.kind} frames={self.frames}>"

    async def recv(self):
        frame = await self.source.recv()
        now = time.time()
        if self._base is None:
            self._base = frame.pts or 0
            self.first_at = now
        if frame.pts is not None:
            frame.pts = (frame.pts - self._base) % RTP_WRAP
        self.last_at = now
        self.frames += 1
        self.units += frame.width * frame.height if self.kind == "video" else frame.samples
        return frame


@dataclasses.dataclass
class RecordedFile:
    """One participant's finished recording segment."""

    peer: str
    label: str
    path: Path
    started_at: float
    stopped_at: float
    video_frames: int
    audio_frames: int

    @property
    def seconds(self) -> float:
        return max(0.0, self.stopped_at - self.started_at)


def ice_configuration(ice_servers: list[dict] | None) -> RTCConfiguration:
    """Build aiortc's configuration from the site's ``ICE_SERVERS`` (browser RTCIceServer dicts)."""
    servers = []
    for entry in ice_servers or []:
        urls = entry.get("urls")
        if not urls:
            continue
        servers.append(RTCIceServer(urls=urls, username=entry.get("username"),
                                    credential=entry.get("credential")))
    return RTCConfiguration(iceServers=servers)


def parse_candidate(data: dict):
    """A browser's ``RTCIceCandidate.toJSON()`` as an aiortc candidate, or None for end-of-candidates."""
    text = (data or {}).get("candidate") or ""
    if not isinstance(text, str) or len(text) > 1000:
        raise RecorderError("ICE 候选格式不正确")
    if not text:
        return None
    if text.startswith("candidate:"):
        text = text[len("candidate:"):]
    try:
        cand = candidate_from_sdp(text)
    except (ValueError, IndexError) as exc:
        raise RecorderError("ICE 候选格式不正确") from exc
    cand.sdpMid = data.get("sdpMid")
    cand.sdpMLineIndex = data.get("sdpMLineIndex")
    return cand


class ParticipantRecorder:
    """A receive-only peer connection for one participant, recording into ``path``."""

    def __init__(self, peer: str, label: str, path: Path, ice_servers: list[dict] | None = None) -> None:
        self.peer = peer
        self.label = label
        self.path = Path(path)
        self.pc = RTCPeerConnection(ice_configuration(ice_servers))
        self.tracks: list[CountingTrack] = []
        self._recorder: MediaRecorder | None = None
        self._started_at: float | None = None
        self._stopped = False

        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            counted = CountingTrack(track)
            self.tracks.append(counted)
            if self._recorder is None:
                self._recorder = MediaRecorder(str(self.path), format="webm")
            self._recorder.addTrack(counted)

        @self.pc.on("connectionstatechange")
        async def on_state() -> None:
            log.debug("recorder %s: %s", self.peer, self.pc.connectionState)

    def __repr__(self) -> str:
        return f"<ParticipantRecorder {self.peer} {self.path.name}>"

    @property
    def connection_state(self) -> str:
        return self.pc.connectionState

    async def accept_offer(self, sdp: str, kind: str = "offer") -> dict:
        """Apply the participant's offer and return our answer (candidates included, no trickle)."""
        if (kind != "offer" or not isinstance(sdp, str) or not sdp.startswith("v=0") or len(sdp) > 100_000
                or "\nm=" not in sdp):
            raise RecorderError("录制连接的 SDP 不正确")
        try:
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        except (ValueError, AssertionError, KeyError, IndexError, TypeError) as exc:
            raise RecorderError("录制连接的 SDP 不正确") from exc
        if self._recorder is not None and self._started_at is None:
            self._started_at = time.time()
            await self._recorder.start()
        answer = await self.pc.createAnswer()
        await self.pc.setLocalDescription(answer)
        return {"type": self.pc.localDescription.type, "sdp": self.pc.localDescription.sdp}

    async def add_candidate(self, data: dict) -> None:
        cand = parse_candidate(data)
        if cand is not None:
            await self.pc.addIceCandidate(cand)

    async def stop(self) -> RecordedFile | None:
        """Close the connection and the file; None when nothing was recorded."""
        if self._stopped:
            return None
        self._stopped = True
        stopped_at = time.time()
        for track in self.tracks:
            track.stop()
        recorder, self._recorder = self._recorder, None
        recorded = bool(recorder is not None and any(t.frames for t in self.tracks))
        if recorder is not None:
            try:
                await recorder.stop()
            except Exception:  # noqa: BLE001 - a file with no frames cannot be finalised; dropped below
                log.warning("recorder %s: could not finalise %s", self.peer, self.path, exc_info=True)
                recorded = False
        await self.pc.close()
        if not recorded or not self.path.exists() or self.path.stat().st_size == 0:
            self.path.unlink(missing_ok=True)
            return None
        firsts = [t.first_at for t in self.tracks if t.first_at is not None]
        # The span actually recorded: from the first frame to the stop.
        started = min(firsts) if firsts else (self._started_at or stopped_at)
        return RecordedFile(
            peer=self.peer,
            label=self.label,
            path=self.path,
            started_at=started,
            stopped_at=stopped_at,
            video_frames=sum(t.frames for t in self.tracks if t.kind == "video"),
            audio_frames=sum(t.frames for t in self.tracks if t.kind == "audio"),
        )


class RecordingSession:
    """All participants' recorders of one room; files go into ``folder``."""

    def __init__(self, key: str, folder: Path, ice_servers: list[dict] | None = None,
                 max_participants: int = 8) -> None:
        self.key = key
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.ice_servers = ice_servers
        self.max_participants = max_participants
        self.recorders: dict[str, ParticipantRecorder] = {}
        self.finished: list[RecordedFile] = []

    def __repr__(self) -> str:
        return f"<RecordingSession {self.key} peers={len(self.recorders)}>"

    async def offer(self, peer: str, label: str, sdp: str, kind: str = "offer") -> dict:
        """Answer a participant's offer; a second offer from the same peer starts a new segment."""
        old = self.recorders.pop(peer, None)
        if old is not None:
            await self._finish(old)
        if len(self.recorders) >= self.max_participants:
            raise RecorderError("录制人数已达上限")
        path = self.folder / f"{uuid.uuid4().hex}.webm"
        rec = ParticipantRecorder(peer, label, path, self.ice_servers)
        self.recorders[peer] = rec
        try:
            return await rec.accept_offer(sdp, kind)
        except Exception:
            self.recorders.pop(peer, None)
            await rec.stop()
            raise

    async def candidate(self, peer: str, data: dict) -> None:
        rec = self.recorders.get(peer)
        if rec is None:
            raise RecorderError("没有该参与者的录制连接")
        await rec.add_candidate(data)

    async def drop(self, peer: str) -> None:
        """The participant left (or lost visibility): close its segment."""
        rec = self.recorders.pop(peer, None)
        if rec is not None:
            await self._finish(rec)

    async def _finish(self, rec: ParticipantRecorder) -> None:
        done = await rec.stop()
        if done is not None:
            self.finished.append(done)

    async def stop(self) -> list[RecordedFile]:
        """Stop every recorder; returns every finished segment of the session."""
        recs = list(self.recorders.values())
        self.recorders.clear()
        await asyncio.gather(*(self._finish(r) for r in recs))
        finished, self.finished = self.finished, []
        return finished

    def stats(self) -> dict:
        return {
            peer: {"state": rec.connection_state,
                   "video_frames": sum(t.frames for t in rec.tracks if t.kind == "video"),
                   "audio_frames": sum(t.frames for t in rec.tracks if t.kind == "audio")}
            for peer, rec in self.recorders.items()
        }
