"""The media worker's own asyncio loop, run on a dedicated daemon thread (STACK-NOTES: aiortc with
Flask). Flask and Socket.IO handlers run on ordinary threads and hand coroutines to the loop with
:meth:`MediaLoop.call`, which waits for the result with a timeout.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable
from typing import Any


class MediaLoop:
    """An asyncio event loop running forever on its own thread."""

    def __init__(self, name: str = "media-worker") -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<MediaLoop {self._name} running={self.running}>"

    @property
    def running(self) -> bool:
        return self._loop is not None and self._loop.is_running()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        self.start()
        assert self._loop is not None
        return self._loop

    def start(self) -> None:
        """Start the thread once; later calls return at once."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            loop = asyncio.new_event_loop()
            ready = threading.Event()

            def run() -> None:
                asyncio.set_event_loop(loop)
                loop.call_soon(ready.set)
                loop.run_forever()

            self._loop = loop
            self._thread = threading.Thread(target=run, name=self._name, daemon=True)
            self._thread.start()
            ready.wait(5)

    def submit(self, coro: Awaitable) -> concurrent.futures.Future:
        """Schedule ``coro`` on the loop; returns a thread-safe future."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call(self, coro: Awaitable, timeout: float = 15.0) -> Any:
        """Run ``coro`` on the loop and wait for its result (from any thread but the loop's own)."""
        return self.submit(coro).result(timeout)

    def stop(self) -> None:
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is not None:
            loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(5)
