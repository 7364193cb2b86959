"""View tests: who may see and do what over HTTP, bad input beside the field, nothing half-saved."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from portal.consultation.models import Consultation, ConsultationMessage
from portal.extensions import db
from portal.uploads import Attachment
from tests.conftest import text_of
from tests.consultation.conftest import EXE, PNG


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def ask_data(**over):
    data = {"category": "劳动争议", "region_code": "220102001000", "title": "公司拖欠三个月工资怎么办",
            "question": "我在长春一家公司上班，老板已经拖欠三个月工资，我想知道应该怎么维权。",
            "visibility": "public"}
    data.update(over)
    return data


# ---- asking -------------------------------------------------------------------------------------

def test_ask_needs_login(client, places):
    resp = client.get("/consultation/ask")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_ask_success_with_attachment(client, auth, citizen, places):
    auth.login(citizen)
    data = ask_data(attachments=[(io.BytesIO(PNG), "证据.png")])
    resp = client.post("/consultation/ask", data=data, content_type="multipart/form-data")
    assert resp.status_code == 302
    c = db.session.execute(select(Consultation)).scalar_one()
    assert resp.headers["Location"].endswith(f"/consultation/{c.id}")
    assert (c.state, c.category, c.asker_id) == ("open", "劳动争议", citizen.id)
    assert count(Attachment) == 1


@pytest.mark.parametrize("over,message", [
    ({"title": ""}, "请填写标题"),
    ({"question": "问" * 2001}, "问题描述应为10至2000个字"),
    ({"category": "炒股"}, "Not a valid choice"),
    ({"region_code": "999999999999"}, "找不到该地区"),
    ({"region_code": ""}, "请选择所在地区"),
])
def test_ask_bad_input_shows_message_and_saves_nothing(client, auth, citizen, places, over, message):
    auth.login(citizen)
    resp = client.post("/consultation/ask", data=ask_data(**over))
    assert resp.status_code == 422
    assert message in text_of(resp) or (message == "Not a valid choice" and "不是有效的选项" in text_of(resp))
    assert count(Consultation) == 0


def test_ask_disguised_executable_refused(client, auth, citizen, places):
    auth.login(citizen)
    data = ask_data(attachments=[(io.BytesIO(EXE), "合同.pdf")])
    resp = client.post("/consultation/ask", data=data, content_type="multipart/form-data")
    assert resp.status_code == 422 and "不是允许的类型" in text_of(resp)
    assert count(Consultation) == 0 and count(Attachment) == 0


# ---- visibility ---------------------------------------------------------------------------------

@pytest.mark.parametrize("who,status", [("anonymous", 404), ("other_citizen", 404), ("worker_in_area", 404),
                                        ("far_worker", 404), ("asker", 200), ("admin", 200)])
def test_private_open_question_visible_only_to_asker_and_admin(client, auth, make, citizen_b, worker,
                                                                far_worker, admin, citizen, who, status):
    c = make("open", public=False)
    users = {"other_citizen": citizen_b, "worker_in_area": worker, "far_worker": far_worker,
             "asker": citizen, "admin": admin}
    if who != "anonymous":
        auth.login(users[who])
    assert client.get(f"/consultation/{c.id}").status_code == status


@pytest.mark.parametrize("who,status", [("anonymous", 404), ("other_citizen", 404), ("claimer", 200),
                                        ("other_worker", 404), ("asker", 200), ("admin", 200)])
def test_private_claimed_question(client, auth, make, citizen_b, worker, worker_b, admin, citizen, who, status):
    c = make("answered", public=False)
    users = {"other_citizen": citizen_b, "claimer": worker, "other_worker": worker_b, "asker": citizen,
             "admin": admin}
    if who != "anonymous":
        auth.login(users[who])
    assert client.get(f"/consultation/{c.id}").status_code == status
    for action in ("follow-up", "close", "answer", "release"):
        if status == 404:
            assert client.post(f"/consultation/{c.id}/{action}", data={"text": "再问一下这个问题"}).status_code in (302, 404)


def test_private_question_not_listed_publicly(client, make):
    make("answered", public=False, title="不公开的遗产纠纷")
    make("answered", public=True, title="公开的离婚问题")
    page = text_of(client.get("/consultation/"))
    assert "公开的离婚问题" in page and "不公开的遗产纠纷" not in page


def test_public_view_hides_asker_identity(client, auth, make, citizen):
    c = make("answered", title="张建国问离婚", question=(
        "我叫张建国，电话13812345678，身份证220102196805120011，妻子要离婚，孩子怎么判？"))
    page = text_of(client.get(f"/consultation/{c.id}"))
    for secret in ("张建国", "13812345678", "220102196805120011", citizen.mobile):
        assert secret not in page
    assert "138****5678" in page and "网友" in page
    listing = text_of(client.get("/consultation/"))
    assert "张建国" not in listing
    auth.login(citizen)
    assert "13812345678" in text_of(client.get(f"/consultation/{c.id}"))


def test_answer_shown_sanitised_with_citations(client, make):
    c = make("answered", answer='<p>依据《民法典》第一千零七十九条<script>alert(1)</script>处理。</p>')
    html = client.get(f"/consultation/{c.id}").get_data(as_text=True)
    assert "<script>alert" not in html and "第一千零七十九条" in html


# ---- worker actions -----------------------------------------------------------------------------

def test_queue_for_workers_only(client, auth, make, citizen, worker):
    make("open", title="公开的待答问题")
    make("open", public=False, title="私密的待答问题")
    auth.login(citizen)
    assert client.get("/consultation/queue").status_code == 403
    auth.logout()
    auth.login(worker)
    page = text_of(client.get("/consultation/queue"))
    assert "公开的待答问题" in page and "私密的待答问题" not in page and "不公开的咨询" in page


def test_worker_claims_private_question_then_may_read_it(client, auth, make, worker):
    c = make("open", public=False)
    auth.login(worker)
    assert client.get(f"/consultation/{c.id}").status_code == 404
    resp = client.post(f"/consultation/{c.id}/claim")
    assert resp.status_code == 303
    assert client.get(f"/consultation/{c.id}").status_code == 200
    assert db.session.get(Consultation, c.id).worker_id == worker.id


def test_claim_outside_area_is_404_for_private(client, auth, make, far_worker):
    c = make("open", public=False)
    auth.login(far_worker)
    assert client.post(f"/consultation/{c.id}/claim").status_code == 404
    assert db.session.get(Consultation, c.id).state == "open"


def test_second_claim_over_http_is_told(client, auth, make, worker_b):
    c = make("claimed")
    auth.login(worker_b)
    resp = client.post(f"/consultation/{c.id}/claim")
    assert resp.status_code == 409 and "不能认领" in text_of(resp)


def test_answer_by_other_worker_refused(client, auth, make, worker_b):
    c = make("claimed")
    auth.login(worker_b)
    resp = client.post(f"/consultation/{c.id}/answer", data={"body": "<p>这是另一位工作者的解答内容。</p>"})
    assert resp.status_code == 403 and "其他法律服务工作者认领" in text_of(resp)
    assert count(ConsultationMessage) == 0


def test_answer_over_http(client, auth, make, worker, citizen):
    c = make("claimed")
    auth.login(worker)
    resp = client.post(f"/consultation/{c.id}/answer", data={"body": "<p>根据《劳动合同法》第三十条，应当足额支付劳动报酬。</p>"})
    assert resp.status_code == 303
    assert db.session.get(Consultation, c.id).state == "answered"


def test_empty_answer_message_beside_field(client, auth, make, worker):
    c = make("claimed")
    auth.login(worker)
    resp = client.post(f"/consultation/{c.id}/answer", data={"body": "<p>  </p>"})
    assert resp.status_code == 422 and "请填写解答内容" in text_of(resp)
    assert count(ConsultationMessage) == 0


# ---- asker actions ------------------------------------------------------------------------------

def test_follow_up_and_close_over_http(client, auth, make, citizen):
    c = make("answered")
    auth.login(citizen)
    assert client.post(f"/consultation/{c.id}/follow-up", data={"text": "对方不同意怎么办？"}).status_code == 303
    assert db.session.get(Consultation, c.id).state == "claimed"


@pytest.mark.parametrize("rating", ["0", "6", "abc", ""])
def test_rating_out_of_range_over_http(client, auth, make, citizen, rating):
    c = make("answered")
    auth.login(citizen)
    resp = client.post(f"/consultation/{c.id}/close", data={"rating": rating, "comment": "还行"})
    assert resp.status_code == 422 and ("评分应为1至5星" in text_of(resp) or "请为解答打分" in text_of(resp))
    assert db.session.get(Consultation, c.id).state == "answered"


def test_rating_someone_elses_public_question_refused(client, auth, make, citizen_b):
    c = make("answered")
    auth.login(citizen_b)
    resp = client.post(f"/consultation/{c.id}/close", data={"rating": "1", "comment": "差"})
    assert resp.status_code == 403 and "只有提问人" in text_of(resp)
    assert db.session.get(Consultation, c.id).rating is None


def test_close_with_rating_over_http(client, auth, make, citizen):
    c = make("answered")
    auth.login(citizen)
    resp = client.post(f"/consultation/{c.id}/close", data={"rating": "5", "comment": "非常满意"})
    assert resp.status_code == 303
    c = db.session.get(Consultation, c.id)
    assert (c.state, c.rating) == ("closed", 5)
    assert "非常满意" in text_of(client.get(f"/consultation/{c.id}"))


@pytest.mark.parametrize("state,action,data", [
    ("claimed", "answer", {}), ("answered", "follow-up", {}), ("answered", "close", {"rating": "abc"}),
])
@pytest.mark.parametrize("who", ["citizen_b", "worker_b", "admin"])
def test_outsider_refused_before_the_form_is_read(client, auth, make, citizen_b, worker_b, admin,
                                                  state, action, data, who):
    """Authorization comes before input: someone who may never answer / follow up / close a public
    question is refused (403), not shown a form error (422) for it (found by the authz matrix)."""
    c = make(state)
    auth.login({"citizen_b": citizen_b, "worker_b": worker_b, "admin": admin}[who])
    resp = client.post(f"/consultation/{c.id}/{action}", data=data)
    assert resp.status_code == 403
    assert "只有提问人" in text_of(resp) or "其他法律服务工作者认领" in text_of(resp)
    assert db.session.get(Consultation, c.id).state == state


# ---- files, CSRF, dashboard ---------------------------------------------------------------------

def test_attachment_download_only_for_asker_worker_admin(client, auth, citizen, citizen_b, worker, places):
    from portal.consultation import operations as ops
    from tests.consultation.conftest import FakeFile

    c = ops.ask_question(citizen, category="其他", region=places["township"], title="附件权限测试",
                         question="附件里有我的身份证照片，只能给律师看。", files=[FakeFile(PNG, "身份证.png")])
    db.session.commit()
    att = db.session.execute(select(Attachment)).scalar_one()
    auth.login(citizen_b)
    assert client.get(f"/files/{att.id}").status_code == 404
    page = client.get(f"/consultation/{c.id}").get_data(as_text=True)
    assert f"/files/{att.id}" not in page
    auth.logout()
    auth.login(citizen)
    assert client.get(f"/files/{att.id}").status_code == 200


def test_post_without_csrf_token_changes_nothing(csrf_app, make, worker):
    c = make("open")
    client = csrf_app.test_client()
    csrf_app.config["WTF_CSRF_ENABLED"] = False
    client.post("/login", data={"mobile": worker.mobile, "password": "Passw0rd2026"})
    csrf_app.config["WTF_CSRF_ENABLED"] = True
    client.post(f"/consultation/{c.id}/claim")
    assert db.session.get(Consultation, c.id).state == "open"


def test_dashboard_lists_questions_with_state(client, auth, make, citizen, worker):
    make("answered", title="我的已解答问题")
    auth.login(citizen)
    page = text_of(client.get("/me"))
    assert "我的已解答问题" in page and "已解答" in page
    auth.logout()
    make("claimed", title="等我解答的问题")
    auth.login(worker)
    page = text_of(client.get("/me"))
    assert "等我解答的问题" in page and "我已解答的咨询：1 条" in page


def test_worker_settings(client, auth, worker, citizen):
    auth.login(citizen)
    assert client.get("/consultation/settings").status_code == 403
    auth.logout()
    auth.login(worker)
    resp = client.post("/consultation/settings", data={"categories": ["婚姻家庭", "劳动争议"]})
    assert resp.status_code == 302
    assert "婚姻家庭、劳动争议" in text_of(client.get("/consultation/queue"))
