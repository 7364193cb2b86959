"""Account operations: registration, authentication with lock-out, password change, role grants.

Plain functions that take the acting user explicitly and raise :class:`AccountError` with a Chinese
message (and the form field it belongs to); the views only translate these into form errors.
"""
from __future__ import annotations

import datetime as dt
import re

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal import audit
from portal.accounts.models import ReviewTier, Role, RoleGrant, User, utcnow
from portal.crypto import blind_index, encrypt_text
from portal.extensions import db
from portal.identity import validate_id_number
from portal.places.models import Organisation, Region

COMMON_PASSWORDS = frozenset(
    "12345678 123456789 1234567890 password password1 qwerty123 abc12345 11111111 88888888 "
    "a1234567 aa123456 1qaz2wsx qwertyuiop woaini1314 iloveyou 00000000 abcd1234 12345678a".split()
)


class AccountError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def password_problem(password: str, mobile: str = "") -> str | None:
    """Why a password is too weak, or None. At least 8 characters mixing letters and digits."""
    if len(password) < 8:
        return "密码至少8位"
    if len(password) > 128:
        return "密码不能超过128位"
    if not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        return "密码须同时包含字母和数字"
    if password.lower() in COMMON_PASSWORDS or (mobile and mobile in password):
        return "密码过于简单（常见密码或包含手机号），请换一个"
    return None


def find_by_mobile(mobile: str) -> User | None:
    return db.session.execute(select(User).where(User.mobile == mobile)).scalar_one_or_none()


def register_citizen(mobile: str, password: str, real_name: str, id_number: str) -> User:
    """Create a citizen account; every check is repeated here so no caller can skip it."""
    if find_by_mobile(mobile):
        raise AccountError("该手机号码已注册，请直接登录或找回密码", "mobile")
    id_number = validate_id_number(id_number)
    id_hash = blind_index(id_number)
    if db.session.execute(select(User.id).where(User.id_number_hash == id_hash)).first():
        raise AccountError("该身份证号码已被其他账号实名登记；如非本人操作请联系客服", "id_number")
    problem = password_problem(password, mobile)
    if problem:
        raise AccountError(problem, "password")
    user = User(mobile=mobile, real_name=real_name, id_number_enc=encrypt_text(id_number), id_number_hash=id_hash)
    user.set_password(password)
    user.grants.append(RoleGrant(role=Role.citizen))
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise AccountError("该手机号码或身份证号码已注册", "mobile") from None
    audit.record(user, "account.register", "user", user.id)
    return user


def authenticate(mobile: str, password: str, now: dt.datetime | None = None) -> User:
    """Return the user for a correct password; count failures and lock the account for a while
    after too many, so passwords cannot be guessed online. The same message is given for an
    unknown number and a wrong password."""
    now = now or utcnow()
    cfg = current_app.config
    user = find_by_mobile(mobile)
    if user is None:
        # Spend the same time as a real check so response time does not reveal registration.
        User(password_hash=_DUMMY_HASH()).check_password(password)
        raise AccountError("手机号码或密码不正确")
    if user.locked_until and user.locked_until > now:
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        raise AccountError(f"密码错误次数过多，账号已临时锁定，请 {minutes} 分钟后再试")
    if not user.check_password(password):
        user.failed_logins += 1
        if user.failed_logins >= cfg["LOGIN_MAX_FAILURES"]:
            user.locked_until = now + dt.timedelta(minutes=cfg["LOGIN_LOCK_MINUTES"])
            user.failed_logins = 0
            audit.record(user, "account.locked", "user", user.id)
            db.session.commit()
            raise AccountError(f"密码错误次数过多，账号已锁定 {cfg['LOGIN_LOCK_MINUTES']} 分钟")
        left = cfg["LOGIN_MAX_FAILURES"] - user.failed_logins
        db.session.commit()
        raise AccountError(f"手机号码或密码不正确（再错 {left} 次将临时锁定）")
    if not user.active:
        raise AccountError("该账号已停用，请联系管理员")
    user.failed_logins = 0
    user.locked_until = None
    audit.record(user, "account.login", "user", user.id)
    return user


_dummy = None


def _DUMMY_HASH() -> str:
    global _dummy
    if _dummy is None:
        from werkzeug.security import generate_password_hash

        _dummy = generate_password_hash("not-a-real-password-0")
    return _dummy


def change_password(user: User, current: str, new: str) -> None:
    if not user.check_password(current):
        raise AccountError("当前密码不正确", "current")
    problem = password_problem(new, user.mobile)
    if problem:
        raise AccountError(problem, "password")
    if current == new:
        raise AccountError("新密码不能与当前密码相同", "password")
    user.set_password(new)
    user.session_version += 1  # other sessions of this account end
    audit.record(user, "account.password_change", "user", user.id)


def grant_role(
    actor: User,
    user: User,
    role: Role | str,
    organisation: Organisation | None = None,
    region: Region | None = None,
    tier: ReviewTier | str | None = None,
) -> RoleGrant:
    """Give ``user`` a role with the scope it needs; refuse a grant without its scope."""
    role = Role(role)
    if role in (Role.mediator, Role.committee_head) and organisation is None:
        raise AccountError("调解员和调委会主任必须指定所属调解组织", "organisation_id")
    if role is Role.reviewer:
        if region is None or tier is None:
            raise AccountError("审核员必须指定辖区和审核层级", "region_code")
        tier = ReviewTier(tier)
        if region.level != tier.region_level:
            raise AccountError(f"{tier.label}审核员的辖区应为{_level_word(tier.region_level)}级行政区", "region_code")
    if role is Role.legal_worker and region is None:
        raise AccountError("法律服务工作者必须指定服务地区", "region_code")
    org_id = organisation.id if organisation and role in (Role.mediator, Role.committee_head) else None
    region_id = region.id if region and role in (Role.reviewer, Role.legal_worker) else None
    for g in user.grants:
        if g.role == role and g.organisation_id == org_id and g.region_id == region_id:
            raise AccountError("该用户已有此角色", "role")
    grant = RoleGrant(role=role, organisation_id=org_id, region_id=region_id,
                      tier=str(tier) if role is Role.reviewer else None)
    user.grants.append(grant)
    db.session.flush()
    audit.record(actor, "account.grant_role", "user", user.id, role=str(role), organisation_id=org_id,
                 region_id=region_id, tier=grant.tier)
    return grant


def revoke_role(actor: User, grant: RoleGrant) -> None:
    if grant.user_id == actor.id and grant.role == Role.admin:
        raise AccountError("不能撤销自己的管理员角色")
    audit.record(actor, "account.revoke_role", "user", grant.user_id, role=grant.role,
                 organisation_id=grant.organisation_id, region_id=grant.region_id)
    db.session.delete(grant)


def set_active(actor: User, user: User, active: bool) -> None:
    if user.id == actor.id and not active:
        raise AccountError("不能停用自己的账号")
    user.active = active
    if not active:
        user.session_version += 1
    audit.record(actor, "account.activate" if active else "account.deactivate", "user", user.id)


def _level_word(level: int) -> str:
    return {1: "省", 2: "市", 3: "县", 4: "乡镇"}[level]


def create_user(mobile: str, password: str, real_name: str, id_number: str | None = None,
                roles: list[tuple] = ()) -> User:
    """Create a user directly (demo data, admin tools); ``roles`` are (role, org, region, tier)."""
    user = User(mobile=mobile, real_name=real_name)
    if id_number:
        user.id_number_enc = encrypt_text(id_number)
        user.id_number_hash = blind_index(id_number)
    user.set_password(password)
    user.grants.append(RoleGrant(role=Role.citizen))
    db.session.add(user)
    db.session.flush()
    for role, org, region, tier in roles:
        grant_role(None, user, role, org, region, tier)
    return user
