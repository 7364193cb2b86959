"""The room page, the transcript exports, 我的事项, the visibility rules as plain functions, the
demo seeder and create_room's own checks."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from mediation_room import operations as ops
from mediation_room import permissions
from mediation_room.models import MemberStatus, RoomMessage
from portal.extensions import db
from tests.conftest import text_of
from tests.mediation_room.conftest import http_client


def test_room_page_for_members_404_for_others(app, room, people, outsiders):
    resp = http_client(app, people["a"]).get(f"/rooms/{room.id}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "socket.io.min.js" in html and "js/room.js" in html
    assert "<script>" not in html and "onclick" not in html and 'style="' not in html
    assert "您已进入等候区" in text_of(resp)
    assert http_client(app, outsiders["outsider"]).get(f"/rooms/{room.id}").status_code == 404
    assert http_client(app, people["a"]).get("/rooms/99999").status_code == 404
    assert app.test_client().get(f"/rooms/{room.id}").status_code in (302, 401)


def test_removed_member_no_longer_sees_the_page(app, room, people):
    ops.remove_member(people["mediator"], room, people["b"].id)
    db.session.commit()
    assert http_client(app, people["b"]).get(f"/rooms/{room.id}").status_code == 404


def test_transcript_exports_are_the_mediators(app, room, people, outsiders):
    ops.admit_member(people["mediator"], room, people["a"].id)
    db.session.commit()
    with ops.room_send_lock(room.id):
        ops.post_message(people["a"], room, "我希望对方赔偿维修费")
    med = http_client(app, people["mediator"])
    pdf = med.get(f"/rooms/{room.id}/transcript.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "调解笔录" in text and "我希望对方赔偿维修费" in text and "张**" in text
    assert "当事人 张**" in text and "当事人 张建国" not in text, "speakers are masked in the transcript"
    txt = med.get(f"/rooms/{room.id}/transcript.txt")
    assert txt.status_code == 200 and "当事人 张**：我希望对方赔偿维修费" in txt.get_data(as_text=True)
    assert http_client(app, people["a"]).get(f"/rooms/{room.id}/transcript.pdf").status_code == 403
    assert http_client(app, outsiders["outsider"]).get(f"/rooms/{room.id}/transcript.txt").status_code == 404


def test_dashboard_lists_open_rooms(app, room, people, outsiders):
    resp = http_client(app, people["b"]).get("/me")
    assert "在线调解室" in text_of(resp) and room.title in text_of(resp)
    assert "在线调解室" not in text_of(http_client(app, outsiders["outsider"]).get("/me"))
    ops.end_session(people["mediator"], room)
    db.session.commit()
    assert "在线调解室" not in text_of(http_client(app, people["b"]).get("/me"))


def test_visibility_rules(room, people, outsiders):
    med, a, b = people["mediator"], people["a"], people["b"]
    ops.admit_member(med, room, a.id)
    ops.admit_member(med, room, b.id)
    assert permissions.can_join(a, room) and not permissions.can_join(outsiders["outsider"], room)
    assert permissions.may_see_each_other(room, a, b) and permissions.may_see_each_other(room, med, b)
    ops.start_caucus(med, room, a.id)
    assert permissions.may_see_each_other(room, med, a)
    assert not permissions.may_see_each_other(room, med, b) and not permissions.may_see_each_other(room, a, b)
    db.session.commit()
    with ops.room_send_lock(room.id):
        posted = ops.post_message(a, room, "只对调解员说")
    msg = db.session.execute(select(RoomMessage).where(RoomMessage.seq == posted.seq,
                                                       RoomMessage.room_id == room.id)).scalar_one()
    assert {m.user_id for m in permissions.members_who_may_see(room, msg)} == {med.id, a.id}
    assert not permissions.may_see_message(b, room, msg)
    ops.end_caucus(med, room)
    assert permissions.may_see_each_other(room, a, b)
    assert not permissions.may_see_message(b, room, msg), "a caucus stays private after it ends"


def test_create_room_checks_its_input(people):
    med, a = people["mediator"], people["a"]
    with pytest.raises(ops.RoomError):
        ops.create_room(med, "  ", med, [a])
    with pytest.raises(ops.RoomError):
        ops.create_room(med, "无当事人", med, [])
    with pytest.raises(ops.RoomError):
        ops.create_room(med, "重复", med, [a, med])
    room = ops.create_room(med, "案件调解室", med, [a], ref_type="mediation_case", ref_id=7)
    assert room.member_of(med).status == MemberStatus.admitted
    assert room.member_of(a).status == MemberStatus.waiting and room.member_of(a).role == "party"
    assert (room.ref_type, room.ref_id) == ("mediation_case", 7)


def test_demo_seeder_makes_a_room(app, people):
    from mediation_room.demo import load_demo

    ctx = {"users": {"mediator": people["mediator"], "citizen": people["a"], "citizen_b": people["b"]}}
    load_demo(ctx)
    db.session.commit()
    room = ctx["rooms"][0]
    assert room.is_open and len(ops.messages_after(people["a"], room)) >= 4
