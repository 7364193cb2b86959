"""Consultation views: load (404) → permission (403/404) → operation → commit → respond."""
from __future__ import annotations

import nh3
from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup

from portal.consultation import bp, indexing
from portal.consultation import permissions as perm
from portal.consultation.forms import (
    ConsultationActionForm,
    ConsultationAnswerForm,
    ConsultationAskForm,
    ConsultationCloseForm,
    ConsultationFollowUpForm,
    ConsultationSearchForm,
    WorkerCategoriesForm,
)
from portal.consultation.models import CATEGORIES, Consultation, utcnow
from portal.consultation.operations import (
    TRANSITIONS,
    ConsultationError,
    answer_consultation,
    ask_question,
    asked_by,
    browse_public,
    claim_consultation,
    claimed_by,
    close_consultation,
    follow_up_consultation,
    queue_for,
    related_case_links,
    release_consultation,
    set_worker_categories,
    sla_hours,
    worker_categories,
)
from portal.extensions import db
from portal.places.operations import region_by_code
from portal.security import RateLimiter
from portal.uploads import attachments_of

PER_PAGE = 10
suggest_limiter = RateLimiter(limit=120, window=60, name="consultation-suggest")
#: Questions posted per client address (across processes when the counters are in Redis).
ask_limiter = RateLimiter(limit=10, window=3600, name="consultation-ask")


def _load(consultation_id: int) -> Consultation:
    c = db.session.get(Consultation, consultation_id)
    if c is None or not perm.can_view(current_user, c):
        abort(404)  # private questions do not exist for outsiders
    return c


def _page_arg() -> int:
    try:
        return max(1, min(int(request.args.get("page", 1)), 1000))
    except ValueError:
        return 1


# ---- public browsing and search -------------------------------------------------------------

@bp.get("/")
def index():
    form = ConsultationSearchForm(request.args)
    form.validate()
    q = (form.q.data or "").strip() if not form.q.errors else ""
    category = request.args.get("category") or ""
    if category not in CATEGORIES:
        category = ""
    page = _page_arg()
    results, items, total, facets = None, [], 0, []
    if q:
        results = indexing.search(q, category or None, page=page, pagelen=PER_PAGE)
        total, facets = results.total, results.facets.get("category", [])
        ids = [int(h.id) for h in results.hits]
        found = {c.id: c for c in db.session.execute(
            db.select(Consultation).where(Consultation.id.in_(ids), Consultation.is_public.is_(True))).scalars()}
        for h in results.hits:
            c = found.get(int(h.id))
            if c is not None:
                items.append((c, _safe_highlight(h.highlights.get("title")),
                              _safe_highlight(h.highlights.get("body"))))
    else:
        rows, total = browse_public(category or None, page, PER_PAGE)
        items = [(c, None, None) for c in rows]
    pages = max(1, -(-total // PER_PAGE))
    return render_template("consultation/index.html", form=form, q=q, category=category, items=items,
                           total=total, page=page, pages=pages, facets=facets, categories=CATEGORIES,
                           mask=_public_masker)


def _safe_highlight(html: str | None):
    if not html:
        return None
    return Markup(nh3.clean(html, tags={"mark"}, attributes={}))


def _public_masker(c: Consultation):
    names = [c.asker.real_name]
    return lambda text: indexing.mask_personal(text, names)


@bp.get("/suggest")
def suggest():
    """Similar answered public questions while the asker types the title (JSON)."""
    if not suggest_limiter.hit(request.remote_addr or "?"):
        return jsonify(error="请求过于频繁", items=[]), 429
    title = (request.args.get("q") or "")[:100]
    items = indexing.suggest(title)
    for it in items:
        it["url"] = url_for("consultation.view_consultation", consultation_id=it["id"])
    return jsonify(items=items)


# ---- asking ---------------------------------------------------------------------------------

@bp.route("/ask", methods=["GET", "POST"])
@login_required
def ask():
    form = ConsultationAskForm()
    if form.validate_on_submit():
        region = region_by_code(form.region_code.data)
        if not ask_limiter.hit(request.remote_addr or "?"):
            form.title.errors = [*form.title.errors, "提问过于频繁，请稍后再试"]
        elif region is None:
            form.region_code.errors.append("找不到该地区，请重新选择")
        else:
            try:
                c = ask_question(current_user, category=form.category.data, region=region,
                                 title=form.title.data, question=form.question.data,
                                 is_public=form.visibility.data == "public",
                                 files=request.files.getlist(form.attachments.name))
                db.session.commit()
            except ConsultationError as exc:
                db.session.rollback()
                _attach_error(form, exc, "title")
            else:
                flash("您的问题已提交，法律服务工作者将尽快解答（一般在5小时内）", "success")
                return redirect(url_for("consultation.view_consultation", consultation_id=c.id))
    elif request.method == "GET" and request.args.get("title"):
        form.title.data = request.args.get("title", "")[:60]
    status = 200 if not form.errors else 422
    return render_template("consultation/ask.html", form=form), status


def _attach_error(form, exc: ConsultationError, default_field: str):
    field = getattr(form, exc.field or default_field, None) or getattr(form, default_field)
    if isinstance(field.errors, tuple):
        field.errors = list(field.errors)
    field.errors.append(str(exc))


# ---- one consultation -----------------------------------------------------------------------

@bp.get("/<int:consultation_id>")
def view_consultation(consultation_id: int):
    c = _load(consultation_id)
    return _render_detail(c)


def _render_detail(c: Consultation, status: int = 200, error: str | None = None, **forms):
    private = perm.can_view_private_parts(current_user, c)
    names = [] if private else [c.asker.real_name]

    def show(text: str) -> str:
        return text if private else indexing.mask_personal(text, names)

    thread = []
    for m in c.messages:
        if m.is_answer:
            thread.append((m, Markup(show(m.body))))
        else:
            thread.append((m, show(m.body)))
    ctx = {
        "c": c, "private": private, "show": show, "thread": thread, "error": error,
        "attachments": attachments_of("consultation", c.id) if private else [],
        "answer_form": forms.get("answer_form") or ConsultationAnswerForm(formdata=None),
        "follow_up_form": forms.get("follow_up_form") or ConsultationFollowUpForm(formdata=None),
        "close_form": forms.get("close_form") or ConsultationCloseForm(formdata=None),
        "action_form": ConsultationActionForm(formdata=None),
        "can_claim": perm.can_claim(current_user, c), "can_release": perm.can_release(current_user, c),
        "can_answer": perm.can_answer(current_user, c), "can_follow_up": perm.can_follow_up(current_user, c),
        "can_close": perm.can_close(current_user, c),
        "overdue": c.is_overdue(sla_hours()), "sla": sla_hours(), "related_cases": related_case_links(c),
    }
    return render_template("consultation/detail.html", **ctx), status


def _act(c: Consultation, fn, *args, form=None, default_field=None, done: str, **kwargs):
    """Run an operation on ``c``, commit, and come back to the page (or show why not)."""
    try:
        fn(current_user, c, *args, **kwargs)
        db.session.commit()
    except ConsultationError as exc:
        db.session.rollback()
        db.session.refresh(c)
        if form is not None and exc.field:
            _attach_error(form, exc, default_field)
            return _render_detail(c, exc.status, **{_form_key(form): form})
        return _render_detail(c, exc.status, error=str(exc))
    flash(done, "success")
    return redirect(url_for("consultation.view_consultation", consultation_id=c.id), code=303)


def _form_key(form) -> str:
    return {ConsultationAnswerForm: "answer_form", ConsultationFollowUpForm: "follow_up_form",
            ConsultationCloseForm: "close_form"}[type(form)]


def _refuse_before_form(c: Consultation, who_may, action: str):
    """Permission before input: someone who may never take ``action`` on ``c`` (not its asker, not
    its claiming worker) is refused with 403 and the state machine's message, before the form is
    read; the state (409) and the input (422) are for those who may."""
    if who_may(current_user, c):
        return None
    return _render_detail(c, 403, error=next(t.refusal for t in TRANSITIONS if t.action == action))


@bp.post("/<int:consultation_id>/claim")
@login_required
def claim(consultation_id: int):
    c = db.session.get(Consultation, consultation_id)
    # A worker in the area may claim an open private question before they may read it.
    if c is None or not (perm.can_view(current_user, c) or perm.can_claim(current_user, c)):
        abort(404)
    try:
        claim_consultation(current_user, c)
        db.session.commit()
    except ConsultationError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        if perm.can_view(current_user, c):
            return _render_detail(c, exc.status, error=str(exc))
        return redirect(url_for("consultation.queue"), code=303)
    flash("认领成功，请尽快解答", "success")
    return redirect(url_for("consultation.view_consultation", consultation_id=c.id), code=303)


@bp.post("/<int:consultation_id>/release")
@login_required
def release(consultation_id: int):
    c = _load(consultation_id)
    return _act(c, release_consultation, done="已放弃认领，该咨询已回到待解答队列")


@bp.post("/<int:consultation_id>/answer")
@login_required
def answer(consultation_id: int):
    c = _load(consultation_id)
    if (refused := _refuse_before_form(c, perm.is_claimer, "answer")) is not None:
        return refused
    form = ConsultationAnswerForm()
    if not form.validate_on_submit():
        return _render_detail(c, 422, answer_form=form)
    return _act(c, answer_consultation, form.body.data, form.related_cases.data or "", form=form,
                default_field="body", done="解答已发布，提问人会收到通知")


@bp.post("/<int:consultation_id>/follow-up")
@login_required
def follow_up(consultation_id: int):
    c = _load(consultation_id)
    if (refused := _refuse_before_form(c, perm.is_asker, "follow_up")) is not None:
        return refused
    form = ConsultationFollowUpForm()
    if not form.validate_on_submit():
        return _render_detail(c, 422, follow_up_form=form)
    return _act(c, follow_up_consultation, form.text.data, form=form, default_field="text",
                done="追问已提交，原解答人会继续为您解答")


@bp.post("/<int:consultation_id>/close")
@login_required
def close(consultation_id: int):
    c = _load(consultation_id)
    if (refused := _refuse_before_form(c, perm.is_asker, "close")) is not None:
        return refused
    form = ConsultationCloseForm()
    if not form.validate_on_submit():
        return _render_detail(c, 422, close_form=form)
    return _act(c, close_consultation, form.rating.data, form.comment.data, form=form,
                default_field="rating", done="感谢您的评价，本次咨询已办结")


# ---- the legal worker's queue ---------------------------------------------------------------

@bp.get("/queue")
@login_required
def queue():
    if not perm.can_view_queue(current_user):
        abort(403)
    page = _page_arg()
    rows, total = queue_for(current_user, page, 20)
    now = utcnow()
    return render_template(
        "consultation/queue.html", rows=rows, total=total, page=page, pages=max(1, -(-total // 20)),
        mine=claimed_by(current_user, ("claimed",)), now=now, sla=sla_hours(), areas=perm.service_areas(current_user),
        categories=worker_categories(current_user), action_form=ConsultationActionForm(formdata=None),
    )


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    if not perm.is_legal_worker(current_user):
        abort(403)
    form = WorkerCategoriesForm()
    if form.validate_on_submit():
        try:
            set_worker_categories(current_user, form.categories.data or [])
            db.session.commit()
        except ConsultationError as exc:
            db.session.rollback()
            _attach_error(form, exc, "categories")
        else:
            flash("擅长领域已保存", "success")
            return redirect(url_for("consultation.queue"))
    elif request.method == "GET":
        form.categories.data = worker_categories(current_user)
    return render_template("consultation/settings.html", form=form), 200 if not form.errors else 422


@bp.get("/mine")
@login_required
def mine():
    return render_template("consultation/mine.html", rows=asked_by(current_user),
                           claimed=claimed_by(current_user, ("claimed", "answered", "closed"))
                           if perm.is_legal_worker(current_user) else [])


@bp.app_template_filter("age_label")
def age_label(value, now=None) -> str:
    """How long ago: 3分钟 / 2小时 / 4天."""
    seconds = max(0, int(((now or utcnow()) - value).total_seconds()))
    if seconds < 3600:
        return f"{max(1, seconds // 60)}分钟"
    if seconds < 86400:
        return f"{seconds // 3600}小时{(seconds % 3600) // 60}分钟"
    return f"{seconds // 86400}天"


