"""The authorization matrix (issue 9): who may reach each endpoint and Socket.IO event.

Every endpoint of the URL map and every event of every Socket.IO namespace must have an entry in
``POLICIES`` / ``EVENT_POLICIES`` (tests/security/test_authz_matrix.py fails for one that has none),
naming the roles that may use it and how to fill its URL parameters with a demo object.

Roles, as the issue lists them; each logs in as a demo account (see ``ROLE_ACCOUNTS``):
  anonymous · citizen_a (applicant / asker in the demo data) · citizen_b (uninvolved citizen) ·
  legal_worker · other_mediator (another organisation) · assigned_mediator · other_head (head of another
  organisation) · other_reviewer (another jurisdiction) · reviewer (in jurisdiction) · admin
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

ROLES = ("anonymous", "citizen_a", "citizen_b", "legal_worker", "other_mediator", "assigned_mediator",
         "other_head", "other_reviewer", "reviewer", "admin")
STAFF = {"legal_worker", "other_mediator", "assigned_mediator", "other_head", "other_reviewer", "reviewer", "admin"}
LOGGED_IN = set(ROLES) - {"anonymous"}
EVERYONE = set(ROLES)

#: role → demo mobile (accounts created by the security fixture are marked "+").
ROLE_ACCOUNTS = {
    "citizen_a": "13800000001",
    "citizen_b": "+13800000101",
    "legal_worker": "13800000003",
    "other_mediator": "13800000012",
    "assigned_mediator": "13800000004",
    "other_head": "13800000011",
    "other_reviewer": "+13800000102",
    "reviewer": "13800000007",
    "admin": "13800000010",
}


@dataclass
class Policy:
    #: Roles that may use the endpoint (the others must be refused: 401/403/404 or sent to login).
    allow: set[str]
    #: Builds the URL parameters from the demo site (called inside an app context), or None.
    params: Callable[[], dict] | None = None
    #: Why the entry is what it is, where it is not obvious.
    note: str = ""
    #: Skip the GET check (an endpoint whose GET is a download or a stream is still checked for refusals).
    methods: tuple[str, ...] = field(default_factory=tuple)
    #: Roles of ``allow`` that reach the object (they may read it) but whose POST must still be refused,
    #: by the action's own rule: 403, 404 or 409 (e.g. a party trying the mediator's transition). Their
    #: empty POST is tried; it cannot change anything because it is refused before the form is read.
    refuse_post: set[str] = field(default_factory=set)


def public(**kw) -> Policy:
    return Policy(EVERYONE, **kw)


def logged_in(**kw) -> Policy:
    return Policy(set(LOGGED_IN), **kw)


def only(*roles: str, **kw) -> Policy:
    return Policy(set(roles), **kw)
