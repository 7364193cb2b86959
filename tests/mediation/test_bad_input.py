"""Bad input: a clear Chinese message, and nothing half-saved."""
from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.mediation import operations as ops
from portal.mediation.models import CaseState, MediationCase, MediationSession, Signature
from portal.mediation.states import MediationError
from portal.uploads import Attachment
from tests.conftest import PASSWORD, text_of
from tests.mediation.conftest import VILLAGE

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def count(model):
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def apply_data(world, **over):
    data = {"dispute_type": "邻里纠纷", "region_code": VILLAGE, "organisation_id": "",
            "respondents-0-name": "李秀兰", "respondents-0-mobile": world.respondent.mobile,
            "respondents-0-id_number": "", "amount": "3200", "facts": "楼上漏水。", "claims": "赔偿损失。"}
    data.update(over)
    return data


def test_apply_over_http_with_evidence(world, client, auth):
    auth.login(world.applicant)
    data = apply_data(world)
    data["evidence"] = [(io.BytesIO(PNG), "漏水照片.png")]
    resp = client.post("/mediation/apply", data=data, content_type="multipart/form-data")
    assert resp.status_code == 302
    case = db.session.execute(select(MediationCase)).scalar_one()
    assert case.state == CaseState.submitted and case.organisation_id == world.org.id
    assert case.amount == Decimal(3200)
    atts = db.session.execute(select(Attachment).where(Attachment.owner_type == "mediation_case")).scalars().all()
    assert [a.content_type for a in atts] == ["image/png"]
    # the head is told, and finds it in the queue on 我的事项
    auth.logout()
    auth.login(world.head)
    assert case.number in text_of(client.get("/me"))


def test_disguised_file_is_refused_and_nothing_saved(world, client, auth):
    auth.login(world.applicant)
    data = apply_data(world)
    data["evidence"] = [(io.BytesIO(PNG), "ok.png"), (io.BytesIO(b"MZ\x90\x00 not really a picture" * 20), "照片.jpg")]
    resp = client.post("/mediation/apply", data=data, content_type="multipart/form-data")
    assert resp.status_code == 400
    assert "实际内容不是允许的类型" in text_of(resp)
    assert count(MediationCase) == 0 and count(Attachment) == 0


def test_negative_amount_http_and_operation(world, client, auth):
    auth.login(world.applicant)
    resp = client.post("/mediation/apply", data=apply_data(world, amount="-5"))
    assert resp.status_code == 400 and "争议金额不能为负数" in text_of(resp)
    with pytest.raises(MediationError, match="争议金额不能为负数"):
        ops.apply_for_mediation(world.applicant, respondents=[{"name": "李秀兰", "mobile": world.respondent.mobile}],
                                dispute_type="邻里纠纷", region=world.village, facts="f", claims="c", amount=Decimal(-1))
    db.session.rollback()
    assert count(MediationCase) == 0


def test_respondent_equal_to_applicant(world, client, auth):
    auth.login(world.applicant)
    resp = client.post("/mediation/apply", data=apply_data(world, **{"respondents-0-mobile": world.applicant.mobile}))
    assert resp.status_code == 400 and "被申请人不能是申请人本人" in text_of(resp)
    with pytest.raises(MediationError, match="被申请人不能是申请人本人"):
        ops.apply_for_mediation(world.applicant, respondents=[{"name": "某", "mobile": "13900000000",
                                                                "id_number": world.applicant.id_number}],
                                dispute_type="邻里纠纷", region=world.village, facts="f", claims="c")
    db.session.rollback()
    assert count(MediationCase) == 0


def test_region_must_reach_village_and_org_must_fit(world, client, auth):
    auth.login(world.applicant)
    resp = client.post("/mediation/apply", data=apply_data(world, region_code="220102001000"))
    assert resp.status_code == 400 and "具体到村（社区）" in text_of(resp)
    resp = client.post("/mediation/apply", data=apply_data(world, organisation_id=str(world.other_org.id)))
    assert resp.status_code == 400 and "请从推荐的组织中选择" in text_of(resp)
    assert count(MediationCase) == 0


def test_past_session_date(world, make_case, client, auth):
    case = make_case(CaseState.in_mediation)
    past = dt.datetime.combine(ops.beijing_today() - dt.timedelta(days=1), dt.time(10, 0))
    with pytest.raises(MediationError, match="调解时间不能早于当前时间"):
        ops.schedule_session(world.mediator, case, past, "onsite", "调解室")
    db.session.rollback()
    auth.login(world.mediator)
    resp = client.post(f"/mediation/cases/{case.id}/sessions", data={
        "schedule-starts_at": past.strftime("%Y-%m-%dT%H:%M"), "schedule-mode": "onsite", "schedule-place": "调解室"})
    assert resp.status_code == 400 and "调解时间不能早于当前时间" in text_of(resp)
    assert count(MediationSession) == 0
    future = past + dt.timedelta(days=3)
    resp = client.post(f"/mediation/cases/{case.id}/sessions", data={
        "schedule-starts_at": future.strftime("%Y-%m-%dT%H:%M"), "schedule-mode": "onsite", "schedule-place": "调解室"})
    assert resp.status_code == 302 and count(MediationSession) == 1


def test_signing_twice_wrong_name_wrong_password(world, make_case, client, auth):
    case = make_case(CaseState.agreement_pending)
    with pytest.raises(MediationError, match="签名须与您实名登记的姓名一致"):
        ops.sign_agreement(world.applicant, case, "张三", PASSWORD)
    with pytest.raises(MediationError, match="密码不正确"):
        ops.sign_agreement(world.applicant, case, world.applicant.real_name, "wrong-password1")
    db.session.rollback()
    assert count(Signature) == 0
    auth.login(world.applicant)
    form = {"sign-typed_name": world.applicant.real_name, "sign-password": PASSWORD}
    assert client.post(f"/mediation/cases/{case.id}/sign", data=form).status_code == 302
    with pytest.raises(MediationError, match="不能重复签署"):
        ops.sign_agreement(world.applicant, case, world.applicant.real_name, PASSWORD)
    db.session.rollback()
    resp = client.post(f"/mediation/cases/{case.id}/sign", data=form)
    assert resp.status_code == 400 and "不能重复签署" in text_of(resp)
    assert count(Signature) == 1


def test_signing_someone_elses_agreement(world, make_case, client, auth):
    case = make_case(CaseState.agreement_pending)
    with pytest.raises(MediationError, match="只有"):
        ops.sign_agreement(world.other_citizen, case, world.other_citizen.real_name, PASSWORD)
    db.session.rollback()
    auth.login(world.other_citizen)
    resp = client.post(f"/mediation/cases/{case.id}/sign",
                       data={"sign-typed_name": world.other_citizen.real_name, "sign-password": PASSWORD})
    assert resp.status_code == 404
    assert count(Signature) == 0


def test_acting_on_another_organisations_case(world, make_case, client, auth):
    case = make_case(CaseState.submitted)
    with pytest.raises(MediationError, match="只有本调委会主任可以受理"):
        ops.accept_case(world.other_head, case)
    db.session.rollback()
    auth.login(world.other_head)
    assert client.post(f"/mediation/cases/{case.id}/accept").status_code == 404
    db.session.refresh(case)
    assert case.state == CaseState.submitted
    # nor may a head assign a mediator of another organisation to his own case
    case2 = make_case(CaseState.awaiting_consent)
    ops.consent_case(world.respondent, case2)
    with pytest.raises(MediationError, match="只能指派本调委会的调解员"):
        ops.assign_mediator(world.head, case2, world.other_mediator)
    db.session.rollback()
    db.session.refresh(case2)
    assert case2.mediator_id is None


def test_decline_needs_reason_and_shows_channel(world, make_case, client, auth):
    case = make_case(CaseState.submitted)
    auth.login(world.head)
    resp = client.post(f"/mediation/cases/{case.id}/decline", data={"decline-reason": "", "decline-referral": "arbitration"})
    assert resp.status_code == 400 and "请填写不予受理的理由" in text_of(resp)
    resp = client.post(f"/mediation/cases/{case.id}/decline",
                       data={"decline-reason": "属劳动争议，应先行仲裁", "decline-referral": "arbitration"})
    assert resp.status_code == 302
    auth.logout()
    auth.login(world.applicant)
    page = text_of(client.get(f"/mediation/cases/{case.id}"))
    assert "不予受理" in page and "申请仲裁" in page and "法律援助" in page


def test_extension_only_once(world, make_case):
    case = make_case(CaseState.in_mediation)
    due = case.mediation_due
    ops.extend_deadline(world.mediator, case, "当事人住院")
    assert case.mediation_due == due + dt.timedelta(days=30)
    with pytest.raises(MediationError, match="只能延长一次"):
        ops.extend_deadline(world.head, case, "再延")
    db.session.rollback()


def test_actions_need_the_csrf_token(world, make_case, app, client, auth):
    case = make_case(CaseState.submitted)
    auth.login(world.head)
    app.config["WTF_CSRF_ENABLED"] = True  # from here on, as in production
    html = client.get(f"/mediation/cases/{case.id}").get_data(as_text=True)
    assert 'name="accept-csrf_token"' in html
    resp = client.post(f"/mediation/cases/{case.id}/accept")
    assert resp.status_code == 303  # the frame's CSRF handler sends the browser back with a message
    assert "未保存任何内容" in text_of(client.get(resp.headers["Location"]))
    db.session.refresh(case)
    assert case.state == CaseState.submitted
