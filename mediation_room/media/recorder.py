"""Recording each participant's audio and video with aiortc.

A participant's browser (or an aiortc test peer) sends the worker an SDP offer with its outgoing
tracks; :class:`ParticipantRecorder` answers receive-only and writes what arrives into one WebM file
(VP8 + Opus). It does what aiortc's ``MediaRecorder`` does, but encodes on a thread of its own
(:class:`FileWriter`) so the event loop keeps reading packets while frames are encoded, and it
counts the frames it had to drop. Each incoming track is wrapped in a
:class:`CountingTrack`, which rebases timestamps so the file starts at zero (RTP timestamps start
at a random value) and counts frames, for the recording's metadata and the benchmark.

Everything here runs on the media worker's asyncio loop (see :mod:`.loop`).
"""
from __future__ import annotations

import asyncio
import dataclasses
import fractions
import logging
import queue
import threading
import time
import uuid
from pathlib import Path

import av
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
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
    #: Frames received but not written because the encoder fell behind.
    dropped_frames: int = 0
    #: Media time of the last frame written (seconds from the first): the file's own length.
    media_seconds: float = 0.0

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
    text = text.removeprefix("candidate:")
    try:
        cand = candidate_from_sdp(text)
    except (ValueError, IndexError, AssertionError, KeyError) as exc:
        raise RecorderError("ICE 候选格式不正确") from exc
    cand.sdpMid = data.get("sdpMid")
    cand.sdpMLineIndex = data.get("sdpMLineIndex")
    return cand


class FileWriter:
    """Encodes and muxes one participant's frames into a WebM file on a thread of its own.

    The asyncio side only hands frames over (:meth:`put`), so packets keep being read from the
    network while VP8/Opus encoding runs (PyAV releases the GIL while encoding). The hand-over
    queue is bounded: when the encoder falls behind, new frames are dropped and counted rather
    than piling up in memory. Streams are created once every track has produced its first frame
    (or after ``settle`` seconds, frames held meanwhile), so a camera that never delivers leaves an
    audio-only file.
    """

    def __init__(self, path: Path, kinds: list[str], max_queue: int = 150, settle: float = 5.0) -> None:
        self.path = Path(path)
        self.kinds = list(kinds)
        self.dropped = {"video": 0, "audio": 0}
        self.written = {"video": 0, "audio": 0}
        #: End (media time, seconds) of the last frame written.
        self.media_end = 0.0
        self.error: str | None = None
        self._queue: queue.Queue = queue.Queue(max_queue)
        self._settle = settle
        self._thread = threading.Thread(target=self._run, name=f"rec-{self.path.stem[:8]}", daemon=True)
        self._thread.start()

    def __repr__(self) -> str:
        return f"<FileWriter {self.path.name} written={self.written} dropped={self.dropped}>"

    def put(self, kind: str, frame) -> None:
        try:
            self._queue.put_nowait((kind, frame))
        except queue.Full:
            self.dropped[kind] += 1

    def close(self, timeout: float = 15.0) -> None:
        """Flush the encoders and close the file (blocking: call it from an executor)."""
        self._queue.put((None, None))
        self._thread.join(timeout)

    def _open_streams(self, container, first: dict):
        streams = {}
        for kind in self.kinds:
            frame = first.get(kind)
            if frame is None:
                continue
            if kind == "video":
                stream = container.add_stream("libvpx", rate=30)
                stream.pix_fmt = "yuv420p"
                stream.width, stream.height = frame.width, frame.height
                stream.codec_context.time_base = fractions.Fraction(1, 1000)
                stream.bit_rate = 1_000_000
                # libvpx defaults to its slow "good" mode; real-time mode encodes several times faster.
                stream.codec_context.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
            else:
                stream = container.add_stream("libopus", rate=48000)
            streams[kind] = stream
        return streams

    def _run(self) -> None:
        container = None
        streams: dict = {}
        pending: list = []
        first: dict = {}
        began = time.monotonic()
        last_ms = -1
        closing = False
        try:
            while True:
                try:
                    kind, frame = self._queue.get(timeout=0.2)
                except queue.Empty:
                    kind = frame = False
                if kind is None:  # close(): write what is held, then finish
                    closing = True
                    if container is not None or not first:
                        break
                if container is None:
                    if kind:
                        pending.append((kind, frame))
                        first.setdefault(kind, frame)
                    waiting = len(first) < len(self.kinds) and time.monotonic() - began < self._settle
                    if not first or (waiting and not closing):
                        continue
                    container = av.open(str(self.path), mode="w", format="webm")
                    streams = self._open_streams(container, first)
                    items, pending = pending, []
                elif kind:
                    items = [(kind, frame)]
                else:
                    continue
                for kind, frame in items:
                    stream = streams.get(kind)
                    if stream is None:
                        continue
                    if kind == "video":
                        if frame.width != stream.width or frame.height != stream.height:
                            frame = frame.reformat(width=stream.width, height=stream.height)
                        ms = int((frame.time or 0) * 1000)
                        if ms <= last_ms:  # the encoder needs strictly rising timestamps
                            self.dropped["video"] += 1
                            continue
                        last_ms = ms
                        frame.pts, frame.time_base = ms, fractions.Fraction(1, 1000)
                    end = (frame.time or 0) + (frame.samples / frame.sample_rate if kind == "audio" else 0)
                    for packet in stream.encode(frame):
                        container.mux(packet)
                    self.written[kind] += 1
                    self.media_end = max(self.media_end, end)
                if closing:
                    break
            if container is not None:
                for stream in streams.values():
                    for packet in stream.encode(None):
                        container.mux(packet)
        except Exception as exc:
            log.exception("recording %s failed", self.path)
            self.error = str(exc)
        finally:
            if container is not None:
                try:
                    container.close()
                except Exception:  # noqa: BLE001
                    self.error = self.error or "close failed"
            if container is None or self.error or not any(self.written.values()):
                self.path.unlink(missing_ok=True)


class ParticipantRecorder:
    """A receive-only peer connection for one participant, recording into ``path``."""

    def __init__(self, peer: str, label: str, path: Path, ice_servers: list[dict] | None = None) -> None:
        self.peer = peer
        self.label = label
        self.path = Path(path)
        self.pc = RTCPeerConnection(ice_configuration(ice_servers))
        self.tracks: list[CountingTrack] = []
        self.writer: FileWriter | None = None
        self._tasks: list[asyncio.Task] = []
        self._stopped = False
        #: Once stopping: the media time (seconds from the first frame) after which frames are dropped.
        self._until: float | None = None

        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if len(self.tracks) < 4:  # an audio and a video track; a screen share at most
                self.tracks.append(CountingTrack(track))

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
        if self.writer is None and self.tracks:
            # One audio and one video stream per file (the first of each kind).
            chosen = {}
            for t in self.tracks:
                chosen.setdefault(t.kind, t)
            self.writer = FileWriter(self.path, list(chosen))
            self._tasks = [asyncio.ensure_future(self._pump(t)) for t in chosen.values()]
        answer = await self.pc.createAnswer()
        await self.pc.setLocalDescription(answer)
        return {"type": self.pc.localDescription.type, "sdp": self.pc.localDescription.sdp}

    async def _pump(self, track: CountingTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except (MediaStreamError, asyncio.CancelledError):
                return
            if self._until is not None and track.first_at is not None and (frame.time or 0) > self._until:
                return  # captured after the stop: not part of the recording
            self.writer.put(track.kind, frame)

    async def add_candidate(self, data: dict) -> None:
        cand = parse_candidate(data)
        if cand is not None:
            await self.pc.addIceCandidate(cand)

    async def stop(self, drain: float = 2.0) -> RecordedFile | None:
        """Close the connection and the file; None when nothing was recorded.

        Frames still on their way through the network and the decoder when stop is asked for
        (up to ``drain`` seconds of them) are kept if they were captured before the stop.
        """
        if self._stopped:
            return None
        self._stopped = True
        stopped_at = time.time()
        firsts = [t.first_at for t in self.tracks if t.first_at is not None]
        if firsts and self._tasks and drain > 0:
            self._until = stopped_at - min(firsts)
            await asyncio.wait(self._tasks, timeout=drain)
        for task in self._tasks:
            task.cancel()
        await self.pc.close()
        writer = self.writer
        if writer is None:
            return None
        await asyncio.get_running_loop().run_in_executor(None, writer.close)
        if writer.error or not self.path.exists() or self.path.stat().st_size == 0:
            self.path.unlink(missing_ok=True)
            return None
        firsts = [t.first_at for t in self.tracks if t.first_at is not None]
        # The span actually recorded: from the first frame to the stop.
        started = min(firsts) if firsts else stopped_at
        return RecordedFile(
            peer=self.peer,
            label=self.label,
            path=self.path,
            started_at=started,
            stopped_at=stopped_at,
            video_frames=writer.written["video"],
            audio_frames=writer.written["audio"],
            dropped_frames=sum(writer.dropped.values()),
            media_seconds=writer.media_end,
        )

    def stats(self) -> dict:
        w = self.writer
        return {
            "state": self.connection_state,
            "received": {t.kind: t.frames for t in self.tracks},
            "written": dict(w.written) if w else {},
            "dropped": dict(w.dropped) if w else {},
        }


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
        """The participant left (or lost visibility): close its segment at once."""
        rec = self.recorders.pop(peer, None)
        if rec is not None:
            await self._finish(rec, drain=0)

    async def _finish(self, rec: ParticipantRecorder, drain: float = 2.0) -> None:
        done = await rec.stop(drain)
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
            peer: rec.stats() for peer, rec in self.recorders.items()
        }
