"""Faults (issue 9): the server killed mid-chat, and Redis down under several processes.

Defined behaviour: a message is acknowledged only after it is stored, so an acknowledged message
survives a crash; live delivery needs the message queue, so while Redis is down messages are still
stored and acknowledged but not pushed, and clients recover them with ``backfill`` (which they do
when they reconnect or see a gap in the sequence numbers).
"""
from __future__ import annotations

import shutil
import subprocess
import threading
import time
import uuid

import pytest

from portal import create_app
from portal.extensions import db
from tests.conftest import Factory
from tests.scale.servers import ServerProcess, cookie_header, free_port, http_login

pytestmark = [pytest.mark.slow]
FIELD_KEY = "uNn3bFgq2o2Wb4f7xHk2Y0o5m9y8rW3jv1cF6tQ0s2E="


def _seed(url: str, tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "fault-secret", "FIELD_ENCRYPTION_KEY": FIELD_KEY,
                      "TESTING": True, "UPLOAD_FOLDER": str(tmp_path / "uploads"),
                      "INDEX_FOLDER": str(tmp_path / "index")})
    with app.app_context():
        db.create_all()
        from mediation_room.operations import admit_member, create_room

        f = Factory(app)
        mediator, a, b = f.user(name="赵调解"), f.user(name="张三"), f.user(name="李四")
        room = create_room(mediator, "故障测试调解室", mediator, [a, b])
        db.session.flush()
        admit_member(mediator, room, a.id)
        admit_member(mediator, room, b.id)
        db.session.commit()
        info = {"room_id": room.id, "a": a.mobile, "b": b.mobile}
        db.session.remove()
        db.engine.dispose()
    return info


class Client:
    def __init__(self, base_url, mobile, room_id):
        import socketio

        self.base_url, self.mobile, self.room_id = base_url, mobile, room_id
        self.session = http_login(base_url, mobile, "Passw0rd2026")
        self.seen: dict[int, dict] = {}
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("chat", lambda m: self.seen.setdefault(m["seq"], m), namespace="/room")
        self.connect()

    def connect(self):
        self.sio.connect(self.base_url, namespaces=["/room"], transports=["websocket"], wait_timeout=15,
                         headers={"Cookie": cookie_header(self.session),
                                  "User-Agent": self.session.headers["User-Agent"]},
                         auth={"room_id": self.room_id})
        self.backfill()

    def backfill(self):
        ack = self.sio.call("join", {"after": self.last_contiguous()}, namespace="/room", timeout=15)
        assert ack["ok"], ack
        for m in ack["messages"]:
            self.seen.setdefault(m["seq"], m)
        while ack.get("more"):
            ack = self.sio.call("backfill", {"after": max(self.seen)}, namespace="/room", timeout=15)
            for m in ack["messages"]:
                self.seen.setdefault(m["seq"], m)

    def last_contiguous(self) -> int:
        n = 0
        while n + 1 in self.seen:
            n += 1
        return n

    def send(self, text):
        return self.sio.call("send", {"text": text, "client_msg_id": text}, namespace="/room", timeout=20)


def test_server_killed_mid_chat_loses_no_acknowledged_message(tmp_path):
    url = f"sqlite:///{tmp_path / 'fault.sqlite3'}"
    info = _seed(url, tmp_path)
    env = {"DATABASE_URL": url, "SECRET_KEY": "fault-secret", "FIELD_ENCRYPTION_KEY": FIELD_KEY,
           "INSTANCE_PATH": str(tmp_path / "instance"), "ROOM_RATE_LIMIT": "100000",
           "UPLOAD_FOLDER": str(tmp_path / "uploads"), "INDEX_FOLDER": str(tmp_path / "index")}
    server = ServerProcess(env, tmp_path / "server.log").start()
    a = Client(server.url, info["a"], info["room_id"])
    acked: list[str] = []
    stop = threading.Event()

    def chatter():
        i = 0
        while not stop.is_set():
            try:
                ack = a.send(f"m{i}")
            except Exception:
                return  # the server died under us: this message was never acknowledged
            if ack.get("ok"):
                acked.append(f"m{i}")
            i += 1

    t = threading.Thread(target=chatter)
    t.start()
    time.sleep(1.5)
    server.kill()  # SIGKILL: no shutdown, no flush
    stop.set()
    t.join(20)
    assert len(acked) > 5
    restarted = ServerProcess(env, tmp_path / "server2.log", port=server.port).start()
    try:
        b = Client(restarted.url, info["b"], info["room_id"])
        texts = {m["text"] for m in b.seen.values()}
        assert set(acked) <= texts, f"lost acknowledged messages: {set(acked) - texts}"
        a2 = Client(restarted.url, info["a"], info["room_id"])
        assert a2.send("after restart")["ok"]
        seqs = sorted(b.seen)
        assert seqs == list(range(1, len(seqs) + 1))  # no gap in what B holds
    finally:
        restarted.stop()


@pytest.mark.redis
def test_redis_down_messages_are_stored_and_recovered(tmp_path):
    if not shutil.which("redis-server"):
        pytest.fail("redis-server is not installed")
    port = free_port()
    redis_cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    redis_proc = subprocess.Popen(redis_cmd, stdout=subprocess.DEVNULL)
    time.sleep(0.5)
    url = f"sqlite:///{tmp_path / 'redis-fault.sqlite3'}"
    info = _seed(url, tmp_path)
    env = {"DATABASE_URL": url, "SECRET_KEY": "fault-secret", "FIELD_ENCRYPTION_KEY": FIELD_KEY,
           "INSTANCE_PATH": str(tmp_path / "instance"), "ROOM_RATE_LIMIT": "100000",
           "SOCKETIO_MESSAGE_QUEUE": f"redis://127.0.0.1:{port}/0", "SOCKETIO_CHANNEL": uuid.uuid4().hex,
           "UPLOAD_FOLDER": str(tmp_path / "uploads"), "INDEX_FOLDER": str(tmp_path / "index")}
    servers = [ServerProcess(env, tmp_path / f"s{i}.log").start() for i in (1, 2)]
    try:
        a = Client(servers[0].url, info["a"], info["room_id"])
        b = Client(servers[1].url, info["b"], info["room_id"])
        assert a.send("before")["ok"]
        _wait(lambda: any(m["text"] == "before" for m in b.seen.values()))

        redis_proc.terminate()
        redis_proc.wait(10)
        during = [a.send(f"during-{i}") for i in range(3)]
        assert all(x["ok"] for x in during)  # stored and acknowledged without Redis

        redis_proc = subprocess.Popen(redis_cmd, stdout=subprocess.DEVNULL)
        # Delivery resumes once the processes' listeners reconnect (they retry with backoff).
        _wait(lambda: a.send(f"after-{time.monotonic()}")["ok"] and any(
            m["text"].startswith("after-") for m in b.seen.values()), timeout=60, every=1.0)
        b.backfill()  # B saw a gap in the sequence numbers and asks for what it missed
        texts = {m["text"] for m in b.seen.values()}
        assert {"during-0", "during-1", "during-2"} <= texts
        seqs = sorted(b.seen)
        assert seqs == list(range(1, len(seqs) + 1))
    finally:
        for s in servers:
            s.stop()
        redis_proc.terminate()


def _wait(pred, timeout=20, every=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(every)
    raise AssertionError("condition not met in time")
