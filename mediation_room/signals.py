"""Signals of the mediation room, for other packages to react to without importing this one's internals.

``room_ended`` is sent when the mediator ends the session, inside the transaction that ends it
(before the commit), with ``sender=room``, ``transcript_text=str`` and ``transcript_pdf=bytes``,
so a receiver that files the 调解笔录 into the case dossier does so atomically with the ending.

``room_changed`` is sent after every change of who is in a room or how it runs (joined, left,
admitted, removed, caucus started or ended, ended), once the change is committed and the new
presence list broadcast, with ``sender=room``: the video follows it to connect or drop peers.
A receiver's failure is its own: the chat has already done its work.
"""
from blinker import Namespace

_signals = Namespace()

room_ended = _signals.signal("room-ended")

room_changed = _signals.signal("room-changed")
