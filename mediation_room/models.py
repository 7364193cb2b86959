"""Tables of the mediation room (DESIGN.md §6): rooms, their members and their messages.

A room's ``last_seq`` is the per-room message counter. It is advanced with a single
``UPDATE room SET last_seq = last_seq + 1 ... RETURNING last_seq`` inside the transaction that
stores the message, so the row lock serialises senders in every server process and the numbers
are unique and gap-free; the unique constraint on (room_id, seq) is the last line of defence.
"""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.clock import utcnow
from portal.extensions import db


class RoomState(enum.StrEnum):
    open = "open"
    ended = "ended"

    @property
    def label(self) -> str:
        return {"open": "进行中", "ended": "已结束"}[self]


class MemberRole(enum.StrEnum):
    mediator = "mediator"
    party = "party"
    invited = "invited"

    @property
    def label(self) -> str:
        return {"mediator": "调解员", "party": "当事人", "invited": "受邀人员"}[self]


class MemberStatus(enum.StrEnum):
    waiting = "waiting"  #: in the lobby, not yet admitted
    admitted = "admitted"
    removed = "removed"  #: put out by the mediator; may come back only when admitted again

    @property
    def label(self) -> str:
        return {"waiting": "等候入室", "admitted": "已入室", "removed": "已移出"}[self]


class MessageKind(enum.StrEnum):
    text = "text"
    system = "system"


class Room(db.Model):
    __tablename__ = "room"
    __table_args__ = (CheckConstraint("state IN ('open','ended')", name="state_valid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(10), default=RoomState.open.value)
    mediator_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: What the room belongs to, e.g. ("mediation_case", 12); free-form so this package imports no case model.
    ref_type: Mapped[str | None] = mapped_column(String(40))
    ref_id: Mapped[int | None]
    #: The per-room message counter: the highest sequence number handed out.
    last_seq: Mapped[int] = mapped_column(default=0)
    #: The party in private caucus with the mediator, or None when no caucus runs.
    caucus_party_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[dt.datetime | None]
    #: The frozen 调解笔录 as plain text, written when the session ends.
    transcript_text: Mapped[str | None] = mapped_column(Text)

    #: Loaded on access (not eagerly): the message hot path reads only a few columns.
    mediator: Mapped[User] = relationship(foreign_keys=[mediator_id], lazy="select")
    members: Mapped[list[RoomMember]] = relationship(
        back_populates="room", cascade="all, delete-orphan", lazy="select", order_by="RoomMember.id"
    )

    def __repr__(self) -> str:
        return f"<Room {self.id} {self.state}>"

    @property
    def state_enum(self) -> RoomState:
        return RoomState(self.state)

    @property
    def is_open(self) -> bool:
        return self.state == RoomState.open

    def member_of(self, user) -> RoomMember | None:
        uid = getattr(user, "id", user)
        for m in self.members:
            if m.user_id == uid:
                return m
        return None


class RoomMember(db.Model):
    __tablename__ = "room_member"
    __table_args__ = (
        UniqueConstraint("room_id", "user_id", name="uq_room_member_room_user"),
        CheckConstraint("role IN ('mediator','party','invited')", name="role_valid"),
        CheckConstraint("status IN ('waiting','admitted','removed')", name="status_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    role: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default=MemberStatus.waiting.value)

    room: Mapped[Room] = relationship(back_populates="members")
    user: Mapped[User] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<RoomMember room={self.room_id} user={self.user_id} {self.role} {self.status}>"

    @property
    def role_label(self) -> str:
        return MemberRole(self.role).label

    @property
    def status_label(self) -> str:
        return MemberStatus(self.status).label

    @property
    def display_name(self) -> str:
        """Role and masked name, as shown in the room and in the transcript: 当事人 张*."""
        return f"{self.role_label} {self.user.masked_name}"


class RoomMessage(db.Model):
    __tablename__ = "room_message"
    __table_args__ = (
        UniqueConstraint("room_id", "seq", name="uq_room_message_room_seq"),
        UniqueConstraint("room_id", "client_msg_id", name="uq_room_message_room_client_msg"),
        CheckConstraint("kind IN ('text','system')", name="kind_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id", ondelete="CASCADE"))
    seq: Mapped[int]
    kind: Mapped[str] = mapped_column(String(10), default=MessageKind.text.value)
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: The sender's client-side id, so a resend after a lost acknowledgement is not stored twice.
    client_msg_id: Mapped[str | None] = mapped_column(String(64))
    #: Set on messages of a private caucus: only the mediator and this party may ever see them.
    caucus_party_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    sender: Mapped[User | None] = relationship(foreign_keys=[sender_id], lazy="joined")

    def __repr__(self) -> str:
        return f"<RoomMessage room={self.room_id} seq={self.seq} {self.kind}>"
