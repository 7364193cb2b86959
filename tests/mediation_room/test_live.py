"""The room on a real server (loopback, ephemeral port, WebSocket): three python-socketio clients
send 200 messages each at once; each receives everything it may see exactly once and in order,
including one that is cut off mid-stream, reconnects and backfills."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from portal.accounts.models import Role
from portal.accounts.operations import create_user
from portal.extensions import db
from portal.identity import make_id_number
from mediation_room import operations as ops
from mediation_room.models import RoomMessage
from tests.conftest import PASSWORD, start_live_server
from tests.mediation_room.live import RoomClient, login_cookie

pytestmark = pytest.mark.slow
PER_CLIENT = 200


@pytest.fixture
def room_site(live_app, factory_free_users):
    live_app.config.update(ROOM_RATE_LIMIT=100_000, ROOM_RATE_WINDOW=1.0)
    server = start_live_server(live_app)
    yield server
    server.stop()


@pytest.fixture
def factory_free_users(live_app):
    """Users, an organisation and a room in the live app's database: a caucus of the mediator and
    party A runs throughout, so party B may see only part of the stream."""
    import datetime as dt

    from portal.places.models import Organisation, Region

    with live_app.app_context():
        region = Region(code="220102001000", name="南岭街道", level=4)
        db.session.add(region)
        db.session.flush()
        org = Organisation(name="测试调委会", kind="township", region_id=region.id)
        org.dispute_types = ["邻里纠纷"]
        db.session.add(org)
        db.session.flush()
        people = {}
        for n, (key, name, roles) in enumerate([("mediator", "赵调解", [(Role.mediator, org, None, None)]),
                                                ("a", "张建国", []), ("b", "李秀兰", [])], start=1):
            people[key] = create_user(f"1370000000{n}", PASSWORD, name,
                                      make_id_number("220102", dt.date(1970 + n, 1, 1), f"{n:03d}"), roles)
        db.session.commit()
        room = ops.create_room(people["mediator"], "并发测试调解室", people["mediator"], [people["a"], people["b"]])
        ops.admit_member(people["mediator"], room, people["a"].id)
        ops.admit_member(people["mediator"], room, people["b"].id)
        ops.start_caucus(people["mediator"], room, people["a"].id)
        db.session.commit()
        info = {k: (u.id, u.mobile) for k, u in people.items()}
        info["room_id"] = room.id
        return info


def test_three_clients_concurrently_lose_nothing_double_nothing(live_app, room_site, factory_free_users):
    info = factory_free_users
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
