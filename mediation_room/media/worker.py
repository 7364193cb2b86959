"""The media worker: records rooms' participants with aiortc on its own asyncio loop.

The embedded default (:class:`MediaWorker`) lives inside the site process: the signalling handlers
call its blocking methods from their threads, and it runs every coroutine on one
:class:`~.loop.MediaLoop` thread (``asyncio.run_coroutine_threadsafe``). A deployment that wants the
recording CPU off the web servers can run the same :class:`~.recorder.RecordingSession` objects in a
process of their own behind the same interface (start, offer, candidate, drop, stop).
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path

from mediation_room.media.loop import MediaLoop
from mediation_room.media.recorder import RecordedFile, RecorderError, RecordingSession

log = logging.getLogger(__name__)


class MediaWorker:
    """Recording sessions by room key, on one asyncio loop thread."""

    def __init__(self, folder: str | Path, ice_servers: list[dict] | None = None, timeout: float = 20.0) -> None:
        self.folder = Path(folder)
        self.ice_servers = ice_servers or []
        self.timeout = timeout
        self.loop = MediaLoop()
        self._sessions: dict[str, RecordingSession] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<MediaWorker sessions={len(self._sessions)}>"

    def is_recording(self, key: str) -> bool:
        return key in self._sessions

    def start(self, key: str) -> None:
        """Open a recording session for a room (idempotent)."""
        with self._lock:
            if key not in self._sessions:
                self._sessions[key] = RecordingSession(key, self.folder / "recording" / key, self.ice_servers)

    def _session(self, key: str) -> RecordingSession:
        session = self._sessions.get(key)
        if session is None:
            raise RecorderError("当前没有进行中的录制")
        return session

    def offer(self, key: str, peer: str, label: str, sdp: str) -> dict:
        """Answer a participant's offer to the recorder (blocks until the answer is ready)."""
        return self.loop.call(self._session(key).offer(peer, label, sdp), self.timeout)

    def candidate(self, key: str, peer: str, data: dict) -> None:
        self.loop.call(self._session(key).candidate(peer, data), self.timeout)

    def drop(self, key: str, peer: str) -> None:
        session = self._sessions.get(key)
        if session is not None:
            self.loop.call(session.drop(peer), self.timeout)

    def stop(self, key: str) -> list[RecordedFile]:
        """Close the room's session and return its finished files (empty when none ran)."""
        with self._lock:
            session = self._sessions.pop(key, None)
        if session is None:
            return []
        # Flushing the encoders of a long segment on a busy machine can take a while: wait longer.
        return self.loop.call(session.stop(), max(60.0, self.timeout))

    def stats(self, key: str) -> dict:
        session = self._sessions.get(key)
        return session.stats() if session else {}

    def shutdown(self) -> None:
        for key in list(self._sessions):
            try:
                self.stop(key)
            except Exception:
                log.exception("media worker: stopping %s at shutdown failed", key)
        self.loop.stop()
