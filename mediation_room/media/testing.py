"""Synthetic media for tests and the benchmark: aiortc tracks that produce real, changing frames
(a moving bar over a gradient, and a 440 Hz tone) at the rate a camera and microphone would, and
count what they produced so a receiver can compare.

Like a real camera, timestamps follow the wall clock from the first frame: a sender starved of
CPU skips frames instead of slowing its clock down, so a recording's length still matches the
time that passed.
"""
from __future__ import annotations

import fractions
import math
import time

import numpy as np
from aiortc.mediastreams import AUDIO_PTIME, VIDEO_CLOCK_RATE, VIDEO_PTIME, AudioStreamTrack, VideoStreamTrack
from av import AudioFrame, VideoFrame


class PatternVideoTrack(VideoStreamTrack):
    """A moving test pattern at ``fps`` (default 30) and the given size."""

    def __init__(self, width: int = 640, height: int = 480, fps: int = 30, shade: int = 0) -> None:
        super().__init__()
        self.width, self.height, self.fps = width, height, fps
        self.sent = 0
        self._start: float | None = None
        self._index = 0
        base = np.linspace(0, 255, width, dtype=np.uint8)
        self._bg = np.tile(base, (height, 1))
        self._shade = shade

    def __repr__(self) -> str:
        return f"<PatternVideoTrack {self.width}x{self.height}@{self.fps} sent={self.sent}>"

    async def recv(self) -> VideoFrame:
        import asyncio

        if self._start is None:
            self._start = time.time()
            index = 0
        else:
            index = max(self._index + 1, int((time.time() - self._start) * self.fps))
            wait = self._start + index / self.fps - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
        self._index = index
        y = self._bg.copy()
        x = (index * 8) % self.width
        y[:, x:x + 24] = 255 - self._shade
        u = np.full((self.height // 2, self.width // 2), 128, dtype=np.uint8)
        v = np.full((self.height // 2, self.width // 2), 128 + self._shade // 4, dtype=np.uint8)
        frame = VideoFrame.from_ndarray(np.concatenate([y, u.reshape(-1, self.width), v.reshape(-1, self.width)]),
                                        format="yuv420p")
        frame.pts = int(index * VIDEO_CLOCK_RATE / self.fps)
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK_RATE)
        self.sent += 1
        return frame


class ToneAudioTrack(AudioStreamTrack):
    """A 440 Hz tone, 48 kHz mono, 20 ms frames, paced in real time."""

    rate = 48000

    def __init__(self, freq: float = 440.0) -> None:
        super().__init__()
        self.freq = freq
        self.sent = 0
        self._index = 0
        self._start: float | None = None

    async def recv(self) -> AudioFrame:
        import asyncio

        samples = int(AUDIO_PTIME * self.rate)
        if self._start is None:
            self._start = time.time()
            index = 0
        else:
            index = max(self._index + 1, int((time.time() - self._start) / AUDIO_PTIME))
            wait = self._start + index * AUDIO_PTIME - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
        self._index = index
        t = (np.arange(samples) + index * samples) / self.rate
        pcm = (np.sin(2 * math.pi * self.freq * t) * 8000).astype(np.int16).reshape(1, -1)
        frame = AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = self.rate
        frame.pts = index * samples
        frame.time_base = fractions.Fraction(1, self.rate)
        self.sent += 1
        return frame


assert VIDEO_PTIME  # imported for readers: aiortc's own pacing constant (1/30 s)
