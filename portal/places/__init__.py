"""Places: administrative regions and mediation organisations, with a JSON API for region pickers."""
from flask import Blueprint

bp = Blueprint("places", __name__, url_prefix="/regions")


def init_app(app):
    from portal.places import routes  # noqa: F401  (registers the views on bp)

    app.register_blueprint(bp)
