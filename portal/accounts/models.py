"""Accounts and roles (DESIGN.md §1).

A user registers with a mobile number and password and gives real-name details; roles are granted
separately, so one person can be, say, both a citizen and a mediator. Organisation-bound roles
(mediator, committee head) name their organisation; reviewers and legal workers name a region
(their jurisdiction or service area); reviewers also carry their tier.
"""
from __future__ import annotations

import datetime as dt
import enum

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from portal.clock import utcnow
from portal.crypto import decrypt_text
from portal.extensions import db
from portal.identity import mask_id_number, mask_mobile, mask_name
from portal.places.models import Organisation, Region


class Role(enum.StrEnum):
    citizen = "citizen"
    legal_worker = "legal_worker"
    mediator = "mediator"
    committee_head = "committee_head"
    reviewer = "reviewer"
    admin = "admin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.citizen: "群众",
    Role.legal_worker: "法律服务工作者",
    Role.mediator: "人民调解员",
    Role.committee_head: "调委会主任",
    Role.reviewer: "审核员",
    Role.admin: "系统管理员",
}


class ReviewTier(enum.StrEnum):
    """Tiers of the judicial administration that review exemplary cases, lowest first."""

    township = "township"
    county = "county"
    city = "city"
    province = "province"

    @property
    def label(self) -> str:
        return {"township": "司法所", "county": "县级司法局", "city": "市级司法局", "province": "省司法厅"}[self]

    @property
    def region_level(self) -> int:
        return {"township": 4, "county": 3, "city": 2, "province": 1}[self]


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    mobile: Mapped[str] = mapped_column(String(11), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    real_name: Mapped[str] = mapped_column(String(40))
    #: Fernet-encrypted ID number; never shown unmasked outside the owner's own documents.
    id_number_enc: Mapped[str | None] = mapped_column(String(300))
    #: Keyed hash of the ID number, for the uniqueness check without decryption.
    id_number_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[dt.datetime | None]
    #: Bumped at password change so other sessions of the account are logged out.
    session_version: Mapped[int] = mapped_column(default=1)

    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    def __repr__(self) -> str:
        return f"<User {self.id} {self.masked_mobile}>"

    # Flask-Login: the session carries id and version, so a password change ends other sessions.
    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.active

    def set_password(self, password: str) -> None:
        # scrypt by default; the test suite configures a cheap method so it is not CPU-bound.
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def id_number(self) -> str | None:
        return decrypt_text(self.id_number_enc)

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def masked_mobile(self) -> str:
        return mask_mobile(self.mobile)

    @property
    def masked_name(self) -> str:
        return mask_name(self.real_name)

    # Roles -------------------------------------------------------------------------------
    def has_role(self, role: Role | str) -> bool:
        return any(g.role == role for g in self.grants)

    def grants_for(self, role: Role | str) -> list[RoleGrant]:
        return [g for g in self.grants if g.role == role]

    @property
    def roles(self) -> list[Role]:
        return sorted({Role(g.role) for g in self.grants}, key=list(Role).index)

    def organisation_ids(self, *roles: Role | str) -> set[int]:
        """Organisations in which the user holds any of ``roles``."""
        return {g.organisation_id for g in self.grants if g.role in roles and g.organisation_id}

    @property
    def role_labels(self) -> str:
        return "、".join(r.label for r in self.roles)


class RoleGrant(db.Model):
    __tablename__ = "role_grant"
    __table_args__ = (
        CheckConstraint(
            "role IN ('citizen','legal_worker','mediator','committee_head','reviewer','admin')",
            name="role_valid",
        ),
        CheckConstraint(
            "tier IS NULL OR tier IN ('township','county','city','province')", name="tier_valid"
        ),
        UniqueConstraint("user_id", "role", "organisation_id", "region_id", name="uq_role_grant_scope"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    #: For mediator and committee head: the organisation they belong to.
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    #: For reviewer: the jurisdiction; for legal worker: the service area.
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    #: For reviewer only.
    tier: Mapped[str | None] = mapped_column(String(10))

    user: Mapped[User] = relationship(back_populates="grants")
    organisation: Mapped[Organisation | None] = relationship(lazy="joined")
    region: Mapped[Region | None] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<RoleGrant {self.user_id} {self.role}>"

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def scope_label(self) -> str:
        if self.organisation is not None:
            return self.organisation.name
        if self.region is not None:
            tier = f"（{ReviewTier(self.tier).label}）" if self.tier else ""
            return self.region.full_name + tier
        return ""
