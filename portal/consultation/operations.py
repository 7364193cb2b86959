"""Consultation operations: plain functions taking the acting user, tested without HTTP.

Each one validates its input first (raising :class:`ConsultationError` with a Chinese message and
the form field it concerns), then makes the change through :func:`transition`, writes the audit
record and the notices in the same transaction. The caller commits; on an error it rolls back,
so nothing is half-saved.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import util as importlib_util

from flask import current_app, url_for
from sqlalchemy import delete, select, update
from werkzeug.routing import BuildError

from portal import audit
from portal.consultation import indexing
from portal.consultation import permissions as perm
from portal.consultation.models import (
    ANSWER_MAX,
    CATEGORIES,
    COMMENT_MAX,
    FOLLOW_UP_MAX,
    QUESTION_MAX,
    TITLE_MAX,
    Consultation,
    ConsultationMessage,
    ConsultationState,
    MessageKind,
    WorkerCategory,
    utcnow,
)
from portal.extensions import db
from portal.notifications import notify
from portal.places.models import Region
from portal.text import clean_text, plain_text, sanitize_html
from portal.uploads import IMAGE_TYPES, PDF_TYPES, UploadError, save_upload

MAX_ATTACHMENTS = 3
ATTACHMENT_TYPES = {**IMAGE_TYPES, **PDF_TYPES}
OWNER_TYPE = "consultation"


class ConsultationError(ValueError):
    """A refused action or bad input, with a Chinese message and the form field it concerns."""

    def __init__(self, message: str, field: str | None = None, status: int = 422):
        super().__init__(message)
        self.field = field
        #: 422 bad input, 403 not this user's to do, 409 the question is not (or no longer) in that state.
        self.status = status


# ---- the state machine ----------------------------------------------------------------------

@dataclass(frozen=True)
class Transition:
    source: ConsultationState
    action: str
    target: ConsultationState
    #: Who may take it: a permission function of (user, consultation).
    allowed: object
    refusal: str


S = ConsultationState
#: The consultation state machine as data (DESIGN.md §4): (from, action, to, who).
TRANSITIONS = (
    Transition(S.open, "claim", S.claimed, perm.can_claim, "只有服务地区内的法律服务工作者可以认领该咨询"),
    Transition(S.claimed, "release", S.open, perm.can_release, "只有认领该咨询的法律服务工作者可以放弃认领"),
    Transition(S.claimed, "answer", S.answered, perm.can_answer, "该咨询已由其他法律服务工作者认领，您不能解答"),
    Transition(S.answered, "follow_up", S.claimed, perm.can_follow_up, "只有提问人可以追问"),
    Transition(S.answered, "close", S.closed, perm.can_close, "只有提问人可以办结并评价该咨询"),
)
ACTION_LABELS = {"claim": "认领", "release": "放弃认领", "answer": "解答", "follow_up": "追问", "close": "办结"}


def transition(c: Consultation, action: str, actor, **values) -> Consultation:
    """Move ``c`` by ``action`` if the table allows it from its state and ``actor`` may take it.

    The row is changed with a conditional ``UPDATE ... WHERE state = <from>`` (and, where a worker
    is bound, ``worker_id``), so of two people acting at once exactly one wins; the other is told
    the question has moved on. ``values`` are further columns to set.
    """
    step = next((t for t in TRANSITIONS if t.action == action and t.source == c.state), None)
    if step is None:
        raise ConsultationError(
            f"该咨询当前状态为“{c.state_label}”，不能{ACTION_LABELS.get(action, action)}", status=409)
    if not step.allowed(actor, c):
        raise ConsultationError(step.refusal, status=403)
    source_worker = c.worker_id
    stmt = (update(Consultation)
            .where(Consultation.id == c.id, Consultation.state == step.source.value)
            .values(state=step.target.value, **values))
    if step.source != S.open:
        stmt = stmt.where(Consultation.worker_id == source_worker)
    result = db.session.execute(stmt.execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.expire(c)
        if action == "claim":
            raise ConsultationError("手慢了：该咨询刚刚已被其他法律服务工作者认领", status=409)
        raise ConsultationError("该咨询的状态刚刚已被他人改变，请刷新页面后查看", status=409)
    db.session.expire(c)
    audit.record(actor, f"consultation.{action}", "consultation", c.id,
                 from_state=step.source.value, to_state=step.target.value)
    return c


# ---- asking ---------------------------------------------------------------------------------

def _require_text(value: str | None, field: str, label: str, max_len: int, min_len: int = 1,
                  keep_newlines: bool = True) -> str:
    text = clean_text(value, keep_newlines=keep_newlines)
    if not text:
        raise ConsultationError(f"请填写{label}", field)
    if len(text) < min_len:
        raise ConsultationError(f"{label}过短，请至少写{min_len}个字", field)
    if len(text) > max_len:
        raise ConsultationError(f"{label}不能超过{max_len}个字（现有{len(text)}字）", field)
    return text


def ask_question(actor, *, category: str, region: Region | None, title: str, question: str,
                 is_public: bool = True, files=()) -> Consultation:
    """A citizen asks. Up to three images or PDFs (checked by content, 10 MB each)."""
    if not perm.can_ask(actor):
        raise ConsultationError("请先登录后再提问", status=403)
    if category not in CATEGORIES:
        raise ConsultationError("请选择咨询类别", "category")
    if region is None:
        raise ConsultationError("请选择所在地区", "region_code")
    if region.level < 3:
        raise ConsultationError("请至少选择到县（市、区）一级", "region_code")
    title = _require_text(title, "title", "标题", TITLE_MAX, 4, keep_newlines=False)
    question = _require_text(question, "question", "问题描述", QUESTION_MAX, 10)
    files = [f for f in files if f is not None and getattr(f, "filename", "")]
    if len(files) > MAX_ATTACHMENTS:
        raise ConsultationError(f"最多上传{MAX_ATTACHMENTS}个附件", "attachments")
    now = utcnow()
    c = Consultation(asker_id=actor.id, category=category, region_id=region.id, title=title,
                     question=question, is_public=bool(is_public), state=S.open.value,
                     created_at=now, waiting_since=now)
    db.session.add(c)
    db.session.flush()
    try:
        for f in files:
            save_upload(f, OWNER_TYPE, c.id, actor, ATTACHMENT_TYPES)
    except UploadError as exc:
        raise ConsultationError(str(exc), "attachments") from None
    audit.record(actor, "consultation.ask", "consultation", c.id, category=category, region=region.code,
                 public=bool(is_public), attachments=len(files))
    return c


# ---- the legal worker's side ----------------------------------------------------------------

def claim_consultation(actor, c: Consultation) -> Consultation:
    """Take an open question; of two workers claiming at once, one wins and the other is told."""
    return transition(c, "claim", actor, worker_id=actor.id, claimed_at=utcnow())


def release_consultation(actor, c: Consultation) -> Consultation:
    """Give back a claimed, not yet answered question to the queue."""
    return transition(c, "release", actor, worker_id=None, claimed_at=None)


def _validate_case_ids(raw: str | None) -> str:
    """Related exemplary cases, as ids or links ending in an id; checked against the case library
    when it is installed (only published cases may be linked)."""
    raw = (raw or "").replace("，", ",").replace("、", ",").replace(" ", ",")
    ids: list[int] = []
    for part in filter(None, (p.strip() for p in raw.split(","))):
        tail = part.rstrip("/").rsplit("/", 1)[-1]
        if not tail.isdigit() or len(tail) > 9:
            raise ConsultationError(f"“{part[:40]}”不是有效的案例编号或案例链接", "related_cases")
        if int(tail) not in ids:
            ids.append(int(tail))
    if len(ids) > 5:
        raise ConsultationError("最多关联5个典型案例", "related_cases")
    if ids:
        checker = _published_case_checker()
        if checker is not None:
            missing = [i for i in ids if not checker(i)]
            if missing:
                raise ConsultationError(
                    f"找不到已发布的典型案例：{'、'.join(map(str, missing))}", "related_cases")
    return ",".join(map(str, ids))


def _published_case_checker():
    """``id -> bool`` from the case library, or None while it is not installed."""
    if importlib_util.find_spec("case_library") is None or importlib_util.find_spec("case_library.models") is None:
        return None
    import case_library.models as cl

    fn = getattr(cl, "is_published_case", None)
    if callable(fn):
        return fn
    model = getattr(cl, "ExemplaryCase", None) or getattr(cl, "Case", None)
    if model is None:
        return None

    def check(case_id: int) -> bool:
        obj = db.session.get(model, case_id)
        if obj is None:
            return False
        state = getattr(obj, "state", None)
        return state is None or str(state) == "published"

    return check


def related_case_links(c: Consultation) -> list[dict]:
    """The related cases still published (title and link); plain links while no case library."""
    ids = c.related_cases
    if not ids:
        return []
    checker = _published_case_checker()
    if checker is None:
        return [{"id": i, "title": f"典型案例 {i}", "url": f"/cases/{i}"} for i in ids]
    import case_library.models as cl

    model = getattr(cl, "ExemplaryCase", None)
    links = []
    for i in ids:
        if checker(i):
            obj = db.session.get(model, i) if model is not None else None
            title = getattr(obj, "title", None) or f"典型案例 {i}"
            try:
                url = url_for("case_library.show_case", case_id=i)
            except (BuildError, RuntimeError):  # routes not registered, or no request to build in
                url = f"/cases/{i}"
            links.append({"id": i, "title": title, "url": url})
    return links


def answer_consultation(actor, c: Consultation, body_html: str, related_cases: str | None = None) -> ConsultationMessage:
    """The claiming worker answers (rich text, sanitised); the asker gets an inbox notice."""
    body = sanitize_html(body_html or "")
    if "<" not in body and body.strip():  # plain text: keep its paragraphs
        body = sanitize_html("".join(f"<p>{line}</p>" for line in body.split("\n") if line.strip()))
    text = plain_text(body)
    if not text:
        raise ConsultationError("请填写解答内容", "body")
    if len(text) < 10:
        raise ConsultationError("解答内容过短，请至少写10个字", "body")
    if len(text) > ANSWER_MAX or len(body) > ANSWER_MAX * 3:
        raise ConsultationError(f"解答内容不能超过{ANSWER_MAX}个字", "body")
    cases = _validate_case_ids(related_cases)
    now = utcnow()
    first = c.first_answered_at
    values = {"answered_at": now, "first_answered_at": first or now}
    if related_cases is not None:
        values["related_case_ids"] = cases
    transition(c, "answer", actor, **values)
    msg = ConsultationMessage(consultation_id=c.id, author_id=actor.id, kind=MessageKind.answer.value,
                              body=body, created_at=now)
    db.session.add(msg)
    db.session.flush()
    notify(c.asker_id, f"您的法律咨询“{c.title}”已有解答",
           "法律服务工作者已解答您的问题，请查看；如仍有疑问可以追问，满意后请办结并评价。",
           _link(c))
    indexing.mark_for_index(c)
    return msg


# ---- the asker's side -----------------------------------------------------------------------

def follow_up_consultation(actor, c: Consultation, text: str) -> ConsultationMessage:
    """The asker asks again; the question returns to the same legal worker, who is notified."""
    text = _require_text(text, "text", "追问内容", FOLLOW_UP_MAX, 2)
    now = utcnow()
    transition(c, "follow_up", actor, waiting_since=now)
    msg = ConsultationMessage(consultation_id=c.id, author_id=actor.id, kind=MessageKind.follow_up.value,
                              body=text, created_at=now)
    db.session.add(msg)
    db.session.flush()
    notify(c.worker_id, f"咨询“{c.title}”有新的追问", "提问人对您的解答提出了追问，请及时答复。", _link(c))
    indexing.mark_for_index(c)
    return msg


def close_consultation(actor, c: Consultation, rating, comment: str | None = "") -> Consultation:
    """The asker closes the question and rates the answer 1–5 with an optional comment."""
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        raise ConsultationError("请为解答打分（1至5星）", "rating") from None
    if not 1 <= rating <= 5:
        raise ConsultationError("评分应为1至5星", "rating")
    comment = clean_text(comment or "")
    if len(comment) > COMMENT_MAX:
        raise ConsultationError(f"评价内容不能超过{COMMENT_MAX}个字（现有{len(comment)}字）", "comment")
    transition(c, "close", actor, closed_at=utcnow(), rating=rating, rating_comment=comment)
    audit.record(actor, "consultation.rate", "consultation", c.id, rating=rating)
    notify(c.worker_id, f"咨询“{c.title}”已办结，评分{rating}星", comment[:200], _link(c))
    indexing.mark_for_index(c)
    return c


# ---- worker settings ------------------------------------------------------------------------

def worker_categories(user) -> list[str]:
    """The categories a worker takes; an empty list means all of them."""
    return list(db.session.execute(
        select(WorkerCategory.category).where(WorkerCategory.user_id == user.id).order_by(WorkerCategory.id)
    ).scalars())


def set_worker_categories(actor, categories: list[str]) -> list[str]:
    if not perm.is_legal_worker(actor):
        raise ConsultationError("只有法律服务工作者可以设置擅长领域", status=403)
    unknown = [x for x in categories if x not in CATEGORIES]
    if unknown:
        raise ConsultationError(f"未知的咨询类别：{'、'.join(unknown)}", "categories")
    chosen = [x for x in CATEGORIES if x in categories]
    if len(chosen) == len(CATEGORIES):
        chosen = []  # all = no restriction
    db.session.execute(delete(WorkerCategory).where(WorkerCategory.user_id == actor.id))
    db.session.add_all(WorkerCategory(user_id=actor.id, category=x) for x in chosen)
    db.session.flush()
    audit.record(actor, "consultation.worker_categories", "user_account", actor.id, categories=chosen)
    return chosen


# ---- queries --------------------------------------------------------------------------------

def sla_hours() -> float:
    return float(current_app.config.get("CONSULTATION_SLA_HOURS", 5))


def queue_for(user, page: int = 1, per_page: int = 20):
    """Open questions in the worker's service area and categories, oldest first."""
    areas = perm.service_areas(user)
    if not areas:
        return [], 0
    cats = worker_categories(user)
    stmt = (select(Consultation).join(Region, Consultation.region_id == Region.id)
            .where(Consultation.state == S.open.value, Consultation.asker_id != user.id)
            .where(db.or_(*[Region.code.startswith(a.code_prefix) for a in areas])))
    if cats:
        stmt = stmt.where(Consultation.category.in_(cats))
    total = db.session.execute(select(db.func.count()).select_from(stmt.subquery())).scalar_one()
    rows = db.session.execute(
        stmt.order_by(Consultation.waiting_since, Consultation.id).limit(per_page).offset((page - 1) * per_page)
    ).scalars().all()
    return rows, total


def claimed_by(user, states=("claimed", "answered")) -> list[Consultation]:
    return list(db.session.execute(
        select(Consultation).where(Consultation.worker_id == user.id, Consultation.state.in_(states))
        .order_by(Consultation.waiting_since)
    ).scalars())


def asked_by(user, limit: int | None = None) -> list[Consultation]:
    stmt = select(Consultation).where(Consultation.asker_id == user.id).order_by(Consultation.id.desc())
    if limit:
        stmt = stmt.limit(limit)
    return list(db.session.execute(stmt).scalars())


def browse_public(category: str | None = None, page: int = 1, per_page: int = 10):
    """Answered public questions, newest answer first (the list without a search word)."""
    stmt = select(Consultation).where(Consultation.is_public.is_(True),
                                      Consultation.first_answered_at.is_not(None))
    if category:
        stmt = stmt.where(Consultation.category == category)
    total = db.session.execute(select(db.func.count()).select_from(stmt.subquery())).scalar_one()
    rows = db.session.execute(stmt.order_by(Consultation.first_answered_at.desc(), Consultation.id.desc())
                              .limit(per_page).offset((page - 1) * per_page)).scalars().all()
    return rows, total


def _link(c: Consultation) -> str:
    try:
        return url_for("consultation.view_consultation", consultation_id=c.id)
    except RuntimeError:
        return f"/consultation/{c.id}"
