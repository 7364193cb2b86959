"""Accounts: registration with real-name details, login with lock-out, password change, roles."""
from flask import Blueprint

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

    app.register_blueprint(bp)
