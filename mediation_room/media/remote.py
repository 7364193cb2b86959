"""The media worker as a process of its own, talking to the site as a Socket.IO client.

For scale, the recording CPU can leave the web servers: set ``MEDIA_WORKER_MODE=remote`` and a
shared secret ``MEDIA_WORKER_TOKEN`` on the site, and run on a machine that shares the upload folder

    MEDIA_WORKER_TOKEN=... UPLOAD_FOLDER=/srv/portal/uploads \\
        .venv/bin/python -m mediation_room.media.remote http://127.0.0.1:8000

The process connects to the namespace ``/media-worker`` (refused without the token), and the site's
:class:`RemoteWorker` (same interface as the embedded :class:`~.worker.MediaWorker`) forwards each
call as a Socket.IO event with an acknowledgement. Files are written into the shared upload folder;
``stop`` answers with their paths relative to it, and the site files them in the dossier.
"""
from __future__ import annotations

import argparse
import hmac
import logging
import os
import threading
from pathlib import Path

from flask import request
from flask_socketio import ConnectionRefusedError, Namespace

from mediation_room.media.recorder import RecordedFile, RecorderError

NAMESPACE = "/media-worker"
log = logging.getLogger(__name__)


class WorkerNamespace(Namespace):
    """The site's end: accepts one worker process at a time, by token."""

    def __init__(self, app_token_getter):
        super().__init__(NAMESPACE)
        self._token = app_token_getter
        self.sid: str | None = None

    def on_connect(self, auth=None):
        token = self._token()
        given = auth.get("token") if isinstance(auth, dict) else None
        if not token or not isinstance(given, str) or not hmac.compare_digest(given, token):
            raise ConnectionRefusedError("unauthorised")
        self.sid = request.sid

    def on_disconnect(self, reason=None):
        if request.sid == self.sid:
            self.sid = None


class RemoteWorker:
    """The site's handle on a worker process (drop-in for the embedded worker)."""

    def __init__(self, socketio, namespace: WorkerNamespace, upload_folder: str, timeout: float = 20.0):
        self.socketio, self.ns, self.folder, self.timeout = socketio, namespace, Path(upload_folder), timeout
        self._recording: set[str] = set()

    def __repr__(self) -> str:
        return f"<RemoteWorker connected={self.ns.sid is not None}>"

    def _call(self, event: str, data: dict, timeout: float | None = None):
        if self.ns.sid is None:
            raise RecorderError("录制服务未连接，请稍后再试")
        try:
            ack = self.socketio.call(event, data, to=self.ns.sid, namespace=NAMESPACE,
                                     timeout=timeout or self.timeout)
        except TimeoutError as exc:
            raise RecorderError("录制服务没有响应，请稍后再试") from exc
        if not isinstance(ack, dict) or not ack.get("ok"):
            raise RecorderError((ack or {}).get("error") or "录制服务出错")
        return ack

    def is_recording(self, key: str) -> bool:
        return key in self._recording

    def start(self, key: str) -> None:
        self._call("start", {"key": key})
        self._recording.add(key)

    def offer(self, key: str, peer: str, label: str, sdp: str) -> dict:
        return self._call("offer", {"key": key, "peer": peer, "label": label, "sdp": sdp})["answer"]

    def candidate(self, key: str, peer: str, data: dict) -> None:
        self._call("candidate", {"key": key, "peer": peer, "candidate": data})

    def drop(self, key: str, peer: str) -> None:
        self._call("drop", {"key": key, "peer": peer})

    def stop(self, key: str) -> list[RecordedFile]:
        self._recording.discard(key)
        ack = self._call("stop", {"key": key}, timeout=max(60.0, self.timeout))
        root = self.folder.resolve()
        out = []
        for f in ack.get("files", []):
            path = (root / str(f.get("path", ""))).resolve()
            if root not in path.parents:
                continue  # a worker names files only inside the upload folder
            out.append(RecordedFile(peer=str(f["peer"]), label=str(f["label"]), path=path,
                                    started_at=float(f["started_at"]), stopped_at=float(f["stopped_at"]),
                                    video_frames=int(f["video_frames"]), audio_frames=int(f["audio_frames"]),
                                    dropped_frames=int(f.get("dropped_frames", 0)),
                                    media_seconds=float(f.get("media_seconds", 0))))
        return out

    def stats(self, key: str) -> dict:
        return self._call("stats", {"key": key}).get("stats", {})


def install(app, socketio) -> None:
    """Register the worker namespace on this app's Socket.IO server and use a RemoteWorker."""
    ns = WorkerNamespace(lambda: app.config.get("MEDIA_WORKER_TOKEN"))
    socketio.on_namespace(ns)
    app.extensions["media_worker"] = RemoteWorker(socketio, ns, app.config["UPLOAD_FOLDER"])


# ---- the worker process ----------------------------------------------------------------------------

def serve(url: str, token: str, upload_folder: str, ice_servers: list | None = None,
          ready: threading.Event | None = None, stop: threading.Event | None = None):
    """Connect to the site and serve recording requests until ``stop`` is set (or forever)."""
    import socketio as sio_mod

    from mediation_room.media.worker import MediaWorker

    worker = MediaWorker(upload_folder, ice_servers or [])
    root = Path(upload_folder).resolve()
    client = sio_mod.Client(reconnection=True)

    def guarded(fn):
        def handler(data):
            try:
                return {"ok": True, **(fn(data if isinstance(data, dict) else {}) or {})}
            except RecorderError as err:
                return {"ok": False, "error": str(err)}
            except Exception:
                log.exception("media worker request failed")
                return {"ok": False, "error": "录制服务出错"}
        return handler

    def file_dict(f: RecordedFile) -> dict:
        return {"peer": f.peer, "label": f.label, "path": str(Path(f.path).resolve().relative_to(root)),
                "started_at": f.started_at, "stopped_at": f.stopped_at, "video_frames": f.video_frames,
                "audio_frames": f.audio_frames, "dropped_frames": f.dropped_frames,
                "media_seconds": f.media_seconds}

    handlers = {
        "start": lambda d: worker.start(str(d["key"])),
        "offer": lambda d: {"answer": worker.offer(str(d["key"]), str(d["peer"]), str(d["label"]), d["sdp"])},
        "candidate": lambda d: worker.candidate(str(d["key"]), str(d["peer"]), d.get("candidate") or {}),
        "drop": lambda d: worker.drop(str(d["key"]), str(d["peer"])),
        "stop": lambda d: {"files": [file_dict(f) for f in worker.stop(str(d["key"]))]},
        "stats": lambda d: {"stats": worker.stats(str(d["key"]))},
    }
    for name, fn in handlers.items():
        client.on(name, guarded(fn), namespace=NAMESPACE)
    client.connect(url, namespaces=[NAMESPACE], transports=["websocket"], auth={"token": token}, wait_timeout=10)
    if ready is not None:
        ready.set()
    try:
        if stop is None:
            client.wait()
        else:
            stop.wait()
    finally:
        client.disconnect()
        worker.shutdown()


def main() -> None:
    p = argparse.ArgumentParser(description="媒体录制服务：以独立进程运行调解室录音录像")
    p.add_argument("url", help="the site's base URL, e.g. http://127.0.0.1:8000")
    args = p.parse_args()
    token = os.environ.get("MEDIA_WORKER_TOKEN")
    folder = os.environ.get("UPLOAD_FOLDER")
    if not token or not folder:
        raise SystemExit("MEDIA_WORKER_TOKEN and UPLOAD_FOLDER must be set (the same as the site's)")
    import json

    logging.basicConfig(level=logging.INFO)
    serve(args.url, token, folder, json.loads(os.environ.get("ICE_SERVERS") or "[]"))


if __name__ == "__main__":
    main()
