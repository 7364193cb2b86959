"""Account views: thin wrappers round :mod:`portal.accounts.operations`."""
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from portal.accounts import bp
from portal.accounts.forms import LoginForm, PasswordChangeForm, RegistrationForm
from portal.accounts.operations import AccountError, authenticate, change_password, register_citizen
from portal.extensions import db
from portal.security import RateLimiter

#: Per client address: registrations and login attempts (the per-account lock is in the database).
register_limiter = RateLimiter(limit=10, window=3600, name="register")
login_limiter = RateLimiter(limit=30, window=300, name="login")


def _safe_next(target: str | None) -> str:
    """Only same-site paths are followed after login (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("main.dashboard")


def _start_session(user, remember: bool = False) -> None:
    # A fresh session at login: nothing an attacker planted before login survives it.
    elder = session.get("elder_mode")
    session.clear()
    if elder is not None:
        session["elder_mode"] = elder
    login_user(user, remember=remember)


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = RegistrationForm()
    if form.validate_on_submit():
        if not register_limiter.hit(request.remote_addr or "?"):
            form.mobile.errors.append("注册过于频繁，请稍后再试")
        else:
            try:
                user = register_citizen(form.mobile.data, form.password.data, form.real_name.data, form.id_number.data)
                db.session.commit()
            except AccountError as exc:
                db.session.rollback()
                getattr(form, exc.field or "mobile").errors.append(str(exc))
            else:
                _start_session(user)
                flash("注册成功，欢迎使用公共法律服务网", "success")
                return redirect(url_for("main.dashboard"))
    return render_template("accounts/register.html", form=form), 200 if not form.errors else 422


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        if not login_limiter.hit(request.remote_addr or "?"):
            error = "登录尝试过于频繁，请5分钟后再试"
        else:
            try:
                user = authenticate(form.mobile.data, form.password.data)
                db.session.commit()
            except AccountError as exc:
                db.session.rollback()
                error = str(exc)
            else:
                _start_session(user, remember=form.remember.data)
                flash(f"{user.real_name}，您好！", "success")
                return redirect(_safe_next(request.args.get("next")))
    status = 200 if error is None and not form.errors else 422
    return render_template("accounts/login.html", form=form, error=error), status


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    session.clear()
    flash("您已安全退出", "info")
    return redirect(url_for("main.index"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            change_password(current_user, form.current.data, form.password.data)
            db.session.commit()
        except AccountError as exc:
            db.session.rollback()
            getattr(form, exc.field or "current").errors.append(str(exc))
        else:
            _start_session(current_user._get_current_object())
            flash("密码已修改，其他设备上的登录已失效", "success")
            return redirect(url_for("accounts.account"))
    return render_template("accounts/account.html", form=form), 200 if not form.errors else 422
