"""Signals of the mediation room, for other packages to react to without importing this one's internals.

``room_ended`` is sent when the mediator ends the session, inside the transaction that ends it
(before the commit), with ``sender=room``, ``transcript_text=str`` and ``transcript_pdf=bytes``,
so a receiver that files the 调解笔录 into the case dossier does so atomically with the ending.
"""
from blinker import Namespace

_signals = Namespace()

room_ended = _signals.signal("room-ended")
