"""Admin views. Every view checks :func:`can_manage_accounts` / :func:`can_manage_places` first."""
from functools import wraps

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select

from portal.accounts.forms import RoleGrantForm
from portal.accounts.models import ReviewTier, Role, RoleGrant, User
from portal.accounts.operations import AccountError, grant_role, revoke_role, set_active
from portal.accounts.permissions import can_manage_accounts, can_manage_places
from portal.admin import bp
from portal.admin.forms import OrganisationForm, UserSearchForm, VillageForm
from portal.audit import AuditRecord
from portal.extensions import db
from portal.places.models import Organisation, Region
from portal.places.operations import PlaceError, add_village, region_by_code, save_organisation


def admin_required(check):
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not check(current_user):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


@bp.get("/")
@admin_required(can_manage_accounts)
def index():
    counts = {
        "users": db.session.scalar(select(func.count(User.id))),
        "organisations": db.session.scalar(select(func.count(Organisation.id))),
        "regions": db.session.scalar(select(func.count(Region.id))),
        "audit": db.session.scalar(select(func.count(AuditRecord.id))),
    }
    return render_template("admin/index.html", counts=counts)


@bp.get("/users")
@admin_required(can_manage_accounts)
def users():
    form = UserSearchForm(request.args)
    stmt = select(User).order_by(User.id)
    if form.validate() and form.q.data:
        like = f"%{form.q.data}%"
        stmt = stmt.where(or_(User.mobile.like(like), User.real_name.like(like)))
    page = max(1, min(request.args.get("page", 1, type=int), 100_000))  # OFFSET stays a BIGINT
    rows = db.session.execute(stmt.limit(50).offset((page - 1) * 50)).scalars().all()
    return render_template("admin/users.html", users=rows, form=form, page=page)


def _grant_form() -> RoleGrantForm:
    form = RoleGrantForm()
    form.role.choices = [(r.value, r.label) for r in Role if r is not Role.citizen]
    orgs = db.session.execute(select(Organisation).order_by(Organisation.name)).scalars()
    form.organisation_id.choices = [(0, "（不适用）")] + [(o.id, o.name) for o in orgs]
    form.tier.choices = [("", "（不适用）")] + [(t.value, t.label) for t in ReviewTier]
    return form


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_required(can_manage_accounts)
def user_detail(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = _grant_form()
    if form.validate_on_submit():
        org = db.session.get(Organisation, form.organisation_id.data) if form.organisation_id.data else None
        region = region_by_code(form.region_code.data)
        if form.region_code.data and region is None:
            form.region_code.errors.append("找不到该行政区划代码")
        else:
            try:
                grant_role(current_user, user, form.role.data, org, region, form.tier.data or None)
                db.session.commit()
            except AccountError as exc:
                db.session.rollback()
                getattr(form, exc.field or "role").errors.append(str(exc))
            else:
                flash("已授予角色", "success")
                return redirect(url_for("admin.user_detail", user_id=user.id))
    return render_template("admin/user_detail.html", user=user, form=form), 200 if not form.errors else 422


@bp.post("/users/<int:user_id>/grants/<int:grant_id>/revoke")
@admin_required(can_manage_accounts)
def revoke(user_id: int, grant_id: int):
    grant = db.session.get(RoleGrant, grant_id)
    if grant is None or grant.user_id != user_id:
        abort(404)
    try:
        revoke_role(current_user, grant)
        db.session.commit()
        flash("已撤销角色", "success")
    except AccountError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("admin.user_detail", user_id=user_id))


@bp.post("/users/<int:user_id>/active")
@admin_required(can_manage_accounts)
def toggle_active(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    try:
        set_active(current_user, user, request.form.get("active") == "1")
        db.session.commit()
        flash("账号已启用" if user.active else "账号已停用", "success")
    except AccountError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("admin.user_detail", user_id=user_id))


@bp.get("/organisations")
@admin_required(can_manage_places)
def organisations():
    rows = db.session.execute(select(Organisation).order_by(Organisation.region_id, Organisation.name)).scalars().all()
    return render_template("admin/organisations.html", organisations=rows)


@bp.route("/organisations/new", methods=["GET", "POST"], endpoint="new_organisation")
@bp.route("/organisations/<int:org_id>", methods=["GET", "POST"], endpoint="edit_organisation")
@admin_required(can_manage_places)
def edit_organisation(org_id: int | None = None):
    org = (db.session.get(Organisation, org_id) or abort(404)) if org_id else None
    form = OrganisationForm(obj=org)
    if request.method == "GET" and org is not None:
        form.region_code.data = org.region.code
        form.dispute_types.data = org.dispute_types
        form.active.data = "1" if org.active else "0"
    if form.validate_on_submit():
        region = region_by_code(form.region_code.data)
        if region is None:
            form.region_code.errors.append("找不到该行政区划代码")
        else:
            try:
                org = save_organisation(
                    current_user, org, name=form.name.data, kind=form.kind.data, region=region,
                    dispute_types=form.dispute_types.data or [], address=form.address.data or "",
                    phone=form.phone.data or "", active=form.active.data == "1",
                )
                db.session.commit()
            except PlaceError as exc:
                db.session.rollback()
                getattr(form, exc.field or "name").errors.append(str(exc))
            else:
                flash("调解组织已保存", "success")
                return redirect(url_for("admin.organisations"))
    return render_template("admin/organisation_form.html", form=form, org=org), 200 if not form.errors else 422


@bp.route("/regions", methods=["GET", "POST"])
@bp.route("/regions/<code>", methods=["GET", "POST"])
@admin_required(can_manage_places)
def regions(code: str | None = None):
    region = region_by_code(code) if code else None
    if code and region is None:
        abort(404)
    children = region.children if region else db.session.execute(
        select(Region).where(Region.parent_id.is_(None)).order_by(Region.code)).scalars().all()
    form = VillageForm()
    if region is not None and form.validate_on_submit():
        try:
            add_village(current_user, region, form.name.data, form.code.data or None)
            db.session.commit()
        except PlaceError as exc:
            db.session.rollback()
            getattr(form, exc.field if exc.field in ("name", "code") else "name").errors.append(str(exc))
        else:
            flash("已添加村（社区）", "success")
            return redirect(url_for("admin.regions", code=region.code))
    return render_template("admin/regions.html", region=region, children=children, form=form), 200 if not form.errors else 422
