"""The aiortc media worker records each participant of a session into a WebM file (issue 6).

Two aiortc test peers call each other and each also offers its camera and microphone to the
embedded worker (its own asyncio loop on a thread); the files must decode with PyAV, hold real
frames and last about as long as the span that was recorded.
"""
from __future__ import annotations

import asyncio

import av
import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay

from mediation_room.media.recorder import RecorderError, parse_candidate
from mediation_room.media.testing import PatternVideoTrack, ToneAudioTrack
from mediation_room.media.worker import MediaWorker

RECORD_SECONDS = 3.0


def run_async(coro):
    """``asyncio.run`` on a thread of its own: once a browser test has run, Playwright's sync API
    keeps an event loop running in the main thread for the session."""
    import threading as _threading

    box: dict = {}

    def target():
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            box["error"] = exc

    t = _threading.Thread(target=target)
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


class Participant:
    """A headless participant: a camera and microphone shared between its peer connections."""

    def __init__(self, shade: int) -> None:
        self.video = PatternVideoTrack(width=320, height=240, fps=15, shade=shade)
        self.audio = ToneAudioTrack(440 + shade)
        self.relay = MediaRelay()
        self.pcs: list[RTCPeerConnection] = []
        self.received: dict[str, int] = {"video": 0, "audio": 0}

    def new_pc(self) -> RTCPeerConnection:
        pc = RTCPeerConnection()
        pc.addTrack(self.relay.subscribe(self.video))
        pc.addTrack(self.relay.subscribe(self.audio))
        self.pcs.append(pc)
        return pc

    async def close(self) -> None:
        for pc in self.pcs:
            await pc.close()


async def _consume(track, counter: dict) -> None:
    while True:
        try:
            await track.recv()
        except Exception:  # noqa: BLE001 - the track ended
            return
        counter[track.kind] += 1


async def _call(a: Participant, b: Participant) -> None:
    """a calls b directly (the mesh link between the two participants)."""
    pa, pb = a.new_pc(), b.new_pc()
    pb.on("track", lambda t: asyncio.ensure_future(_consume(t, b.received)))
    pa.on("track", lambda t: asyncio.ensure_future(_consume(t, a.received)))
    await pa.setLocalDescription(await pa.createOffer())
    await pb.setRemoteDescription(pa.localDescription)
    await pb.setLocalDescription(await pb.createAnswer())
    await pa.setRemoteDescription(pb.localDescription)


async def _offer_to_worker(worker: MediaWorker, key: str, peer_id: str, peer: Participant) -> None:
    pc = peer.new_pc()
    await pc.setLocalDescription(await pc.createOffer())
    loop = asyncio.get_running_loop()
    # The worker's blocking API is called from another thread, as the signalling handlers do.
    answer = await loop.run_in_executor(None, worker.offer, key, peer_id, f"当事人{peer_id}", pc.localDescription.sdp)
    await pc.setRemoteDescription(RTCSessionDescription(**answer))


def _decode(path):
    with av.open(str(path)) as container:
        kinds = sorted(s.type for s in container.streams)
        video = [(f.width, f.height, f.time) for f in container.decode(video=0)]
    with av.open(str(path)) as container:
        audio = [(f.time, f.samples / f.sample_rate) for f in container.decode(audio=0)]
    audio_end = audio[-1][0] + audio[-1][1] if audio else 0.0
    return kinds, video, audio_end


@pytest.fixture
def worker(tmp_path):
    w = MediaWorker(tmp_path)
    yield w
    w.shutdown()


@pytest.mark.slow
def test_worker_records_each_participant_of_a_two_peer_session(worker):
    a, b = Participant(0), Participant(60)

    async def session():
        await _call(a, b)
        worker.start("room-1")
        assert worker.is_recording("room-1")
        await _offer_to_worker(worker, "room-1", "a", a)
        await _offer_to_worker(worker, "room-1", "b", b)
        await asyncio.sleep(RECORD_SECONDS)
        files = await asyncio.get_running_loop().run_in_executor(None, worker.stop, "room-1")
        await a.close()
        await b.close()
        return files

    files = run_async(session())
    assert not worker.is_recording("room-1")
    assert sorted(f.peer for f in files) == ["a", "b"]
    # The two participants also saw and heard each other while being recorded.
    assert a.received["video"] > 15 and b.received["video"] > 15
    assert a.received["audio"] > 50 and b.received["audio"] > 50
    for f in files:
        assert f.path.exists() and f.path.stat().st_size > 10_000
        assert f.path.read_bytes()[:4] == b"\x1a\x45\xdf\xa3"  # EBML: a WebM container
        kinds, video, audio_end = _decode(f.path)
        assert kinds == ["audio", "video"]
        # 15 fps sent; on this shared 2-core machine the rate may sag, never to a trickle.
        assert len(video) >= 5 * f.seconds, (len(video), f.seconds)
        assert all(w == 320 and h == 240 for w, h, _ in video)
        assert f.video_frames == len(video)
        # The span recorded (first frame to stop) is the time we recorded for, plus the worker's
        # stopping latency; the file keeps the media time of what arrived exactly, and that is
        # close to the span: 0.6 s when the machine is quiet (measured: 0.03 s), up to half the span
        # when other engineers' work starves this shared 2-core machine (load average 9 seen).
        assert RECORD_SECONDS - 1.0 < f.seconds < RECORD_SECONDS + 2.0
        assert abs(max(video[-1][2], audio_end) - f.media_seconds) < 0.1, (video[-1][2], audio_end, f)
        slack = max(0.6, f.seconds / 2)
        assert abs(video[-1][2] - f.seconds) < slack, (video[-1][2], f.seconds)
        assert abs(audio_end - f.seconds) < slack, (audio_end, f.seconds)


def test_a_participant_who_leaves_keeps_their_segment(worker):
    a = Participant(0)

    async def session():
        worker.start("room-2")
        await _offer_to_worker(worker, "room-2", "a", a)
        await asyncio.sleep(1.5)
        await asyncio.get_running_loop().run_in_executor(None, worker.drop, "room-2", "a")
        await a.close()
        return await asyncio.get_running_loop().run_in_executor(None, worker.stop, "room-2")

    files = run_async(session())
    assert [f.peer for f in files] == ["a"]
    assert 1.0 < files[0].seconds < 2.3


def test_no_session_no_recording(worker):
    assert worker.stop("nothing") == []
    with pytest.raises(RecorderError, match="没有进行中的录制"):
        worker.offer("nothing", "a", "x", "v=0\r\n")


@pytest.mark.parametrize("sdp", ["", "hello", "v=0\r\nbroken", "v=0\r\nm=audio x\r\n", None, "v=0" + "x" * 100_001])
def test_malformed_offers_are_refused_and_leave_no_file(worker, tmp_path, sdp):
    worker.start("room-3")
    with pytest.raises(RecorderError, match="SDP 不正确"):
        worker.offer("room-3", "a", "x", sdp)
    assert worker.stop("room-3") == []
    assert not any((tmp_path / "recording" / "room-3").glob("*.webm"))


@pytest.mark.parametrize("data", [{"candidate": 5}, {"candidate": "candidate:garbage"}, {"candidate": "x" * 2000}])
def test_malformed_ice_candidates_are_refused(data):
    with pytest.raises(RecorderError, match="ICE 候选格式不正确"):
        parse_candidate(data)


def test_browser_candidate_is_parsed():
    cand = parse_candidate({"candidate": "candidate:842163049 1 udp 1677729535 192.0.2.2 46154 typ srflx "
                                         "raddr 0.0.0.0 rport 0 generation 0", "sdpMid": "0", "sdpMLineIndex": 0})
    assert (cand.ip, cand.port, cand.type, cand.sdpMid) == ("192.0.2.2", 46154, "srflx", "0")
    assert parse_candidate({"candidate": ""}) is None


def test_a_camera_that_starts_late_is_not_lost_when_stopped_early(tmp_path):
    """Stopped while the writer still waits for the second track: what arrived is written."""
    import fractions

    from av import AudioFrame

    from mediation_room.media.recorder import FileWriter

    writer = FileWriter(tmp_path / "late.webm", ["audio", "video"], settle=30)
    for i in range(25):
        frame = AudioFrame(format="s16", layout="mono", samples=960)
        for p in frame.planes:
            p.update(bytes(p.buffer_size))
        frame.sample_rate, frame.pts, frame.time_base = 48000, i * 960, fractions.Fraction(1, 48000)
        writer.put("audio", frame)
    writer.close()
    assert writer.error is None and writer.written == {"video": 0, "audio": 25}
    with av.open(str(tmp_path / "late.webm")) as c:
        assert [s.type for s in c.streams] == ["audio"]
        assert sum(f.samples for f in c.decode(audio=0)) >= 24 * 960
