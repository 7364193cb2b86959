"""Online mediation (在线调解, DESIGN.md §3): application, acceptance, consent, assignment,
sessions, signed agreement, referral and archive."""
import os

from flask import Blueprint

bp = Blueprint("mediation", __name__, url_prefix="/mediation")


def init_app(app):
    from portal.mediation import routes  # noqa: F401
    from portal.mediation.dashboard import render_section
    from portal.mediation.demo import load_demo
    from portal.mediation.permissions import can_view_case_files
    from portal.registry import add_dashboard_section, add_demo_seeder, add_nav
    from portal.uploads import register_owner

    #: Working days the committee has to accept or decline an application (environment or config).
    app.config.setdefault("MEDIATION_ACCEPT_DAYS", int(os.environ.get("MEDIATION_ACCEPT_DAYS") or 3))
    app.register_blueprint(bp)
    add_nav(app, "在线调解", "mediation.index", 20)
    add_dashboard_section(app, "mediation", render_section, 20)
    add_demo_seeder(app, "mediation", load_demo, 30)
    register_owner("mediation_case", can_view_case_files)
    register_owner("mediation_agreement", can_view_case_files)
    _connect_room_signal()


def _connect_room_signal() -> None:
    """File the transcript of an ended mediation room into the case dossier (when the room
    package is present)."""
    import importlib.util

    if importlib.util.find_spec("mediation_room") is None:
        return
    try:
        if importlib.util.find_spec("mediation_room.signals") is None:
            return
        from mediation_room.signals import room_ended
    except ImportError:
        return
    from portal.mediation.operations import file_transcript

    room_ended.connect(file_transcript, weak=False)
