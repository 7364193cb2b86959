"""XSS payloads in chat, consultation and case texts are neutralised (issue 9), in a real browser.

Each payload tries to run script in two ways (an inline <script> and an event-handler attribute).
The pages must show the text, carry no element with an on* attribute nor any inline script, and
the marker the payload would set must stay unset. (The Content-Security-Policy would also block an
inline script; the DOM checks prove the text was escaped or sanitised before it reached the page.)
"""
import pytest
from sqlalchemy import select

from portal.extensions import db
from tests.conftest import start_live_server

pytestmark = pytest.mark.browser

PAYLOAD = '恶意<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>结尾'
DOM_CHECK = """() => ({
  handlers: [...document.querySelectorAll('*')].filter(el => [...el.attributes].some(a => a.name.startsWith('on'))).length,
  inline: [...document.querySelectorAll('script')].filter(s => !s.src).length,
  xss: window.__xss === undefined ? null : window.__xss,
})"""


def _user(mobile):
    from portal.accounts.models import User

    return db.session.execute(select(User).where(User.mobile == mobile)).scalar_one()


@pytest.fixture(scope="module")
def seeded(demo_app):
    """Hostile texts put in through the operations, as a user's input would arrive."""
    from case_library import operations as cases
    from mediation_room.models import Room
    from mediation_room.operations import post_message
    from portal.consultation.operations import answer_consultation, ask_question, claim_consultation
    from portal.places.operations import region_by_code

    with demo_app.app_context():
        citizen, worker = _user("13800000001"), _user("13800000003")
        q = ask_question(citizen, category="婚姻家庭", region=region_by_code("220102001000"),
                         title="离婚后孩子抚养费" + PAYLOAD[:40], question="请问抚养费怎么算？" + PAYLOAD, is_public=True)
        db.session.commit()
        claim_consultation(worker, q)
        answer_consultation(worker, q, "<p>依据《民法典》第一千零八十五条。</p>" + PAYLOAD)
        db.session.commit()

        room = db.session.execute(select(Room).where(Room.state == "open").order_by(Room.id)).scalars().first()
        mediator = db.session.get(type(citizen), room.mediator_id)
        post_message(mediator, room, "调解员提醒：" + PAYLOAD, client_msg_id="xss-1")

        author = _user("13800000004")
        case = cases.save_draft(author, None, region=region_by_code("220102001000"), party_names="",
                                fields={"title": "邻里漏水纠纷调解案", "dispute_type": "邻里纠纷", "keywords": "漏水",
                                        "basic_facts": "张某家卫生间漏水。" + PAYLOAD, "process": "调解员实地查看。",
                                        "result": "达成协议。", "commentary": "邻里互谅。" + PAYLOAD,
                                        "legal_basis": "《民法典》第二百八十八条"})
        db.session.commit()
        cases.submit(author, case)
        db.session.commit()
        for mobile in ("13800000006", "13800000007", "13800000008", "13800000009"):
            cases.approve(_user(mobile), case, case.version)
            db.session.commit()
        ids = {"consultation": q.id, "room": room.id, "case": case.id, "room_mediator": mediator.mobile}
        db.session.remove()
    return ids


def _login(page, base, mobile):
    page.goto(base + "/login")
    page.fill("#mobile", mobile)
    page.fill("#password", "Demo2026")
    page.click("#login-form button[type=submit]")
    page.wait_for_load_state()


def test_hostile_texts_are_inert_in_every_view(demo_app, seeded, page):
    server = start_live_server(demo_app)
    try:
        base = server.url
        page.goto(f"{base}/consultation/{seeded['consultation']}")
        assert "恶意" in page.content()
        assert page.evaluate(DOM_CHECK) == {"handlers": 0, "inline": 0, "xss": None}

        page.goto(f"{base}/cases/{seeded['case']}")
        assert "恶意" in page.inner_text("main")
        assert page.evaluate(DOM_CHECK) == {"handlers": 0, "inline": 0, "xss": None}
        page.goto(f"{base}/cases/?q=漏水")
        assert page.evaluate(DOM_CHECK) == {"handlers": 0, "inline": 0, "xss": None}

        _login(page, base, seeded["room_mediator"])
        page.goto(f"{base}/rooms/{seeded['room']}")
        page.get_by_text("调解员提醒", exact=False).first.wait_for(timeout=15000)
        assert "<img" in page.inner_text("body")  # shown as text, not made into an element
        assert page.evaluate(DOM_CHECK) == {"handlers": 0, "inline": 0, "xss": None}
        assert page.js_errors == []
    finally:
        server.stop()
