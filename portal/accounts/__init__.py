"""Accounts: registration with real-name details, login with lock-out, password change, roles."""
from flask import Blueprint, g

bp = Blueprint("accounts", __name__)


def init_app(app):
    from portal.accounts import routes  # noqa: F401
    from portal.accounts.models import User
    from portal.extensions import db, login_manager

    @login_manager.user_loader
    def load_user(session_id: str):
        try:
            user_id, version = (int(x) for x in session_id.split(":", 1))
        except ValueError:
            return None
        user = db.session.get(User, user_id)
        if user is None or user.session_version != version:
            return None
        return user

    @app.before_request
    def _forget_cached_user():
        # Flask-Login caches the user on g; when a request reuses an application context that
        # is already pushed (as tests and CLI-driven code do), drop the cache so every request
        # loads its own user from its own session.
        g.pop("_login_user", None)

    app.register_blueprint(bp)
