"""Who may see and do what, for each role: applicant, respondent, another citizen, the case's
mediator, a mediator of another organisation, the head, the head of another organisation, a
reviewer and an administrator."""
from __future__ import annotations

import pytest

from portal.extensions import db
from portal.mediation import operations as ops
from portal.mediation.models import CaseState
from portal.mediation.permissions import can_export_case, can_view_case
from portal.mediation.states import MediationError
from tests.conftest import PASSWORD
from tests.mediation.conftest import agreement_fields, future_local

ROLES = ["applicant", "respondent", "other_citizen", "mediator", "other_mediator", "head", "other_head",
         "reviewer", "admin"]
INSIDERS = {"applicant", "respondent", "mediator", "head"}


def test_view_and_export_per_role(world, make_case, client, auth):
    case = make_case(CaseState.settled)
    for role in ROLES:
        user = getattr(world, role)
        assert can_view_case(user, case) is (role in INSIDERS), role
        assert can_export_case(user, case) is (role in INSIDERS), role
        auth.login(user)
        expected = 200 if role in INSIDERS else 404
        assert client.get(f"/mediation/cases/{case.id}").status_code == expected, role
        assert client.get(f"/mediation/cases/{case.id}/dossier.zip").status_code == expected, role
        assert client.get(f"/mediation/cases/{case.id}/agreement.pdf").status_code == expected, role
        pdf_id = case.agreement.pdf_attachment_id
        assert client.get(f"/files/{pdf_id}").status_code == expected, role
        # An outsider's POST to an action is 404 too: nothing confirms the case exists.
        if role not in INSIDERS:
            assert client.post(f"/mediation/cases/{case.id}/archive", data={"archive-followup_note": "x"}).status_code == 404
        auth.logout()
    db.session.refresh(case)
    assert case.state == CaseState.settled


ACTIONS = {
    # action: (state, call(user, case, world), roles that succeed)
    "accept": (CaseState.submitted, lambda u, c, w: ops.accept_case(u, c), {"head"}),
    "decline": (CaseState.submitted, lambda u, c, w: ops.decline_case(u, c, "理由", "litigation"), {"head"}),
    "consent": (CaseState.awaiting_consent, lambda u, c, w: ops.consent_case(u, c), {"respondent"}),
    "refuse": (CaseState.awaiting_consent, lambda u, c, w: ops.refuse_case(u, c, ""), {"respondent"}),
    "assign": (CaseState.in_mediation, lambda u, c, w: ops.assign_mediator(u, c, w.second_mediator), {"head"}),
    "schedule": (CaseState.in_mediation,
                 lambda u, c, w: ops.schedule_session(u, c, future_local(), "onsite", "调解室"), {"head", "mediator"}),
    "propose": (CaseState.in_mediation, lambda u, c, w: ops.propose_agreement(u, c, **agreement_fields()), {"mediator"}),
    "sign": (CaseState.agreement_pending, lambda u, c, w: ops.sign_agreement(u, c, u.real_name, PASSWORD),
             {"applicant", "respondent"}),  # the mediator signs only after the parties
    "fail": (CaseState.in_mediation, lambda u, c, w: ops.fail_case(u, c, "分歧大", "litigation"), {"mediator"}),
    "withdraw": (CaseState.in_mediation, lambda u, c, w: ops.withdraw_case(u, c), {"applicant"}),
    "archive": (CaseState.failed, lambda u, c, w: ops.archive_case(u, c, "回访"), {"mediator"}),
}


@pytest.mark.parametrize("action", list(ACTIONS))
def test_action_per_role(action, world, make_case):
    state, call, allowed = ACTIONS[action]
    for role in ROLES:
        case = make_case(state)
        user = getattr(world, role)
        if role in allowed:
            call(user, case, world)
            db.session.commit()
        else:
            with pytest.raises(MediationError) as err:
                call(user, case, world)
            db.session.rollback()
            assert "只有" in str(err.value) or "须待" in str(err.value), (role, str(err.value))
            db.session.refresh(case)
            assert case.state == state, role


def test_mediator_signs_after_the_parties(world, make_case):
    case = make_case(CaseState.agreement_pending)
    with pytest.raises(MediationError, match="须待各方当事人签署后"):
        ops.sign_agreement(world.mediator, case, world.mediator.real_name, PASSWORD)
    db.session.rollback()
    ops.sign_agreement(world.respondent, case, world.respondent.real_name, PASSWORD)
    ops.sign_agreement(world.applicant, case, world.applicant.real_name, PASSWORD)
    ops.sign_agreement(world.mediator, case, world.mediator.real_name, PASSWORD)
    db.session.commit()
    assert case.state == CaseState.settled
