"""Every (state, action) pair of the state table: legal ones succeed with their audit record,
every other is refused with a Chinese message and leaves the case as it was."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.audit import AuditRecord
from portal.extensions import db
from portal.mediation import operations as ops
from portal.mediation.models import CaseState
from portal.mediation.states import TABLE, Action, MediationError
from tests.conftest import PASSWORD
from tests.mediation.conftest import agreement_fields, future_local


def perform(action: Action, case, w):
    return {
        Action.accept: lambda: ops.accept_case(w.head, case),
        Action.decline: lambda: ops.decline_case(w.head, case, "不属于人民调解范围", "litigation"),
        Action.consent: lambda: ops.consent_case(w.respondent, case),
        Action.refuse: lambda: ops.refuse_case(w.respondent, case, "不愿调解"),
        Action.assign: lambda: ops.assign_mediator(w.head, case, w.second_mediator),
        Action.schedule: lambda: ops.schedule_session(w.mediator, case, future_local(), "onsite", "调解室"),
        Action.extend: lambda: ops.extend_deadline(w.mediator, case, "当事人外出务工"),
        Action.propose: lambda: ops.propose_agreement(w.mediator, case, **agreement_fields()),
        Action.sign: lambda: ops.sign_agreement(w.applicant, case, w.applicant.real_name, PASSWORD),
        Action.fail: lambda: ops.fail_case(w.mediator, case, "分歧过大", "arbitration"),
        Action.withdraw: lambda: ops.withdraw_case(w.applicant, case, "已和解"),
        Action.archive: lambda: ops.archive_case(w.mediator, case, "回访：已履行"),
    }[action]()


def _audit_count():
    return db.session.execute(select(db.func.count(AuditRecord.id))).scalar_one()


@pytest.mark.parametrize("state", list(CaseState))
def test_every_state_action_pair(state, world, make_case):
    """For one state, every action on a fresh case in that state (one app per state keeps it quick)."""
    for action in Action:
        case = make_case(state)
        before = _audit_count()
        if (state, action) in TABLE:
            perform(action, case, world)
            db.session.commit()
            expected = TABLE[(state, action)].target
            if action is Action.sign:  # the applicant alone does not complete the signatures
                expected = CaseState.agreement_pending
            assert case.state == expected, (state, action)
            rec = db.session.execute(
                select(AuditRecord).where(AuditRecord.action == f"mediation.{action.value}",
                                          AuditRecord.object_id == str(case.id)).order_by(AuditRecord.id.desc())
            ).scalars().first()
            assert rec is not None and rec.detail_dict["to"] == expected.value, (state, action)
        else:
            with pytest.raises(MediationError) as err:
                perform(action, case, world)
            db.session.rollback()
            assert "不能" in str(err.value) and state.label in str(err.value), (state, action)
            db.session.refresh(case)
            assert case.state == state, (state, action)
            assert _audit_count() == before, (state, action)


def test_table_covers_design_contract():
    """The rows of DESIGN.md §3 are all present."""
    S, A = CaseState, Action
    for src, act, dst in [
        (S.submitted, A.accept, S.awaiting_consent), (S.submitted, A.decline, S.declined),
        (S.awaiting_consent, A.consent, S.in_mediation), (S.awaiting_consent, A.refuse, S.refused),
        (S.in_mediation, A.propose, S.agreement_pending), (S.agreement_pending, A.sign, S.settled),
        (S.in_mediation, A.fail, S.failed), (S.agreement_pending, A.fail, S.failed),
        (S.settled, A.archive, S.archived), (S.failed, A.archive, S.archived),
    ] + [(s, A.withdraw, S.withdrawn) for s in (S.submitted, S.awaiting_consent, S.in_mediation, S.agreement_pending)]:
        assert TABLE[(src, act)].target is dst


def test_full_signing_settles_and_makes_pdf(world, make_case):
    from io import BytesIO

    from pypdf import PdfReader

    from portal.uploads import Attachment, attachment_path

    case = make_case(CaseState.settled)
    assert case.settled_at is not None and case.confirmation_due is not None
    att = db.session.get(Attachment, case.agreement.pdf_attachment_id)
    text = "".join(p.extract_text() for p in PdfReader(BytesIO(attachment_path(att).read_bytes())).pages)
    text = "".join(text.split())
    for needle in ("张建国", "李秀兰", "被申请人赔偿申请人人民币叁仟贰佰元整", "人民调解协议书", "赵调解"):
        assert needle in text
