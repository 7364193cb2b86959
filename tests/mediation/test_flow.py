"""The rest of the flow: invitation of a respondent without an account, online sessions with a
mediation room and its transcript, the dossier export, deadlines and 我的事项."""
from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import pytest

from portal.accounts.models import Role
from portal.extensions import db
from portal.mediation import operations as ops
from portal.mediation.models import CaseState
from portal.mediation.states import MediationError
from portal.notifications import Notification, sms_backend
from portal.uploads import attachments_of
from tests.conftest import PASSWORD, text_of
from tests.mediation.conftest import future_local


def test_respondent_with_account_gets_inbox_notice(world, make_case):
    case = make_case(CaseState.awaiting_consent)
    assert case.respondents[0].user_id == world.respondent.id
    titles = [n.title for n in db.session.execute(
        db.select(Notification).where(Notification.user_id == world.respondent.id)).scalars()]
    assert "您被列为调解案件的被申请人" in titles
    assert not [m for m, _ in sms_backend().sent if m == world.respondent.mobile]


def test_respondent_without_account_is_invited_by_sms(world, factory, client, auth):
    case = ops.apply_for_mediation(world.applicant, respondents=[{"name": "刘德明", "mobile": "13700001111"}],
                                   dispute_type="借贷纠纷", region=world.village, facts="借款未还。", claims="还款。")
    ops.accept_case(world.head, case)
    db.session.commit()
    mobile, text = sms_backend().sent[-1]
    assert mobile == "13700001111"
    token = re.search(r"/mediation/invite/([\w-]+)", text).group(1)
    code = re.search(r"验证码 (\d{6})", text).group(1)
    newcomer = factory.user(name="刘德明", mobile="13700001111")
    auth.login(newcomer)
    assert client.get(f"/mediation/cases/{case.id}").status_code == 404
    resp = client.post(f"/mediation/invite/{token}", data={"code": "000000" if code != "000000" else "111111"})
    assert resp.status_code == 400 and "验证码不正确" in text_of(resp)
    resp = client.post(f"/mediation/invite/{token}", data={"code": code})
    assert resp.status_code == 302
    assert client.get(f"/mediation/cases/{case.id}").status_code == 200
    # one-time: the link cannot be used again, by anyone
    assert "邀请链接无效或已使用" in text_of(client.post(f"/mediation/invite/{token}", data={"code": code}))
    assert client.post(f"/mediation/cases/{case.id}/consent").status_code == 302
    db.session.refresh(case)
    assert case.state == CaseState.in_mediation and case.mediation_due == ops.beijing_today() + dt.timedelta(days=30)


def test_online_session_opens_a_room_and_files_transcript(world, make_case, app):
    pytest.importorskip("mediation_room.operations")
    from mediation_room.models import Room
    from mediation_room.signals import room_ended

    case = make_case(CaseState.in_mediation)
    session = ops.schedule_session(world.mediator, case, future_local(), "online")
    db.session.commit()
    room = db.session.get(Room, session.room_id)
    assert room is not None and room.ref_type == "mediation_case" and room.ref_id == case.id
    member_ids = {m.user_id for m in room.members}
    assert member_ids == {world.mediator.id, world.applicant.id, world.respondent.id}
    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    room_ended.send(room, transcript_text="调解员：请双方陈述。", transcript_pdf=pdf)
    db.session.commit()
    names = [a.original_name for a in attachments_of("mediation_case", case.id)]
    assert any(n.startswith("调解笔录") for n in names)


def test_dossier_export_contents(world, make_case, client, auth):
    case = make_case(CaseState.archived)
    auth.login(world.head)
    resp = client.get(f"/mediation/cases/{case.id}/dossier.zip")
    assert resp.status_code == 200
    z = zipfile.ZipFile(io.BytesIO(resp.data))
    names = z.namelist()
    assert "01_申请书.txt" in names and "05_调解协议书.pdf" in names and "06_操作记录.json" in names
    assert "楼上住户卫生间漏水" in z.read("01_申请书.txt").decode()
    trail = z.read("06_操作记录.json").decode()
    for action in ("mediation.apply", "mediation.accept", "mediation.consent", "mediation.sign", "mediation.archive"):
        assert action in trail


def test_archived_dossier_is_read_only(world, make_case, client, auth):
    case = make_case(CaseState.archived)
    auth.login(world.mediator)
    page = text_of(client.get(f"/mediation/cases/{case.id}"))
    assert "卷宗已封存" in page and "回访并归档" in page  # the timeline names the step
    resp = client.post(f"/mediation/cases/{case.id}/fail", data={"fail-reason": "x", "fail-referral": "litigation"})
    assert resp.status_code == 409 and "不能终结调解" in text_of(resp)
    with pytest.raises(MediationError):
        ops.schedule_session(world.mediator, case, future_local(), "onsite", "x")


def test_overdue_acceptance_is_flagged_to_head(world, make_case, client, auth, app):
    assert app.config["MEDIATION_ACCEPT_DAYS"] == 3
    case = make_case(CaseState.submitted)
    assert case.accept_due == ops.add_working_days(ops.beijing_today(), 3)
    assert case.overdue() is None
    case.accept_due = ops.beijing_today() - dt.timedelta(days=1)
    db.session.commit()
    assert case.overdue() == "受理逾期"
    auth.login(world.head)
    assert "受理逾期" in text_of(client.get("/me"))


def test_working_days_skip_weekends():
    friday = dt.date(2026, 11, 27)
    assert ops.add_working_days(friday, 1) == dt.date(2026, 11, 30)
    assert ops.add_working_days(friday, 3) == dt.date(2026, 12, 2)


def test_mediation_overdue_after_thirty_days(world, make_case):
    case = make_case(CaseState.in_mediation)
    assert case.overdue(ops.beijing_today() + dt.timedelta(days=30)) is None
    assert case.overdue(ops.beijing_today() + dt.timedelta(days=31)) == "调解逾期"


def test_dashboard_lists_cases_by_capacity(world, make_case, client, auth):
    case = make_case(CaseState.in_mediation)
    for user, heading in ((world.applicant, "我申请的调解"), (world.respondent, "我作为被申请人的调解"),
                          (world.mediator, "我承办的调解案件"), (world.head, "调委会待办")):
        auth.login(user)
        page = text_of(client.get("/me"))
        assert heading in page and case.number in page, heading
        auth.logout()
    auth.login(world.other_citizen)
    assert case.number not in text_of(client.get("/me"))


def test_mediator_suggestion_by_load_and_type(world, make_case):
    busy = make_case(CaseState.in_mediation)  # assigned to world.mediator
    case = make_case(CaseState.awaiting_consent)
    ops.consent_case(world.respondent, case)
    suggestions = ops.suggest_mediators(case)
    assert suggestions[0][0].id != world.mediator.id  # the least loaded comes first
    loads = {u.id: load for u, load, _ in suggestions}
    assert loads[world.mediator.id] == 1
    assert busy.mediator_id == world.mediator.id
    assert all(world.org.id in u.organisation_ids(Role.mediator) for u, _, _ in suggestions)


def test_organisation_suggestions_json(world, client, auth):
    auth.login(world.applicant)
    data = client.get("/mediation/organisations?region=220102001201&type=邻里纠纷").get_json()
    assert [o["id"] for o in data] == [world.org.id]
    assert client.get("/mediation/organisations?region=220102001201&type=医疗纠纷").get_json() == []


def test_two_respondents_must_all_consent_and_sign(world, factory):
    third = factory.user(name="王大力", mobile="13600002222")
    case = ops.apply_for_mediation(
        world.applicant, respondents=[{"name": "李秀兰", "mobile": world.respondent.mobile},
                                      {"name": "王大力", "mobile": third.mobile}],
        dispute_type="邻里纠纷", region=world.village, facts="两家共同漏水。", claims="共同赔偿。")
    ops.accept_case(world.head, case)
    ops.consent_case(world.respondent, case)
    assert case.state == CaseState.awaiting_consent
    with pytest.raises(MediationError, match="您已答复过"):
        ops.consent_case(world.respondent, case)
    ops.consent_case(third, case)
    assert case.state == CaseState.in_mediation
    ops.assign_mediator(world.head, case, world.mediator)
    from tests.mediation.conftest import agreement_fields

    ops.propose_agreement(world.mediator, case, **agreement_fields())
    for u in (world.applicant, world.respondent):
        ops.sign_agreement(u, case, u.real_name, PASSWORD)
    with pytest.raises(MediationError, match="须待各方当事人签署后"):
        ops.sign_agreement(world.mediator, case, world.mediator.real_name, PASSWORD)
    ops.sign_agreement(third, case, third.real_name, PASSWORD)
    ops.sign_agreement(world.mediator, case, world.mediator.real_name, PASSWORD)
    db.session.commit()
    assert case.state == CaseState.settled and len(case.agreement.signatures) == 4


def test_applicant_withdraws_before_settlement_only(world, make_case, client, auth):
    case = make_case(CaseState.agreement_pending)
    auth.login(world.applicant)
    assert client.post(f"/mediation/cases/{case.id}/withdraw", data={"withdraw-reason": "已自行和解"}).status_code == 302
    db.session.refresh(case)
    assert case.state == CaseState.withdrawn and case.end_reason == "已自行和解"
    settled = make_case(CaseState.settled)
    resp = client.post(f"/mediation/cases/{settled.id}/withdraw", data={"withdraw-reason": "x"})
    assert resp.status_code == 409 and "不能撤回申请" in text_of(resp)


def test_overdue_case_flagged_to_reviewer_of_the_jurisdiction(world, make_case, factory, client, auth):
    from portal.accounts.models import ReviewTier

    case = make_case(CaseState.in_mediation)
    case.mediation_due = ops.beijing_today() - dt.timedelta(days=1)
    db.session.commit()
    elsewhere = factory.user(Role.reviewer, region=factory.region("220102002000"), tier=ReviewTier.township)
    auth.login(world.reviewer)
    page = text_of(client.get("/me"))
    assert "辖区内逾期的调解案件" in page and case.number in page and "调解逾期" in page
    assert client.get(f"/mediation/cases/{case.id}").status_code == 404  # the list, not the dossier
    auth.logout()
    auth.login(elsewhere)
    assert case.number not in text_of(client.get("/me"))


def test_acceptance_days_are_configurable(world, app):
    app.config["MEDIATION_ACCEPT_DAYS"] = 5
    case = ops.apply_for_mediation(world.applicant, respondents=[{"name": "李秀兰", "mobile": world.respondent.mobile}],
                                   dispute_type="邻里纠纷", region=world.village, facts="漏水。", claims="赔偿。")
    assert case.accept_due == ops.add_working_days(ops.beijing_today(), 5)
