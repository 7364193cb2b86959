"""The database fails in the middle of a transition (issue 9): a clear error, no half state.

Each transition of the site is run through its real route (or Socket.IO event) while the database
fails in one of these ways:

* ``audit``: the INSERT of the transition's audit record fails (the state change is already
  flushed in the same transaction);
* ``write``: the first write of the transition fails (the DBAPI raises, as when the disk is full);
* ``commit``: the COMMIT itself fails (a connection lost at the last moment);
* ``lock`` (SQLite): another connection really holds the database's write lock, and the app's
  busy timeout runs out: SQLite's own ``database is locked``.

Asserted: the user gets the 503 page 系统繁忙，请稍后重试 (or, on a socket, a failed
acknowledgement in Chinese), never a traceback; every table is exactly as before (the case
state, the audit trail, notifications, attachments ...), ``flask audit verify`` passes, no file is
left in the upload folder and no SMS went out; and once the database recovers, the same request
succeeds.
"""
from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import event, select

from portal.extensions import db, socketio
from portal.mediation.models import CaseState, MediationCase
from portal.notifications import sms_backend
from tests.case_library.conftest import people  # noqa: F401  (fixture)
from tests.conftest import PASSWORD, text_of
from tests.mediation.conftest import agreement_fields, fast_password_hashing, future_local, make_case, world  # noqa: F401

FAULTS_INJECTED: list[str] = []


@pytest.fixture(scope="module", autouse=True)
def _report_faults():
    yield
    print(f"\n[db faults] {len(FAULTS_INJECTED)} database faults injected mid-transition: "
          f"{', '.join(FAULTS_INJECTED)}")


class DbFault:
    """Makes the app's database fail the way a real one does: the DBAPI raises its own
    OperationalError inside SQLAlchemy's execute / commit, which wraps it as usual."""

    def __init__(self, app, monkeypatch):
        self.engine = db.engine
        self.dbapi_error = self.engine.dialect.loaded_dbapi.OperationalError
        self.pattern: re.Pattern | None = None
        self.hits = 0
        self.monkeypatch = monkeypatch
        event.listen(self.engine, "before_cursor_execute", self._before)

    def _before(self, conn, cursor, statement, params, context, executemany):
        if self.pattern is not None and self.pattern.search(statement):
            self.hits += 1
            raise self.dbapi_error("injected fault: database is locked")

    def fail_statements(self, pattern: str):
        self.pattern = re.compile(pattern, re.IGNORECASE)

    def fail_commit(self):
        dialect = self.engine.dialect
        original = type(dialect).do_commit

        def failing(dbapi_connection):
            self.hits += 1
            dbapi_connection.rollback()  # as the server does with a transaction whose connection dropped
            raise self.dbapi_error("injected fault: server closed the connection unexpectedly")

        self.monkeypatch.setattr(dialect, "do_commit", failing)
        self._restore_commit = lambda: self.monkeypatch.setattr(dialect, "do_commit",
                                                                original.__get__(dialect))

    def hold_write_lock(self, app):
        """A second connection takes SQLite's write lock; the app's busy timeout is made short."""
        path = self.engine.url.database
        self.locker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.locker.execute("BEGIN IMMEDIATE")

        def short_timeout(dbapi_conn, _record):
            dbapi_conn.execute("PRAGMA busy_timeout=200")

        self.engine.dispose()
        event.listen(self.engine, "connect", short_timeout)
        self._short_timeout = short_timeout
        self.hits += 1  # counted: the lock is held for the whole request

    def recover(self):
        self.pattern = None
        if hasattr(self, "_restore_commit"):
            self._restore_commit()
            del self._restore_commit
        if hasattr(self, "locker"):
            self.locker.execute("ROLLBACK")
            self.locker.close()
            del self.locker
            event.remove(self.engine, "connect", self._short_timeout)
            self.engine.dispose()

    def close(self):
        self.recover()
        event.remove(self.engine, "before_cursor_execute", self._before)


@pytest.fixture
def fault(app, monkeypatch):
    f = DbFault(app, monkeypatch)
    yield f
    f.close()


def inject(fault, mode: str, app, first_write: str):
    if mode == "audit":
        fault.fail_statements(r"^\s*INSERT INTO audit_record")
    elif mode == "write":
        fault.fail_statements(first_write)
    elif mode == "commit":
        fault.fail_commit()
    elif mode == "lock":
        fault.hold_write_lock(app)


# ---- what "no half state" means --------------------------------------------------------------------

def snapshot(app) -> dict:
    """Every row of every table, the files in the upload folder, the SMS sent."""
    db.session.remove()
    rows = {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            rows[table.name] = sorted(map(repr, conn.execute(select(table)).all()))
    folder = Path(app.config["UPLOAD_FOLDER"])
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    return {"rows": rows, "files": files, "sms": list(sms_backend().sent)}


def diff(before: dict, after: dict) -> list[str]:
    out = []
    for name, rows in before["rows"].items():
        if after["rows"][name] != rows:
            out.append(f"table {name} changed: {len(rows)} → {len(after['rows'][name])} rows")
    if after["files"] != before["files"]:
        out.append(f"upload folder changed: {sorted(set(after['files']) ^ set(before['files']))}")
    if after["sms"] != before["sms"]:
        out.append(f"SMS sent: {after['sms'][len(before['sms']):]}")
    return out


def indexed(app, name: str, doc_id) -> bool:
    """Whether the search index on disk holds the document (read afresh, no cached searcher)."""
    from whoosh import index

    folder = Path(app.config["INDEX_FOLDER"]) / name
    if not index.exists_in(str(folder)):
        return False
    ix = index.open_dir(str(folder))
    with ix.searcher() as s:
        return s.document(id=str(doc_id)) is not None


def audit_verify_ok(app) -> bool:
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    return result.exit_code == 0


# ---- the transitions ----------------------------------------------------------------------------------

def _case_action(state, actor, action, data=None, before=None):
    def setup(request):
        w = request.getfixturevalue("world")
        if state is None:  # submitted, by a respondent with no account (invited by SMS on acceptance)
            from portal.mediation import operations as ops

            case = ops.apply_for_mediation(
                w.applicant, respondents=[{"name": "李秀兰", "mobile": "13912345678"}], dispute_type="邻里纠纷",
                region=w.village, facts="楼上住户卫生间漏水。", claims="赔偿损失3200元。", amount=None)
            db.session.commit()
        else:
            case = request.getfixturevalue("make_case")(state)
        if before:
            before(w, case)
            db.session.commit()
        form = data(w) if callable(data) else (data or {})
        form = {f"{action}-{k}": v for k, v in form.items()}  # the case page's forms are prefixed
        case_id = case.id
        return getattr(w, actor), f"/mediation/cases/{case_id}/{action}", form, lambda: (
            db.session.get(MediationCase, case_id).state, db.session.get(MediationCase, case_id).mediator_id)
    return setup


def _others_sign(w, case):
    from portal.mediation import operations as ops

    for u in (w.applicant, w.respondent):
        ops.sign_agreement(u, case, u.real_name, PASSWORD)


def _consultation_answer(request):
    from portal.accounts.models import Role
    from portal.consultation.models import Consultation
    from portal.consultation.operations import ask_question, claim_consultation

    factory = request.getfixturevalue("factory")
    city = factory.region("220100000000", "长春市")
    region = factory.region("220102000000", "南关区")
    asker = factory.user(name="孙群众")
    worker = factory.user(Role.legal_worker, region=city, name="王律师")
    c = ask_question(asker, category="婚姻家庭", region=region, title="离婚后孩子的抚养费怎么算",
                     question="孩子跟前妻生活，抚养费应该按什么标准给付？", is_public=True)
    db.session.flush()
    claim_consultation(worker, c)
    db.session.commit()
    cid = c.id
    return worker, f"/consultation/{cid}/answer", {"body": "根据民法典第一千零八十五条，抚养费按收入比例确定。"}, (
        lambda: db.session.get(Consultation, cid).state)


def _case_library_publish(request):
    from case_library import operations
    from case_library.models import ExemplaryCase
    from tests.case_library.conftest import approve_through, case_fields

    p = request.getfixturevalue("people")
    case = operations.save_draft(p.mediator, None, region=p.township, fields=case_fields(), party_names="张建国\n李秀兰")
    operations.submit(p.mediator, case)
    db.session.commit()
    approve_through(p, case, ("township", "county", "city"))
    case_id = request.node.case_library_id = case.id
    return p.province_reviewer, f"/cases/{case_id}/review", {"action": "approve", "version": str(case.version),
                                                            "comment": "同意发布"}, (
        lambda: db.session.get(ExemplaryCase, case_id).state)


TRANSITIONS = {
    # name: (setup, the first statement the transition writes, as a pattern)
    "mediation.accept": (_case_action(None, "head", "accept"), r"^\s*UPDATE mediation_case"),
    "mediation.decline": (_case_action(CaseState.submitted, "head", "decline",
                                       {"reason": "不属于本委员会受理范围", "referral": "litigation"}),
                          r"^\s*UPDATE mediation_case"),
    "mediation.consent": (_case_action(CaseState.awaiting_consent, "respondent", "consent"),
                          r"^\s*(UPDATE|INSERT INTO) (mediation_case|case_respondent|case_party)"),
    "mediation.assign": (_case_action(CaseState.in_mediation, "head", "assign",
                                      lambda w: {"mediator_id": w.second_mediator.id}), r"^\s*UPDATE mediation_case"),
    "mediation.sign": (_case_action(CaseState.agreement_pending, "mediator", "sign",
                                    lambda w: {"typed_name": w.mediator.real_name, "password": PASSWORD},
                                    before=_others_sign), r"^\s*INSERT INTO attachment"),
    "mediation.archive": (_case_action(CaseState.settled, "mediator", "archive", {"followup_note": "已按期履行"}),
                          r"^\s*UPDATE mediation_case"),
    "consultation.answer": (_consultation_answer, r"^\s*INSERT INTO consultation_message"),
    "case_library.publish": (_case_library_publish, r"^\s*(UPDATE exemplary_case|INSERT INTO case_review)"),
}
MODES = ["audit", "write", "commit", "lock"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", list(TRANSITIONS))
def test_database_fails_mid_transition(app, client, fault, request, name, mode):
    if mode == "lock" and db.engine.dialect.name != "sqlite":
        mode = "commit"  # the write-lock fault is SQLite's; PostgreSQL gets the commit fault twice
    setup, first_write = TRANSITIONS[name]
    actor, url, form, state_of = setup(request)
    state_before = state_of()
    actor = db.session.merge(actor)
    assert client.post("/login", data={"mobile": actor.mobile, "password": PASSWORD}).status_code == 302
    page = url.rsplit("/", 1)[0] if not url.endswith("/review") else url
    before = snapshot(app)

    inject(fault, mode, app, first_write)
    resp = client.post(url, data=form, headers={"Referer": f"http://localhost{page}"})
    hits = fault.hits
    fault.recover()
    FAULTS_INJECTED.append(f"{name}/{mode}")

    assert hits >= 1, f"the {mode} fault never fired for {name}: the injection point is wrong"
    assert resp.status_code == 503, (resp.status_code, text_of(resp)[:300])
    body = text_of(resp)
    assert "系统繁忙，请稍后重试" in body and "没有生效" in body
    assert "Traceback" not in body and "sqlalchemy" not in body.lower() and "injected" not in body
    assert resp.headers.get("Retry-After")
    assert f'href="{page}"' in resp.get_data(as_text=True)  # back to the page the form was on
    after = snapshot(app)
    assert diff(before, after) == [], f"{name} left a half state after a {mode} fault"
    assert state_of() == state_before
    assert audit_verify_ok(app)

    # the database is back: the same request goes through, with its audit record and its effects
    retry = client.post(url, data=form)
    assert retry.status_code in (302, 303), (retry.status_code, text_of(retry)[:300])
    db.session.remove()
    assert state_of() != state_before
    done = snapshot(app)
    assert len(done["rows"]["audit_record"]) > len(before["rows"]["audit_record"])
    assert audit_verify_ok(app)
    if name == "mediation.accept":
        assert len(done["sms"]) == len(before["sms"]) + 1  # the SMS goes out once, after the commit
    if name == "mediation.sign":
        assert len(done["files"]) == len(before["files"]) + 1  # the signed agreement's PDF
    if name == "case_library.publish":

        assert indexed(app, "exemplary_cases", request.node.case_library_id)


def test_a_failed_publish_leaves_nothing_in_the_search_index(app, client, fault, request):
    """The exemplary case is indexed only once its publication has committed."""

    actor, url, form, _state = _case_library_publish(request)
    client.post("/login", data={"mobile": actor.mobile, "password": PASSWORD})
    fault.fail_commit()
    assert client.post(url, data=form).status_code == 503
    fault.recover()
    FAULTS_INJECTED.append("case_library.publish/index")
    assert not indexed(app, "exemplary_cases", request.node.case_library_id)


def test_failed_page_view_is_a_503_not_a_traceback(app, client, fault, factory):
    """A GET while the database refuses: the same clear page, with a link back to the page."""
    user = factory.user(name="孙群众")
    client.post("/login", data={"mobile": user.mobile, "password": PASSWORD})
    fault.fail_statements(r"^\s*SELECT")
    resp = client.get("/me")
    fault.recover()
    FAULTS_INJECTED.append("GET /me/select")
    assert resp.status_code == 503
    assert "系统繁忙，请稍后重试" in text_of(resp)
    assert client.get("/me").status_code == 200


# ---- the mediation room: ending the session -------------------------------------------------------------

@pytest.mark.parametrize("mode", ["audit", "write", "commit"])
def test_room_end_fails_cleanly(app, fault, world, make_case, request, mode):  # noqa: F811
    from mediation_room.models import Room
    from portal.mediation import operations as ops

    app.extensions["media_worker"] = None
    case = make_case(CaseState.in_mediation)
    session = ops.schedule_session(world.mediator, case, future_local(), "online", "")
    db.session.commit()
    room_id = session.room_id
    http = app.test_client()
    http.post("/login", data={"mobile": world.mediator.mobile, "password": PASSWORD})
    sc = socketio.test_client(app, namespace="/room", flask_test_client=http, auth={"room_id": room_id})
    assert sc.is_connected("/room")
    assert sc.emit("join", {"after": 0}, namespace="/room", callback=True)["ok"]
    before = snapshot(app)

    inject(fault, mode, app, r"^\s*UPDATE room ")
    ack = sc.emit("end", {}, namespace="/room", callback=True)
    hits = fault.hits
    fault.recover()
    FAULTS_INJECTED.append(f"room.end/{mode}")
    assert hits >= 1
    assert ack["ok"] is False and re.search(r"[\u4e00-\u9fff]", ack["error"]), ack
    assert diff(before, snapshot(app)) == [], f"ending the room left a half state after a {mode} fault"
    assert db.session.get(Room, room_id).state == "open"
    assert audit_verify_ok(app)

    ack = sc.emit("end", {}, namespace="/room", callback=True)
    assert ack["ok"], ack
    db.session.remove()
    assert db.session.get(Room, room_id).state == "ended"
    done = snapshot(app)
    assert len(done["files"]) == len(before["files"]) + 1  # the transcript filed in the dossier
    assert audit_verify_ok(app)
    sc.disconnect(namespace="/room")
