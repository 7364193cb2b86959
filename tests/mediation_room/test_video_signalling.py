"""WebRTC signalling and recording consent in the /room namespace (issue 6), through Flask-SocketIO's
test client: who may join the video, what is relayed to whom, caucus hang-ups, consent rules."""
from __future__ import annotations

import pytest

from mediation_room.media import operations as rec_ops
from portal.audit import trail_for
from tests.mediation_room.conftest import call, enter, events, payloads

SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"


@pytest.fixture
def trio(connect, people, room):
    """Mediator and both parties admitted, each with a chat socket and a video socket said hello."""
    m = enter(connect, people["mediator"], room)
    a = enter(connect, people["a"], room, m)
    b = enter(connect, people["b"], room, m)
    socks = {}
    for key, chat in (("m", m), ("a", a), ("b", b)):
        user = people["mediator" if key == "m" else key]
        v = connect(user, room)
        ack = call(v, "rtc_hello", {"media": {"audio": True, "video": True}})
        assert ack["ok"], ack
        socks[key] = (v, ack["self"])
    for v, _ in socks.values():
        v.get_received("/room")
    for c in (m, a, b):
        c.get_received("/room")
    return socks


def test_hello_lists_the_peers_one_may_see_and_announces_the_newcomer(connect, people, room):
    m = enter(connect, people["mediator"], room)
    vm = connect(people["mediator"], room)
    first = call(vm, "rtc_hello", {"media": {"audio": True, "video": True}})
    assert first["ok"] and first["peers"] == [] and first["can_record"] and not first["can_consent"]
    assert first["recording"]["state"] == "idle"
    enter(connect, people["a"], room, m)
    va = connect(people["a"], room)
    vm.get_received("/room")
    second = call(va, "rtc_hello", {"media": {"audio": True, "video": False}})
    assert [p["peer"] for p in second["peers"]] == [first["self"]]
    assert second["peers"][0]["label"] == "调解员 赵**" and second["peers"][0]["role"] == "mediator"
    assert second["can_consent"] and not second["can_record"]
    joined = payloads(events(vm), "rtc_peer_joined")
    assert [j["peer"] for j in joined] == [second["self"]]
    assert joined[0]["media"] == {"audio": True, "video": False, "screen": False}


def test_lobby_members_cannot_join_the_video(connect, people, room):
    enter(connect, people["mediator"], room)
    va = connect(people["a"], room)  # still in the lobby
    ack = call(va, "rtc_hello", {})
    assert not ack["ok"] and ack["code"] == "waiting"
    assert not call(va, "rtc_signal", {"to": "x", "kind": "offer", "sdp": SDP})["ok"]


def test_offers_answers_and_candidates_are_relayed_between_peers(trio):
    (vm, sm), (va, sa) = trio["m"], trio["a"]
    assert call(va, "rtc_signal", {"to": sm, "kind": "offer", "sdp": SDP})["ok"]
    got = payloads(events(vm), "rtc_signal")
    assert got == [{"from": sa, "kind": "offer", "sdp": SDP, "restart": False}]
    assert call(vm, "rtc_signal", {"to": sa, "kind": "answer", "sdp": SDP})["ok"]
    assert payloads(events(va), "rtc_signal")[0]["kind"] == "answer"
    cand = {"candidate": "candidate:1 1 udp 2122260223 192.0.2.2 50000 typ host", "sdpMid": "0",
            "sdpMLineIndex": 0, "evil": "x" * 10}
    assert call(va, "rtc_signal", {"to": sm, "kind": "candidate", "candidate": cand})["ok"]
    relayed = payloads(events(vm), "rtc_signal")[0]["candidate"]
    assert "evil" not in relayed and relayed["candidate"] == cand["candidate"]
    # the third party received none of it
    assert payloads(events(trio["b"][0]), "rtc_signal") == []


@pytest.mark.parametrize("payload", [
    {"to": "nobody", "kind": "offer", "sdp": SDP},
    {"kind": "offer", "sdp": SDP},
    {"to": "SELF", "kind": "offer", "sdp": SDP},
    {"to": "M", "kind": "bogus", "sdp": SDP},
    {"to": "M", "kind": "offer", "sdp": "not sdp"},
    {"to": "M", "kind": "offer", "sdp": "v=0" + "x" * 100_001},
    {"to": "M", "kind": "candidate", "candidate": "string"},
    {"to": "M", "kind": "candidate", "candidate": {"candidate": "x" * 2000}},
])
def test_malformed_or_misaddressed_signals_are_refused(trio, payload):
    (vm, sm), (va, sa) = trio["m"], trio["a"]
    payload = dict(payload)
    if payload.get("to") == "M":
        payload["to"] = sm
    if payload.get("to") == "SELF":
        payload["to"] = sa
    ack = call(va, "rtc_signal", payload)
    assert not ack["ok"] and ack["error"]
    assert payloads(events(vm), "rtc_signal") == []
    assert payloads(events(va), "rtc_error")


def test_a_caucus_hangs_up_the_excluded_party_and_reconnects_after(trio, people, connect, room):
    (vm, sm), (va, sa), (vb, sb) = trio["m"], trio["a"], trio["b"]
    chat_m = connect.clients[0]
    assert call(chat_m, "caucus_start", {"user_id": people["a"].id})["ok"]
    # b is hung up from both caucus members, who stay connected to each other
    assert sorted(p["peer"] for p in payloads(events(vb), "rtc_peer_left")) == sorted([sm, sa])
    assert [p["peer"] for p in payloads(events(vm), "rtc_peer_left")] == [sb]
    assert [p["peer"] for p in payloads(events(va), "rtc_peer_left")] == [sb]
    # and nothing can be signalled across the caucus, either way
    assert call(vb, "rtc_signal", {"to": sm, "kind": "offer", "sdp": SDP})["code"] == "not_visible"
    assert call(vm, "rtc_signal", {"to": sb, "kind": "offer", "sdp": SDP})["code"] == "not_visible"
    assert call(va, "rtc_signal", {"to": sm, "kind": "offer", "sdp": SDP})["ok"]
    for v in (vm, va, vb):
        v.get_received("/room")
    assert call(chat_m, "caucus_end", {})["ok"]
    assert sorted(p["peer"] for p in payloads(events(vb), "rtc_peer_joined")) == sorted([sm, sa])
    assert [p["peer"] for p in payloads(events(va), "rtc_peer_joined")] == [sb]
    assert call(vb, "rtc_signal", {"to": sm, "kind": "offer", "sdp": SDP})["ok"]


def test_leaving_and_removal_hang_up(trio, people, connect):
    (vm, _), (_, sa), (vb, sb) = trio["m"], trio["a"], trio["b"]
    vb.disconnect(namespace="/room")
    assert [p["peer"] for p in payloads(events(vm), "rtc_peer_left")] == [sb]
    assert call(vm, "rtc_signal", {"to": sb, "kind": "offer", "sdp": SDP})["code"] == "not_visible"
    assert call(connect.clients[0], "remove", {"user_id": people["a"].id})["ok"]
    assert [p["peer"] for p in payloads(events(vm), "rtc_peer_left")] == [sa]


def test_only_the_mediator_mutes_and_shares_a_screen(trio):
    (vm, sm), (va, sa) = trio["m"], trio["a"]
    assert call(va, "rtc_mute", {"peer": sm})["code"] == "forbidden"
    assert call(vm, "rtc_mute", {"peer": sa})["ok"]
    assert payloads(events(va), "rtc_muted")
    assert call(va, "rtc_media", {"audio": True, "video": True, "screen": True})["code"] == "forbidden"
    assert call(vm, "rtc_media", {"audio": False, "video": True, "screen": True})["ok"]
    last = payloads(events(va), "rtc_peer_media")[-1]
    assert {k: last[k] for k in ("peer", "media")} == {
        "peer": sm, "media": {"audio": False, "video": True, "screen": True}}


def test_media_changes_carry_increasing_revisions(trio):
    """A browser may hear a peer's media in an event before the (older) snapshot in its own hello's
    answer; the revision tells it which is newer (static/js/room_video.js keeps the higher)."""
    (vm, sm), (va, sa) = trio["m"], trio["a"]
    events(va)
    assert call(vm, "rtc_media", {"audio": False, "video": True})["ok"]
    assert call(vm, "rtc_media", {"audio": True, "video": True})["ok"]
    revs = [m["media_rev"] for m in payloads(events(va), "rtc_peer_media") if m["peer"] == sm]
    assert len(revs) == 2 and revs[0] < revs[1]
    # a hello's peer list carries the current revision, never an older one
    listed = next(i for i in call(va, "rtc_hello", {"media": {"audio": True, "video": True}})["peers"] if i["peer"] == sm)
    assert listed["media_rev"] == revs[1] and listed["media"]["audio"] is True


def test_recording_is_refused_until_every_present_participant_consents(trio, app, room):
    (vm, _), (va, _), (vb, _) = trio["m"], trio["a"], trio["b"]
    ack = call(vm, "rtc_record_start", {})
    assert not ack["ok"] and ack["code"] == "consent"
    assert "当事人 张**" in ack["error"] and "当事人 李**" in ack["error"]
    assert call(va, "rtc_record_start", {})["code"] == "forbidden"
    assert call(vm, "rtc_consent", {"consent": True})["code"] == "forbidden"  # the mediator asks; no consent
    assert call(va, "rtc_consent", {"consent": True})["ok"]
    ack = call(vm, "rtc_record_start", {})
    assert not ack["ok"] and ack["missing"] == ["当事人 李**"]
    assert call(vb, "rtc_consent", {"consent": "yes"})["code"] == "invalid"
    assert call(vb, "rtc_consent", {"consent": True})["ok"]
    for v in (vm, va, vb):
        v.get_received("/room")
    ack = call(vm, "rtc_record_start", {})
    assert ack["ok"] and ack["recording"]["state"] == "recording"
    for v in (vm, va, vb):  # everyone is told, so everyone sees 录制中
        assert payloads(events(v), "rtc_recording")[-1]["label"] == "录制中"
    assert call(vm, "rtc_record_start", {})["code"] == "invalid"
    ack = call(vm, "rtc_record_stop", {})
    assert ack["ok"] and ack["recording"]["state"] == "idle" and ack["files"] == []
    actions = [r.action for r in trail_for("room", room.id)]
    assert actions.count("room.recording_consent") == 2
    assert "room.recording_start" in actions and "room.recording_stop" in actions


def test_a_new_participant_suspends_recording_until_they_consent(connect, people, room, factory):
    m = enter(connect, people["mediator"], room)
    a = enter(connect, people["a"], room, m)
    vm, va = connect(people["mediator"], room), connect(people["a"], room)
    assert call(vm, "rtc_hello", {})["ok"] and call(va, "rtc_hello", {})["ok"]
    assert call(va, "rtc_consent", {"consent": True})["ok"]
    assert call(vm, "rtc_record_start", {})["ok"]
    vm.get_received("/room")
    b = enter(connect, people["b"], room, m)  # admitted and present, no consent yet
    status = payloads(events(vm), "rtc_recording")[-1]
    assert status["state"] == "suspended" and status["reason"] == "consent" and status["missing"] == ["当事人 李**"]
    vb = connect(people["b"], room)
    assert call(vb, "rtc_hello", {})["recording"]["state"] == "suspended"
    assert call(vb, "rtc_consent", {"consent": True})["ok"]
    assert payloads(events(vm), "rtc_recording")[-1]["state"] == "recording"
    # withdrawing consent suspends again; a caucus suspends too
    assert call(va, "rtc_consent", {"consent": False})["ok"]
    assert payloads(events(vm), "rtc_recording")[-1]["state"] == "suspended"
    assert call(va, "rtc_consent", {"consent": True})["ok"]
    assert call(m, "caucus_start", {"user_id": people["a"].id})["ok"]
    assert payloads(events(vm), "rtc_recording")[-1]["reason"] == "caucus"
    assert call(m, "caucus_end", {})["ok"]
    assert payloads(events(vm), "rtc_recording")[-1]["state"] == "recording"
    assert rec_ops.recording_of(room.id).segments == 4  # start, then three resumptions
    # ending the session stops the recording
    assert call(m, "end", {})["ok"]
    assert rec_ops.recording_of(room.id).state == "idle"
    assert "room.recording_stop" in [r.action for r in trail_for("room", room.id)]
    del a, b


def test_worker_offer_needs_a_running_recording(trio):
    (vm, _) = trio["m"]
    assert call(vm, "rtc_worker_offer", {"sdp": SDP})["code"] == "not_recording"


def test_outsiders_never_reach_the_video_events(connect, outsiders, room):
    sc = connect(outsiders["outsider"], room)
    assert not sc.is_connected("/room")


def test_the_mesh_is_limited(connect, people, room, monkeypatch):
    from mediation_room import signalling

    monkeypatch.setattr(signalling, "MAX_MESH", 2)
    m = enter(connect, people["mediator"], room)
    enter(connect, people["a"], room, m)
    enter(connect, people["b"], room, m)
    assert call(connect(people["mediator"], room), "rtc_hello", {})["ok"]
    assert call(connect(people["a"], room), "rtc_hello", {})["ok"]
    full = call(connect(people["b"], room), "rtc_hello", {})
    assert not full["ok"] and full["code"] == "full" and "最多 2 人" in full["error"]


def test_two_sockets_of_one_user_never_call_each_other(connect, people, room):
    m = enter(connect, people["mediator"], room)
    enter(connect, people["a"], room, m)
    old, new = connect(people["a"], room), connect(people["a"], room)  # e.g. a reconnect, a second tab
    first = call(old, "rtc_hello", {})
    second = call(new, "rtc_hello", {})
    assert second["peers"] == [] and payloads(events(old), "rtc_peer_joined") == []
    assert call(new, "rtc_signal", {"to": first["self"], "kind": "offer", "sdp": SDP})["code"] == "not_visible"
