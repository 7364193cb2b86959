"""The authorization matrix of the Socket.IO events (issue 9).

Every event handler registered on every namespace of the app's Socket.IO server, and every ``on_*``
method of every ``Namespace`` class of the site's packages (the media worker's namespace is only
registered in remote mode), must have an entry in ``EVENT_POLICIES`` (tests/security/policies.py).

Then, on the demo room (citizen_a's in-mediation case of 南岭: its mediator and both parties):
* every role that is not a member cannot connect to it;
* members of another room (citizen_b and other_mediator, given a room of their own here) who emit
  every event with payloads aimed at the demo room's people change nothing there and receive
  nothing of it, and the demo room's members receive nothing from them;
* the members get exactly what their role allows: each event is tried by each member, and a role
  outside an event's policy is refused with ``forbidden`` while a role inside it is not;
* the media worker's namespace takes only its token, whoever the session belongs to.
"""
from __future__ import annotations

import importlib
import pkgutil
import uuid

import pytest
from flask_socketio import Namespace
from sqlalchemy import select

from portal.extensions import db, socketio
from tests.security.authz import ROLE_ACCOUNTS, ROLES
from tests.security.conftest import login
from tests.security.policies import EVENT_POLICIES, ROOM_MEMBERS, _room_id
from tests.security.test_authz_matrix import matrix_app  # noqa: F401  (the demo site plus the roles' accounts)

NS = "/room"
PACKAGES = ("portal", "mediation_room", "case_library")
DEMO_MARK = "南岭调解室内部"  # in a demo-room message: it must never reach an outsider
OUTSIDER_MARK = "越权消息"


# ---- enumeration ------------------------------------------------------------------------------------

def _namespace_classes():
    """(namespace, event) of every on_* method of every Namespace class in the site's packages."""
    for name in PACKAGES:
        pkg = importlib.import_module(name)
        for info in pkgutil.walk_packages(pkg.__path__, name + "."):
            importlib.import_module(info.name)
    out, todo = set(), list(Namespace.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if not cls.__module__.startswith(PACKAGES):
            continue
        namespace = getattr(importlib.import_module(cls.__module__), "NAMESPACE", None)
        assert namespace, f"{cls.__module__}.{cls.__name__}: no NAMESPACE constant to place its events"
        out |= {(namespace, m[3:]) for m in vars(cls) if m.startswith("on_") and callable(getattr(cls, m))}
    return out


def registered_events() -> set[tuple[str, str]]:
    server = socketio.server
    out = {(ns, event) for ns, handlers in server.handlers.items() for event in handlers}
    for ns, handler in server.namespace_handlers.items():
        out |= {(ns, m[3:]) for m in dir(handler) if m.startswith("on_") and callable(getattr(handler, m))}
    return out | _namespace_classes()


def test_every_event_has_a_policy(events_app):
    events = registered_events()
    assert ("/room", "send") in events and ("/room", "rtc_signal") in events  # the enumeration works
    missing = sorted(events - set(EVENT_POLICIES))
    assert missing == [], f"Socket.IO events without an authorization policy: {missing}"
    stale = sorted(set(EVENT_POLICIES) - events)
    assert stale == [], f"policies for events that no longer exist: {stale}"


# ---- the demo room ----------------------------------------------------------------------------------

def _user(role_or_mobile: str):
    from portal.accounts.models import User

    mobile = ROLE_ACCOUNTS.get(role_or_mobile, role_or_mobile).lstrip("+")
    return db.session.execute(select(User).where(User.mobile == mobile)).scalar_one()


@pytest.fixture(scope="module")
def events_app(matrix_app):  # noqa: F811
    """The demo site, a generous flood limit, and a second room (other_mediator mediates, citizen_b
    is an admitted party) from which outsiders can reach for the demo room."""
    from mediation_room import operations as ops
    from mediation_room.models import Room

    matrix_app.config.update(ROOM_RATE_LIMIT=10_000, ROOM_RATE_WINDOW=1.0)
    with matrix_app.app_context():
        ids = {"demo_room": _room_id()["room_id"]}
        mediator, party = _user("other_mediator"), _user("citizen_b")
        other = db.session.execute(select(Room).where(Room.mediator_id == mediator.id)).scalars().first()
        if other is None:
            other = ops.create_room(mediator, "杨调解与路人甲的另一调解室", mediator, [party])
            db.session.flush()
            ops.admit_member(mediator, other, party.id)
            db.session.commit()
        ids["other_room"] = other.id
        ids.update({role: _user(role).id for role in ROLE_ACCOUNTS})
        ids["respondent"] = _user("13800000002").id  # the demo room's other party (not a matrix role)
        db.session.remove()
    matrix_app.config["AUTHZ_IDS"] = ids
    return matrix_app


HTTP: dict = {}


def connect(app, role: str, room_id: int):
    key = (id(app), role)
    if key not in HTTP:
        http = app.test_client()
        if role != "anonymous":
            login(http, ROLE_ACCOUNTS[role].lstrip("+"))
        HTTP[key] = http
    return socketio.test_client(app, namespace=NS, flask_test_client=HTTP[key], auth={"room_id": room_id})


def call(sc, event: str, data: dict | None = None):
    return sc.emit(event, data if data is not None else {}, namespace=NS, callback=True)


def _room_state(app, room_id: int):
    from mediation_room.models import Room

    with app.app_context():
        room = db.session.get(Room, room_id)
        state = (room.state, room.caucus_party_id, room.last_seq,
                 sorted((m.user_id, m.status) for m in room.members))
        db.session.remove()
    return state


OUTSIDERS = [r for r in ROLES if r not in ROOM_MEMBERS]


@pytest.mark.parametrize("role", OUTSIDERS)
def test_outsider_cannot_connect_to_the_demo_room(events_app, role):
    room_id = events_app.config["AUTHZ_IDS"]["demo_room"]
    sc = connect(events_app, role, room_id)
    assert not sc.is_connected(NS), f"{role} connected to the demo room"
    # nor by a malformed room id that might be coerced
    for bad in (str(room_id), float(room_id), [room_id], True):
        other = socketio.test_client(events_app, namespace=NS, flask_test_client=HTTP[(id(events_app), role)],
                                     auth={"room_id": bad})
        assert not other.is_connected(NS), f"{role} connected with room_id={bad!r}"


def _payloads(ids: dict, target_sid: str | None) -> dict[str, dict]:
    """One payload per /room event, aimed at the demo room's people."""
    return {
        "join": {"after": 0}, "backfill": {"after": 0},
        "send": {"text": f"{OUTSIDER_MARK}：试图发到别的调解室", "client_msg_id": uuid.uuid4().hex},
        "admit": {"user_id": ids["citizen_a"]}, "remove": {"user_id": ids["citizen_a"]},
        "caucus_start": {"user_id": ids["citizen_a"]}, "caucus_end": {}, "end": {},
        "rtc_hello": {"media": {"audio": True, "video": True}},
        "rtc_signal": {"kind": "offer", "to": target_sid or "", "sdp": "v=0\r\n"},
        "rtc_media": {"audio": True, "video": False, "screen": False},
        "rtc_bye": {}, "rtc_worker_offer": {"sdp": "v=0\r\n"},
        "rtc_mute": {"peer": target_sid or ""}, "rtc_consent": {"consent": True},
        "rtc_record_start": {}, "rtc_record_stop": {},
    }


ROOM_EVENTS = sorted(e for ns, e in EVENT_POLICIES if ns == NS and e not in ("connect", "disconnect"))


def test_members_of_another_room_cannot_reach_the_demo_room(events_app):
    ids = events_app.config["AUTHZ_IDS"]
    demo, other = ids["demo_room"], ids["other_room"]
    # a demo-room member in the chat and the video, so a relay across rooms has a target
    member = connect(events_app, "citizen_a", demo)
    assert call(member, "join", {"after": 0})["ok"]
    hello = call(member, "rtc_hello", {"media": {"audio": True}})
    assert hello["ok"], hello
    outsiders = {}
    for role in ("citizen_b", "other_mediator"):
        sc = outsiders[role] = connect(events_app, role, other)
        assert sc.is_connected(NS), f"{role} cannot even enter their own room"
        assert call(sc, "join", {"after": 0})["ok"]
        assert call(sc, "rtc_hello", {"media": {"audio": True}})["ok"]
    sent = call(member, "send", {"text": f"{DEMO_MARK}：家里的事不想让外人知道", "client_msg_id": uuid.uuid4().hex})
    assert sent["ok"], sent
    member.get_received(NS)
    before = _room_state(events_app, demo)
    for role, sc in outsiders.items():
        payloads = _payloads(ids, hello["self"])
        payloads["rtc_consent"] = {"consent": False}  # so no recording starts in their own room
        acks = []
        for event in ROOM_EVENTS:
            if event in ("end", "rtc_bye"):
                continue  # would only end / leave their own room
            acks.append((event, call(sc, event, payloads[event])))
        got = sc.get_received(NS)
        assert DEMO_MARK not in repr(acks), f"{role} got the demo room's message in an ack"
        assert DEMO_MARK not in repr(got), f"{role} received the demo room's message"
        assert not [e for e in got if e["name"] in ("presence", "rtc_recording")
                    and e["args"][0].get("room_id") == demo], f"{role} received the demo room's presence"
        call(sc, "rtc_bye")
        sc.disconnect(namespace=NS)
    # nothing of theirs reached the demo room's member, and the demo room did not change
    leaked = [e for e in member.get_received(NS) if e["name"] in ("chat", "rtc_signal", "rtc_muted", "removed",
                                                                  "ended", "admitted", "rtc_peer_joined")]
    assert leaked == []
    assert _room_state(events_app, demo) == before
    call(member, "rtc_bye")
    member.disconnect(namespace=NS)


def test_members_get_only_what_their_role_allows(events_app):
    """Each member tries every event; refusals by role are ``forbidden``, nothing else is."""
    ids = events_app.config["AUTHZ_IDS"]
    demo = ids["demo_room"]
    med = connect(events_app, "assigned_mediator", demo)
    party = connect(events_app, "citizen_a", demo)
    assert med.is_connected(NS) and party.is_connected(NS)
    acks: dict[tuple[str, str], dict] = {}

    def run(role, sc, event, data):
        acks[(role, event)] = ack = call(sc, event, data)
        assert isinstance(ack, dict) and ack.get("code") != "server_error", (role, event, ack)
        return ack

    for role, sc in (("assigned_mediator", med), ("citizen_a", party)):
        join = run(role, sc, "join", {"after": 0})
        assert join["ok"] and isinstance(join["messages"], list)
    med_sid = run("assigned_mediator", med, "rtc_hello", {"media": {"audio": True}})["self"]
    party_sid = run("citizen_a", party, "rtc_hello", {"media": {"audio": True}})["self"]
    # the party tries everything first (their refusals change nothing)
    p = _payloads(ids, med_sid)
    p.update(admit={"user_id": ids["respondent"]}, remove={"user_id": ids["respondent"]},
             caucus_start={"user_id": ids["citizen_a"]})
    for event in ROOM_EVENTS:
        if event in ("join", "rtc_hello", "rtc_bye", "rtc_consent"):
            continue
        run("citizen_a", party, event, p[event])
    # then the mediator; before the party consents, so that starting the recording is refused for
    # want of consent (no recording is made), and removing / admitting the absent respondent
    m = _payloads(ids, party_sid)
    for event in ("backfill", "send", "rtc_signal", "rtc_media", "rtc_worker_offer", "rtc_consent",
                  "rtc_record_start", "rtc_record_stop", "rtc_mute", "caucus_start", "caucus_end"):
        run("assigned_mediator", med, event, m[event])
    run("assigned_mediator", med, "remove", {"user_id": ids["respondent"]})
    run("assigned_mediator", med, "admit", {"user_id": ids["respondent"]})
    run("citizen_a", party, "rtc_consent", {"consent": True})
    for role, sc in (("citizen_a", party), ("assigned_mediator", med)):
        run(role, sc, "rtc_bye", {})
    run("assigned_mediator", med, "end", {})  # last: it closes the room

    failures = []
    for event in ROOM_EVENTS:
        allowed = EVENT_POLICIES[(NS, event)]
        for role in sorted(ROOM_MEMBERS):
            ack = acks.get((role, event))
            if ack is None:
                failures.append(f"{event} was not tried as {role}")
            elif role in allowed and ack.get("code") == "forbidden":
                failures.append(f"{event} as {role}: refused ({ack}) but the policy allows it")
            elif role not in allowed and (ack.get("ok") or ack.get("code") != "forbidden"):
                failures.append(f"{event} as {role}: NOT refused ({ack})")
    assert failures == [], "\n".join(failures)
    # the mediator's controls really worked, so "allowed" is not just "not refused"
    for event in ("send", "backfill", "caucus_start", "caucus_end", "remove", "admit", "rtc_mute", "end"):
        assert acks[("assigned_mediator", event)]["ok"], (event, acks[("assigned_mediator", event)])
    for event in ("send", "backfill", "rtc_signal", "rtc_media", "rtc_consent"):
        assert acks[("citizen_a", event)]["ok"], (event, acks[("citizen_a", event)])
    assert _room_state(events_app, demo)[0] == "ended"


# ---- the media worker's namespace (remote mode) ---------------------------------------------------

def test_media_worker_namespace_takes_only_its_token(tmp_path, events_app):
    from portal import create_app

    saved = socketio.server
    try:
        app = create_app({
            "TESTING": True, "SECRET_KEY": "remote-test", "WTF_CSRF_ENABLED": False,
            "FIELD_ENCRYPTION_KEY": "uNn3bFgq2o2Wb4f7xHk2Y0o5m9y8rW3jv1cF6tQ0s2E=",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'remote.sqlite3'}",
            "UPLOAD_FOLDER": str(tmp_path / "uploads"), "INDEX_FOLDER": str(tmp_path / "index"),
            "MEDIA_WORKER_MODE": "remote", "MEDIA_WORKER_TOKEN": "worker-secret-token",
        })
        assert "/media-worker" in socketio.server.namespace_handlers
        for auth in (None, {}, {"token": ""}, {"token": "worker-secret-token "}, {"token": 12345},
                     {"room_id": events_app.config["AUTHZ_IDS"]["demo_room"]}):
            sc = socketio.test_client(app, namespace="/media-worker", auth=auth)
            assert not sc.is_connected("/media-worker"), auth
        sc = socketio.test_client(app, namespace="/media-worker", auth={"token": "worker-secret-token"})
        assert sc.is_connected("/media-worker")
        sc.disconnect(namespace="/media-worker")
        # and it is no way into the rooms: the room namespace still wants a member's session
        sc = socketio.test_client(app, namespace=NS, auth={"token": "worker-secret-token", "room_id": 1})
        assert not sc.is_connected(NS)
    finally:
        socketio.server = saved
