"""Mediation operations: plain functions that take the acting user, check the state table,
change the case, write the audit record and the notifications in the caller's transaction, and
raise :class:`MediationError` with a Chinese message. The views only commit or roll back.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import secrets
import zipfile
from decimal import Decimal

from flask import current_app, has_request_context, request
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from portal import audit
from portal.accounts.models import Role, RoleGrant, User
from portal.accounts.operations import find_by_mobile
from portal.crypto import encrypt_text
from portal.extensions import db
from portal.identity import InvalidIdNumber, is_mobile, validate_id_number
from portal.mediation.models import (
    Agreement,
    CaseState,
    ConsentState,
    MediationCase,
    MediationSession,
    Respondent,
    SessionMode,
    Signature,
    utcnow,
)
from portal.mediation.states import Action, MediationError, check, transition
from portal.notifications import notify, send_sms
from portal.places.models import DISPUTE_TYPES, Organisation, Region, RegionLevel
from portal.places.operations import organisations_for
from portal.uploads import (
    AUDIO_TYPES,
    IMAGE_TYPES,
    PDF_TYPES,
    UploadError,
    attachment_path,
    attachments_of,
    save_upload,
    store_generated,
)
from portal.workdays import add_working_days

EVIDENCE_TYPES = {**IMAGE_TYPES, **PDF_TYPES, **AUDIO_TYPES}
MAX_RESPONDENTS = 5
MEDIATION_DAYS = 30

#: The proper channels named when mediation is declined, refused or fails.
REFERRALS = {
    "litigation": "向有管辖权的人民法院提起诉讼",
    "arbitration": "申请仲裁（劳动争议向劳动人事争议仲裁委员会申请；合同纠纷有仲裁协议的向约定的仲裁委员会申请）",
    "administrative": "向有关行政机关申请处理（行政调解、行政裁决或投诉举报）",
    "legal_aid": "经济困难的，可向当地法律援助机构申请法律援助（拨打12348咨询）",
}

#: What the parties bring to court to apply for judicial confirmation (人民调解法 art. 33).
CONFIRMATION_MATERIALS = (
    "司法确认申请书（双方当事人共同提出）",
    "本调解协议书原件",
    "双方当事人的身份证明（身份证原件及复印件；法人提供营业执照及法定代表人身份证明）",
    "与调解协议相关的财产权利证明等证据材料",
    "委托他人代为申请的，提交授权委托书",
)


def case_path(case: MediationCase) -> str:
    return f"/mediation/cases/{case.id}"


def beijing_today() -> dt.date:
    return (utcnow() + dt.timedelta(hours=8)).date()


def _notify_parties(case: MediationCase, title: str, body: str = "", *, skip=None) -> None:
    users = [case.applicant_id] + [r.user_id for r in case.respondents if r.user_id]
    for uid in dict.fromkeys(users):
        if uid and uid != getattr(skip, "id", skip):
            notify(uid, title, body, case_path(case))


def _heads_of(org_id: int) -> list[int]:
    return list(db.session.execute(
        select(RoleGrant.user_id).where(RoleGrant.role == Role.committee_head, RoleGrant.organisation_id == org_id)
    ).scalars())


def _require_text(value: str | None, message: str, field: str, max_len: int = 5000) -> str:
    value = (value or "").strip()
    if not value:
        raise MediationError(message, field)
    if len(value) > max_len:
        raise MediationError(f"内容过长（不超过{max_len}字）", field)
    return value


def _ip() -> str:
    return (request.remote_addr or "") if has_request_context() else ""


# ---- application ------------------------------------------------------------------------------

def suggest_organisations(region: Region | None, dispute_type: str) -> list[Organisation]:
    """Organisations fitting the dispute, best first (professional, township, village)."""
    if region is None or dispute_type not in DISPUTE_TYPES:
        return []
    return organisations_for(region, dispute_type)


def apply_for_mediation(applicant: User, *, respondents: list[dict], dispute_type: str, region: Region | None,
                        facts: str, claims: str, amount: Decimal | None = None,
                        organisation: Organisation | None = None, files=()) -> MediationCase:
    """Apply (申请): create a case in 待受理 with its respondents and evidence files, routed to
    the chosen fitting organisation (or the best one)."""
    if not applicant.has_role(Role.citizen):
        raise MediationError("只有实名注册的群众可以申请调解")
    if dispute_type not in DISPUTE_TYPES:
        raise MediationError("请选择纠纷类型", "dispute_type")
    if region is None or region.level != RegionLevel.village:
        raise MediationError("请选择纠纷发生地，具体到村（社区）", "region_code")
    if amount is not None and amount < 0:
        raise MediationError("争议金额不能为负数", "amount")
    facts = _require_text(facts, "请填写事实和理由", "facts")
    claims = _require_text(claims, "请填写调解请求", "claims", 2000)
    people = [r for r in respondents if any((r.get(k) or "").strip() for k in ("name", "mobile", "id_number"))]
    if not people:
        raise MediationError("请至少填写一名被申请人", "respondents")
    if len(people) > MAX_RESPONDENTS:
        raise MediationError(f"被申请人最多{MAX_RESPONDENTS}名", "respondents")
    clean, seen = [], set()
    for n, r in enumerate(people, start=1):
        name, mobile = (r.get("name") or "").strip(), (r.get("mobile") or "").strip()
        raw_id = (r.get("id_number") or "").strip()
        if not name or len(name) > 40:
            raise MediationError(f"请填写第{n}名被申请人的姓名", "respondents")
        if not is_mobile(mobile):
            raise MediationError(f"第{n}名被申请人的手机号码格式不正确", "respondents")
        id_number = None
        if raw_id:
            try:
                id_number = validate_id_number(raw_id)
            except InvalidIdNumber as exc:
                raise MediationError(f"第{n}名被申请人的身份证号码有误：{exc}", "respondents") from None
        if mobile == applicant.mobile or (id_number and id_number == applicant.id_number):
            raise MediationError("被申请人不能是申请人本人", "respondents")
        if mobile in seen:
            raise MediationError("同一被申请人填写了两次（手机号码重复）", "respondents")
        seen.add(mobile)
        clean.append((name, mobile, id_number))
    fitting = suggest_organisations(region, dispute_type)
    if not fitting:
        raise MediationError("该地区暂无受理此类纠纷的调解组织，请拨打12348咨询", "organisation_id")
    if organisation is None:
        organisation = fitting[0]
    elif organisation not in fitting:
        raise MediationError("所选调解组织不受理该地区的此类纠纷，请从推荐的组织中选择", "organisation_id")
    today = beijing_today()
    case = MediationCase(
        state=CaseState.submitted.value, applicant_id=applicant.id, organisation_id=organisation.id,
        region_id=region.id, dispute_type=dispute_type, amount=amount, facts=facts, claims=claims,
        accept_due=add_working_days(today, int(current_app.config.get("MEDIATION_ACCEPT_DAYS", 3))),
    )
    for name, mobile, id_number in clean:
        case.respondents.append(Respondent(name=name, mobile=mobile, id_number_enc=encrypt_text(id_number)))
    db.session.add(case)
    db.session.flush()
    saved = []
    try:
        for fs in files:
            if fs and fs.filename:
                saved.append(save_upload(fs, "mediation_case", case.id, applicant, EVIDENCE_TYPES))
    except UploadError as exc:
        db.session.flush()
        for att in saved:
            attachment_path(att).unlink(missing_ok=True)
        raise MediationError(str(exc), "evidence") from None
    audit.record(applicant, "mediation.apply", "mediation_case", case.id, to=CaseState.submitted.value,
                 organisation=organisation.id, dispute_type=dispute_type, evidence=len(saved))
    for uid in _heads_of(organisation.id):
        notify(uid, f"新的调解申请：{dispute_type}", f"{case.number}，请在{case.accept_due:%Y年%m月%d日}前决定是否受理。",
               case_path(case))
    notify(applicant, "调解申请已提交", f"{organisation.name}将在{case.accept_due:%m月%d日}前决定是否受理。",
           case_path(case))
    return case


# ---- committee head ---------------------------------------------------------------------------

def _invite(case: MediationCase, resp: Respondent) -> None:
    """Tell a respondent: an inbox notice when the mobile has an account, else an SMS link + code."""
    user = find_by_mobile(resp.mobile)
    if user is not None and user.id != case.applicant_id:
        resp.user_id = user.id
        notify(user, "您被列为调解案件的被申请人", f"{case.applicant.masked_name}申请与您调解（{case.dispute_type}），"
               "请查看后答复是否同意调解。", case_path(case))
        return
    token, code = secrets.token_urlsafe(24), f"{secrets.randbelow(10**6):06d}"
    resp.invite_token_hash = hashlib.sha256(token.encode()).hexdigest()
    resp.invite_code_hash = hashlib.sha256(code.encode()).hexdigest()
    base = request.host_url.rstrip("/") if has_request_context() else ""
    send_sms(resp.mobile, f"【公共法律服务网】{case.organisation.name}受理了一起与您有关的{case.dispute_type}调解申请。"
             f"请登录 {base}/mediation/invite/{token} 输入验证码 {code} 查看并答复是否同意调解。")


def accept_case(head: User, case: MediationCase) -> None:
    """受理: the respondents are invited to consent."""
    check(case, Action.accept, head)
    case.accepted_at = utcnow()
    for resp in case.respondents:
        _invite(case, resp)
    transition(case, Action.accept, head)
    notify(case.applicant_id, "调解申请已受理", "已通知对方当事人，待其同意后开始调解。", case_path(case))


def decline_case(head: User, case: MediationCase, reason: str, referral: str) -> None:
    """不予受理, with the reason and the proper channel."""
    check(case, Action.decline, head)
    reason = _require_text(reason, "请填写不予受理的理由", "reason", 1000)
    if referral not in REFERRALS:
        raise MediationError("请选择建议的解决途径", "referral")
    case.end_reason, case.referral = reason, referral
    transition(case, Action.decline, head, reason=reason, referral=referral)
    notify(case.applicant_id, "调解申请不予受理", f"理由：{reason}。建议：{REFERRALS[referral]}。", case_path(case))


def suggest_mediators(case: MediationCase) -> list[tuple[User, int, int]]:
    """Mediators of the case's organisation as (user, open cases, cases of this dispute type),
    the least loaded first and, among equals, the most experienced with this type."""
    users = db.session.execute(
        select(User).join(RoleGrant).where(RoleGrant.role == Role.mediator,
                                           RoleGrant.organisation_id == case.organisation_id, User.active.is_(True))
    ).scalars().unique().all()
    open_states = (CaseState.in_mediation.value, CaseState.agreement_pending.value)
    rows = []
    for u in users:
        load = db.session.execute(select(func.count(MediationCase.id)).where(
            MediationCase.mediator_id == u.id, MediationCase.state.in_(open_states))).scalar_one()
        same = db.session.execute(select(func.count(MediationCase.id)).where(
            MediationCase.mediator_id == u.id, MediationCase.dispute_type == case.dispute_type)).scalar_one()
        rows.append((u, load, same))
    return sorted(rows, key=lambda r: (r[1], -r[2], r[0].id))


def assign_mediator(head: User, case: MediationCase, mediator: User | None) -> None:
    """The head confirms the suggested mediator or picks another of the organisation."""
    check(case, Action.assign, head)
    if mediator is None or case.organisation_id not in mediator.organisation_ids(Role.mediator):
        raise MediationError("只能指派本调委会的调解员", "mediator_id")
    if mediator.id == case.applicant_id or any(r.user_id == mediator.id for r in case.respondents):
        raise MediationError("当事人不能担任本案调解员（回避）", "mediator_id")
    previous = case.mediator_id
    case.mediator_id = mediator.id
    transition(case, Action.assign, head, mediator=mediator.id, previous=previous)
    notify(mediator, "您被指派为调解员", f"{case.number}（{case.dispute_type}）", case_path(case))
    _notify_parties(case, "调解员已确定", f"本案调解员：{mediator.real_name}")


# ---- respondent -------------------------------------------------------------------------------

def _respondent_for(user: User, case: MediationCase) -> Respondent | None:
    return next((r for r in case.respondents if r.user_id == user.id), None)


def redeem_invitation(user: User, token: str, code: str) -> Respondent:
    """Bind the signed-in user to the respondent invited by ``token`` when ``code`` is right."""
    token_hash = hashlib.sha256((token or "").encode()).hexdigest()
    resp = db.session.execute(select(Respondent).where(Respondent.invite_token_hash == token_hash)).scalar_one_or_none()
    if resp is None or resp.invite_used_at is not None:
        raise MediationError("邀请链接无效或已使用")
    if resp.invite_failures >= 5:
        raise MediationError("验证码错误次数过多，该邀请已失效，请联系调委会重新邀请")
    if not secrets.compare_digest(hashlib.sha256((code or "").strip().encode()).hexdigest(), resp.invite_code_hash or ""):
        resp.invite_failures += 1
        db.session.commit()
        raise MediationError("验证码不正确", "code")
    case = resp.case
    if user.id == case.applicant_id or any(r.user_id == user.id for r in case.respondents):
        raise MediationError("该邀请不能由本案其他当事人使用")
    resp.user_id, resp.invite_used_at = user.id, utcnow()
    audit.record(user, "mediation.invite_redeemed", "mediation_case", case.id, respondent=resp.id)
    return resp


def consent_case(user: User, case: MediationCase) -> None:
    """同意调解; when every respondent has consented the case moves to 调解中 and the 30-day
    mediation period starts."""
    check(case, Action.consent, user)
    resp = _respondent_for(user, case)
    if resp.consent != ConsentState.pending:
        raise MediationError("您已答复过")
    resp.consent, resp.answered_at = ConsentState.consented.value, utcnow()
    complete = all(r.consent == ConsentState.consented for r in case.respondents)
    if complete:
        case.consented_at = utcnow()
        case.mediation_due = beijing_today() + dt.timedelta(days=MEDIATION_DAYS)
    transition(case, Action.consent, user, complete=complete, respondent=resp.id)
    if complete:
        _notify_parties(case, "对方已同意调解", "调委会将指派调解员并安排调解。", skip=user)
        for uid in _heads_of(case.organisation_id):
            notify(uid, "当事人已同意调解，请指派调解员", case.number, case_path(case))


def refuse_case(user: User, case: MediationCase, reason: str = "") -> None:
    """拒绝调解: no mediation against a party's will (人民调解法 art. 17); the case ends."""
    check(case, Action.refuse, user)
    resp = _respondent_for(user, case)
    if resp.consent != ConsentState.pending:
        raise MediationError("您已答复过")
    resp.consent, resp.answered_at = ConsentState.refused.value, utcnow()
    case.end_reason = (reason or "").strip()[:1000] or "被申请人不同意调解"
    transition(case, Action.refuse, user, respondent=resp.id)
    notify(case.applicant_id, "对方不同意调解",
           "依照《人民调解法》第十七条，当事人一方明确拒绝调解的，不得调解。您可以通过诉讼等途径解决。", case_path(case))


# ---- mediation --------------------------------------------------------------------------------

def schedule_session(actor: User, case: MediationCase, starts_at_local: dt.datetime | None, mode: str,
                     place: str = "") -> MediationSession:
    """Arrange a session (Beijing time). An online one gets a mediation room."""
    check(case, Action.schedule, actor)
    if case.mediator_id is None:
        raise MediationError("请先指派调解员")
    if starts_at_local is None:
        raise MediationError("请填写调解时间", "starts_at")
    starts_at = starts_at_local - dt.timedelta(hours=8)
    if starts_at <= utcnow():
        raise MediationError("调解时间不能早于当前时间", "starts_at")
    if mode not in (SessionMode.online, SessionMode.onsite):
        raise MediationError("请选择调解方式", "mode")
    place = (place or "").strip()
    if mode == SessionMode.onsite and not place:
        raise MediationError("现场调解请填写地点", "place")
    session = MediationSession(case=case, starts_at=starts_at, mode=mode, place=place[:200], created_by_id=actor.id)
    db.session.add(session)
    db.session.flush()
    if mode == SessionMode.online:
        try:
            from mediation_room import operations as room_ops
        except ImportError:
            raise MediationError("线上调解室暂未开通，请改为现场调解", "mode") from None
        parties = [case.applicant] + [r.user for r in case.respondents if r.user is not None]
        try:
            room = room_ops.create_room(actor, f"{case.number} 调解", case.mediator, parties,
                                        ref_type="mediation_case", ref_id=case.id)
        except room_ops.RoomError as exc:
            raise MediationError(f"无法开设调解室：{exc}", "mode") from None
        db.session.flush()
        session.room_id = room.id
    transition(case, Action.schedule, actor, session=session.id, mode=mode,
               starts_at=starts_at_local.strftime("%Y-%m-%d %H:%M"))
    _notify_parties(case, "调解时间已安排",
                    f"{starts_at_local:%Y年%m月%d日 %H:%M}，{session.mode_label}{('：' + place) if place else ''}")
    return session


def extend_deadline(actor: User, case: MediationCase, reason: str) -> None:
    """Extend the 30-day mediation period once, for a stated reason."""
    check(case, Action.extend, actor)
    if case.extension_reason:
        raise MediationError("调解期限只能延长一次")
    reason = _require_text(reason, "请填写延长期限的理由", "reason", 1000)
    base = case.mediation_due or beijing_today()
    case.mediation_due = base + dt.timedelta(days=MEDIATION_DAYS)
    case.extension_reason = reason
    transition(case, Action.extend, actor, reason=reason, due=case.mediation_due.isoformat())
    _notify_parties(case, "调解期限已延长", f"延长至{case.mediation_due:%Y年%m月%d日}。理由：{reason}")


AGREEMENT_FIELDS = ("main_facts", "disputed_matters", "responsibilities", "terms", "performance_manner",
                    "performance_place")


def propose_agreement(mediator: User, case: MediationCase, *, main_facts: str, disputed_matters: str,
                      responsibilities: str, terms: str, performance_manner: str, performance_place: str,
                      performance_deadline: dt.date | None) -> Agreement:
    """Draft the 调解协议书 with the items of 人民调解法 art. 29; the parties then sign."""
    check(case, Action.propose, mediator)
    values = {
        "main_facts": _require_text(main_facts, "请填写纠纷的主要事实", "main_facts"),
        "disputed_matters": _require_text(disputed_matters, "请填写争议事项", "disputed_matters"),
        "responsibilities": _require_text(responsibilities, "请填写各方当事人的责任", "responsibilities"),
        "terms": _require_text(terms, "请填写双方达成协议的内容", "terms"),
        "performance_manner": _require_text(performance_manner, "请填写履行方式", "performance_manner", 200),
        "performance_place": _require_text(performance_place, "请填写履行地点", "performance_place", 200),
    }
    if performance_deadline is None:
        raise MediationError("请填写履行期限", "performance_deadline")
    if performance_deadline < beijing_today():
        raise MediationError("履行期限不能早于今天", "performance_deadline")
    if case.agreement is not None:  # a draft of an earlier round (not reachable today) is replaced
        db.session.delete(case.agreement)
        db.session.flush()
    agreement = Agreement(case=case, performance_deadline=performance_deadline, drafted_by_id=mediator.id, **values)
    db.session.add(agreement)
    db.session.flush()
    transition(case, Action.propose, mediator, agreement=agreement.id)
    _notify_parties(case, "调解协议待您签署", "请核对协议内容，确认无误后签署。")
    return agreement


def pending_signers(case: MediationCase) -> list[tuple[str, User]]:
    """Who still has to sign, parties before the mediator."""
    agreement = case.agreement
    if agreement is None:
        return []
    people = [("applicant", case.applicant)] + [("respondent", r.user) for r in case.respondents if r.user]
    people.append(("mediator", case.mediator))
    return [(cap, u) for cap, u in people if u is not None and agreement.signature_of(u) is None]


def sign_agreement(user: User, case: MediationCase, typed_name: str, password: str) -> Signature:
    """A party or, after every party, the mediator signs with their typed real name and password.
    The mediator's signature settles the case and makes the PDF."""
    check(case, Action.sign, user)
    agreement = case.agreement
    if agreement.signature_of(user) is not None:
        raise MediationError("您已签署过本协议，不能重复签署")
    if (typed_name or "").strip() != user.real_name:
        raise MediationError("签名须与您实名登记的姓名一致", "typed_name")
    if not password or not user.check_password(password):
        raise MediationError("密码不正确", "password")
    waiting = pending_signers(case)
    capacity = next(cap for cap, u in waiting if u.id == user.id)
    if capacity == "mediator" and any(cap != "mediator" for cap, _ in waiting):
        raise MediationError("须待各方当事人签署后，调解员再签署")
    sig = Signature(agreement=agreement, user_id=user.id, capacity=capacity, typed_name=user.real_name,
                    signed_at=utcnow(), ip=_ip())
    db.session.add(sig)
    db.session.flush()
    complete = capacity == "mediator"
    if complete:
        case.settled_at = utcnow()
        case.closed_at = case.settled_at
    transition(case, Action.sign, user, complete=complete, capacity=capacity, ip=sig.ip)
    if complete:
        pdf = agreement_pdf(case)
        att = save_upload(FileStorage(io.BytesIO(pdf), filename=f"调解协议书{case.id}.pdf"),
                          "mediation_agreement", case.id, user, PDF_TYPES)
        db.session.flush()
        agreement.pdf_attachment_id = att.id
        _notify_parties(case, "调解成功，调解协议书已生成",
                        f"可在{case.confirmation_due:%Y年%m月%d日}前共同向人民法院申请司法确认（《人民调解法》第三十三条）。")
    else:
        waiting = pending_signers(case)
        if [cap for cap, _ in waiting] == ["mediator"]:
            notify(case.mediator_id, "各方当事人已签署，请调解员签署", case.number, case_path(case))
    return sig


def fail_case(mediator: User, case: MediationCase, reason: str, referral: str) -> None:
    """调解不成: the mediator records why and names the proper channel."""
    check(case, Action.fail, mediator)
    reason = _require_text(reason, "请填写调解不成的原因", "reason", 2000)
    if referral not in REFERRALS:
        raise MediationError("请选择建议的解决途径", "referral")
    case.end_reason, case.referral = reason, referral
    transition(case, Action.fail, mediator, reason=reason, referral=referral)
    _notify_parties(case, "调解终结（调解不成）", f"建议：{REFERRALS[referral]}")


def withdraw_case(applicant: User, case: MediationCase, reason: str = "") -> None:
    """The applicant withdraws before the case is settled."""
    check(case, Action.withdraw, applicant)
    case.end_reason = (reason or "").strip()[:1000] or "申请人撤回"
    transition(case, Action.withdraw, applicant, reason=case.end_reason)
    for r in case.respondents:
        if r.user_id:
            notify(r.user_id, "申请人已撤回调解申请", case.number, case_path(case))
    if case.mediator_id:
        notify(case.mediator_id, "申请人已撤回调解申请", case.number, case_path(case))


def archive_case(mediator: User, case: MediationCase, followup_note: str) -> None:
    """回访 and 归档: the dossier is sealed read-only."""
    check(case, Action.archive, mediator)
    case.followup_note = _require_text(followup_note, "请填写回访情况", "followup_note", 2000)
    case.archived_at = utcnow()
    transition(case, Action.archive, mediator, followup=case.followup_note)


# ---- documents --------------------------------------------------------------------------------

def agreement_pdf(case: MediationCase) -> bytes:
    """The 调解协议书 as PDF (reportlab, a Chinese font whose text extracts)."""
    from xml.sax.saxutils import escape

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    from portal.pdf import cjk_font

    font = cjk_font()
    body = ParagraphStyle("body", fontName=font, fontSize=11.5, leading=19, wordWrap="CJK")
    head = ParagraphStyle("head", parent=body, fontSize=13, leading=22, spaceBefore=6)
    title = ParagraphStyle("title", parent=body, fontSize=20, leading=30, alignment=1)
    right = ParagraphStyle("right", parent=body, alignment=2)
    a = case.agreement

    def para(text, style=body):
        return Paragraph(escape(text or "").replace("\n", "<br/>"), style)

    story = [para("人民调解协议书", title), para(f"编号：{case.number}", right), Spacer(1, 4 * mm),
             para("当事人", head)]
    story.append(para(f"申请人：{case.applicant.real_name}，身份证号码 {case.applicant.masked_id_number}，"
                      f"联系电话 {case.applicant.masked_mobile}"))
    for r in case.respondents:
        ident = f"，身份证号码 {r.masked_id_number}" if r.id_number_enc else ""
        story.append(para(f"被申请人：{r.name}{ident}，联系电话 {_mask(r.mobile)}"))
    for label, text in (("纠纷的主要事实", a.main_facts), ("争议事项", a.disputed_matters),
                        ("各方当事人的责任", a.responsibilities), ("经调解，双方自愿达成如下协议", a.terms)):
        story += [para(label, head), para(text)]
    story += [para("履行方式、地点和期限", head),
              para(f"履行方式：{a.performance_manner}；履行地点：{a.performance_place}；"
                   f"履行期限：{a.performance_deadline:%Y年%m月%d日}前。"),
              para("本协议经各方当事人签名、人民调解员签名并加盖人民调解委员会印章后生效，具有法律约束力，"
                   "当事人应当按照约定履行（《人民调解法》第三十一条）。双方当事人可以自本协议生效之日起三十日内"
                   "共同向人民法院申请司法确认（《人民调解法》第三十三条）。"),
              Spacer(1, 4 * mm), para("签署", head)]
    for s in a.signatures:
        story.append(para(f"{s.capacity_label}：{s.typed_name}（电子签名，{_bj(s.signed_at)}）"))
    story += [Spacer(1, 6 * mm), para(case.organisation.name + "（印）", right),
              para(f"{_bj(case.settled_at or utcnow())[:11]}", right)]
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=22 * mm, rightMargin=22 * mm, topMargin=20 * mm,
                            bottomMargin=20 * mm, title="人民调解协议书", author=case.organisation.name)
    doc.build(story)
    return buf.getvalue()


def _mask(mobile: str) -> str:
    from portal.identity import mask_mobile

    return mask_mobile(mobile)


def _bj(value: dt.datetime) -> str:
    return (value + dt.timedelta(hours=8)).strftime("%Y年%m月%d日 %H:%M")


def timeline(case: MediationCase) -> list[dict]:
    """The case's audit records in order, as (time, actor, action label, state after)."""
    from portal.mediation.models import STATE_LABELS
    from portal.mediation.states import ACTION_LABELS

    labels = {f"mediation.{k.value}": v for k, v in ACTION_LABELS.items()}
    labels.update({"mediation.apply": "提交申请", "mediation.invite_redeemed": "被申请人通过邀请确认身份",
                   "mediation.transcript": "调解笔录归入卷宗"})
    items = []
    for rec in audit.trail_for("mediation_case", case.id):
        d = rec.detail_dict
        to = d.get("to")
        items.append({"at": rec.created_at, "action": labels.get(rec.action, rec.action),
                      "state": STATE_LABELS.get(CaseState(to)) if to in CaseState.__members__ else None,
                      "moved": bool(to and d.get("from") != to)})
    return items


def export_dossier(case: MediationCase) -> bytes:
    """The dossier (一案一卷) as a ZIP: application, evidence, sessions, transcripts and recordings,
    the agreement PDF and the audit trail."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        lines = [f"案号：{case.number}", f"状态：{case.state_label}", f"调解组织：{case.organisation.name}",
                 f"申请人：{case.applicant.real_name}（{case.applicant.masked_mobile}）"]
        lines += [f"被申请人：{r.name}（{_mask(r.mobile)}）：{r.consent_label}" for r in case.respondents]
        lines += [f"纠纷类型：{case.dispute_type}", f"纠纷发生地：{case.region.full_name}",
                  f"争议金额：{case.amount if case.amount is not None else '未填写'}",
                  f"申请时间：{_bj(case.created_at)}", "", "事实和理由：", case.facts, "", "调解请求：", case.claims]
        if case.mediator:
            lines.append(f"\n调解员：{case.mediator.real_name}")
        if case.end_reason:
            lines.append(f"\n终结原因：{case.end_reason}")
        if case.referral:
            lines.append(f"建议途径：{REFERRALS.get(case.referral, case.referral)}")
        if case.followup_note:
            lines.append(f"\n回访情况：{case.followup_note}")
        z.writestr("01_申请书.txt", "\n".join(lines))
        sess = [f"{_bj(s.starts_at)}  {s.mode_label}  {s.place or ''}{'  调解室 ' + str(s.room_id) if s.room_id else ''}"
                for s in case.sessions]
        z.writestr("03_调解安排.txt", "\n".join(sess) or "无")
        for att in attachments_of("mediation_case", case.id):
            folder = "02_证据" if att.uploader_id == case.applicant_id else "04_笔录与录音"
            path = attachment_path(att)
            if path.exists():
                z.write(path, f"{folder}/{att.id}_{att.original_name}")
        if case.agreement and case.agreement.pdf_attachment_id:
            from portal.uploads import Attachment

            att = db.session.get(Attachment, case.agreement.pdf_attachment_id)
            z.write(attachment_path(att), "05_调解协议书.pdf")
        trail = [{"时间": _bj(r.created_at), "操作": r.action, "操作人": r.actor_id, "详情": r.detail_dict,
                  "IP": r.ip, "哈希": r.hash} for r in audit.trail_for("mediation_case", case.id)]
        z.writestr("06_操作记录.json", json.dumps(trail, ensure_ascii=False, indent=2))
    return buf.getvalue()


def file_transcript(room, transcript_text: str = "", transcript_pdf: bytes = b"", **_) -> None:
    """Receiver of ``mediation_room.signals.room_ended``: file the transcript into the dossier
    (the PDF when given, else the text), in the sender's transaction."""
    session = db.session.execute(select(MediationSession).where(MediationSession.room_id == room.id)).scalar_one_or_none()
    if session is None:
        return
    case = session.case
    n = 0
    if transcript_pdf:
        save_upload(FileStorage(io.BytesIO(transcript_pdf), filename=f"调解笔录_{session.id}.pdf"),
                    "mediation_case", case.id, None, PDF_TYPES)
        n += 1
    if transcript_text and not transcript_pdf:
        store_generated("mediation_case", case.id, transcript_text.encode(), f"调解笔录_{session.id}.txt",
                        "text/plain", "txt")
        n += 1
    if n:
        # Sent inside the transaction that ends the room: the sender commits.
        audit.record(None, "mediation.transcript", "mediation_case", case.id, session=session.id, room=room.id)
