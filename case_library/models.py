"""Exemplary cases (典型案例), their revisions and review steps, and review chains (DESIGN.md §5).

A case is written by a mediator (a draft), anonymised and submitted (a new revision each time),
reviewed tier by tier along its region's review chain, and published by the last tier with the
level of that tier. The state column is checked by the database; the ``version`` column is
SQLAlchemy's optimistic lock, so of two reviewers acting on one case at once only one wins.
"""
from __future__ import annotations

import datetime as dt
import enum
import json

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import ReviewTier, User, utcnow
from portal.extensions import db
from portal.places.models import Region


class CaseState(enum.StrEnum):
    draft = "draft"
    in_review = "in_review"
    returned = "returned"
    rejected = "rejected"
    published = "published"
    unpublished = "unpublished"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS = {
    CaseState.draft: "草稿",
    CaseState.in_review: "审核中",
    CaseState.returned: "退回修改",
    CaseState.rejected: "不予采用",
    CaseState.published: "已发布",
    CaseState.unpublished: "已撤销发布",
}

#: Published level by the tier that published: 县级 / 市级 / 省级典型案例.
LEVEL_LABELS = {"county": "县级", "city": "市级", "province": "省级"}

#: The sections of a case, in the Ministry's order: attribute name → heading.
SECTIONS = {
    "basic_facts": "基本案情",
    "process": "调解过程",
    "result": "调解结果",
    "commentary": "案例评析",
    "legal_basis": "法律依据",
}

_STATES_SQL = ",".join(f"'{s.value}'" for s in CaseState)
_TIERS_SQL = ",".join(f"'{t.value}'" for t in ReviewTier)


class ReviewChain(db.Model):
    """The tiers that review cases of a region and everything below it (nearest ancestor wins)."""

    __tablename__ = "case_review_chain"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), unique=True)
    #: Tiers lowest first, joined by ",": ``township,county,city,province``.
    tiers_csv: Mapped[str] = mapped_column(String(60))

    region: Mapped[Region] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<ReviewChain {self.region_id} {self.tiers_csv}>"

    @property
    def tiers(self) -> list[ReviewTier]:
        return [ReviewTier(t) for t in self.tiers_csv.split(",") if t]


class ExemplaryCase(db.Model):
    __tablename__ = "exemplary_case"
    __table_args__ = (
        CheckConstraint(f"state IN ({_STATES_SQL})", name="state_valid"),
        CheckConstraint(f"current_tier IS NULL OR current_tier IN ({_TIERS_SQL})", name="tier_valid"),
        CheckConstraint("level IS NULL OR level IN ('county','city','province')", name="level_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(20), default=CaseState.draft.value, index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: The archived mediation case this was written up from (no foreign key: that package is optional).
    source_case_id: Mapped[int | None]
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    dispute_type: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(120))
    #: Keywords joined by "、".
    keywords: Mapped[str] = mapped_column(String(200), default="")
    basic_facts: Mapped[str] = mapped_column(Text, default="")
    process: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[str] = mapped_column(Text, default="")
    commentary: Mapped[str] = mapped_column(Text, default="")
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    #: Names of the parties, one a line: replaced by 张某 / 张某某 at submission; never published.
    party_names: Mapped[str] = mapped_column(Text, default="")
    #: Extra names the author chose to mask (found by part-of-speech tagging), one a line.
    extra_names: Mapped[str] = mapped_column(Text, default="")
    #: The review chain fixed at the first submission, lowest tier first, joined by ",".
    chain_csv: Mapped[str] = mapped_column(String(60), default="")
    #: The tier whose queue the case is in (while in review).
    current_tier: Mapped[str | None] = mapped_column(String(10))
    #: Published level: county / city / province.
    level: Mapped[str | None] = mapped_column(String(10))
    featured: Mapped[bool] = mapped_column(default=False)
    revision_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: When the case entered the queue it is in (its age in the queue counts from here).
    queued_at: Mapped[dt.datetime | None]
    published_at: Mapped[dt.datetime | None]
    unpublish_reason: Mapped[str | None] = mapped_column(Text)
    reject_reason: Mapped[str | None] = mapped_column(Text)
    #: Optimistic lock: every update checks and bumps it.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    author: Mapped[User] = relationship(lazy="joined")
    region: Mapped[Region] = relationship(lazy="joined")
    revisions: Mapped[list[CaseRevision]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseRevision.number"
    )
    reviews: Mapped[list[CaseReview]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseReview.id"
    )

    def __repr__(self) -> str:
        return f"<ExemplaryCase {self.id} {self.state}>"

    @property
    def state_enum(self) -> CaseState:
        return CaseState(self.state)

    @property
    def state_label(self) -> str:
        return self.state_enum.label

    @property
    def chain(self) -> list[ReviewTier]:
        return [ReviewTier(t) for t in self.chain_csv.split(",") if t]

    @property
    def tier_enum(self) -> ReviewTier | None:
        return ReviewTier(self.current_tier) if self.current_tier else None

    @property
    def level_label(self) -> str:
        return f"{LEVEL_LABELS[self.level]}典型案例" if self.level else ""

    @property
    def keyword_list(self) -> list[str]:
        return [k for k in self.keywords.replace(",", "、").replace("，", "、").split("、") if k.strip()]

    @property
    def party_name_list(self) -> list[str]:
        return [n.strip() for n in self.party_names.splitlines() if n.strip()]

    @property
    def extra_name_list(self) -> list[str]:
        return [n.strip() for n in self.extra_names.splitlines() if n.strip()]

    @property
    def year(self) -> str:
        return f"{(self.published_at or self.created_at):%Y}"

    @property
    def latest_revision(self) -> CaseRevision | None:
        return self.revisions[-1] if self.revisions else None

    def section_texts(self) -> dict[str, str]:
        return {"title": self.title, **{k: getattr(self, k) for k in SECTIONS}}


class CaseRevision(db.Model):
    """What was submitted, after anonymisation: kept for every submission (the reviewers' diff)."""

    __tablename__ = "exemplary_case_revision"
    __table_args__ = (UniqueConstraint("case_id", "number", name="uq_exemplary_case_revision_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("exemplary_case.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    title: Mapped[str] = mapped_column(String(120))
    dispute_type: Mapped[str] = mapped_column(String(20))
    keywords: Mapped[str] = mapped_column(String(200), default="")
    basic_facts: Mapped[str] = mapped_column(Text, default="")
    process: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[str] = mapped_column(Text, default="")
    commentary: Mapped[str] = mapped_column(Text, default="")
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    #: JSON list of what anonymisation replaced: kind, masked original, placeholder, section, count.
    replacements_json: Mapped[str] = mapped_column(Text, default="[]")

    case: Mapped[ExemplaryCase] = relationship(back_populates="revisions")

    def __repr__(self) -> str:
        return f"<CaseRevision {self.case_id}#{self.number}>"

    @property
    def replacements(self) -> list[dict]:
        try:
            return json.loads(self.replacements_json or "[]")
        except ValueError:
            return []

    def section_texts(self) -> dict[str, str]:
        return {"title": self.title, **{k: getattr(self, k) for k in SECTIONS}}


class ReviewAction(enum.StrEnum):
    submit = "submit"
    approve = "approve"
    publish = "publish"
    return_ = "return"
    reject = "reject"
    unpublish = "unpublish"

    @property
    def label(self) -> str:
        return {"submit": "提交审核", "approve": "审核通过，报送上级", "publish": "审核通过并发布",
                "return": "退回修改", "reject": "不予采用", "unpublish": "撤销发布"}[self.value]


class CaseReview(db.Model):
    """One step of the case's history: a submission or a reviewer's decision."""

    __tablename__ = "exemplary_case_review"
    __table_args__ = (
        CheckConstraint("action IN ('submit','approve','publish','return','reject','unpublish')",
                        name="action_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("exemplary_case.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    action: Mapped[str] = mapped_column(String(12))
    tier: Mapped[str | None] = mapped_column(String(10))
    revision_number: Mapped[int]
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    case: Mapped[ExemplaryCase] = relationship(back_populates="reviews")
    actor: Mapped[User] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<CaseReview {self.case_id} {self.action}>"

    @property
    def action_label(self) -> str:
        return ReviewAction(self.action).label

    @property
    def tier_label(self) -> str:
        return ReviewTier(self.tier).label if self.tier else ""
