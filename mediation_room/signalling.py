"""WebRTC signalling and recording control in the room's Socket.IO namespace ``/room`` (issue 6).

The browsers form a mesh (2–6 people). A page opens its own ``/room`` socket (so the chat's socket
is left alone) and says ``rtc_hello``; the server relays offers, answers and ICE candidates only
between two sockets whose members may see each other right now
(:func:`mediation_room.permissions.may_see_each_other`: both admitted, and not across a running
caucus). Peers are named by their socket id; of each pair, the peer with the smaller id makes the
offer, so both sides agree without a round trip.

Events from the client (acknowledged with ``{"ok": true, ...}`` or ``{"ok": false, "code",
"error"}``):

* ``rtc_hello {media: {audio, video}}`` – join the video; ack: ``self``, ``peers``, ``ice_servers``,
  ``recording``;
* ``rtc_signal {to, kind: offer|answer|candidate, sdp?|candidate?}`` – relayed as ``rtc_signal``
  with ``from``;
* ``rtc_media {audio, video, screen}`` – mute / camera / screen state, relayed as ``rtc_peer_media``;
* ``rtc_bye {}`` – leave the video (the chat goes on);
* ``rtc_consent {consent: bool}`` – a participant's consent to recording;
* ``rtc_record_start {}`` / ``rtc_record_stop {}`` / ``rtc_mute {peer}`` – the mediator's;
* ``rtc_worker_offer {sdp}`` – while recording, each sending page offers its tracks to the media
  worker; the ack carries the worker's answer.

Events to the client: ``rtc_peer_joined``, ``rtc_peer_left`` (someone joined or left the video, or
a caucus started or ended between you), ``rtc_signal``, ``rtc_peer_media``, ``rtc_recording`` (the
state, to everyone in the room's video, including text-only pages), ``rtc_muted`` (the mediator
muted you).

Changes made by the chat's namespace (admit, remove, leave, caucus, end) reach this module through
:func:`reconcile`, which runs after each presence broadcast of the room: it hangs up pairs that may
no longer see each other (caucus: the excluded party neither sees nor hears it), connects pairs
that may again, and suspends or resumes the recording (a new participant without consent, a
caucus), so nothing depends on a browser doing the right thing.
"""
from __future__ import annotations

import functools
import itertools
import os
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from flask import current_app, g, request
from flask_login import current_user
from flask_socketio import emit, join_room

from mediation_room import events as room_events
from mediation_room import permissions as room_permissions
from mediation_room.media import operations as rec_ops
from mediation_room.media import permissions
from mediation_room.media.consent import RecordingError, RecordingState
from mediation_room.media.recorder import RecorderError
from mediation_room.models import MemberStatus
from portal.extensions import db, socketio

NAMESPACE = room_events.NAMESPACE
MAX_SDP = 100_000
#: A mesh: every browser sends its camera to every other, so the video is limited to six people.
MAX_MESH = 6
MAX_CANDIDATE = 1_000
#: Signalling messages per socket per window (ICE trickles many candidates at once).
SIGNAL_LIMIT, SIGNAL_WINDOW = 200, 10.0


def video_key(room_id: int) -> str:
    return f"rtc:{room_id}"


@dataclass
class VideoPeer:
    sid: str
    room_id: int
    user_id: int
    media: dict = field(default_factory=lambda: {"audio": False, "video": False, "screen": False})
    hits: deque = field(default_factory=deque)
    #: Increases with every change of ``media`` (process-wide, so a new hello never goes back): a
    #: browser may get a peer's media in an event before the snapshot in its own hello's answer,
    #: which was taken earlier in another thread; it keeps whichever has the higher number.
    media_rev: int = field(default_factory=lambda: next(_media_revs))


_media_revs = itertools.count(1)


_lock = threading.RLock()


def _st(part: str) -> dict:
    """This app's video state: "peers" (sid → VideoPeer), "links" (room id → the pairs of sids told
    to be connected), "hello" (sid → rate window before hello). Kept per app, in memory."""
    state = current_app.extensions.setdefault("room_video", {"peers": {}, "links": {}, "hello": {}})
    return state[part]


class SignalError(Exception):
    def __init__(self, message: str, code: str = "refused"):
        super().__init__(message)
        self.message, self.code = message, code


def _fail(code: str, message: str, **extra) -> dict:
    emit("rtc_error", {"code": code, "error": message})
    return {"ok": False, "code": code, "error": message, **extra}


def _over_limit(q: deque) -> bool:
    now = time.monotonic()
    while q and now - q[0] > SIGNAL_WINDOW:
        q.popleft()
    if len(q) >= SIGNAL_LIMIT:
        return True
    q.append(now)
    return False


def _peers_in(room_id: int) -> list[VideoPeer]:
    with _lock:
        return [p for p in _st("peers").values() if p.room_id == room_id]


def peer_info(room, peer: VideoPeer) -> dict:
    member = room.member_of(peer.user_id)
    return {"peer": peer.sid, "user_id": peer.user_id, "label": member.display_name,
            "name": member.user.masked_name, "role": member.role, "role_label": member.role_label,
            "media": dict(peer.media), "media_rev": peer.media_rev}


def _online(room) -> set[int]:
    return room_events.online_user_ids(room.id)


def recording_status(room) -> dict:
    return rec_ops.status_dict(room, _online(room))


def broadcast_recording(room) -> None:
    socketio.emit("rtc_recording", recording_status(room), to=video_key(room.id), namespace=NAMESPACE)


def _handler(fn):
    """Check the socket belongs to the room and to the logged-in user, limit the rate, load the room
    afresh, and turn refusals into an ``rtc_error`` plus a failed ack; never raise."""

    @functools.wraps(fn)
    def wrapper(data=None, *extra):
        g.pop("_login_user", None)  # this socket's own user, not one cached by another event (tests)
        info = room_events.sockets().get(request.sid)
        if info is None or not current_user.is_authenticated or current_user.id != info.user_id:
            return _fail("forbidden", "连接已失效，请刷新页面")
        if data is None:
            data = {}
        if extra or not isinstance(data, dict):  # one payload object, nothing else
            return _fail("invalid", "请求格式不正确")
        with _lock:
            peer = _st("peers").get(request.sid)
        q = peer.hits if peer else _st("hello").setdefault(request.sid, deque())
        if _over_limit(q):
            return _fail("rate_limited", "操作过于频繁，请稍后再试")
        room = room_events.ops.get_room(info.room_id)
        if room is None:
            return _fail("not_found", "调解室不存在")
        try:
            return fn(room, info, data)
        except (SignalError, RecordingError, RecorderError) as err:
            db.session.rollback()
            extra = {"missing": err.missing} if isinstance(err, RecordingError) and err.missing else {}
            return _fail(getattr(err, "code", "invalid"), getattr(err, "message", str(err)), **extra)
        except Exception:
            db.session.rollback()
            current_app.logger.exception("rtc event %s failed", fn.__name__)
            return _fail("server_error", "服务器繁忙，请稍后重试")

    return wrapper


def _require_video(room, info) -> VideoPeer:
    with _lock:
        peer = _st("peers").get(request.sid)
    if peer is None:
        raise SignalError("请先加入视频", "not_joined")
    if not permissions.can_use_video(current_user, room):
        raise SignalError("您当前不能参加视频", "forbidden")
    return peer


def _bool(data: dict, name: str) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise SignalError("请求格式不正确", "invalid")
    return value


# ---- joining and relaying ------------------------------------------------------------------------

def on_hello(room, info, data):
    if not permissions.can_use_video(current_user, room):
        raise SignalError("调解员准许您进入调解室后才能参加视频", "waiting")
    media = data.get("media") or {}
    if not isinstance(media, dict):
        raise SignalError("请求格式不正确", "invalid")
    others = [p for p in _peers_in(room.id) if p.sid != request.sid]
    if len(others) >= MAX_MESH:
        raise SignalError(f"视频人数已满（最多 {MAX_MESH} 人），您可以通过文字参加调解", "full")
    peer = VideoPeer(request.sid, room.id, current_user.id,
                     {k: bool(media.get(k)) is True for k in ("audio", "video", "screen")})
    with _lock:
        _st("peers")[request.sid] = peer
        _st("hello").pop(request.sid, None)
    join_room(video_key(room.id))
    visible = reconcile(room, announce_to_new=False)
    # A second hello from the same socket (camera switched on while the first was in flight) is no
    # new pair, so tell those already connected of its media state.
    for other in visible:
        socketio.emit("rtc_peer_media", {"peer": peer.sid, "media": peer.media, "media_rev": peer.media_rev},
                      to=other.sid, namespace=NAMESPACE)
    return {"ok": True, "self": peer.sid, "peers": [peer_info(room, p) for p in visible],
            "ice_servers": current_app.config.get("ICE_SERVERS") or [],
            "recording": recording_status(room),
            "can_record": permissions.can_control_recording(current_user, room),
            "can_consent": permissions.can_consent(current_user, room)}


def on_signal(room, info, data):
    peer = _require_video(room, info)
    kind = data.get("kind")
    target = data.get("to")
    if kind not in ("offer", "answer", "candidate") or not isinstance(target, str):
        raise SignalError("请求格式不正确", "invalid")
    with _lock:
        other = _st("peers").get(target)
    # Only between two members of the same room who may see each other right now.
    if (other is None or other.room_id != room.id or other.user_id == peer.user_id
            or not room_permissions.may_see_each_other(room, peer.user_id, other.user_id)):
        raise SignalError("对方不在视频中或当前不可见", "not_visible")
    out = {"from": peer.sid, "kind": kind}
    if kind == "candidate":
        cand = data.get("candidate")
        if cand is not None and (not isinstance(cand, dict) or len(str(cand)) > MAX_CANDIDATE):
            raise SignalError("ICE 候选格式不正确", "invalid")
        out["candidate"] = cand and {k: cand.get(k) for k in ("candidate", "sdpMid", "sdpMLineIndex",
                                                              "usernameFragment")}
    else:
        sdp = data.get("sdp")
        if not isinstance(sdp, str) or not sdp.startswith("v=0") or len(sdp) > MAX_SDP:
            raise SignalError("SDP 格式不正确", "invalid")
        out["sdp"] = sdp
        out["restart"] = data.get("restart") is True
    socketio.emit("rtc_signal", out, to=other.sid, namespace=NAMESPACE)
    return {"ok": True}


def on_media(room, info, data):
    peer = _require_video(room, info)
    media = {k: _bool(data, k) for k in ("audio", "video", "screen")}
    if media["screen"] and not room_permissions.can_moderate(current_user, room):
        raise SignalError("只有调解员可以共享屏幕", "forbidden")
    peer.media, peer.media_rev = media, next(_media_revs)
    for other in _visible_to(room, peer):
        socketio.emit("rtc_peer_media", {"peer": peer.sid, "media": peer.media, "media_rev": peer.media_rev},
                      to=other.sid, namespace=NAMESPACE)
    return {"ok": True}


def on_bye(room, info, data):
    _leave(request.sid)
    reconcile(room)
    return {"ok": True}


def on_mute(room, info, data):
    _require_video(room, info)
    if not permissions.can_control_recording(current_user, room):
        raise SignalError("只有调解员可以将他人静音", "forbidden")
    with _lock:
        other = _st("peers").get(data.get("peer")) if isinstance(data.get("peer"), str) else None
    if other is None or other.room_id != room.id:
        raise SignalError("对方不在视频中", "not_visible")
    socketio.emit("rtc_muted", {"message": "调解员已将您静音，如需发言请重新打开麦克风"}, to=other.sid,
                  namespace=NAMESPACE)
    return {"ok": True}


def _visible_to(room, peer: VideoPeer) -> list[VideoPeer]:
    return [p for p in _peers_in(room.id) if p.user_id != peer.user_id
            and room_permissions.may_see_each_other(room, peer.user_id, p.user_id)]


def _leave(sid: str) -> VideoPeer | None:
    with _lock:
        _st("hello").pop(sid, None)
        return _st("peers").pop(sid, None)


# ---- recording -------------------------------------------------------------------------------------

def on_consent(room, info, data):
    consent = _bool(data, "consent")
    with rec_ops.room_lock():
        rec_ops.give_consent(current_user, room, consent)
        _apply_recording_rules(room)
        db.session.commit()
    broadcast_recording(room)
    return {"ok": True, "recording": recording_status(room)}


def on_record_start(room, info, data):
    worker = rec_ops.get_worker()
    with rec_ops.room_lock():
        rec_ops.start_recording(current_user, room, _online(room), worker)
        db.session.commit()
    broadcast_recording(room)
    return {"ok": True, "recording": recording_status(room)}


def on_record_stop(room, info, data):
    worker = rec_ops.get_worker()
    with rec_ops.room_lock():
        files = rec_ops.stop_recording(current_user, room, worker)
        db.session.commit()
    broadcast_recording(room)
    return {"ok": True, "files": [a.id for a in files], "recording": recording_status(room)}


def on_worker_offer(room, info, data):
    peer = _require_video(room, info)
    rec = rec_ops.recording_of(room.id)
    if rec.state != RecordingState.recording:
        raise SignalError("当前没有进行中的录制", "not_recording")
    sdp = data.get("sdp")
    if not isinstance(sdp, str) or len(sdp) > MAX_SDP:
        raise SignalError("SDP 格式不正确", "invalid")
    member = room.member_of(peer.user_id)
    answer = rec_ops.get_worker().offer(rec_ops.worker_key(room.id), peer.sid, member.display_name, sdp)
    return {"ok": True, "answer": answer}


def _apply_recording_rules(room) -> bool:
    """Suspend, resume or stop the recording as the room now requires; True if the state changed."""
    rec = rec_ops.recording_of(room.id)
    if rec.state == RecordingState.idle:
        return False
    worker = rec_ops.get_worker()
    if not room.is_open:
        rec_ops.stop_recording(None, room, worker, why="end")
        return True
    blocker = rec_ops.recording_blocker(room, _online(room))
    if rec.state == RecordingState.recording and blocker:
        rec_ops.suspend_recording(room, worker, blocker)
        return True
    if rec.state == RecordingState.suspended and not blocker:
        rec_ops.resume_recording(room, worker)
        return True
    return False


# ---- keeping the mesh in step with the room --------------------------------------------------------

def reconcile(room, announce_to_new: bool = True) -> list[VideoPeer]:
    """Bring the media graph and the recording in line with the room as it is now.

    Drops video peers whose socket is gone or who are no longer admitted; tells both ends of every
    pair that may no longer see each other to hang up (``rtc_peer_left``) and of every pair that
    newly may to connect (``rtc_peer_joined``); suspends/resumes/stops the recording. Returns the
    peers the current socket (if it is a video peer) may see.
    """
    live = set(room_events.sockets())
    me = request.sid if _has_request() else None
    with _lock:
        for sid in [s for s in _st("hello") if s not in live]:
            _st("hello").pop(sid, None)
        for sid in [s for s, p in _st("peers").items() if p.room_id == room.id]:
            p = _st("peers")[sid]
            member = room.member_of(p.user_id)
            if sid not in live or member is None or member.status != MemberStatus.admitted or not room.is_open:
                _st("peers").pop(sid, None)
        peers = _peers_in(room.id)
        # Two sockets of one user (a reconnect before the old socket is noticed gone, a second tab)
        # never call each other.
        wanted = {frozenset((a.sid, b.sid)) for i, a in enumerate(peers) for b in peers[i + 1:]
                  if a.user_id != b.user_id and room_permissions.may_see_each_other(room, a.user_id, b.user_id)}
        before = _st("links").get(room.id, set())
        _st("links")[room.id] = wanted
    by_sid = {p.sid: p for p in peers}
    for pair in before - wanted:
        a, b = tuple(pair)
        for x, y in ((a, b), (b, a)):
            socketio.emit("rtc_peer_left", {"peer": y}, to=x, namespace=NAMESPACE)
    for pair in wanted - before:
        a, b = tuple(pair)
        for x, y in ((a, b), (b, a)):
            if x == me and not announce_to_new:
                continue  # the newcomer learns its peers from the hello acknowledgement
            socketio.emit("rtc_peer_joined", peer_info(room, by_sid[y]), to=x, namespace=NAMESPACE)
    # Recorder connections of peers that left are closed; their segments are kept.
    gone = {s for pair in before for s in pair} - set(by_sid)
    rec = rec_ops.recording_of(room.id)
    if rec.state == RecordingState.recording and gone:
        worker = rec_ops.get_worker()
        for sid in gone:
            worker.drop(rec_ops.worker_key(room.id), sid)
    try:
        with rec_ops.room_lock():
            changed = _apply_recording_rules(room)
            db.session.commit()
        if changed:
            broadcast_recording(room)
    except (RecordingError, RecorderError):
        db.session.rollback()
        current_app.logger.exception("recording rules for room %s failed", room.id)
    if me in by_sid:
        return [by_sid[s] for pair in wanted if me in pair for s in pair if s != me]
    return []


def _has_request() -> bool:
    from flask import has_request_context

    return has_request_context() and hasattr(request, "sid")


def _on_room_ended(room, **_):
    """The session ends (inside its transaction): stop the recording and file it with the ending."""
    rec = rec_ops.recording_of(room.id)
    if rec.state != RecordingState.idle:
        with rec_ops.room_lock():
            rec_ops.stop_recording(None, room, rec_ops.get_worker(), why="end")
        socketio.emit("rtc_recording", {"state": "idle", "label": "未录制", "reason": "ended",
                                        "consented": [], "missing": []},
                      to=video_key(room.id), namespace=NAMESPACE)


HANDLERS = {
    "rtc_hello": on_hello, "rtc_signal": on_signal, "rtc_media": on_media, "rtc_bye": on_bye,
    "rtc_mute": on_mute, "rtc_consent": on_consent, "rtc_record_start": on_record_start,
    "rtc_record_stop": on_record_stop, "rtc_worker_offer": on_worker_offer,
}

_WRAPPED_HANDLERS = {name: _handler(fn) for name, fn in HANDLERS.items()}


def _reconcile_on_change(room) -> None:
    reconcile(room)


def register(app) -> None:
    """Add the WebRTC events to the ``/room`` namespace of the Socket.IO server that
    ``socketio.init_app`` has just made for this app (Flask-SocketIO's ``on_event`` registers with
    the current server once one exists, so this runs for every app), and follow the room's changes."""
    from mediation_room.models import Room
    from mediation_room.signals import room_changed, room_ended
    from portal.uploads import register_owner

    def can_view_room_files(user, room_id):
        room = db.session.get(Room, room_id)
        return room is not None and permissions.can_view_recording(user, room)

    register_owner("room", can_view_room_files)
    app.config.setdefault("ICE_SERVERS", [])
    #: "embedded" (the worker's asyncio loop on a thread of this process) or "remote" (a process of
    #: its own, python -m mediation_room.media.remote, authenticated by MEDIA_WORKER_TOKEN).
    app.config.setdefault("MEDIA_WORKER_MODE", os.environ.get("MEDIA_WORKER_MODE") or "embedded")
    app.config.setdefault("MEDIA_WORKER_TOKEN", os.environ.get("MEDIA_WORKER_TOKEN") or None)
    if app.config["MEDIA_WORKER_MODE"] == "remote":
        from mediation_room.media import remote

        remote.install(app, socketio)
    for name, fn in _WRAPPED_HANDLERS.items():
        socketio.on_event(name, fn, namespace=NAMESPACE)
    room_ended.connect(_on_room_ended)
    # every change the chat makes to a room (admit, remove, caucus, end, join, leave) ends here
    room_changed.connect(_reconcile_on_change)
