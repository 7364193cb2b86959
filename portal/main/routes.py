"""Frame views. 我的事项 is assembled from the sections each feature registers."""
import datetime as dt

from flask import current_app, flash, jsonify, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select

from portal.extensions import db
from portal.main import bp
from portal.notifications import Notification
from portal.registry import dashboard_sections

ELDER_COOKIE_AGE = 365 * 24 * 3600


@bp.get("/")
def index():
    return render_template("main/index.html")


@bp.get("/me")
@login_required
def dashboard():
    sections = []
    for section in dashboard_sections(current_app):
        html = section.render(current_user)
        if html:
            sections.append(Markup(html))
    notices = db.session.execute(
        select(Notification).where(Notification.user_id == current_user.id)
        .order_by(Notification.id.desc()).limit(5)
    ).scalars().all()
    return render_template("main/dashboard.html", sections=sections, notices=notices)


@bp.get("/inbox")
@login_required
def inbox():
    notices = db.session.execute(
        select(Notification).where(Notification.user_id == current_user.id)
        .order_by(Notification.id.desc()).limit(200)
    ).scalars().all()
    return render_template("main/inbox.html", notices=notices)


@bp.post("/inbox/<int:notice_id>/read")
@login_required
def read_notice(notice_id: int):
    note = db.session.get(Notification, notice_id)
    if note is None or note.user_id != current_user.id:
        return render_template("errors/404.html"), 404
    if note.read_at is None:
        note.read_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        db.session.commit()
    link = note.link if note.link.startswith("/") and not note.link.startswith("//") else ""
    return redirect(link or url_for("main.inbox"))


@bp.post("/elder-mode")
def toggle_elder_mode():
    """Switch 长者模式; remembered in a cookie for a year. The page's script does the same without
    a reload; this form post is the fallback that works without JavaScript."""
    on = request.form.get("on", "1" if request.cookies.get("elder_mode") != "1" else "0") == "1"
    target = request.form.get("next") or url_for("main.index")
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("main.index")
    resp = make_response(redirect(target) if not request.accept_mimetypes.accept_json else jsonify(on=on))
    resp.set_cookie("elder_mode", "1" if on else "0", max_age=ELDER_COOKIE_AGE, samesite="Lax", httponly=False)
    if not request.accept_mimetypes.accept_json:
        flash("已开启长者模式" if on else "已关闭长者模式", "info")
    return resp


@bp.get("/healthz")
def healthz():
    db.session.execute(select(1))
    return {"status": "ok"}
