"""The site frame: home page, 我的事项 dashboard, inbox, 长者模式, and error pages."""
from flask import Blueprint

bp = Blueprint("main", __name__)


def init_app(app):
    from portal.main import errors, routes  # noqa: F401

    app.register_blueprint(bp)
