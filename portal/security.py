"""HTTP security headers and a small rate limiter.

The Content-Security-Policy allows scripts and styles from our own origin only: no inline script,
no inline event handler, no CDN. ``connect-src`` includes ws(s) for Socket.IO; ``media-src``
allows blob: for WebRTC streams.
"""
from __future__ import annotations

import threading
import time
from collections import deque

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self' ws: wss:",
        "font-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
)


def set_security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(self), microphone=(self), geolocation=()")
    return response


class RateLimiter:
    """Sliding-window limiter kept in process memory: at most ``limit`` hits per ``window`` seconds
    per key. (Several server processes each keep their own window; the per-account login lock is
    in the database, so it holds across processes.)"""

    def __init__(self, limit: int, window: float):
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> bool:
        """Record a hit; False when the key is over its limit (always True when the app's
        RATELIMIT_ENABLED is off, as in most tests)."""
        from flask import current_app, has_app_context

        if has_app_context() and not current_app.config.get("RATELIMIT_ENABLED", True):
            return True
        now = time.monotonic()
        with self._lock:
            q = self._hits.setdefault(key, deque())
            while q and now - q[0] > self.window:
                q.popleft()
            if len(q) >= self.limit:
                return False
            q.append(now)
            return True

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()
