"""HTTP security headers and the rate limiter (in process memory, or in Redis across processes).

The Content-Security-Policy allows scripts and styles from our own origin only: no inline script,
no inline event handler, no CDN. ``connect-src`` includes ws(s) for Socket.IO; ``media-src``
allows blob: for WebRTC streams.
"""
from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections import deque

from flask import current_app

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
    if current_app.config.get("SESSION_COOKIE_SECURE"):  # served over HTTPS: browsers must stay on it
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


#: Sliding window in a sorted set, checked and added atomically: 1 = allowed, 0 = over the limit.
_REDIS_HIT = """
local key, now, window, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) >= limit then return 0 end
redis.call('ZADD', key, now, ARGV[4])
redis.call('PEXPIRE', key, math.ceil(window * 1000))
return 1
"""
#: After Redis fails, the limiters keep to process memory for this long before trying it again
#: (so a Redis outage costs one short timeout per interval, not one per request).
REDIS_RETRY_SECONDS = 10.0
_clients: dict[str, object] = {}
_clients_lock = threading.Lock()
_redis_down_until: dict[str, float] = {}
log = logging.getLogger(__name__)


def storage_url(config) -> str | None:
    """Where the counters live: ``RATELIMIT_STORAGE_URL`` (config or environment; ``memory://``
    forces process memory), else the Socket.IO message queue when it is Redis, else None."""
    url = config.get("RATELIMIT_STORAGE_URL") or os.environ.get("RATELIMIT_STORAGE_URL")
    if not url:
        queue = config.get("SOCKETIO_MESSAGE_QUEUE") or ""
        url = queue if queue.startswith(("redis://", "rediss://")) else None
    if not url or url.startswith("memory://"):
        return None
    return url


def _redis(url: str):
    with _clients_lock:
        client = _clients.get(url)
        if client is None:
            import redis

            client = _clients[url] = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        return client


class RateLimiter:
    """Sliding window: at most ``limit`` hits per ``window`` seconds per key (a client address).

    Where the counters live:

    * one process (the default): in process memory;
    * several processes (``RATELIMIT_STORAGE_URL``, or ``SOCKETIO_MESSAGE_QUEUE`` pointing to
      Redis): in Redis, a sorted set per key checked and updated by one Lua script, so the limit
      holds across every process of the site. Keys are ``<prefix>:<name>:<key>``; the prefix is
      ``RATELIMIT_KEY_PREFIX``, by default ``ratelimit:<SOCKETIO_CHANNEL>`` (one site's processes
      share it, two sites on one Redis do not).

    **Redis down: fail open.** A limiter never refuses someone because Redis is unreachable: it
    logs a warning and counts in process memory instead (each process its own window, as with one
    process) until Redis answers again (retried every ``REDIS_RETRY_SECONDS``). Availability of
    login and registration matters more than a strict limit during an outage, and the per-account
    login lock (``LOGIN_MAX_FAILURES`` in the database) still applies whatever the limiter does.
    """

    def __init__(self, limit: int, window: float, name: str | None = None):
        self.limit = limit
        self.window = window
        self.name = name or f"l{limit}w{int(window)}"
        self._hits: dict[str, deque] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> bool:
        """Record a hit; False when the key is over its limit (always True when the app's
        RATELIMIT_ENABLED is off, as in most tests)."""
        from flask import current_app, has_app_context

        if has_app_context():
            config = current_app.config
            if not config.get("RATELIMIT_ENABLED", True):
                return True
            url = storage_url(config)
            if url is not None and time.monotonic() >= _redis_down_until.get(url, 0.0):
                prefix = config.get("RATELIMIT_KEY_PREFIX") or f"ratelimit:{config.get('SOCKETIO_CHANNEL') or 'site'}"
                try:
                    return self._hit_redis(_redis(url), f"{prefix}:{self.name}:{key}")
                except Exception as exc:  # noqa: BLE001  (redis.RedisError, OSError: fail open)
                    _redis_down_until[url] = time.monotonic() + REDIS_RETRY_SECONDS
                    log.warning("rate limiter: Redis at %s unavailable (%s); counting in process memory "
                                "for %.0f s (fail open)", url.split("@")[-1], exc, REDIS_RETRY_SECONDS)
        return self._hit_memory(key)

    def _hit_redis(self, client, rkey: str) -> bool:
        now = time.time()
        return bool(client.eval(_REDIS_HIT, 1, rkey, now, self.window, self.limit, f"{now:.6f}:{uuid.uuid4().hex[:8]}"))

    def _hit_memory(self, key: str) -> bool:
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
