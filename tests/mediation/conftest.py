"""Fixtures for online mediation: a small world of people around one organisation, and
``make_case(state)`` which drives a case there through the real operations."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from portal.accounts.models import ReviewTier, Role
from portal.extensions import db
from portal.mediation import operations as ops
from portal.mediation.models import CaseState
from tests.conftest import PASSWORD

VILLAGE = "220102001201"

AGREEMENT = {
    "main_facts": "楼上漏水致楼下天花板受损。", "disputed_matters": "赔偿数额。", "responsibilities": "被申请人负主要责任。",
    "terms": "被申请人赔偿申请人人民币叁仟贰佰元整。", "performance_manner": "银行转账", "performance_place": "长春市南关区",
}


def agreement_fields():
    return dict(AGREEMENT, performance_deadline=ops.beijing_today() + dt.timedelta(days=10))


def future_local(days=2):
    return dt.datetime.combine(ops.beijing_today() + dt.timedelta(days=days), dt.time(9, 30))


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch):
    """Each world makes ten accounts; a cheap PBKDF2 work factor keeps the suite quick. Hashing
    and checking are still the real Werkzeug functions, so a wrong password still fails."""
    from functools import partial

    from werkzeug.security import generate_password_hash

    import portal.accounts.models as account_models

    monkeypatch.setattr(account_models, "generate_password_hash",
                        partial(generate_password_hash, method="pbkdf2:sha256:1000"))


@pytest.fixture
def world(app, factory):
    village = factory.region(VILLAGE, "民康社区")
    org = factory.organisation("南岭街道人民调解委员会", "township", "220102001000",
                               ["邻里纠纷", "借贷纠纷", "婚姻家庭", "其他"])
    other_org = factory.organisation("自强街道人民调解委员会", "township", "220102002000",
                                     ["邻里纠纷", "借贷纠纷", "其他"])
    township = factory.region("220102001000")
    w = SimpleNamespace(
        village=village, org=org, other_org=other_org,
        applicant=factory.user(name="张建国", mobile="13800000001"),
        respondent=factory.user(name="李秀兰", mobile="13800000002"),
        other_citizen=factory.user(name="王小明"),
        mediator=factory.user(Role.mediator, org=org, name="赵调解"),
        second_mediator=factory.user(Role.mediator, org=org, name="钱调解"),
        other_mediator=factory.user(Role.mediator, org=other_org, name="周调解"),
        head=factory.user(Role.mediator, Role.committee_head, org=org, name="孙主任"),
        other_head=factory.user(Role.mediator, Role.committee_head, org=other_org, name="吴主任"),
        reviewer=factory.user(Role.reviewer, region=township, tier=ReviewTier.township, name="周所长"),
        admin=factory.user(Role.admin, name="陈管理"),
    )
    return w


@pytest.fixture
def make_case(world):
    """``make_case(state)``: a committed case in ``state`` reached through the operations."""

    def make(state: CaseState | str = CaseState.submitted, **kw):
        state = CaseState(state)
        w = world
        case = ops.apply_for_mediation(
            w.applicant, respondents=[{"name": "李秀兰", "mobile": w.respondent.mobile}], dispute_type="邻里纠纷",
            region=w.village, facts="楼上住户卫生间漏水。", claims="赔偿损失3200元。", amount=kw.get("amount"),
        )
        if state is CaseState.declined:
            ops.decline_case(w.head, case, "不属于受理范围", "litigation")
        if state not in (CaseState.submitted, CaseState.declined, CaseState.withdrawn):
            ops.accept_case(w.head, case)
        if state is CaseState.refused:
            ops.refuse_case(w.respondent, case, "不同意")
        if state in (CaseState.in_mediation, CaseState.agreement_pending, CaseState.settled, CaseState.failed,
                     CaseState.archived):
            ops.consent_case(w.respondent, case)
            ops.assign_mediator(w.head, case, w.mediator)
        if state in (CaseState.agreement_pending, CaseState.settled, CaseState.archived):
            ops.propose_agreement(w.mediator, case, **agreement_fields())
        if state in (CaseState.settled, CaseState.archived):
            for u in (w.applicant, w.respondent, w.mediator):
                ops.sign_agreement(u, case, u.real_name, PASSWORD)
        if state is CaseState.failed:
            ops.fail_case(w.mediator, case, "分歧过大", "litigation")
        if state is CaseState.archived:
            ops.archive_case(w.mediator, case, "已履行")
        if state is CaseState.withdrawn:
            ops.withdraw_case(w.applicant, case)
        db.session.commit()
        assert case.state == state
        return case

    return make
