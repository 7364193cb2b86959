"""Views of the mediation room: the room page and the transcript exports (the talk itself is in events.py)."""
from __future__ import annotations

from urllib.parse import quote

from flask import Response, abort, current_app, render_template
from flask_login import current_user, login_required

from mediation_room import bp, permissions
from mediation_room.models import MemberStatus
from mediation_room.operations import get_room, transcript_pdf, transcript_text


def _load(room_id: int):
    room = get_room(room_id)
    if room is None or not permissions.can_view_room_page(current_user, room):
        abort(404)  # outsiders do not learn that the room exists
    return room


@bp.get("/rooms/<int:room_id>")
@login_required
def room(room_id: int):
    room = _load(room_id)
    me = room.member_of(current_user.id)
    return render_template(
        "mediation_room/room.html", room=room, me=me,
        is_mediator=permissions.can_moderate(current_user, room),
        waiting=me.status == MemberStatus.waiting,
        ice_servers=current_app.config.get("ICE_SERVERS") or [],
    )


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    resp = Response(body, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@bp.get("/rooms/<int:room_id>/transcript.txt")
@login_required
def export_transcript_text(room_id: int):
    room = _load(room_id)
    if not permissions.can_view_transcript(current_user, room):
        abort(403)
    return _download(transcript_text(room).encode("utf-8"), "text/plain; charset=utf-8",
                     f"调解笔录-{room.id}.txt")


@bp.get("/rooms/<int:room_id>/transcript.pdf")
@login_required
def export_transcript_pdf(room_id: int):
    room = _load(room_id)
    if not permissions.can_view_transcript(current_user, room):
        abort(403)
    return _download(transcript_pdf(room), "application/pdf", f"调解笔录-{room.id}.pdf")
