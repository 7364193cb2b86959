"""Actions of the mediation room: plain functions that take the acting user, check the rules,
change the data, write the audit record and raise :class:`RoomError` with a Chinese message.

They are used by the Socket.IO namespace (``events.py``), the page routes and other packages
(``create_room`` is the entry point for the mediation case package). Except for
:func:`post_message` (see there), they flush but leave the commit to the caller.
"""
from __future__ import annotations

import contextlib
import io
import threading
import zlib
from dataclasses import dataclass

from sqlalchemy import bindparam, select, update
from sqlalchemy import text as sql
from sqlalchemy.exc import IntegrityError

from mediation_room import permissions
from mediation_room.models import (
    MemberRole,
    MemberStatus,
    MessageKind,
    Room,
    RoomMember,
    RoomMessage,
    RoomState,
    utcnow,
)
from mediation_room.signals import room_ended
from portal import audit
from portal.extensions import db
from portal.identity import mask_name
from portal.notifications import notify
from portal.text import clean_text

MAX_MESSAGE_CHARS = 2000
MAX_CLIENT_MSG_ID = 64
CAUCUS_NOTICE = "背靠背调解进行中"


class RoomError(Exception):
    """A refused room action; ``str(err)`` is the Chinese message for the user."""

    def __init__(self, message: str, code: str = "refused"):
        super().__init__(message)
        self.message = message
        self.code = code


def get_room(room_id) -> Room | None:
    try:
        return db.session.get(Room, int(room_id))
    except (TypeError, ValueError):
        return None


# ---- creating a room ---------------------------------------------------------------------------

def create_room(actor, title: str, mediator, parties, invited=(), ref_type: str | None = None,
                ref_id: int | None = None) -> Room:
    """Open a room for a mediation session.

    ``mediator`` gets the role "mediator" and is inside from the start; ``parties`` ("party") and
    ``invited`` ("invited") wait in the lobby until the mediator admits them. Each of them gets an
    in-site notice with the link. Flushed, not committed.
    """
    title = clean_text(title or "", keep_newlines=False)[:200]
    if not title:
        raise RoomError("请填写调解室名称")
    if mediator is None:
        raise RoomError("调解室必须有一名调解员")
    parties = [p for p in parties if p is not None]
    invited = [p for p in invited if p is not None]
    if not parties:
        raise RoomError("调解室至少需要一名当事人")
    ids = [mediator.id] + [p.id for p in parties] + [p.id for p in invited]
    if len(set(ids)) != len(ids):
        raise RoomError("同一人不能在调解室中担任两个身份")
    room = Room(title=title, mediator_id=mediator.id, created_by_id=getattr(actor, "id", actor),
                ref_type=ref_type, ref_id=ref_id, state=RoomState.open.value, last_seq=0)
    room.members.append(RoomMember(user_id=mediator.id, role=MemberRole.mediator.value,
                                   status=MemberStatus.admitted.value))
    for p in parties:
        room.members.append(RoomMember(user_id=p.id, role=MemberRole.party.value,
                                       status=MemberStatus.waiting.value))
    for p in invited:
        room.members.append(RoomMember(user_id=p.id, role=MemberRole.invited.value,
                                       status=MemberStatus.waiting.value))
    db.session.add(room)
    db.session.flush()
    for member in room.members:
        # relationships of freshly added members are not loaded until refreshed
        db.session.refresh(member)
    audit.record(actor, "room.create", "room", room.id, title=title, mediator=mediator.id,
                 parties=[p.id for p in parties], invited=[p.id for p in invited],
                 ref_type=ref_type, ref_id=ref_id)
    for p in [*parties, *invited]:
        notify(p, f"调解室已开放：{title}", "请按约定时间进入在线调解室，调解员准许后即可参加调解。",
               link=f"/rooms/{room.id}")
    return room


# ---- sequence numbers and ordering ---------------------------------------------------------------

_local_locks: dict[int, threading.Lock] = {}
_local_locks_guard = threading.Lock()
#: SQLite has one writer at a time: the message writes of all rooms take turns on this lock, which
#: spares the threads SQLite's busy-wait back-off (sleeps of up to 100 ms, which otherwise capped the
#: site at a few dozen messages a second). Only the database part of a send holds it; the
#: broadcast runs under the room's own lock, so rooms broadcast in parallel.
_sqlite_writer = threading.Lock()


@contextlib.contextmanager
def room_send_lock(room_id: int):
    """Serialise "allocate seq → commit → broadcast" for one room, so every client receives the
    room's messages in sequence order.

    Within a process a lock per room does it; across server processes on PostgreSQL a session
    advisory lock on a dedicated connection is held until after the broadcast has been handed to
    the message queue (the row lock of the counter alone is released at commit, before the emit).
    """
    with _local_locks_guard:
        lock = _local_locks.setdefault(room_id, threading.Lock())
    with lock:
        if db.engine.dialect.name == "postgresql":
            key = 0x524F4F4D00000000 | (zlib.crc32(str(room_id).encode()) & 0xFFFFFFFF)
            key = key - (1 << 64) if key >= (1 << 63) else key
            with db.engine.connect() as conn:
                conn.exec_driver_sql(f"SELECT pg_advisory_lock({int(key)})")
                try:
                    yield
                finally:
                    conn.exec_driver_sql(f"SELECT pg_advisory_unlock({int(key)})")
                    conn.commit()
        else:
            yield


def _message_write_slot():
    """The lock a message's database work runs under: SQLite's single writer, or none."""
    return _sqlite_writer if db.engine.dialect.name == "sqlite" else contextlib.nullcontext()


def _next_seq(room: Room) -> int:
    """Take the next number from the room row's counter (row-locked until the commit)."""
    seq = db.session.execute(
        update(Room).where(Room.id == room.id).values(last_seq=Room.last_seq + 1)
        .returning(Room.last_seq).execution_options(synchronize_session=False)
    ).scalar_one()
    room.last_seq = seq
    db.session.flush()  # nothing to write (value already in the row); keeps the identity map in step
    return seq


def _system_message(room: Room, body: str, caucus_party_id: int | None = None) -> RoomMessage:
    msg = RoomMessage(room_id=room.id, seq=_next_seq(room), kind=MessageKind.system.value,
                      body=body, caucus_party_id=caucus_party_id, created_at=utcnow())
    db.session.add(msg)
    db.session.flush()
    return msg


# ---- messages ----------------------------------------------------------------------------------

def validate_text(text) -> str:
    if not isinstance(text, str):
        raise RoomError("消息格式不正确", "invalid")
    if len(text) > MAX_MESSAGE_CHARS * 2:
        raise RoomError(f"消息不能超过{MAX_MESSAGE_CHARS}字", "too_long")
    cleaned = clean_text(text, keep_newlines=True)
    if not cleaned:
        raise RoomError("消息不能为空", "empty")
    if len(cleaned) > MAX_MESSAGE_CHARS:
        raise RoomError(f"消息不能超过{MAX_MESSAGE_CHARS}字", "too_long")
    return cleaned


def validate_client_msg_id(value) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not (1 <= len(value) <= MAX_CLIENT_MSG_ID) or not value.isprintable():
        raise RoomError("消息编号格式不正确", "invalid")
    return value


@dataclass
class Posted:
    """The outcome of :func:`post_message`: the wire form, whether it was stored now, and who may
    receive it (``caucus_party_id`` None: everyone admitted; else the mediator and that party)."""

    seq: int
    created: bool
    payload: dict
    mediator_id: int
    caucus_party_id: int | None


# The send path's three statements, written once as SQL: building ORM statements for every message
# cost more than running them (cProfile of post_message on SQLite: 1.3 ms a message with two ORM
# selects, an ORM update and a Core insert; 0.19 ms with these). The room, the sender's membership
# and account come back in one query.
_SEND_CHECK = sql(
    "SELECT r.state, r.caucus_party_id, r.mediator_id, m.role, m.status, u.real_name, "
    "u.session_version, u.active FROM room r "
    "LEFT JOIN room_member m ON m.room_id = r.id AND m.user_id = :uid "
    "LEFT JOIN user_account u ON u.id = m.user_id WHERE r.id = :rid"
)
_NEXT_SEQ = sql("UPDATE room SET last_seq = last_seq + 1 WHERE id = :rid RETURNING last_seq")
_INSERT_MESSAGE = sql(
    "INSERT INTO room_message (room_id, seq, kind, sender_id, client_msg_id, body, created_at, caucus_party_id) "
    "VALUES (:room_id, :seq, :kind, :sender_id, :client_msg_id, :body, :created_at, :caucus_party_id)"
).bindparams(bindparam("created_at", type_=RoomMessage.__table__.c.created_at.type))


def post_message(actor, room: Room | int, text, client_msg_id=None, caucus=None) -> Posted:
    """Store a member's message with the room's next sequence number and COMMIT it.

    ``actor`` is a :class:`~portal.accounts.models.User` or anything with its ``id`` and
    ``session_version`` (the socket layer passes what it verified at connect, and the version is
    checked here against the database, so a password change still stops the sending at once).

    A resend with a ``client_msg_id`` already stored returns the stored message with
    ``created=False`` (nothing stored twice). While a caucus runs, whatever its two participants
    write belongs to the caucus; ``caucus=True`` from anyone else is refused.
    Call it inside :func:`room_send_lock` and broadcast before leaving the lock.

    This is the hot path of the room, so it takes the room or just its id, reads the few columns
    it needs with one small query rather than loading the room with all its members, and leaves
    duplicate detection to the unique constraint (a resend is rare; its counter step is rolled back).
    """
    room_id = getattr(room, "id", room)
    text = validate_text(text)
    client_msg_id = validate_client_msg_id(client_msg_id)
    if caucus not in (None, True, False):
        raise RoomError("消息格式不正确", "invalid")
    with _message_write_slot():
        uid = actor.id
        conn = db.session.connection()
        row = conn.execute(_SEND_CHECK, {"rid": room_id, "uid": uid}).one_or_none()
        if row is None:
            raise RoomError("调解室不存在", "not_found")
        state, caucus_party_id, mediator_id, role, status, real_name, session_version, active = row
        if state != RoomState.open:
            raise RoomError("调解已结束，不能再发送消息", "ended")
        if status != MemberStatus.admitted:
            raise RoomError("您尚未获准进入调解室，不能发送消息", "forbidden")
        if not active or session_version != actor.session_version:
            # the account was disabled or its password changed since this connection was made
            raise RoomError("登录已失效，请重新登录", "forbidden")
        in_caucus = caucus_party_id is not None and uid in (mediator_id, caucus_party_id)
        if caucus is True and not in_caucus:
            raise RoomError("您不在背靠背调解中，不能向其发送消息", "forbidden")
        if caucus is False and in_caucus:
            raise RoomError("背靠背调解进行中，消息只发给背靠背调解的双方", "forbidden")
        sender_label = f"{MemberRole(role).label} {mask_name(real_name)}"

        def posted(msg: RoomMessage, created: bool) -> Posted:
            return Posted(msg.seq, created, _payload(msg, sender_label, role), mediator_id,
                          msg.caucus_party_id)

        msg = RoomMessage(room_id=room_id, kind=MessageKind.text.value, sender_id=uid,
                          client_msg_id=client_msg_id, body=text, created_at=utcnow(),
                          caucus_party_id=caucus_party_id if in_caucus else None)
        try:
            msg.seq = conn.execute(_NEXT_SEQ, {"rid": room_id}).scalar_one()
            conn.execute(_INSERT_MESSAGE, {
                "room_id": room_id, "seq": msg.seq, "kind": msg.kind, "sender_id": uid,
                "client_msg_id": client_msg_id, "body": text, "created_at": msg.created_at,
                "caucus_party_id": msg.caucus_party_id})
            result = posted(msg, True)
            db.session.commit()
        except IntegrityError:
            # the same client id stored by a concurrent resend: the counter step is rolled back with it
            db.session.rollback()
            existing = _by_client_id(room_id, client_msg_id) if client_msg_id else None
            if existing is None:
                raise RoomError("消息未能保存，请重试", "conflict") from None
            if existing.sender_id != uid:
                raise RoomError("消息编号重复", "invalid") from None
            return posted(existing, False)
        return result


def _by_client_id(room_id: int, client_msg_id: str) -> RoomMessage | None:
    return db.session.execute(
        select(RoomMessage).where(RoomMessage.room_id == room_id, RoomMessage.client_msg_id == client_msg_id)
    ).scalar_one_or_none()


def messages_after(user, room: Room, after_seq: int = 0, limit: int | None = None) -> list[RoomMessage]:
    """Messages after ``after_seq`` that this member may see, in sequence order (the backfill).

    Caucus messages the user was not part of are left out entirely; only the public notices about
    the caucus remain.
    """
    if not permissions.is_admitted(user, room) and not permissions.can_moderate(user, room):
        raise RoomError("您尚未获准进入调解室", "forbidden")
    uid = getattr(user, "id", user)
    stmt = select(RoomMessage).where(RoomMessage.room_id == room.id, RoomMessage.seq > after_seq)
    if uid != room.mediator_id:
        stmt = stmt.where((RoomMessage.caucus_party_id.is_(None)) | (RoomMessage.caucus_party_id == uid))
    stmt = stmt.order_by(RoomMessage.seq)
    if limit:
        stmt = stmt.limit(limit)
    return list(db.session.execute(stmt).scalars())


def _payload(msg: RoomMessage, sender_label: str | None, role: str | None) -> dict:
    from portal import _format_dt

    return {
        "seq": msg.seq,
        "kind": msg.kind,
        "text": msg.body,
        "sender_id": msg.sender_id,
        "sender": sender_label or "系统",
        "role": role or "system",
        "caucus": msg.caucus_party_id is not None,
        "client_msg_id": msg.client_msg_id,
        "time": _format_dt(msg.created_at, "%H:%M:%S"),
    }


def message_dict(room: Room, msg: RoomMessage) -> dict:
    """The wire form of a message (text is plain; the browser inserts it as text, never as HTML)."""
    member = room.member_of(msg.sender_id) if msg.sender_id else None
    return _payload(msg, member.display_name if member else None, member.role if member else None)


# ---- the mediator's controls ----------------------------------------------------------------------

def _require_mediator(actor, room: Room) -> None:
    if not permissions.can_moderate(actor, room):
        raise RoomError("只有本调解室的调解员可以进行此操作", "forbidden")
    if not room.is_open:
        raise RoomError("调解已结束", "ended")


def _member(room: Room, user_id) -> RoomMember:
    try:
        member = room.member_of(int(user_id))
    except (TypeError, ValueError):
        member = None
    if member is None:
        raise RoomError("该人员不是本调解室的成员", "not_found")
    return member


def admit_member(actor, room: Room, user_id) -> tuple[RoomMember, RoomMessage | None]:
    """Let a member in from the lobby (or take a removed member back in). Returns the member and
    the stored system notice (None when already inside)."""
    _require_mediator(actor, room)
    member = _member(room, user_id)
    if member.status == MemberStatus.admitted:
        return member, None
    before = member.status
    member.status = MemberStatus.admitted.value
    notice = _system_message(room, f"{member.display_name} 已获准进入调解室")
    audit.record(actor, "room.admit", "room", room.id, user=member.user_id, before=before)
    return member, notice


def remove_member(actor, room: Room, user_id) -> tuple[RoomMember, RoomMessage, RoomMessage | None]:
    """Put a member out; they are disconnected and cannot rejoin until admitted again.
    Returns the member, the notice, and the caucus-ended notice if they were in a caucus."""
    _require_mediator(actor, room)
    member = _member(room, user_id)
    if member.role == MemberRole.mediator:
        raise RoomError("调解员不能将自己移出调解室", "invalid")
    if member.status == MemberStatus.removed:
        raise RoomError("该人员已被移出调解室", "invalid")
    ended = None
    if room.caucus_party_id == member.user_id:
        ended = end_caucus(actor, room)
    member.status = MemberStatus.removed.value
    notice = _system_message(room, f"{member.display_name} 已被调解员移出调解室")
    audit.record(actor, "room.remove", "room", room.id, user=member.user_id)
    return member, notice, ended


def start_caucus(actor, room: Room, user_id) -> RoomMessage:
    """Start a private caucus (背靠背调解) of the mediator with one admitted party."""
    _require_mediator(actor, room)
    member = _member(room, user_id)
    if member.role != MemberRole.party:
        raise RoomError("背靠背调解只能与一方当事人进行", "invalid")
    if member.status != MemberStatus.admitted:
        raise RoomError("该当事人尚未进入调解室", "invalid")
    if room.caucus_party_id is not None:
        raise RoomError("已有背靠背调解在进行，请先结束", "invalid")
    room.caucus_party_id = member.user_id
    notice = _system_message(room, f"{CAUCUS_NOTICE}：调解员正在与{member.display_name}单独沟通，其他人员暂时看不到其内容")
    audit.record(actor, "room.caucus_start", "room", room.id, party=member.user_id)
    return notice


def end_caucus(actor, room: Room) -> RoomMessage:
    if not permissions.can_moderate(actor, room):
        raise RoomError("只有本调解室的调解员可以进行此操作", "forbidden")
    if room.caucus_party_id is None:
        raise RoomError("当前没有进行中的背靠背调解", "invalid")
    party = room.caucus_party_id
    room.caucus_party_id = None
    notice = _system_message(room, "背靠背调解已结束，恢复共同调解")
    audit.record(actor, "room.caucus_end", "room", room.id, party=party)
    return notice


def end_session(actor, room: Room) -> RoomMessage:
    """End the session: the room closes to messages, the transcript is frozen into the room row,
    and :data:`signals.room_ended` is sent (inside the transaction) with its text and PDF."""
    _require_mediator(actor, room)
    if room.caucus_party_id is not None:
        end_caucus(actor, room)
    notice = _system_message(room, "调解员已结束本次调解，调解笔录已归档")
    room.state = RoomState.ended.value
    room.ended_at = utcnow()
    db.session.flush()
    room.transcript_text = transcript_text(room)
    db.session.flush()
    audit.record(actor, "room.end", "room", room.id, messages=room.last_seq)
    room_ended.send(room, transcript_text=room.transcript_text, transcript_pdf=transcript_pdf(room))
    return notice


# ---- the transcript (调解笔录) -----------------------------------------------------------------------

def transcript_rows(room: Room) -> list[dict]:
    """Every stored message in order: time (Beijing), speaker (role and masked name), text;
    caucus messages are marked 【背靠背】 (the transcript goes to the mediator and the dossier)."""
    from portal import _format_dt

    rows = []
    msgs = db.session.execute(
        select(RoomMessage).where(RoomMessage.room_id == room.id).order_by(RoomMessage.seq)
    ).scalars()
    for msg in msgs:
        member = room.member_of(msg.sender_id) if msg.sender_id else None
        rows.append({
            "seq": msg.seq,
            "time": _format_dt(msg.created_at, "%Y-%m-%d %H:%M:%S"),
            "speaker": member.display_name if member else "系统",
            "text": msg.body,
            "caucus": msg.caucus_party_id is not None,
        })
    return rows


def _header_lines(room: Room) -> list[str]:
    from portal import _format_dt

    people = "；".join(m.display_name for m in room.members)
    return [
        "调解笔录",
        f"调解室：{room.title}（编号 {room.id}）",
        (f"开始时间：{_format_dt(room.created_at, '%Y-%m-%d %H:%M')}    "
         f"结束时间：{_format_dt(room.ended_at, '%Y-%m-%d %H:%M') if room.ended_at else '进行中'}"),
        f"参加人员：{people}",
    ]


def transcript_text(room: Room) -> str:
    """The transcript as plain text; once the session has ended, the frozen copy."""
    if not room.is_open and room.transcript_text:
        return room.transcript_text
    lines = _header_lines(room) + [""]
    for r in transcript_rows(room):
        mark = "【背靠背】" if r["caucus"] else ""
        lines.append(f"[{r['time']}] {mark}{r['speaker']}：{r['text']}")
    return "\n".join(lines) + "\n"


def transcript_pdf(room: Room) -> bytes:
    """The transcript as a PDF with an embedded (or CID) Chinese font."""
    from xml.sax.saxutils import escape

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    from portal.pdf import cjk_font

    font = cjk_font()
    title = ParagraphStyle("t", fontName=font, fontSize=18, leading=26, alignment=1, spaceAfter=6)
    meta = ParagraphStyle("m", fontName=font, fontSize=10.5, leading=16)
    body = ParagraphStyle("b", fontName=font, fontSize=10.5, leading=17, spaceBefore=2, wordWrap="CJK")
    header = _header_lines(room)
    story = [Paragraph(escape(header[0]), title)]
    for line in header[1:]:
        story.append(Paragraph(escape(line), meta))
    story.append(Spacer(1, 4 * mm))
    for r in transcript_rows(room):
        mark = "【背靠背】" if r["caucus"] else ""
        line = f"[{r['time']}] {mark}{r['speaker']}：{r['text']}"
        story.append(Paragraph(escape(line).replace("\n", "<br/>"), body))
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm,
                            bottomMargin=18 * mm, title=f"调解笔录 {room.title}", author="公共法律服务网")
    doc.build(story)
    return buf.getvalue()


def open_rooms_for(user) -> list[tuple[Room, RoomMember]]:
    """The user's open rooms (not removed from), newest first, for 我的事项."""
    rows = db.session.execute(
        select(Room, RoomMember).join(RoomMember, RoomMember.room_id == Room.id)
        .where(RoomMember.user_id == user.id, Room.state == RoomState.open.value,
               RoomMember.status != MemberStatus.removed.value)
        .order_by(Room.id.desc())
    ).all()
    return [(r, m) for r, m in rows]
