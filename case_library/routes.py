"""Views of the case library: thin (load → permission → operation → commit → respond)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from case_library import bp, operations, permissions
from case_library.anonymise import detect_names
from case_library.forms import (
    CaseEditForm,
    FeatureForm,
    RepublishForm,
    ReviewChainForm,
    ReviewForm,
    SubmitCaseForm,
    UnpublishForm,
    field_name,
)
from case_library.models import LEVEL_LABELS, SECTIONS, CaseState, ExemplaryCase
from case_library.operations import CaseError
from case_library.search import FACETS, cases_index
from portal.accounts.models import ReviewTier
from portal.extensions import db
from portal.places.models import DISPUTE_TYPES, Region
from portal.places.operations import region_by_code

SORTS = {"relevance": "相关度", "date": "发布时间"}


def _load(case_id: int) -> ExemplaryCase:
    case = db.session.get(ExemplaryCase, case_id)
    if case is None or not permissions.can_view(current_user, case):
        abort(404)
    return case


def _int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _region_names(codes) -> dict[str, str]:
    codes = [c for c in codes if c]
    if not codes:
        return {}
    rows = db.session.execute(select(Region).where(Region.code.in_(codes))).scalars()
    return {r.code: r.full_name for r in rows}


# ---- public library --------------------------------------------------------------------------

@bp.get("/")
def index():
    q = (request.args.get("q") or "").strip()[:10000]
    filters = {f: (request.args.get(f) or "").strip()[:40] for f in FACETS}
    filters = {k: v for k, v in filters.items() if v}
    sort = request.args.get("sort") if request.args.get("sort") in SORTS else "relevance"
    page = max(1, min(_int(request.args.get("page"), 1), 1000))
    searching = bool(q or filters or request.args.get("page"))
    sort_field = "published" if (sort == "date" or not q) else None
    result = cases_index.search(q, filters=filters, facets=FACETS, page=page, pagelen=10, sort=sort_field,
                                reverse=True, highlight_fields=["body", "title"])
    featured = newest = []
    if not searching:
        featured = cases_index.search("", filters={"featured": "1"}, sort="published", pagelen=4).hits
        newest = cases_index.search("", sort="published", pagelen=6).hits
    region_names = _region_names([v for v, _ in result.facets.get("region", [])] + [filters.get("region")])
    return render_template(
        "case_library/index.html", q=q, filters=filters, sort=sort, sorts=SORTS, result=result,
        featured=featured, newest=newest, searching=searching, region_names=region_names,
        level_labels=LEVEL_LABELS, facet_labels={"dispute_type": "纠纷类型", "region": "地区", "level": "案例级别",
                                                 "year": "年份"},
    )


@bp.get("/<int:case_id>")
def show_case(case_id: int):
    case = _load(case_id)
    related = []
    if case.state == CaseState.published:
        related = cases_index.search(" ".join([case.title, *case.keyword_list]), exclude_ids=[str(case.id)],
                                     pagelen=5, require_all=False).hits
    return render_template(
        "case_library/case.html", case=case, sections=SECTIONS, related=related,
        can_unpublish=permissions.can_unpublish(current_user, case),
        can_republish=permissions.can_republish(current_user, case),
        can_feature=permissions.can_feature(current_user, case),
        can_edit=permissions.can_edit(current_user, case),
        can_review=permissions.can_review(current_user, case),
        unpublish_form=UnpublishForm(version=case.version), feature_form=FeatureForm(),
        republish_form=RepublishForm(version=case.version),
    )


# ---- authoring -------------------------------------------------------------------------------

@bp.get("/mine")
@login_required
def my_cases():
    if not permissions.can_author(current_user):
        abort(403)
    return render_template("case_library/mine.html", cases=operations.authored_by(current_user),
                           archived=operations.archived_cases_for(current_user),
                           mediation_available=operations.mediation_available())


def _fields(form) -> dict:
    return {"title": form.title.data or "", "dispute_type": form.dispute_type.data or "",
            "keywords": form.keywords.data or "", **{k: getattr(form, field_name(k)).data or "" for k in SECTIONS}}


@bp.route("/new", methods=["GET", "POST"])
@bp.route("/<int:case_id>/edit", methods=["GET", "POST"])
@login_required
def edit_case(case_id: int | None = None):
    case = None
    if case_id is not None:
        case = _load(case_id)
        if not permissions.can_edit(current_user, case):
            abort(403)
    elif not permissions.can_author(current_user):
        abort(403)
    form = CaseEditForm()
    prefilled = None
    if request.method == "GET":
        if case is not None:
            form.process(obj=case)
            form.mediation_process.data = case.process
            form.region_code.data = case.region.code
        elif request.args.get("source"):
            prefilled = operations.prefill_from(current_user, _int(request.args.get("source"), 0))
            if prefilled is None:
                abort(404)
            form.process(data={field_name(k): v for k, v in prefilled.items() if k != "region"})
            form.region_code.data = prefilled["region"].code
            form.source_case_id.data = str(prefilled["source_case_id"])
    if form.validate_on_submit():
        try:
            case = operations.save_draft(
                current_user, case, region=region_by_code(form.region_code.data), fields=_fields(form),
                party_names=form.party_names.data or "",
                source_case_id=_int(form.source_case_id.data) if case is None else case.source_case_id,
            )
            db.session.commit()
        except CaseError as e:
            db.session.rollback()
            _field_error(form, e)
        else:
            flash("草稿已保存", "success")
            if request.form.get("next") == "submit":
                return redirect(url_for("case_library.submit_case", case_id=case.id))
            return redirect(url_for("case_library.edit_case", case_id=case.id))
    return render_template("case_library/edit.html", form=form, case=case, sections=SECTIONS, field_name=field_name,
                           from_source=bool(prefilled or (case and case.source_case_id)),
                           mediation_available=operations.mediation_available())


def _field_error(form, e: CaseError):
    target = getattr(form, e.field, None) if e.field else None
    if target is not None:
        target.errors = list(target.errors) + [str(e)]
    else:
        flash(str(e), "error")


@bp.route("/<int:case_id>/submit", methods=["GET", "POST"])
@login_required
def submit_case(case_id: int):
    case = _load(case_id)
    if not permissions.can_submit(current_user, case):
        abort(403)
    form = SubmitCaseForm()
    candidates = detect_names(case.section_texts(), known=case.party_name_list + case.extra_name_list)
    form.extra_names.choices = [(n, n) for n in candidates]
    error = None
    if form.validate_on_submit():
        chosen = [n for n in (form.extra_names.data or []) if n in candidates]
        try:
            operations.submit(current_user, case, chosen, expected_version=_int(form.version.data))
            db.session.commit()
        except CaseError as e:
            db.session.rollback()
            error = str(e)
        else:
            flash(f"已脱敏并提交{case.tier_enum.label}审核（第{case.revision_count}稿）", "success")
            return redirect(url_for("case_library.my_cases"))
        case = _load(case_id)
    form.version.data = str(case.version)
    preview = operations.anonymised_preview(case, case.extra_name_list)
    return render_template("case_library/submit.html", case=case, form=form, preview=preview,
                           sections={"title": "标题", **SECTIONS}, candidates=candidates, error=error)


# ---- reviewing -------------------------------------------------------------------------------

@bp.get("/review")
@login_required
def review_queue():
    if not permissions.review_grants(current_user):
        abort(403)
    return render_template("case_library/queue.html", cases=operations.review_queue(current_user),
                           age_label=operations.age_label, scopes=operations.reviewer_roles(current_user))


@bp.route("/<int:case_id>/review", methods=["GET", "POST"])
@login_required
def review_case(case_id: int):
    case = _load(case_id)
    if not permissions.review_grants(current_user):
        abort(403)
    form = ReviewForm()
    if form.validate_on_submit():
        version = _int(form.version.data, -1)
        action = form.action.data
        try:
            if action == "approve":
                operations.approve(current_user, case, version, form.comment.data or "")
            elif action == "return":
                operations.return_for_revision(current_user, case, version, form.comment.data or "")
            else:
                operations.reject(current_user, case, version, form.comment.data or "")
            db.session.commit()
        except CaseError as e:
            db.session.rollback()
            if e.field == "comment":
                form.comment.errors = [str(e)]
            else:
                flash(str(e), "error")
            case = _load(case_id)
        else:
            done = {"approve": "已审核通过" + ("并发布" if case.state == CaseState.published else "，已报送上一级"),
                    "return": "已退回撰写人修改", "reject": "已决定不予采用"}[action]
            flash(done, "success")
            return redirect(url_for("case_library.review_queue"))
    elif request.method == "GET" and not permissions.can_review(current_user, case):
        flash("该案例当前不在您的审核队列中" if case.state == CaseState.in_review else
              f"该案例当前状态为“{case.state_label}”", "info")
    form.version.data = str(case.version)
    revision = case.latest_revision
    return render_template("case_library/review.html", case=case, form=form, sections=SECTIONS,
                           diff=operations.revision_diff(case), revision=revision,
                           can_review=permissions.can_review(current_user, case),
                           age=operations.age_label(case.queued_at), section_labels={"title": "标题", **SECTIONS})


@bp.post("/<int:case_id>/unpublish")
@login_required
def unpublish_case(case_id: int):
    case = _load(case_id)
    if not permissions.can_unpublish(current_user, case):
        abort(403)
    form = UnpublishForm()
    if not form.validate_on_submit():
        flash("；".join(e for errs in form.errors.values() for e in errs) or "请填写撤销发布的理由", "error")
        return redirect(url_for("case_library.show_case", case_id=case.id))
    try:
        operations.unpublish(current_user, case, form.reason.data, expected_version=_int(form.version.data))
        db.session.commit()
    except CaseError as e:
        db.session.rollback()
        flash(str(e), "error")
        return redirect(url_for("case_library.show_case", case_id=case_id))
    flash("已撤销发布，该案例已从案例库检索中移除", "success")
    return redirect(url_for("case_library.show_case", case_id=case.id))


@bp.post("/<int:case_id>/republish")
@login_required
def republish_case(case_id: int):
    case = _load(case_id)
    if not permissions.can_republish(current_user, case):
        abort(403)
    form = RepublishForm()
    if not form.validate_on_submit():
        flash("；".join(e for errs in form.errors.values() for e in errs) or "请填写重新发布的理由", "error")
        return redirect(url_for("case_library.show_case", case_id=case.id))
    try:
        operations.republish(current_user, case, form.reason.data, expected_version=_int(form.version.data))
        db.session.commit()
    except CaseError as e:
        db.session.rollback()
        flash(str(e), "error")
        return redirect(url_for("case_library.show_case", case_id=case_id))
    flash("已重新发布，该案例已恢复到案例库检索中", "success")
    return redirect(url_for("case_library.show_case", case_id=case.id))


@bp.post("/<int:case_id>/feature")
@login_required
def feature_case(case_id: int):
    case = _load(case_id)
    if not permissions.can_feature(current_user, case):
        abort(403)
    form = FeatureForm()
    if form.validate_on_submit():
        try:
            operations.set_featured(current_user, case, form.featured.data == "1")
            db.session.commit()
            flash("已设为推荐案例" if case.featured else "已取消推荐", "success")
        except CaseError as e:
            db.session.rollback()
            flash(str(e), "error")
    return redirect(url_for("case_library.show_case", case_id=case_id))


# ---- review chains (administrators) ---------------------------------------------------------

@bp.route("/admin/chains", methods=["GET", "POST"])
@login_required
def admin_chains():
    if not permissions.can_manage_chains(current_user):
        abort(403)
    form = ReviewChainForm()
    form.tiers.choices = [(str(t), t.label) for t in ReviewTier]
    if form.validate_on_submit():
        region = region_by_code(form.region_code.data)
        try:
            if region is None:
                raise CaseError("没有该代码的地区", "region_code")
            if region.level > 3:
                raise CaseError("审核层级按省、市、县（区）配置", "region_code")
            chosen = [t for t in (form.tiers.data or []) if t in {str(x) for x in ReviewTier}]
            operations.set_review_chain(current_user, region, chosen)
            db.session.commit()
        except CaseError as e:
            db.session.rollback()
            _field_error(form, e)
        else:
            flash(f"已保存{region.full_name}的审核层级", "success")
            return redirect(url_for("case_library.admin_chains"))
    elif request.method == "GET":
        region = region_by_code((request.args.get("region") or "")[:12])
        if region is not None:
            form.region_code.data = region.code
            form.tiers.data = [str(t) for t in operations.chain_for(region)]
    return render_template("case_library/chains.html", form=form, chains=operations.review_chains(),
                           default_chain=operations.DEFAULT_CHAIN)


# ---- 我的事项 -------------------------------------------------------------------------------

def dashboard_section(user) -> str:
    parts = {}
    if permissions.can_author(user):
        parts["mine"] = [c for c in operations.authored_by(user) if c.state != CaseState.published][:5]
        parts["author"] = True
    if permissions.review_grants(user):
        parts["queue"] = operations.review_queue(user)[:5]
        parts["reviewer"] = True
    if not parts:
        return ""
    return render_template("case_library/_dashboard.html", age_label=operations.age_label,
                           dispute_types=DISPUTE_TYPES, **parts)
