"""Service-level tests of the consultation operations: every state change and every refused one."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from portal.audit import AuditRecord, trail_for
from portal.consultation import operations as ops
from portal.consultation.models import Consultation, ConsultationMessage, WorkerCategory
from portal.extensions import db
from portal.notifications import Notification
from portal.uploads import Attachment
from tests.consultation.conftest import EXE, PDF, PNG, FakeFile


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def actions_of(c) -> list[str]:
    return [r.action for r in trail_for("consultation", c.id)]


# ---- asking -------------------------------------------------------------------------------------

def test_ask_creates_open_question_with_attachments_and_audit(citizen, places):
    c = ops.ask_question(citizen, category="劳动争议", region=places["township"], title="公司拖欠工资怎么办",
                         question="我在一家饭店打工三个月，老板一直拖欠工资不给，应该怎么维权？",
                         is_public=False, files=[FakeFile(PNG, "欠条.png"), FakeFile(PDF, "合同.pdf")])
    db.session.commit()
    assert (c.state, c.is_public, c.worker_id) == ("open", False, None)
    atts = db.session.execute(select(Attachment).where(Attachment.owner_id == c.id)).scalars().all()
    assert sorted(a.content_type for a in atts) == ["application/pdf", "image/png"]
    assert actions_of(c) == ["consultation.ask"]


@pytest.mark.parametrize("field,kwargs,message", [
    ("category", {"category": "离婚"}, "请选择咨询类别"),
    ("title", {"title": "  "}, "请填写标题"),
    ("title", {"title": "长" * 61}, "不能超过60"),
    ("question", {"question": ""}, "请填写问题描述"),
    ("question", {"question": "问" * 2001}, "不能超过2000"),
    ("question", {"question": "太短"}, "过短"),
    ("region_code", {"region": None}, "请选择所在地区"),
])
def test_ask_refuses_bad_input_and_saves_nothing(citizen, places, field, kwargs, message):
    args = {"category": "婚姻家庭", "region": places["township"], "title": "离婚财产如何分割",
                "question": "结婚十年，房子是婚后买的，离婚时怎么分？"}
    args.update(kwargs)
    with pytest.raises(ops.ConsultationError) as exc:
        ops.ask_question(citizen, **args)
    db.session.rollback()
    assert exc.value.field == field and message in str(exc.value)
    assert count(Consultation) == 0 and count(AuditRecord) == 0


def test_ask_refuses_region_above_county(citizen, places):
    with pytest.raises(ops.ConsultationError, match="县"):
        ops.ask_question(citizen, category="其他", region=places["city"], title="一个法律问题",
                         question="请问这个问题应该怎么处理比较好？")


def test_ask_refuses_disguised_executable_and_saves_nothing(citizen, places, app):
    with pytest.raises(ops.ConsultationError) as exc:
        ops.ask_question(citizen, category="借贷合同", region=places["township"], title="借钱不还怎么办",
                         question="朋友借了我两万元一直不还，有微信聊天记录。",
                         files=[FakeFile(PNG, "a.png"), FakeFile(EXE, "借条.pdf")])
    db.session.rollback()
    assert exc.value.field == "attachments" and "不是允许的类型" in str(exc.value)
    assert count(Consultation) == 0 and count(Attachment) == 0


def test_ask_refuses_more_than_three_files(citizen, places):
    files = [FakeFile(PNG, f"{i}.png") for i in range(4)]
    with pytest.raises(ops.ConsultationError, match="最多上传3个"):
        ops.ask_question(citizen, category="其他", region=places["township"], title="附件太多的问题",
                         question="我有很多证据材料想一起上传给律师看。", files=files)


def test_ask_refuses_file_over_10_mb(citizen, places):
    big = PDF + b"0" * (10 * 1024 * 1024)
    with pytest.raises(ops.ConsultationError, match="超过 10 MB"):
        ops.ask_question(citizen, category="其他", region=places["township"], title="大文件的问题",
                         question="合同扫描件比较大，请帮忙看看。", files=[FakeFile(big, "合同.pdf")])


# ---- claim / release ----------------------------------------------------------------------------

def test_claim_binds_the_worker(make, worker):
    c = make("open")
    ops.claim_consultation(worker, c)
    db.session.commit()
    assert (c.state, c.worker_id) == ("claimed", worker.id) and c.claimed_at is not None
    assert actions_of(c)[-1] == "consultation.claim"


def test_second_claim_is_told_it_lost(make, worker, worker_b):
    from sqlalchemy.orm.attributes import set_committed_value

    c = make("open")
    ops.claim_consultation(worker, c)
    db.session.commit()
    # worker_b still holds the page (and the row) from before the claim: state open, no worker
    stale = db.session.get(Consultation, c.id)
    set_committed_value(stale, "state", "open")
    set_committed_value(stale, "worker_id", None)
    with pytest.raises(ops.ConsultationError, match="已被其他法律服务工作者认领") as exc:
        ops.claim_consultation(worker_b, stale)
    db.session.rollback()
    assert exc.value.status == 409
    fresh = db.session.get(Consultation, c.id)
    assert fresh.worker_id == worker.id
    assert actions_of(fresh).count("consultation.claim") == 1


def test_two_workers_claiming_at_once_one_wins(app, make, worker, worker_b):
    """Two requests (threads, each with its own session) load the open question and claim it at the
    same moment: exactly one wins, the other is told."""
    import threading

    c = make("open")
    ids = (c.id, worker.id, worker_b.id)
    db.session.remove()
    barrier = threading.Barrier(2)
    outcome = {}

    def attempt(worker_id):
        with app.app_context():
            from portal.accounts.models import User

            user = db.session.get(User, worker_id)
            row = db.session.get(Consultation, ids[0])
            assert row.state == "open"
            barrier.wait()
            try:
                ops.claim_consultation(user, row)
                db.session.commit()
                outcome[worker_id] = "won"
            except ops.ConsultationError as exc:
                db.session.rollback()
                outcome[worker_id] = str(exc)

    threads = [threading.Thread(target=attempt, args=(w,)) for w in ids[1:]]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert list(outcome.values()).count("won") == 1 and len(outcome) == 2
    loser = next(v for v in outcome.values() if v != "won")
    assert "已被其他法律服务工作者认领" in loser
    fresh = db.session.get(Consultation, ids[0])
    assert fresh.state == "claimed" and outcome[fresh.worker_id] == "won"


def test_claim_outside_service_area_refused(make, far_worker):
    c = make("open")
    with pytest.raises(ops.ConsultationError) as exc:
        ops.claim_consultation(far_worker, c)
    assert exc.value.status == 403
    db.session.rollback()
    assert db.session.get(Consultation, c.id).state == "open"


def test_citizen_cannot_claim(make, citizen_b):
    c = make("open")
    with pytest.raises(ops.ConsultationError, match="法律服务工作者"):
        ops.claim_consultation(citizen_b, c)


def test_worker_cannot_claim_own_question(make, worker):
    c = make("open", asker=worker)
    with pytest.raises(ops.ConsultationError) as exc:
        ops.claim_consultation(worker, c)
    assert exc.value.status == 403


def test_release_returns_to_queue(make, worker):
    c = make("claimed")
    ops.release_consultation(worker, c)
    db.session.commit()
    assert (c.state, c.worker_id) == ("open", None)
    assert actions_of(c)[-1] == "consultation.release"


def test_release_by_other_worker_refused(make, worker_b):
    c = make("claimed")
    with pytest.raises(ops.ConsultationError):
        ops.release_consultation(worker_b, c)


# ---- answer -------------------------------------------------------------------------------------

def test_answer_sanitises_notifies_and_audits(make, worker, citizen):
    c = make("claimed")
    ops.answer_consultation(worker, c, '<p onclick="x()">依照《民法典》第一千零八十四条处理。</p>'
                            '<script>alert(1)</script><a href="javascript:alert(1)">链接</a>')
    db.session.commit()
    assert c.state == "answered" and c.first_answered_at is not None
    body = c.answers[0].body
    assert "<script" not in body and "onclick" not in body and "javascript:" not in body
    assert "第一千零八十四条" in body
    note = db.session.execute(select(Notification).where(Notification.user_id == citizen.id)).scalar_one()
    assert "已有解答" in note.title and note.link == f"/consultation/{c.id}"
    assert actions_of(c)[-1] == "consultation.answer"


def test_plain_text_answer_becomes_paragraphs(make, worker):
    c = make("claimed")
    ops.answer_consultation(worker, c, "第一段：根据法律规定处理。\n第二段：<建议>先协商解决。")
    assert c.answers[0].body.count("<p>") == 2 and "&lt;建议&gt;" in c.answers[0].body


def test_answer_by_someone_else_refused_and_nothing_saved(make, worker_b):
    c = make("claimed")
    with pytest.raises(ops.ConsultationError, match="其他法律服务工作者认领") as exc:
        ops.answer_consultation(worker_b, c, "<p>我来回答这个问题，请按照法律规定处理。</p>")
    db.session.rollback()
    assert exc.value.status == 403
    assert count(ConsultationMessage) == 0 and db.session.get(Consultation, c.id).state == "claimed"


def test_answer_unclaimed_refused(make, worker):
    c = make("open")
    with pytest.raises(ops.ConsultationError, match="待解答"):
        ops.answer_consultation(worker, c, "<p>未经认领直接回答的内容不应被保存。</p>")


@pytest.mark.parametrize("body,message", [("", "请填写解答内容"), ("<p> </p><script>x</script>", "请填写解答内容"),
                                          ("<p>太短</p>", "过短"), ("答" * 10001, "不能超过")])
def test_answer_bad_input(make, worker, body, message):
    c = make("claimed")
    with pytest.raises(ops.ConsultationError, match=message):
        ops.answer_consultation(worker, c, body)
    db.session.rollback()
    assert count(ConsultationMessage) == 0 and db.session.get(Consultation, c.id).state == "claimed"


def _published_case(worker, places, state="published"):
    cl = pytest.importorskip("case_library.models")
    case = cl.ExemplaryCase(state=state, author_id=worker.id, region_id=places["county"].id,
                            dispute_type="婚姻家庭", title=f"离婚纠纷调解案例（{state}）")
    db.session.add(case)
    db.session.flush()
    return case


def test_related_cases_are_parsed_and_checked_against_the_case_library(make, worker, places):
    c = make("claimed")
    one, two = _published_case(worker, places), _published_case(worker, places)
    ops.answer_consultation(worker, c, ANSWER_TEXT, related_cases=f"{one.id}, /cases/{two.id}，{one.id}")
    db.session.commit()
    assert c.related_cases == [one.id, two.id]
    assert [link["title"] for link in ops.related_case_links(c)] == [one.title, two.title]


def test_related_case_not_published_refused(make, worker, places):
    c = make("claimed")
    draft = _published_case(worker, places, state="draft")
    with pytest.raises(ops.ConsultationError, match="找不到已发布的典型案例") as exc:
        ops.answer_consultation(worker, c, ANSWER_TEXT, related_cases=f"{draft.id},99999")
    db.session.rollback()
    assert exc.value.field == "related_cases" and count(ConsultationMessage) == 0


def test_related_cases_garbage_refused(make, worker):
    c = make("claimed")
    with pytest.raises(ops.ConsultationError, match="不是有效的案例编号") as exc:
        ops.answer_consultation(worker, c, ANSWER_TEXT, related_cases="abc")
    assert exc.value.field == "related_cases"


ANSWER_TEXT = "<p>根据《劳动合同法》第三十条，用人单位应当按照约定及时足额支付劳动报酬。</p>"


# ---- follow-up ----------------------------------------------------------------------------------

def test_follow_up_reopens_to_the_same_worker(make, citizen, worker):
    c = make("answered")
    before = c.waiting_since
    ops.follow_up_consultation(citizen, c, "如果对方不同意离婚怎么办？")
    db.session.commit()
    assert (c.state, c.worker_id) == ("claimed", worker.id) and c.waiting_since >= before
    assert [m.kind for m in c.messages] == ["answer", "follow_up"]
    assert db.session.execute(select(Notification).where(Notification.user_id == worker.id)).scalar_one()
    # the same worker answers again; another may not
    ops.answer_consultation(worker, c, "<p>对方不同意的，可以向人民法院提起离婚诉讼。</p>")
    db.session.commit()
    assert c.state == "answered" and len(c.answers) == 2


def test_follow_up_by_other_citizen_refused(make, citizen_b):
    c = make("answered")
    with pytest.raises(ops.ConsultationError, match="只有提问人") as exc:
        ops.follow_up_consultation(citizen_b, c, "我也想问同样的问题")
    assert exc.value.status == 403


@pytest.mark.parametrize("text", ["", "追" * 1001])
def test_follow_up_bad_text(make, citizen, text):
    c = make("answered")
    with pytest.raises(ops.ConsultationError) as exc:
        ops.follow_up_consultation(citizen, c, text)
    db.session.rollback()
    assert exc.value.field == "text" and db.session.get(Consultation, c.id).state == "answered"


# ---- close and rate -----------------------------------------------------------------------------

def test_close_with_rating(make, citizen, worker):
    c = make("answered")
    ops.close_consultation(citizen, c, 4, "解答及时，很有帮助")
    db.session.commit()
    assert (c.state, c.rating, c.rating_comment) == ("closed", 4, "解答及时，很有帮助")
    assert actions_of(c)[-2:] == ["consultation.close", "consultation.rate"]


@pytest.mark.parametrize("rating", [0, 6, -1, "五", None, "3.5"])
def test_rating_out_of_range_refused(make, citizen, rating):
    c = make("answered")
    with pytest.raises(ops.ConsultationError) as exc:
        ops.close_consultation(citizen, c, rating, "")
    db.session.rollback()
    assert exc.value.field == "rating"
    assert db.session.get(Consultation, c.id).state == "answered"


def test_comment_too_long_refused(make, citizen):
    c = make("answered")
    with pytest.raises(ops.ConsultationError, match="不能超过500"):
        ops.close_consultation(citizen, c, 5, "好" * 501)


def test_rating_someone_elses_question_refused(make, citizen_b, worker):
    c = make("answered")
    for actor in (citizen_b, worker):
        with pytest.raises(ops.ConsultationError, match="只有提问人"):
            ops.close_consultation(actor, c, 1, "差评")
    db.session.rollback()
    assert db.session.get(Consultation, c.id).rating is None


# ---- refused (state, action) pairs --------------------------------------------------------------

ACTIONS = {
    "claim": lambda c, u: ops.claim_consultation(u["worker"], c),
    "release": lambda c, u: ops.release_consultation(u["worker"], c),
    "answer": lambda c, u: ops.answer_consultation(u["worker"], c, ANSWER_TEXT),
    "follow_up": lambda c, u: ops.follow_up_consultation(u["citizen"], c, "还有一个问题想请教"),
    "close": lambda c, u: ops.close_consultation(u["citizen"], c, 5, ""),
}
ALLOWED = {(t.source.value, t.action) for t in ops.TRANSITIONS}


@pytest.mark.parametrize("state", ["open", "claimed", "answered", "closed"])
@pytest.mark.parametrize("action", list(ACTIONS))
def test_state_action_matrix(make, worker, citizen, state, action):
    c = make(state)
    users = {"worker": worker, "citizen": citizen}
    if (state, action) in ALLOWED:
        if action == "release" and c.answers:
            # The table allows release from 解答中, but only before the first answer: refused here.
            with pytest.raises(ops.ConsultationError):
                ACTIONS[action](c, users)
            db.session.rollback()
            assert db.session.get(type(c), c.id).state == state
            return
        ACTIONS[action](c, users)
        db.session.commit()
        assert c.state != state
    else:
        n_audit = count(AuditRecord)
        with pytest.raises(ops.ConsultationError) as exc:
            ACTIONS[action](c, users)
        db.session.rollback()
        assert exc.value.status in (403, 409)
        assert db.session.get(Consultation, c.id).state == state and count(AuditRecord) == n_audit


def test_release_after_answer_refused(make, worker, citizen):
    c = make("answered")
    ops.follow_up_consultation(citizen, c, "还想再问一个问题")
    with pytest.raises(ops.ConsultationError):
        ops.release_consultation(worker, c)


# ---- the queue ----------------------------------------------------------------------------------

def test_queue_filters_by_region_and_category_oldest_first(app, make, worker, far_worker, places, factory):
    other_county = factory.region("220104003000", "南湖街道")
    a = make("open", title="较早的婚姻问题")
    b = make("open", title="较晚的劳动问题", category="劳动争议", region=other_county)
    make("claimed", title="已被认领的问题")
    make("open", title="昆明的问题", region=places["other"])
    db.session.execute(db.update(Consultation).where(Consultation.id == a.id)
                       .values(waiting_since=dt.datetime(2026, 1, 1)))
    db.session.commit()
    rows, total = ops.queue_for(worker)
    assert [r.id for r in rows] == [a.id, b.id] and total == 2
    ops.set_worker_categories(worker, ["劳动争议"])
    db.session.commit()
    assert [r.id for r in ops.queue_for(worker)[0]] == [b.id]
    assert [r.title for r in ops.queue_for(far_worker)[0]] == ["昆明的问题"]


def test_worker_categories_all_means_none_stored(worker):
    assert ops.set_worker_categories(worker, ["婚姻家庭", "劳动争议"]) == ["婚姻家庭", "劳动争议"]
    assert ops.set_worker_categories(worker, list(ops.CATEGORIES)) == []
    db.session.commit()
    assert count(WorkerCategory) == 0


def test_worker_categories_refused_for_citizens_and_unknown(worker, citizen):
    with pytest.raises(ops.ConsultationError):
        ops.set_worker_categories(citizen, ["婚姻家庭"])
    with pytest.raises(ops.ConsultationError, match="未知"):
        ops.set_worker_categories(worker, ["炒股"])


def test_overdue_flag_follows_config(app, make):
    c = make("open")
    assert not c.is_overdue(ops.sla_hours())
    later = c.waiting_since + dt.timedelta(hours=5, minutes=1)
    assert c.is_overdue(5, now=later)
    app.config["CONSULTATION_SLA_HOURS"] = 8
    assert not c.is_overdue(ops.sla_hours(), now=later)


def test_answered_question_is_not_overdue(make):
    c = make("answered")
    assert not c.is_overdue(0.0, now=c.waiting_since + dt.timedelta(days=3))
