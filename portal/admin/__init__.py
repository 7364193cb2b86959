"""Administration: accounts and their roles, regions, and mediation organisations."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")


def init_app(app):
    from portal.admin import routes  # noqa: F401

    app.register_blueprint(bp)
