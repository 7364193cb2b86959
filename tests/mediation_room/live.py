"""A python-socketio client that speaks the room's protocol the way room.js does (join with the
last sequence number, hold live messages during the backfill, drop what is already applied), and
an HTTP login that yields the session cookie. Used by the real-server tests."""
from __future__ import annotations

import re
import threading

import requests
import socketio

UA = "room-test-client/1.0"


def login_cookie(base_url: str, mobile: str, password: str) -> str:
    s = requests.Session()
    s.headers["User-Agent"] = UA
    page = s.get(f"{base_url}/login", timeout=10).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'name="csrf-token" content="([^"]+)"', page)
    r = s.post(f"{base_url}/login", data={"mobile": mobile, "password": password,
                                          "csrf_token": token.group(1)}, allow_redirects=False, timeout=10)
    assert r.status_code in (302, 303), r.status_code
    return "; ".join(f"{c.name}={c.value}" for c in s.cookies)


class RoomClient:
    def __init__(self, base_url: str, cookie: str, room_id: int, name: str = ""):
        self.base_url, self.cookie, self.room_id, self.name = base_url, cookie, room_id, name
        self.applied: list[dict] = []  # what the user sees, in order
        self.live: list[int] = []  # seq of every live "chat" event as it arrived
        self.last = 0
        self.lock = threading.Lock()
        self.joining = False
        self.held: list[dict] = []
        self.sio = None

    def _apply(self, m: dict) -> None:
        if m["seq"] <= self.last:
            return
        self.last = m["seq"]
        self.applied.append(m)

    def _on_chat(self, m: dict) -> None:
        with self.lock:
            self.live.append(m["seq"])
            if self.joining:
                self.held.append(m)
            else:
                self._apply(m)

    def connect(self) -> None:
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("chat", self._on_chat, namespace="/room")
        self.sio.connect(self.base_url, namespaces=["/room"], transports=["websocket"],
                         auth={"room_id": self.room_id}, wait_timeout=10,
                         headers={"Cookie": self.cookie, "User-Agent": UA})
        self.join()

    def join(self) -> None:
        with self.lock:
            self.joining = True
            after = self.last
        ack = self.sio.call("join", {"after": after}, namespace="/room", timeout=30)
        assert ack["ok"], ack
        msgs = ack["messages"]
        more = ack["more"]
        with self.lock:
            for m in sorted(msgs, key=lambda m: m["seq"]):
                self._apply(m)
        while more:
            ack = self.sio.call("backfill", {"after": self.last}, namespace="/room", timeout=30)
            with self.lock:
                for m in ack["messages"]:
                    self._apply(m)
            more = ack["more"]
        with self.lock:
            for m in sorted(self.held, key=lambda m: m["seq"]):
                self._apply(m)
            self.held = []
            self.joining = False

    def send(self, text: str, client_msg_id: str) -> dict:
        return self.sio.call("send", {"text": text, "client_msg_id": client_msg_id}, namespace="/room", timeout=30)

    def disconnect(self) -> None:
        if self.sio is not None:
            self.sio.disconnect()
