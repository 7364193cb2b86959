"""Styled error pages in Chinese; a 500 shows no traceback."""
from flask import flash, jsonify, redirect, render_template, request
from flask_wtf.csrf import CSRFError

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
