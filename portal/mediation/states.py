"""The state table of a mediation case (DESIGN.md §3) as data, and the one function that moves a
case along it.

Each row says: in state ``source``, action ``action`` may be taken by one of ``roles`` and leads to
``target``. Rows whose target equals the source are actions that change the case without moving it
(assigning a mediator, scheduling a session, extending the deadline); actions that need every party
(consent, sign) move the case only when the last one acts.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

from portal import audit
from portal.mediation.models import CaseState, MediationCase, utcnow


class MediationError(ValueError):
    """A refused mediation action, with a Chinese message (and the form field it belongs to)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class Action(enum.StrEnum):
    accept = "accept"
    decline = "decline"
    consent = "consent"
    refuse = "refuse"
    assign = "assign"
    schedule = "schedule"
    extend = "extend"
    propose = "propose"
    sign = "sign"
    fail = "fail"
    withdraw = "withdraw"
    archive = "archive"

    @property
    def label(self) -> str:
        return ACTION_LABELS[self]


ACTION_LABELS = {
    Action.accept: "受理", Action.decline: "不予受理", Action.consent: "同意调解", Action.refuse: "拒绝调解",
    Action.assign: "指派调解员", Action.schedule: "安排调解", Action.extend: "延长调解期限",
    Action.propose: "提出调解协议", Action.sign: "签署调解协议", Action.fail: "终结调解（调解不成）",
    Action.withdraw: "撤回申请", Action.archive: "回访并归档",
}

#: Who acts: the applicant, a respondent, the head of the case's organisation, the case's mediator.
ROLE_LABELS = {"applicant": "申请人", "respondent": "被申请人", "head": "本调委会主任", "mediator": "本案调解员"}


@dataclass(frozen=True)
class Transition:
    source: CaseState
    action: Action
    roles: frozenset[str]
    target: CaseState


S, A = CaseState, Action
_PARTIES = frozenset({"applicant", "respondent"})


def _t(source, action, roles, target=None):
    return Transition(source, action, frozenset(roles), target or source)


TRANSITIONS: tuple[Transition, ...] = (
    _t(S.submitted, A.accept, {"head"}, S.awaiting_consent),
    _t(S.submitted, A.decline, {"head"}, S.declined),
    _t(S.awaiting_consent, A.consent, {"respondent"}, S.in_mediation),
    _t(S.awaiting_consent, A.refuse, {"respondent"}, S.refused),
    _t(S.in_mediation, A.assign, {"head"}),
    _t(S.in_mediation, A.schedule, {"mediator", "head"}),
    _t(S.agreement_pending, A.schedule, {"mediator", "head"}),
    _t(S.in_mediation, A.extend, {"mediator", "head"}),
    _t(S.agreement_pending, A.extend, {"mediator", "head"}),
    _t(S.in_mediation, A.propose, {"mediator"}, S.agreement_pending),
    _t(S.agreement_pending, A.sign, _PARTIES | {"mediator"}, S.settled),
    _t(S.in_mediation, A.fail, {"mediator"}, S.failed),
    _t(S.agreement_pending, A.fail, {"mediator"}, S.failed),
    _t(S.submitted, A.withdraw, {"applicant"}, S.withdrawn),
    _t(S.awaiting_consent, A.withdraw, {"applicant"}, S.withdrawn),
    _t(S.in_mediation, A.withdraw, {"applicant"}, S.withdrawn),
    _t(S.agreement_pending, A.withdraw, {"applicant"}, S.withdrawn),
    _t(S.settled, A.archive, {"mediator"}, S.archived),
    _t(S.failed, A.archive, {"mediator"}, S.archived),
)

TABLE: dict[tuple[CaseState, Action], Transition] = {(t.source, t.action): t for t in TRANSITIONS}


def roles_of(user, case: MediationCase) -> set[str]:
    """The capacities in which ``user`` stands to ``case``."""
    from portal.accounts.models import Role

    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    roles = set()
    if case.applicant_id == user.id:
        roles.add("applicant")
    if any(r.user_id == user.id for r in case.respondents):
        roles.add("respondent")
    if case.organisation_id in user.organisation_ids(Role.committee_head):
        roles.add("head")
    if case.mediator_id is not None and case.mediator_id == user.id:
        roles.add("mediator")
    return roles


def allowed(case: MediationCase, action: Action | str, user) -> bool:
    """True when the table lets ``user`` take ``action`` on ``case`` now (for showing buttons)."""
    t = TABLE.get((case.state_enum, Action(action)))
    return t is not None and bool(t.roles & roles_of(user, case))


def check(case: MediationCase, action: Action | str, user) -> Transition:
    """The transition for ``action`` now, or :class:`MediationError` saying why it is refused."""
    action = Action(action)
    t = TABLE.get((case.state_enum, action))
    if t is None:
        raise MediationError(f"案件当前状态为“{case.state_label}”，不能{action.label}")
    if not (t.roles & roles_of(user, case)):
        who = "或".join(ROLE_LABELS[r] for r in sorted(t.roles))
        raise MediationError(f"只有{who}可以{action.label}")
    return t


def transition(case: MediationCase, action: Action | str, user, *, complete: bool = True, **detail) -> Transition:
    """Check ``action`` against the table and apply it: move the case to the target state when
    ``complete`` (an action needing every party is complete when the last one acts) and write the
    audit record in the caller's transaction. Returns the transition."""
    t = check(case, action, user)
    source = case.state_enum
    target = t.target if complete else source
    case.state = target.value
    if target in (S.declined, S.refused, S.failed, S.withdrawn) and target != source:
        case.closed_at = utcnow()
    audit.record(user, f"mediation.{t.action.value}", "mediation_case", case.id,
                 **{"from": source.value, "to": target.value}, **detail)
    return t
