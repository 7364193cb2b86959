"""The /room namespace through Flask-SocketIO's test client: every refusal, the lobby, messages,
caucus and the end of a session."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from mediation_room.models import MemberStatus, Room, RoomMessage
from mediation_room.signals import room_ended
from portal.extensions import db
from tests.mediation_room.conftest import call, enter, events, payloads


def stored(room, **where):
    stmt = select(func.count(RoomMessage.id)).where(RoomMessage.room_id == room.id)
    for k, v in where.items():
        stmt = stmt.where(getattr(RoomMessage, k) == v)
    return db.session.execute(stmt).scalar_one()


def texts(room):
    return [m.body for m in db.session.execute(
        select(RoomMessage).where(RoomMessage.room_id == room.id, RoomMessage.kind == "text")
        .order_by(RoomMessage.seq)).scalars()]


# ---- who may connect ------------------------------------------------------------------------------

def test_anonymous_is_refused(connect, room):
    sc = connect(None, room)
    assert not sc.is_connected("/room")


def test_non_member_is_refused(connect, room, outsiders):
    assert not connect(outsiders["outsider"], room).is_connected("/room")
    assert not connect(outsiders["other_mediator"], room).is_connected("/room")


@pytest.mark.parametrize("auth", [{}, {"room_id": "1"}, {"room_id": 99999}, {"room_id": True}, "x"])
def test_malformed_or_unknown_room_is_refused(connect, room, people, auth):
    assert not connect(people["mediator"], auth=auth).is_connected("/room")


def test_members_connect(connect, room, people):
    for key in ("mediator", "a", "b"):
        assert connect(people[key], room).is_connected("/room")


# ---- lobby ------------------------------------------------------------------------------------------

def test_waiting_party_sees_nothing_and_cannot_send(connect, room, people):
    med = enter(connect, people["mediator"], room)
    a = connect(people["a"], room)
    got = events(a)
    assert payloads(got, "lobby"), "a waiting party is told to wait"
    assert all(e["name"] != "chat" for e in got)
    assert call(med, "send", {"text": "调解员先到了", "client_msg_id": "m1"})["ok"]
    assert not payloads(events(a), "chat"), "the lobby does not hear the room"
    ack = call(a, "send", {"text": "我想说话", "client_msg_id": "a1"})
    assert ack == {"ok": False, "code": "forbidden", "error": ack["error"]}
    assert payloads(events(a), "room_error")
    ack = call(a, "join", {"after": 0})
    assert not ack["ok"] and ack["code"] == "waiting"
    ack = call(a, "backfill", {"after": 0})
    assert not ack["ok"]
    assert texts(room) == ["调解员先到了"]


def test_admit_lets_the_party_in_with_backfill(connect, room, people):
    med = enter(connect, people["mediator"], room)
    call(med, "send", {"text": "第一句", "client_msg_id": "m1"})
    a = connect(people["a"], room)
    events(a)
    assert call(med, "admit", {"user_id": people["a"].id})["ok"]
    assert payloads(events(a), "admitted")
    ack = call(a, "join", {"after": 0})
    assert ack["ok"]
    bodies = [m["text"] for m in ack["messages"]]
    assert "第一句" in bodies and any("已获准进入调解室" in b for b in bodies)
    seqs = [m["seq"] for m in ack["messages"]]
    assert seqs == sorted(seqs) == list(range(1, len(seqs) + 1))


def test_only_the_mediator_controls(connect, room, people):
    med = enter(connect, people["mediator"], room)
    a = enter(connect, people["a"], room, med)
    for event, data in [("admit", {"user_id": people["b"].id}), ("remove", {"user_id": people["b"].id}),
                        ("caucus_start", {"user_id": people["a"].id}), ("caucus_end", {}), ("end", {})]:
        ack = call(a, event, data)
        assert not ack["ok"] and ack["code"] == "forbidden", event
    db.session.refresh(room)
    assert room.is_open and room.caucus_party_id is None
    assert room.member_of(people["b"]).status == MemberStatus.waiting


# ---- messages --------------------------------------------------------------------------------------

def test_send_is_stored_acknowledged_and_broadcast_in_order(connect, room, people):
    med = enter(connect, people["mediator"], room)
    a = enter(connect, people["a"], room, med)
    events(med)
    acks = [call(a, "send", {"text": f"第{i}句", "client_msg_id": f"a-{i}"}) for i in range(3)]
    assert all(x["ok"] and not x["duplicate"] for x in acks)
    seqs = [x["seq"] for x in acks]
    assert seqs == [seqs[0], seqs[0] + 1, seqs[0] + 2]
    got = payloads(events(med), "chat")
    assert [m["seq"] for m in got] == seqs
    assert [m["text"] for m in got] == ["第0句", "第1句", "第2句"]
    assert got[0]["sender"] == "当事人 张**" and got[0]["role"] == "party" and not got[0]["caucus"]


def test_text_is_cleaned_and_kept_plain(connect, room, people):
    med = enter(connect, people["mediator"], room)
    ack = call(med, "send", {"text": "  <b>你好</b>\u202e\x00 ", "client_msg_id": "x"})
    assert ack["ok"]
    assert texts(room) == ["<b>你好</b>"]  # stored as plain text; the page inserts it as text


def test_resend_with_same_client_id_is_stored_once(connect, room, people):
    med = enter(connect, people["mediator"], room)
    a = enter(connect, people["a"], room, med)
    events(med)
    first = call(a, "send", {"text": "只发一次", "client_msg_id": "dup-1"})
    second = call(a, "send", {"text": "只发一次", "client_msg_id": "dup-1"})
    assert first["ok"] and second["ok"] and second["duplicate"] and second["seq"] == first["seq"]
    assert texts(room).count("只发一次") == 1
    assert len(payloads(events(med), "chat")) == 1


def test_another_user_cannot_claim_a_client_id(connect, room, people):
    med = enter(connect, people["mediator"], room)
    a = enter(connect, people["a"], room, med)
    assert call(med, "send", {"text": "调解员的话", "client_msg_id": "same"})["ok"]
    ack = call(a, "send", {"text": "冒用编号", "client_msg_id": "same"})
    assert not ack["ok"]
    assert texts(room) == ["调解员的话"]


@pytest.mark.parametrize("payload, code", [
    ({"text": "字" * 2001, "client_msg_id": "big"}, "too_long"),
    ({"text": "   ", "client_msg_id": "blank"}, "empty"),
    ({"text": 12345, "client_msg_id": "num"}, "invalid"),
    ({"text": ["a"], "client_msg_id": "list"}, "invalid"),
    ({"text": "好", "client_msg_id": "x" * 65}, "invalid"),
    ({"text": "好", "client_msg_id": 7}, "invalid"),
    ({"text": "好", "client_msg_id": "c", "caucus": "yes"}, "invalid"),
    ({"text": "好", "client_msg_id": "c", "evil": 1}, "invalid"),
    ("just a string", "invalid"),
    ([1, 2, 3], "invalid"),
])
def test_malformed_or_oversized_messages_are_refused(connect, room, people, payload, code):
    med = enter(connect, people["mediator"], room)
    before = db.session.execute(select(Room.last_seq).where(Room.id == room.id)).scalar_one()
    ack = call(med, "send", payload)
    assert ack["ok"] is False and ack["code"] == code
    assert payloads(events(med), "room_error")
    assert texts(room) == []
    assert db.session.execute(select(Room.last_seq).where(Room.id == room.id)).scalar_one() == before
    assert call(med, "send", {"text": "之后照常", "client_msg_id": "ok"})["ok"], "the room is unharmed"


def test_exactly_2000_characters_are_accepted(connect, room, people):
    med = enter(connect, people["mediator"], room)
    assert call(med, "send", {"text": "字" * 2000, "client_msg_id": "max"})["ok"]


@pytest.mark.parametrize("after", [-1, "5", None, 1.5, True])
def test_malformed_backfill_is_refused(connect, room, people, after):
    med = enter(connect, people["mediator"], room)
    ack = call(med, "backfill", {"after": after})
    assert not ack["ok"] and ack["code"] == "invalid"


def test_flood_from_one_socket_is_rate_limited(app, connect, room, people):
    app.config.update(ROOM_RATE_LIMIT=5, ROOM_RATE_WINDOW=60.0)
    med = enter(connect, people["mediator"], room)
    acks = [call(med, "send", {"text": f"刷屏{i}", "client_msg_id": f"f{i}"}) for i in range(8)]
    assert [a["ok"] for a in acks] == [True] * 5 + [False] * 3
    assert {a["code"] for a in acks[5:]} == {"rate_limited"}
    assert len(texts(room)) == 5
    other = enter(connect, people["a"], room, med)  # another socket is not affected
    assert call(other, "send", {"text": "我还能说话", "client_msg_id": "a1"})["ok"]


def test_reconnect_backfills_what_was_missed(connect, room, people):
    med = enter(connect, people["mediator"], room)
    a = enter(connect, people["a"], room, med)
    call(med, "send", {"text": "一", "client_msg_id": "1"})
    last = payloads(events(a), "chat")[-1]["seq"]
    a.disconnect(namespace="/room")
    call(med, "send", {"text": "二", "client_msg_id": "2"})
    call(med, "send", {"text": "三", "client_msg_id": "3"})
    a2 = connect(people["a"], room)
    ack = call(a2, "join", {"after": last})
    assert [m["text"] for m in ack["messages"]] == ["二", "三"]
    assert [m["seq"] for m in ack["messages"]] == [last + 1, last + 2]


# ---- removal ------------------------------------------------------------------------------------------

def test_removed_member_is_disconnected_and_cannot_return_until_readmitted(connect, room, people):
    med = enter(connect, people["mediator"], room)
    b = enter(connect, people["b"], room, med)
    assert call(med, "remove", {"user_id": people["b"].id})["ok"]
    assert not b.is_connected("/room")
    assert not connect(people["b"], room).is_connected("/room")
    call(med, "send", {"text": "移出后的话", "client_msg_id": "after-remove"})
    assert call(med, "admit", {"user_id": people["b"].id})["ok"]
    b2 = connect(people["b"], room)
    assert b2.is_connected("/room")
    ack = call(b2, "join", {"after": 0})
    assert ack["ok"] and "移出后的话" in [m["text"] for m in ack["messages"]]


def test_the_mediator_cannot_be_removed(connect, room, people):
    med = enter(connect, people["mediator"], room)
    ack = call(med, "remove", {"user_id": people["mediator"].id})
    assert not ack["ok"]
    ack = call(med, "remove", {"user_id": 99999})
    assert not ack["ok"] and ack["code"] == "not_found"


# ---- caucus (背靠背调解) --------------------------------------------------------------------------------

def test_caucus_reaches_only_its_two_members_now_and_later(connect, room, people):
    med = enter(connect, people["mediator"], room)
    a = enter(connect, people["a"], room, med)
    b = enter(connect, people["b"], room, med)
    for s in (med, a, b):
        events(s)
    assert call(med, "caucus_start", {"user_id": people["a"].id})["ok"]
    notice_b = payloads(events(b), "chat")
    assert len(notice_b) == 1 and "背靠背调解进行中" in notice_b[0]["text"]
    assert call(a, "send", {"text": "私下说：最多赔三千", "client_msg_id": "secret-a"})["ok"]
    assert call(med, "send", {"text": "私下说：我去沟通", "client_msg_id": "secret-m"})["ok"]
    # the other party may neither write into the caucus nor read it
    ack = call(b, "send", {"text": "我也要听", "client_msg_id": "b-in", "caucus": True})
    assert not ack["ok"] and ack["code"] == "forbidden"
    assert call(b, "send", {"text": "我在等候", "client_msg_id": "b-public"})["ok"]
    got_b = payloads(events(b), "chat")
    assert all("私下说" not in m["text"] for m in got_b)
    got_a = payloads(events(a), "chat")
    got_m = payloads(events(med), "chat")
    assert [m["text"] for m in got_a if m["caucus"]] == ["私下说：最多赔三千", "私下说：我去沟通"]
    assert [m["text"] for m in got_m if m["caucus"]] == ["私下说：最多赔三千", "私下说：我去沟通"]
    assert "我在等候" in [m["text"] for m in got_a]
    # while the caucus runs, its members cannot post into the open room by mistake
    assert not call(a, "send", {"text": "公开", "client_msg_id": "a-pub", "caucus": False})["ok"]
    assert call(med, "caucus_end", {})["ok"]
    assert stored(room, kind="text") == 3
    assert db.session.execute(select(func.count(RoomMessage.id)).where(
        RoomMessage.room_id == room.id, RoomMessage.caucus_party_id == people["a"].id)).scalar_one() == 2
    # later: the backfill of the other party still leaves it out, a reconnecting one too
    for s in (b, connect(people["b"], room)):
        ack = call(s, "backfill", {"after": 0})
        assert ack["ok"]
        assert all("私下说" not in m["text"] for m in ack["messages"])
        assert any("背靠背调解进行中" in m["text"] for m in ack["messages"])
        assert any("背靠背调解已结束" in m["text"] for m in ack["messages"])
    ack = call(a, "backfill", {"after": 0})
    assert "私下说：最多赔三千" in [m["text"] for m in ack["messages"]]


@pytest.mark.parametrize("target", ["mediator", "b_waiting", "unknown"])
def test_caucus_only_with_an_admitted_party(connect, room, people, target):
    med = enter(connect, people["mediator"], room)
    uid = {"mediator": people["mediator"].id, "b_waiting": people["b"].id, "unknown": 99999}[target]
    assert not call(med, "caucus_start", {"user_id": uid})["ok"]
    db.session.refresh(room)
    assert room.caucus_party_id is None


# ---- the end of the session ------------------------------------------------------------------------------

def test_end_freezes_the_transcript_and_sends_the_signal(connect, room, people):
    received = []

    def on_end(sender, **kw):
        received.append((sender, kw))

    room_ended.connect(on_end)
    try:
        med = enter(connect, people["mediator"], room)
        a = enter(connect, people["a"], room, med)
        call(a, "send", {"text": "我同意调解方案", "client_msg_id": "a1"})
        assert call(med, "end", {})["ok"]
        assert payloads(events(a), "ended")
    finally:
        room_ended.disconnect(on_end)
    db.session.refresh(room)
    assert not room.is_open and room.ended_at is not None
    assert len(received) == 1
    sender, kw = received[0]
    assert sender.id == room.id
    assert "当事人 张**：我同意调解方案" in kw["transcript_text"]
    from pypdf import PdfReader

    pdf_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(kw["transcript_pdf"])).pages)
    assert "调解笔录" in pdf_text and "我同意调解方案" in pdf_text
    frozen = room.transcript_text
    ack = call(med, "send", {"text": "结束后再说", "client_msg_id": "late"})
    assert not ack["ok"] and ack["code"] == "ended"
    assert not connect(people["a"], room).is_connected("/room")
    assert "结束后再说" not in texts(room)
    db.session.refresh(room)
    assert room.transcript_text == frozen


def test_a_password_change_stops_an_open_socket_from_sending(connect, room, people):
    med = enter(connect, people["mediator"], room)
    a = enter(connect, people["a"], room, med)
    people["a"].session_version += 1  # what a password change does: other sessions end
    db.session.commit()
    ack = call(a, "send", {"text": "旧连接还想发言", "client_msg_id": "old"})
    assert not ack["ok"] and ack["code"] == "forbidden"
    assert "旧连接还想发言" not in texts(room)
