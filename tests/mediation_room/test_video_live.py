"""Video through the real server (issue 6): two headless aiortc participants join a room over
WebSocket, negotiate through the /room signalling and each receives the other's video and audio
within a time bound; then the mediator records with the party's consent and the media worker files
each participant's WebM in the dossier."""
from __future__ import annotations

import asyncio
import threading
import time

import av
import pytest
import socketio
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay

from mediation_room import operations as ops
from mediation_room.media import operations as rec_ops
from mediation_room.media import remote
from mediation_room.media.testing import PatternVideoTrack, ToneAudioTrack
from portal.extensions import db
from portal.extensions import socketio as site_socketio
from portal.uploads import Attachment, attachment_path
from tests.conftest import PASSWORD
from tests.mediation_room.live import UA, login_cookie

pytestmark = pytest.mark.slow
#: From hello to the first remote video frame and audio frame, on this shared 2-core machine.
TIME_BOUND = 15.0


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


class HeadlessParticipant:
    """Does what room_video.js does, with aiortc: hello, offer to peers with a larger id, answer
    offers, and (while recording) offer its tracks to the media worker."""

    def __init__(self, url: str, cookie: str, room_id: int, loop: asyncio.AbstractEventLoop, shade: int):
        self.url, self.cookie, self.room_id, self.loop = url, cookie, room_id, loop
        self.video = PatternVideoTrack(320, 240, fps=15, shade=shade)
        self.audio = ToneAudioTrack(440 + shade)
        self.relay = MediaRelay()
        self.pcs: dict[str, RTCPeerConnection] = {}
        self.worker_pc: RTCPeerConnection | None = None
        self.first: dict[str, float] = {}
        self.frames = {"video": 0, "audio": 0}
        self.recording: list[dict] = []
        self.left: list[str] = []
        self.sio = socketio.Client(reconnection=False)
        for name in ("rtc_signal", "rtc_peer_joined", "rtc_peer_left", "rtc_recording"):
            self.sio.on(name, self._bridge(name), namespace="/room")
        self.me = None

    def _bridge(self, name):
        def handler(data):
            self.loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self.on_event(name, data)))
        return handler

    async def call(self, event: str, data: dict) -> dict:
        return await self.loop.run_in_executor(
            None, lambda: self.sio.call(event, data, namespace="/room", timeout=30))

    async def connect(self) -> list[dict]:
        await self.loop.run_in_executor(None, lambda: self.sio.connect(
            self.url, namespaces=["/room"], transports=["websocket"], auth={"room_id": self.room_id},
            headers={"Cookie": self.cookie, "User-Agent": UA}, wait_timeout=10))
        ack = await self.call("rtc_hello", {"media": {"audio": True, "video": True}})
        assert ack["ok"], ack
        self.me = ack["self"]
        self.started = time.monotonic()
        for p in ack["peers"]:
            await self.meet(p["peer"])
        return ack["peers"]

    def _pc(self, peer: str) -> RTCPeerConnection:
        pc = RTCPeerConnection()
        pc.addTrack(self.relay.subscribe(self.video))
        pc.addTrack(self.relay.subscribe(self.audio))

        @pc.on("track")
        def on_track(track):
            asyncio.ensure_future(self._consume(track))

        self.pcs[peer] = pc
        return pc

    async def _consume(self, track) -> None:
        while True:
            try:
                frame = await track.recv()
            except Exception:  # noqa: BLE001 - the track ended
                return
            if track.kind == "video" and not frame.width:
                continue
            self.frames[track.kind] += 1
            self.first.setdefault(track.kind, time.monotonic() - self.started)

    async def meet(self, peer: str) -> None:
        if self.me < peer:  # the smaller id offers
            pc = self._pc(peer)
            await pc.setLocalDescription(await pc.createOffer())
            ack = await self.call("rtc_signal", {"to": peer, "kind": "offer", "sdp": pc.localDescription.sdp})
            assert ack["ok"], ack

    async def on_event(self, name: str, data: dict) -> None:
        if name == "rtc_peer_joined":
            await self.meet(data["peer"])
        elif name == "rtc_peer_left":
            self.left.append(data["peer"])
            pc = self.pcs.pop(data["peer"], None)
            if pc:
                await pc.close()
        elif name == "rtc_recording":
            self.recording.append(data)
        elif name == "rtc_signal":
            if data["kind"] == "offer":
                pc = self.pcs.get(data["from"]) or self._pc(data["from"])
                await pc.setRemoteDescription(RTCSessionDescription(data["sdp"], "offer"))
                await pc.setLocalDescription(await pc.createAnswer())
                await self.call("rtc_signal", {"to": data["from"], "kind": "answer", "sdp": pc.localDescription.sdp})
            elif data["kind"] == "answer":
                await self.pcs[data["from"]].setRemoteDescription(RTCSessionDescription(data["sdp"], "answer"))

    async def offer_to_worker(self) -> None:
        pc = self.worker_pc = RTCPeerConnection()
        pc.addTrack(self.relay.subscribe(self.video))
        pc.addTrack(self.relay.subscribe(self.audio))
        await pc.setLocalDescription(await pc.createOffer())
        ack = await self.call("rtc_worker_offer", {"sdp": pc.localDescription.sdp})
        assert ack["ok"], ack
        await pc.setRemoteDescription(RTCSessionDescription(**ack["answer"]))

    async def close(self) -> None:
        for pc in [*self.pcs.values(), self.worker_pc]:
            if pc is not None:
                await pc.close()
        await self.loop.run_in_executor(None, self.sio.disconnect)


async def _wait_for(cond, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        await asyncio.sleep(0.05)
    return cond()


@pytest.mark.parametrize("mode", ["embedded", "remote"])
def test_two_aiortc_peers_see_and_hear_each_other_and_are_recorded(live_app, room_site, live_people, mode):
    info = live_people
    stop_worker = threading.Event()
    if mode == "remote":
        # The worker as a process of its own would do exactly this: connect to the site as a
        # Socket.IO client with the shared token and record into the shared upload folder.
        live_app.config["MEDIA_WORKER_TOKEN"] = "worker-secret"
        remote.install(live_app, site_socketio)
        with pytest.raises(socketio.exceptions.ConnectionError):  # a wrong token is refused
            remote.serve(room_site.url, "wrong", live_app.config["UPLOAD_FOLDER"], stop=threading.Event())
        ready = threading.Event()
        threading.Thread(target=remote.serve, daemon=True, args=(
            room_site.url, "worker-secret", live_app.config["UPLOAD_FOLDER"]),
            kwargs={"ready": ready, "stop": stop_worker}).start()
        assert ready.wait(15)
    with live_app.app_context():
        room = ops.get_room(info["room_id"])
        ops.admit_member(room.mediator, room, info["a"][0])
        db.session.commit()
    url = room_site.url
    cookies = {k: login_cookie(url, info[k][1], PASSWORD) for k in ("mediator", "a")}

    async def scenario():
        loop = asyncio.get_running_loop()
        m = HeadlessParticipant(url, cookies["mediator"], info["room_id"], loop, 0)
        a = HeadlessParticipant(url, cookies["a"], info["room_id"], loop, 80)
        try:
            assert await m.connect() == []
            peers = await a.connect()
            assert [p["role_label"] for p in peers] == ["调解员"]
            both = lambda: all(p.frames["video"] > 5 and p.frames["audio"] > 5 for p in (m, a))
            assert await _wait_for(both, TIME_BOUND), (m.frames, a.frames)
            for p in (m, a):
                assert p.first["video"] < TIME_BOUND and p.first["audio"] < TIME_BOUND, p.first

            # Recording: refused until the party consents; then every sender offers to the worker.
            refused = await m.call("rtc_record_start", {})
            assert not refused["ok"] and refused["missing"] == ["当事人 张**"]
            assert (await a.call("rtc_consent", {"consent": True}))["ok"]
            started = await m.call("rtc_record_start", {})
            assert started["ok"], started
            assert await _wait_for(lambda: a.recording and a.recording[-1]["state"] == "recording", 5)
            await asyncio.gather(m.offer_to_worker(), a.offer_to_worker())
            worker = live_app.extensions["media_worker"]
            key = f"room-{info['room_id']}"

            def worker_has_video():
                stats = worker.stats(key)
                return len(stats) == 2 and all(s["received"].get("video", 0) > 0 for s in stats.values())

            end = time.monotonic() + 30
            while not await loop.run_in_executor(None, worker_has_video) and time.monotonic() < end:
                await asyncio.sleep(0.2)
            t0 = time.monotonic()
            await asyncio.sleep(3)
            span = time.monotonic() - t0  # recorded until the mediator asks to stop
            stopped = await m.call("rtc_record_stop", {})
            assert stopped["ok"], stopped
            return stopped["files"], span
        finally:
            await m.close()
            await a.close()

    try:
        files, span = run_async(scenario())
    finally:
        stop_worker.set()
    assert len(files) == 2
    with live_app.app_context():
        atts = [db.session.get(Attachment, i) for i in files]
        assert {(x.owner_type, x.owner_id) for x in atts} == {("room", info["room_id"])}
        names = sorted(x.original_name for x in atts)
        assert names[0].startswith("调解录像_第1段_当事人张某某") and names[1].startswith("调解录像_第1段_调解员赵某某")
        for att in atts:
            path = attachment_path(att)
            assert att.content_type == "video/webm" and att.size == path.stat().st_size > 5_000
            with av.open(str(path)) as c:
                frames = [f for f in c.decode(video=0)]
            assert frames and all(f.width == 320 and f.height == 240 for f in frames)
            assert 0.3 * span < frames[-1].time < span + 2.5, (frames[-1].time, span)
        actions = [r.action for r in rec_ops.audit.trail_for("room", info["room_id"])]
        assert actions[-3:] == ["room.recording_consent", "room.recording_start", "room.recording_stop"]
