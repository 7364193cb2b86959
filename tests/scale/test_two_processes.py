"""Scale-out (issue 8): two gunicorn processes sharing PostgreSQL and Redis.

A client on each process joins the same mediation room; both send concurrently. Each receives the
other's messages exactly once, and the room's sequence numbers stay unique and gap-free although
two processes allocate them. The same servers also answer pages: the production smoke test.
"""
from __future__ import annotations

import threading
import time
import uuid

import pytest
import socketio
import sqlalchemy as sa

from portal import create_app
from portal.extensions import db
from tests.conftest import PG_BASE, Factory, _drop_pg_schema, _new_pg_schema
from tests.scale.servers import ServerProcess, cookie_header, http_login

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

FIELD_KEY = "uNn3bFgq2o2Wb4f7xHk2Y0o5m9y8rW3jv1cF6tQ0s2E="
PER_CLIENT = 100


def _services_up() -> bool:
    try:
        import redis

        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=2).ping()
        sa.create_engine(PG_BASE).connect().close()
        return True
    except Exception:
        return False


@pytest.fixture
def cluster(tmp_path):
    if not _services_up():
        pytest.fail("PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) must run: bash scripts/services.sh")
    schema, url = _new_pg_schema()
    channel = f"portal-test-{uuid.uuid4().hex[:8]}"
    env = {
        "DATABASE_URL": url, "SECRET_KEY": "cluster-secret", "FIELD_ENCRYPTION_KEY": FIELD_KEY,
        "SOCKETIO_MESSAGE_QUEUE": "redis://127.0.0.1:6379/0", "SOCKETIO_CHANNEL": channel,
        "INSTANCE_PATH": str(tmp_path / "instance"), "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "INDEX_FOLDER": str(tmp_path / "index"),
        "ROOM_RATE_LIMIT": "100000",  # the flood limit is tested elsewhere; here we want volume
    }
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "cluster-secret",
                      "FIELD_ENCRYPTION_KEY": FIELD_KEY, "TESTING": True,
                      "INSTANCE_PATH": str(tmp_path / "instance"),
                      "UPLOAD_FOLDER": str(tmp_path / "uploads"), "INDEX_FOLDER": str(tmp_path / "index")})
    with app.app_context():
        db.create_all()
        from mediation_room.operations import admit_member, create_room

        f = Factory(app)
        mediator = f.user(name="赵调解")
        party_a, party_b = f.user(name="张三"), f.user(name="李四")
        room = create_room(mediator, "两进程测试调解室", mediator, [party_a, party_b])
        db.session.flush()
        admit_member(mediator, room, party_a.id)
        admit_member(mediator, room, party_b.id)
        db.session.commit()
        info = {"room_id": room.id, "a": party_a.mobile, "b": party_b.mobile, "m": mediator.mobile}
        db.session.remove()
        db.engine.dispose()
    servers = [ServerProcess(env, tmp_path / f"server{i}.log").start() for i in (1, 2)]
    yield servers, info, url
    for s in servers:
        s.stop()
    _drop_pg_schema(schema)


class RoomClient:
    def __init__(self, base_url: str, mobile: str, room_id: int):
        self.session = http_login(base_url, mobile, "Passw0rd2026")
        self.room_id = room_id
        self.received: list[dict] = []
        self.lock = threading.Lock()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("chat", self._on_chat, namespace="/room")
        self.sio.connect(base_url, namespaces=["/room"], transports=["websocket"],
                         headers={"Cookie": cookie_header(self.session),
                                  # same agent as the login: session protection ties the two
                                  "User-Agent": self.session.headers["User-Agent"]}, auth={"room_id": room_id},
                         wait_timeout=15)
        ack = self.sio.call("join", {"after": 0}, namespace="/room", timeout=15)
        assert ack["ok"], ack
        self.last_seen = max([m["seq"] for m in ack["messages"]] or [0])

    def _on_chat(self, msg):
        with self.lock:
            self.received.append(msg)

    def send_many(self, n: int, tag: str, acks: list):
        for i in range(n):
            ack = self.sio.call("send", {"text": f"{tag}-{i}", "client_msg_id": f"{tag}-{i}"},
                                namespace="/room", timeout=20)
            acks.append(ack)


def test_two_processes_share_a_room_through_redis(cluster):
    servers, info, url = cluster
    # The production server answers pages on both processes.
    for s in servers:
        import requests

        assert requests.get(s.url + "/", timeout=10).status_code == 200
        assert requests.get(s.url + "/login", timeout=10).status_code == 200
    a = RoomClient(servers[0].url, info["a"], info["room_id"])
    b = RoomClient(servers[1].url, info["b"], info["room_id"])
    acks_a, acks_b = [], []
    ta = threading.Thread(target=a.send_many, args=(PER_CLIENT, "A", acks_a))
    tb = threading.Thread(target=b.send_many, args=(PER_CLIENT, "B", acks_b))
    ta.start(), tb.start()
    ta.join(120), tb.join(120)
    assert all(x["ok"] for x in acks_a + acks_b), [x for x in acks_a + acks_b if not x["ok"]][:3]
    seqs = sorted(x["seq"] for x in acks_a + acks_b)
    assert len(set(seqs)) == 2 * PER_CLIENT  # unique across the two processes
    assert seqs == list(range(seqs[0], seqs[0] + 2 * PER_CLIENT))  # and gap-free

    deadline = time.monotonic() + 30
    want = {f"A-{i}" for i in range(PER_CLIENT)} | {f"B-{i}" for i in range(PER_CLIENT)}
    while time.monotonic() < deadline:
        got_a = {m["text"] for m in a.received}
        got_b = {m["text"] for m in b.received}
        if want <= got_a and want <= got_b:
            break
        time.sleep(0.2)
    for client in (a, b):
        texts = [m["text"] for m in client.received if m["text"] in want]
        assert sorted(texts) == sorted(want), f"missing {len(want - set(texts))}"
        assert len(texts) == len(set(texts))  # exactly once
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT seq FROM room_message WHERE room_id = :r ORDER BY seq"),
                              {"r": info["room_id"]}).scalars().all()
    engine.dispose()
    assert stored == list(range(1, len(stored) + 1))
    a.sio.disconnect(), b.sio.disconnect()
