"""The Socket.IO namespace ``/room``: lobby, messages, caucus, presence, and the mediator's controls.

Connecting: ``io("/room", {auth: {room_id: N}})`` with the Flask-Login session cookie. Anyone who
may not join (not logged in, not a member, removed, room ended or unknown) is refused in
``connect`` with ``ConnectionRefusedError``. Members still in the lobby get a ``lobby`` event and
see nothing of the conversation until the mediator admits them (``admitted`` event; the client
then emits ``join``).

Events from the client (each answers through its Socket.IO acknowledgement with
``{"ok": true, ...}`` or ``{"ok": false, "code": ..., "error": "<Chinese message>"}``; a refusal
also emits ``room_error`` to the socket):

* ``join {after}`` – enter the conversation; the ack carries the messages after ``after``.
* ``backfill {after}`` – the next page of messages after ``after`` (``more`` says if there are more).
* ``send {text, client_msg_id, caucus?}`` – ack ``{"seq": n, "duplicate": bool}``.
* ``admit / remove / caucus_start {user_id}``, ``caucus_end {}``, ``end {}`` – the mediator's.

Events to the client: ``chat`` (one stored message, in sequence order), ``presence`` (the
member list with online state and the caucus), ``notice`` (transient: joined, left),
``lobby``, ``admitted``, ``removed``, ``ended``, ``room_error``.

Socket rooms: ``room:<id>`` holds the admitted sockets (public messages); ``room:<id>:user:<uid>``
holds every socket of one member (lobby signals, caucus messages). Caucus messages are sent only
to the two caucus members' own rooms, so an excluded party never receives them.

Presence is kept in the memory of the serving process; with several processes (Redis message
queue) each process knows its own sockets and the member statuses in the database stay the
authority: every event re-reads them before acting.
"""
from __future__ import annotations

import functools
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from flask import current_app, g, request
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, Namespace, emit, join_room, leave_room

from mediation_room import operations as ops
from mediation_room import permissions
from mediation_room.models import MemberStatus
from mediation_room.signals import room_changed
from portal.extensions import db, socketio

NAMESPACE = "/room"
#: The largest value of an INTEGER column on PostgreSQL (sequence numbers, user ids): a larger number in
#: a payload is refused here rather than failing in the database (found by tests/security/test_event_fuzz.py).
MAX_DB_INT = 2**31 - 1
BACKFILL_PAGE = 500


def room_key(room_id: int) -> str:
    return f"room:{room_id}"


def user_key(room_id: int, user_id: int) -> str:
    return f"room:{room_id}:user:{user_id}"


@dataclass(frozen=True)
class SocketActor:
    """Who a socket belongs to, as verified at connect (used by the send path instead of
    reloading the user on every message; ``post_message`` re-checks ``session_version``)."""

    id: int
    session_version: int


@dataclass
class SocketInfo:
    room_id: int
    user_id: int
    session_version: int = 0
    sends: deque = field(default_factory=deque)
    events: deque = field(default_factory=deque)


def sockets() -> dict[str, SocketInfo]:
    """This app's connected room sockets (sid → SocketInfo). Kept per app, not per module: in one
    process several apps (tests' live servers) must not see each other's sockets as present."""
    return current_app.extensions.setdefault("room_sockets", {})

_sockets_lock = threading.Lock()


def _over_limit(q: deque, limit: int, window: float) -> bool:
    now = time.monotonic()
    while q and now - q[0] > window:
        q.popleft()
    if len(q) >= limit:
        return True
    q.append(now)
    return False


def online_user_ids(room_id: int) -> set[int]:
    with _sockets_lock:
        return {s.user_id for s in sockets().values() if s.room_id == room_id}


def sids_of(room_id: int, user_id: int) -> list[str]:
    with _sockets_lock:
        return [sid for sid, s in sockets().items() if s.room_id == room_id and s.user_id == user_id]


def presence(room) -> dict:
    online = online_user_ids(room.id)
    return {
        "room_id": room.id,
        "state": room.state,
        "caucus_party_id": room.caucus_party_id,
        "members": [
            {"user_id": m.user_id, "name": m.user.masked_name, "role": m.role, "role_label": m.role_label,
             "label": m.display_name, "status": m.status, "online": m.user_id in online}
            for m in room.members
        ],
    }


def _fail(code: str, message: str) -> dict:
    emit("room_error", {"code": code, "error": message})
    return {"ok": False, "code": code, "error": message}


def _fresh_user() -> None:
    """Load the user from this socket's session, not from a cache left on ``g`` by another
    request that shared the application context (as tests do; the frame does the same for HTTP)."""
    g.pop("_login_user", None)


def _handler(fn=None, *, load_room: bool = True):
    """Load the socket's room and user afresh (with ``load_room=False``, the message hot path: pass
    just the room id and let the operation check the user against the database), apply the per-socket flood limit, turn domain errors
    into an error event plus a failed acknowledgement, and never let an exception escape."""

    if fn is None:
        return functools.partial(_handler, load_room=load_room)

    @functools.wraps(fn)
    def wrapper(self, data=None, *extra):
        _fresh_user()
        info = sockets().get(request.sid)
        if info is None:
            return _fail("forbidden", "连接已失效，请刷新页面")
        if load_room and (not current_user.is_authenticated or current_user.id != info.user_id):
            return _fail("forbidden", "连接已失效，请刷新页面")
        limit = current_app.config["ROOM_RATE_LIMIT"]
        window = current_app.config["ROOM_RATE_WINDOW"]
        if _over_limit(info.events, limit * 5, window):
            return _fail("rate_limited", "操作过于频繁，请稍后再试")
        if data is None:
            data = {}
        if extra or not isinstance(data, dict):  # one payload object, nothing else
            return _fail("invalid", "请求格式不正确")
        if load_room:
            room = ops.get_room(info.room_id)
            if room is None:
                return _fail("not_found", "调解室不存在")
        else:
            room = info.room_id
        try:
            return fn(self, room, info, data)
        except ops.RoomError as err:
            db.session.rollback()
            return _fail(err.code, err.message)
        except Exception:  # the room stays usable; the client gets a plain message
            db.session.rollback()
            current_app.logger.exception("room event %s failed", fn.__name__)
            return _fail("server_error", "服务器繁忙，请稍后重试")

    return wrapper


def _int_field(data: dict, name: str, minimum: int = 0) -> int:
    value = data.get(name, 0 if name == "after" else None)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or value > MAX_DB_INT:
        raise ops.RoomError("请求格式不正确", "invalid")
    return value


def broadcast_message(room, msg) -> None:
    """Deliver a stored message to exactly those who may see it (call inside room_send_lock)."""
    deliver(room.id, ops.message_dict(room, msg), room.mediator_id, msg.caucus_party_id)


def deliver(room_id: int, payload: dict, mediator_id: int, caucus_party_id: int | None) -> None:
    """Public messages go to the room's socket room; caucus messages only to its two members."""
    if caucus_party_id is None:
        socketio.emit("chat", payload, to=room_key(room_id), namespace=NAMESPACE)
    else:
        socketio.emit("chat", payload, namespace=NAMESPACE,
                      to=[user_key(room_id, mediator_id), user_key(room_id, caucus_party_id)])


def broadcast_presence(room) -> None:
    data = presence(room)
    socketio.emit("presence", data, to=room_key(room.id), namespace=NAMESPACE)
    # the lobby sees the member list too, so a waiting party knows the mediator is there
    for m in room.members:
        if m.status == MemberStatus.waiting:
            socketio.emit("presence", data, to=user_key(room.id, m.user_id), namespace=NAMESPACE)
    try:
        room_changed.send(room)
    except Exception:  # e.g. the video failing to reconcile: the chat must go on
        current_app.logger.exception("a room_changed receiver failed for room %s", room.id)


def _commit_and_broadcast(room, *notices) -> None:
    """Commit a control action and broadcast its stored notices, in sequence order."""
    db.session.commit()
    for n in notices:
        if n is not None:
            broadcast_message(room, n)


class RoomNamespace(Namespace):
    def on_connect(self, auth=None):
        _fresh_user()
        if not current_user.is_authenticated:
            raise ConnectionRefusedError("请先登录")
        room_id = auth.get("room_id") if isinstance(auth, dict) else None
        room = ops.get_room(room_id) if isinstance(room_id, int) and not isinstance(room_id, bool) else None
        if room is None or not permissions.can_join(current_user, room):
            raise ConnectionRefusedError("您无权进入此调解室")
        uid = current_user.id
        first = uid not in online_user_ids(room.id)
        with _sockets_lock:
            sockets()[request.sid] = SocketInfo(room.id, uid, current_user.session_version)
        join_room(user_key(room.id, uid))
        member = room.member_of(uid)
        if member.status == MemberStatus.waiting:
            emit("lobby", {"message": "请稍候，调解员准许后即可进入调解室"})
        if first:
            socketio.emit("notice", {"text": f"{member.display_name} 上线了", "kind": "joined"},
                          to=room_key(room.id), namespace=NAMESPACE)
        broadcast_presence(room)
        emit("presence", presence(room))

    def on_disconnect(self, reason=None):
        with _sockets_lock:
            info = sockets().pop(request.sid, None)
        if info is None:
            return
        try:
            room = ops.get_room(info.room_id)
            if room is None:
                return
            if info.user_id not in online_user_ids(room.id):
                member = room.member_of(info.user_id)
                socketio.emit("notice", {"text": f"{member.display_name} 离开了", "kind": "left"},
                              to=room_key(room.id), namespace=NAMESPACE)
            broadcast_presence(room)
        except Exception:
            current_app.logger.exception("room disconnect bookkeeping failed")

    # ---- reading ------------------------------------------------------------------------------
    @_handler
    def on_join(self, room, info, data):
        after = _int_field(data, "after")
        if not permissions.is_admitted(current_user, room):
            raise ops.RoomError("请稍候，调解员准许后即可进入调解室", "waiting")
        join_room(room_key(room.id))
        msgs = ops.messages_after(current_user, room, after, limit=BACKFILL_PAGE + 1)
        more = len(msgs) > BACKFILL_PAGE
        return {"ok": True, "messages": [ops.message_dict(room, m) for m in msgs[:BACKFILL_PAGE]],
                "more": more, "presence": presence(room)}

    @_handler
    def on_backfill(self, room, info, data):
        after = _int_field(data, "after")
        if not permissions.is_admitted(current_user, room):
            raise ops.RoomError("您尚未获准进入调解室", "forbidden")
        msgs = ops.messages_after(current_user, room, after, limit=BACKFILL_PAGE + 1)
        return {"ok": True, "messages": [ops.message_dict(room, m) for m in msgs[:BACKFILL_PAGE]],
                "more": len(msgs) > BACKFILL_PAGE}

    # ---- writing ------------------------------------------------------------------------------
    @_handler(load_room=False)
    def on_send(self, room_id, info, data):
        if _over_limit(info.sends, current_app.config["ROOM_RATE_LIMIT"], current_app.config["ROOM_RATE_WINDOW"]):
            raise ops.RoomError("发送过于频繁，请稍后再试", "rate_limited")
        unknown = set(data) - {"text", "client_msg_id", "caucus"}
        if unknown:
            raise ops.RoomError("请求格式不正确", "invalid")
        with ops.room_send_lock(room_id):
            posted = ops.post_message(SocketActor(info.user_id, info.session_version), room_id, data.get("text"),
                                      data.get("client_msg_id"), data.get("caucus"))
            if posted.created:
                deliver(room_id, posted.payload, posted.mediator_id, posted.caucus_party_id)
        return {"ok": True, "seq": posted.seq, "duplicate": not posted.created}

    # ---- the mediator's controls ----------------------------------------------------------------
    @_handler
    def on_admit(self, room, info, data):
        user_id = _int_field(data, "user_id", 1)
        with ops.room_send_lock(room.id):
            _member, notice = ops.admit_member(current_user, room, user_id)
            _commit_and_broadcast(room, notice)
        socketio.emit("admitted", {"room_id": room.id}, to=user_key(room.id, user_id), namespace=NAMESPACE)
        broadcast_presence(room)
        return {"ok": True}

    @_handler
    def on_remove(self, room, info, data):
        user_id = _int_field(data, "user_id", 1)
        with ops.room_send_lock(room.id):
            _member, notice, ended = ops.remove_member(current_user, room, user_id)
            _commit_and_broadcast(room, ended, notice)
        socketio.emit("removed", {"message": "您已被调解员移出调解室"}, to=user_key(room.id, user_id),
                      namespace=NAMESPACE)
        for sid in sids_of(room.id, user_id):
            leave_room(room_key(room.id), sid=sid)
            socketio.server.disconnect(sid, namespace=NAMESPACE)
        broadcast_presence(room)
        return {"ok": True}

    @_handler
    def on_caucus_start(self, room, info, data):
        user_id = _int_field(data, "user_id", 1)
        with ops.room_send_lock(room.id):
            notice = ops.start_caucus(current_user, room, user_id)
            _commit_and_broadcast(room, notice)
        broadcast_presence(room)
        return {"ok": True}

    @_handler
    def on_caucus_end(self, room, info, data):
        with ops.room_send_lock(room.id):
            notice = ops.end_caucus(current_user, room)
            _commit_and_broadcast(room, notice)
        broadcast_presence(room)
        return {"ok": True}

    @_handler
    def on_end(self, room, info, data):
        with ops.room_send_lock(room.id):
            notice = ops.end_session(current_user, room)
            _commit_and_broadcast(room, notice)
        socketio.emit("ended", {"message": "本次调解已结束，调解笔录已归档"}, to=room_key(room.id),
                      namespace=NAMESPACE)
        for m in room.members:
            if m.status == MemberStatus.waiting:
                socketio.emit("ended", {"message": "本次调解已结束"}, to=user_key(room.id, m.user_id),
                              namespace=NAMESPACE)
        broadcast_presence(room)
        return {"ok": True}


def register(app) -> None:
    """Register the namespace on the Socket.IO server that ``socketio.init_app`` has just made for
    this app. (Flask-SocketIO's ``on_namespace`` registers with the current server only once one
    exists, so this runs for every app, tests making many.)"""
    socketio.on_namespace(RoomNamespace(NAMESPACE))
