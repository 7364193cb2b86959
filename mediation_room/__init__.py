"""调解室: the real-time mediation room (DESIGN.md §6, issue 5).

A Socket.IO namespace ``/room`` (``events.py``) carries the lobby, the messages with their
per-room sequence numbers, private caucuses and presence; the page, the transcript exports and
the 我的事项 section are ordinary views (``routes.py``). Other packages open rooms with
:func:`mediation_room.operations.create_room` and hear of their end through
:data:`mediation_room.signals.room_ended`.
"""
from flask import Blueprint

bp = Blueprint("mediation_room", __name__)


def init_app(app):
    from flask import render_template

    from mediation_room import events, routes  # noqa: F401
    from mediation_room.demo import load_demo
    from mediation_room.operations import open_rooms_for
    from portal.registry import add_dashboard_section, add_demo_seeder

    app.config.setdefault("ROOM_RATE_LIMIT", 10)  #: messages per socket ...
    app.config.setdefault("ROOM_RATE_WINDOW", 5.0)  #: ... per this many seconds

    def dashboard(user):
        rooms = open_rooms_for(user)
        if not rooms:
            return ""
        return render_template("mediation_room/_dashboard.html", rooms=rooms)

    app.register_blueprint(bp)
    events.register(app)
    add_dashboard_section(app, "rooms", dashboard, 40)
    add_demo_seeder(app, "mediation_room", load_demo, 40)

    # Video (issue 6): WebRTC signalling and recording in the same /room namespace.
    from mediation_room import signalling

    signalling.register(app)
