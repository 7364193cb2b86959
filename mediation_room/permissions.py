"""Who may do what in a mediation room. Plain functions of (user, room), used by the page routes,
the Socket.IO namespace (``events.py``) and, later, the WebRTC signalling (``signalling.py``).

Visibility rules of a private caucus (背靠背调解) live here too, so that every relay of messages or
media asks the same functions:

* :func:`may_see_message` – whether a member may ever read a stored message;
* :func:`members_who_may_see` – the admitted members a message may be delivered to;
* :func:`may_see_each_other` – whether two members may exchange anything (media, signalling)
  at this moment: while a caucus runs, its two participants form a closed pair.
"""
from __future__ import annotations

from mediation_room.models import MemberRole, MemberStatus, Room, RoomMember, RoomMessage


def _uid(user) -> int | None:
    if user is None or not getattr(user, "is_authenticated", True):
        return None
    return getattr(user, "id", user)


def is_member(user, room: Room) -> bool:
    """Any listed member (mediator, party, invited), whatever their lobby status."""
    uid = _uid(user)
    return uid is not None and room.member_of(uid) is not None


def can_join(user, room: Room) -> bool:
    """May the user connect to the room at all (to wait in the lobby or take part)?

    Only the room's mediator, its parties and invited people; a member the mediator removed may
    not come back until the mediator admits them again (:func:`operations.admit_member` takes
    a removed member straight back in). An ended
    room cannot be joined; its transcript is read through :func:`can_view_transcript`.
    """
    uid = _uid(user)
    if uid is None or not room.is_open:
        return False
    member = room.member_of(uid)
    return member is not None and member.status != MemberStatus.removed


def is_admitted(user, room: Room) -> bool:
    """Is the user inside the room (not in the lobby, not removed)? The mediator always is."""
    uid = _uid(user)
    member = room.member_of(uid) if uid is not None else None
    return member is not None and member.status == MemberStatus.admitted


def can_send(user, room: Room) -> bool:
    return room.is_open and is_admitted(user, room)


def can_moderate(user, room: Room) -> bool:
    """Admit, remove, start and end a caucus, end the session: the room's mediator only."""
    return _uid(user) == room.mediator_id


def can_view_room_page(user, room: Room) -> bool:
    """The page is shown to every member who is not removed (an ended room shows its end notice)."""
    uid = _uid(user)
    member = room.member_of(uid) if uid is not None else None
    return member is not None and member.status != MemberStatus.removed


def can_view_transcript(user, room: Room) -> bool:
    """Export of the 调解笔录 (PDF and text): the mediator only (it is then filed in the dossier)."""
    return can_moderate(user, room)


def in_caucus(room: Room, user) -> bool:
    """Is the user one of the two participants of the caucus now running?"""
    uid = _uid(user)
    return room.caucus_party_id is not None and uid in (room.mediator_id, room.caucus_party_id)


def may_see_message(user, room: Room, message: RoomMessage) -> bool:
    """May this member read this stored message, now or later (backfill, transcript)?

    Public messages: every admitted member. Caucus messages: only the mediator and the party of
    that caucus, whatever happens afterwards.
    """
    uid = _uid(user)
    if uid is None:
        return False
    if message.caucus_party_id is None:
        return True
    return uid in (room.mediator_id, message.caucus_party_id)


def members_who_may_see(room: Room, message: RoomMessage) -> list[RoomMember]:
    """The admitted members a message may be delivered to."""
    return [
        m for m in room.members
        if m.status == MemberStatus.admitted and may_see_message(m.user_id, room, message)
    ]


def may_see_each_other(room: Room, a, b) -> bool:
    """May members ``a`` and ``b`` exchange anything right now (WebRTC offers, answers, ICE)?

    Both must be admitted; while a caucus runs, the mediator and the caucus party talk only to
    each other, and the others only among themselves.
    """
    if not (is_admitted(a, room) and is_admitted(b, room)):
        return False
    if room.caucus_party_id is None:
        return True
    return in_caucus(room, a) == in_caucus(room, b)


def member_role(room: Room, user) -> MemberRole | None:
    member = room.member_of(_uid(user))
    return MemberRole(member.role) if member else None
