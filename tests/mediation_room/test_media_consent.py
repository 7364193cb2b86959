"""The recording state machine (issue 6): every (state, action) pair either follows the table or is
refused with a Chinese message; missing consents are listed in a stable order."""
from __future__ import annotations

import itertools

import pytest

from mediation_room.media.consent import (
    TRANSITIONS,
    RecordingError,
    RecordingState,
    RoomRecording,
    missing_consents,
    transition,
)

ACTIONS = ["start", "suspend", "resume", "stop"]


@pytest.mark.parametrize("state,action", list(itertools.product(RecordingState, ACTIONS)))
def test_transitions_follow_the_table(state, action):
    rec = RoomRecording(1, state=state, segments=3, reason="consent" if state == "suspended" else None)
    to = TRANSITIONS.get((state, action))
    if to is None:
        with pytest.raises(RecordingError) as err:
            transition(rec, action)
        assert err.value.message and all(ord(ch) < 128 for ch in err.value.code)
        assert rec.state == state and rec.segments == 3
    else:
        assert transition(rec, action) == to == rec.state
        # a new segment begins each time recording (re)starts
        assert rec.segments == (4 if to == RecordingState.recording else 3)
        if to != RecordingState.suspended:
            assert rec.reason is None


def test_missing_consents_lists_present_people_without_consent_in_order():
    rec = RoomRecording(1, consents={2, 9})
    present = {5: "当事人 李**", 2: "当事人 张**", 3: "受邀人员 王**"}
    assert missing_consents(rec, present) == ["受邀人员 王**", "当事人 李**"]
    assert missing_consents(RoomRecording(1, consents={2, 3, 5}), present) == []
