"""Mediation cases (DESIGN.md §3): the case, its respondents, sessions, agreement and signatures.

The state of a case is a :class:`CaseState`; the legal moves between states are data in
:mod:`portal.mediation.states`, and the database refuses any state not in the enum.
"""
from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import clock
from portal.accounts.models import User
from portal.crypto import decrypt_text
from portal.extensions import db
from portal.identity import mask_id_number, mask_name
from portal.places.models import Organisation, Region


def utcnow() -> dt.datetime:
    """Whole seconds: deadlines and the dates printed on a case's documents never carry fractions."""
    return clock.utcnow().replace(microsecond=0)


class CaseState(enum.StrEnum):
    submitted = "submitted"
    declined = "declined"
    awaiting_consent = "awaiting_consent"
    refused = "refused"
    in_mediation = "in_mediation"
    agreement_pending = "agreement_pending"
    settled = "settled"
    failed = "failed"
    withdrawn = "withdrawn"
    archived = "archived"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS = {
    CaseState.submitted: "待受理",
    CaseState.declined: "不予受理",
    CaseState.awaiting_consent: "待对方同意",
    CaseState.refused: "对方拒绝调解",
    CaseState.in_mediation: "调解中",
    CaseState.agreement_pending: "协议待签署",
    CaseState.settled: "调解成功",
    CaseState.failed: "调解不成",
    CaseState.withdrawn: "已撤回",
    CaseState.archived: "已归档",
}

_STATE_SQL = ",".join(f"'{s.value}'" for s in CaseState)


class MediationCase(db.Model):
    __tablename__ = "mediation_case"
    __table_args__ = (
        CheckConstraint(f"state IN ({_STATE_SQL})", name="state_valid"),
        CheckConstraint("amount IS NULL OR amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(20), default=CaseState.submitted.value, index=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    mediator_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    dispute_type: Mapped[str] = mapped_column(String(20))
    #: Amount in dispute in yuan, when the dispute is about money.
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    facts: Mapped[str] = mapped_column(Text)
    claims: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: The committee must accept or decline by this day (MEDIATION_ACCEPT_DAYS working days).
    accept_due: Mapped[dt.date]
    accepted_at: Mapped[dt.datetime | None]
    consented_at: Mapped[dt.datetime | None]
    #: Mediation should end by this day: 30 days from consent, once extended.
    mediation_due: Mapped[dt.date | None]
    extension_reason: Mapped[str | None] = mapped_column(Text)
    #: Why the committee declined, the respondent refused, or mediation failed.
    end_reason: Mapped[str | None] = mapped_column(Text)
    #: The proper channel named to the parties: litigation, arbitration, administrative, legal_aid.
    referral: Mapped[str | None] = mapped_column(String(20))
    settled_at: Mapped[dt.datetime | None]
    followup_note: Mapped[str | None] = mapped_column(Text)
    archived_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]

    applicant: Mapped[User] = relationship(foreign_keys=[applicant_id], lazy="joined")
    mediator: Mapped[User | None] = relationship(foreign_keys=[mediator_id], lazy="joined")
    organisation: Mapped[Organisation] = relationship(lazy="joined")
    region: Mapped[Region] = relationship()
    respondents: Mapped[list[Respondent]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="Respondent.id", lazy="selectin"
    )
    sessions: Mapped[list[MediationSession]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="MediationSession.starts_at"
    )
    agreement: Mapped[Agreement | None] = relationship(back_populates="case", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<MediationCase {self.id} {self.state}>"

    @property
    def state_enum(self) -> CaseState:
        return CaseState(self.state)

    @property
    def state_label(self) -> str:
        return self.state_enum.label

    @property
    def number(self) -> str:
        return f"（{self.created_at:%Y}）调字第{self.id:05d}号"

    @property
    def title(self) -> str:
        """Short name of the case, parties' names masked: 张**与李**邻里纠纷."""
        others = "、".join(mask_name(r.name) for r in self.respondents)
        return f"{self.applicant.masked_name}与{others}{self.dispute_type}"

    @property
    def is_read_only(self) -> bool:
        return self.state == CaseState.archived

    def overdue(self, today: dt.date | None = None) -> str | None:
        """Why the case is overdue, or None."""
        today = today or (utcnow() + dt.timedelta(hours=8)).date()
        if self.state == CaseState.submitted and self.accept_due and today > self.accept_due:
            return "受理逾期"
        if self.state in (CaseState.in_mediation, CaseState.agreement_pending) and self.mediation_due \
                and today > self.mediation_due:
            return "调解逾期"
        return None

    @property
    def confirmation_due(self) -> dt.date | None:
        """Last day to apply jointly for judicial confirmation (人民调解法 art. 33): 30 days."""
        if self.settled_at is None:
            return None
        return (self.settled_at + dt.timedelta(hours=8)).date() + dt.timedelta(days=30)


class ConsentState(enum.StrEnum):
    pending = "pending"
    consented = "consented"
    refused = "refused"


class Respondent(db.Model):
    __tablename__ = "mediation_respondent"
    __table_args__ = (
        CheckConstraint("consent IN ('pending','consented','refused')", name="consent_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("mediation_case.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    mobile: Mapped[str] = mapped_column(String(11))
    #: Fernet-encrypted ID number, when the applicant knows it.
    id_number_enc: Mapped[str | None] = mapped_column(String(300))
    #: The account acting as this respondent: matched by mobile, or bound through the invitation.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: SHA-256 of the one-time invitation token (the link) and of the code sent by SMS.
    invite_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    invite_code_hash: Mapped[str | None] = mapped_column(String(64))
    invite_used_at: Mapped[dt.datetime | None]
    invite_failures: Mapped[int] = mapped_column(default=0)
    consent: Mapped[str] = mapped_column(String(10), default=ConsentState.pending.value)
    answered_at: Mapped[dt.datetime | None]

    case: Mapped[MediationCase] = relationship(back_populates="respondents")
    user: Mapped[User | None] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<Respondent {self.id} of case {self.case_id}>"

    @property
    def id_number(self) -> str | None:
        return decrypt_text(self.id_number_enc)

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def consent_label(self) -> str:
        return {"pending": "待答复", "consented": "同意调解", "refused": "拒绝调解"}[self.consent]


class SessionMode(enum.StrEnum):
    online = "online"
    onsite = "onsite"


class MediationSession(db.Model):
    __tablename__ = "mediation_session"
    __table_args__ = (CheckConstraint("mode IN ('online','onsite')", name="mode_valid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("mediation_case.id", ondelete="CASCADE"), index=True)
    #: Start time in UTC.
    starts_at: Mapped[dt.datetime]
    mode: Mapped[str] = mapped_column(String(10))
    place: Mapped[str] = mapped_column(String(200), default="")
    #: The mediation room of an online session (mediation_room.Room.id).
    room_id: Mapped[int | None] = mapped_column(index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    case: Mapped[MediationCase] = relationship(back_populates="sessions")

    def __repr__(self) -> str:
        return f"<MediationSession {self.id} case {self.case_id}>"

    @property
    def mode_label(self) -> str:
        return "线上调解" if self.mode == SessionMode.online else "现场调解"


class Agreement(db.Model):
    """The 调解协议书 drafted by the mediator: the items 人民调解法 art. 29 names."""

    __tablename__ = "mediation_agreement"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("mediation_case.id", ondelete="CASCADE"), unique=True)
    main_facts: Mapped[str] = mapped_column(Text)
    disputed_matters: Mapped[str] = mapped_column(Text)
    responsibilities: Mapped[str] = mapped_column(Text)
    terms: Mapped[str] = mapped_column(Text)
    performance_manner: Mapped[str] = mapped_column(String(200))
    performance_place: Mapped[str] = mapped_column(String(200))
    performance_deadline: Mapped[dt.date]
    drafted_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: The generated PDF, once the mediator's signature lands.
    pdf_attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachment.id"))

    case: Mapped[MediationCase] = relationship(back_populates="agreement")
    signatures: Mapped[list[Signature]] = relationship(
        back_populates="agreement", cascade="all, delete-orphan", order_by="Signature.id", lazy="selectin"
    )

    def __repr__(self) -> str:
        return f"<Agreement {self.id} case {self.case_id}>"

    def signature_of(self, user) -> Signature | None:
        return next((s for s in self.signatures if s.user_id == getattr(user, "id", user)), None)


class Signature(db.Model):
    __tablename__ = "mediation_signature"
    __table_args__ = (
        UniqueConstraint("agreement_id", "user_id", name="uq_mediation_signature_agreement_user"),
        CheckConstraint("capacity IN ('applicant','respondent','mediator')", name="capacity_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("mediation_agreement.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    #: applicant, respondent or mediator.
    capacity: Mapped[str] = mapped_column(String(12))
    typed_name: Mapped[str] = mapped_column(String(40))
    signed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ip: Mapped[str] = mapped_column(String(45), default="")

    agreement: Mapped[Agreement] = relationship(back_populates="signatures")
    user: Mapped[User] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<Signature {self.user_id} on agreement {self.agreement_id}>"

    @property
    def capacity_label(self) -> str:
        return {"applicant": "申请人", "respondent": "被申请人", "mediator": "调解员"}[self.capacity]
