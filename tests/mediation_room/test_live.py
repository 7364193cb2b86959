"""The room on a real server (loopback, ephemeral port, WebSocket): three python-socketio clients
send 200 messages each at once; each receives everything it may see exactly once and in order,
including one that is cut off mid-stream, reconnects and backfills."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from mediation_room import operations as ops
from mediation_room.models import RoomMessage
from portal.extensions import db
from tests.conftest import PASSWORD
from tests.mediation_room.live import RoomClient, login_cookie

pytestmark = pytest.mark.slow
PER_CLIENT = 200


def test_three_clients_concurrently_lose_nothing_double_nothing(live_app, room_site, live_people):
    info = live_people
    with live_app.app_context():
        # both parties in, and a caucus of the mediator and A throughout: B may see only part of the stream
        room = ops.get_room(info["room_id"])
        ops.admit_member(room.mediator, room, info["a"][0])
        ops.admit_member(room.mediator, room, info["b"][0])
        ops.start_caucus(room.mediator, room, info["a"][0])
        db.session.commit()
    url = room_site.url
    clients = {k: RoomClient(url, login_cookie(url, info[k][1], PASSWORD), info["room_id"], k)
               for k in ("mediator", "a", "b")}
    for c in clients.values():
        c.connect()
    errors: list = []
    acks: dict[str, list[int]] = {k: [] for k in clients}
    start = threading.Barrier(len(clients))

    def run(key: str):
        c = clients[key]
        try:
            start.wait()
            for i in range(PER_CLIENT):
                if key == "b" and i == PER_CLIENT // 2:
                    # cut off mid-stream; the others go on sending meanwhile
                    c.disconnect()
                    time.sleep(0.5)
                    c.connect()
                ack = c.send(f"{key} 第{i}条", f"{key}-{i}")
                assert ack["ok"], ack
                acks[key].append(ack["seq"])
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append((key, repr(exc)))

    threads = [threading.Thread(target=run, args=(k,)) for k in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert not errors, errors

    with live_app.app_context():
        room = ops.get_room(info["room_id"])
        all_msgs = list(db.session.execute(
            select(RoomMessage).where(RoomMessage.room_id == room.id).order_by(RoomMessage.seq)).scalars())
        seqs = [m.seq for m in all_msgs]
        assert seqs == list(range(1, len(seqs) + 1)), "sequence numbers are unique and gap-free"
        assert sum(1 for m in all_msgs if m.kind == "text") == 3 * PER_CLIENT, "nothing stored twice"
        expected = {}
        for key in clients:
            uid = info[key][0]
            expected[key] = [m.seq for m in all_msgs
                             if m.caucus_party_id is None or uid in (room.mediator_id, m.caucus_party_id)]

    deadline = time.time() + 20
    while time.time() < deadline and any(c.last < expected[k][-1] for k, c in clients.items()):
        time.sleep(0.1)
    for key, c in clients.items():
        got = [m["seq"] for m in c.applied]
        assert got == expected[key], f"{key}: received {len(got)}, expected {len(expected[key])}"
        assert len(set(got)) == len(got)
        assert set(acks[key]) <= set(got), "every acknowledged own message was delivered"
    # the server sends each socket its messages in order and once (the reconnecting client may see
    # overlap between its backfill and live events, which its bookkeeping drops)
    for key in ("mediator", "a"):
        live = clients[key].live
        assert live == sorted(live) and len(set(live)) == len(live), key
    b_seen = {m["text"] for m in clients["b"].applied}
    assert not any(t.startswith(("a ", "mediator ")) for t in b_seen), "the caucus never reached B"
    assert len([m for m in clients["b"].applied if m["kind"] == "text"]) == PER_CLIENT
    for c in clients.values():
        c.disconnect()
