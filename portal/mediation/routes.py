"""Views of online mediation: load (404) → permission (404 to outsiders) → operation → commit."""
from __future__ import annotations

import io

from flask import abort, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from portal.accounts.models import User
from portal.extensions import db
from portal.mediation import bp, forms
from portal.mediation import operations as ops
from portal.mediation.dashboard import cases_for
from portal.mediation.models import MediationCase
from portal.mediation.permissions import can_apply, can_export_case, can_view_case
from portal.mediation.states import Action, MediationError, allowed, roles_of
from portal.places.models import Organisation
from portal.places.operations import region_by_code
from portal.uploads import Attachment, attachment_path, attachments_of


def _load(case_id: int) -> MediationCase:
    case = db.session.get(MediationCase, case_id)
    if case is None or not can_view_case(current_user, case):
        abort(404)
    return case


@bp.get("/")
def index():
    lists = cases_for(current_user) if current_user.is_authenticated else None
    return render_template("mediation/index.html", lists=lists)


@bp.get("/organisations")
@login_required
def organisations():
    """Fitting organisations for a region and dispute type, best first (for the apply form)."""
    region = region_by_code(request.args.get("region", ""))
    orgs = ops.suggest_organisations(region, request.args.get("type", ""))
    return jsonify([{"id": o.id, "name": o.name, "kind": o.kind_enum.label} for o in orgs])


@bp.route("/apply", methods=["GET", "POST"])
@login_required
def apply():
    if not can_apply(current_user):
        abort(403)
    form = forms.CaseApplyForm()
    region = region_by_code(form.region_code.data)
    fitting = ops.suggest_organisations(region, form.dispute_type.data or "")
    form.organisation_id.choices = [("", "由系统推荐")] + [(str(o.id), o.name) for o in fitting]
    if form.validate_on_submit():
        org = None
        if form.organisation_id.data:
            org = db.session.get(Organisation, int(form.organisation_id.data)) if form.organisation_id.data.isdigit() else None
            if org is None:
                form.organisation_id.errors.append("所选调解组织不存在")
        if not form.organisation_id.errors:
            try:
                case = ops.apply_for_mediation(
                    current_user, respondents=[e.data for e in form.respondents], dispute_type=form.dispute_type.data,
                    region=region, facts=form.facts.data, claims=form.claims.data, amount=form.amount.data,
                    organisation=org, files=request.files.getlist(form.evidence.name))
            except MediationError as exc:
                db.session.rollback()
                _field_error(form, exc)
            else:
                db.session.commit()
                flash(f"申请已提交，案号{case.number}", "success")
                return redirect(url_for("mediation.show_case", case_id=case.id))
    status = 400 if request.method == "POST" else 200
    return render_template("mediation/apply.html", form=form, fitting=fitting), status


def _field_error(form, exc: MediationError) -> None:
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None and hasattr(field, "errors") and isinstance(field.errors, list):
        field.errors.append(str(exc))
    else:
        form.form_errors.append(str(exc))


def _forms_for(case: MediationCase) -> dict:
    f = {
        "accept": forms.ActionForm(prefix="accept"), "decline": forms.DeclineForm(prefix="decline"),
        "consent": forms.ActionForm(prefix="consent"), "refuse": forms.ReasonForm(prefix="refuse"),
        "assign": forms.AssignForm(prefix="assign"), "schedule": forms.SessionForm(prefix="schedule"),
        "extend": forms.ExtendForm(prefix="extend"), "propose": forms.AgreementForm(prefix="propose"),
        "sign": forms.SignForm(prefix="sign"), "fail": forms.FailForm(prefix="fail"),
        "withdraw": forms.ReasonForm(prefix="withdraw"), "archive": forms.ArchiveForm(prefix="archive"),
    }
    if request.method == "GET" and case.agreement is None:
        f["propose"].main_facts.data = f["propose"].main_facts.data or case.facts
    suggestions = ops.suggest_mediators(case) if allowed(case, Action.assign, current_user) else []
    f["assign"].mediator_id.choices = [
        (u.id, f"{u.real_name}（在办{load}件，同类{same}件）{'· 推荐' if i == 0 else ''}")
        for i, (u, load, same) in enumerate(suggestions)]
    if request.method == "GET" and suggestions and f["assign"].mediator_id.data is None:
        f["assign"].mediator_id.data = case.mediator_id or suggestions[0][0].id
    return f


def _render_case(case: MediationCase, f: dict | None = None, status: int = 200, open_action: str | None = None):
    f = f or _forms_for(case)
    can = {a.value: allowed(case, a, current_user) for a in Action}
    if can["sign"]:
        waiting = ops.pending_signers(case)
        mine = next((cap for cap, u in waiting if u.id == current_user.id), None)
        can["sign"] = mine is not None and (mine != "mediator" or all(c == "mediator" for c, _ in waiting))
    evidence = attachments_of("mediation_case", case.id)
    pdf = db.session.get(Attachment, case.agreement.pdf_attachment_id) if case.agreement and case.agreement.pdf_attachment_id else None
    return render_template(
        "mediation/case.html", case=case, forms=f, can=can, roles=roles_of(current_user, case),
        evidence=evidence, pdf=pdf, timeline=ops.timeline(case), referrals=ops.REFERRALS,
        materials=ops.CONFIRMATION_MATERIALS, open_action=open_action,
        pending=ops.pending_signers(case), room_available=_room_available(),
    ), status


def _room_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("mediation_room") is not None and "mediation_room.room" in __import__(
        "flask").current_app.view_functions


@bp.get("/cases/<int:case_id>")
@login_required
def show_case(case_id: int):
    return _render_case(_load(case_id))


def _run(case_id: int, action: str, form_key: str, call, success: str):
    """POST handler shared by every case action."""
    case = _load(case_id)
    f = _forms_for(case)
    form = f[form_key]
    if not allowed(case, action, current_user):
        # The button was not offered: say why in Chinese rather than failing silently.
        try:
            from portal.mediation.states import check

            check(case, action, current_user)
        except MediationError as exc:
            flash(str(exc), "error")
        return _render_case(case, f, 409)
    if not form.validate_on_submit():
        return _render_case(case, f, 400, open_action=form_key)
    try:
        call(case, form)
    except MediationError as exc:
        db.session.rollback()
        case = _load(case_id)
        f = _forms_for(case)
        for k, v in form.data.items():
            if k in f[form_key]._fields and k not in ("csrf_token", "password"):
                f[form_key][k].data = v
        if exc.field and exc.field in f[form_key]._fields:
            _field_error(f[form_key], exc)
        else:  # a refusal not about one field is shown at the top, whether or not the form still shows
            flash(str(exc), "error")
        return _render_case(case, f, 400, open_action=form_key)
    db.session.commit()
    flash(success, "success")
    return redirect(url_for("mediation.show_case", case_id=case_id))


@bp.post("/cases/<int:case_id>/accept")
@login_required
def accept_case(case_id):
    return _run(case_id, "accept", "accept", lambda c, f: ops.accept_case(current_user, c), "已受理，已通知被申请人")


@bp.post("/cases/<int:case_id>/decline")
@login_required
def decline_case(case_id):
    return _run(case_id, "decline", "decline",
                lambda c, f: ops.decline_case(current_user, c, f.reason.data, f.referral.data), "已作出不予受理决定")


@bp.post("/cases/<int:case_id>/consent")
@login_required
def consent_case(case_id):
    return _run(case_id, "consent", "consent", lambda c, f: ops.consent_case(current_user, c), "您已同意调解")


@bp.post("/cases/<int:case_id>/refuse")
@login_required
def refuse_case(case_id):
    return _run(case_id, "refuse", "refuse", lambda c, f: ops.refuse_case(current_user, c, f.reason.data),
                "您已拒绝调解，本案终结")


@bp.post("/cases/<int:case_id>/assign")
@login_required
def assign_mediator(case_id):
    def call(c, f):
        ops.assign_mediator(current_user, c, db.session.get(User, f.mediator_id.data or 0))
    return _run(case_id, "assign", "assign", call, "已指派调解员")


@bp.post("/cases/<int:case_id>/sessions")
@login_required
def schedule_session(case_id):
    return _run(case_id, "schedule", "schedule",
                lambda c, f: ops.schedule_session(current_user, c, f.starts_at.data, f.mode.data, f.place.data),
                "调解已安排，已通知各方")


@bp.post("/cases/<int:case_id>/extend")
@login_required
def extend_deadline(case_id):
    return _run(case_id, "extend", "extend", lambda c, f: ops.extend_deadline(current_user, c, f.reason.data),
                "调解期限已延长")


@bp.post("/cases/<int:case_id>/agreement")
@login_required
def propose_agreement(case_id):
    def call(c, f):
        ops.propose_agreement(current_user, c, **{k: getattr(f, k).data for k in ops.AGREEMENT_FIELDS},
                              performance_deadline=f.performance_deadline.data)
    return _run(case_id, "propose", "propose", call, "调解协议已提交各方签署")


@bp.post("/cases/<int:case_id>/sign")
@login_required
def sign_agreement(case_id):
    return _run(case_id, "sign", "sign",
                lambda c, f: ops.sign_agreement(current_user, c, f.typed_name.data, f.password.data), "签署成功")


@bp.post("/cases/<int:case_id>/fail")
@login_required
def fail_case(case_id):
    return _run(case_id, "fail", "fail",
                lambda c, f: ops.fail_case(current_user, c, f.reason.data, f.referral.data), "已终结调解（调解不成）")


@bp.post("/cases/<int:case_id>/withdraw")
@login_required
def withdraw_case(case_id):
    return _run(case_id, "withdraw", "withdraw", lambda c, f: ops.withdraw_case(current_user, c, f.reason.data),
                "已撤回调解申请")


@bp.post("/cases/<int:case_id>/archive")
@login_required
def archive_case(case_id):
    return _run(case_id, "archive", "archive",
                lambda c, f: ops.archive_case(current_user, c, f.followup_note.data), "已回访并归档，卷宗已封存")


@bp.get("/cases/<int:case_id>/agreement.pdf")
@login_required
def agreement_pdf(case_id):
    case = _load(case_id)
    if not case.agreement or not case.agreement.pdf_attachment_id:
        abort(404)
    att = db.session.get(Attachment, case.agreement.pdf_attachment_id)
    return send_file(attachment_path(att), mimetype="application/pdf", as_attachment=True,
                     download_name=f"调解协议书_{case.id}.pdf", max_age=0)


@bp.get("/cases/<int:case_id>/dossier.zip")
@login_required
def export_dossier(case_id):
    case = _load(case_id)
    if not can_export_case(current_user, case):
        abort(404)
    from portal import audit

    data = ops.export_dossier(case)
    audit.record(current_user, "mediation.export", "mediation_case_export", case.id)
    db.session.commit()
    return send_file(io.BytesIO(data), mimetype="application/zip", as_attachment=True,
                     download_name=f"卷宗_{case.id}.zip", max_age=0)


@bp.route("/invite/<token>", methods=["GET", "POST"])
@login_required
def invitation(token: str):
    form = forms.InvitationForm()
    if form.validate_on_submit():
        try:
            resp = ops.redeem_invitation(current_user, token, form.code.data)
        except MediationError as exc:
            db.session.rollback()
            _field_error(form, exc)
        else:
            db.session.commit()
            flash("身份已确认，请查看案件并答复是否同意调解", "success")
            return redirect(url_for("mediation.show_case", case_id=resp.case_id))
    return render_template("mediation/invitation.html", form=form), 400 if request.method == "POST" else 200
