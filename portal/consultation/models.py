"""Legal consultation (法律咨询, DESIGN.md §4): questions, their answer/follow-up thread, and the
categories each legal worker takes.

State machine (see :mod:`portal.consultation.operations` for the transition table)::

    open 待解答 → claimed 解答中 → answered 已解答 → closed 已办结
                   ↑__________ follow-up reopens to the same worker
"""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.clock import utcnow
from portal.extensions import db
from portal.places.models import Region

#: Categories a citizen picks when asking (the 12348 hotline's own list).
CATEGORIES = ("婚姻家庭", "劳动争议", "房产物业", "交通事故", "医疗纠纷", "借贷合同", "邻里纠纷", "土地承包",
              "消费维权", "其他")

TITLE_MAX = 60
QUESTION_MAX = 2000
ANSWER_MAX = 10000
FOLLOW_UP_MAX = 1000
COMMENT_MAX = 500



class ConsultationState(enum.StrEnum):
    open = "open"
    claimed = "claimed"
    answered = "answered"
    closed = "closed"

    @property
    def label(self) -> str:
        return {"open": "待解答", "claimed": "解答中", "answered": "已解答", "closed": "已办结"}[self.value]


def _in_list(column: str, values) -> str:
    return f"{column} IN (" + ",".join(f"'{v}'" for v in values) + ")"


class Consultation(db.Model):
    __tablename__ = "consultation"
    __table_args__ = (
        CheckConstraint(_in_list("state", [s.value for s in ConsultationState]), name="state_valid"),
        CheckConstraint(_in_list("category", CATEGORIES), name="category_valid"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_range"),
        CheckConstraint("state = 'open' OR worker_id IS NOT NULL", name="claimed_has_worker"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    asker_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    category: Mapped[str] = mapped_column(String(10), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    question: Mapped[str] = mapped_column(Text)
    #: Public questions (with the asker's identity hidden) can be browsed and searched by anyone.
    is_public: Mapped[bool] = mapped_column(default=True)
    state: Mapped[str] = mapped_column(String(10), default=ConsultationState.open.value, index=True)
    #: The legal worker who claimed it; a follow-up returns the question to the same worker.
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    #: When the asker last began waiting for an answer (asking, or following up); drives the SLA flag.
    waiting_since: Mapped[dt.datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[dt.datetime | None]
    first_answered_at: Mapped[dt.datetime | None]
    answered_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    rating: Mapped[int | None]
    rating_comment: Mapped[str] = mapped_column(String(COMMENT_MAX), default="")
    #: Ids of related published exemplary cases, joined by "," (validated when the case library exists).
    related_case_ids: Mapped[str] = mapped_column(String(200), default="")

    asker: Mapped[User] = relationship(foreign_keys=[asker_id])
    worker: Mapped[User | None] = relationship(foreign_keys=[worker_id])
    region: Mapped[Region] = relationship()
    messages: Mapped[list[ConsultationMessage]] = relationship(
        back_populates="consultation", order_by="ConsultationMessage.id", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Consultation {self.id} {self.state} {self.title[:12]}>"

    @property
    def state_enum(self) -> ConsultationState:
        return ConsultationState(self.state)

    @property
    def state_label(self) -> str:
        return self.state_enum.label

    @property
    def answers(self) -> list[ConsultationMessage]:
        return [m for m in self.messages if m.kind == MessageKind.answer]

    @property
    def related_cases(self) -> list[int]:
        return [int(x) for x in self.related_case_ids.split(",") if x.isdigit()]

    def waiting_hours(self, now: dt.datetime | None = None) -> float:
        return ((now or utcnow()) - self.waiting_since).total_seconds() / 3600

    def is_overdue(self, sla_hours: float, now: dt.datetime | None = None) -> bool:
        """Still waiting for an answer after ``sla_hours`` (the 12348 promise: 5 hours)."""
        return self.state in ("open", "claimed") and self.waiting_hours(now) > sla_hours


class MessageKind(enum.StrEnum):
    answer = "answer"
    follow_up = "follow_up"


class ConsultationMessage(db.Model):
    """One entry of the thread after the question: a worker's answer or the asker's follow-up."""

    __tablename__ = "consultation_message"
    __table_args__ = (CheckConstraint("kind IN ('answer','follow_up')", name="kind_valid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(10))
    #: Answers: HTML already cleaned by portal.text.sanitize_html. Follow-ups: plain text.
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    consultation: Mapped[Consultation] = relationship(back_populates="messages")
    author: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<ConsultationMessage {self.id} {self.kind} of {self.consultation_id}>"

    @property
    def is_answer(self) -> bool:
        return self.kind == MessageKind.answer


class WorkerCategory(db.Model):
    """A category a legal worker takes; a worker with no rows takes every category."""

    __tablename__ = "consultation_worker_category"
    __table_args__ = (
        UniqueConstraint("user_id", "category", name="uq_consultation_worker_category_pair"),
        CheckConstraint(_in_list("category", CATEGORIES), name="category_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(10))

    def __repr__(self) -> str:
        return f"<WorkerCategory {self.user_id} {self.category}>"
