"""Recording with consent: the state machine of one room's recording, kept as data.

| from | action | to | when |
|---|---|---|---|
| idle | start | recording | the mediator asks and every present participant has consented |
| recording | suspend | suspended | a participant without consent comes in, consent is withdrawn, or a caucus starts |
| suspended | resume | recording | every present participant has consented again and no caucus runs |
| recording / suspended | stop | idle | the mediator stops it, or the session ends |

"Present participants" are the admitted members other than the mediator who are connected to the
room right now (parties and invited people: everyone whose face and voice would be recorded).
The mediator's request to record stands for the mediator's own consent.
"""
from __future__ import annotations

import dataclasses
import enum


class RecordingState(enum.StrEnum):
    idle = "idle"
    recording = "recording"
    suspended = "suspended"

    @property
    def label(self) -> str:
        return {"idle": "未录制", "recording": "录制中", "suspended": "录制已暂停"}[self]


#: (from state, action) → to state
TRANSITIONS: dict[tuple[RecordingState, str], RecordingState] = {
    (RecordingState.idle, "start"): RecordingState.recording,
    (RecordingState.recording, "suspend"): RecordingState.suspended,
    (RecordingState.suspended, "resume"): RecordingState.recording,
    (RecordingState.recording, "stop"): RecordingState.idle,
    (RecordingState.suspended, "stop"): RecordingState.idle,
}


class RecordingError(Exception):
    """A refused recording action, with the Chinese message for the user."""

    def __init__(self, message: str, code: str = "refused", missing: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.missing = missing or []


@dataclasses.dataclass
class RoomRecording:
    """The live recording state of one room (kept in the serving process's memory)."""

    room_id: int
    state: RecordingState = RecordingState.idle
    #: Users who consented in this room (withdrawn consent removes them).
    consents: set[int] = dataclasses.field(default_factory=set)
    #: Why a recording is suspended: "consent" or "caucus".
    reason: str | None = None
    started_by: int | None = None
    #: Segments started so far (a suspension closes one, the resumption opens the next).
    segments: int = 0

    def __repr__(self) -> str:
        return f"<RoomRecording room={self.room_id} {self.state} consents={sorted(self.consents)}>"


def transition(rec: RoomRecording, action: str) -> RecordingState:
    """Apply ``action`` or raise :class:`RecordingError`; returns the new state."""
    to = TRANSITIONS.get((rec.state, action))
    if to is None:
        messages = {
            "start": "录制已在进行中" if rec.state == RecordingState.recording else "录制已开始，正在等待同意",
            "stop": "当前没有进行中的录制",
        }
        raise RecordingError(messages.get(action, "当前状态下不能进行此操作"), "invalid")
    rec.state = to
    if to == RecordingState.recording:
        rec.reason = None
        rec.segments += 1
    if to == RecordingState.idle:
        rec.reason = None
    return to


def missing_consents(rec: RoomRecording, present: dict[int, str]) -> list[str]:
    """Labels of the present participants (user id → label) who have not consented, in id order."""
    return [label for uid, label in sorted(present.items()) if uid not in rec.consents]
