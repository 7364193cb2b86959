"""Who may act on a room's video and recording; built on :mod:`mediation_room.permissions`."""
from __future__ import annotations

from mediation_room import permissions as room_permissions
from mediation_room.models import MemberRole, Room


def can_use_video(user, room: Room) -> bool:
    """Take part in the room's video (and its signalling): admitted members of an open room."""
    return room.is_open and room_permissions.is_admitted(user, room)


def can_control_recording(user, room: Room) -> bool:
    """Start and stop recording, mute someone: the room's mediator."""
    return room.is_open and room_permissions.can_moderate(user, room)


def can_consent(user, room: Room) -> bool:
    """Give or withdraw consent to recording: admitted members other than the mediator."""
    return can_use_video(user, room) and room_permissions.member_role(room, user) in (
        MemberRole.party, MemberRole.invited)


def can_view_recording(user, room: Room) -> bool:
    """Download a recording filed on a room without a case: the mediator (as the transcript)."""
    return room_permissions.can_moderate(user, room)
