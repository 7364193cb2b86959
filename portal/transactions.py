"""Side effects that must follow the database transaction they belong to.

A state change writes its rows (the case, its audit record, its notices) in one transaction; some
of its effects live outside the database: a file written to the upload folder, an SMS. If the
commit fails (the database is down, locked, or times out), those must not be left behind:

* :func:`after_commit` runs a callable only once the current transaction has committed (an SMS
  is sent only for a change that really happened); dropped on rollback;
* :func:`on_rollback` runs a callable if the current transaction is rolled back instead (a file
  written for it is deleted again); dropped on commit.

Callables run in the order given (undo actions in reverse); an exception in one is logged, never
raised, since the transaction's outcome is already decided.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.extensions import db

_AFTER = "portal_after_commit"
_UNDO = "portal_on_rollback"


def after_commit(fn: Callable[[], None]) -> None:
    db.session.info.setdefault(_AFTER, []).append(fn)


def on_rollback(fn: Callable[[], None]) -> None:
    db.session.info.setdefault(_UNDO, []).append(fn)


def _run(fns, what: str) -> None:
    for fn in fns:
        try:
            fn()
        except Exception:
            if has_app_context():
                current_app.logger.exception("%s failed", what)


def _committed(session: Session) -> None:
    session.info.pop(_UNDO, None)
    _run(session.info.pop(_AFTER, []), "after-commit action")


def _rolled_back(session: Session, previous_transaction) -> None:
    if getattr(previous_transaction, "nested", False) or getattr(previous_transaction, "parent", None) is not None:
        return  # a savepoint: the outer transaction may still commit
    session.info.pop(_AFTER, None)
    _run(reversed(session.info.pop(_UNDO, [])), "rollback clean-up")


event.listen(Session, "after_commit", _committed)
event.listen(Session, "after_soft_rollback", _rolled_back)
