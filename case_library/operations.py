"""Operations on exemplary cases: write, anonymise and submit, review tier by tier, publish,
unpublish. Each takes the acting user, checks it, writes the audit record and raises
:class:`CaseError` with a Chinese message when refused. The caller commits.

The state machine is the table :data:`TRANSITIONS` and the one function :func:`transition`.
"""
from __future__ import annotations

import datetime as dt
import difflib
import importlib.util
import json

from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from case_library import permissions
from case_library.anonymise import anonymise, remaining_sensitive
from case_library.models import (
    SECTIONS,
    CaseReview,
    CaseRevision,
    CaseState,
    ExemplaryCase,
    ReviewAction,
    ReviewChain,
)
from portal import audit
from portal.accounts.models import ReviewTier, Role, utcnow
from portal.extensions import db
from portal.places.models import DISPUTE_TYPES, Region

DEFAULT_CHAIN = (ReviewTier.township, ReviewTier.county, ReviewTier.city, ReviewTier.province)
PUBLISHING_TIERS = (ReviewTier.county, ReviewTier.city, ReviewTier.province)

#: (state, action) → (who may, next state). "reviewer": the current tier's reviewer in jurisdiction.
TRANSITIONS: dict[tuple[CaseState, ReviewAction], tuple[str, CaseState]] = {
    (CaseState.draft, ReviewAction.submit): ("author", CaseState.in_review),
    (CaseState.returned, ReviewAction.submit): ("author", CaseState.in_review),
    (CaseState.in_review, ReviewAction.approve): ("reviewer", CaseState.in_review),
    (CaseState.in_review, ReviewAction.publish): ("reviewer", CaseState.published),
    (CaseState.in_review, ReviewAction.return_): ("reviewer", CaseState.returned),
    (CaseState.in_review, ReviewAction.reject): ("reviewer", CaseState.rejected),
    (CaseState.published, ReviewAction.unpublish): ("publisher", CaseState.unpublished),
    (CaseState.unpublished, ReviewAction.publish): ("republisher", CaseState.published),
}


class CaseError(ValueError):
    """A refused operation; ``field`` names the form field the message belongs beside."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class ReviewConflict(CaseError):
    """Someone else acted on the case first (optimistic lock)."""


# ---- review chains ---------------------------------------------------------------------------

def set_review_chain(actor, region: Region, tiers: list[str]) -> ReviewChain:
    """Configure the tiers that review cases of ``region`` (and below), lowest first."""
    try:
        tiers_enum = [ReviewTier(t) for t in tiers]
    except ValueError:
        raise CaseError("审核层级不正确", "tiers") from None
    order = list(ReviewTier)
    if not tiers_enum or [order.index(t) for t in tiers_enum] != sorted({order.index(t) for t in tiers_enum}):
        raise CaseError("审核层级应从低到高排列且不重复", "tiers")
    if tiers_enum[-1] not in PUBLISHING_TIERS:
        raise CaseError("最后一级审核应为县级及以上司法行政机关（发布县级、市级或省级典型案例）", "tiers")
    chain = db.session.execute(select(ReviewChain).where(ReviewChain.region_id == region.id)).scalar_one_or_none()
    if chain is None:
        chain = ReviewChain(region_id=region.id, tiers_csv="")
        db.session.add(chain)
    chain.tiers_csv = ",".join(str(t) for t in tiers_enum)
    db.session.flush()
    audit.record(actor, "case_library.chain", "region", region.id, tiers=chain.tiers_csv)
    return chain


def review_chains() -> list[ReviewChain]:
    """Every configured chain, by region code (regions without one use their nearest ancestor's)."""
    return list(db.session.execute(
        select(ReviewChain).join(Region, ReviewChain.region_id == Region.id).order_by(Region.code)
    ).scalars())


def chain_for(region: Region) -> list[ReviewTier]:
    """The review chain of the nearest configured ancestor (or the default four tiers), without
    tiers below the region's own level (a county's case starts at the county)."""
    ids = [r.id for r in region.ancestors()]
    chains = {c.region_id: c for c in db.session.execute(
        select(ReviewChain).where(ReviewChain.region_id.in_(ids))).scalars()}
    tiers = list(DEFAULT_CHAIN)
    for rid in reversed(ids):
        if rid in chains:
            tiers = chains[rid].tiers
            break
    level = min(region.level, 4)
    return [t for t in tiers if t.region_level <= level]


# ---- the state machine -----------------------------------------------------------------------

def transition(case: ExemplaryCase, action: ReviewAction, actor, *, expected_version: int | None = None,
               comment: str = "", audit_action: str | None = None) -> CaseState:
    """Check that ``actor`` may take ``action`` now, move the case, record the step and audit it."""
    if expected_version is not None and int(expected_version) != case.version:
        raise ReviewConflict("该案例已被他人处理或已更新（您看到的不是最新版本），请刷新页面后查看最新状态")
    rule = TRANSITIONS.get((case.state_enum, action))
    if rule is None:
        raise CaseError(f"当前状态为“{case.state_label}”，不能{action.label}")
    who, target = rule
    if who == "author" and not permissions.can_submit(actor, case):
        raise CaseError("只有案例的撰写人可以提交")
    if who == "reviewer":
        if not permissions.in_jurisdiction(actor, case):
            raise CaseError("该案例不在您的辖区内，无权审核")
        if not permissions.can_review(actor, case):
            raise CaseError(f"该案例正在等待{case.tier_enum.label}审核，不在您的审核层级")
    if who == "publisher" and not permissions.can_unpublish(actor, case):
        raise CaseError("只有发布该案例的审核机关或其上级可以撤销发布")
    if who == "republisher" and not permissions.can_republish(actor, case):
        raise CaseError("只有发布该案例的审核机关或其上级可以重新发布")
    from_state, tier = case.state, case.current_tier
    case.state = str(target)
    case.updated_at = utcnow()
    db.session.add(CaseReview(case=case, actor_id=actor.id, action=str(action), tier=tier,
                              revision_number=case.revision_count, comment=comment))
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        raise ReviewConflict("另一位审核员刚刚处理了该案例，您的操作未生效，请刷新页面后查看最新状态") from None
    audit.record(actor, audit_action or f"case_library.{action.value}", "exemplary_case", case.id,
                 from_state=from_state, to_state=str(target), tier=tier, revision=case.revision_count,
                 comment=comment[:500])
    return target


# ---- authoring -------------------------------------------------------------------------------

def _validate(fields: dict, require_all: bool) -> None:
    title = (fields.get("title") or "").strip()
    if not title:
        raise CaseError("请填写标题", "title")
    if len(title) > 120:
        raise CaseError("标题不超过120字", "title")
    if fields.get("dispute_type") not in DISPUTE_TYPES:
        raise CaseError("请选择纠纷类型", "dispute_type")
    if len(fields.get("keywords") or "") > 200:
        raise CaseError("关键词不超过200字", "keywords")
    if require_all:
        for key, label in SECTIONS.items():
            if not (fields.get(key) or "").strip():
                raise CaseError(f"请填写“{label}”", key)


def save_draft(actor, case: ExemplaryCase | None, *, region: Region | None, fields: dict,
               party_names: str = "", source_case_id: int | None = None) -> ExemplaryCase:
    """Create or update a draft (or a returned case). Sections may still be empty."""
    if case is None:
        if not permissions.can_author(actor):
            raise CaseError("只有人民调解员可以撰写典型案例")
    elif not permissions.can_edit(actor, case):
        raise CaseError("当前状态下不能修改该案例")
    if region is None:
        raise CaseError("请选择案例所在地区（至少到县级）", "region_code")
    if region.level < 3:
        raise CaseError("案例所在地区应至少选到县（区）一级", "region_code")
    _validate(fields, require_all=False)
    created = case is None
    if created:
        case = ExemplaryCase(author_id=actor.id, source_case_id=source_case_id, state=str(CaseState.draft))
        db.session.add(case)
    case.region_id = region.id
    case.region = region
    case.title = fields["title"].strip()
    case.dispute_type = fields["dispute_type"]
    case.keywords = (fields.get("keywords") or "").strip()
    for key in SECTIONS:
        setattr(case, key, (fields.get(key) or "").strip())
    case.party_names = "\n".join(n.strip() for n in (party_names or "").splitlines() if n.strip())
    case.updated_at = utcnow()
    db.session.flush()
    audit.record(actor, "case_library.create" if created else "case_library.edit", "exemplary_case", case.id,
                 state=case.state)
    return case


def anonymised_preview(case: ExemplaryCase, extra_names=()):
    """What submission would store: the anonymised sections and the list of replacements."""
    return anonymise(case.section_texts(), case.party_name_list, extra_names)


def submit(actor, case: ExemplaryCase, extra_names=(), expected_version: int | None = None) -> CaseRevision:
    """Anonymise, check, keep a revision and send the case to the first tier of its chain."""
    _validate({**case.section_texts(), "dispute_type": case.dispute_type, "keywords": case.keywords},
              require_all=True)
    if not permissions.can_submit(actor, case):
        raise CaseError("只有案例的撰写人可以提交，且仅限草稿或退回修改的案例")
    extra = [n.strip() for n in extra_names if n and n.strip()]
    result = anonymise(case.section_texts(), case.party_name_list, extra)
    left = remaining_sensitive(result.sections)
    if left:
        where = "、".join(f"“{SECTIONS.get(k, '标题')}”中的{kind}" for k, kind in left)
        raise CaseError(f"仍有疑似个人信息未隐去：{where}。请删除或改写后再提交", left[0][0])
    if not case.chain_csv:
        case.chain_csv = ",".join(str(t) for t in chain_for(case.region))
    chain = case.chain
    if not chain:
        raise CaseError("该地区未配置审核层级，请联系管理员")
    for key, text in result.sections.items():
        setattr(case, key, text)
    case.extra_names = "\n".join(dict.fromkeys(case.extra_name_list + extra))
    case.revision_count += 1
    revision = CaseRevision(
        case=case, number=case.revision_count, author_id=actor.id, dispute_type=case.dispute_type,
        keywords=case.keywords, replacements_json=json.dumps(result.replacement_dicts(), ensure_ascii=False),
        **result.sections,
    )
    db.session.add(revision)
    case.current_tier = str(chain[0])
    case.queued_at = utcnow()
    case.reject_reason = None
    transition(case, ReviewAction.submit, actor, expected_version=expected_version,
               comment=f"第{case.revision_count}稿")
    return revision


# ---- reviewing -------------------------------------------------------------------------------

def approve(actor, case: ExemplaryCase, expected_version: int, comment: str = "") -> CaseState:
    """Pass the case up to the next tier; the last tier publishes it with its level."""
    chain = case.chain
    tier = case.tier_enum
    last = tier is not None and tier == chain[-1]
    action = ReviewAction.publish if last else ReviewAction.approve
    state = transition(case, action, actor, expected_version=expected_version, comment=comment)
    if last:
        case.level = str(tier)
        case.current_tier = None
        case.queued_at = None
        case.published_at = utcnow()
        case.unpublish_reason = None
        from case_library.search import sync_after_commit

        sync_after_commit(case)  # indexed once the caller's commit succeeds
    else:
        case.current_tier = str(chain[chain.index(tier) + 1])
        case.queued_at = utcnow()
    db.session.flush()
    return state


def return_for_revision(actor, case: ExemplaryCase, expected_version: int, comment: str) -> CaseState:
    comment = (comment or "").strip()
    if not comment:
        raise CaseError("退回修改须写明修改意见", "comment")
    state = transition(case, ReviewAction.return_, actor, expected_version=expected_version, comment=comment)
    case.current_tier = None
    case.queued_at = None
    db.session.flush()
    return state


def reject(actor, case: ExemplaryCase, expected_version: int, reason: str) -> CaseState:
    reason = (reason or "").strip()
    if not reason:
        raise CaseError("不予采用须写明理由", "comment")
    state = transition(case, ReviewAction.reject, actor, expected_version=expected_version, comment=reason)
    case.reject_reason = reason
    case.current_tier = None
    case.queued_at = None
    db.session.flush()
    return state


def unpublish(actor, case: ExemplaryCase, reason: str, expected_version: int | None = None) -> CaseState:
    """Withdraw a published case: it leaves the search index right after the caller's commit."""
    reason = (reason or "").strip()
    if not reason:
        raise CaseError("撤销发布须写明理由", "reason")
    state = transition(case, ReviewAction.unpublish, actor, expected_version=expected_version, comment=reason)
    case.unpublish_reason = reason
    db.session.flush()
    from case_library.search import sync_after_commit

    sync_after_commit(case)
    return state


def republish(actor, case: ExemplaryCase, reason: str, expected_version: int | None = None) -> CaseState:
    """Publish a withdrawn case again (same level), with a reason; indexed after the commit.

    The step is kept in the case's history as a publication whose comment says it is a
    republication (the review-step table's actions are fixed by a database constraint)."""
    reason = (reason or "").strip()
    if not reason:
        raise CaseError("重新发布须写明理由", "reason")
    state = transition(case, ReviewAction.publish, actor, expected_version=expected_version,
                       comment=f"重新发布：{reason}", audit_action="case_library.republish")
    case.unpublish_reason = None  # published_at stays: the case keeps its date and year
    db.session.flush()
    from case_library.search import sync_after_commit

    sync_after_commit(case)
    return state


def set_featured(actor, case: ExemplaryCase, featured: bool) -> None:
    if not permissions.can_feature(actor, case):
        raise CaseError("无权设置推荐案例")
    case.featured = bool(featured)
    try:
        db.session.flush()
    except StaleDataError:  # another reviewer changed the case at the same moment (optimistic lock)
        db.session.rollback()
        raise ReviewConflict("另一位审核员刚刚修改了该案例，您的操作未生效，请刷新页面后查看最新状态") from None
    audit.record(actor, "case_library.feature", "exemplary_case", case.id, featured=case.featured)
    from case_library.search import sync_after_commit

    sync_after_commit(case)


# ---- queries ---------------------------------------------------------------------------------

def review_queue(user) -> list[ExemplaryCase]:
    """Cases waiting at the user's tiers within their jurisdictions, oldest first."""
    grants = permissions.review_grants(user)
    if not grants:
        return []
    tiers = {g.tier for g in grants}
    cases = db.session.execute(
        select(ExemplaryCase).join(Region, ExemplaryCase.region_id == Region.id)
        .where(ExemplaryCase.state == CaseState.in_review, ExemplaryCase.current_tier.in_(tiers))
        .order_by(ExemplaryCase.queued_at, ExemplaryCase.id)
    ).scalars().all()
    return [c for c in cases if permissions.can_review(user, c)]


def authored_by(user) -> list[ExemplaryCase]:
    return list(db.session.execute(
        select(ExemplaryCase).where(ExemplaryCase.author_id == user.id).order_by(ExemplaryCase.updated_at.desc())
    ).scalars())


def age_label(since: dt.datetime | None, now: dt.datetime | None = None) -> str:
    if since is None:
        return ""
    delta = (now or utcnow()) - since
    if delta.days >= 1:
        return f"{delta.days}天"
    hours = delta.seconds // 3600
    return f"{hours}小时" if hours else "不到1小时"


def revision_diff(case: ExemplaryCase) -> list[dict]:
    """Per section, an escaped line diff of the latest revision against the one before."""
    revs = case.revisions
    if len(revs) < 2:
        return []
    old, new = revs[-2].section_texts(), revs[-1].section_texts()
    out = []
    labels = {"title": "标题", **SECTIONS}
    for key, label in labels.items():
        if old[key] == new[key]:
            continue
        rows = []
        matcher = difflib.SequenceMatcher(a=old[key], b=new[key], autojunk=False)
        parts = []
        for op, a1, a2, b1, b2 in matcher.get_opcodes():
            if op == "equal":
                parts.append(escape(old[key][a1:a2]))
            if op in ("delete", "replace"):
                parts.append(Markup("<del>%s</del>") % old[key][a1:a2])
            if op in ("insert", "replace"):
                parts.append(Markup("<ins>%s</ins>") % new[key][b1:b2])
        rows.append(Markup("").join(parts))
        out.append({"label": label, "html": rows[0], "from": revs[-2].number, "to": revs[-1].number})
    return out


# ---- prefill from an archived mediation case -------------------------------------------------

def mediation_available() -> bool:
    return importlib.util.find_spec("portal.mediation") is not None and \
        importlib.util.find_spec("portal.mediation.models") is not None


def archived_cases_for(user) -> list:
    """Archived mediation cases the mediator handled (empty when that package is absent)."""
    if not mediation_available():
        return []
    from portal.mediation.models import CaseState as MState
    from portal.mediation.models import MediationCase

    return list(db.session.execute(
        select(MediationCase).where(MediationCase.mediator_id == user.id, MediationCase.state == MState.archived.value)
        .order_by(MediationCase.id.desc())
    ).scalars())


def prefill_from(user, source_id: int) -> dict | None:
    """Fields for a new write-up from an archived case the user mediated, or None."""
    for mc in archived_cases_for(user):
        if mc.id == source_id:
            names = [mc.applicant.real_name] + [r.name for r in mc.respondents]
            agreement = getattr(mc, "agreement", None)
            result = ""
            if agreement is not None:
                result = f"双方自愿达成调解协议：{agreement.terms}"
            elif mc.followup_note:
                result = mc.followup_note
            return {
                "title": f"{mc.dispute_type}纠纷调解案",
                "dispute_type": mc.dispute_type,
                "region": mc.region,
                "basic_facts": mc.facts,
                "process": "",
                "result": result,
                "party_names": "\n".join(n for n in names if n),
                "source_case_id": mc.id,
            }
    return None


def reviewer_roles(user) -> list[str]:
    return [f"{g.region.full_name}{ReviewTier(g.tier).label}" for g in permissions.review_grants(user)]


def is_reviewer(user) -> bool:
    return bool(permissions.review_grants(user)) or (getattr(user, "is_authenticated", False)
                                                     and user.has_role(Role.admin))
