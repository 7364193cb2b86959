"""Styled error pages in Chinese; a 500 shows no traceback."""
from urllib.parse import urlsplit

from flask import current_app, flash, jsonify, redirect, render_template, request
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError, PendingRollbackError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from portal.extensions import db
from portal.main import bp


def _wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


@bp.app_errorhandler(CSRFError)
def csrf_error(exc):
    message = "页面已过期或缺少安全令牌，请重新提交（为保护您的账号，未保存任何内容）"
    if _wants_json():
        return jsonify(error=message), 400
    flash(message, "error")
    # Back to the same page, which now shows the message; nothing was saved.
    return redirect(request.full_path if request.method == "POST" else "/", code=303)


@bp.app_errorhandler(403)
def forbidden(exc):
    if _wants_json():
        return jsonify(error="您没有权限执行此操作"), 403
    return render_template("errors/403.html"), 403


@bp.app_errorhandler(404)
def not_found(exc):
    if _wants_json():
        return jsonify(error="您访问的页面不存在"), 404
    return render_template("errors/404.html"), 404


@bp.app_errorhandler(405)
def method_not_allowed(exc):
    return render_template("errors/404.html"), 405


@bp.app_errorhandler(413)
def too_large(exc):
    message = "上传的内容过大，请压缩或分批上传"
    if _wants_json():
        return jsonify(error=message), 413
    return render_template("errors/error.html", title="内容过大", message=message), 413


@bp.app_errorhandler(429)
def too_many(exc):
    return render_template("errors/error.html", title="操作过于频繁", message="请稍后再试"), 429


@bp.app_errorhandler(500)
def server_error(exc):
    db.session.rollback()
    if _wants_json():
        return jsonify(error="系统繁忙，请稍后再试"), 500
    return render_template("errors/500.html"), 500


BUSY = "系统繁忙，请稍后重试"
#: Without the frame (it reads the database for the navigation and the inbox count), for when
#: the database cannot even serve the error page.
BARE_503 = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>系统繁忙</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="stylesheet" href="/static/css/site.css">
</head><body><main class="error-page"><h1>系统繁忙，请稍后重试</h1><p>数据库暂时无法完成您的操作，<strong>本次操作没有生效</strong>。
请稍等片刻后重新提交。如情况紧急，请拨打 12348 公共法律服务热线。</p><p>{retry}<a href="/">返回首页</a></p></main></body></html>"""


def _retry_url() -> str:
    """Where to try again: the page itself for a GET, the page the form was on for a POST."""
    if request.method == "GET":
        return request.full_path.rstrip("?")
    ref = urlsplit(request.referrer or "")
    if ref.netloc == request.host and ref.path.startswith("/") and not ref.path.startswith("//"):
        return ref.path + (f"?{ref.query}" if ref.query else "")
    return ""


@bp.app_errorhandler(OperationalError)
@bp.app_errorhandler(InterfaceError)
@bp.app_errorhandler(DisconnectionError)
@bp.app_errorhandler(PendingRollbackError)
@bp.app_errorhandler(PoolTimeoutError)
def database_unavailable(exc):
    """The database failed (down, locked, timed out, connection lost) during the request: roll the
    whole transaction back (the state change, its audit record and notices go together; files and
    SMS tied to it are undone / never sent, see portal.transactions), and say so plainly (503)."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001  (the connection may be gone; the pool replaces it)
        db.session.remove()
    current_app.logger.warning("database unavailable during %s %s: %s", request.method, request.path,
                               str(exc).splitlines()[0][:200])
    headers = {"Retry-After": "5"}
    if _wants_json():
        return jsonify(error=BUSY), 503, headers
    retry = _retry_url()
    try:
        return render_template("errors/503.html", retry_url=retry), 503, headers
    except Exception:  # noqa: BLE001  (the frame itself needs the database)
        db.session.remove()
        link = f'<a href="{escape(retry)}">返回刚才的页面</a> ' if retry else ""
        return BARE_503.format(retry=link), 503, {**headers, "Content-Type": "text/html; charset=utf-8"}
