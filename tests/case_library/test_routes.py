"""HTTP: who sees what, messages beside fields, and review through the pages."""
import pytest

from case_library.models import CaseState, ExemplaryCase
from case_library.search import cases_index
from portal.extensions import db
from tests.case_library.conftest import approve_through
from tests.conftest import text_of


def form_data(**overrides):
    data = {"title": "一起因宅基地边界引发的邻里纠纷调解案", "dispute_type": "房屋宅基地",
            "region_code": "220102001000", "keywords": "宅基地", "basic_facts": "张建国与李秀兰因宅基地发生争执。",
            "mediation_process": "调解员实地测量。", "result": "达成协议。", "commentary": "以证据说话。",
            "legal_basis": "《中华人民共和国民法典》第二百八十八条。", "party_names": "张建国\n李秀兰", "next": "save"}
    data.update(overrides)
    return data


def test_a_mediator_writes_saves_previews_and_submits(client, auth, people):
    auth.login(people.mediator)
    page = text_of(client.get("/cases/new"))
    assert "从空白页撰写" in page or "从空白页" in page
    resp = client.post("/cases/new", data=form_data(next="submit"))
    assert resp.status_code == 302
    case = db.session.execute(db.select(ExemplaryCase)).scalar_one()
    preview = text_of(client.get(f"/cases/{case.id}/submit"))
    assert "张某与李某因宅基地发生争执" in preview and "姓名 张** → 张某" in preview
    resp = client.post(f"/cases/{case.id}/submit", data={"version": case.version})
    assert resp.status_code == 302
    db.session.expire_all()
    assert case.state == CaseState.in_review and case.current_tier == "township"


def test_empty_title_gives_a_message_beside_the_field_and_saves_nothing(client, auth, people):
    auth.login(people.mediator)
    resp = client.post("/cases/new", data=form_data(title=""))
    assert resp.status_code == 200
    assert 'id="title-err"' in resp.get_data(as_text=True) and "请填写标题" in text_of(resp)
    assert db.session.execute(db.select(ExemplaryCase)).first() is None


def test_a_region_above_county_is_refused_beside_the_field(client, auth, people):
    auth.login(people.mediator)
    resp = client.post("/cases/new", data=form_data(region_code="220100000000"))
    assert "至少选到县（区）一级" in text_of(resp)
    assert db.session.execute(db.select(ExemplaryCase)).first() is None


def test_submission_refused_while_a_phone_remains(client, auth, people, make_case):
    case = make_case(process="电话138 0000.0001")
    auth.login(people.mediator)
    resp = client.post(f"/cases/{case.id}/submit", data={"version": case.version})
    assert resp.status_code == 200 and "手机号码" in text_of(resp)
    db.session.expire_all()
    assert case.state == CaseState.draft


def test_empty_section_refused_at_submission(client, auth, people, make_case):
    case = make_case(legal_basis="")
    auth.login(people.mediator)
    resp = client.post(f"/cases/{case.id}/submit", data={"version": case.version})
    assert "请填写“法律依据”" in text_of(resp)


@pytest.mark.parametrize("who,status", [(None, 404), ("citizen", 404), ("other_mediator", 404),
                                        ("township_reviewer", 404), ("mediator", 200)])
def test_a_draft_is_private_to_its_author(client, auth, people, make_case, who, status):
    case = make_case()
    if who:
        auth.login(getattr(people, who))
    assert client.get(f"/cases/{case.id}").status_code == status


@pytest.mark.parametrize("who,status", [("other_township_reviewer", 404), ("other_county_reviewer", 404),
                                        ("township_reviewer", 200), ("province_reviewer", 200)])
def test_a_case_in_review_is_visible_only_within_the_jurisdiction(client, auth, people, make_case, who, status):
    case = make_case(submit=True)
    auth.login(getattr(people, who))
    assert client.get(f"/cases/{case.id}/review").status_code == status


def test_only_mediators_write_and_only_reviewers_see_a_queue(client, auth, people):
    auth.login(people.citizen)
    assert client.get("/cases/new").status_code == 403
    assert client.get("/cases/review").status_code == 403
    assert client.post("/cases/new", data=form_data()).status_code == 403


def test_review_through_the_pages_with_a_stale_form(client, auth, people, make_case):
    case = make_case(submit=True)
    stale = case.version
    auth.login(people.township_reviewer)
    queue = text_of(client.get("/cases/review"))
    assert case.title in queue and "已等待" in queue
    assert client.post(f"/cases/{case.id}/review", data={"action": "approve", "version": stale}).status_code == 302
    auth.logout()
    auth.login(people.township_reviewer2)
    resp = client.post(f"/cases/{case.id}/review", data={"action": "reject", "comment": "不宜", "version": stale},
                       follow_redirects=True)
    assert resp.status_code == 200 and "刷新" in text_of(resp)
    db.session.expire_all()
    assert case.state == CaseState.in_review and case.current_tier == "county"


def test_return_needs_a_comment_beside_the_field(client, auth, people, make_case):
    case = make_case(submit=True)
    auth.login(people.township_reviewer)
    resp = client.post(f"/cases/{case.id}/review", data={"action": "return", "comment": "", "version": case.version})
    assert "退回修改须写明修改意见" in text_of(resp)


def test_unpublish_through_the_page(client, auth, people, make_case):
    case = make_case(submit=True)
    approve_through(people, case)
    assert cases_index.search("宅基地").total == 1
    auth.login(people.province_reviewer)
    resp = client.post(f"/cases/{case.id}/unpublish", data={"reason": "", "version": case.version},
                       follow_redirects=True)
    assert "撤销发布的理由" in text_of(resp)
    resp = client.post(f"/cases/{case.id}/unpublish", data={"reason": "需核实", "version": case.version},
                       follow_redirects=True)
    assert "已撤销发布" in text_of(resp)
    auth.logout()
    assert "共 0 件" in text_of(client.get("/cases/", query_string={"q": "宅基地"}))
    assert client.get(f"/cases/{case.id}").status_code == 404


def test_dashboard_sections(client, auth, people, make_case):
    case = make_case(submit=True)
    auth.login(people.township_reviewer)
    page = text_of(client.get("/me"))
    assert "待审核案例：1" in page and case.title in page


def test_forms_need_csrf(csrf_app, people, make_case):
    client = csrf_app.test_client()
    case = make_case(submit=True)
    csrf_app.config["WTF_CSRF_ENABLED"] = False
    client.post("/login", data={"mobile": people.township_reviewer.mobile, "password": "Passw0rd2026"})
    csrf_app.config["WTF_CSRF_ENABLED"] = True
    assert client.get("/cases/review").status_code == 200  # logged in as the reviewer
    resp = client.post(f"/cases/{case.id}/review", data={"action": "approve", "version": case.version})
    assert resp.status_code != 302 or "/cases/review" not in resp.headers.get("Location", "")
    db.session.expire_all()
    assert case.current_tier == "township" and case.state == CaseState.in_review
