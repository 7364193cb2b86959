"""In Debian's chromium: from cited text, a citizen opens the article (popover on hover, keyboard
focus and tap; then the article page)."""
import re

import pytest
from sqlalchemy import select

from portal.accounts.models import Role
from portal.extensions import db
from portal.statutes.models import Law
from tests.conftest import PASSWORD, Factory

pytestmark = pytest.mark.browser

ANSWER = ("<p>依照《中华人民共和国人民调解法》第三十三条，经人民调解委员会调解达成调解协议后，"
          "双方当事人可以自调解协议生效之日起三十日内共同向人民法院申请司法确认。</p>")


def _login(page, base, mobile):
    page.goto(base + "/login")
    page.get_by_label("手机号码").fill(mobile)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(base + "/me")


def _law_id(app, name="人民调解法") -> int:
    with app.app_context():
        return db.session.execute(select(Law.id).where(Law.short_name == name)).scalar_one()


def test_citizen_opens_the_article_cited_in_a_consultation_answer(live_server, page):
    ops = pytest.importorskip("portal.consultation.operations")
    app = live_server.app
    with app.app_context():
        f = Factory(app)
        f.region("220100000000", "长春市")
        township = f.region("220102001000", "南岭街道")
        citizen = f.user(name="张建国", mobile="13800000101")
        worker = f.user(Role.legal_worker, region=f.region("220100000000"), name="王律师")
        c = ops.ask_question(citizen, category="其他", region=township, title="调解协议怎么让法院确认",
                             question="我们在社区调委会达成了调解协议，怎样才能让法院确认它的效力？")
        ops.claim_consultation(worker, c)
        ops.answer_consultation(worker, c, ANSWER)
        db.session.commit()
        cid, mobile = c.id, citizen.mobile
    law_id = _law_id(app)
    base = live_server.url
    _login(page, base, mobile)
    page.goto(f"{base}/consultation/{cid}")
    link = page.locator("a.cite", has_text="第三十三条")
    assert link.count() == 1
    assert link.get_attribute("href") == f"/laws/{law_id}/articles/33"

    # Hover: the article text appears in a popover.
    link.hover()
    popover = page.locator("#cite-popover")
    popover.wait_for(state="visible")
    page.get_by_role("dialog", name=re.compile("第三十三条")).wait_for()
    page.locator("#cite-popover", has_text="申请司法确认").wait_for()
    assert link.get_attribute("aria-expanded") == "true"
    page.keyboard.press("Escape")
    popover.wait_for(state="hidden")
    assert link.get_attribute("aria-expanded") == "false"

    # Keyboard: tabbing onto the link shows it too; Enter follows the link.
    page.mouse.move(0, 0)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    link.focus()
    page.locator("#cite-popover", has_text="人民调解委员会").wait_for()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/laws/{law_id}/articles/33")
    assert page.get_by_role("heading", name="《中华人民共和国人民调解法》第三十三条").is_visible()
    assert "可以自调解协议生效之日起三十日内共同向人民法院申请司法确认" in page.locator("main").inner_text()
    assert page.js_errors == []


def test_law_page_anchor_search_and_tap_on_a_phone(live_server, browser):
    base = live_server.url
    law_id = _law_id(live_server.app)
    code_id = _law_id(live_server.app, "民法典")
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="zh-CN", has_touch=True,
                                  is_mobile=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"{base}/laws/{law_id}#art-33")
        assert page.locator("#art-33").is_visible()
        assert page.get_by_role("link", name="第五章 调解协议").is_visible()
        # no horizontal scrolling at 375 px
        assert page.evaluate("document.documentElement.scrollWidth") <= 375

        # 民法典 第三百三十八条 cites 本法第二百四十三条: a first tap shows it, a second one opens it.
        page.goto(f"{base}/laws/{code_id}/articles/338")
        cite = page.locator(".statute-single a.cite")
        assert cite.count() == 1
        assert cite.get_attribute("href") == f"/laws/{code_id}/articles/243"
        cite.tap()
        page.locator("#cite-popover", has_text="征收").wait_for()
        assert page.url.endswith("/articles/338")
        # 相关条文 lists the cited article
        assert "第二百四十三条" in page.locator(".statute-related").inner_text()
        cite.tap()
        page.wait_for_url(f"{base}/laws/{code_id}/articles/243")

        page.goto(f"{base}/laws/search?q=" + "司法确认 三十日")
        first = page.locator(".statute-hits li").first
        assert "人民调解法" in first.inner_text() or "人民调解法" in page.locator(".statute-hits").inner_text()
        assert page.locator(".statute-hits mark").count() > 0
        assert errors == []
    finally:
        context.close()
