"""Fixtures of the mediation-room tests: a room with a mediator and two parties, and Socket.IO
test clients that carry each user's own HTTP login."""
from __future__ import annotations

import pytest

from mediation_room import operations as ops
from mediation_room.operations import create_room
from portal.accounts.models import Role
from portal.accounts.operations import create_user
from portal.extensions import db, socketio
from portal.identity import make_id_number
from tests.conftest import PASSWORD, start_live_server


@pytest.fixture
def people(factory):
    org = factory.organisation()
    return {
        "mediator": factory.user(Role.mediator, org=org, name="赵调解"),
        "a": factory.user(name="张建国"),
        "b": factory.user(name="李秀兰"),
    }


@pytest.fixture
def outsiders(factory, people):
    """A citizen and a mediator who have nothing to do with the room."""
    org = factory.organisation()
    return {"outsider": factory.user(name="王旁人"), "other_mediator": factory.user(Role.mediator, org=org, name="钱调解")}


@pytest.fixture
def room(people):
    r = create_room(people["mediator"], "张建国与李秀兰邻里纠纷调解", people["mediator"], [people["a"], people["b"]])
    db.session.commit()
    return r


def http_client(app, user):
    c = app.test_client()
    resp = c.post("/login", data={"mobile": user.mobile, "password": PASSWORD})
    assert resp.status_code in (302, 303), resp.status_code
    return c


class Connect:
    """``connect(user, room)`` → a Flask-SocketIO test client on /room logged in as ``user``."""

    def __init__(self, app):
        self.app = app
        self.clients = []
        self.logins = {}

    def __call__(self, user, room=None, auth=None):
        if auth is None:
            auth = {"room_id": room.id}
        if user is None:
            http = self.app.test_client()
        else:  # one login per user (password hashing is slow); each socket reuses the cookie
            if user.id not in self.logins:
                self.logins[user.id] = http_client(self.app, user)
            http = self.logins[user.id]
        sc = socketio.test_client(self.app, namespace="/room", flask_test_client=http, auth=auth)
        self.clients.append(sc)
        return sc

    def close(self):
        for sc in self.clients:
            if sc.is_connected("/room"):
                sc.disconnect(namespace="/room")


@pytest.fixture
def connect(app):
    c = Connect(app)
    yield c
    c.close()


def events(sc, name=None):
    got = sc.get_received("/room")
    return [e for e in got if name is None or e["name"] == name]


def payloads(evts, name):
    return [e["args"][0] for e in evts if e["name"] == name]


def call(sc, event, data=None):
    return sc.emit(event, data if data is not None else {}, namespace="/room", callback=True)


def enter(connect, user, room, mediator_sc=None):
    """Connect ``user``; admit them with the mediator's socket if given; join; return the socket."""
    sc = connect(user, room)
    assert sc.is_connected("/room")
    if mediator_sc is not None:
        assert call(mediator_sc, "admit", {"user_id": user.id})["ok"]
    ack = call(sc, "join", {"after": 0})
    assert ack["ok"], ack
    sc.get_received("/room")
    return sc


# ---- a real server ------------------------------------------------------------------------------

@pytest.fixture
def room_site(live_app, live_people):
    live_app.config.update(ROOM_RATE_LIMIT=100_000, ROOM_RATE_WINDOW=1.0)
    server = start_live_server(live_app)
    yield server
    server.stop()


@pytest.fixture
def live_people(live_app):
    """Users, an organisation and a room (both parties in the lobby) in the live app's database;
    returns ``{"mediator"|"a"|"b": (user id, mobile), "room_id": id}``."""
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
        db.session.commit()
        info = {k: (u.id, u.mobile) for k, u in people.items()}
        info["room_id"] = room.id
        return info
